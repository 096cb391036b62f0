//! AES-256-GCM sealing of SMTP passwords, and the key's provenance and check.

use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, Generate, Key, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use crate::entities::server_meta;

const NONCE_LEN: usize = 12;
const KEY_CHECK_NAME: &str = "secret_key_check";
const KEY_CHECK_PLAINTEXT: &str = "notifier secret key check";

#[derive(Debug, thiserror::Error)]
pub enum SecretKeyError {
    #[error("security.secret_key must be base64 of exactly 32 bytes")]
    Malformed,
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

/// The cipher built once at start-up; cloning shares nothing mutable.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

impl SecretBox {
    pub fn from_base64(key: &str) -> Result<Self, SecretKeyError> {
        let bytes = BASE64
            .decode(key.trim())
            .map_err(|_| SecretKeyError::Malformed)?;
        let key =
            Key::<Aes256Gcm>::try_from(bytes.as_slice()).map_err(|_| SecretKeyError::Malformed)?;
        Ok(Self {
            cipher: Aes256Gcm::new(&key),
        })
    }

    /// Reads the key file, or creates it with mode 0600 when it does not exist yet.
    pub fn from_file_or_create(path: &Path) -> Result<Self, SecretKeyError> {
        let file_error = |e: std::io::Error| SecretKeyError::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                refuse_exposed(path)?;
                Self::from_base64(&text)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let encoded = BASE64.encode(Key::<Aes256Gcm>::generate());
                if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
                    std::fs::create_dir_all(folder).map_err(file_error)?;
                }
                match write_private(path, &encoded) {
                    Ok(()) => {
                        log::info!("generated a new secret key in {}", path.display());
                        Self::from_base64(&encoded)
                    }
                    // Another instance created it first: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        Self::from_file_or_create(path)
                    }
                    Err(e) => Err(file_error(e)),
                }
            }
            Err(e) => Err(file_error(e)),
        }
    }

    pub fn seal(&self, plaintext: &str) -> String {
        self.seal_bytes(plaintext.as_bytes())
    }

    /// `None` when the value was sealed with another key or is corrupt.
    pub fn open(&self, sealed: &str) -> Option<String> {
        String::from_utf8(self.open_bytes(sealed)?).ok()
    }

    /// As [`SecretBox::seal`], for bytes that need not be text (a stored response).
    pub fn seal_bytes(&self, plaintext: &[u8]) -> String {
        let nonce = Nonce::generate();
        // Encryption with a valid key and an in-memory buffer has no failure mode.
        let ciphertext = self.cipher.encrypt(&nonce, plaintext).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        BASE64.encode(out)
    }

    /// As [`SecretBox::open`], for bytes.
    pub fn open_bytes(&self, sealed: &str) -> Option<Vec<u8>> {
        let bytes = BASE64.decode(sealed).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).ok()?;
        self.cipher.decrypt(&nonce, ciphertext).ok()
    }

    /// Proves this key is the database's: seals a known value on first use, opens it later.
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

/// Creates `path` holding `contents`, readable by the owner only. The file appears whole or
/// not at all (written aside, then linked into place), so an instance starting alongside
/// never reads a half-written key; linking fails with `AlreadyExists` if one beat us to it.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let aside = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&aside).and_then(|mut file| {
        file.write_all(contents.as_bytes())?;
        file.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&aside, path));
    let _ = std::fs::remove_file(&aside);
    linked
}

/// A key that other local users can read protects nothing: refuse to start with it.
#[cfg(unix)]
fn refuse_exposed(path: &Path) -> Result<(), SecretKeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| SecretKeyError::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(SecretKeyError::Exposed {
            path: path.display().to_string(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_exposed(_: &Path) -> Result<(), SecretKeyError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> SecretBox {
        SecretBox::from_base64(&BASE64.encode([7u8; 32])).expect("valid key")
    }

    #[test]
    fn sealed_values_open_with_the_same_key_only() {
        let secret = fresh();
        let sealed = secret.seal("somepassword");
        assert!(!sealed.contains("somepassword"));
        assert_eq!(secret.open(&sealed).as_deref(), Some("somepassword"));
        let other = SecretBox::from_base64(&BASE64.encode([8u8; 32])).expect("valid key");
        assert_eq!(other.open(&sealed), None);
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        let secret = fresh();
        assert_ne!(secret.seal("x"), secret.seal("x"));
    }

    #[test]
    fn malformed_keys_are_rejected() {
        assert!(SecretBox::from_base64("not base64!").is_err());
        assert!(SecretBox::from_base64(&BASE64.encode([1u8; 16])).is_err());
    }
}
