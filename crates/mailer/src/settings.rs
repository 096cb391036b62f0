//! What a send needs to know: the process-wide [`MailerConfig`] and one notifier's settings.

use std::fmt;
use std::time::Duration;

use ipnet::IpNet;

use crate::dkim::DkimSettings;
use crate::policy::DEFAULT_DENIED_NETWORKS;

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsMode {
    /// Plain text from start to end.
    None,
    /// Plain text, then STARTTLS; a server that does not offer it is an error.
    StartTls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Implicit,
}

impl TlsMode {
    /// Maps a notifier's `use_tls` / `use_ssl` flags; implicit TLS wins when both are set.
    pub fn from_flags(use_tls: bool, use_ssl: bool) -> Self {
        if use_ssl {
            Self::Implicit
        } else if use_tls {
            Self::StartTls
        } else {
            Self::None
        }
    }
}

/// Settings shared by every send, from the `smtp.*` configuration keys. Build it with
/// `..MailerConfig::default()` so that a field added later does not break the caller.
#[derive(Debug, Clone)]
pub struct MailerConfig {
    /// Limit on each step: resolving, connecting, each command (`smtp.timeout_secs`).
    pub timeout: Duration,
    /// Limit on one whole check or send, every step included (`smtp.total_timeout_secs`).
    pub total_timeout: Duration,
    /// Connections one notifier's sends may hold at once; more sends wait for one
    /// (`smtp.max_connections_per_notifier`).
    pub max_connections_per_notifier: usize,
    /// PEM bundle of extra trusted root CAs (the contents of `smtp.extra_ca_file`).
    pub extra_ca_pem: Option<Vec<u8>>,
    /// Lets AUTH go over a connection without TLS to other hosts than loopback
    /// (`smtp.allow_plaintext_auth`).
    pub allow_plaintext_auth: bool,
    /// Addresses never connected to (`smtp.denied_networks`).
    pub denied_networks: Vec<IpNet>,
    /// When not empty, the only addresses connected to (`smtp.allowed_networks`).
    pub allowed_networks: Vec<IpNet>,
    /// When not empty, the only ports connected to (`smtp.allowed_ports`).
    pub allowed_ports: Vec<u16>,
}

impl Default for MailerConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(60),
            max_connections_per_notifier: 4,
            extra_ca_pem: None,
            allow_plaintext_auth: false,
            denied_networks: DEFAULT_DENIED_NETWORKS.to_vec(),
            allowed_networks: Vec::new(),
            allowed_ports: Vec::new(),
        }
    }
}

/// How a notifier logs in to its server (its `/authentication` sub-resource).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SmtpAuth {
    /// AUTH PLAIN or LOGIN with [`SmtpSettings::username`] and [`SmtpSettings::password`],
    /// when both are set (as Django's backend).
    Password,
    /// No AUTH command: a relay that accepts mail from trusted hosts.
    None,
    /// SASL XOAUTH2 as [`SmtpSettings::username`], with an access token from an OAuth2
    /// token endpoint.
    XOAuth2(XOAuth2),
}

/// Where and how to get XOAUTH2 access tokens (RFC 6749 token endpoint).
#[derive(Clone, PartialEq, Eq)]
pub struct XOAuth2 {
    /// An `https` URL.
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub scope: String,
    /// The `refresh_token` grant's token; `None` for the `client_credentials` grant.
    pub refresh_token: Option<String>,
}

// By hand: a refresh token the endpoint rotated is the same login, so neither the pooled
// connections nor the cached access token are dropped for it (an endpoint that rotates
// on every use would otherwise cost a token per send).
impl std::hash::Hash for XOAuth2 {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.token_url.hash(state);
        self.client_id.hash(state);
        self.client_secret.hash(state);
        self.scope.hash(state);
        self.refresh_token.is_some().hash(state);
    }
}

// By hand so that a `{:?}` never prints a secret.
impl fmt::Debug for XOAuth2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XOAuth2")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"********")
            .field("scope", &self.scope)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "********"),
            )
            .finish()
    }
}

/// One notifier's SMTP settings, as stored (password decrypted).
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
    /// How to log in; `username` and `password` are used only by [`SmtpAuth::Password`].
    pub auth: SmtpAuth,
    pub from_email: String,
    pub tls: TlsMode,
    /// When set, every message sent is DKIM-signed with it.
    pub dkim: Option<DkimSettings>,
}

// By hand so that a `{:?}` in a log line can never print the password.
impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &"********")
            .field("auth", &self.auth)
            .field("from_email", &self.from_email)
            .field("tls", &self.tls)
            .field("dkim", &self.dkim)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_flags_prefers_implicit_tls() {
        let cases = [
            (false, false, TlsMode::None),
            (true, false, TlsMode::StartTls),
            (false, true, TlsMode::Implicit),
            (true, true, TlsMode::Implicit),
        ];
        for (use_tls, use_ssl, expected) in cases {
            assert_eq!(
                TlsMode::from_flags(use_tls, use_ssl),
                expected,
                "use_tls={use_tls} use_ssl={use_ssl}"
            );
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let settings = SmtpSettings {
            host: "smtp.example.com".into(),
            port: 587,
            username: "user".into(),
            password: "hunter2".into(),
            auth: SmtpAuth::Password,
            from_email: "a@example.com".into(),
            tls: TlsMode::StartTls,
            dkim: None,
        };
        let text = format!("{settings:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("smtp.example.com"), "{text}");
    }
}
