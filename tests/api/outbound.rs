//! §11 outbound SMTP hardening, seen through `/test` and `/send`: the outbound policy
//! (`smtp.denied_networks`, `allowed_networks`, `allowed_ports`), no password over plain
//! text, what a failure may quote of the server, and `smtp.total_timeout_secs`.
//!
//! Only loopback servers of this process ever see traffic: every other destination here
//! is refused before a packet leaves, and the tests count the connections the local
//! servers got.

use std::fmt::Debug;
use std::str::FromStr;
use std::time::{Duration, Instant};

use notifier_server::settings::SmtpSettings;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::smtp_server::{Quirks, Security, SmtpServerOptions, TestSmtpServer, banner_server};

const SMTP_USER: &str = "mailer";
const SMTP_PASSWORD: &str = "s3cret-Pass-7f3a";
/// How long a test waits for mail that should arrive.
const WAIT: Duration = Duration::from_secs(5);

/// An app with its `[smtp]` settings as `adjust` changes them.
async fn app(backend: Backend, adjust: impl FnOnce(&mut SmtpSettings)) -> TestApp {
    spawn_app_with(backend, |settings| adjust(&mut settings.smtp)).await
}

/// CIDR texts as a network list of the settings.
fn networks<T: FromStr<Err: Debug>>(cidrs: &[&str]) -> Vec<T> {
    cidrs
        .iter()
        .map(|cidr| cidr.parse().expect("a network in CIDR notation"))
        .collect()
}

/// A plain-text server on 127.0.0.1 that wants AUTH (allowed without TLS).
async fn plain_server(quirks: Quirks) -> TestSmtpServer {
    let options = SmtpServerOptions {
        security: Security::Plain,
        tls: None,
        username: SMTP_USER.into(),
        password: SMTP_PASSWORD.into(),
        require_auth: true,
    };
    TestSmtpServer::start_with(options, quirks).await
}

/// A notifier with the test server's credentials; `use_tls` (STARTTLS) as given, no
/// implicit TLS.
fn notifier(name: &str, host: &str, port: u16, use_tls: bool) -> Value {
    json!({
        "name": name,
        "host": host,
        "port": port,
        "username": SMTP_USER,
        "password": SMTP_PASSWORD,
        "from_email": "noreply@example.com",
        "use_tls": use_tls,
        "use_ssl": false,
        "fail_silently": false
    })
}

async fn create(app: &TestApp, body: &Value) -> i64 {
    id_of(&app.create_notifier(body).await)
}

async fn check(app: &TestApp, id: i64, to: &str) -> Resp {
    let path = format!("{}/test", notifier_path(id));
    app.post_json(&path, &json!({ "to": to }), &app.admin_token)
        .await
}

async fn send(app: &TestApp, id: i64, to: &[String]) -> Resp {
    let path = format!("{}/send", notifier_path(id));
    let body = json!({ "to": to, "subject": "hello", "body": "hi there" });
    app.post_json(&path, &body, &app.admin_token).await
}

/// `/test` answers 200 with `success: false` and exactly `detail`, which its last step
/// repeats (the staged report quotes the server no more than `detail` does).
#[track_caller]
fn assert_check_failed(resp: &Resp, detail: &str) {
    assert_status(resp, 200);
    let body = resp.json();
    assert_eq!(body["success"], json!(false), "{}", resp.text);
    assert_eq!(body["detail"], json!(detail), "{}", resp.text);
    assert!(body["duration_ms"].is_u64(), "{}", resp.text);
    let last = body["steps"]
        .as_array()
        .and_then(|steps| steps.last())
        .unwrap_or_else(|| panic!("a failed check names its step: {}", resp.text));
    assert_eq!(last["ok"], json!(false), "{}", resp.text);
    assert_eq!(last["detail"], json!(detail), "{}", resp.text);
}

/// `/test` fails with exactly `detail` and `/send` answers 502 `SMTP error: <detail>`.
async fn assert_both_fail(app: &TestApp, id: i64, detail: &str) -> (Resp, Resp) {
    let checked = check(app, id, "x@example.com").await;
    let sent = send(app, id, &["x@example.com".to_owned()]).await;

    assert_check_failed(&checked, detail);
    assert_send_failed(&sent, &format!("SMTP error: {detail}"));
    (checked, sent)
}

