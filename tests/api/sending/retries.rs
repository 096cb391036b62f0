//! §9 durable delivery against the in-process SMTP server: every send is a delivery;
//! transient failures are retried with back-off (the test moves the server's clock instead
//! of waiting), permanent ones fail at once, and the same Message-ID goes out every time.

use serde_json::{Value, json};

use super::*;
use crate::smtp_server::Quirks;

/// How long a test waits for a worker to act on a delivery that is due.
const WORKER_WAIT: Duration = Duration::from_secs(10);

/// A plain-text server (AUTH allowed on loopback) with these quirks.
async fn plain_server(quirks: Quirks) -> TestSmtpServer {
    TestSmtpServer::start_with(smtp_options(Security::Plain, None), quirks).await
}

async fn delivery(app: &TestApp, id: i64) -> Value {
    let resp = app.get(&delivery_path(id), &app.admin_token).await;
    assert_status(&resp, 200);
    resp.json()
}

/// Polls the delivery until `done` holds for it, or fails after [`WORKER_WAIT`].
async fn wait_for(app: &TestApp, id: i64, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + WORKER_WAIT;
    loop {
        let current = delivery(app, id).await;
        if done(&current) {
            return current;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "delivery {id} never became {what}: {current:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Seconds from now until an RFC 3339 timestamp.
fn seconds_until(at: &Value) -> i64 {
    let at =
        chrono::DateTime::parse_from_rfc3339(at.as_str().expect("a timestamp")).expect("RFC 3339");
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds()
}

async fn greylisted_twice_then_delivered_once_after_three_attempts(backend: Backend) {
    let server = plain_server(Quirks {
        defer_first: 2,
        ..Quirks::default()
    })
    .await;
    let rig = Rig::new(backend).await;
    let app = &rig.app;
    let id = rig
        .notifier(&smtp_notifier("grey", server.port, PLAIN))
        .await;

    let resp = rig.send(id, &short_message("a@example.com")).await;

    let delivery_id = assert_send_failed(
        &resp,
        "SMTP error: server rejected the message: 451 4.7.1 Greylisted, try again later; queued for retry",
    );
    let first = delivery(app, delivery_id).await;
    assert_eq!(first["status"], "deferred", "{first:#}");
    assert_eq!(first["attempts"], 1);
    assert_eq!(first["last_reply_code"], 451);
    assert_eq!(
        first["last_error"],
        "server rejected the message: 451 4.7.1 Greylisted, try again later"
    );
    // About 30 s with ±10 % jitter.
    let wait = seconds_until(&first["next_attempt_at"]);
    assert!((25..=34).contains(&wait), "next attempt in {wait}s");

    app.clock.advance(Duration::from_secs(35));
    let second = wait_for(app, delivery_id, "deferred after two attempts", |d| {
        d["attempts"] == 2 && d["status"] == "deferred"
    })
    .await;
    // The second wait doubles: about a minute, counted from the moved clock.
    let wait = seconds_until(&second["next_attempt_at"]) - 35;
    assert!((52..=68).contains(&wait), "next attempt in {wait}s");

    app.clock.advance(Duration::from_secs(70));
    let sent = wait_for(app, delivery_id, "sent", |d| d["status"] == "sent").await;

    assert_eq!(sent["attempts"], 3, "{sent:#}");
    assert_eq!(sent["next_attempt_at"], Value::Null);
    assert!(sent["sent_at"].is_string());
    let mails = server.wait_for_mail(1, WAIT).await;
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert_eq!(mails[0].message_id(), sent["message_id"]);
}

async fn a_550_fails_after_one_attempt_and_a_retry_tries_again(backend: Backend) {
    let server = plain_server(Quirks::default()).await;
    let rig = Rig::new(backend).await;
    let app = &rig.app;
    let id = rig
        .notifier(&smtp_notifier("hard", server.port, PLAIN))
        .await;

    let resp = rig.send(id, &short_message("reject-me@example.com")).await;

    let detail = "recipient rejected: <reject-me@example.com>: 550 5.1.1 <<reject-me@example.com>>: Recipient address rejected";
    let refusal = resp.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        refusal.starts_with("SMTP error: recipient rejected: ") && !refusal.contains("retry"),
        "{refusal}"
    );
    let delivery_id = assert_send_failed(&resp, &refusal);
    let failed = delivery(app, delivery_id).await;
    assert_eq!(failed["status"], "failed", "{failed:#}");
    assert_eq!(failed["attempts"], 1);
    assert_eq!(failed["last_reply_code"], 550);
    assert_eq!(failed["next_attempt_at"], Value::Null);
    assert!(
        failed["last_error"]
            .as_str()
            .is_some_and(|e| e.starts_with("recipient rejected: ")),
        "{failed:#} vs {detail}"
    );

    // A manual retry grants a new round; the relay refuses again, for good.
    let retried = app
        .post_json(
            &format!("{}/retry", delivery_path(delivery_id)),
            &json!({}),
            &app.admin_token,
        )
        .await;
    assert_status(&retried, 200);
    assert_eq!(retried.json()["status"], "queued");
    let again = wait_for(app, delivery_id, "failed again", |d| {
        d["status"] == "failed" && d["attempts"] == 2
    })
    .await;
    assert_eq!(again["last_reply_code"], 550);
    assert!(server.received().is_empty());
}

async fn a_relay_that_comes_back_gets_the_message(backend: Backend) {
    let server = plain_server(Quirks::default()).await;
    let proxy = TcpProxy::start(([127, 0, 0, 1], server.port).into());
    proxy.cut().await;
    let rig = Rig::new(backend).await;
    let app = &rig.app;
    let id = rig
        .notifier(&smtp_notifier("flaky", proxy.port, PLAIN))
        .await;

    let accepted = app
        .send_queued(id, &short_message("a@example.com"), &app.admin_token)
        .await;

    assert_status(&accepted, 202);
    let delivery_id = accepted.json()["id"].as_i64().expect("an id");
    let deferred = wait_for(app, delivery_id, "deferred", |d| d["status"] == "deferred").await;
    assert_eq!(deferred["last_error"], "connection refused", "{deferred:#}");
    assert_eq!(deferred["last_reply_code"], Value::Null);
    assert!(server.received().is_empty());

    proxy.restore().await;
    app.clock.advance(Duration::from_secs(35));
    let sent = wait_for(app, delivery_id, "sent", |d| d["status"] == "sent").await;

    assert_eq!(sent["attempts"], 2, "{sent:#}");
    let mails = server.wait_for_mail(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].message_id(), sent["message_id"]);
}

async fn a_queued_send_answers_202_with_the_delivery(backend: Backend) {
    let server = plain_server(Quirks::default()).await;
    let rig = Rig::new(backend).await;
    let app = &rig.app;
    let id = rig
        .notifier(&smtp_notifier("queued", server.port, PLAIN))
        .await;

    let resp = app
        .send_queued(
            id,
            &json!({
                "to": ["a@example.com"], "cc": ["c@example.com"], "bcc": ["b@example.com"],
                "subject": "queued", "body": "later"
            }),
            &app.admin_token,
        )
        .await;

    assert_status(&resp, 202);
    assert_eq!(resp.header("preference-applied"), Some("respond-async"));
    let body = resp.json();
    let delivery_id = body["id"].as_i64().expect("an id");
    assert_delivery_location(&resp, delivery_id);
    let keys: Vec<&str> = body
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "notifier",
            "notifier_name",
            "status",
            "to",
            "cc",
            "bcc",
            "subject",
            "message_id",
            "attempts",
            "next_attempt_at",
            "last_error",
            "last_reply_code",
            "requested_by",
            "created_at",
            "updated_at",
            "sent_at"
        ]
    );
    assert_eq!(body["status"], "queued");
    assert_eq!(body["attempts"], 0);
    assert_eq!(body["notifier"], id);
    assert_eq!(body["notifier_name"], "queued");
    assert_eq!(body["to"], json!(["a@example.com"]));
    assert_eq!(body["bcc"], json!(["b@example.com"]));
    assert_eq!(body["requested_by"], "admin");
    assert!(body["next_attempt_at"].is_string());
    assert_eq!(body["sent_at"], Value::Null);

    let sent = wait_for(app, delivery_id, "sent", |d| d["status"] == "sent").await;
    assert_eq!(sent["attempts"], 1);
    let mails = server.wait_for_mail(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].message_id(), body["message_id"]);
    assert_eq!(
        mails[0].rcpt_to,
        ["a@example.com", "c@example.com", "b@example.com"]
    );
}

async fn a_send_with_attempts_left_fails_after_max_attempts(backend: Backend) {
    let rig = Rig::with(backend, |settings| settings.delivery.max_attempts = 2).await;
    let app = &rig.app;
    let id = rig
        .notifier(&smtp_notifier("down", closed_port().await, PLAIN))
        .await;

    let resp = rig.send(id, &short_message("a@example.com")).await;

    let delivery_id = assert_send_failed(&resp, "SMTP error: connection refused; queued for retry");
    app.clock.advance(Duration::from_secs(35));
    let failed = wait_for(app, delivery_id, "failed", |d| d["status"] == "failed").await;
    assert_eq!(failed["attempts"], 2, "{failed:#}");
    assert_eq!(failed["next_attempt_at"], Value::Null);
    assert_eq!(failed["last_error"], "connection refused");
}

backend_tests!(
    greylisted_twice_then_delivered_once_after_three_attempts,
    a_550_fails_after_one_attempt_and_a_retry_tries_again,
    a_relay_that_comes_back_gets_the_message,
    a_queued_send_answers_202_with_the_delivery,
    a_send_with_attempts_left_fails_after_max_attempts,
);
