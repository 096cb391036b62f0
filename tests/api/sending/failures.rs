//! SMTP failures: no STARTTLS, untrusted certificates, rejected credentials and recipients,
//! timeouts; 502 `SMTP error: …`, or 200 `sent: 0` when the notifier fails silently.

use std::time::Instant;

use serde_json::json;

use super::*;
use crate::smtp_server::silent_server;

/// `/test` fails with `detail`, `/send` answers 502 with it, and nothing arrives.
async fn assert_both_fail(rig: &Rig, id: i64, server: &TestSmtpServer, detail: impl Fn(&str)) {
    let outcome = checked(&rig.check(id, &json!({ "to": "x@example.com" })).await);
    assert!(!outcome.success, "{outcome:?}");
    detail(&outcome.detail);

    let resp = rig.send(id, &short_message("x@example.com")).await;
    assert_status(&resp, 502);
    let body = resp.json();
    let text = body["detail"].as_str().unwrap_or_default();
    let reason = text
        .strip_prefix("SMTP error: ")
        .unwrap_or_else(|| panic!("detail should start with `SMTP error: `: {}", resp.text));
    assert_send_failed(&resp, text);
    detail(reason);

    assert!(server.received().is_empty(), "{:#?}", server.received());
}

async fn starttls_required_but_not_offered_fails_and_sends_nothing(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::PlainNoStartTls).await;
    let id = rig
        .notifier(&smtp_notifier("no-starttls", server.port, STARTTLS))
        .await;

    assert_both_fail(&rig, id, &server, |detail| {
        assert_eq!(detail, "server does not offer STARTTLS");
    })
    .await;
}

async fn certificate_from_an_untrusted_ca_is_refused(backend: Backend) {
    let rig = Rig::new(backend).await;
    let cases = [
        ("starttls", Security::StartTls, STARTTLS),
        ("implicit", Security::ImplicitTls, IMPLICIT),
    ];

    for (name, security, flags) in cases {
        let tls = TestCa::untrusted_server_config(&["localhost", "127.0.0.1"]);
        let server = TestSmtpServer::start(smtp_options(security, Some(tls))).await;
        let id = rig.notifier(&smtp_notifier(name, server.port, flags)).await;

        assert_both_fail(&rig, id, &server, |detail| {
            assert!(
                detail.starts_with("TLS handshake failed: "),
                "{name}: {detail}"
            );
        })
        .await;
    }
}

async fn certificate_for_another_name_is_refused(backend: Backend) {
    let rig = Rig::new(backend).await;
    let tls = rig.ca.server_config(&["mail.example.com"]);
    let server = TestSmtpServer::start(smtp_options(Security::ImplicitTls, Some(tls))).await;
    let id = rig
        .notifier(&smtp_notifier("misnamed", server.port, IMPLICIT))
        .await;

    assert_both_fail(&rig, id, &server, |detail| {
        assert!(detail.starts_with("TLS handshake failed: "), "{detail}");
    })
    .await;
}

/// The test CA is trusted only through `smtp.extra_ca_file`: without it, the same server
/// is refused.
async fn test_ca_is_untrusted_without_the_extra_ca_file(backend: Backend) {
    let app = spawn_app(backend).await;
    let ca = TestCa::new();
    let tls = ca.server_config(&["localhost", "127.0.0.1"]);
    let server = TestSmtpServer::start(smtp_options(Security::StartTls, Some(tls))).await;
    let body = smtp_notifier("no-extra-ca", server.port, STARTTLS);
    let id = id_of(&app.create_notifier(&body).await);

    let resp = app
        .post_json(
            &send_path(id),
            &short_message("x@example.com"),
            &app.admin_token,
        )
        .await;

    assert_status(&resp, 502);
    let detail = resp.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        detail.starts_with("SMTP error: TLS handshake failed: "),
        "{detail}"
    );
    assert!(server.received().is_empty());
}

async fn send_with_a_wrong_password_is_502_without_the_password(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::StartTls).await;
    let mut body = smtp_notifier("wrong", server.port, STARTTLS);
    body["password"] = json!(WRONG_PASSWORD);
    let id = rig.notifier(&body).await;

    let resp = rig.send(id, &short_message("x@example.com")).await;

    assert_send_failed(&resp, &format!("SMTP error: {AUTH_REJECTED}"));
    assert!(server.received().is_empty());
}

