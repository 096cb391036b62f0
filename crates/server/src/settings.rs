//! Typed configuration. Layers, each overriding the previous: the built-in defaults
//! (`config/default.toml`, compiled in), `--config FILE`, then `NOTIFIER__SECTION__KEY`
//! environment variables. Serializing [`Settings`] gives what `notifier config` prints,
//! every secret redacted.

mod lists;
mod redaction;

use std::path::{Path, PathBuf};

use anyhow::Context;
use config::builder::{ConfigBuilder, DefaultState};
use config::{Config, Environment, File, FileFormat};
use notifier_mailer::IpNet;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

pub use redaction::redact_url;

/// Every key's default and its documentation, in one file; compiled in, so the service
/// starts the same from any working directory.
const DEFAULTS: &str = include_str!("../../../config/default.toml");

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub security: SecuritySettings,
    pub smtp: SmtpSettings,
    pub cache: CacheSettings,
    pub delivery: DeliverySettings,
    pub audit: AuditSettings,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: String,
    /// None: one per core.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<usize>,
    pub body_limit: usize,
    pub cors_allowed_origins: Vec<String>,
    /// Seconds a request body may take to arrive (slow bodies get 408).
    pub body_timeout_secs: u64,
    /// The base of `Location` and pagination links, e.g. `https://notifier.example.com`.
    pub public_url: String,
    /// CIDRs whose forwarding headers (`Forwarded`, `X-Forwarded-*`) are believed.
    #[serde(
        deserialize_with = "lists::networks",
        serialize_with = "lists::as_text"
    )]
    pub trusted_proxies: Vec<IpNet>,
    /// Host names requests may be sent to (Django's `ALLOWED_HOSTS`); empty: any.
    pub allowed_hosts: Vec<String>,
    /// When set, `/metrics` requires `Authorization: Bearer <token>`.
    #[serde(serialize_with = "redaction::secret")]
    pub metrics_token: SecretString,
}

#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// May carry a password: shown redacted, never logged as is.
    #[serde(serialize_with = "redaction::url")]
    pub url: String,
    /// None: the backend's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    #[serde(serialize_with = "redaction::secret")]
    pub secret_key: SecretString,
    pub secret_key_file: PathBuf,
    /// Keys that still open values sealed before a rotation; only `secret_key` seals.
    #[serde(serialize_with = "redaction::secrets")]
    pub previous_secret_keys: Vec<SecretString>,
    pub expose_passwords: bool,
    #[serde(serialize_with = "redaction::secret")]
    pub admin_token: SecretString,
    /// 401s one client may get per minute before 429s; 0 turns throttling off.
    pub auth_failures_per_minute: u32,
}

/// The shortest `security.admin_token` accepted: about 190 bits as hex, 160 as base64.
pub const MIN_ADMIN_TOKEN_LEN: usize = 32;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub timeout_secs: u64,
    /// Bounds one whole test or send, every step included.
    pub total_timeout_secs: u64,
    /// Sends of one notifier beyond this many open connections wait for one.
    pub max_connections_per_notifier: usize,
    pub extra_ca_file: String,
    /// AUTH over a connection without TLS to a host other than loopback.
    pub allow_plaintext_auth: bool,
    #[serde(
        deserialize_with = "lists::networks",
        serialize_with = "lists::as_text"
    )]
    pub denied_networks: Vec<IpNet>,
    /// Empty: any address the denied list leaves.
    #[serde(
        deserialize_with = "lists::networks",
        serialize_with = "lists::as_text"
    )]
    pub allowed_networks: Vec<IpNet>,
    /// Empty: any port.
    #[serde(deserialize_with = "lists::ports")]
    pub allowed_ports: Vec<u16>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// MiB the per-instance notifier and list caches may hold in all; 0 turns them off.
    pub max_memory_mb: u64,
}

/// Durable delivery (§9): the outbox's workers, retries and retention.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverySettings {
    /// Concurrent sends by this instance's workers (0: this instance sends nothing queued).
    pub workers: usize,
    /// Automatic attempts per delivery before it fails (a manual retry grants as many again).
    pub max_attempts: u32,
    /// How long a claim holds a delivery; at least `smtp.total_timeout_secs`.
    pub lease_secs: u64,
    /// Finished deliveries older than this many days are deleted.
    pub retention_days: u64,
}