async fn link_local_metadata_address_is_refused_by_default(backend: Backend) {
    let app = spawn_app(backend).await;
    for (name, use_tls) in [("metadata-starttls", true), ("metadata-plain", false)] {
        let id = create(&app, &notifier(name, "169.254.169.254", 80, use_tls)).await;

        let (checked, _) = assert_both_fail(
            &app,
            id,
            "destination 169.254.169.254 is not allowed by smtp.denied_networks",
        )
        .await;

        // Refused before connecting: nothing waited for a connect timeout.
        let duration_ms = checked.json()["duration_ms"].as_u64().unwrap_or(u64::MAX);
        assert!(duration_ms < 1000, "{name}: took {duration_ms} ms");
    }
}

async fn denied_loopback_is_refused_by_address_name_and_mapped_address(backend: Backend) {
    let server = plain_server(Quirks::default()).await;
    let app = app(backend, |smtp| {
        smtp.denied_networks = networks(&["127.0.0.0/8", "::1/128"]);
    })
    .await;
    // `localhost` goes through DNS; the first address the resolver gives is named.
    let localhost = tokio::net::lookup_host(("localhost", server.port))
        .await
        .expect("resolve localhost")
        .next()
        .expect("localhost has an address")
        .ip()
        .to_canonical();
    let cases = [
        ("literal", "127.0.0.1", "127.0.0.1".to_owned()),
        ("by-name", "localhost", localhost.to_string()),
        ("mapped", "::ffff:127.0.0.1", "127.0.0.1".to_owned()),
    ];

    for (name, host, refused) in cases {
        let id = create(&app, &notifier(name, host, server.port, false)).await;

        assert_both_fail(
            &app,
            id,
            &format!("destination {refused} is not allowed by smtp.denied_networks"),
        )
        .await;
    }
    assert_eq!(
        server.connections(),
        0,
        "no connection may reach a denied address"
    );
}

async fn allowed_networks_leave_out_every_other_address(backend: Backend) {
    let server = plain_server(Quirks::default()).await;
    let app = app(backend, |smtp| {
        smtp.allowed_networks = networks(&["10.0.0.0/8"])
    })
    .await;
    let id = create(&app, &notifier("outside", "127.0.0.1", server.port, false)).await;

    assert_both_fail(
        &app,
        id,
        "destination 127.0.0.1 is not allowed by smtp.allowed_networks",
    )
    .await;
    assert_eq!(server.connections(), 0);
}

async fn allowed_ports_refuse_other_ports_and_admit_listed_ones(backend: Backend) {
    let listed = plain_server(Quirks::default()).await;
    let unlisted = plain_server(Quirks::default()).await;
    let app = app(backend, |smtp| smtp.allowed_ports = vec![listed.port]).await;
    let refused = create(
        &app,
        &notifier("unlisted", "127.0.0.1", unlisted.port, false),
    )
    .await;
    let admitted = create(&app, &notifier("listed", "127.0.0.1", listed.port, false)).await;

    assert_both_fail(
        &app,
        refused,
        &format!(
            "destination port {} is not allowed by smtp.allowed_ports",
            unlisted.port
        ),
    )
    .await;
    let resp = send(&app, admitted, &["ok@example.com".to_owned()]).await;

    assert_eq!(unlisted.connections(), 0);
    assert_status(&resp, 200);
    assert_eq!(resp.json()["sent"], 1, "{}", resp.text);
    assert_eq!(listed.wait_for_mail(1, WAIT).await.len(), 1);
}

async fn a_peer_that_is_not_an_smtp_server_is_not_quoted(backend: Backend) {
    let ssh = banner_server("SSH-2.0-OpenSSH_9.6\r\n").await;
    let app = spawn_app(backend).await;
    for (name, use_tls) in [("ssh-plain", false), ("ssh-starttls", true)] {
        let id = create(&app, &notifier(name, "127.0.0.1", ssh.port, use_tls)).await;

        let (checked, sent) =
            assert_both_fail(&app, id, "the server did not answer as an SMTP server").await;
        let hint = checked.json()["hint"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            hint.contains("is not an SMTP server: check the port"),
            "{name}: {}",
            checked.text
        );

        for resp in [checked, sent] {
            assert!(!resp.text.contains("OpenSSH"), "{name}: {}", resp.text);
            assert!(!resp.text.contains("SSH-2.0"), "{name}: {}", resp.text);
        }
    }
    assert!(ssh.connections() >= 4, "each request reached the peer");
}

