//! The `notifier` binary: CLI subcommands, and `serve` as a child process.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Output, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use super::app::TestApp;

/// A guard against a hung child, not a wait for something to happen.
const PROCESS_DEADLINE: Duration = Duration::from_secs(60);

/// `target/debug/notifier`, next to the `deps/` folder this test binary runs from.
pub fn notifier_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps");
    let bin = profile_dir.join(format!("notifier{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} does not exist: build it with `cargo build -p notifier-server` \
         (`cargo test --workspace` builds it too)",
        bin.display()
    );
    bin
}

/// Runs the binary with exactly `args` (no `--config` added), logs off, and waits for it.
pub async fn run_notifier(args: &[&str]) -> Output {
    let mut command = Command::new(notifier_bin());
    command
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    tokio::time::timeout(PROCESS_DEADLINE, command.output())
        .await
        .unwrap_or_else(|_| panic!("notifier {args:?} did not finish in {PROCESS_DEADLINE:?}"))
        .expect("run the notifier binary")
}

pub fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Panics, showing both streams, unless the command exited 0.
#[track_caller]
pub fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed with {}: stdout {:?}, stderr {:?}",
        output.status,
        stdout_of(output),
        stderr_of(output)
    );
}

/// Exit status 2 and exactly `message` as the single line on stderr.
#[track_caller]
pub fn assert_cli_error(output: &Output, message: &str, what: &str) {
    assert_eq!(
        (output.status.code(), stderr_of(output).as_str()),
        (Some(2), format!("{message}\n").as_str()),
        "{what}: expected exit status 2 and one error line; stdout {:?}",
        stdout_of(output)
    );
}

/// `notifier --config CONFIG ARGS...`
pub async fn run_cli(config: &Path, args: &[&str]) -> Output {
    let config = config.to_str().expect("a UTF-8 config path");
    let mut all = vec!["--config", config];
    all.extend_from_slice(args);
    run_notifier(&all).await
}

impl TestApp {
    /// `notifier --config <this app's config> ARGS...`
    pub async fn cli(&self, args: &[&str]) -> Output {
        let output = run_cli(&self.config_path, args).await;
        // A change made elsewhere is seen once the staleness bound has passed.
        self.settle();
        output
    }

    /// Runs `args`, panics unless it exits 0, and returns its stdout.
    pub async fn cli_ok(&self, args: &[&str]) -> String {
        let output = self.cli(args).await;
        assert_success(&output, &format!("notifier {}", args.join(" ")));
        stdout_of(&output)
    }

    /// A new user (staff or not) holding `codes`, and a token for it.
    pub async fn user_with_codes(&self, name: &str, staff: bool, codes: &[u16]) -> String {
        let mut create = vec!["user", "create", name];
        if staff {
            create.push("--staff");
        }
        self.cli_ok(&create).await;
        if !codes.is_empty() {
            let codes: Vec<String> = codes.iter().map(u16::to_string).collect();
            let mut grant = vec!["user", "grant", name];
            grant.extend(codes.iter().map(String::as_str));
            self.cli_ok(&grant).await;
        }
        self.new_token(name).await
    }

    /// `token create NAME`, checked to be one line; returns the key.
    pub async fn new_token(&self, name: &str) -> String {
        let stdout = self.cli_ok(&["token", "create", name]).await;
        let key = stdout
            .strip_suffix('\n')
            .unwrap_or_else(|| panic!("token create should print one line, got {stdout:?}"));
        assert!(
            !key.is_empty() && !key.contains(char::is_whitespace),
            "token create should print the key alone on one line, got {stdout:?}"
        );
        key.to_owned()
    }
}

/// `notifier serve` running as a child process, with its output drained as it comes.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT` with the port the process logged.
    pub address: String,
    stdout: Stream,
    stderr: Stream,
}

/// How a served process ended.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

struct Stream {
    lines: mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
}

