//! Turning an API message into the envelope and the bytes sent after DATA.

use std::fmt;

use lettre::address::Envelope;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};

use crate::dkim::DkimSettings;
use crate::error::{MailError, Result};

/// One message to send; addresses are plain (`a@b.c`) or named (`Name <a@b.c>`).
#[derive(Clone, Default)]
pub struct OutgoingMessage {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    pub body: String,
    pub html_body: Option<String>,
    /// The `Message-ID` to give it; a new one when `None`. A delivery keeps one for every
    /// attempt, so receivers can drop a duplicate.
    pub message_id: Option<String>,
}

/// A new `Message-ID`, `<…@notifier.local>`.
pub fn new_message_id() -> String {
    format!("<{}@notifier.local>", uuid::Uuid::new_v4().simple())
}

// By hand so that a `{:?}` never puts a body or a subject in a log line.
impl fmt::Debug for OutgoingMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingMessage")
            .field("to", &self.to.len())
            .field("cc", &self.cc.len())
            .field("bcc", &self.bcc.len())
            .field("html", &self.html_body.is_some())
            .finish_non_exhaustive()
    }
}

/// A message ready for the SMTP transaction.
pub(crate) struct Prepared {
    pub envelope: Envelope,
    pub bytes: Vec<u8>,
    pub message_id: String,
}

/// The short message that `/test` sends when given an address.
pub(crate) fn test_message(to: &str) -> OutgoingMessage {
    OutgoingMessage {
        to: vec![to.to_owned()],
        subject: "Test message".into(),
        body: "This is a test message.".into(),
        ..OutgoingMessage::default()
    }
}

/// Builds headers and body. Bcc goes only into the envelope: the message is built with an
/// explicit envelope and never gets a Bcc header, whatever lettre's default about dropping it.
/// With `dkim`, the bytes are signed once the Message-ID and every other header is set.
pub(crate) fn prepare(
    from_email: &str,
    message: &OutgoingMessage,
    dkim: Option<&DkimSettings>,
) -> Result<Prepared> {
    if message.subject.contains(['\r', '\n']) {
        return Err(MailError::InvalidMessage(
            "the subject must be a single line".into(),
        ));
    }
    let from = mailbox(from_email)?;
    let to = mailboxes(&message.to)?;
    let cc = mailboxes(&message.cc)?;
    let bcc = mailboxes(&message.bcc)?;
    let recipients: Vec<Address> = to
        .iter()
        .chain(&cc)
        .chain(&bcc)
        .map(|m| m.email.clone())
        .collect();
    let envelope = Envelope::new(Some(from.email.clone()), recipients)
        .map_err(|e| MailError::InvalidAddress(e.to_string()))?;
    let message_id = message.message_id.clone().unwrap_or_else(new_message_id);

    let mut builder = Message::builder()
        .from(from)
        .subject(message.subject.clone())
        .date_now()
        .message_id(Some(message_id.clone()))
        .envelope(envelope.clone());
    for m in to {
        builder = builder.to(m);
    }
    for m in cc {
        builder = builder.cc(m);
    }
    if let Some(reply_to) = &message.reply_to {
        builder = builder.reply_to(mailbox(reply_to)?);
    }
    let body = message.body.clone();
    let built = match &message.html_body {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(body, html.clone())),
        None => builder.singlepart(SinglePart::plain(body)),
    }
    .map_err(|e| MailError::InvalidMessage(e.to_string()))?;

    let mut bytes = built.formatted();
    if let Some(dkim) = dkim {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        bytes = crate::dkim::sign(&bytes, dkim, now)?;
    }
    Ok(Prepared {
        envelope,
        bytes,
        message_id,
    })
}

fn mailbox(text: &str) -> Result<Mailbox> {
    let text = text.trim();
    text.parse().or_else(|e| {
        // lettre caps the local part at 64 characters; Django (and so the original
        // product's validation, which the web layer applies) accepts longer ones. A bare
        // address without spaces or control characters is taken as it is.
        let bare = !text.contains(['<', '>'])
            && !text.chars().any(|c| c.is_whitespace() || c.is_control());
        match text.rsplit_once('@') {
            Some((user, domain)) if bare && !user.is_empty() && !domain.is_empty() => Ok(
                Mailbox::new(None, lettre::Address::new_dangerous(user, domain)),
            ),
            _ => Err(MailError::InvalidAddress(format!("{text}: {e}"))),
        }
    })
}

