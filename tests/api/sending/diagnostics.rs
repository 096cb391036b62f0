//! `/test`'s staged report: the steps that ran, in order, and for each known mistake the
//! hint that names its fix — one case per row of the hint table, each against the
//! in-process SMTP server in the matching mode.

use serde_json::json;

use super::*;
use crate::smtp_server::{Quirks, TestCa};

/// A check that failed at `step` with a hint containing `hint_part`; returns the report.
#[track_caller]
fn failed_at(resp: &Resp, steps: &[&str], hint_part: &str) -> Checked {
    let outcome = checked(resp);
    assert!(!outcome.success, "{}", resp.text);
    assert_eq!(outcome.step_names(), steps, "{}", resp.text);
    assert!(
        outcome.last_step().detail.starts_with(&outcome.detail),
        "the failed step says what the check says: {}",
        resp.text
    );
    assert!(outcome.hint().contains(hint_part), "{}", resp.text);
    outcome
}

async fn a_successful_check_reports_every_step_and_no_hint(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::StartTls).await;
    let id = rig
        .notifier(&smtp_notifier("starttls", server.port, STARTTLS))
        .await;

    let outcome = checked(&rig.check(id, &json!({ "to": "ann@example.com" })).await);

    assert!(outcome.success, "{outcome:?}");
    assert_eq!(outcome.hint, None);
    assert_eq!(
        outcome.step_names(),
        [
            "resolve",
            "connect",
            "ehlo",
            "tls",
            "ehlo",
            "auth",
            "mail_from",
            "rcpt_to",
            "data"
        ],
        "EHLO twice around STARTTLS"
    );
    let detail = |n: usize| outcome.steps[n].detail.as_str();
    assert_eq!(detail(0), "127.0.0.1 resolves to 127.0.0.1");
    assert_eq!(detail(1), format!("connected to 127.0.0.1:{}", server.port));
    assert!(
        detail(2).starts_with("offers STARTTLS") && !detail(2).contains("AUTH"),
        "before TLS this server offers no AUTH: {}",
        detail(2)
    );
    let tls = detail(3);
    assert!(tls.starts_with("TLS 1."), "{tls}");
    assert!(
        tls.contains("certificate CN=localhost, issued by CN=notifier test CA, expires "),
        "the certificate's subject, issuer and expiry: {tls}"
    );
    assert!(detail(4).contains("AUTH PLAIN LOGIN"), "{}", detail(4));
    assert_eq!(detail(5), "accepted AUTH PLAIN");
    assert!(detail(6).starts_with("250"), "{}", detail(6));
    assert_eq!(detail(7), "1 accepted");
    assert!(detail(8).starts_with("250"), "{}", detail(8));
    assert_eq!(server.wait_for_mail(1, WAIT).await.len(), 1);
}

async fn implicit_tls_against_a_starttls_port_says_use_starttls(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::StartTls).await;
    let id = rig
        .notifier(&smtp_notifier("ssl-on-587", server.port, IMPLICIT))
        .await;

    let outcome = failed_at(
        &rig.check(id, &json!({})).await,
        &["resolve", "connect", "tls"],
        "set use_tls to true and use_ssl to false",
    );
    assert!(
        outcome.detail.starts_with("TLS handshake failed: "),
        "{outcome:?}"
    );
    assert!(outcome.hint().contains("expects STARTTLS"), "{outcome:?}");
}

async fn starttls_against_an_implicit_tls_port_says_use_ssl(backend: Backend) {
    let rig = Rig::with_timeout(backend, 1).await;
    let server = rig.server(Security::ImplicitTls).await;

    for (name, flags) in [("tls-on-465", STARTTLS), ("plain-on-465", PLAIN)] {
        let id = rig.notifier(&smtp_notifier(name, server.port, flags)).await;
        let outcome = failed_at(
            &rig.check(id, &json!({})).await,
            &["resolve", "connect", "ehlo"],
            "set use_ssl to true and use_tls to false",
        );
        assert_eq!(outcome.detail, "timed out after 1s", "{name}");
        assert!(
            outcome.hint().contains("implicit TLS"),
            "{name}: {outcome:?}"
        );
    }
}

