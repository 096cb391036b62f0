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

/// Where a stored password is sent: the server and whether the link is encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub host: String,
    pub port: u16,
    pub use_tls: bool,
    pub use_ssl: bool,
}

impl Notifier {
    pub fn destination(&self) -> Destination {
        Destination {
            host: self.host.clone(),
            port: self.port,
            use_tls: self.use_tls,
            use_ssl: self.use_ssl,
        }
    }
}

impl NotifierChanges {
    /// Could these changes move the stored password somewhere else? Only then is the
    /// stored row worth reading before the write.
    pub fn may_move_password(&self) -> bool {
        self.password.is_none()
            && (self.host.is_some()
                || self.port.is_some()
                || self.use_tls == Some(false)
                || self.use_ssl == Some(false))
    }

    /// §11: the stored password follows its destination. Changing the host or port, or
    /// turning TLS off (neither flag left on when one was on), without a new password
    /// would let whoever may update a notifier collect the password at a server of their
    /// choosing.
    pub fn moves_password_from(&self, before: &Destination) -> bool {
        if self.password.is_some() {
            return false;
        }
        let host_changes = self.host.as_ref().is_some_and(|host| *host != before.host);
        let port_changes = self.port.is_some_and(|port| port != before.port);
        let encrypted_before = before.use_tls || before.use_ssl;
        let encrypted_after =
            self.use_tls.unwrap_or(before.use_tls) || self.use_ssl.unwrap_or(before.use_ssl);
        host_changes || port_changes || (encrypted_before && !encrypted_after)
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
    fn a_new_destination_needs_the_password_again() {
        let before = Destination {
            host: "smtp.example.com".into(),
            port: 587,
            use_tls: true,
            use_ssl: false,
        };
        let change = |host: Option<&str>, port, use_tls, use_ssl| NotifierChanges {
            host: host.map(str::to_owned),
            port,
            use_tls,
            use_ssl,
            ..NotifierChanges::default()
        };
        let cases = [
            (
                change(Some("evil.example.com"), None, None, None),
                true,
                "new host",
            ),
            (
                change(Some("smtp.example.com"), None, None, None),
                false,
                "same host",
            ),
            (change(None, Some(2525), None, None), true, "new port"),
            (change(None, Some(587), None, None), false, "same port"),
            (change(None, None, Some(false), None), true, "STARTTLS off"),
            (
                change(None, None, Some(false), Some(true)),
                false,
                "STARTTLS to implicit",
            ),
            (
                change(None, None, None, Some(false)),
                false,
                "SSL was off already",
            ),
            (
                change(None, None, Some(true), Some(true)),
                false,
                "more TLS",
            ),
        ];
        for (changes, expected, case) in cases {
            assert_eq!(changes.moves_password_from(&before), expected, "{case}");
            if expected {
                assert!(changes.may_move_password(), "{case}");
            }
            let with_password = NotifierChanges {
                password: Some(Password::new("new")),
                ..changes
            };
            assert!(
                !with_password.moves_password_from(&before),
                "{case} + password"
            );
        }
        let plain = Destination {
            use_tls: false,
            ..before
        };
        assert!(!change(None, None, Some(false), Some(false)).moves_password_from(&plain));
    }

    #[test]
    fn password_debug_is_masked() {
        assert_eq!(format!("{:?}", Password::new("hunter2")), "********");
    }
}
