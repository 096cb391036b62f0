//! An in-process SMTP server for tests: plain, STARTTLS or implicit TLS, with AUTH, on
//! 127.0.0.1 and a port of its own. It records each accepted message.
//!
//! The SMTP grammar and state machine are `mailin`'s (sans-IO); this module does the I/O,
//! the TLS (tokio-rustls with ring) and a few replies mailin would word differently.
//! Certificates come from a [`TestCa`] made at test time, never from files.
//!
//! Conventions a test can rely on:
//! - wrong credentials get `535 5.7.8 Authentication credentials invalid`;
//! - with `require_auth`, MAIL before AUTH gets `530 5.7.0 Authentication required`;
//! - a recipient whose local part starts with `reject` gets `550 5.1.1 ...`, or
//!   `550 <Quirks::reject_text>`.
//!
//! [`Quirks`] make a server slow or odd on purpose; [`banner_server`] is a peer that is not
//! an SMTP server at all.
// Test support shared by several test crates: each uses a part of it, and setup
// failures should panic with a message rather than be handled.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::ServerConfig;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

// Explicit paths: this file is also included with `#[path]` from other test crates, where
// a plain `mod ca;` would be looked up beside this file instead of under smtp_server/.
#[path = "smtp_server/ca.rs"]
mod ca;
#[path = "smtp_server/session.rs"]
mod session;
#[path = "smtp_server/token_endpoint.rs"]
mod token_endpoint;

pub use ca::TestCa;
pub use token_endpoint::{CurrentToken, TokenEndpoint};

/// What the server offers on its socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain text, AUTH allowed without TLS; STARTTLS offered (optional) when `tls` is set.
    Plain,
    /// STARTTLS offered (needs `tls`); AUTH and MAIL only after it.
    StartTls,
    /// TLS from the first byte (needs `tls`).
    ImplicitTls,
    /// Plain text, AUTH allowed, and never STARTTLS even when `tls` is set.
    PlainNoStartTls,
}

pub struct SmtpServerOptions {
    pub security: Security,
    pub tls: Option<Arc<ServerConfig>>,
    pub username: String,
    pub password: String,
    pub require_auth: bool,
}

impl SmtpServerOptions {
    /// Plain SMTP (no TLS) that requires AUTH with these credentials: enough for a
    /// notifier on 127.0.0.1, where a password may cross without TLS.
    pub fn plain_with_auth(username: &str, password: &str) -> Self {
        SmtpServerOptions {
            security: Security::Plain,
            tls: None,
            username: username.into(),
            password: password.into(),
            require_auth: true,
        }
    }
}

/// Ways a test server misbehaves on purpose; the default is a well-behaved server.
#[derive(Debug, Clone, Default)]
pub struct Quirks {
    /// Waits this long before answering each command; the greeting comes at once (lettre
    /// reads it and the EHLO reply within one step).
    pub reply_delay: Option<Duration>,
    /// The text after `550 ` that refused (`reject…`) recipients get, sent as is (control
    /// characters too; no CR or LF).
    pub reject_text: Option<String>,
    /// The first this many messages get `451 4.7.1 Greylisted, try again later` at the end
    /// of DATA and are not kept (a greylisting relay).
    pub defer_first: usize,
    /// Offers no AUTH at all (no `AUTH` line after EHLO) and takes mail without it: a
    /// relay that trusts its clients by address. `require_auth` is then ignored.
    pub no_auth: bool,
    /// Also offers AUTH XOAUTH2, and accepts it with this bearer token only (the one a
    /// [`TokenEndpoint`] issued last); any other gets `535 5.7.8`.
    pub xoauth2: Option<CurrentToken>,
}

/// One message the server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as sent after DATA (headers and body, dot-stuffing undone).
    pub data: String,
    /// The user that authenticated on this connection, if any.
    pub auth_user: Option<String>,
    /// Whether the message travelled over TLS (implicit or after STARTTLS).
    pub tls: bool,
}

impl ReceivedMail {
    /// The message's `Message-ID` header.
    pub fn message_id(&self) -> String {
        self.data
            .lines()
            .find_map(|line| line.strip_prefix("Message-ID: "))
            .unwrap_or_else(|| panic!("no Message-ID in {}", self.data))
            .trim()
            .to_owned()
    }
}

