//! `spawn_app`: the real application on a port-0 listener, over a database of its own.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};

use notifier_server::settings::Settings;
use notifier_server::startup::Application;
use tempfile::TempDir;

use super::backend::{Backend, TestDatabase};

/// What a test may change in the configuration it runs with.
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// The bootstrap admin's token; empty lets the server generate (and print) one.
    pub admin_token: String,
    pub expose_passwords: bool,
    pub body_limit: usize,
    /// `server.cors_allowed_origins`; empty sends no CORS header.
    pub cors_allowed_origins: Vec<String>,
    /// `smtp.timeout_secs`.
    pub smtp_timeout_secs: u64,
    /// `smtp.extra_ca_file`: a PEM file of test CAs to trust.
    pub smtp_extra_ca_file: Option<PathBuf>,
    /// `cache.max_memory_mb`; 0 keeps nothing cached.
    pub cache_max_memory_mb: u64,
    /// Further TOML lines for a section, e.g. `extra.smtp = "total_timeout_secs = 2\n"`.
    pub extra: ExtraConfig,
}

/// TOML lines appended to a section of the test's configuration file, for keys that have
/// no field of their own in [`AppOptions`].
#[derive(Debug, Clone, Default)]
pub struct ExtraConfig {
    pub server: String,
    pub database: String,
    pub security: String,
    pub smtp: String,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            admin_token: format!("test-admin-{}", uuid::Uuid::new_v4().simple()),
            expose_passwords: false,
            body_limit: 65536,
            cors_allowed_origins: Vec::new(),
            smtp_timeout_secs: 2,
            smtp_extra_ca_file: None,
            cache_max_memory_mb: Settings::defaults()
                .expect("the built-in defaults load")
                .cache
                .max_memory_mb,
            extra: ExtraConfig::default(),
        }
    }
}

/// A temp directory (SQLite file, secret key, config files) and a database, with no server
/// yet: process-level tests start the `notifier` binary on it themselves.
pub struct TestEnv {
    pub dir: Arc<TempDir>,
    pub database: Arc<TestDatabase>,
    pub options: AppOptions,
}

impl TestEnv {
    pub async fn new(backend: Backend, options: AppOptions) -> TestEnv {
        install_crypto_provider();
        let dir = tempfile::tempdir().expect("create a temp dir");
        let database = TestDatabase::create(&backend, dir.path()).await;
        TestEnv {
            dir: Arc::new(dir),
            database: Arc::new(database),
            options,
        }
    }

    pub fn secret_key_path(&self) -> PathBuf {
        self.dir.path().join("secret.key")
    }

    /// Writes a config file for these options into the temp dir and returns its path.
    pub fn write_config(&self, options: &AppOptions) -> PathBuf {
        let path = self
            .dir
            .path()
            .join(format!("config-{}.toml", uuid::Uuid::new_v4().simple()));
        let text = format!(
            r#"[server]
listen = "127.0.0.1:0"
workers = 2
body_limit = {body_limit}
cors_allowed_origins = [{origins}]
{extra_server}
[database]
url = {db_url}
{extra_database}
[security]
secret_key_file = {key_file}
admin_token = {admin_token}
expose_passwords = {expose}
{extra_security}
[smtp]
timeout_secs = {smtp_timeout}
extra_ca_file = {extra_ca}
{extra_smtp}
[cache]
max_memory_mb = {cache_mb}
"#,
            origins = options
                .cors_allowed_origins
                .iter()
                .map(|o| toml_string(o))
                .collect::<Vec<_>>()
                .join(", "),
            smtp_timeout = options.smtp_timeout_secs,
            extra_ca = toml_string(
                &options
                    .smtp_extra_ca_file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ),
            body_limit = options.body_limit,
            cache_mb = options.cache_max_memory_mb,
            db_url = toml_string(&self.database.url),
            key_file = toml_string(&self.secret_key_path().display().to_string()),
            admin_token = toml_string(&options.admin_token),
            expose = options.expose_passwords,
            extra_server = options.extra.server,
            extra_database = options.extra.database,
            extra_security = options.extra.security,
            extra_smtp = options.extra.smtp,
        );
        std::fs::write(&path, text).expect("write the config file");
        path
    }

    /// Builds the application in this process, as `main` does, and serves it on a new port.
    pub async fn launch(&self, options: AppOptions) -> TestApp {
        let config_path = self.write_config(&options);
        let settings = Settings::load(Some(&config_path)).expect("load the test config");
        let application = Application::build(settings)
            .await
            .expect("build the application");
        let port = application.port();
        let server = tokio::spawn(application.run_until_stopped());
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            client: http_client(),
            admin_token: options.admin_token.clone(),
            config_path,
            db_url: self.database.url.clone(),
            dir: Arc::clone(&self.dir),
            database: Arc::clone(&self.database),
            options,
            server,
        }
    }
}

/// One running application and what a test needs to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub admin_token: String,
    pub config_path: PathBuf,
    /// The database URL this app uses, for tests that open the database directly.
    #[allow(dead_code)]
    pub db_url: String,
    pub dir: Arc<TempDir>,
    pub database: Arc<TestDatabase>,
    pub options: AppOptions,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// The application with default options (masked passwords, 64 KiB body limit).
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, AppOptions::default()).await
}

pub async fn spawn_app_with(backend: Backend, options: AppOptions) -> TestApp {
    let env = TestEnv::new(backend, options.clone()).await;
    env.launch(options).await
}

impl TestApp {
    /// A second server over this app's database and secret key, with other options: e.g.
    /// `expose_passwords` to read back what is stored.
    pub async fn sibling(&self, options: AppOptions) -> TestApp {
        let env = TestEnv {
            dir: Arc::clone(&self.dir),
            database: Arc::clone(&self.database),
            options: self.options.clone(),
        };
        env.launch(options).await
    }

    /// A sibling that returns stored passwords in plain text.
    pub async fn exposing_passwords(&self) -> TestApp {
        self.sibling(AppOptions {
            expose_passwords: true,
            ..self.options.clone()
        })
        .await
    }

    pub fn dir_path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Dropping actix's server future closes the listener and stops its workers.
        self.server.abort();
    }
}

/// A client that neither follows redirects nor uses a proxy from the environment.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("build the HTTP client")
}

fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means a provider is already installed: fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

fn toml_string(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}
