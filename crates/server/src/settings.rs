//! Typed configuration: built-in defaults, `config/default.toml`, `--config FILE`, then
//! `NOTIFIER__SECTION__KEY` environment variables, each layer overriding the previous.

use std::path::{Path, PathBuf};

use anyhow::Context;
use config::{Config, Environment, File, FileFormat};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

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
    pub trusted_proxies: Vec<String>,
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
                .with_list_parse_key("server.allowed_hosts"),
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
        if self.server.body_timeout_secs == 0 {
            anyhow::bail!("server.body_timeout_secs must be at least 1");
        }
        let admin_token = self.security.admin_token.expose_secret().trim();
        if !admin_token.is_empty() && admin_token.chars().count() < MIN_ADMIN_TOKEN_LEN {
            anyhow::bail!(
                "security.admin_token is too short: use at least {MIN_ADMIN_TOKEN_LEN} random characters (e.g. `head -c 24 /dev/urandom | base64`)"
            );
        }
        self.trusted_proxies()?;
        let public_url = self.server.public_url.trim();
        let web_url = public_url.starts_with("http://") || public_url.starts_with("https://");
        if !public_url.is_empty() && !web_url {
            anyhow::bail!("server.public_url must start with http:// or https://");
        }
        Ok(())
    }

    /// `server.trusted_proxies` parsed; a bare address is a network of one.
    pub fn trusted_proxies(&self) -> anyhow::Result<Vec<ipnet::IpNet>> {
        parse_networks("server.trusted_proxies", &self.server.trusted_proxies)
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
             [smtp]\ntimeout_secs = {}\nextra_ca_file = {}\n\n\
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
            list(&self.server.trusted_proxies),
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
            self.smtp.timeout_secs,
            quote(&self.smtp.extra_ca_file),
            self.cache.max_memory_mb,
        )
    }
}

/// CIDR networks of a list setting; one bad entry stops start-up, naming the key.
pub fn parse_networks(key: &str, entries: &[String]) -> anyhow::Result<Vec<ipnet::IpNet>> {
    entries
        .iter()
        .map(|entry| entry.trim())
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| anyhow::anyhow!("{key}: {entry:?} is not an IP network (CIDR)"))
        })
        .collect()
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
