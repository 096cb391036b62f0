//! `spawn_app`: the real application on a port-0 listener, over a database of its own.
//! Tests change the typed [`Settings`]; the server (in this process or a child) loads them
//! from a config file they are written to.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};

use notifier_server::settings::Settings;
use notifier_server::startup::Application;
use secrecy::ExposeSecret;
use tempfile::TempDir;

use super::backend::{Backend, TestDatabase};

/// The built-in defaults, made for a test: the environment's database and key file, a port
/// of its own, two workers, a known admin token and a short SMTP timeout.
fn test_settings(dir: &Path, database_url: &str) -> Settings {
    let mut settings = Settings::defaults().expect("the built-in defaults load");
    settings.server.listen = "127.0.0.1:0".into();
    settings.server.workers = Some(2);
    settings.database.url = database_url.to_owned();
    settings.security.secret_key_file = secret_key_path(dir);
    settings.security.admin_token = format!("test-admin-{}", uuid::Uuid::new_v4().simple()).into();
    // Failing SMTP tests wait this long; the default 10 s would slow the suite down.
    settings.smtp.timeout_secs = 2;
    settings
}

fn secret_key_path(dir: &Path) -> PathBuf {
    dir.join("secret.key")
}

/// A temp directory (SQLite file, secret key, config files) and a database, with no server
/// yet: process-level tests start the `notifier` binary on it themselves.
pub struct TestEnv {
    pub dir: Arc<TempDir>,
    pub database: Arc<TestDatabase>,
    /// The test settings for this environment; a test may change them before using them.
    pub settings: Settings,
}

impl TestEnv {
    pub async fn new(backend: Backend) -> TestEnv {
        install_crypto_provider();
        let dir = tempfile::tempdir().expect("create a temp dir");
        let database = TestDatabase::create(&backend, dir.path()).await;
        let settings = test_settings(dir.path(), &database.url);
        TestEnv {
            dir: Arc::new(dir),
            database: Arc::new(database),
            settings,
        }
    }

    pub fn secret_key_path(&self) -> PathBuf {
        secret_key_path(self.dir.path())
    }

    /// The bootstrap admin's token in [`TestEnv::settings`].
    pub fn admin_token(&self) -> String {
        self.settings
            .security
            .admin_token
            .expose_secret()
            .to_owned()
    }

    /// Writes `settings` as a config file into the temp dir and returns its path.
    pub fn write_config(&self, settings: &Settings) -> PathBuf {
        let path = self
            .dir
            .path()
            .join(format!("config-{}.toml", uuid::Uuid::new_v4().simple()));
        let text = settings
            .to_toml_unredacted()
            .expect("serialize the settings");
        std::fs::write(&path, text).expect("write the config file");
        path
    }

    /// Builds the application in this process from a config file of `settings`, as `main`
    /// does, and serves it on a new port.
    pub async fn launch(&self, settings: Settings) -> TestApp {
        let config_path = self.write_config(&settings);
        let settings = Settings::load(Some(&config_path)).expect("load the test config");
        let application = Application::build(settings.clone())
            .await
            .expect("build the application");
        let port = application.port();
        let clock = application.clock();
        let server = tokio::spawn(application.run_until_stopped());
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            client: http_client(),
            admin_token: settings.security.admin_token.expose_secret().to_owned(),
            config_path,
            db_url: settings.database.url.clone(),
            dir: Arc::clone(&self.dir),
            database: Arc::clone(&self.database),
            settings,
            clock,
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
    /// What the app runs with, as loaded from `config_path`.
    pub settings: Settings,
    /// The clock this server's caches measure staleness by.
    pub clock: notifier_store::Clock,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// The application with the test settings (masked passwords, 64 KiB body limit).
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// The application with the test settings as `adjust` changes them.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let mut env = TestEnv::new(backend).await;
    adjust(&mut env.settings);
    env.launch(env.settings.clone()).await
}

impl TestApp {
    /// A second server over this app's database and secret key, with its settings as
    /// `adjust` changes them: e.g. `expose_passwords` to read back what is stored.
    pub async fn sibling(&self, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = self.settings.clone();
        adjust(&mut settings);
        let env = TestEnv {
            dir: Arc::clone(&self.dir),
            database: Arc::clone(&self.database),
            settings: self.settings.clone(),
        };
        env.launch(settings).await
    }

    /// A sibling that returns stored passwords in plain text.
    pub async fn exposing_passwords(&self) -> TestApp {
        self.sibling(|settings| settings.security.expose_passwords = true)
            .await
    }

    pub fn dir_path(&self) -> &Path {
        self.dir.path()
    }

    /// Lets the staleness bound pass for this server, as if `MAX_STALENESS` had gone by:
    /// changes made elsewhere (the CLI, a sibling) are then seen, with no sleep.
    pub fn settle(&self) {
        self.clock.advance(notifier_store::MAX_STALENESS);
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