/// The audit log (§12).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    /// Records older than this many days are deleted.
    pub retention_days: u64,
}

impl Settings {
    /// The built-in defaults alone: what [`Settings::load`] gives when nothing overrides.
    pub fn defaults() -> anyhow::Result<Settings> {
        Self::build(defaults_layer())
    }

    /// Loads every layer; `config_file` adds a file between the defaults and the
    /// environment.
    pub fn load(config_file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut builder = defaults_layer();
        if let Some(path) = config_file {
            let name = path
                .to_str()
                .context("the --config path is not valid UTF-8")?;
            builder = builder.add_source(File::new(name, FileFormat::Toml).required(true));
        }
        Self::build(builder.add_source(environment_layer()))
    }

    fn build(builder: ConfigBuilder<DefaultState>) -> anyhow::Result<Settings> {
        let settings: Settings = builder
            .build()
            .context("cannot read the configuration")?
            .try_deserialize()
            .context("invalid configuration")?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if notifier_persistence::Backend::of_url(&self.database.url).is_none() {
            anyhow::bail!("database.url must start with sqlite:, postgres:// or postgresql://");
        }
        if self.server.body_limit == 0 {
            anyhow::bail!("server.body_limit must be at least 1");
        }
        if self.smtp.timeout_secs == 0 {
            anyhow::bail!("smtp.timeout_secs must be at least 1");
        }
        if self.smtp.total_timeout_secs == 0 {
            anyhow::bail!("smtp.total_timeout_secs must be at least 1");
        }
        if self.smtp.max_connections_per_notifier == 0 {
            anyhow::bail!("smtp.max_connections_per_notifier must be at least 1");
        }
        if self.server.body_timeout_secs == 0 {
            anyhow::bail!("server.body_timeout_secs must be at least 1");
        }
        if self.delivery.max_attempts == 0 {
            anyhow::bail!("delivery.max_attempts must be at least 1");
        }
        // A lease that ran out while its send was still going would let a second worker
        // send the same message. Equal is accepted: both default to 60, and an exchange
        // stopped by its deadline is recorded within moments of it.
        if self.delivery.lease_secs < self.smtp.total_timeout_secs {
            anyhow::bail!(
                "delivery.lease_secs ({}) must not be smaller than smtp.total_timeout_secs ({})",
                self.delivery.lease_secs,
                self.smtp.total_timeout_secs
            );
        }
        let admin_token = self.security.admin_token.expose_secret().trim();
        if !admin_token.is_empty() && admin_token.chars().count() < MIN_ADMIN_TOKEN_LEN {
            anyhow::bail!(
                "security.admin_token is too short: use at least {MIN_ADMIN_TOKEN_LEN} random characters (e.g. `head -c 24 /dev/urandom | base64`)"
            );
        }
        let public_url = self.server.public_url.trim();
        let web_url = public_url.starts_with("http://") || public_url.starts_with("https://");
        if !public_url.is_empty() && !web_url {
            anyhow::bail!("server.public_url must start with http:// or https://");
        }
        Ok(())
    }

    /// The effective configuration as `notifier config` prints it: TOML with the database
    /// password, secret key and tokens replaced by `***`, safe to paste into a ticket.
    pub fn redacted_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(self)
    }

    /// Every value in the clear: a configuration file for another process to load (the
    /// black-box tests' servers). Never print it.
    pub fn to_toml_unredacted(&self) -> Result<String, toml::ser::Error> {
        redaction::unredacted(|| toml::to_string(self))
    }
}

fn defaults_layer() -> ConfigBuilder<DefaultState> {
    Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml))
}

