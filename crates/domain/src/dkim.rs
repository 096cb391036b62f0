//! A notifier's DKIM settings (docs/API.md §5, DKIM): the PUT body's rules and the DNS
//! record a signing key is published under. Keys themselves (PEM, generation, signing)
//! are the mailer's; this module only checks names and choices.

use std::fmt;

use serde_json::{Map, Value};

use crate::host::is_dns_name;
use crate::limits::MAX_DNS_LABEL_LENGTH;
use crate::notifier::Password;
use crate::notifier_input::text;
use crate::{FieldErrors, messages};

pub const DKIM_DOMAIN_OUTSIDE: &str =
    "The DKIM domain must be the from_email's domain or a parent of it.";
pub const FROM_EMAIL_OUTSIDE_DKIM: &str =
    "This address is outside the DKIM domain; change or remove the DKIM settings first.";
pub const INVALID_DKIM_DOMAIN: &str = "Enter a valid domain name.";
pub const INVALID_SELECTOR: &str =
    "Enter a valid selector: one DNS label of letters, digits and hyphens.";
/// A PEM private key is a few kilobytes; this leaves room for RSA-8192.
pub const MAX_PRIVATE_KEY_LENGTH: usize = 16_384;

/// The signing algorithms offered, as the `a=` tag names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DkimAlgorithm {
    /// RSA, 2048-bit when generated; PKCS#1 v1.5 over SHA-256.
    RsaSha256,
    /// Ed25519 over SHA-256 (RFC 8463).
    Ed25519Sha256,
}

impl DkimAlgorithm {
    pub const CHOICES: [&'static str; 2] = ["rsa-sha256", "ed25519-sha256"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RsaSha256 => "rsa-sha256",
            Self::Ed25519Sha256 => "ed25519-sha256",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "rsa-sha256" => Some(Self::RsaSha256),
            "ed25519-sha256" => Some(Self::Ed25519Sha256),
            _ => None,
        }
    }

    /// The key type, the `k=` tag of the DNS record.
    pub fn key_type(self) -> &'static str {
        match self {
            Self::RsaSha256 => "rsa",
            Self::Ed25519Sha256 => "ed25519",
        }
    }
}

impl fmt::Display for DkimAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A valid DKIM PUT body; the key, when given, is still to be parsed by the mailer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkimInput {
    pub domain: String,
    pub selector: String,
    pub algorithm: DkimAlgorithm,
    pub private_key: Option<Password>,
}

/// A notifier's stored DKIM settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dkim {
    pub notifier_id: i64,
    pub domain: String,
    pub selector: String,
    pub algorithm: DkimAlgorithm,
    /// PKCS#8 PEM; stored sealed, never shown.
    pub private_key: Password,
    /// The base64 `p=` value of the DNS record.
    pub public_key: String,
}

impl Dkim {
    /// `<selector>._domainkey.<domain>`.
    pub fn dns_name(&self) -> String {
        format!("{}._domainkey.{}", self.selector, self.domain)
    }

    /// `v=DKIM1; k=<type>; p=<public key>`.
    pub fn dns_value(&self) -> String {
        format!(
            "v=DKIM1; k={}; p={}",
            self.algorithm.key_type(),
            self.public_key
        )
    }
}

