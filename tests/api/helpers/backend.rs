//! Which database a test runs on, and the throwaway database each test gets.

use std::path::Path;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

/// Names the PostgreSQL server the PostgreSQL variant of every test uses.
pub const POSTGRES_URL_VAR: &str = "NOTIFIER_TEST_POSTGRES_URL";

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// A PostgreSQL server; each test creates a database of its own on it.
    Postgres {
        server_url: String,
    },
}

impl Backend {
    /// The PostgreSQL backend from `NOTIFIER_TEST_POSTGRES_URL`.
    ///
    /// Unset, a CI run (`CI=true`) fails: a green CI must mean PostgreSQL was tested. Anywhere
    /// else the test says plainly that it did not run and returns `None`.
    pub fn postgres() -> Option<Backend> {
        match std::env::var(POSTGRES_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => Some(Backend::Postgres { server_url: url }),
            _ if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("{POSTGRES_URL_VAR} is not set: CI must run the PostgreSQL tests")
            }
            _ => {
                eprintln!("PostgreSQL test did not run: {POSTGRES_URL_VAR} is not set");
                None
            }
        }
    }
}

/// A database owned by one test. A PostgreSQL one is dropped, with any connection still open
/// on it, when this value goes away (also when the test panics).
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    postgres: Option<PostgresDatabase>,
}

#[derive(Debug, Clone)]
struct PostgresDatabase {
    server_url: String,
    name: String,
}

impl TestDatabase {
    pub async fn create(backend: &Backend, dir: &Path) -> TestDatabase {
        match backend {
            Backend::Sqlite => TestDatabase {
                url: format!("sqlite://{}?mode=rwc", dir.join("notifier.db").display()),
                postgres: None,
            },
            Backend::Postgres { server_url } => {
                let name = format!("notifier_test_{}", uuid::Uuid::new_v4().simple());
                let admin = connect(server_url).await;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap_or_else(|e| panic!("CREATE DATABASE {name} failed: {e}"));
                let _ = admin.close().await;
                TestDatabase {
                    url: with_database(server_url, &name),
                    postgres: Some(PostgresDatabase {
                        server_url: server_url.clone(),
                        name,
                    }),
                }
            }
        }
    }

    /// Drops the PostgreSQL database now, while servers may still use it.
    pub async fn drop_postgres_database(&self) {
        let pg = self
            .postgres
            .as_ref()
            .expect("only a PostgreSQL database can be dropped");
        drop_database(pg).await.expect("DROP DATABASE failed");
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(pg) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime: do the async work on a thread of its own.
        let outcome = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime
                .block_on(drop_database(&pg))
                .map(|_| ())
                .map_err(|e| format!("{}: {e}", pg.name))
        })
        .join();
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop test database {e}"),
            Err(_) => eprintln!("could not drop a test database: the cleanup thread panicked"),
        }
    }
}

async fn connect(url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(1).sqlx_logging(false);
    Database::connect(options)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_URL_VAR} ({url}): {e}"))
}

async fn drop_database(pg: &PostgresDatabase) -> Result<(), sea_orm::DbErr> {
    let admin = connect(&pg.server_url).await;
    let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", pg.name);
    let result = admin.execute_unprepared(&sql).await.map(|_| ());
    let _ = admin.close().await;
    result
}

/// `postgres://user@host:5432/any?opts` with its database replaced by `name`.
fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut url = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn with_database_replaces_only_the_database_name() {
        let cases = [
            (
                "postgres://postgres@127.0.0.1:5432/test",
                "postgres://postgres@127.0.0.1:5432/x",
            ),
            (
                "postgres://postgres@127.0.0.1:5432",
                "postgres://postgres@127.0.0.1:5432/x",
            ),
            (
                "postgres://u:p@h/db?sslmode=disable",
                "postgres://u:p@h/x?sslmode=disable",
            ),
        ];
        for (server, expected) in cases {
            assert_eq!(with_database(server, "x"), expected, "{server}");
        }
    }
}
