//! An update given a stale copy of the row: the guarded write misses, and the record names
//! the value the write actually replaced.

#![allow(clippy::unwrap_used)]

use notifier_domain::{AuditContext, NewNotifier, NotifierChanges, Password};
use sea_orm::{ConnectionTrait, Statement};

use super::*;

const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

#[tokio::test]
async fn a_stale_known_row_is_not_what_the_record_says_was_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("notifier.sqlite3").display());
    let db = crate::connect(&url, None).await.unwrap();
    crate::migrate(&db).await.unwrap();
    let writer = Writer::start(db.clone()).await.unwrap();
    let secrets = SecretBox::from_base64(KEY).unwrap();
    let audit = AuditContext::cli();
    let new = NewNotifier {
        name: "n".into(),
        host: "smtp.example.com".into(),
        port: 587,
        username: "stored".into(),
        password: Password::new("pw"),
        from_email: "a@example.com".into(),
        use_tls: true,
        use_ssl: false,
        fail_silently: false,
    };
    let (created, _) = create(&writer, &secrets, new, &audit).await.unwrap();
    let mut stale = created.clone();
    stale.username = "cached".into();
    let changes = NotifierChanges {
        username: Some("new".into()),
        ..NotifierChanges::default()
    };

    let (updated, _) = update(&writer, &secrets, created.id, changes, &audit, Some(stale))
        .await
        .unwrap();

    assert_eq!(updated.username, "new");
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT changes FROM audit_log WHERE action = 'update'",
        ))
        .await
        .unwrap();
    let changes: Vec<String> = rows
        .iter()
        .map(|row| row.try_get_by_index(0).unwrap())
        .collect();
    assert_eq!(changes, [r#"{"username":["stored","new"]}"#]);
}