fn mailboxes(texts: &[String]) -> Result<Vec<Mailbox>> {
    texts.iter().map(|t| mailbox(t)).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample() -> OutgoingMessage {
        OutgoingMessage {
            to: vec!["To One <to1@example.com>".into(), "to2@example.com".into()],
            cc: vec!["cc@example.com".into()],
            bcc: vec!["hidden@example.com".into()],
            reply_to: Some("replies@example.com".into()),
            subject: "Grüße aus Köln".into(),
            body: "Hallo, schöne Grüße.".into(),
            html_body: None,
            message_id: None,
        }
    }

    fn headers(prepared: &Prepared) -> String {
        let text = String::from_utf8_lossy(&prepared.bytes).into_owned();
        match text.split_once("\r\n\r\n") {
            Some((head, _)) => head.to_owned(),
            None => text,
        }
    }

    #[test]
    fn bcc_is_in_the_envelope_only() {
        let prepared = prepare("sender@example.com", &sample(), None).unwrap();
        let raw = String::from_utf8_lossy(&prepared.bytes).to_lowercase();
        assert!(!raw.contains("bcc"), "{raw}");
        assert!(!raw.contains("hidden@example.com"), "{raw}");
        let envelope: Vec<String> = prepared
            .envelope
            .to()
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(
            envelope,
            [
                "to1@example.com",
                "to2@example.com",
                "cc@example.com",
                "hidden@example.com"
            ]
        );
        assert_eq!(
            prepared.envelope.from().map(|a| a.to_string()).as_deref(),
            Some("sender@example.com")
        );
    }

    #[test]
    fn headers_carry_to_cc_reply_to_date_and_message_id() {
        let prepared = prepare("Sender <sender@example.com>", &sample(), None).unwrap();
        let head = headers(&prepared);
        assert!(head.contains("From: Sender <sender@example.com>"), "{head}");
        assert!(
            head.contains("To: \"To One\" <to1@example.com>, to2@example.com"),
            "{head}"
        );
        assert!(head.contains("Cc: cc@example.com"), "{head}");
        assert!(head.contains("Reply-To: replies@example.com"), "{head}");
        assert!(head.contains("\r\nDate: "), "{head}");
        assert!(
            head.contains(&format!("Message-ID: {}", prepared.message_id)),
            "{head}"
        );
        assert!(prepared.message_id.starts_with('<'));
        assert!(prepared.message_id.ends_with("@notifier.local>"));
    }

    #[test]
    fn a_given_message_id_is_kept() {
        let id = new_message_id();
        let message = OutgoingMessage {
            message_id: Some(id.clone()),
            ..sample()
        };
        let prepared = prepare("sender@example.com", &message, None).unwrap();
        assert_eq!(prepared.message_id, id);
        assert!(headers(&prepared).contains(&format!("Message-ID: {id}")));
    }

    #[test]
    fn non_ascii_subject_is_encoded_and_body_is_plain_utf8() {
        let prepared = prepare("sender@example.com", &sample(), None).unwrap();
        assert!(
            prepared.bytes.is_ascii(),
            "headers and body are transfer-encoded"
        );
        let head = headers(&prepared);
        assert!(head.contains("Subject: =?utf-8?"), "{head}");
        assert!(
            head.contains("Content-Type: text/plain; charset=utf-8"),
            "{head}"
        );
        assert!(!head.contains("multipart"), "{head}");
    }

    #[test]
    fn html_body_makes_multipart_alternative() {
        let mut message = sample();
        message.html_body = Some("<p>Hallo</p>".into());
        let prepared = prepare("sender@example.com", &message, None).unwrap();
        let raw = String::from_utf8_lossy(&prepared.bytes).into_owned();
        assert!(
            raw.contains("Content-Type: multipart/alternative;"),
            "{raw}"
        );
        assert!(
            raw.contains("Content-Type: text/plain; charset=utf-8"),
            "{raw}"
        );
        assert!(
            raw.contains("Content-Type: text/html; charset=utf-8"),
            "{raw}"
        );
    }

    #[test]
    fn bad_input_is_rejected_before_connecting() {
        let mut bad_to = sample();
        bad_to.to = vec!["not an address".into()];
        assert!(matches!(
            prepare("sender@example.com", &bad_to, None),
            Err(MailError::InvalidAddress(_))
        ));
        assert!(matches!(
            prepare("nobody", &sample(), None),
            Err(MailError::InvalidAddress(_))
        ));
        let mut two_lines = sample();
        two_lines.subject = "a\r\nBcc: x@example.com".into();
        assert!(matches!(
            prepare("sender@example.com", &two_lines, None),
            Err(MailError::InvalidMessage(_))
        ));
    }

    #[test]
    fn test_message_has_the_original_wording() {
        let prepared = prepare(
            "sender@example.com",
            &test_message("rcpt@example.com"),
            None,
        )
        .unwrap();
        let raw = String::from_utf8_lossy(&prepared.bytes).into_owned();
        assert!(raw.contains("Subject: Test message\r\n"), "{raw}");
        assert!(raw.contains("This is a test message."), "{raw}");
    }
}
