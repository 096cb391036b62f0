//! Building the running service: database ready, secret key checked, admin bootstrapped,
//! listener bound. `main` and the tests call the same [`Application::build`].

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use notifier_delivery::{DeliveryOptions, Outbox, Workers};
use notifier_mailer::{Mailer, MailerConfig};
use notifier_persistence::{Bootstrap, DatabaseConnection, SecretBox};
use notifier_store::{ChangeHooks, Clock, Store, StoreOptions};
use notifier_web::{AppState, AuthThrottle, Metrics, NotifierBodies, OriginPolicy};
use secrecy::ExposeSecret;

use crate::settings::Settings;

/// Added to `smtp.total_timeout_secs` for how long an idempotent request may hold its key
/// unanswered before another may take it over (its process presumably died).
const IDEMPOTENCY_MARGIN: Duration = Duration::from_secs(60);

pub struct Application {
    port: u16,
    server: Server,
    clock: Clock,
    workers: Workers,
    stop: StopSignals,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        // The key first: a weak or missing key stops start-up before the database changes.
        let secrets = secret_box(&settings)?;
        let db = open_database(&settings).await?;
        let mailer = mailer(&settings)?;
        let metrics = Metrics::new()?;
        secrets.verify(&db).await?;
        bootstrap(&db, &settings).await?;

        let listener = TcpListener::bind(&settings.server.listen)
            .with_context(|| format!("cannot listen on {}", settings.server.listen))?;
        let address = listener.local_addr()?;
        let clock = Clock::default();
        // Pooled SMTP connections were opened with a notifier's old settings.
        let forget = mailer.clone();
        let store = Store::open(StoreOptions {
            db,
            secrets,
            render: std::sync::Arc::new(NotifierBodies {
                expose_passwords: settings.security.expose_passwords,
            }),
            cache_bytes: settings.cache.max_memory_mb.saturating_mul(1 << 20),
            counters: metrics.cache_counters(),
            hooks: ChangeHooks::default().on_change(move |id| forget.forget(id)),
            clock: clock.clone(),
            // Every step of a request is bounded by the SMTP exchange's bound or less; a
            // minute on top covers the database and the body.
            idempotency_abandon_after: Duration::from_secs(settings.smtp.total_timeout_secs)
                + IDEMPOTENCY_MARGIN,
        })
        .await
        .context("cannot open the database for writing")?;
        metrics.register(mailer.oauth_token_fetches())?;
        if let Some(rotations) = mailer.rotated_refresh_tokens() {
            tokio::spawn(store_rotated_refresh_tokens(store.clone(), rotations));
        }
        let outbox = Outbox::new(
            store.clone(),
            mailer.clone(),
            delivery_options(&settings),
            metrics.delivery_counters(),
        );
        let workers = Workers::start(outbox.clone());
        let state = web::Data::new(AppState {
            store,
            body_limit: settings.server.body_limit,
            body_timeout: Duration::from_secs(settings.server.body_timeout_secs),
            origin: OriginPolicy::new(
                &settings.server.public_url,
                settings.server.trusted_proxies.clone(),
                settings.server.allowed_hosts.clone(),
            ),
            auth_throttle: AuthThrottle::new(settings.security.auth_failures_per_minute),
            metrics_token: Some(settings.server.metrics_token.expose_secret().trim())
                .filter(|token| !token.is_empty())
                .map(str::to_owned),
            mailer,
            outbox,
            metrics: metrics.clone(),
        });
        let origins = settings.server.cors_allowed_origins.clone();
        let check_hosts = !settings.server.allowed_hosts.is_empty();
        let mut server = HttpServer::new(move || {
            let cors = notifier_web::cors(&origins);
            App::new()
                .app_data(state.clone())
                // Outermost after the log: preflights are answered before authentication.
                .wrap(Condition::new(cors.is_some(), cors.unwrap_or_default()))
                .wrap(from_fn(notifier_web::sorted_preflight_lists))
                // Only when a list is set: the check would pass every request anyway.
                .wrap(Condition::new(
                    check_hosts,
                    from_fn(notifier_web::check_host),
                ))
                .wrap(from_fn(notifier_web::record_request))
                // Inside the log, so that its line names the id the response carries.
                .wrap(from_fn(notifier_web::assign_request_id))
                .wrap(notifier_web::access_log())
                .configure(notifier_web::configure)
        });
        if let Some(workers) = settings.server.workers {
            server = server.workers(workers);
        }
        // Signals are handled in `run_until_stopped`: the delivery workers stop first. The
        // handlers are installed before the "listening" line, which supervisors (and the
        // tests) take as ready: a SIGTERM right after it must stop the service gracefully,
        // not kill it.
        let stop = StopSignals::install()?;
        let server = server.disable_signals().listen(listener)?.run();
        log::info!("listening on http://{address}");
        Ok(Application {
            port: address.port(),
            server,
            clock,
            workers,
            stop,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The clock the caches measure staleness by: tests move it instead of sleeping.
    pub fn clock(&self) -> Clock {
        self.clock.clone()
    }

    /// Serves until SIGINT/SIGTERM. Then the delivery workers stop claiming and finish
    /// their in-flight sends (what is left stays queued), and only then does the HTTP
    /// server stop gracefully (in-flight requests finish): database connections opened on
    /// its worker threads stop working with them, and a worker still has an outcome to
    /// record.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let mut server = std::pin::pin!(self.server);
        tokio::select! {
            served = &mut server => {
                self.workers.shutdown().await;
                return served;
            }
            () = self.stop.requested() => {}
        }
        log::info!("stopping: delivery workers finish their in-flight sends, then HTTP requests");
        self.workers.shutdown().await;
        // The server future carries out the stop: poll both.
        let ((), served) = tokio::join!(handle.stop(true), server);
        served
    }
}

fn delivery_options(settings: &Settings) -> DeliveryOptions {
    let delivery = &settings.delivery;
    DeliveryOptions {
        workers: delivery.workers,
        max_attempts: delivery.max_attempts,
        lease: Duration::from_secs(delivery.lease_secs),
        retention: days(delivery.retention_days),
        audit_retention: days(settings.audit.retention_days),
    }
}

fn days(n: u64) -> Duration {
    const DAY: Duration = Duration::from_secs(24 * 60 * 60);
    DAY.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX))
}

