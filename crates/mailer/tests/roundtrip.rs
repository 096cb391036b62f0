//! `Mailer` against the in-process SMTP server of the API tests, in every TLS mode.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../../tests/api/smtp_server.rs"]
mod smtp_server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use notifier_mailer::{
    IpNet, MailError, Mailer, MailerConfig, OutgoingMessage, SmtpAuth, SmtpSettings, TlsMode,
    XOAuth2,
};
use smtp_server::{
    Quirks, Security, SmtpServerOptions, TestCa, TestSmtpServer, TokenEndpoint, banner_server,
    silent_server,
};

const WAIT: Duration = Duration::from_secs(5);

fn mailer(ca: &TestCa, timeout: Duration) -> Mailer {
    mailer_with(
        ca,
        MailerConfig {
            timeout,
            ..MailerConfig::default()
        },
    )
}

/// A mailer trusting `ca`, with the rest of `config` as given.
fn mailer_with(ca: &TestCa, config: MailerConfig) -> Mailer {
    // As the binary does at start; a second call in the same process just fails.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Mailer::new(MailerConfig {
        extra_ca_pem: Some(ca.ca_pem.clone().into_bytes()),
        ..config
    })
    .unwrap()
}

fn nets(list: &[&str]) -> Vec<IpNet> {
    list.iter().map(|n| n.parse().unwrap()).collect()
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
        auth: SmtpAuth::Password,
        from_email: "Notifier <noreply@example.com>".into(),
        tls,
        dkim: None,
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
        message_id: None,
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
        assert!(
            matches!(err, MailError::TlsCertificate { .. }),
            "{mode:?}: {err:?}"
        );
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
    assert!(
        matches!(err, MailError::RecipientRejected { .. }),
        "{err:?}"
    );
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
        extra_ca_pem: Some(b"not a certificate".to_vec()),
        ..MailerConfig::default()
    })
    .err()
    .unwrap();
    assert!(matches!(err, MailError::BadCaFile(_)), "{err:?}");
}

#[tokio::test]
async fn denied_destinations_get_no_connection_whatever_the_spelling() {
    let ca = TestCa::new();
    let server = TestSmtpServer::start(options(Security::Plain, None)).await;
    let mailer = mailer_with(
        &ca,
        MailerConfig {
            denied_networks: nets(&["127.0.0.0/8", "::1/128"]),
            ..MailerConfig::default()
        },
    );

    for host in ["127.0.0.1", "localhost", "::ffff:127.0.0.1", "127.1.2.3"] {
        let s = settings(host, server.port, TlsMode::StartTls);
        let err = mailer.check(&s, None).await.unwrap_err();
        assert!(
            matches!(err, MailError::DestinationDenied(_)),
            "{host}: {err:?}"
        );
        assert!(
            err.to_string()
                .ends_with(" is not allowed by smtp.denied_networks"),
            "{host}: {err}"
        );
    }
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn allowed_lists_admit_only_what_they_name() {
    let ca = TestCa::new();
    let server = TestSmtpServer::start(options(Security::Plain, None)).await;
    let other = TestSmtpServer::start(options(Security::Plain, None)).await;
    let mailer = mailer_with(
        &ca,
        MailerConfig {
            allowed_networks: nets(&["127.0.0.0/8"]),
            allowed_ports: vec![server.port],
            ..MailerConfig::default()
        },
    );

    let outside = mailer
        .check(&settings("::1", server.port, TlsMode::None), None)
        .await
        .unwrap_err();
    let wrong_port = mailer
        .check(&settings("127.0.0.1", other.port, TlsMode::None), None)
        .await
        .unwrap_err();
    let admitted = mailer
        .check(&settings("localhost", server.port, TlsMode::None), None)
        .await;

    assert_eq!(
        outside.to_string(),
        "destination ::1 is not allowed by smtp.allowed_networks"
    );
    assert_eq!(
        wrong_port.to_string(),
        format!(
            "destination port {} is not allowed by smtp.allowed_ports",
            other.port
        )
    );
    assert_eq!(other.connections(), 0);
    assert_eq!(admitted.unwrap().detail, "connected and authenticated");
}

#[tokio::test]
async fn plain_text_auth_is_refused_beyond_loopback_before_connecting() {
    let ca = TestCa::new();
    let mailer = mailer(&ca, WAIT);
    // TEST-NET-1: the refusal comes before any packet, so nothing is sent there.
    let remote = settings("192.0.2.10", 25, TlsMode::None);
    let anonymous = SmtpSettings {
        username: String::new(),
        password: String::new(),
        ..settings("127.0.0.1", closed_port().await, TlsMode::None)
    };

    let started = Instant::now();
    let err = mailer.check(&remote, None).await.unwrap_err();

    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        err.to_string(),
        "refusing to send the password without TLS to 192.0.2.10; turn on use_tls or \
         use_ssl, or set smtp.allow_plaintext_auth = true"
    );
    // Without credentials there is no password to protect: it goes on to connect.
    let err = mailer.check(&anonymous, None).await.unwrap_err();
    assert!(matches!(err, MailError::ConnectionRefused), "{err:?}");
}

