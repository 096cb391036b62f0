//! The email notifier entity and the validated inputs that create or change one.

use std::fmt;

use chrono::{DateTime, Utc};

/// What responses show instead of a password, and what a PATCH/PUT sends to keep it.
pub const MASKED_PASSWORD: &str = "********";

/// An SMTP password in clear, in memory only; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(clear: impl Into<String>) -> Self {
        Self(clear.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASKED_PASSWORD)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notifier {
    pub id: i64,
    pub name: String,
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: Password,
    pub from_email: String,
    pub use_tls: bool,
    pub use_ssl: bool,
    pub fail_silently: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A validated create request, port already defaulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotifier {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: Password,
    pub from_email: String,
    pub use_tls: bool,
    pub use_ssl: bool,
    pub fail_silently: bool,
}

/// A validated update: `None` leaves the stored value as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifierChanges {
    pub name: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub username: Option<String>,
    pub password: Option<Password>,
    pub from_email: Option<String>,
    pub use_tls: Option<bool>,
    pub use_ssl: Option<bool>,
    pub fail_silently: Option<bool>,
}

impl NotifierChanges {
    /// Writes the changes into `notifier`; timestamps are the caller's business.
    pub fn apply_to(self, notifier: &mut Notifier) {
        fn set<T>(slot: &mut T, value: Option<T>) {
            if let Some(value) = value {
                *slot = value;
            }
        }
        set(&mut notifier.name, self.name);
        set(&mut notifier.host, self.host);
        set(&mut notifier.port, self.port);
        set(&mut notifier.username, self.username);
        set(&mut notifier.password, self.password);
        set(&mut notifier.from_email, self.from_email);
        set(&mut notifier.use_tls, self.use_tls);
        set(&mut notifier.use_ssl, self.use_ssl);
        set(&mut notifier.fail_silently, self.fail_silently);
    }
}

/// The port a create without one gets: implicit TLS 465, STARTTLS 587, plain 25.
pub fn default_port(use_tls: bool, use_ssl: bool) -> u16 {
    match (use_ssl, use_tls) {
        (true, _) => 465,
        (false, true) => 587,
        (false, false) => 25,
    }
}

/// The key that makes names unique regardless of case.
pub fn name_key(name: &str) -> String {
    name.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_defaults_follow_the_tls_mode() {
        assert_eq!(default_port(true, true), 465);
        assert_eq!(default_port(false, true), 465);
        assert_eq!(default_port(true, false), 587);
        assert_eq!(default_port(false, false), 25);
    }

    #[test]
    fn password_debug_is_masked() {
        assert_eq!(format!("{:?}", Password::new("hunter2")), "********");
    }
}