/// Parses a DKIM PUT body. Field errors come in the order `domain`, `selector`,
/// `algorithm`, `private_key`; the domain rule against `from_email` is checked once the
/// domain itself is valid.
pub fn parse_dkim(body: &Map<String, Value>, from_email: &str) -> Result<DkimInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    let domain = required(body, "domain", &mut errors, |v| {
        let name = text(v, usize::MAX)?.to_ascii_lowercase();
        let name = name.strip_suffix('.').unwrap_or(&name).to_owned();
        if !name.is_ascii() || !is_dns_name(&name) || !name.contains('.') {
            return Err(vec![INVALID_DKIM_DOMAIN.to_owned()]);
        }
        if !covers(&name, from_email) {
            return Err(vec![DKIM_DOMAIN_OUTSIDE.to_owned()]);
        }
        Ok(name)
    });
    let selector = required(body, "selector", &mut errors, |v| {
        let label = text(v, usize::MAX)?.to_ascii_lowercase();
        if is_dns_label(&label) {
            Ok(label)
        } else {
            Err(vec![INVALID_SELECTOR.to_owned()])
        }
    });
    let algorithm = required(body, "algorithm", &mut errors, |v| {
        let choice = match v {
            Value::String(s) => s.clone(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            other => other.to_string(),
        };
        DkimAlgorithm::parse(&choice)
            .ok_or_else(|| vec![format!("\"{choice}\" is not a valid choice.")])
    });
    let private_key = match body.get("private_key") {
        None => None,
        Some(Value::Null) => {
            errors.add("private_key", messages::NULL);
            None
        }
        Some(v) => match text(v, MAX_PRIVATE_KEY_LENGTH) {
            Ok(pem) => Some(Password::new(pem)),
            Err(problems) => {
                for p in problems {
                    errors.add("private_key", p);
                }
                None
            }
        },
    };
    match (domain, selector, algorithm) {
        (Some(domain), Some(selector), Some(algorithm)) if errors.is_empty() => Ok(DkimInput {
            domain,
            selector,
            algorithm,
            private_key,
        }),
        _ => Err(errors),
    }
}

fn required<T>(
    body: &Map<String, Value>,
    field: &str,
    errors: &mut FieldErrors,
    check: impl FnOnce(&Value) -> Result<T, Vec<String>>,
) -> Option<T> {
    let problems = match body.get(field) {
        None => vec![messages::REQUIRED.to_owned()],
        Some(Value::Null) => vec![messages::NULL.to_owned()],
        Some(value) => match check(value) {
            Ok(parsed) => return Some(parsed),
            Err(problems) => problems,
        },
    };
    for p in problems {
        errors.add(field, p);
    }
    None
}

/// Whether `domain` is the domain of `email` or a parent of it (case-insensitive).
pub fn covers(domain: &str, email: &str) -> bool {
    let Some((_, email_domain)) = email.rsplit_once('@') else {
        return false;
    };
    let email_domain = email_domain.to_ascii_lowercase();
    let email_domain = email_domain.strip_suffix('.').unwrap_or(&email_domain);
    let domain = domain.to_ascii_lowercase();
    email_domain == domain
        || email_domain
            .strip_suffix(domain.as_str())
            .is_some_and(|head| head.ends_with('.'))
}

fn is_dns_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= MAX_DNS_LABEL_LENGTH
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn the_domain_must_cover_the_from_email() {
        assert!(covers("example.com", "a@example.com"));
        assert!(covers("example.com", "a@Mail.Example.com"));
        assert!(!covers("example.com", "a@badexample.com"));
        assert!(!covers("mail.example.com", "a@example.com"));
        let errors = parse_dkim(
            &body(json!({"domain": "other.org", "selector": "s1", "algorithm": "rsa-sha256"})),
            "a@example.com",
        )
        .unwrap_err();
        assert_eq!(
            serde_json::to_value(&errors).unwrap(),
            json!({"domain": [DKIM_DOMAIN_OUTSIDE]})
        );
    }

    #[test]
    fn fields_are_reported_in_order_with_drf_messages() {
        let errors = parse_dkim(&body(json!({"algorithm": "x"})), "a@example.com").unwrap_err();
        assert_eq!(
            serde_json::to_string(&errors).unwrap(),
            r#"{"domain":["This field is required."],"selector":["This field is required."],"algorithm":["\"x\" is not a valid choice."]}"#
        );
        let errors = parse_dkim(
            &body(json!({"domain": "example.com", "selector": "a.b", "algorithm": "ed25519-sha256", "private_key": null})),
            "a@example.com",
        )
        .unwrap_err();
        assert_eq!(
            serde_json::to_value(&errors).unwrap(),
            json!({"selector": [INVALID_SELECTOR], "private_key": [messages::NULL]})
        );
    }

    #[test]
    fn a_valid_body_is_normalized() {
        let input = parse_dkim(
            &body(json!({"domain": " Example.COM. ", "selector": "Mail2026", "algorithm": "ed25519-sha256"})),
            "a@mail.example.com",
        )
        .unwrap();
        assert_eq!(input.domain, "example.com");
        assert_eq!(input.selector, "mail2026");
        assert_eq!(input.algorithm, DkimAlgorithm::Ed25519Sha256);
        assert!(input.private_key.is_none());
    }
}