#[tokio::test]
async fn a_peer_that_is_not_an_smtp_server_is_not_quoted() {
    let ca = TestCa::new();
    let ssh = banner_server("SSH-2.0-OpenSSH_9.6\r\n").await;
    let mailer = mailer(&ca, WAIT);

    for mode in [TlsMode::None, TlsMode::StartTls, TlsMode::Implicit] {
        let err = mailer
            .check(&settings("127.0.0.1", ssh.port, mode), None)
            .await
            .unwrap_err();
        let text = format!("{err}");
        assert!(!text.contains("SSH"), "{mode:?}: {text}");
        if mode != TlsMode::Implicit {
            assert!(matches!(err, MailError::NotSmtp), "{mode:?}: {err:?}");
            assert_eq!(text, "the server did not answer as an SMTP server");
        }
    }
}

#[tokio::test]
async fn rejections_quote_at_most_200_clean_characters() {
    let ca = TestCa::new();
    let quirks = Quirks {
        reject_text: Some(format!("5.7.1 {}", "no\u{1b}[2J\u{7}\u{0}".repeat(100))),
        ..Quirks::default()
    };
    let server = TestSmtpServer::start_with(options(Security::Plain, None), quirks).await;
    let mailer = mailer(&ca, WAIT);
    let s = settings("127.0.0.1", server.port, TlsMode::None);

    let err = mailer
        .send(1, &s, &short_message("reject-me@example.com"))
        .await
        .unwrap_err();

    let text = err.to_string();
    let reply = text
        .strip_prefix("recipient rejected: reject-me@example.com: ")
        .unwrap_or_else(|| panic!("{text}"));
    assert!(reply.starts_with("550 5.7.1 no[2Jno[2J"), "{reply}");
    assert_eq!(reply.chars().count(), 200, "{reply}");
    assert!(!text.contains(char::is_control), "{text:?}");
}

#[tokio::test]
async fn the_total_timeout_ends_a_slow_exchange_that_each_step_would_allow() {
    let ca = TestCa::new();
    let quirks = Quirks {
        reply_delay: Some(Duration::from_millis(400)),
        ..Quirks::default()
    };
    let server = TestSmtpServer::start_with(options(Security::Plain, None), quirks).await;
    let mailer = mailer_with(
        &ca,
        MailerConfig {
            timeout: Duration::from_secs(1),
            total_timeout: Duration::from_secs(2),
            ..MailerConfig::default()
        },
    );
    let mut message = short_message("r0@example.com");
    message.cc = (1..10).map(|n| format!("r{n}@example.com")).collect();
    let started = Instant::now();

    let err = mailer
        .send(
            1,
            &settings("127.0.0.1", server.port, TlsMode::None),
            &message,
        )
        .await
        .unwrap_err();

    let took = started.elapsed();
    assert!(matches!(err, MailError::TotalTimeout(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "timed out after 2s (smtp.total_timeout_secs)"
    );
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_millis(2500),
        "{took:?}"
    );
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn without_authentication_no_auth_is_sent_and_a_password_meets_the_hint() {
    let ca = TestCa::new();
    let quirks = Quirks {
        no_auth: true,
        ..Quirks::default()
    };
    let relay = TestSmtpServer::start_with(options(Security::Plain, None), quirks).await;
    let mailer = mailer(&ca, WAIT);
    let trusted = SmtpSettings {
        auth: SmtpAuth::None,
        ..settings("127.0.0.1", relay.port, TlsMode::None)
    };

    mailer
        .send(1, &trusted, &short_message("a@example.com"))
        .await
        .unwrap();
    let mails = relay.wait_for_mail(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].auth_user, None);
    mailer.check(&trusted, None).await.unwrap();

    let with_password = settings("127.0.0.1", relay.port, TlsMode::None);
    let hint = "server offers no authentication; if this relay needs no login, set the \
                notifier's authentication method to \"none\"";
    let err = mailer.check(&with_password, None).await.unwrap_err();
    assert!(matches!(err, MailError::AuthNotOffered), "{err:?}");
    assert_eq!(err.to_string(), hint);
    let err = mailer
        .send(2, &with_password, &short_message("a@example.com"))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), hint);
    assert!(!err.is_transient());
}