async fn fail_silently_turns_smtp_failures_into_sent_zero(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::StartTls).await;
    let refused = closed_port().await;
    let mut wrong = smtp_notifier("silent-wrong", server.port, STARTTLS);
    wrong["password"] = json!(WRONG_PASSWORD);
    wrong["fail_silently"] = json!(true);
    let wrong = rig.notifier(&wrong).await;
    let mut unreachable = smtp_notifier("silent-refused", refused, PLAIN);
    unreachable["fail_silently"] = json!(true);
    let unreachable = rig.notifier(&unreachable).await;
    let mut working = smtp_notifier("silent-working", server.port, STARTTLS);
    working["fail_silently"] = json!(true);
    let working = rig.notifier(&working).await;

    // A refused login fails for good; a refused connection is retried.
    for (id, detail) in [
        (wrong, "not sent (fail_silently)"),
        (unreachable, "not sent (fail_silently); queued for retry"),
    ] {
        let resp = rig.send(id, &short_message("x@example.com")).await;
        let invalid = rig.send(id, &json!({ "to": [] })).await;

        not_sent_silently(&resp, detail);
        assert!(!resp.text.contains(WRONG_PASSWORD));
        // Failing silently is about SMTP: a bad body is still a 400.
        assert_json(
            &invalid,
            400,
            &json!({
                "to": ["This list may not be empty."],
                "subject": ["This field is required."],
                "body": ["This field is required."]
            }),
        );
    }
    assert!(server.received().is_empty());

    let resp = rig.send(working, &short_message("y@example.com")).await;

    sent(&resp);
    assert_eq!(server.wait_for_mail(1, WAIT).await.len(), 1);
}

async fn without_fail_silently_a_refused_connection_is_502(backend: Backend) {
    let rig = Rig::new(backend).await;
    let id = rig
        .notifier(&smtp_notifier("loud", closed_port().await, PLAIN))
        .await;

    let resp = rig.send(id, &short_message("x@example.com")).await;

    assert_send_failed(&resp, "SMTP error: connection refused; queued for retry");
}

async fn send_to_a_silent_server_fails_after_the_timeout(backend: Backend) {
    let rig = Rig::with_timeout(backend, 1).await;
    let (port, _silent) = silent_server().await;
    let id = rig.notifier(&smtp_notifier("silent", port, IMPLICIT)).await;
    let started = Instant::now();

    let resp = rig.send(id, &short_message("x@example.com")).await;

    let took = started.elapsed();
    assert_send_failed(&resp, "SMTP error: timed out after 1s; queued for retry");
    assert!(took >= Duration::from_secs(1), "answered after {took:?}");
}

/// As smtplib: refused recipients are dropped unless every one is refused.
async fn refused_recipients_are_skipped_unless_all_are_refused(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::StartTls).await;
    let id = rig
        .notifier(&smtp_notifier("rcpt", server.port, STARTTLS))
        .await;

    let some = rig
        .send(
            id,
            &json!({
                "to": ["ok@example.com"],
                "cc": ["reject-cc@example.com"],
                "subject": "s",
                "body": "b"
            }),
        )
        .await;
    let all = rig.send(id, &short_message("reject-me@example.com")).await;

    sent(&some);
    let mails = server.wait_for_mail(1, WAIT).await;
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert_eq!(mails[0].rcpt_to, ["ok@example.com"]);
    assert_status(&all, 502);
    let detail = all.json()["detail"].as_str().unwrap_or_default().to_owned();
    assert!(
        detail.starts_with("SMTP error: ") && detail.contains("reject-me@example.com"),
        "{detail}"
    );
    assert_eq!(server.received().len(), 1);
}

backend_tests!(
    starttls_required_but_not_offered_fails_and_sends_nothing,
    certificate_from_an_untrusted_ca_is_refused,
    certificate_for_another_name_is_refused,
    test_ca_is_untrusted_without_the_extra_ca_file,
    send_with_a_wrong_password_is_502_without_the_password,
    fail_silently_turns_smtp_failures_into_sent_zero,
    without_fail_silently_a_refused_connection_is_502,
    send_to_a_silent_server_fails_after_the_timeout,
    refused_recipients_are_skipped_unless_all_are_refused,
);
