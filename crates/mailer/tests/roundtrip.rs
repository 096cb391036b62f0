//! `Mailer` against the in-process SMTP server of the API tests, in every TLS mode.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../../tests/api/smtp_server.rs"]
mod smtp_server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use notifier_mailer::{MailError, Mailer, MailerConfig, OutgoingMessage, SmtpSettings, TlsMode};
use smtp_server::{Security, SmtpServerOptions, TestCa, TestSmtpServer, silent_server};

const WAIT: Duration = Duration::from_secs(5);

fn mailer(ca: &TestCa, timeout: Duration) -> Mailer {
    // As the binary does at start; a second call in the same process just fails.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Mailer::new(MailerConfig {
        timeout,
        extra_ca_pem: Some(ca.ca_pem.clone().into_bytes()),
    })
    .unwrap()
}

fn options(security: Security, tls: Option<Arc<rustls::ServerConfig>>) -> SmtpServerOptions {
    SmtpServerOptions {
        security,
        tls,
        username: "mailer".into(),
        password: "s3cret-pass".into(),
        require_auth: true,
    }
}

fn settings(host: &str, port: u16, tls: TlsMode) -> SmtpSettings {
    SmtpSettings {
        host: host.into(),
        port,
        username: "mailer".into(),
        password: "s3cret-pass".into(),
        from_email: "Notifier <noreply@example.com>".into(),
        tls,
    }
}

fn full_message() -> OutgoingMessage {
    OutgoingMessage {
        to: vec!["Ann <ann@example.com>".into()],
        cc: vec!["carl@example.com".into()],
        bcc: vec!["hidden@example.com".into()],
        reply_to: Some("replies@example.com".into()),
        subject: "Grüße — test ✓".into(),
        body: "Hallo, schöne Grüße.".into(),
        html_body: Some("<p>Hallo, <b>schöne</b> Grüße.</p>".into()),
    }
}

fn short_message(to: &str) -> OutgoingMessage {
    OutgoingMessage {
        to: vec![to.into()],
        subject: "hello".into(),
        body: "hi".into(),
        ..OutgoingMessage::default()
    }
}

async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn starttls_send_delivers_envelope_and_headers() {
    let ca = TestCa::new();
    let tls = ca.server_config(&["localhost", "127.0.0.1"]);
    let server = TestSmtpServer::start(options(Security::StartTls, Some(tls))).await;
    let mailer = mailer(&ca, WAIT);

    let id = mailer
        .send(
            1,
            &settings("localhost", server.port, TlsMode::StartTls),
            &full_message(),
        )
        .await
        .unwrap();

    let mails = server.wait_for_mail(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.mail_from, "noreply@example.com");
    assert_eq!(
        mail.rcpt_to,
        ["ann@example.com", "carl@example.com", "hidden@example.com"]
    );
    assert_eq!(mail.auth_user.as_deref(), Some("mailer"));
    assert!(mail.tls, "the message must travel after STARTTLS");
    let head = mail.data.split("\r\n\r\n").next().unwrap();
    assert!(!mail.data.to_lowercase().contains("bcc"), "{}", mail.data);
    assert!(!mail.data.contains("hidden@example.com"), "{}", mail.data);
    assert!(
        head.contains("From: Notifier <noreply@example.com>"),
        "{head}"
    );
    assert!(head.contains("To: Ann <ann@example.com>"), "{head}");
    assert!(head.contains("Cc: carl@example.com"), "{head}");
    assert!(head.contains("Reply-To: replies@example.com"), "{head}");
    assert!(head.contains("Subject: =?utf-8?"), "{head}");
    assert!(head.contains("\r\nDate: "), "{head}");
    assert!(head.contains(&format!("Message-ID: {id}")), "{head}");
    assert!(
        id.starts_with('<') && id.ends_with("@notifier.local>"),
        "{id}"
    );
    assert!(
        head.contains("Content-Type: multipart/alternative;"),
        "{head}"
    );
    assert!(
        mail.data
            .contains("Content-Type: text/plain; charset=utf-8")
    );
    assert!(mail.data.contains("Content-Type: text/html; charset=utf-8"));
}

