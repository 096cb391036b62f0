//! DKIM (RFC 6376; Ed25519 per RFC 8463): signing keys, their DNS records, and the
//! signature added to a message's bytes just before the SMTP transaction.
//!
//! The signer works on the exact bytes that are sent, so what a receiver verifies is
//! what was hashed. It always signs with `c=relaxed/relaxed`, no `l=`, and the header
//! list [`SIGNED_HEADERS`], where `From` appears twice: the second, absent instance
//! makes a receiver refuse a message to which a second `From` was added. The other
//! names are signed also when the message does not carry them, for the same reason.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::Signer as _;
use rand_core_06::OsRng;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha2_010::{Digest, Sha256};

use crate::error::{MailError, Result};

/// The header fields signed, in `h=` order.
pub const SIGNED_HEADERS: [&str; 10] = [
    "from",
    "from",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "reply-to",
    "mime-version",
    "content-type",
];

/// The size of generated RSA keys.
pub const RSA_BITS: usize = 2048;
/// RSA keys accepted: RFC 8301 forbids verifying below 1024 bits; above 4096 signing
/// gets slow for no gain.
const RSA_MIN_BITS: usize = 1024;
const RSA_MAX_BITS: usize = 4096;

/// The two key types DKIM signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DkimKeyType {
    Rsa,
    Ed25519,
}

impl DkimKeyType {
    /// What a client calls it in an error message.
    pub fn label(self) -> &'static str {
        match self {
            Self::Rsa => "an RSA key",
            Self::Ed25519 => "an Ed25519 key",
        }
    }
}

/// Why a PEM text is not a usable signing key; `Display` is the API's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DkimKeyError {
    #[error(
        "Enter a private key in PEM: PKCS#8 (\"BEGIN PRIVATE KEY\") or, for RSA, PKCS#1 (\"BEGIN RSA PRIVATE KEY\")."
    )]
    NotPem,
    #[error("Encrypted private keys are not supported; give the key unencrypted.")]
    Encrypted,
    #[error("The PEM text does not hold a valid RSA or Ed25519 private key.")]
    Invalid,
    #[error("RSA keys must have 1024 to 4096 bits; this one has {0}.")]
    RsaSize(usize),
    #[error("RSA key generation failed.")]
    Generation,
}

/// A parsed signing key.
#[derive(Clone)]
pub struct DkimKey(Key);

#[derive(Clone)]
enum Key {
    Rsa(Box<RsaPrivateKey>),
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

impl fmt::Debug for DkimKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DkimKey({:?}, ***)", self.key_type())
    }
}

impl DkimKey {
    /// A new key pair: RSA-2048 (a second or so; run it off the async threads) or Ed25519.
    pub fn generate(key_type: DkimKeyType) -> std::result::Result<Self, DkimKeyError> {
        Ok(Self(match key_type {
            DkimKeyType::Rsa => Key::Rsa(Box::new(
                RsaPrivateKey::new(&mut OsRng, RSA_BITS).map_err(|_| DkimKeyError::Generation)?,
            )),
            DkimKeyType::Ed25519 => {
                Key::Ed25519(Box::new(ed25519_dalek::SigningKey::generate(&mut OsRng)))
            }
        }))
    }

