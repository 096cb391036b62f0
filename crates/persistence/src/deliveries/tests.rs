//! The outbox's transitions against a migrated SQLite file: claims, fenced records,
//! retention.

#![allow(clippy::unwrap_used)]

use chrono::{Duration, SubsecRound, Utc};
use notifier_domain::DeliveryStatus;
use tempfile::TempDir;

use super::*;
use crate::{DatabaseConnection, SecretBox, Writer};

async fn sqlite() -> (TempDir, DatabaseConnection, Writer, SecretBox) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("notifier.sqlite3").display());
    let db = crate::connect(&url, None).await.unwrap();
    crate::migrate(&db).await.unwrap();
    let writer = Writer::start(db.clone()).await.unwrap();
    let secrets = SecretBox::from_base64("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").unwrap();
    (dir, db, writer, secrets)
}

fn new_delivery(subject: &str) -> NewDelivery {
    NewDelivery {
        // Out of the column's range, so stored as null: no notifier row is needed.
        notifier_id: i64::MAX,
        notifier_name: "n".into(),
        recipients: Recipients {
            to: vec!["a@example.com".into()],
            ..Recipients::default()
        },
        subject: subject.into(),
        message_id: format!("<{subject}@notifier.local>"),
        content: Content {
            body: "secret body".into(),
            ..Content::default()
        },
        requested_by: "admin".into(),
    }
}

async fn queued(
    writer: &Writer,
    secrets: &SecretBox,
    subject: &str,
    at: DateTime<Utc>,
) -> Delivery {
    create(
        writer,
        secrets,
        new_delivery(subject),
        Start::Queued,
        at,
        &AuditContext::cli(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn claims_take_the_due_first_and_leave_the_rest() {
    let (_dir, _db, writer, secrets) = sqlite().await;
    let now = Utc::now().trunc_subsecs(6);
    let later = queued(&writer, &secrets, "later", now + Duration::seconds(30)).await;
    let first = queued(&writer, &secrets, "first", now - Duration::seconds(2)).await;
    let second = queued(&writer, &secrets, "second", now - Duration::seconds(1)).await;
    let lease = now + Duration::seconds(60);

    let a = claim(&writer, &secrets, now, lease).await.unwrap().unwrap();
    let b = claim(&writer, &secrets, now, lease).await.unwrap().unwrap();
    let none = claim(&writer, &secrets, now, lease).await.unwrap();

    assert_eq!((a.delivery.id, b.delivery.id), (first.id, second.id));
    assert!(none.is_none(), "{later:?} is not due yet");
    assert_eq!(a.delivery.status, DeliveryStatus::Sending);
    assert_eq!((a.delivery.attempts, a.round_attempts), (1, 1));
    assert_eq!(a.content.unwrap().body, "secret body");
}

#[tokio::test]
async fn an_expired_lease_is_claimed_again_and_the_late_record_is_refused() {
    let (_dir, _db, writer, secrets) = sqlite().await;
    let now = Utc::now().trunc_subsecs(6);
    queued(&writer, &secrets, "m", now).await;
    let first = claim(&writer, &secrets, now, now + Duration::seconds(60))
        .await
        .unwrap()
        .unwrap();
    let after_lease = now + Duration::seconds(61);
    let second = claim(
        &writer,
        &secrets,
        after_lease,
        after_lease + Duration::seconds(60),
    )
    .await
    .unwrap()
    .unwrap();

    let late = record(&writer, &first.delivery, Outcome::Sent, after_lease)
        .await
        .unwrap();
    let current = record(&writer, &second.delivery, Outcome::Sent, after_lease)
        .await
        .unwrap();

    assert_eq!(second.delivery.attempts, 2);
    assert!(late.is_none(), "a lapsed claim records nothing");
    let sent = current.unwrap();
    assert_eq!(sent.status, DeliveryStatus::Sent);
    assert_eq!(sent.next_attempt_at, None);
}

#[tokio::test]
async fn concurrent_claims_never_share_a_delivery() {
    let (_dir, _db, writer, secrets) = sqlite().await;
    let now = Utc::now().trunc_subsecs(6);
    for n in 0..20 {
        queued(&writer, &secrets, &format!("m{n}"), now).await;
    }
    let claims = (0..24).map(|_| claim(&writer, &secrets, now, now + Duration::seconds(60)));
    let claimed: Vec<i64> = futures_util::future::join_all(claims)
        .await
        .into_iter()
        .filter_map(|c| c.unwrap().map(|c| c.delivery.id))
        .collect();
    let mut distinct = claimed.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!((claimed.len(), distinct.len()), (20, 20));
}

#[tokio::test]
async fn retention_deletes_only_old_finished_deliveries() {
    let (_dir, db, writer, secrets) = sqlite().await;
    let now = Utc::now().trunc_subsecs(6);
    let old = now - Duration::days(31);
    let sent = queued(&writer, &secrets, "sent", old).await;
    let claimed = claim(&writer, &secrets, old, old + Duration::seconds(60))
        .await
        .unwrap()
        .unwrap();
    record(&writer, &claimed.delivery, Outcome::Sent, old)
        .await
        .unwrap();
    let waiting = queued(&writer, &secrets, "waiting", old).await;
    let cancelled = queued(&writer, &secrets, "recent", now).await;
    cancel(&writer, cancelled.id, now, &AuditContext::cli())
        .await
        .unwrap()
        .unwrap();

    let purged = purge_finished(&writer, now - Duration::days(30), 500)
        .await
        .unwrap();

    assert_eq!(purged, 1);
    assert!(matches!(get(&db, sent.id).await, Err(Error::NotFound)));
    assert_eq!(
        get(&db, waiting.id).await.unwrap().status,
        DeliveryStatus::Queued
    );
    assert_eq!(
        get(&db, cancelled.id).await.unwrap().status,
        DeliveryStatus::Cancelled
    );
}

#[tokio::test]
async fn a_released_claim_is_due_again_with_its_attempt_uncounted() {
    let (_dir, db, writer, secrets) = sqlite().await;
    let now = Utc::now().trunc_subsecs(6);
    let queued = queued(&writer, &secrets, "m", now).await;
    let claimed = claim(&writer, &secrets, now, now + Duration::seconds(60))
        .await
        .unwrap()
        .unwrap();

    assert!(release(&writer, &claimed.delivery, now).await.unwrap());
    assert!(!release(&writer, &claimed.delivery, now).await.unwrap());

    let back = get(&db, queued.id).await.unwrap();
    assert_eq!((back.status, back.attempts), (DeliveryStatus::Queued, 0));
    let again = claim(&writer, &secrets, now, now + Duration::seconds(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.delivery.id, again.round_attempts), (queued.id, 1));
}