#[tokio::test]
async fn implicit_tls_check_and_send() {
    let ca = TestCa::new();
    let tls = ca.server_config(&["localhost", "127.0.0.1"]);
    let server = TestSmtpServer::start(options(Security::ImplicitTls, Some(tls))).await;
    let mailer = mailer(&ca, WAIT);
    let s = settings("127.0.0.1", server.port, TlsMode::Implicit);

    let checked = mailer.check(&s, None).await.unwrap();
    assert_eq!(checked.detail, "connected and authenticated");
    mailer
        .send(7, &s, &short_message("bob@example.com"))
        .await
        .unwrap();

    let mails = server.wait_for_mail(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].tls);
    assert_eq!(mails[0].rcpt_to, ["bob@example.com"]);
}

#[tokio::test]
async fn plain_mode_never_upgrades_even_when_starttls_is_offered() {
    let ca = TestCa::new();
    let tls = ca.server_config(&["localhost", "127.0.0.1"]);
    let server = TestSmtpServer::start(options(Security::Plain, Some(tls))).await;
    let mailer = mailer(&ca, WAIT);

    let checked = mailer
        .check(
            &settings("127.0.0.1", server.port, TlsMode::None),
            Some("eve@example.com"),
        )
        .await
        .unwrap();

    assert_eq!(
        checked.detail,
        "connected, authenticated and sent a test message"
    );
    let mails = server.wait_for_mail(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    assert!(!mails[0].tls);
    assert_eq!(mails[0].auth_user.as_deref(), Some("mailer"));
    assert!(mails[0].data.contains("Subject: Test message\r\n"));
    assert!(mails[0].data.contains("This is a test message."));
}

#[tokio::test]
async fn wrong_password_is_rejected_with_the_server_reply() {
    let ca = TestCa::new();
    let tls = ca.server_config(&["localhost", "127.0.0.1"]);
    let server = TestSmtpServer::start(options(Security::StartTls, Some(tls))).await;
    let mailer = mailer(&ca, WAIT);
    let mut s = settings("127.0.0.1", server.port, TlsMode::StartTls);
    s.password = "wrong-password".into();

    for result in [
        mailer.check(&s, None).await.map(|_| String::new()),
        mailer.send(1, &s, &short_message("a@example.com")).await,
    ] {
        let err = result.unwrap_err();
        assert!(
            matches!(err, MailError::AuthenticationRejected(_)),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "authentication rejected: 535 5.7.8 Authentication credentials invalid"
        );
        assert!(!format!("{err} {err:?}").contains("wrong-password"));
    }
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn refused_port_fails_fast() {
    let mailer = mailer(&TestCa::new(), Duration::from_secs(10));
    let port = closed_port().await;
    let started = Instant::now();

    let err = mailer
        .check(&settings("127.0.0.1", port, TlsMode::None), None)
        .await
        .unwrap_err();

    assert!(matches!(err, MailError::ConnectionRefused), "{err:?}");
    assert_eq!(err.to_string(), "connection refused");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn silent_server_times_out_in_every_mode() {
    let mailer = mailer(&TestCa::new(), Duration::from_secs(1));
    let (port, _guard) = silent_server().await;

    for mode in [TlsMode::None, TlsMode::StartTls, TlsMode::Implicit] {
        let started = Instant::now();
        let err = mailer
            .send(
                1,
                &settings("127.0.0.1", port, mode),
                &short_message("a@example.com"),
            )
            .await
            .unwrap_err();
        let took = started.elapsed();
        assert!(matches!(err, MailError::Timeout(_)), "{mode:?}: {err:?}");
        assert_eq!(err.to_string(), "timed out after 1s");
        assert!(
            took >= Duration::from_secs(1) && took < Duration::from_secs(3),
            "{mode:?}: {took:?}"
        );
    }
}

#[tokio::test]
async fn starttls_mode_refuses_a_server_without_starttls() {
    let ca = TestCa::new();
    let tls = ca.server_config(&["localhost", "127.0.0.1"]);
    let server = TestSmtpServer::start(options(Security::PlainNoStartTls, Some(tls))).await;
    let mailer = mailer(&ca, WAIT);
    let s = settings("127.0.0.1", server.port, TlsMode::StartTls);

    let err = mailer
        .send(1, &s, &short_message("a@example.com"))
        .await
        .unwrap_err();

    assert!(matches!(err, MailError::StartTlsUnavailable), "{err:?}");
    assert_eq!(err.to_string(), "server does not offer STARTTLS");
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn untrusted_or_misnamed_certificates_fail_the_handshake() {
    let ca = TestCa::new();
    let mailer = mailer(&ca, WAIT);
    let untrusted = || TestCa::untrusted_server_config(&["127.0.0.1"]);
    let cases = [
        (
            Security::StartTls,
            TlsMode::StartTls,
            untrusted(),
            "UnknownIssuer",
        ),
        (
            Security::ImplicitTls,
            TlsMode::Implicit,
            untrusted(),
            "UnknownIssuer",
        ),
        (
            Security::ImplicitTls,
            TlsMode::Implicit,
            ca.server_config(&["mail.example.com"]),
            "not valid for name",
        ),
    ];
    for (security, mode, tls, reason) in cases {
        let server = TestSmtpServer::start(options(security, Some(tls))).await;
        let err = mailer
            .check(&settings("127.0.0.1", server.port, mode), None)
            .await
            .unwrap_err();
        assert!(matches!(err, MailError::Tls(_)), "{mode:?}: {err:?}");
        let text = err.to_string();
        assert!(text.starts_with("TLS handshake failed: "), "{text}");
        assert!(text.contains(reason), "{mode:?}: {text}");
    }
}

#[tokio::test]
async fn pooled_sends_reuse_one_connection_until_forgotten_or_changed() {
    let ca = TestCa::new();
    let tls = ca.server_config(&["localhost", "127.0.0.1"]);
    let server = TestSmtpServer::start(options(Security::StartTls, Some(tls))).await;
    let mailer = mailer(&ca, WAIT);
    let s = settings("127.0.0.1", server.port, TlsMode::StartTls);

    for n in 0..3 {
        mailer
            .send(42, &s, &short_message(&format!("r{n}@example.com")))
            .await
            .unwrap();
    }
    assert_eq!(server.wait_for_mail(3, WAIT).await.len(), 3);
    assert_eq!(server.connections(), 1, "three sends, one connection");

    mailer.forget(42);
    mailer
        .send(42, &s, &short_message("r3@example.com"))
        .await
        .unwrap();
    assert_eq!(
        server.connections(),
        2,
        "forget drops the parked connection"
    );

    // Changed settings must not ride on the connection authenticated with the old ones.
    let mut changed = s.clone();
    changed.password = "rotated".into();
    let err = mailer
        .send(42, &changed, &short_message("r4@example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, MailError::AuthenticationRejected(_)),
        "{err:?}"
    );
    assert_eq!(server.connections(), 3);
    assert_eq!(server.received().len(), 4);
}

#[tokio::test]
async fn refused_recipients_are_skipped_unless_all_are_refused() {
    let ca = TestCa::new();
    let server = TestSmtpServer::start(options(Security::Plain, None)).await;
    let mailer = mailer(&ca, WAIT);
    let s = settings("127.0.0.1", server.port, TlsMode::None);

    let mut some = short_message("ok@example.com");
    some.cc = vec!["rejected@example.com".into()];
    mailer.send(1, &s, &some).await.unwrap();
    let mails = server.wait_for_mail(1, WAIT).await;
    assert_eq!(mails[0].rcpt_to, ["ok@example.com"]);

    let err = mailer
        .send(1, &s, &short_message("reject-me@example.com"))
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::RecipientRejected(_)), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("recipient rejected: reject-me@example.com: 550 5.1.1"),
        "{err}"
    );
}

#[tokio::test]
async fn no_credentials_means_no_auth() {
    let ca = TestCa::new();
    let mut open_relay = options(Security::Plain, None);
    open_relay.require_auth = false;
    let relay = TestSmtpServer::start(open_relay).await;
    let strict = TestSmtpServer::start(options(Security::Plain, None)).await;
    let mailer = mailer(&ca, WAIT);
    let anonymous = |port| SmtpSettings {
        username: String::new(),
        password: String::new(),
        ..settings("127.0.0.1", port, TlsMode::None)
    };

    mailer
        .send(1, &anonymous(relay.port), &short_message("a@example.com"))
        .await
        .unwrap();
    let mails = relay.wait_for_mail(1, WAIT).await;
    assert_eq!(mails[0].auth_user, None);

    let err = mailer
        .send(2, &anonymous(strict.port), &short_message("a@example.com"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "server rejected the sender: 530 5.7.0 Authentication required"
    );
}

#[test]
fn bad_extra_ca_file_fails_at_start() {
    let err = Mailer::new(MailerConfig {
        timeout: WAIT,
        extra_ca_pem: Some(b"not a certificate".to_vec()),
    })
    .err()
    .unwrap();
    assert!(matches!(err, MailError::BadCaFile(_)), "{err:?}");
}
