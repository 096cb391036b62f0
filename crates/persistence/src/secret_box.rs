//! AES-256-GCM sealing of secrets at rest under a key ring, and the key's check.
//!
//! A sealed value reads `v2:<key id>:<base64 of nonce and ciphertext>`; the key id is the
//! first 4 bytes of a SHA-256 of the key, in hex (it tells keys apart and reveals nothing
//! of them). Values sealed before key ids existed are the bare base64 part: they are
//! opened by trying each key of the ring, and `keys rotate` rewrites them. New values are
//! always sealed with the primary key; the previous keys only open.

use aes_gcm::aead::{Aead, Generate, Key, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use sha2::{Digest, Sha256};

use crate::entities::server_meta;

const NONCE_LEN: usize = 12;
/// Marks a value that names its key (base64's alphabet has no `:`).
const VERSION: &str = "v2:";
pub(crate) const KEY_CHECK_NAME: &str = "secret_key_check";
const KEY_CHECK_PLAINTEXT: &str = "notifier secret key check";

#[derive(Debug, thiserror::Error)]
pub enum SecretKeyError {
    #[error("security.secret_key must be base64 of exactly 32 bytes")]
    Malformed,
    #[error("security.previous_secret_keys: entry {0} is not base64 of exactly 32 bytes")]
    MalformedPrevious(usize),
    #[error("cannot read or create the secret key file {path}: {reason}")]
    File { path: String, reason: String },
    #[error(
        "the secret key file {path} is readable by group or others (mode {mode:04o}); run `chmod 600 {path}`"
    )]
    Exposed { path: String, mode: u32 },
    #[error(
        "the configured secret key is not the one this database's passwords were encrypted with"
    )]
    WrongKey,
    #[error("cannot check the secret key against the database")]
    Database(#[from] sea_orm::DbErr),
}

/// A new random key, as `security.secret_key` takes it.
pub fn generate_key_base64() -> String {
    BASE64.encode(Key::<Aes256Gcm>::generate())
}

#[derive(Clone)]
struct RingKey {
    /// The key id, hex, as written in sealed values.
    id: String,
    cipher: Aes256Gcm,
}

impl RingKey {
    fn from_base64(key: &str) -> Option<Self> {
        let bytes = BASE64.decode(key.trim()).ok()?;
        let key = Key::<Aes256Gcm>::try_from(bytes.as_slice()).ok()?;
        let hash = Sha256::new()
            .chain_update(b"notifier key id\0")
            .chain_update(key.as_slice())
            .finalize();
        Some(Self {
            id: hex::encode(&hash[..4]),
            cipher: Aes256Gcm::new(&key),
        })
    }

    fn open(&self, encoded: &str) -> Option<Vec<u8>> {
        let bytes = BASE64.decode(encoded).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).ok()?;
        self.cipher.decrypt(&nonce, ciphertext).ok()
    }
}

/// The ciphers built once at start-up; cloning shares nothing mutable.
#[derive(Clone)]
pub struct SecretBox {
    primary: RingKey,
    previous: Vec<RingKey>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

impl SecretBox {
    /// A ring of one key, the primary.
    pub fn from_base64(key: &str) -> Result<Self, SecretKeyError> {
        let primary = RingKey::from_base64(key).ok_or(SecretKeyError::Malformed)?;
        Ok(Self {
            primary,
            previous: Vec::new(),
        })
    }

    /// Adds keys that still open values (`security.previous_secret_keys`), in order.
    pub fn with_previous<S: AsRef<str>>(mut self, keys: &[S]) -> Result<Self, SecretKeyError> {
        for (index, key) in keys.iter().enumerate() {
            let key = RingKey::from_base64(key.as_ref())
                .ok_or(SecretKeyError::MalformedPrevious(index))?;
            // The primary under another name would only cost a failed decryption.
            if key.id != self.primary.id {
                self.previous.push(key);
            }
        }
        Ok(self)
    }

    pub fn seal(&self, plaintext: &str) -> String {
        self.seal_bytes(plaintext.as_bytes())
    }

    /// `None` when no key of the ring opens the value, or it is corrupt.
    pub fn open(&self, sealed: &str) -> Option<String> {
        String::from_utf8(self.open_bytes(sealed)?).ok()
    }

    /// As [`SecretBox::seal`], for bytes that need not be text (a stored response).
    pub fn seal_bytes(&self, plaintext: &[u8]) -> String {
        let nonce = Nonce::generate();
        // Encryption with a valid key and an in-memory buffer has no failure mode.
        let ciphertext = self
            .primary
            .cipher
            .encrypt(&nonce, plaintext)
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        format!("{}{}", self.primary_prefix(), BASE64.encode(out))
    }