/// SIGINT and SIGTERM, listened for from the moment they are installed.
struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// The first of the two.
    async fn requested(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Connects and applies pending migrations.
pub async fn open_database(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let db =
        notifier_persistence::connect(&settings.database.url, settings.database.max_connections)
            .await
            .context("cannot open the database")?;
    notifier_persistence::migrate(&db)
        .await
        .context("cannot apply migrations")?;
    Ok(db)
}

/// The key ring: the primary key configured inline, or read from (or created in) the key
/// file, and the previous keys that still open older values.
pub fn secret_box(settings: &Settings) -> anyhow::Result<SecretBox> {
    let inline = settings.security.secret_key.expose_secret();
    let secrets = if inline.trim().is_empty() {
        SecretBox::from_file_or_create(&settings.security.secret_key_file)?
    } else {
        SecretBox::from_base64(inline)?
    };
    let previous: Vec<&str> = settings
        .security
        .previous_secret_keys
        .iter()
        .map(|key| key.expose_secret().trim())
        .filter(|key| !key.is_empty())
        .collect();
    Ok(secrets.with_previous(&previous)?)
}

/// Stores each refresh token an OAuth2 token endpoint rotated, in place of the one it
/// replaced (the endpoint may already have revoked that one). Ends with the mailer.
async fn store_rotated_refresh_tokens(
    store: Store,
    mut rotations: tokio::sync::mpsc::UnboundedReceiver<notifier_mailer::RotatedRefreshToken>,
) {
    while let Some(rotated) = rotations.recv().await {
        let id = rotated.notifier_id;
        match store
            .authentication
            .rotate_refresh_token(id, &rotated.previous, &rotated.refresh_token)
            .await
        {
            Ok(true) => log::info!("notifier={id} OAuth2 refresh token rotated and stored"),
            Ok(false) => log::info!(
                "notifier={id} OAuth2 refresh token rotated, but the notifier was set otherwise since"
            ),
            Err(e) => {
                log::warn!("notifier={id} cannot store the rotated OAuth2 refresh token: {e}")
            }
        }
    }
}

/// The SMTP client shared by all workers; a bad extra CA file stops the start.
fn mailer(settings: &Settings) -> anyhow::Result<Mailer> {
    let extra_ca_file = settings.smtp.extra_ca_file.trim();
    let extra_ca_pem = if extra_ca_file.is_empty() {
        None
    } else {
        let pem = std::fs::read(extra_ca_file)
            .with_context(|| format!("cannot read smtp.extra_ca_file {extra_ca_file}"))?;
        Some(pem)
    };
    let smtp = &settings.smtp;
    // Every field is set today; the update gives a field added later its default here
    // instead of breaking the build.
    #[allow(clippy::needless_update)]
    let config = MailerConfig {
        timeout: Duration::from_secs(smtp.timeout_secs),
        total_timeout: Duration::from_secs(smtp.total_timeout_secs),
        max_connections_per_notifier: smtp.max_connections_per_notifier,
        extra_ca_pem,
        allow_plaintext_auth: smtp.allow_plaintext_auth,
        denied_networks: smtp.denied_networks.clone(),
        allowed_networks: smtp.allowed_networks.clone(),
        allowed_ports: smtp.allowed_ports.clone(),
        ..MailerConfig::default()
    };
    Ok(Mailer::new(config)?)
}

async fn bootstrap(db: &DatabaseConnection, settings: &Settings) -> anyhow::Result<()> {
    let configured = settings.security.admin_token.expose_secret();
    let configured = (!configured.trim().is_empty()).then_some(configured.trim());
    match notifier_persistence::bootstrap_admin(db, configured).await? {
        Bootstrap::AlreadyDone => {}
        Bootstrap::ConfiguredToken => {
            log::info!("created the admin user with the configured token")
        }
        Bootstrap::GeneratedToken(key) => {
            log::info!("created the admin user; its token is printed once on standard output");
            // Standard output, not the log: the key is shown to the operator exactly once.
            println!("admin token: {key}");
        }
    }
    Ok(())
}