async fn a_long_reply_with_control_characters_is_cleaned_and_cut(backend: Backend) {
    // 500 characters after the code, with ESC, BEL and TAB among them.
    let text = format!("5.7.1 {}done", "ok\u{1b}\u{7}\t".repeat(98));
    assert_eq!(text.chars().count(), 500);
    let quirks = Quirks {
        reject_text: Some(text),
        ..Quirks::default()
    };
    let server = plain_server(quirks).await;
    let app = spawn_app(backend).await;
    let id = create(&app, &notifier("noisy", "127.0.0.1", server.port, false)).await;
    // Controls removed: "550 5.7.1 okok…okdone" (210 characters), cut to 199 and an ellipsis.
    let reply = format!("550 5.7.1 {}…", &"ok".repeat(98)[..189]);
    assert_eq!(reply.chars().count(), 200);

    let checked = check(&app, id, "reject-me@example.com").await;
    let sent = send(&app, id, &["reject-me@example.com".to_owned()]).await;

    let detail = format!("recipient rejected: reject-me@example.com: {reply}");
    assert_check_failed(&checked, &detail);
    assert_send_failed(&sent, &format!("SMTP error: {detail}"));
    for resp in [&checked, &sent] {
        let shown = resp.json()["detail"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(!shown.contains(char::is_control), "{shown:?}");
    }
    assert!(server.received().is_empty());
}

async fn the_total_timeout_bounds_a_slow_server(backend: Backend) {
    let quirks = Quirks {
        reply_delay: Some(Duration::from_millis(600)),
        ..Quirks::default()
    };
    let server = plain_server(quirks).await;
    let app = app(backend, |smtp| {
        smtp.timeout_secs = 1;
        smtp.total_timeout_secs = 2;
    })
    .await;
    let id = create(&app, &notifier("slow", "127.0.0.1", server.port, false)).await;
    let recipients: Vec<String> = (0..10).map(|n| format!("r{n}@example.com")).collect();
    let detail = "timed out after 2s (smtp.total_timeout_secs)";

    let started = Instant::now();
    let checked = check(&app, id, "x@example.com").await;
    let check_took = started.elapsed();
    let started = Instant::now();
    let sent = send(&app, id, &recipients).await;
    let send_took = started.elapsed();

    assert_check_failed(&checked, detail);
    assert_send_failed(&sent, &format!("SMTP error: {detail}; queued for retry"));
    for took in [check_took, send_took] {
        assert!(
            took >= Duration::from_secs(2) && took < Duration::from_secs(4),
            "took {took:?}"
        );
    }
    assert!(server.received().is_empty(), "{:#?}", server.received());
}

async fn the_password_never_travels_in_plain_text_beyond_loopback(backend: Backend) {
    let server = plain_server(Quirks::default()).await;
    let app = spawn_app(backend).await;
    // TEST-NET-1: refused before any packet, so nothing is ever sent there.
    let remote = create(&app, &notifier("remote-plain", "192.0.2.10", 25, false)).await;
    let local = create(
        &app,
        &notifier("local-plain", "127.0.0.1", server.port, false),
    )
    .await;

    assert_both_fail(
        &app,
        remote,
        "refusing to send the password without TLS to 192.0.2.10; turn on use_tls or \
         use_ssl, or set smtp.allow_plaintext_auth = true",
    )
    .await;
    let checked = check(&app, local, "ann@example.com").await;
    let sent = send(&app, local, &["bob@example.com".to_owned()]).await;

    assert_status(&checked, 200);
    assert_eq!(checked.json()["success"], true, "{}", checked.text);
    assert_status(&sent, 200);
    assert_eq!(sent.json()["sent"], 1, "{}", sent.text);
    let mails = server.wait_for_mail(2, WAIT).await;
    assert_eq!(mails.len(), 2, "{mails:#?}");
    assert!(
        mails
            .iter()
            .all(|m| m.auth_user.as_deref() == Some(SMTP_USER) && !m.tls),
        "{mails:#?}"
    );
}

backend_tests!(
    link_local_metadata_address_is_refused_by_default,
    denied_loopback_is_refused_by_address_name_and_mapped_address,
    allowed_networks_leave_out_every_other_address,
    allowed_ports_refuse_other_ports_and_admit_listed_ones,
    a_peer_that_is_not_an_smtp_server_is_not_quoted,
    a_long_reply_with_control_characters_is_cleaned_and_cut,
    the_total_timeout_bounds_a_slow_server,
    the_password_never_travels_in_plain_text_beyond_loopback,
);
