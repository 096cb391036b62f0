//! Typed configuration: built-in defaults, `config/default.toml`, `--config FILE`, then
//! `NOTIFIER__SECTION__KEY` environment variables, each layer overriding the previous.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use config::{Config, Environment, File, FileFormat};
use notifier_mailer::{DEFAULT_DENIED_NETWORKS, IpNet};
use secrecy::{ExposeSecret, SecretString};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

const SHIPPED_CONFIG: &str = "config/default.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub security: SecuritySettings,
    pub smtp: SmtpSettings,
    pub cache: CacheSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: String,
    pub workers: Option<usize>,
    pub body_limit: usize,
    #[serde(default)]
    pub cors_allowed_origins: Vec<String>,
    /// Seconds a request body may take to arrive (slow bodies get 408).
    pub body_timeout_secs: u64,
    /// The base of `Location` and pagination links, e.g. `https://notifier.example.com`.
    pub public_url: String,
    /// CIDRs whose forwarding headers (`Forwarded`, `X-Forwarded-*`) are believed.
    #[serde(deserialize_with = "networks")]
    pub trusted_proxies: Vec<IpNet>,
    /// Host names requests may be sent to (Django's `ALLOWED_HOSTS`); empty: any.
    pub allowed_hosts: Vec<String>,
    /// When set, `/metrics` requires `Authorization: Bearer <token>`.
    pub metrics_token: SecretString,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// May carry a password: shown redacted, never logged as is.
    pub url: String,
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    pub secret_key: SecretString,
    pub secret_key_file: PathBuf,
    pub expose_passwords: bool,
    pub admin_token: SecretString,
    /// 401s one client may get per minute before 429s; 0 turns throttling off.
    pub auth_failures_per_minute: u32,
}

/// The shortest `security.admin_token` accepted: about 190 bits as hex, 160 as base64.
pub const MIN_ADMIN_TOKEN_LEN: usize = 32;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub timeout_secs: u64,
    pub extra_ca_file: String,
    /// Bounds one whole test or send, every step included.
    pub total_timeout_secs: u64,
    /// AUTH over a connection without TLS to a host other than loopback.
    pub allow_plaintext_auth: bool,
    #[serde(deserialize_with = "networks")]
    pub denied_networks: Vec<IpNet>,
    /// Empty: any address the denied list leaves.
    #[serde(deserialize_with = "networks")]
    pub allowed_networks: Vec<IpNet>,
    /// Empty: any port.
    #[serde(deserialize_with = "ports")]
    pub allowed_ports: Vec<u16>,
}

impl SmtpSettings {
    /// The `[smtp]` section as `notifier config` prints it.
    fn toml(&self) -> String {
        let list = |items: Vec<String>| items.join(", ");
        let networks =
            |nets: &[IpNet]| list(nets.iter().map(|n| toml_string(&n.to_string())).collect());
        format!(
            "[smtp]\ntimeout_secs = {}\ntotal_timeout_secs = {}\nextra_ca_file = {}\n\
             allow_plaintext_auth = {}\ndenied_networks = [{}]\nallowed_networks = [{}]\n\
             allowed_ports = [{}]\n",
            self.timeout_secs,
            self.total_timeout_secs,
            toml_string(&self.extra_ca_file),
            self.allow_plaintext_auth,
            networks(&self.denied_networks),
            networks(&self.allowed_networks),
            list(self.allowed_ports.iter().map(u16::to_string).collect()),
        )
    }
}

/// `smtp.denied_networks` when nothing is configured: the mailer's list, as text.
fn default_denied_networks() -> Vec<String> {
    DEFAULT_DENIED_NETWORKS
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// CIDR networks (`10.0.0.0/8`, `fe80::/10`) or single addresses. Blank entries are
/// skipped, so an empty environment variable empties the list. The config crate adds the
/// key to the error.
fn networks<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|entry| entry.trim())
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let parsed = entry
                .parse::<IpNet>()
                .ok()
                .or_else(|| entry.parse::<IpAddr>().ok().map(IpNet::from));
            parsed.ok_or_else(|| {
                D::Error::custom(format!(
                    "{entry:?} is not a network in CIDR notation (e.g. 10.0.0.0/8)"
                ))
            })
        })
        .collect()
}

