//! The `Idempotency-Key` header's rules (draft-ietf-httpapi-idempotency-key-header): what a
//! key may be, what makes two requests "the same", and the answer kept for replays.

use std::time::Duration;

use sha2::{Digest, Sha256};

/// How long a key and its answer are kept.
pub const KEY_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// A key's length bounds, in bytes (every allowed character is one byte).
pub const MIN_KEY_LENGTH: usize = 1;
pub const MAX_KEY_LENGTH: usize = 255;

/// A key as the client sent it: 1–255 visible ASCII characters (0x21–0x7E).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an Idempotency-Key is 1 to 255 visible ASCII characters")]
pub struct InvalidKey;

impl IdempotencyKey {
    /// The header value's raw bytes: anything outside 0x21–0x7E (a space, a control
    /// character, a non-ASCII byte) or a length outside 1–255 is refused.
    pub fn parse(raw: &[u8]) -> Result<Self, InvalidKey> {
        let visible = raw.iter().all(|b| (0x21..=0x7e).contains(b));
        if !visible || !(MIN_KEY_LENGTH..=MAX_KEY_LENGTH).contains(&raw.len()) {
            return Err(InvalidKey);
        }
        // Visible ASCII is UTF-8.
        String::from_utf8(raw.to_vec())
            .map(Self)
            .map_err(|_| InvalidKey)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a request is, for telling a repeat from a different request under the same key:
/// SHA-256 over the method, the path and the body bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    pub fn of(method: &str, path: &str, body: &[u8]) -> Self {
        let mut hash = Sha256::new();
        // Each part is length-prefixed, so no two requests hash the same input.
        for part in [method.as_bytes(), path.as_bytes(), body] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        Self(hash.finalize().into())
    }
}

/// The first answer to a key, replayed to its repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

impl StoredResponse {
    /// One byte string: the head (status, Content-Type, Location) as a JSON line, then the
    /// body as it was sent.
    pub fn encode(&self) -> Vec<u8> {
        let head = serde_json::json!([self.status, self.content_type, self.location]);
        let mut out = head.to_string().into_bytes();
        out.push(b'\n');
        out.extend_from_slice(&self.body);
        out
    }

    /// `None` for bytes [`StoredResponse::encode`] did not make.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let newline = bytes.iter().position(|&b| b == b'\n')?;
        let (head, body) = (&bytes[..newline], &bytes[newline + 1..]);
        let (status, content_type, location): (u16, Option<String>, Option<String>) =
            serde_json::from_slice(head).ok()?;
        Some(Self {
            status,
            content_type,
            location,
            body: body.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_255_visible_ascii_characters() {
        for good in [&b"a"[..], b"~!", b"0d9f-4c1e_ABC.xyz:1", &[b'k'; 255]] {
            assert!(IdempotencyKey::parse(good).is_ok(), "{good:?}");
        }
        let long = [b'k'; 256];
        for bad in [
            &b""[..],
            b"with space",
            b" leading",
            b"tab\tkey",
            b"\x7f",
            "clé".as_bytes(),
            &long,
        ] {
            assert_eq!(IdempotencyKey::parse(bad), Err(InvalidKey), "{bad:?}");
        }
    }

    #[test]
    fn the_fingerprint_covers_method_path_and_body() {
        let base = Fingerprint::of("POST", "/a", b"{}");
        assert_eq!(base, Fingerprint::of("POST", "/a", b"{}"));
        assert_ne!(base, Fingerprint::of("PUT", "/a", b"{}"));
        assert_ne!(base, Fingerprint::of("POST", "/a/", b"{}"));
        assert_ne!(base, Fingerprint::of("POST", "/a", b"{ }"));
        // Moving bytes between the parts changes it too.
        assert_ne!(
            Fingerprint::of("POST", "/ab", b""),
            Fingerprint::of("POST", "/a", b"b")
        );
    }

    #[test]
    fn a_stored_response_survives_encoding() {
        let response = StoredResponse {
            status: 201,
            content_type: Some("application/json".into()),
            location: Some("http://h/x/1".into()),
            body: b"{\"a\":\"line\\nbreak\"}\n\xff".to_vec(),
        };
        assert_eq!(
            StoredResponse::decode(&response.encode()),
            Some(response.clone())
        );
        let bare = StoredResponse {
            location: None,
            content_type: None,
            body: Vec::new(),
            ..response
        };
        assert_eq!(StoredResponse::decode(&bare.encode()), Some(bare));
        assert_eq!(StoredResponse::decode(b"no head"), None);
    }
}
