//! §5 sending: `/test` and `/send` against the in-process SMTP server of `smtp_server`, in
//! every TLS mode, with a CA made for each test and trusted through `smtp.extra_ca_file`.
//!
//! The submodules share what is here: [`Rig`] (an app and the CA it trusts), notifier bodies
//! pointed at a test server, and readers of the two responses.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::helpers::*;
use crate::smtp_server::{Security, SmtpServerOptions, TestCa, TestSmtpServer};

#[path = "sending/check.rs"]
mod check;
#[path = "sending/crash.rs"]
mod crash;
#[path = "sending/delivery.rs"]
mod delivery;
#[path = "sending/delivery_log.rs"]
mod delivery_log;
#[path = "sending/diagnostics.rs"]
mod diagnostics;
#[path = "sending/failures.rs"]
mod failures;
#[path = "sending/logs.rs"]
mod logs;
#[path = "sending/mime.rs"]
mod mime;
#[path = "sending/permissions.rs"]
mod permissions;
#[path = "sending/pooling.rs"]
mod pooling;
#[path = "sending/retries.rs"]
mod retries;
#[path = "sending/validation.rs"]
mod validation;

const SMTP_USER: &str = "mailer";
const SMTP_PASSWORD: &str = "s3cret-Pass-7f3a";
const WRONG_PASSWORD: &str = "wrong-Pass-91c2";
const FROM: &str = "noreply@example.com";
/// How long a test waits for mail that should arrive.
const WAIT: Duration = Duration::from_secs(5);
/// What the test server answers to wrong credentials, as the service should relay it.
const AUTH_REJECTED: &str = "authentication rejected: 535 5.7.8 Authentication credentials invalid";

/// Which of the notifier's flags are set: `use_tls` (STARTTLS) and `use_ssl` (implicit TLS).
#[derive(Debug, Clone, Copy)]
struct Flags {
    use_tls: bool,
    use_ssl: bool,
}

const PLAIN: Flags = Flags {
    use_tls: false,
    use_ssl: false,
};
const STARTTLS: Flags = Flags {
    use_tls: true,
    use_ssl: false,
};
const IMPLICIT: Flags = Flags {
    use_tls: false,
    use_ssl: true,
};

/// An app whose mailer trusts `ca`, with the CA's PEM file kept alive beside it.
struct Rig {
    app: TestApp,
    ca: TestCa,
    _ca_dir: TempDir,
}

impl Rig {
    /// The default SMTP timeout of the harness (2 s).
    async fn new(backend: Backend) -> Rig {
        Rig::with(backend, |_| {}).await
    }

    async fn with_timeout(backend: Backend, smtp_timeout_secs: u64) -> Rig {
        Rig::with(backend, |settings| {
            settings.smtp.timeout_secs = smtp_timeout_secs;
        })
        .await
    }

    async fn with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Rig {
        let ca = TestCa::new();
        let ca_dir = tempfile::tempdir().expect("a temp dir for the CA file");
        let ca_file = ca_dir.path().join("test-ca.pem");
        std::fs::write(&ca_file, &ca.ca_pem).expect("write the CA file");
        let app = spawn_app_with(backend, |settings| {
            settings.smtp.extra_ca_file = ca_file.display().to_string();
            adjust(settings);
        })
        .await;
        Rig {
            app,
            ca,
            _ca_dir: ca_dir,
        }
    }

    /// A server with this CA's certificate for localhost and 127.0.0.1, requiring AUTH.
    async fn server(&self, security: Security) -> TestSmtpServer {
        let tls = self.ca.server_config(&["localhost", "127.0.0.1"]);
        TestSmtpServer::start(smtp_options(security, Some(tls))).await
    }

    /// Creates a notifier (as the admin) and returns its id.
    async fn notifier(&self, body: &Value) -> i64 {
        id_of(&self.app.create_notifier(body).await)
    }

    async fn send(&self, id: i64, body: &Value) -> Resp {
        self.app
            .post_json(&send_path(id), body, &self.app.admin_token)
            .await
    }

    async fn check(&self, id: i64, body: &Value) -> Resp {
        self.app
            .post_json(&check_path(id), body, &self.app.admin_token)
            .await
    }
}

fn smtp_options(security: Security, tls: Option<Arc<rustls::ServerConfig>>) -> SmtpServerOptions {
    SmtpServerOptions {
        security,
        tls,
        username: SMTP_USER.into(),
        password: SMTP_PASSWORD.into(),
        require_auth: true,
    }
}

fn send_path(id: i64) -> String {
    format!("{}/send", notifier_path(id))
}

fn check_path(id: i64) -> String {
    format!("{}/test", notifier_path(id))
}

/// A notifier for the test server on 127.0.0.1:`port` with the right credentials.
fn smtp_notifier(name: &str, port: u16, flags: Flags) -> Value {
    json!({
        "name": name,
        "host": "127.0.0.1",
        "port": port,
        "username": SMTP_USER,
        "password": SMTP_PASSWORD,
        "from_email": FROM,
        "use_tls": flags.use_tls,
        "use_ssl": flags.use_ssl,
        "fail_silently": false
    })
}