/// Port numbers, from a TOML list or a comma-separated environment variable. The config
/// crate reads a variable holding one number (`587`) as that number, not as a list, and
/// the list's entries as text.
fn ports<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u16>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Entry {
        Number(i64),
        Text(String),
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Ports {
        One(i64),
        Many(Vec<Entry>),
    }
    let entries = match Ports::deserialize(d)? {
        Ports::One(port) => vec![Entry::Number(port)],
        Ports::Many(entries) => entries,
    };
    let mut ports = Vec::with_capacity(entries.len());
    for entry in entries {
        let text = match entry {
            Entry::Number(n) => n.to_string(),
            Entry::Text(text) if text.trim().is_empty() => continue,
            Entry::Text(text) => text.trim().to_owned(),
        };
        match text.parse::<u16>() {
            Ok(port) if port > 0 => ports.push(port),
            _ => {
                return Err(D::Error::custom(format!(
                    "{text:?} is not a port (1 to 65535)"
                )));
            }
        }
    }
    Ok(ports)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// MiB the per-instance notifier and list caches may hold in all; 0 turns them off.
    pub max_memory_mb: u64,
}

/// 128 MiB of notifier bodies, 64 of list pages, 16 of list id sets: a 100,000-notifier
/// table and all its pages of 20 fit.
pub const DEFAULT_CACHE_MB: u64 = 208;