    /// As [`SecretBox::open`], for bytes.
    pub fn open_bytes(&self, sealed: &str) -> Option<Vec<u8>> {
        let keys = std::iter::once(&self.primary).chain(&self.previous);
        match sealed.strip_prefix(VERSION) {
            Some(rest) => {
                let (id, encoded) = rest.split_once(':')?;
                keys.filter(|key| key.id == id)
                    .find_map(|key| key.open(encoded))
            }
            // Sealed before values named their key: GCM's tag tells the right one.
            None => keys.into_iter().find_map(|key| key.open(sealed)),
        }
    }

    /// What every value sealed with the primary key starts with.
    pub fn primary_prefix(&self) -> String {
        format!("{VERSION}{}:", self.primary.id)
    }

    /// The same secret sealed with the primary key; `None` when no key opens it.
    pub fn reseal(&self, sealed: &str) -> Option<String> {
        self.open_bytes(sealed).map(|plain| self.seal_bytes(&plain))
    }

    /// Proves the ring holds the database's key: seals a known value on first use and
    /// opens it later with any key of the ring (`keys rotate` reseals it with the
    /// primary, so the old key can go).
    pub async fn verify(&self, db: &impl ConnectionTrait) -> Result<(), SecretKeyError> {
        match server_meta::Entity::find_by_id(KEY_CHECK_NAME)
            .one(db)
            .await?
        {
            Some(row) if self.open(&row.value).as_deref() == Some(KEY_CHECK_PLAINTEXT) => Ok(()),
            Some(_) => Err(SecretKeyError::WrongKey),
            None => {
                let row = server_meta::ActiveModel {
                    name: Set(KEY_CHECK_NAME.to_owned()),
                    value: Set(self.seal(KEY_CHECK_PLAINTEXT)),
                };
                // Another instance may have written its check first; then verify against it.
                let inserted = server_meta::Entity::insert(row)
                    .on_conflict_do_nothing()
                    .exec(db)
                    .await;
                match inserted {
                    Ok(_) | Err(sea_orm::DbErr::RecordNotInserted) => {
                        Box::pin(self.verify(db)).await
                    }
                    Err(e) => Err(e.into()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> String {
        BASE64.encode([byte; 32])
    }

    fn ring(primary: u8) -> SecretBox {
        SecretBox::from_base64(&key(primary)).expect("valid key")
    }

    /// A value as it was sealed before key ids: bare base64 of nonce and ciphertext.
    fn legacy_seal(key_byte: u8, plaintext: &str) -> String {
        let sealed = ring(key_byte).seal(plaintext);
        sealed.rsplit(':').next().expect("three parts").to_owned()
    }

    #[test]
    fn sealed_values_open_with_the_same_key_only() {
        let secret = ring(7);
        let sealed = secret.seal("somepassword");
        assert!(!sealed.contains("somepassword"));
        assert_eq!(secret.open(&sealed).as_deref(), Some("somepassword"));
        assert_eq!(ring(8).open(&sealed), None);
    }

    #[test]
    fn sealed_values_name_the_primary_key() {
        let secret = ring(7);
        let sealed = secret.seal("x");
        assert!(sealed.starts_with(&secret.primary_prefix()), "{sealed}");
        assert_ne!(secret.primary_prefix(), ring(8).primary_prefix());
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        let secret = ring(7);
        assert_ne!(secret.seal("x"), secret.seal("x"));
    }

    #[test]
    fn malformed_keys_are_rejected() {
        assert!(SecretBox::from_base64("not base64!").is_err());
        assert!(SecretBox::from_base64(&BASE64.encode([1u8; 16])).is_err());
        assert!(matches!(
            ring(7).with_previous(&[key(8), "short".into()]),
            Err(SecretKeyError::MalformedPrevious(1))
        ));
    }

    #[test]
    fn previous_keys_open_but_only_the_primary_seals() {
        let old = ring(7).seal("secret");
        let rotated = ring(8).with_previous(&[key(7)]).expect("valid keys");
        assert_eq!(rotated.open(&old).as_deref(), Some("secret"));
        let resealed = rotated.reseal(&old).expect("opens");
        assert!(resealed.starts_with(&rotated.primary_prefix()));
        assert_eq!(ring(8).open(&resealed).as_deref(), Some("secret"));
        assert_eq!(ring(7).open(&resealed), None);
    }

    #[test]
    fn values_sealed_before_key_ids_still_open_with_any_key_of_the_ring() {
        let legacy = legacy_seal(7, "somepassword");
        assert!(!legacy.contains(':'));
        assert_eq!(ring(7).open(&legacy).as_deref(), Some("somepassword"));
        let rotated = ring(8).with_previous(&[key(7)]).expect("valid keys");
        assert_eq!(rotated.open(&legacy).as_deref(), Some("somepassword"));
        assert_eq!(ring(9).open(&legacy), None);
    }

    #[test]
    fn generated_keys_are_usable_and_differ() {
        let generated = generate_key_base64();
        assert!(SecretBox::from_base64(&generated).is_ok());
        assert_ne!(generated, generate_key_base64());
    }
}
