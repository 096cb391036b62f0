//! Rotation against a migrated SQLite file, on the key check row (a sealed value every
//! database has): the compare-and-set, a full run, and a value no key opens.

#![allow(clippy::unwrap_used)]

use sea_orm::{ActiveValue::Set, EntityTrait};
use tempfile::TempDir;

use super::*;
use crate::{DatabaseConnection, SecretKeyError};

const A: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const B: &str = "YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODk=";
const C: &str = "Y2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2M=";

async fn sqlite_checked_by(key: &str) -> (TempDir, DatabaseConnection) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("notifier.sqlite3").display());
    let db = crate::connect(&url, None).await.unwrap();
    crate::migrate(&db).await.unwrap();
    SecretBox::from_base64(key)
        .unwrap()
        .verify(&db)
        .await
        .unwrap();
    (dir, db)
}

async fn check_value(db: &DatabaseConnection) -> String {
    server_meta::Entity::find_by_id(KEY_CHECK_NAME)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .value
}

fn options() -> RotateOptions {
    RotateOptions {
        batch_size: 1,
        pause: Duration::ZERO,
    }
}

#[tokio::test]
async fn a_value_changed_since_it_was_read_is_not_overwritten() {
    let (_dir, db) = sqlite_checked_by(A).await;
    let ring = SecretBox::from_base64(B)
        .unwrap()
        .with_previous(&[A])
        .unwrap();
    let column = &sealed_columns()[0];
    let current = check_value(&db).await;
    let key = [Value::from(KEY_CHECK_NAME.to_owned())];

    let stale = replace(&db, column, &key, "a value read earlier", ring.seal("x")).await;

    assert!(!stale.unwrap());
    assert_eq!(check_value(&db).await, current);
    let fresh = replace(&db, column, &key, &current, ring.reseal(&current).unwrap()).await;
    assert!(fresh.unwrap());
}

#[tokio::test]
async fn a_run_moves_every_value_to_the_primary_key_and_a_second_finds_none() {
    let (_dir, db) = sqlite_checked_by(A).await;
    let ring = SecretBox::from_base64(B)
        .unwrap()
        .with_previous(&[A])
        .unwrap();
    let mut reported = Vec::new();

    let first = rotate(&db, &ring, options(), |n| reported.push(n))
        .await
        .unwrap();
    let second = rotate(&db, &ring, options(), |_| {}).await.unwrap();

    assert_eq!((first.re_encrypted, first.remaining), (1, 0));
    assert_eq!(reported, [1]);
    assert_eq!(second, Rotated::default());
    assert!(SecretBox::from_base64(B).unwrap().verify(&db).await.is_ok());
    assert!(matches!(
        SecretBox::from_base64(A).unwrap().verify(&db).await,
        Err(SecretKeyError::WrongKey)
    ));
}

#[tokio::test]
async fn a_value_no_key_opens_is_left_and_counted() {
    let (_dir, db) = sqlite_checked_by(A).await;
    let foreign = SecretBox::from_base64(C).unwrap().seal("whatever");
    server_meta::Entity::update(server_meta::ActiveModel {
        name: Set(KEY_CHECK_NAME.to_owned()),
        value: Set(foreign.clone()),
    })
    .exec(&db)
    .await
    .unwrap();
    let ring = SecretBox::from_base64(B)
        .unwrap()
        .with_previous(&[A])
        .unwrap();

    let rotated = rotate(&db, &ring, options(), |_| {}).await.unwrap();

    assert_eq!(rotated.re_encrypted, 0);
    assert_eq!(rotated.remaining, 1);
    assert_eq!(rotated.unreadable, ["server_meta.value secret_key_check"]);
    assert_eq!(check_value(&db).await, foreign);
}