/// An XOAUTH2 relay on loopback accepting the endpoint's current token, and settings for it.
async fn xoauth2_rig(
    ca: &TestCa,
    refresh_token: Option<&str>,
) -> (TokenEndpoint, TestSmtpServer, SmtpSettings) {
    let endpoint = TokenEndpoint::start(ca.server_config(&["localhost", "127.0.0.1"])).await;
    let quirks = Quirks {
        xoauth2: Some(endpoint.current.clone()),
        ..Quirks::default()
    };
    let relay = TestSmtpServer::start_with(options(Security::Plain, None), quirks).await;
    let settings = SmtpSettings {
        auth: SmtpAuth::XOAuth2(XOAuth2 {
            token_url: endpoint.url(),
            client_id: "client-1".into(),
            client_secret: "secret-1".into(),
            scope: "https://mail.example.com/.default".into(),
            refresh_token: refresh_token.map(str::to_owned),
        }),
        ..settings("127.0.0.1", relay.port, TlsMode::None)
    };
    (endpoint, relay, settings)
}

#[tokio::test]
async fn xoauth2_logs_in_with_a_cached_token_and_fetches_again_once_after_535() {
    let ca = TestCa::new();
    let (endpoint, relay, settings) = xoauth2_rig(&ca, None).await;
    let mailer = mailer(&ca, WAIT);

    mailer.check_notifier(7, &settings, None).await.unwrap();
    mailer
        .check_notifier(7, &settings, Some("a@example.com"))
        .await
        .unwrap();
    let mails = relay.wait_for_mail(1, WAIT).await;
    assert_eq!(mails[0].auth_user.as_deref(), Some("mailer"));
    let requests = endpoint.requests();
    assert_eq!(requests.len(), 1, "the token is cached: {requests:?}");
    let form = &requests[0];
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["client_id"], "client-1");
    assert_eq!(form["client_secret"], "secret-1");
    assert_eq!(form["scope"], "https://mail.example.com/.default");
    assert_eq!(
        mailer
            .oauth_token_fetches()
            .with_label_values(&["ok"])
            .get(),
        1
    );

    // Revoked before it expired: the 535 drops it and one new token is fetched.
    endpoint.revoke();
    mailer.check_notifier(7, &settings, None).await.unwrap();
    assert_eq!(endpoint.requests().len(), 2);

    // A token that expires within the minute is not kept.
    endpoint.set_expires_in(30);
    mailer.forget(7);
    mailer.check_notifier(7, &settings, None).await.unwrap();
    mailer.check_notifier(7, &settings, None).await.unwrap();
    assert_eq!(endpoint.requests().len(), 4);
}

#[tokio::test]
async fn xoauth2_endpoint_errors_and_refusals_read_as_the_contract_says() {
    let ca = TestCa::new();
    let (endpoint, _relay, settings) = xoauth2_rig(&ca, None).await;
    let mailer = mailer(&ca, WAIT);
    // A bearer token is a secret: no plain text beyond loopback.
    let remote = SmtpSettings {
        host: "192.0.2.10".into(),
        ..settings.clone()
    };
    let err = mailer.check(&remote, None).await.unwrap_err();
    assert!(matches!(err, MailError::PlaintextAuth(_)), "{err:?}");

    endpoint.fail_with("invalid_client", "Client authentication failed.");

    let err = mailer.check_notifier(1, &settings, None).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "OAuth2 token endpoint: invalid_client: Client authentication failed."
    );
    assert!(!err.is_transient());
    assert_eq!(
        mailer
            .oauth_token_fetches()
            .with_label_values(&["error"])
            .get(),
        1
    );
}

#[tokio::test]
async fn xoauth2_refresh_token_grant_reports_a_rotated_refresh_token() {
    let ca = TestCa::new();
    let (endpoint, relay, settings) = xoauth2_rig(&ca, Some("rt-0")).await;
    let mailer = mailer(&ca, WAIT);
    let mut rotations = mailer.rotated_refresh_tokens().unwrap();
    endpoint.rotate_refresh_tokens();

    mailer
        .send(3, &settings, &short_message("b@example.com"))
        .await
        .unwrap();
    assert_eq!(relay.wait_for_mail(1, WAIT).await.len(), 1);
    let form = &endpoint.requests()[0];
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["refresh_token"], "rt-0");
    let rotated = rotations.try_recv().unwrap();
    assert_eq!(
        (
            rotated.notifier_id,
            rotated.previous.as_str(),
            rotated.refresh_token.as_str()
        ),
        (3, "rt-0", "rt-1")
    );
}

#[tokio::test]
async fn concurrent_xoauth2_logins_share_one_token_fetch() {
    let ca = TestCa::new();
    let (endpoint, _relay, settings) = xoauth2_rig(&ca, Some("rt-0")).await;
    let mailer = mailer(&ca, WAIT);

    let checks = (0..4).map(|_| mailer.check_notifier(9, &settings, None));
    for outcome in futures_join_all(checks).await {
        outcome.unwrap();
    }
    assert_eq!(endpoint.requests().len(), 1, "{:?}", endpoint.requests());
}

/// Runs the futures concurrently on this task, returning their outputs in order.
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for future in futures {
        set.push(Box::pin(future));
    }
    let mut outputs: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in set.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(|o| o.unwrap()).collect()
}