impl Settings {
    /// Loads every layer; `config_file` replaces nothing but adds the last file layer.
    pub fn load(config_file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut builder = Config::builder()
            .set_default("server.listen", "127.0.0.1:8080")?
            .set_default("server.body_limit", 65536)?
            .set_default("server.cors_allowed_origins", Vec::<String>::new())?
            .set_default("server.body_timeout_secs", 10)?
            .set_default("server.public_url", "")?
            .set_default("server.trusted_proxies", Vec::<String>::new())?
            .set_default("server.allowed_hosts", Vec::<String>::new())?
            .set_default("server.metrics_token", "")?
            .set_default("database.url", "sqlite://data/notifier.db?mode=rwc")?
            .set_default("security.secret_key", "")?
            .set_default("security.secret_key_file", "data/secret.key")?
            .set_default("security.expose_passwords", false)?
            .set_default("security.admin_token", "")?
            .set_default("security.auth_failures_per_minute", 60)?
            .set_default("smtp.timeout_secs", 10)?
            .set_default("smtp.extra_ca_file", "")?
            .set_default("smtp.total_timeout_secs", 60)?
            .set_default("smtp.allow_plaintext_auth", false)?
            .set_default("smtp.denied_networks", default_denied_networks())?
            .set_default("smtp.allowed_networks", Vec::<String>::new())?
            .set_default("smtp.allowed_ports", Vec::<u16>::new())?
            .set_default("cache.max_memory_mb", DEFAULT_CACHE_MB)?;
        if Path::new(SHIPPED_CONFIG).is_file() {
            builder = builder.add_source(File::new(SHIPPED_CONFIG, FileFormat::Toml));
        }
        if let Some(path) = config_file {
            let name = path
                .to_str()
                .context("the --config path is not valid UTF-8")?;
            builder = builder.add_source(File::new(name, FileFormat::Toml).required(true));
        }
        builder = builder.add_source(
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
                .with_list_parse_key("smtp.allowed_ports"),
        );
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
            anyhow::bail!("database.url must start with sqlite: or postgres://");
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
        if self.server.body_timeout_secs == 0 {
            anyhow::bail!("server.body_timeout_secs must be at least 1");
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
}

impl Settings {
    /// The effective configuration as TOML, with the database password, secret key and
    /// admin token replaced by `***`: safe to paste into a ticket.
    pub fn redacted_toml(&self) -> String {
        let quote = |text: &str| serde_json::Value::from(text).to_string();
        let secret = |value: &SecretString| {
            if value.expose_secret().is_empty() {
                quote("")
            } else {
                quote("***")
            }
        };
        let origins: Vec<String> = self
            .server
            .cors_allowed_origins
            .iter()
            .map(|o| quote(o))
            .collect();
        let optional = |key: &str, value: Option<String>, note: &str| match value {
            Some(value) => format!("{key} = {value}\n"),
            None => format!("# {key} = ({note})\n"),
        };
        let list = |items: &[String]| {
            let quoted: Vec<String> = items.iter().map(|i| quote(i)).collect();
            format!("[{}]", quoted.join(", "))
        };
        format!(
            "[server]\nlisten = {}\n{}body_limit = {}\ncors_allowed_origins = [{}]\n\
             body_timeout_secs = {}\npublic_url = {}\ntrusted_proxies = {}\nallowed_hosts = {}\n\
             metrics_token = {}\n\n\
             [database]\nurl = {}\n{}\n\
             [security]\nsecret_key = {}\nsecret_key_file = {}\nexpose_passwords = {}\nadmin_token = {}\n\
             auth_failures_per_minute = {}\n\n\
             {}\n\
             [cache]\nmax_memory_mb = {}\n",
            quote(&self.server.listen),
            optional(
                "workers",
                self.server.workers.map(|w| w.to_string()),
                "one per core"
            ),
            self.server.body_limit,
            origins.join(", "),
            self.server.body_timeout_secs,
            quote(&self.server.public_url),
            list(
                &self
                    .server
                    .trusted_proxies
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
            ),
            list(&self.server.allowed_hosts),
            secret(&self.server.metrics_token),
            quote(&redact_url(&self.database.url)),
            optional(
                "max_connections",
                self.database.max_connections.map(|m| m.to_string()),
                "backend default"
            ),
            secret(&self.security.secret_key),
            quote(&self.security.secret_key_file.display().to_string()),
            self.security.expose_passwords,
            secret(&self.security.admin_token),
            self.security.auth_failures_per_minute,
            self.smtp.toml(),
            self.cache.max_memory_mb,
        )
    }
}

/// A TOML basic string: JSON's quoting is a subset of it.
fn toml_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
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
    use std::hash::{BuildHasher, RandomState};

    use super::*;

    #[test]
    fn shipped_config_parses() {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/default.toml");
        let settings = Settings::load(Some(&shipped));
        assert!(settings.is_ok(), "{settings:?}");
    }

    #[test]
    fn printed_configuration_hides_every_secret() {
        let mut settings = Settings::load(None).expect("defaults load");
        settings.database.url = "postgres://app:db-password@db/notifier".into();
        settings.security.secret_key = SecretString::from("a2V5LWtleS1rZXk=");
        settings.security.admin_token = SecretString::from("admin-token-value");
        settings.server.metrics_token = SecretString::from("metrics-token-value");
        let printed = settings.redacted_toml();
        for secret in [
            "db-password",
            "a2V5LWtleS1rZXk=",
            "admin-token-value",
            "metrics-token-value",
        ] {
            assert!(!printed.contains(secret), "{secret} leaked:\n{printed}");
        }
        assert!(
            printed.contains("postgres://app:***@db/notifier"),
            "{printed}"
        );
    }

    #[test]
    fn smtp_defaults_are_the_mailers_and_the_shipped_files() {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/default.toml");
        for settings in [Settings::load(None), Settings::load(Some(&shipped))] {
            let smtp = settings.expect("loads").smtp;
            assert_eq!(smtp.total_timeout_secs, 60);
            assert!(!smtp.allow_plaintext_auth);
            assert_eq!(smtp.denied_networks, DEFAULT_DENIED_NETWORKS);
            assert!(smtp.allowed_networks.is_empty());
            assert!(smtp.allowed_ports.is_empty());
        }
    }

    /// Loads a config file of `[smtp]` lines; the error as `main` prints it, on one line.
    fn load_smtp(lines: &str) -> Result<SmtpSettings, String> {
        // A random name (RandomState is seeded per instance): tests run in parallel.
        let name = format!(
            "notifier-smtp-{}-{:x}.toml",
            std::process::id(),
            RandomState::new().hash_one(lines)
        );
        let path = std::env::temp_dir().join(name);
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
        let settings = Settings::load(None).expect("defaults load");
        let printed = settings.redacted_toml();
        for line in [
            "total_timeout_secs = 60\n",
            "allow_plaintext_auth = false\n",
            "denied_networks = [\"169.254.0.0/16\", \"fe80::/10\", \"0.0.0.0/8\", \"::/128\", \
             \"224.0.0.0/4\", \"ff00::/8\", \"255.255.255.255/32\"]\n",
            "allowed_networks = []\n",
            "allowed_ports = []\n",
        ] {
            assert!(printed.contains(line), "{line:?} missing from:\n{printed}");
        }
    }

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
}
