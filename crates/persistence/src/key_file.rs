//! The secret key file: read at start-up, or generated (mode 0600) on first start.

use std::io::Write;
use std::path::Path;

use crate::secret_box::{SecretBox, SecretKeyError, generate_key_base64};

impl SecretBox {
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
                let encoded = generate_key_base64();
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