/// A port on 127.0.0.1 where nothing listens (it was free a moment ago).
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    listener.local_addr().expect("local addr").port()
}

/// A short valid `/send` body to `to`.
fn short_message(to: &str) -> Value {
    json!({ "to": [to], "subject": "hello", "body": "hi there" })
}

/// The `/test` answer: 200 and exactly `success`, `detail`, `duration_ms`, in that order.
#[derive(Debug)]
struct Checked {
    success: bool,
    detail: String,
    duration_ms: u64,
    steps: Vec<CheckedStep>,
    hint: Option<String>,
}

/// One entry of `/test`'s `steps`.
#[derive(Debug, Clone)]
struct CheckedStep {
    step: String,
    ok: bool,
    detail: String,
}

impl Checked {
    /// The names of the steps that ran, in order.
    fn step_names(&self) -> Vec<&str> {
        self.steps.iter().map(|s| s.step.as_str()).collect()
    }

    /// The last step, which failed when the check did.
    #[track_caller]
    fn last_step(&self) -> &CheckedStep {
        self.steps.last().expect("at least one step ran")
    }

    #[track_caller]
    fn hint(&self) -> &str {
        self.hint
            .as_deref()
            .unwrap_or_else(|| panic!("a hint was expected: {self:?}"))
    }
}

/// A `/test` answer: exactly §5's `success`, `detail`, `duration_ms`, then `steps` (each
/// `step`, `ok`, `duration_ms`, `detail`; every one ok but possibly the last, which fails
/// exactly when the check does) and `hint` (null on success).
#[track_caller]
fn checked(resp: &Resp) -> Checked {
    assert_status(resp, 200);
    assert_json_content_type(resp);
    let body = resp.json();
    let keys: Vec<&str> = body
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        ["success", "detail", "duration_ms", "steps", "hint"],
        "{}",
        resp.text
    );
    let text = |value: &Value, what: &str| {
        value
            .as_str()
            .unwrap_or_else(|| panic!("{what} should be a string: {}", resp.text))
            .to_owned()
    };
    let steps: Vec<CheckedStep> = body["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("steps should be an array: {}", resp.text))
        .iter()
        .map(|step| {
            let keys: Vec<&str> = step
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            assert_eq!(keys, ["step", "ok", "duration_ms", "detail"], "{step}");
            assert!(step["duration_ms"].is_u64(), "{step}");
            CheckedStep {
                step: text(&step["step"], "step"),
                ok: step["ok"].as_bool().expect("ok should be a boolean"),
                detail: text(&step["detail"], "a step's detail"),
            }
        })
        .collect();
    let outcome = Checked {
        success: body["success"]
            .as_bool()
            .unwrap_or_else(|| panic!("success should be a boolean: {}", resp.text)),
        detail: text(&body["detail"], "detail"),
        duration_ms: body["duration_ms"]
            .as_u64()
            .unwrap_or_else(|| panic!("duration_ms should be an integer: {}", resp.text)),
        hint: body["hint"].as_str().map(str::to_owned),
        steps,
    };
    if let Some((last, before)) = outcome.steps.split_last() {
        assert!(before.iter().all(|s| s.ok), "{}", resp.text);
        assert_eq!(last.ok, outcome.success, "{}", resp.text);
    }
    if outcome.success {
        assert!(body["hint"].is_null(), "{}", resp.text);
    }
    outcome
}

/// A `/send` that went through: exactly
/// `{"sent":1,"message_id":"<…@notifier.local>","detail":"sent","delivery":<id>}`, with
/// `Location` naming the delivery. Returns the message id.
#[track_caller]
fn sent(resp: &Resp) -> String {
    assert_status(resp, 200);
    let message_id = resp.json()["message_id"]
        .as_str()
        .unwrap_or_else(|| panic!("message_id should be a string: {}", resp.text))
        .to_owned();
    assert!(
        message_id.starts_with('<')
            && message_id.ends_with("@notifier.local>")
            && message_id.len() > "<@notifier.local>".len()
            && !message_id.contains(char::is_whitespace),
        "message_id should look like <…@notifier.local>, got {message_id:?}"
    );
    let delivery = resp.json()["delivery"].as_i64().unwrap_or_default();
    assert_json(
        resp,
        200,
        &json!({ "sent": 1, "message_id": message_id, "detail": "sent", "delivery": delivery }),
    );
    assert_delivery_location(resp, delivery);
    message_id
}

/// A `/send` that failed with `fail_silently` set; `detail` says whether it was queued
/// for retry.
#[track_caller]
fn not_sent_silently(resp: &Resp, detail: &str) {
    let delivery = resp.json()["delivery"].as_i64().unwrap_or_default();
    assert_json(
        resp,
        200,
        &json!({ "sent": 0, "message_id": null, "detail": detail, "delivery": delivery }),
    );
    assert_delivery_location(resp, delivery);
}