    /// Reads a PKCS#8 (RSA or Ed25519) or PKCS#1 (RSA) PEM private key.
    pub fn from_pem(pem: &str) -> std::result::Result<Self, DkimKeyError> {
        let pem = pem.trim();
        let label = pem
            .strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.split_once("-----"))
            .map(|(label, _)| label)
            .ok_or(DkimKeyError::NotPem)?;
        let key = match label {
            "PRIVATE KEY" => match RsaPrivateKey::from_pkcs8_pem(pem) {
                Ok(rsa) => Key::Rsa(Box::new(rsa)),
                Err(_) => Key::Ed25519(Box::new(
                    ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
                        .map_err(|_| DkimKeyError::Invalid)?,
                )),
            },
            "RSA PRIVATE KEY" => Key::Rsa(Box::new(
                RsaPrivateKey::from_pkcs1_pem(pem).map_err(|_| DkimKeyError::Invalid)?,
            )),
            "ENCRYPTED PRIVATE KEY" => return Err(DkimKeyError::Encrypted),
            _ if pem.contains("Proc-Type: 4,ENCRYPTED") => return Err(DkimKeyError::Encrypted),
            _ => return Err(DkimKeyError::NotPem),
        };
        if let Key::Rsa(rsa) = &key {
            let bits = rsa.size() * 8;
            if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
                return Err(DkimKeyError::RsaSize(bits));
            }
        }
        Ok(Self(key))
    }

    pub fn key_type(&self) -> DkimKeyType {
        match self.0 {
            Key::Rsa(_) => DkimKeyType::Rsa,
            Key::Ed25519(_) => DkimKeyType::Ed25519,
        }
    }

    /// The key as PKCS#8 PEM, the form it is stored in.
    pub fn to_pem(&self) -> String {
        let pem = match &self.0 {
            Key::Rsa(rsa) => rsa.to_pkcs8_pem(LineEnding::LF),
            Key::Ed25519(ed) => ed.to_pkcs8_pem(LineEnding::LF),
        };
        // Encoding a valid key in memory does not fail.
        pem.map(|p| p.to_string()).unwrap_or_default()
    }

    /// The `p=` value of the DNS record: base64 of the SubjectPublicKeyInfo for RSA, of
    /// the raw 32-byte public key for Ed25519 (RFC 8463).
    pub fn public_key_base64(&self) -> String {
        match &self.0 {
            Key::Rsa(rsa) => rsa
                .to_public_key()
                .to_public_key_der()
                .map(|der| BASE64.encode(der.as_bytes()))
                .unwrap_or_default(),
            Key::Ed25519(ed) => BASE64.encode(ed.verifying_key().to_bytes()),
        }
    }

    fn sign(&self, hash: &[u8]) -> Result<Vec<u8>> {
        match &self.0 {
            Key::Rsa(rsa) => rsa
                .sign_with_rng(&mut OsRng, Pkcs1v15Sign::new::<Sha256>(), hash)
                .map_err(|e| MailError::Dkim(e.to_string())),
            Key::Ed25519(ed) => Ok(ed.sign(hash).to_bytes().to_vec()),
        }
    }

    fn algorithm(&self) -> &'static str {
        match self.0 {
            Key::Rsa(_) => "rsa-sha256",
            Key::Ed25519(_) => "ed25519-sha256",
        }
    }
}

/// A notifier's DKIM settings, as a send needs them.
#[derive(Clone)]
pub struct DkimSettings {
    /// `d=`: the from_email's domain or a parent of it.
    pub domain: String,
    /// `s=`.
    pub selector: String,
    /// The private key, PKCS#8 or PKCS#1 PEM.
    pub private_key: String,
}

// By hand so that a `{:?}` never prints the key.
impl fmt::Debug for DkimSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DkimSettings")
            .field("domain", &self.domain)
            .field("selector", &self.selector)
            .field("private_key", &"***")
            .finish()
    }
}

/// Returns `message` (CRLF line ends, headers then a blank line then the body) with a
/// `DKIM-Signature` header in front, signed at `timestamp` (seconds since the epoch).
pub(crate) fn sign(message: &[u8], settings: &DkimSettings, timestamp: u64) -> Result<Vec<u8>> {
    let key = DkimKey::from_pem(&settings.private_key)
        .map_err(|e| MailError::Dkim(format!("the stored key is unusable: {e}")))?;
    let (head, body) = split(message);
    let body_hash = BASE64.encode(Sha256::digest(relaxed_body(body)));
    let fields = header_fields(head);
    let unsigned = format!(
        "DKIM-Signature: v=1; a={}; c=relaxed/relaxed; d={}; s={};\r\n\tt={}; h={};\r\n\tbh={};\r\n\tb=",
        key.algorithm(),
        settings.domain,
        settings.selector,
        timestamp,
        SIGNED_HEADERS.join(":"),
        body_hash,
    );
    let mut hasher = Sha256::new();
    let mut used = vec![false; fields.len()];
    for name in SIGNED_HEADERS {
        // RFC 6376 §5.4.2: repeated names take the instances from the bottom up; a name
        // with no instance left adds nothing.
        let found = (0..fields.len())
            .rev()
            .find(|&i| !used[i] && fields[i].0.eq_ignore_ascii_case(name));
        if let Some(i) = found {
            used[i] = true;
            hasher.update(relaxed_header(fields[i].1).as_bytes());
            hasher.update(b"\r\n");
        }
    }
    hasher.update(relaxed_header(&unsigned).as_bytes());
    let signature = BASE64.encode(key.sign(&hasher.finalize())?);
    let mut signed = Vec::with_capacity(unsigned.len() + signature.len() + 2 + message.len());
    signed.extend_from_slice(unsigned.as_bytes());
    signed.extend_from_slice(signature.as_bytes());
    signed.extend_from_slice(b"\r\n");
    signed.extend_from_slice(message);
    Ok(signed)
}