impl Stream {
    fn drain(pipe: impl AsyncRead + Unpin + Send + 'static) -> Stream {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(pipe).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Stream {
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// The next line containing `needle`; `None` when the stream ends first.
    async fn wait_for(&mut self, needle: &str) -> Option<String> {
        while let Some(line) = self.lines.recv().await {
            self.seen.push(line.clone());
            if line.contains(needle) {
                return Some(line);
            }
        }
        None
    }

    async fn rest(mut self) -> String {
        while let Some(line) = self.lines.recv().await {
            self.seen.push(line);
        }
        self.seen.iter().map(|l| format!("{l}\n")).collect()
    }
}

impl ServerProcess {
    /// Starts `notifier ARGS...` (the caller includes `--config` and the subcommand, if any)
    /// with `RUST_LOG=rust_log`, and waits for its `listening on http://127.0.0.1:PORT` line.
    pub async fn start(args: &[&str], rust_log: &str) -> ServerProcess {
        Self::start_with_env(args, rust_log, &[]).await
    }

    /// [`ServerProcess::start`] with extra environment variables (e.g. `NOTIFIER__…`).
    pub async fn start_with_env(
        args: &[&str],
        rust_log: &str,
        env: &[(&str, &str)],
    ) -> ServerProcess {
        let mut child = Command::new(notifier_bin())
            .args(args)
            .envs(env.iter().copied())
            .env("RUST_LOG", rust_log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the notifier binary");
        let stdout = Stream::drain(child.stdout.take().expect("piped stdout"));
        let mut stderr = Stream::drain(child.stderr.take().expect("piped stderr"));
        const MARK: &str = "listening on http://127.0.0.1:";
        let line = tokio::time::timeout(PROCESS_DEADLINE, stderr.wait_for(MARK))
            .await
            .unwrap_or_else(|_| panic!("notifier {args:?} logged no {MARK:?} line in time"))
            .unwrap_or_else(|| {
                panic!(
                    "notifier {args:?} exited without a {MARK:?} line; stderr:\n{}",
                    stderr.seen.join("\n")
                )
            });
        let after = &line[line.find(MARK).expect("the mark") + MARK.len()..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        let port: u16 = digits
            .parse()
            .unwrap_or_else(|_| panic!("no port in the line {line:?}"));
        ServerProcess {
            child,
            address: format!("http://127.0.0.1:{port}"),
            stdout,
            stderr,
        }
    }

    /// Waits for a stdout line containing `needle` and returns it.
    pub async fn wait_for_stdout(&mut self, needle: &str) -> String {
        tokio::time::timeout(PROCESS_DEADLINE, self.stdout.wait_for(needle))
            .await
            .unwrap_or_else(|_| panic!("no stdout line with {needle:?} in time"))
            .unwrap_or_else(|| {
                panic!(
                    "stdout ended with no line containing {needle:?}: {:?}",
                    self.stdout.seen
                )
            })
    }

    /// SIGKILL: the process dies at once, mid-whatever, as in a crash or an OOM kill.
    pub async fn kill(mut self) {
        self.child.start_kill().expect("send SIGKILL");
        let _ = tokio::time::timeout(PROCESS_DEADLINE, self.child.wait())
            .await
            .expect("the killed notifier exits");
    }

    /// Sends SIGTERM, waits for the exit, and returns the status and everything printed.
    pub async fn terminate(mut self) -> Finished {
        let pid = self
            .child
            .id()
            .expect("the server is still running")
            .to_string();
        let kill = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .expect("run kill");
        assert!(kill.success(), "kill -TERM {pid} failed");
        let status = tokio::time::timeout(PROCESS_DEADLINE, self.child.wait())
            .await
            .unwrap_or_else(|_| {
                panic!("notifier did not exit within {PROCESS_DEADLINE:?} of SIGTERM")
            })
            .expect("wait for the notifier");
        Finished {
            status,
            stdout: self.stdout.rest().await,
            stderr: self.stderr.rest().await,
        }
    }
}