/// `NOTIFIER__SECTION__KEY`; list keys also take a comma-separated value.
fn environment_layer() -> Environment {
    Environment::with_prefix("NOTIFIER")
        .prefix_separator("__")
        .separator("__")
        .try_parsing(true)
        .list_separator(",")
        .with_list_parse_key("server.cors_allowed_origins")
        .with_list_parse_key("server.trusted_proxies")
        .with_list_parse_key("server.allowed_hosts")
        .with_list_parse_key("smtp.denied_networks")
        .with_list_parse_key("smtp.allowed_networks")
        .with_list_parse_key("smtp.allowed_ports")
        .with_list_parse_key("security.previous_secret_keys")
}

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, RandomState};

    use notifier_mailer::DEFAULT_DENIED_NETWORKS;

    use super::*;

    #[test]
    fn the_defaults_file_documents_every_key() {
        let mut settings = Settings::defaults().expect("the defaults load");
        // The optional keys, set so that they are written too.
        settings.server.workers = Some(2);
        settings.database.max_connections = Some(16);
        let written = settings.to_toml_unredacted().expect("serializes");
        let mut section = "";
        for line in written.lines().filter(|line| !line.is_empty()) {
            if let Some(name) = line.strip_prefix('[') {
                section = defaults_section(name.trim_end_matches(']'));
                continue;
            }
            let key = line.split(" = ").next().unwrap_or(line);
            let documented = section.lines().any(|documented| {
                let documented = documented.trim_start_matches("# ");
                documented.starts_with(&format!("{key} = "))
            });
            assert!(documented, "{line:?} is not in config/default.toml");
        }
    }

    /// The text of `[name]` in config/default.toml, up to the next section.
    fn defaults_section(name: &str) -> &'static str {
        let header = format!("\n[{name}]\n");
        let start = DEFAULTS
            .find(&header)
            .map_or(DEFAULTS.len(), |at| at + header.len());
        let text = &DEFAULTS[start..];
        &text[..text.find("\n[").unwrap_or(text.len())]
    }

    #[test]
    fn printed_configuration_hides_every_secret() {
        let mut settings = Settings::defaults().expect("the defaults load");
        settings.database.url = "postgres://app:db-password@db/notifier".into();
        settings.security.secret_key = SecretString::from("a2V5LWtleS1rZXk=");
        settings.security.admin_token = SecretString::from("admin-token-value");
        settings.server.metrics_token = SecretString::from("metrics-token-value");
        settings.security.previous_secret_keys = vec![SecretString::from("b2xkLWtleS1vbGQ=")];
        let printed = settings.redacted_toml().expect("serializes");
        assert!(
            printed.contains("previous_secret_keys = [\"***\"]"),
            "{printed}"
        );
        for secret in [
            "db-password",
            "b2xkLWtleS1vbGQ=",
            "a2V5LWtleS1rZXk=",
            "admin-token-value",
            "metrics-token-value",
        ] {
            assert!(!printed.contains(secret), "{secret} leaked:\n{printed}");
        }
        assert!(
            printed.contains("url = \"postgres://app:***@db/notifier\""),
            "{printed}"
        );
        assert!(printed.contains("admin_token = \"***\""), "{printed}");
    }

    #[test]
    fn unset_secrets_print_as_unset() {
        let printed = Settings::defaults()
            .expect("the defaults load")
            .redacted_toml()
            .expect("serializes");
        for line in [
            "metrics_token = \"\"\n",
            "secret_key = \"\"\n",
            "admin_token = \"\"\n",
        ] {
            assert!(printed.contains(line), "{line:?} missing from:\n{printed}");
        }
    }

    #[test]
    fn unredacted_toml_loads_back_as_it_was() {
        let mut settings = Settings::defaults().expect("the defaults load");
        settings.server.workers = Some(3);
        settings.server.trusted_proxies = vec!["10.0.0.0/8".parse().expect("a CIDR")];
        settings.database.url = "postgres://app:db-password@db/notifier?password=x".into();
        settings.security.admin_token = SecretString::from("an-admin-token-of-32-characters!");
        settings.security.secret_key = SecretString::from("a2V5LWtleS1rZXk=");
        settings.smtp.allowed_ports = vec![25, 587];
        let written = settings.to_toml_unredacted().expect("serializes");
        let path = temp_config_path(&written);
        std::fs::write(&path, &written).expect("write the config");
        let loaded = Settings::load(Some(&path));
        let _ = std::fs::remove_file(&path);
        let rewritten = loaded.expect("loads").to_toml_unredacted();
        assert_eq!(rewritten.expect("serializes"), written);
        assert!(written.contains("db-password"), "{written}");
    }

    #[test]
    fn smtp_defaults_are_the_mailers() {
        let smtp = Settings::defaults().expect("the defaults load").smtp;
        assert_eq!(smtp.total_timeout_secs, 60);
        assert!(!smtp.allow_plaintext_auth);
        assert_eq!(smtp.denied_networks, DEFAULT_DENIED_NETWORKS);
        assert!(smtp.allowed_networks.is_empty());
        assert!(smtp.allowed_ports.is_empty());
    }

    /// A file name of its own (RandomState is seeded per instance): tests run in parallel.
    fn temp_config_path(text: &str) -> PathBuf {
        let name = format!(
            "notifier-settings-{}-{:x}.toml",
            std::process::id(),
            RandomState::new().hash_one(text)
        );
        std::env::temp_dir().join(name)
    }

    /// Loads a config file of `[smtp]` lines; the error as `main` prints it, on one line.
    fn load_smtp(lines: &str) -> Result<SmtpSettings, String> {
        let path = temp_config_path(lines);
        std::fs::write(&path, format!("[smtp]\n{lines}")).expect("write the config");
        let loaded = Settings::load(Some(&path));
        let _ = std::fs::remove_file(&path);
        loaded.map(|s| s.smtp).map_err(|e| format!("{e:#}"))
    }

    #[test]
    fn smtp_networks_take_cidr_or_single_addresses() {
        let smtp = load_smtp(
            "denied_networks = [\"10.0.0.0/8\", \" 192.0.2.7 \", \"\", \"fe80::/10\"]\n\
             allowed_networks = [\"::1\"]\nallowed_ports = [25, 587]\ntotal_timeout_secs = 5\n",
        )
        .expect("loads");
        let printed: Vec<String> = smtp.denied_networks.iter().map(|n| n.to_string()).collect();
        assert_eq!(printed, ["10.0.0.0/8", "192.0.2.7/32", "fe80::/10"]);
        assert_eq!(smtp.allowed_networks[0].to_string(), "::1/128");
        assert_eq!(smtp.allowed_ports, [25, 587]);
        assert_eq!(smtp.total_timeout_secs, 5);
    }

    #[test]
    fn bad_smtp_values_stop_the_start_naming_the_key() {
        let cases = [
            (
                "denied_networks = [\"10.0.0.0/33\"]",
                "smtp.denied_networks",
            ),
            (
                "allowed_networks = [\"example.com\"]",
                "smtp.allowed_networks",
            ),
            ("allowed_ports = [0]", "smtp.allowed_ports"),
            ("allowed_ports = [70000]", "smtp.allowed_ports"),
            (
                "total_timeout_secs = 0",
                "smtp.total_timeout_secs must be at least 1",
            ),
        ];
        for (line, key) in cases {
            let err = load_smtp(&format!("{line}\n")).expect_err(line);
            assert!(err.contains(key), "{line}: {err}");
            assert!(!err.contains('\n'), "{line}: {err}");
        }
    }

    #[test]
    fn printed_configuration_shows_the_smtp_policy() {
        let settings = Settings::defaults().expect("the defaults load");
        let printed = settings.redacted_toml().expect("serializes");
        for line in [
            "total_timeout_secs = 60\n",
            "max_connections_per_notifier = 4\n",
            "allow_plaintext_auth = false\n",
            "denied_networks = [\"169.254.0.0/16\", \"fe80::/10\", \"0.0.0.0/8\", \"::/128\", \
             \"224.0.0.0/4\", \"ff00::/8\", \"255.255.255.255/32\"]\n",
            "allowed_networks = []\n",
            "allowed_ports = []\n",
        ] {
            assert!(printed.contains(line), "{line:?} missing from:\n{printed}");
        }
    }
}