async fn plain_smtp_where_the_server_requires_starttls_says_use_tls(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::StartTls).await;

    // With a password: this server offers AUTH only after STARTTLS.
    let id = rig
        .notifier(&smtp_notifier("plain-login", server.port, PLAIN))
        .await;
    failed_at(
        &rig.check(id, &json!({})).await,
        &["resolve", "connect", "ehlo", "auth"],
        "wants STARTTLS before it accepts a login or mail: set use_tls to true",
    );

    // Without a login: MAIL FROM gets 530 "Must issue a STARTTLS command first".
    let id = rig
        .notifier(&smtp_notifier("plain-anonymous", server.port, PLAIN))
        .await;
    let resp = rig
        .app
        .put_json(
            &format!("{}/authentication", notifier_path(id)),
            &json!({ "method": "none" }),
            &rig.app.admin_token,
        )
        .await;
    assert_status(&resp, 200);
    let outcome = failed_at(
        &rig.check(id, &json!({ "to": "ann@example.com" })).await,
        &["resolve", "connect", "ehlo", "mail_from"],
        "set use_tls to true",
    );
    assert!(outcome.detail.contains("530"), "{outcome:?}");
    assert!(server.received().is_empty());
}

async fn untrusted_expired_and_misnamed_certificates_are_named_with_their_fix(backend: Backend) {
    let rig = Rig::new(backend).await;
    let cases = [
        (
            "untrusted",
            TestCa::untrusted_server_config(&["localhost", "127.0.0.1"]),
            "issued by CN=untrusted test CA",
            "smtp.extra_ca_file",
        ),
        (
            "expired",
            rig.ca.expired_server_config(&["localhost", "127.0.0.1"]),
            "issued by CN=notifier test CA, expired 2020-01-31",
            "has expired",
        ),
        (
            "misnamed",
            rig.ca.server_config(&["mail.example.com"]),
            "certificate CN=mail.example.com",
            "does not name \"127.0.0.1\"",
        ),
    ];

    for (name, tls, certificate, hint) in cases {
        let server = TestSmtpServer::start(smtp_options(Security::ImplicitTls, Some(tls))).await;
        let id = rig
            .notifier(&smtp_notifier(name, server.port, IMPLICIT))
            .await;
        let outcome = failed_at(
            &rig.check(id, &json!({})).await,
            &["resolve", "connect", "tls"],
            hint,
        );
        let tls_step = &outcome.last_step().detail;
        assert!(
            tls_step.starts_with(&outcome.detail) && tls_step.contains(certificate),
            "{name}: the refused certificate is named: {tls_step}"
        );
    }
}

async fn a_server_without_auth_suggests_the_none_method(backend: Backend) {
    let rig = Rig::new(backend).await;
    let quirks = Quirks {
        no_auth: true,
        ..Quirks::default()
    };
    let server = TestSmtpServer::start_with(smtp_options(Security::Plain, None), quirks).await;
    let id = rig
        .notifier(&smtp_notifier("relay", server.port, PLAIN))
        .await;

    failed_at(
        &rig.check(id, &json!({})).await,
        &["resolve", "connect", "ehlo", "auth"],
        "set the notifier's authentication method to \"none\"",
    );
}

async fn a_refused_login_points_at_the_username_and_oauth2(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::StartTls).await;
    let mut body = smtp_notifier("wrong", server.port, STARTTLS);
    body["password"] = json!(WRONG_PASSWORD);
    let id = rig.notifier(&body).await;

    let outcome = failed_at(
        &rig.check(id, &json!({})).await,
        &["resolve", "connect", "ehlo", "tls", "ehlo", "auth"],
        "check both",
    );
    assert_eq!(outcome.detail, AUTH_REJECTED);
    assert!(
        outcome
            .hint()
            .contains("Microsoft 365 and Google accept only OAuth2"),
        "{outcome:?}"
    );
    assert!(!outcome.hint().contains(WRONG_PASSWORD));
}

