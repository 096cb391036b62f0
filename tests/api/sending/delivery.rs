//! `/send` delivered in each TLS mode: the envelope and the message exactly as sent.

use serde_json::json;

use super::mime::{self, decode_words};
use super::*;
use crate::smtp_server::ReceivedMail;

const SUBJECT: &str = "Grüße ✓";
const TEXT: &str = "Hallo Ann,\nschöne Grüße — bis bald.";
const HTML: &str = "<p>Hallo Ann,<br>schöne <b>Grüße</b> — bis bald.</p>";

fn full_message() -> Value {
    json!({
        "to": ["ann@example.com", "bob@example.com"],
        "cc": ["carl@example.com"],
        "bcc": ["hidden@example.com"],
        "reply_to": "replies@example.com",
        "subject": SUBJECT,
        "body": TEXT,
        "html_body": HTML
    })
}

#[track_caller]
fn only_mail(mails: &[ReceivedMail]) -> &ReceivedMail {
    assert_eq!(mails.len(), 1, "expected one message, got {mails:#?}");
    &mails[0]
}

/// The headers every message carries, with these values.
#[track_caller]
fn assert_common_headers(message: &mime::Message, message_id: &str, subject: &str) {
    assert_eq!(message.addresses("From"), [FROM]);
    assert_eq!(message.header("Message-ID"), message_id);
    assert!(!message.header("Date").is_empty());
    assert_eq!(message.header("MIME-Version"), "1.0");
    let raw_subject = message.header("Subject");
    assert!(
        raw_subject.is_ascii(),
        "Subject must be encoded: {raw_subject:?}"
    );
    assert_eq!(
        decode_words(raw_subject),
        subject,
        "Subject {raw_subject:?}"
    );
    assert!(
        message.all("Bcc").is_empty(),
        "a Bcc header: {:?}",
        message.headers
    );
}

/// A text-only message: one text/plain UTF-8 body.
#[track_caller]
fn assert_text_only(message: &mime::Message, text: &str) {
    assert_eq!(message.media_type(), "text/plain", "{:?}", message.headers);
    assert_eq!(
        message
            .param("Content-Type", "charset")
            .map(|c| c.to_lowercase()),
        Some("utf-8".into())
    );
    assert_eq!(message.text(), text);
}

async fn starttls_send_delivers_the_exact_envelope_and_headers(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::StartTls).await;
    // By name, so that the certificate is checked against a DNS name too.
    let mut body = smtp_notifier("starttls", server.port, STARTTLS);
    body["host"] = json!("localhost");
    let id = rig.notifier(&body).await;

    let resp = rig.send(id, &full_message()).await;

    let message_id = sent(&resp);
    let mails = server.wait_for_mail(1, WAIT).await;
    let mail = only_mail(&mails);
    assert_eq!(mail.mail_from, FROM);
    assert_eq!(
        mail.rcpt_to,
        [
            "ann@example.com",
            "bob@example.com",
            "carl@example.com",
            "hidden@example.com"
        ]
    );
    assert_eq!(mail.auth_user.as_deref(), Some(SMTP_USER));
    assert!(mail.tls, "the message must travel after STARTTLS");
    assert!(
        !mail.data.contains("hidden@example.com"),
        "the Bcc address is in the data: {}",
        mail.data
    );
    let message = mime::parse(&mail.data);
    assert_common_headers(&message, &message_id, SUBJECT);
    let raw_subject = message.header("Subject");
    assert!(
        raw_subject.to_lowercase().starts_with("=?utf-8?") && raw_subject.ends_with("?="),
        "Subject should be an RFC 2047 UTF-8 encoded word: {raw_subject:?}"
    );
    assert_eq!(
        message.addresses("To"),
        ["ann@example.com", "bob@example.com"]
    );
    assert_eq!(message.addresses("Cc"), ["carl@example.com"]);
    assert_eq!(message.addresses("Reply-To"), ["replies@example.com"]);
    assert_eq!(message.media_type(), "multipart/alternative");
    let parts = message.parts();
    let types: Vec<String> = parts.iter().map(mime::Message::media_type).collect();
    assert_eq!(types, ["text/plain", "text/html"], "{:?}", message.body);
    for (part, text) in parts.iter().zip([TEXT, HTML]) {
        assert_eq!(
            part.param("Content-Type", "charset")
                .map(|c| c.to_lowercase()),
            Some("utf-8".into()),
            "{:?}",
            part.headers
        );
        assert_eq!(part.text(), text);
    }
}

