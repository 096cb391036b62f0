//! Taking the database away from a running server: a TCP proxy that can cut every
//! connection and refuse new ones, and servers over another database URL.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use notifier_server::settings::Settings;
use tempfile::TempDir;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};

use super::app::{TestApp, TestEnv};
use super::backend::{Backend, TestDatabase};

/// A loopback TCP proxy to one upstream address.
///
/// It runs on a thread and runtime of its own, so it keeps serving while the test's
/// runtime is blocked (the PostgreSQL database is dropped synchronously at the end).
pub struct TcpProxy {
    pub port: u16,
    commands: mpsc::UnboundedSender<Command>,
    thread: Option<std::thread::JoinHandle<()>>,
}

enum Command {
    /// Close every connection and the listener: new connections are refused.
    Cut(oneshot::Sender<()>),
    /// Listen again on the same port.
    Restore(oneshot::Sender<()>),
}

impl TcpProxy {
    /// Proxies `127.0.0.1:<port>` to `upstream`, which must be a loopback address.
    pub fn start(upstream: SocketAddr) -> TcpProxy {
        assert!(upstream.ip().is_loopback(), "tests only talk to loopback");
        let (commands, receiver) = mpsc::unbounded_channel();
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("the proxy's runtime");
            runtime.block_on(serve(upstream, receiver, port_tx));
        });
        let port = port_rx.recv().expect("the proxy's port");
        TcpProxy {
            port,
            commands,
            thread: Some(thread),
        }
    }

    /// Returns once every proxied connection is closed and the port refuses connections.
    pub async fn cut(&self) {
        self.command(Command::Cut).await;
    }

    /// Returns once the port accepts connections again.
    pub async fn restore(&self) {
        self.command(Command::Restore).await;
    }

    async fn command(&self, make: fn(oneshot::Sender<()>) -> Command) {
        let (done, wait) = oneshot::channel();
        self.commands
            .send(make(done))
            .expect("the proxy is running");
        wait.await.expect("the proxy answers");
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        // Closing the command channel ends the proxy's runtime and its connections.
        let (closed, _) = mpsc::unbounded_channel();
        drop(std::mem::replace(&mut self.commands, closed));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    upstream: SocketAddr,
    mut commands: mpsc::UnboundedReceiver<Command>,
    port_tx: std::sync::mpsc::Sender<u16>,
) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the proxy");
    let address = listener.local_addr().expect("the proxy's address");
    port_tx.send(address.port()).expect("report the port");
    let mut running = Some(Running::start(listener, upstream));
    while let Some(command) = commands.recv().await {
        match command {
            Command::Cut(done) => {
                if let Some(running) = running.take() {
                    running.stop().await;
                }
                let _ = done.send(());
            }
            Command::Restore(done) => {
                if running.is_none() {
                    // The port was ours a moment ago; SO_REUSEADDR (tokio's default on
                    // Unix) lets us take it back at once.
                    let listener = TcpListener::bind(address)
                        .await
                        .expect("listen on the proxy's port again");
                    running = Some(Running::start(listener, upstream));
                }
                let _ = done.send(());
            }
        }
    }
    if let Some(running) = running {
        running.stop().await;
    }
}

/// The accept loop and the connections it opened.
struct Running {
    accept: JoinHandle<()>,
    links: Arc<tokio::sync::Mutex<JoinSet<()>>>,
}

impl Running {
    fn start(listener: TcpListener, upstream: SocketAddr) -> Running {
        let links = Arc::new(tokio::sync::Mutex::new(JoinSet::new()));
        let accept = tokio::spawn({
            let links = Arc::clone(&links);
            async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    links.lock().await.spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                }
            }
        });
        Running { accept, links }
    }

    /// Drops the listener, then every connection, and waits until all are closed.
    async fn stop(self) {
        self.accept.abort();
        let _ = self.accept.await;
        self.links.lock().await.shutdown().await;
    }
}

/// The PostgreSQL server of `backend`, as a loopback socket address.
pub fn postgres_address(backend: &Backend) -> SocketAddr {
    let Backend::Postgres { server_url } = backend else {
        panic!("a PostgreSQL backend is needed")
    };
    let (host_port, _) = authority(server_url);
    let host_port = host_port.rsplit('@').next().unwrap_or(host_port);
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    host_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut addresses| addresses.find(|a| a.ip().is_loopback()))
        .unwrap_or_else(|| panic!("{server_url} does not name a loopback server"))
}

/// `url` with its host and port replaced by `127.0.0.1:port`.
pub fn via_port(url: &str, port: u16) -> String {
    let (authority, start) = authority(url);
    let user = authority.rfind('@').map_or("", |at| &authority[..=at]);
    format!(
        "{}{user}127.0.0.1:{port}{}",
        &url[..start],
        &url[start + authority.len()..]
    )
}

/// The `user@host:port` part of a URL and where it starts.
fn authority(url: &str) -> (&str, usize) {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..]
        .find(['/', '?'])
        .map_or(url.len(), |i| start + i);
    (&url[start..end], start)
}

/// A server sharing `dir` (secret key) but using `url` as its database: the test's own
/// database through a proxy, or opened read-only. It owns no database; whoever created the
/// database keeps it alive.
pub async fn launch_over(dir: &Arc<TempDir>, url: String, mut settings: Settings) -> TestApp {
    // For SQLite `create` only names a file, so this is a plain holder for `url`.
    let mut database = TestDatabase::create(&Backend::Sqlite, dir.path()).await;
    database.url = url.clone();
    settings.database.url = url;
    let env = TestEnv {
        dir: Arc::clone(dir),
        database: Arc::new(database),
        settings: settings.clone(),
    };
    env.launch(settings).await
}

/// Runs `notifier ARGS...` with extra environment variables, logs off, and waits for it.
pub async fn run_notifier_with_env(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = tokio::process::Command::new(super::process::notifier_bin());
    command
        .args(args)
        .envs(env.iter().copied())
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    // A guard against a hung child, not a wait for something to happen.
    tokio::time::timeout(std::time::Duration::from_secs(120), command.output())
        .await
        .unwrap_or_else(|_| panic!("notifier {args:?} did not finish in time"))
        .expect("run the notifier binary")
}

#[cfg(test)]
mod tests {
    use super::via_port;

    #[test]
    fn via_port_replaces_only_host_and_port() {
        let cases = [
            (
                "postgres://postgres@127.0.0.1:5432/db",
                "postgres://postgres@127.0.0.1:9/db",
            ),
            (
                "postgres://u:p@localhost/db?x=1",
                "postgres://u:p@127.0.0.1:9/db?x=1",
            ),
            ("postgres://h:1", "postgres://127.0.0.1:9"),
        ];
        for (url, expected) in cases {
            assert_eq!(via_port(url, 9), expected, "{url}");
        }
    }
}