pub struct TestSmtpServer {
    pub port: u16,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

struct Shared {
    options: SmtpServerOptions,
    quirks: Quirks,
    mails: Mutex<Vec<ReceivedMail>>,
    arrived: Notify,
    connections: AtomicUsize,
    /// Messages deferred so far, against `Quirks::defer_first`.
    deferred: AtomicUsize,
    /// See [`TestSmtpServer::hold_after`]; `usize::MAX` when not holding.
    hold_after: AtomicUsize,
    released: Notify,
    /// Messages whose end of DATA is waiting for [`TestSmtpServer::release`].
    held: AtomicUsize,
}

impl TestSmtpServer {
    /// Listens on 127.0.0.1 with a free port; serves until dropped.
    pub async fn start(options: SmtpServerOptions) -> TestSmtpServer {
        TestSmtpServer::start_with(options, Quirks::default()).await
    }

    /// As [`TestSmtpServer::start`], with some misbehaviour.
    pub async fn start_with(options: SmtpServerOptions, quirks: Quirks) -> TestSmtpServer {
        let needs_tls = matches!(options.security, Security::StartTls | Security::ImplicitTls);
        assert!(
            !needs_tls || options.tls.is_some(),
            "{:?} needs a TLS server config",
            options.security
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("local addr").port();
        let shared = Arc::new(Shared {
            options,
            quirks,
            mails: Mutex::new(Vec::new()),
            arrived: Notify::new(),
            connections: AtomicUsize::new(0),
            deferred: AtomicUsize::new(0),
            hold_after: AtomicUsize::new(usize::MAX),
            released: Notify::new(),
            held: AtomicUsize::new(0),
        });
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        TestSmtpServer { port, shared, task }
    }

    pub fn received(&self) -> Vec<ReceivedMail> {
        self.shared.mails.lock().unwrap().clone()
    }

    /// Waits until at least `n` messages arrived or `timeout` passed; returns what arrived,
    /// so the caller asserts on the count.
    pub async fn wait_for_mail(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let wait = async {
            loop {
                // Registered before the check, so a message landing in between still wakes us.
                let arrived = self.shared.arrived.notified();
                tokio::pin!(arrived);
                arrived.as_mut().enable();
                if self.shared.mails.lock().unwrap().len() >= n {
                    return;
                }
                arrived.await;
            }
        };
        let _ = tokio::time::timeout(timeout, wait).await;
        self.received()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Once `n` messages are kept, the end of each further message's DATA gets no reply
    /// until [`TestSmtpServer::release`]; a client that goes away meanwhile never had that
    /// message accepted, and it is not kept (a relay stalled mid-transaction).
    pub fn hold_after(&self, n: usize) {
        self.shared.hold_after.store(n, Ordering::SeqCst);
    }

    /// Lets held and later messages through.
    pub fn release(&self) {
        self.shared.hold_after.store(usize::MAX, Ordering::SeqCst);
        self.shared.released.notify_waiters();
    }

    /// Messages waiting for [`TestSmtpServer::release`] now.
    pub fn held(&self) -> usize {
        self.shared.held.load(Ordering::SeqCst)
    }
}

impl Shared {
    fn holding(&self) -> bool {
        self.mails.lock().unwrap().len() >= self.hold_after.load(Ordering::SeqCst)
    }

    /// Whether this message is one of the first `defer_first`.
    fn defers_next(&self) -> bool {
        self.deferred
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.quirks.defer_first).then_some(n + 1)
            })
            .is_ok()
    }
}

impl Drop for TestSmtpServer {
    fn drop(&mut self) {
        // The accept task owns the connection tasks: aborting it ends them all.
        self.task.abort();
    }
}

/// Holds a server that accepts TCP connections and never says a word; stops when dropped.
pub struct SilentServer {
    task: JoinHandle<()>,
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A port where connections are accepted and then left waiting forever (timeout tests).
pub async fn silent_server() -> (u16, SilentServer) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    let task = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    (port, SilentServer { task })
}

/// Holds a peer that greets every connection with a fixed banner and reads nothing; stops
/// when dropped.
pub struct BannerServer {
    pub port: u16,
    connections: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl BannerServer {
    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for BannerServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A peer that is not an SMTP server: it writes `banner` (e.g. `SSH-2.0-OpenSSH_9.6\r\n`)
/// to each connection and keeps it open.
pub async fn banner_server(banner: &'static str) -> BannerServer {
    use tokio::io::AsyncWriteExt;

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    let task = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let _ = socket.write_all(banner.as_bytes()).await;
            open.push(socket);
        }
    });
    BannerServer {
        port,
        connections,
        task,
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut sessions = JoinSet::new();
    while let Ok((socket, _)) = listener.accept().await {
        shared.connections.fetch_add(1, Ordering::SeqCst);
        // A failed handshake or a vanished client ends that connection only.
        sessions.spawn(session::serve(socket, Arc::clone(&shared)));
        while sessions.try_join_next().is_some() {}
    }
}