/// The header block (each field with its CRLF) and the body.
fn split(message: &[u8]) -> (&str, &[u8]) {
    let at = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(message.len(), |i| i + 2);
    let head = std::str::from_utf8(&message[..at]).unwrap_or_default();
    let body = message.get(at + 2..).unwrap_or_default();
    (head, body)
}

/// Each header field's name and its text without the final CRLF (folds kept).
fn header_fields(head: &str) -> Vec<(&str, &str)> {
    let mut fields: Vec<(usize, usize)> = Vec::new();
    let mut offset = 0;
    for line in head.split_inclusive("\r\n") {
        let continuation = line.starts_with([' ', '\t']);
        match fields.last_mut() {
            Some((_, end)) if continuation => *end = offset + line.len(),
            _ => fields.push((offset, offset + line.len())),
        }
        offset += line.len();
    }
    fields
        .into_iter()
        .map(|(start, end)| {
            let text = head[start..end].trim_end_matches("\r\n");
            let name = text.split_once(':').map_or(text, |(name, _)| name).trim();
            (name, text)
        })
        .collect()
}

/// RFC 6376 §3.4.2 for one field (no final CRLF): lower-case name, unfolded, runs of
/// whitespace as one space, none at the end or around the colon.
fn relaxed_header(field: &str) -> String {
    let (name, value) = field.split_once(':').unwrap_or((field, ""));
    let unfolded = value.replace("\r\n", "");
    let mut out = String::with_capacity(field.len());
    out.push_str(&name.trim_end_matches([' ', '\t']).to_ascii_lowercase());
    out.push(':');
    let mut space = false;
    for c in unfolded.trim_matches([' ', '\t']).chars() {
        if c == ' ' || c == '\t' {
            space = true;
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

/// RFC 6376 §3.4.4: runs of whitespace as one space, none at line ends, no empty lines
/// at the end; a non-empty body ends with CRLF.
fn relaxed_body(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut lines: Vec<&[u8]> = body.split(|&b| b == b'\n').collect();
    // A body ending in CRLF leaves an empty piece after the last LF.
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    for line in lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let mut space = false;
        for &b in line {
            if b == b' ' || b == b'\t' {
                space = true;
            } else {
                if space {
                    out.push(b' ');
                    space = false;
                }
                out.push(b);
            }
        }
        out.extend_from_slice(b"\r\n");
    }
    while out.ends_with(b"\r\n\r\n") {
        out.truncate(out.len() - 2);
    }
    if out == b"\r\n" {
        out.clear();
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn relaxed_canonicalization_follows_rfc_6376_examples() {
        // RFC 6376 §3.4.6.
        assert_eq!(relaxed_header("A: X"), "a:X");
        assert_eq!(relaxed_header("B : Y\t\r\n\tZ  "), "b:Y Z");
        assert_eq!(relaxed_body(b" C \r\nD \t E\r\n\r\n\r\n"), b" C\r\nD E\r\n");
        assert_eq!(relaxed_body(b"\r\n\r\n"), b"");
    }

    #[test]
    fn keys_round_trip_through_pem_and_publish_their_public_half() {
        let ed = DkimKey::generate(DkimKeyType::Ed25519).unwrap();
        let again = DkimKey::from_pem(&ed.to_pem()).unwrap();
        assert_eq!(again.key_type(), DkimKeyType::Ed25519);
        assert_eq!(again.public_key_base64(), ed.public_key_base64());
        assert_eq!(BASE64.decode(ed.public_key_base64()).unwrap().len(), 32);
        assert_eq!(
            DkimKey::from_pem("hello").unwrap_err(),
            DkimKeyError::NotPem
        );
        assert_eq!(
            DkimKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
                .unwrap_err(),
            DkimKeyError::Invalid
        );
    }

    #[test]
    fn the_signature_header_comes_first_and_lists_from_twice() {
        let key = DkimKey::generate(DkimKeyType::Ed25519).unwrap();
        let settings = DkimSettings {
            domain: "example.com".into(),
            selector: "s1".into(),
            private_key: key.to_pem(),
        };
        let message = b"From: a@example.com\r\nSubject: Hi\r\n\r\nHello\r\n";
        let signed = String::from_utf8(sign(message, &settings, 1_700_000_000).unwrap()).unwrap();
        assert!(
            signed.starts_with(
                "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.com; s=s1;"
            ),
            "{signed}"
        );
        assert!(
            signed.contains(
                "h=from:from:to:cc:subject:date:message-id:reply-to:mime-version:content-type;"
            ),
            "{signed}"
        );
        assert!(!signed.contains("l="), "{signed}");
        assert!(signed.ends_with("\r\nFrom: a@example.com\r\nSubject: Hi\r\n\r\nHello\r\n"));
    }
}