async fn refused_connections_suggest_checking_the_port(backend: Backend) {
    let rig = Rig::new(backend).await;

    let port = closed_port().await;
    let id = rig.notifier(&smtp_notifier("closed", port, STARTTLS)).await;
    failed_at(
        &rig.check(id, &json!({})).await,
        &["resolve", "connect"],
        &format!("Nothing accepts connections on 127.0.0.1:{port}"),
    );

    // Port 25 gets its own advice. Nothing listens on it here: the tests' machines run
    // no mail server, and the in-process ones take random ports.
    if std::net::TcpStream::connect(("127.0.0.1", 25)).is_ok() {
        panic!("something listens on 127.0.0.1:25; this test needs that port closed");
    }
    let id = rig.notifier(&smtp_notifier("port-25", 25, STARTTLS)).await;
    failed_at(
        &rig.check(id, &json!({})).await,
        &["resolve", "connect"],
        "many networks and cloud providers block outgoing port 25: try port 587",
    );
}

async fn starttls_not_offered_suggests_implicit_tls(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = TestSmtpServer::start(smtp_options(Security::PlainNoStartTls, None)).await;
    let id = rig
        .notifier(&smtp_notifier("no-starttls", server.port, STARTTLS))
        .await;

    let outcome = failed_at(
        &rig.check(id, &json!({})).await,
        &["resolve", "connect", "ehlo", "tls"],
        "If it expects implicit TLS (usually port 465), set use_ssl to true",
    );
    assert_eq!(outcome.detail, "server does not offer STARTTLS");
}

async fn a_host_that_does_not_resolve_is_named(backend: Backend) {
    let rig = Rig::new(backend).await;
    let mut body = smtp_notifier("typo", 587, STARTTLS);
    // `.invalid` never resolves (RFC 2606).
    body["host"] = json!("smtp.example.invalid");
    let id = rig.notifier(&body).await;

    failed_at(
        &rig.check(id, &json!({})).await,
        &["resolve"],
        "The host name \"smtp.example.invalid\" could not be resolved",
    );
}

async fn a_connection_nobody_answers_suggests_a_firewall(backend: Backend) {
    let rig = Rig::with_timeout(backend, 1).await;
    let (port, _listener, _queued) = unanswered_port().await;
    let id = rig
        .notifier(&smtp_notifier("dropped", port, STARTTLS))
        .await;

    let outcome = failed_at(
        &rig.check(id, &json!({})).await,
        &["resolve", "connect"],
        "did not answer: a firewall may drop the connection",
    );
    assert_eq!(outcome.detail, "timed out after 1s");
}

/// A port whose SYNs go unanswered, as behind a firewall that drops them: a listener that
/// never accepts, its accept queue filled (Linux then drops further SYNs).
async fn unanswered_port() -> (u16, tokio::net::TcpListener, Vec<std::net::TcpStream>) {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .bind("127.0.0.1:0".parse().expect("an address"))
        .expect("bind");
    let listener = socket.listen(0).expect("listen");
    let address = listener.local_addr().expect("the address");
    let mut queued = Vec::new();
    for _ in 0..16 {
        match std::net::TcpStream::connect_timeout(&address, Duration::from_millis(300)) {
            Ok(stream) => queued.push(stream),
            Err(_) => return (address.port(), listener, queued),
        }
    }
    panic!("the accept queue of {address} never filled");
}

backend_tests!(
    a_connection_nobody_answers_suggests_a_firewall,
    starttls_not_offered_suggests_implicit_tls,
    a_host_that_does_not_resolve_is_named,
    a_successful_check_reports_every_step_and_no_hint,
    implicit_tls_against_a_starttls_port_says_use_starttls,
    starttls_against_an_implicit_tls_port_says_use_ssl,
    plain_smtp_where_the_server_requires_starttls_says_use_tls,
    untrusted_expired_and_misnamed_certificates_are_named_with_their_fix,
    a_server_without_auth_suggests_the_none_method,
    a_refused_login_points_at_the_username_and_oauth2,
    refused_connections_suggest_checking_the_port,
);
