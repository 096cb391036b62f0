//! Claims against a migrated SQLite file: who wins, what a repeat finds, and how a dead or
//! expired claim is taken over.

use std::time::Duration;

use chrono::{DateTime, Utc};
use notifier_domain::idempotency::{Fingerprint, IdempotencyKey, KEY_LIFETIME, StoredResponse};
use sea_orm::DatabaseConnection;
use tempfile::TempDir;

use super::*;

const ABANDON_AFTER: Duration = Duration::from_secs(120);

struct Fixture {
    _dir: TempDir,
    db: DatabaseConnection,
    secrets: SecretBox,
    user_id: i64,
    key: IdempotencyKey,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("notifier.sqlite3").display());
    let db = crate::connect(&url, None).await.unwrap();
    crate::migrate(&db).await.unwrap();
    let user = crate::users::create(&db, "ops", true, false).await.unwrap();
    Fixture {
        _dir: dir,
        db,
        secrets: SecretBox::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap(),
        user_id: user.id,
        key: IdempotencyKey::parse(b"k-1").unwrap(),
    }
}

impl Fixture {
    async fn claim(&self, body: &[u8], now: DateTime<Utc>) -> Claimed {
        let fingerprint = Fingerprint::of("POST", "/x", body);
        claim(
            &self.db,
            &self.secrets,
            self.user_id,
            &self.key,
            fingerprint,
            now,
            ABANDON_AFTER,
        )
        .await
        .unwrap()
    }
}

fn answer(body: &str) -> StoredResponse {
    StoredResponse {
        status: 201,
        content_type: Some("application/json".into()),
        location: Some("/x/1".into()),
        body: body.as_bytes().to_vec(),
    }
}

fn won(claimed: Claimed) -> Claim {
    match claimed {
        Claimed::Won(claim) => claim,
        other => panic!("expected to win, got {other:?}"),
    }
}

fn after(start: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    start + chrono::Duration::from_std(by).unwrap()
}

#[tokio::test]
async fn one_claim_wins_and_its_answer_is_replayed() {
    let f = fixture().await;
    let start = Utc::now();
    let first = won(f.claim(b"{}", start).await);

    assert!(matches!(f.claim(b"{}", start).await, Claimed::InProgress));
    assert!(matches!(f.claim(b"{ }", start).await, Claimed::Mismatch));
    assert!(
        finish(&f.db, &f.secrets, &first, &answer("one"))
            .await
            .unwrap()
    );
    match f.claim(b"{}", start).await {
        Claimed::Replay(response) => assert_eq!(response, answer("one")),
        other => panic!("expected a replay, got {other:?}"),
    }
    assert!(matches!(f.claim(b"{ }", start).await, Claimed::Mismatch));
}

#[tokio::test]
async fn a_released_key_runs_again() {
    let f = fixture().await;
    let now = Utc::now();
    let first = won(f.claim(b"{}", now).await);
    release(&f.db, &first).await.unwrap();
    won(f.claim(b"{}", now).await);
}

#[tokio::test]
async fn an_abandoned_claim_is_taken_over_once() {
    let f = fixture().await;
    let start = Utc::now();
    let dead = won(f.claim(b"{}", start).await);

    let just_before = after(start, ABANDON_AFTER - Duration::from_secs(1));
    assert!(matches!(
        f.claim(b"{}", just_before).await,
        Claimed::InProgress
    ));
    let later = after(start, ABANDON_AFTER);
    let heir = won(f.claim(b"{}", later).await);
    // The heir's claim is fresh: nobody else takes it over at the same moment.
    assert!(matches!(f.claim(b"{}", later).await, Claimed::InProgress));
    // The dead request's late answer is not kept; the heir's is.
    assert!(
        !finish(&f.db, &f.secrets, &dead, &answer("dead"))
            .await
            .unwrap()
    );
    assert!(
        finish(&f.db, &f.secrets, &heir, &answer("heir"))
            .await
            .unwrap()
    );
    match f.claim(b"{}", later).await {
        Claimed::Replay(response) => assert_eq!(response, answer("heir")),
        other => panic!("expected a replay, got {other:?}"),
    }
}

#[tokio::test]
async fn an_expired_key_is_taken_over_and_pruned() {
    let f = fixture().await;
    let start = Utc::now();
    let first = won(f.claim(b"{}", start).await);
    finish(&f.db, &f.secrets, &first, &answer("one"))
        .await
        .unwrap();

    let next_day = after(start, KEY_LIFETIME);
    // Another request may use the key once it expired.
    won(f.claim(b"{\"other\":1}", next_day).await);
    assert_eq!(prune(&f.db, next_day).await.unwrap(), 0);
    assert_eq!(
        prune(&f.db, after(next_day, KEY_LIFETIME)).await.unwrap(),
        1
    );
    won(f.claim(b"{}", next_day).await);
}