async fn implicit_tls_send_is_delivered_and_wins_over_starttls(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::ImplicitTls).await;
    // Both flags: implicit TLS must be used (STARTTLS would never get a greeting here).
    let both = Flags {
        use_tls: true,
        use_ssl: true,
    };
    let id = rig
        .notifier(&smtp_notifier("implicit", server.port, both))
        .await;

    let resp = rig
        .send(
            id,
            &json!({
                "to": ["dora@example.com"],
                "subject": "Über TLS",
                "body": "Grüße über TLS."
            }),
        )
        .await;

    let message_id = sent(&resp);
    let mails = server.wait_for_mail(1, WAIT).await;
    let mail = only_mail(&mails);
    assert!(mail.tls, "implicit TLS");
    assert_eq!(mail.mail_from, FROM);
    assert_eq!(mail.rcpt_to, ["dora@example.com"]);
    assert_eq!(mail.auth_user.as_deref(), Some(SMTP_USER));
    let message = mime::parse(&mail.data);
    assert_common_headers(&message, &message_id, "Über TLS");
    assert_eq!(message.addresses("To"), ["dora@example.com"]);
    for absent in ["Cc", "Reply-To"] {
        assert!(
            message.all(absent).is_empty(),
            "{absent}: {:?}",
            message.headers
        );
    }
    assert_text_only(&message, "Grüße über TLS.");
}

async fn plain_send_is_delivered_without_upgrading(backend: Backend) {
    let rig = Rig::new(backend).await;
    // The server offers STARTTLS; a notifier with neither flag must not take it.
    let server = rig.server(Security::Plain).await;
    let id = rig
        .notifier(&smtp_notifier("plain", server.port, PLAIN))
        .await;

    let resp = rig
        .send(
            id,
            &json!({
                "to": ["erin@example.com"],
                "cc": ["fred@example.com"],
                "subject": "plain hello",
                "body": "line one\nline two",
                "html_body": "<p>line one</p>"
            }),
        )
        .await;

    let message_id = sent(&resp);
    let mails = server.wait_for_mail(1, WAIT).await;
    let mail = only_mail(&mails);
    assert!(!mail.tls, "plain mode must not upgrade");
    assert_eq!(mail.auth_user.as_deref(), Some(SMTP_USER));
    assert_eq!(mail.mail_from, FROM);
    assert_eq!(mail.rcpt_to, ["erin@example.com", "fred@example.com"]);
    let message = mime::parse(&mail.data);
    assert_common_headers(&message, &message_id, "plain hello");
    assert_eq!(message.addresses("Cc"), ["fred@example.com"]);
    let parts = message.parts();
    let texts: Vec<(String, String)> = parts.iter().map(|p| (p.media_type(), p.text())).collect();
    assert_eq!(
        texts,
        [
            ("text/plain".to_owned(), "line one\nline two".to_owned()),
            ("text/html".to_owned(), "<p>line one</p>".to_owned())
        ]
    );
}

/// DRF's CharField and EmailField trim surrounding whitespace before anything else.
async fn surrounding_whitespace_is_trimmed_as_drf_does(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::StartTls).await;
    let id = rig
        .notifier(&smtp_notifier("trim", server.port, STARTTLS))
        .await;

    let resp = rig
        .send(
            id,
            &json!({
                "to": ["  gina@example.com "],
                "reply_to": " replies@example.com",
                "subject": "  Trimmed subject\n",
                "body": "\n  trimmed body  \n"
            }),
        )
        .await;

    let message_id = sent(&resp);
    let mails = server.wait_for_mail(1, WAIT).await;
    let mail = only_mail(&mails);
    assert_eq!(mail.rcpt_to, ["gina@example.com"]);
    let message = mime::parse(&mail.data);
    assert_common_headers(&message, &message_id, "Trimmed subject");
    assert_eq!(message.addresses("Reply-To"), ["replies@example.com"]);
    assert_text_only(&message, "trimmed body");
}

backend_tests!(
    starttls_send_delivers_the_exact_envelope_and_headers,
    implicit_tls_send_is_delivered_and_wins_over_starttls,
    plain_send_is_delivered_without_upgrading,
    surrounding_whitespace_is_trimmed_as_drf_does,
);
