//! What `notifier config` hides, as serde `serialize_with` functions: secrets print as
//! `***` (an empty one stays empty, so "not set" still shows), URLs lose their passwords.
//! [`unredacted`] lifts this for one serialization, to write a file another process reads.

use std::cell::Cell;

use secrecy::{ExposeSecret, SecretString};
use serde::Serializer;

thread_local! {
    /// Set only while [`unredacted`] runs on this thread; serializing never awaits.
    static UNREDACTED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `serialize` with every secret written in the clear.
pub(super) fn unredacted<T>(serialize: impl FnOnce() -> T) -> T {
    /// Restores the previous state even if `serialize` panics.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            UNREDACTED.set(self.0);
        }
    }
    let _restore = Restore(UNREDACTED.replace(true));
    serialize()
}

fn redacting() -> bool {
    !UNREDACTED.get()
}

/// A token or key: `***` when set.
pub(super) fn secret<S: Serializer>(
    value: &SecretString,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let value = value.expose_secret();
    if redacting() && !value.is_empty() {
        serializer.serialize_str("***")
    } else {
        serializer.serialize_str(value)
    }
}

/// A list of keys: each `***`.
pub(super) fn secrets<S: Serializer>(
    values: &[SecretString],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let redact = redacting();
    serializer.collect_seq(values.iter().map(|value| {
        let value = value.expose_secret();
        if redact && !value.is_empty() {
            "***"
        } else {
            value
        }
    }))
}

/// A URL that may carry a password: see [`redact_url`].
pub(super) fn url<S: Serializer>(url: &str, serializer: S) -> Result<S::Ok, S::Error> {
    if redacting() {
        serializer.serialize_str(&redact_url(url))
    } else {
        serializer.serialize_str(url)
    }
}

/// `postgres://user:secret@host/db?password=x` → `postgres://user:***@host/db?password=***`:
/// the password in the authority and every query parameter that names a secret.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut redacted = redact_authority(base);
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if names_a_secret(key) => format!("{key}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        redacted.push('?');
        redacted.push_str(&pairs.join("&"));
    }
    redacted
}

/// libpq's `password`/`sslpassword` and anything else that reads like a credential.
fn names_a_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["pass", "secret", "token"]
        .iter()
        .any(|word| key.contains(word))
}

fn redact_authority(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_once('/').map_or((rest, ""), |(a, t)| (a, t));
    match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or_default();
            let slash = if rest.contains('/') { "/" } else { "" };
            format!("{scheme}://{user}:***@{host}{slash}{tail}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords() {
        assert_eq!(
            redact_url("postgres://u:pw@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact_url("postgres://h/x?sslmode=require&password=pw&PassWord=pw2&sslpassword=k"),
            "postgres://h/x?sslmode=require&password=***&PassWord=***&sslpassword=***"
        );
        assert_eq!(
            redact_url("sqlite://data/x.db?mode=rwc"),
            "sqlite://data/x.db?mode=rwc"
        );
    }

    #[test]
    fn unredacted_ends_with_its_closure_even_on_panic() {
        assert!(redacting());
        assert!(!unredacted(redacting));
        let panicked = std::panic::catch_unwind(|| unredacted(|| panic!("mid-serialization")));
        assert!(panicked.is_err());
        assert!(redacting());
    }
}
