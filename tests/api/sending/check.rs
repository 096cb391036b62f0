//! `/test`: connect, TLS, AUTH; with `to`, a test message. Always 200, the outcome inside.

use std::time::Instant;

use serde_json::json;

use super::mime;
use super::*;
use crate::smtp_server::silent_server;

async fn check_succeeds_with_the_right_credentials_over_starttls(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::StartTls).await;
    let id = rig
        .notifier(&smtp_notifier("starttls", server.port, STARTTLS))
        .await;

    let with_object = rig.check(id, &json!({})).await;
    let without_body = rig
        .app
        .raw_as_admin("POST", &check_path(id), None, Vec::new())
        .await;

    for resp in [with_object, without_body] {
        let outcome = checked(&resp);
        assert!(outcome.success, "{outcome:?}");
        assert_eq!(outcome.detail, "connected and authenticated");
    }
    assert!(
        server.connections() >= 1,
        "the check never reached the server"
    );
    assert!(
        server.received().is_empty(),
        "a check without `to` sent mail"
    );
}

async fn check_succeeds_in_plain_and_implicit_tls_modes(backend: Backend) {
    let rig = Rig::new(backend).await;
    let plain = rig.server(Security::Plain).await;
    let implicit = rig.server(Security::ImplicitTls).await;

    for (name, server, flags) in [("plain", &plain, PLAIN), ("implicit", &implicit, IMPLICIT)] {
        let id = rig.notifier(&smtp_notifier(name, server.port, flags)).await;

        let outcome = checked(&rig.check(id, &json!({})).await);

        assert!(outcome.success, "{name}: {outcome:?}");
        assert_eq!(outcome.detail, "connected and authenticated", "{name}");
        assert_eq!(server.connections(), 1, "{name}");
    }
}

async fn check_with_a_wrong_password_reports_the_rejection(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::StartTls).await;
    let mut body = smtp_notifier("wrong", server.port, STARTTLS);
    body["password"] = json!(WRONG_PASSWORD);
    let id = rig.notifier(&body).await;

    for request in [json!({}), json!({ "to": "someone@example.com" })] {
        let resp = rig.check(id, &request).await;

        let outcome = checked(&resp);
        assert!(!outcome.success, "{outcome:?}");
        assert_eq!(outcome.detail, AUTH_REJECTED);
        assert!(
            !resp.text.contains(WRONG_PASSWORD) && !resp.text.contains(SMTP_PASSWORD),
            "a password in the answer: {}",
            resp.text
        );
    }
    assert!(server.received().is_empty());
}

async fn check_with_to_delivers_a_test_message(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::StartTls).await;
    let id = rig
        .notifier(&smtp_notifier("with-to", server.port, STARTTLS))
        .await;

    let outcome = checked(&rig.check(id, &json!({ "to": "eve@example.com" })).await);

    assert!(outcome.success, "{outcome:?}");
    assert_eq!(
        outcome.detail,
        "connected, authenticated and sent a test message"
    );
    let mails = server.wait_for_mail(1, WAIT).await;
    assert_eq!(mails.len(), 1, "{mails:#?}");
    let mail = &mails[0];
    assert_eq!(mail.mail_from, FROM);
    assert_eq!(mail.rcpt_to, ["eve@example.com"]);
    assert_eq!(mail.auth_user.as_deref(), Some(SMTP_USER));
    assert!(mail.tls);
    let message = mime::parse(&mail.data);
    assert_eq!(message.addresses("From"), [FROM]);
    assert_eq!(message.addresses("To"), ["eve@example.com"]);
    assert_eq!(
        mime::decode_words(message.header("Subject")),
        "Test message"
    );
    assert_eq!(message.text(), "This is a test message.");
}

async fn check_against_a_refused_port_fails_fast(backend: Backend) {
    // A long timeout, so that failing fast cannot be mistaken for timing out.
    let rig = Rig::with_timeout(backend, 10).await;
    let port = closed_port().await;
    let id = rig.notifier(&smtp_notifier("refused", port, PLAIN)).await;
    let started = Instant::now();

    let outcome = checked(&rig.check(id, &json!({})).await);

    let took = started.elapsed();
    assert!(!outcome.success, "{outcome:?}");
    assert_eq!(outcome.detail, "connection refused");
    assert!(outcome.duration_ms < 1000, "{outcome:?}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

async fn check_against_a_silent_server_fails_after_the_timeout(backend: Backend) {
    let rig = Rig::with_timeout(backend, 1).await;
    let (port, _silent) = silent_server().await;
    let id = rig.notifier(&smtp_notifier("silent", port, STARTTLS)).await;
    let started = Instant::now();

    let outcome = checked(&rig.check(id, &json!({})).await);

    let took = started.elapsed();
    assert!(!outcome.success, "{outcome:?}");
    assert_eq!(outcome.detail, "timed out after 1s");
    assert!(
        (1000..4000).contains(&outcome.duration_ms),
        "duration_ms should be the timeout (1 s), got {outcome:?}"
    );
    assert!(took >= Duration::from_secs(1), "answered after {took:?}");
}

/// The notifier's fail_silently is about /send only: a failed check still says why.
async fn check_ignores_fail_silently(backend: Backend) {
    let rig = Rig::new(backend).await;
    let mut body = smtp_notifier("silent-flag", closed_port().await, PLAIN);
    body["fail_silently"] = json!(true);
    let id = rig.notifier(&body).await;

    let outcome = checked(&rig.check(id, &json!({})).await);

    assert!(!outcome.success, "{outcome:?}");
    assert_eq!(outcome.detail, "connection refused");
}

backend_tests!(
    check_succeeds_with_the_right_credentials_over_starttls,
    check_succeeds_in_plain_and_implicit_tls_modes,
    check_with_a_wrong_password_reports_the_rejection,
    check_with_to_delivers_a_test_message,
    check_against_a_refused_port_fails_fast,
    check_against_a_silent_server_fails_after_the_timeout,
    check_ignores_fail_silently,
);
