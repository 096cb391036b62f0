//! The writer against a migrated SQLite file.

use sea_orm::sqlx::{self, Row as _};
use sea_orm::{DatabaseConnection, DbBackend, Statement};
use tempfile::TempDir;

use super::{WriteEpoch, WriteError, Writer, batch, connection};

async fn sqlite() -> (TempDir, DatabaseConnection) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("notifier.sqlite3").display());
    let db = crate::connect(&url, None).await.unwrap();
    crate::migrate(&db).await.unwrap();
    (dir, db)
}

const COLUMNS: &str = "INSERT INTO email_notifiers (name, name_key, host, port, username, \
     password_sealed, from_email, use_tls, use_ssl, fail_silently, created_at, updated_at) \
     VALUES (?, ?, 'smtp.example.com', 25, '', '', 'a@example.com', 0, 0, 0, \
     '2026-01-01 00:00:00', '2026-01-01 00:00:00')";

/// An insert that a taken name turns into no row, as batched writes must be.
fn insert(name: &str) -> Statement {
    let sql = format!("{COLUMNS} ON CONFLICT (name_key) DO NOTHING RETURNING id");
    Statement::from_sql_and_values(DbBackend::Sqlite, sql, [name.into(), name.into()])
}

/// An insert that fails on a taken name.
fn insert_or_fail(name: &str) -> Statement {
    let sql = format!("{COLUMNS} RETURNING id");
    Statement::from_sql_and_values(DbBackend::Sqlite, sql, [name.into(), name.into()])
}

async fn rows(db: &DatabaseConnection) -> i64 {
    sqlx::query("SELECT COUNT(*) FROM email_notifiers")
        .fetch_one(db.get_sqlite_connection_pool())
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn the_writer_connection_has_the_pools_settings() {
    let (_dir, db) = sqlite().await;
    let shared = db.get_sqlite_connection_pool();
    let writer = connection::open(shared).await.unwrap();

    assert_eq!(
        writer.connect_options().get_filename(),
        shared.connect_options().get_filename()
    );
    assert_eq!(writer.options().get_max_connections(), 1);
    assert_eq!(
        writer.options().get_acquire_timeout(),
        shared.options().get_acquire_timeout()
    );
    let mut conn = writer.acquire().await.unwrap();
    let journal: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .get(0);
    assert_eq!(journal, "wal");
    for (pragma, expected) in [
        ("PRAGMA busy_timeout", 30_000),
        ("PRAGMA synchronous", 1), // NORMAL
        ("PRAGMA foreign_keys", 1),
    ] {
        let value: i64 = sqlx::query(pragma)
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .get(0);
        assert_eq!(value, expected, "{pragma}");
    }
}

#[tokio::test]
async fn concurrent_writes_come_back_with_their_exact_epochs() {
    let (_dir, db) = sqlite().await;
    let writer = Writer::start(db.clone()).await.unwrap();
    let before = crate::epochs::data(&db).await.unwrap();

    let writes: Vec<_> = (0..20)
        .map(|i| {
            let writer = writer.clone();
            tokio::spawn(async move { writer.execute(insert(&format!("n{i}"))).await })
        })
        .collect();
    let mut epochs = Vec::new();
    for write in writes {
        let written = write.await.unwrap().unwrap();
        assert_eq!(written.rows.len(), 1);
        let WriteEpoch::Exact(epoch) = written.epoch else {
            panic!("{:?} is not exact", written.epoch);
        };
        epochs.push(epoch);
    }

    epochs.sort_unstable();
    assert_eq!(epochs, (before + 1..=before + 20).collect::<Vec<_>>());
    assert!(writer.own_epochs().wrote_all(before, before + 20).await);
    assert_eq!(crate::epochs::data(&db).await.unwrap(), before + 20);
}

#[tokio::test]
async fn a_conflict_the_statement_ignores_is_no_row() {
    let (_dir, db) = sqlite().await;
    let writer = Writer::start(db.clone()).await.unwrap();
    writer.execute(insert("taken")).await.unwrap();

    let written = writer.execute(insert("taken")).await.unwrap();

    assert!(written.rows.is_empty());
    assert_eq!(rows(&db).await, 1);
}

#[tokio::test]
async fn one_failing_statement_fails_its_whole_batch() {
    let (_dir, db) = sqlite().await;
    let pool = connection::open(db.get_sqlite_connection_pool())
        .await
        .unwrap();
    batch::run(&pool, &mut None, &[(&insert("taken"), None)])
        .await
        .unwrap();

    let failed = batch::run(
        &pool,
        &mut None,
        &[
            (&insert("first"), None),
            (&insert_or_fail("taken"), None),
            (&insert("last"), None),
        ],
    )
    .await;

    assert!(failed.is_err());
    assert_eq!(rows(&db).await, 1, "nothing of the failed batch stays");
    let committed = batch::run(&pool, &mut None, &[(&insert("first"), None)])
        .await
        .unwrap();
    assert_eq!(committed.statements.len(), 1, "the next batch commits");
    assert_eq!(rows(&db).await, 2);
}

#[tokio::test]
async fn a_failed_batch_is_reported_to_its_writer() {
    let (_dir, db) = sqlite().await;
    let writer = Writer::start(db.clone()).await.unwrap();
    writer.execute(insert("taken")).await.unwrap();

    let failed = writer.execute(insert_or_fail("taken")).await;

    assert!(matches!(failed, Err(WriteError::BatchFailed(_))));
    let error = crate::Error::from(failed.err().unwrap());
    assert!(matches!(error, crate::Error::Unavailable(_)), "{error:?}");
}

/// The audit record of an insert, in the same transaction, only if the insert wrote a row.
fn record_after() -> Statement {
    let entry = notifier_domain::AuditEntry::new(
        notifier_domain::AuditAction::Create,
        None,
        notifier_domain::Changes::default(),
    );
    let context = notifier_domain::AuditContext::cli();
    crate::audit::after(
        DbBackend::Sqlite,
        &context,
        entry,
        Some(crate::audit::Refers::NewNotifier),
    )
    .unwrap()
}

async fn records(db: &DatabaseConnection) -> Vec<i64> {
    sqlx::query("SELECT notifier_id FROM audit_log ORDER BY id")
        .fetch_all(db.get_sqlite_connection_pool())
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test]
async fn what_follows_a_write_commits_with_it_and_only_if_it_wrote() {
    let (_dir, db) = sqlite().await;
    let writer = Writer::start(db.clone()).await.unwrap();

    // Concurrent writes share batches: each record must follow its own insert.
    let written = futures_util::future::join_all(
        ["a", "b", "a", "c"].map(|name| writer.execute_then(insert(name), record_after())),
    )
    .await;
    let mut ids: Vec<i64> = written
        .into_iter()
        .filter_map(|w| {
            w.unwrap()
                .rows
                .first()
                .map(|row| row.try_get_by_index(0).unwrap())
        })
        .collect();

    ids.sort_unstable();
    assert_eq!(ids.len(), 3, "the second \"a\" inserted nothing");
    assert_eq!(
        records(&db).await,
        ids,
        "one record per row written, naming it"
    );

    // A batch that fails keeps neither the write nor its record.
    let failed = writer
        .execute_then(insert_or_fail("a"), record_after())
        .await;
    assert!(failed.is_err());
    assert_eq!(records(&db).await.len(), 3);
}
