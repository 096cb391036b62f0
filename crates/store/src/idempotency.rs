//! `Idempotency-Key`s: which request may run under a key, and the answer its repeats get.
//!
//! [`Idempotency::begin`] claims the key in the database (see
//! `notifier_persistence::idempotency`), so the decision holds across instances. The time
//! is the [`Clock`]'s wall clock, which tests move past the 24 hours a key is kept.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use notifier_domain::idempotency::{Fingerprint, IdempotencyKey, StoredResponse};
use notifier_persistence::idempotency::{self as repository, Claim, Claimed};
use notifier_persistence::{DatabaseConnection, SecretBox};

use crate::Clock;

/// Expired keys are deleted at most this often per instance, by the first claim after.
const PRUNE_EVERY: Duration = Duration::from_secs(10 * 60);

/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Idempotency(Arc<Shared>);

struct Shared {
    db: DatabaseConnection,
    secrets: SecretBox,
    clock: Clock,
    abandon_after: Duration,
    /// When this instance last pruned.
    last_prune: Mutex<Option<Instant>>,
}

/// What [`Idempotency::begin`] decided.
pub enum Begun {
    /// Run the request, then tell the guard how it ended.
    Run(Guard),
    /// The same request was answered before: send this again.
    Replay(StoredResponse),
    /// The same request is still running.
    InProgress,
    /// The key was used for a different request.
    Mismatch,
}

/// Holds a key for the request running under it.
pub struct Guard {
    owner: Idempotency,
    claim: Claim,
}

impl Idempotency {
    /// `abandon_after`: how long a claim may stay unanswered before it is presumed dead
    /// with its process and another request may take the key.
    pub(crate) fn new(
        db: DatabaseConnection,
        secrets: SecretBox,
        clock: Clock,
        abandon_after: Duration,
    ) -> Self {
        Self(Arc::new(Shared {
            db,
            secrets,
            clock,
            abandon_after,
            last_prune: Mutex::default(),
        }))
    }

    /// Claims `key` for `user_id`'s request with this fingerprint.
    pub async fn begin(
        &self,
        user_id: i64,
        key: &IdempotencyKey,
        fingerprint: Fingerprint,
    ) -> crate::Result<Begun> {
        let shared = &self.0;
        let claimed = repository::claim(
            &shared.db,
            &shared.secrets,
            user_id,
            key,
            fingerprint,
            shared.clock.utc_now(),
            shared.abandon_after,
        )
        .await?;
        Ok(match claimed {
            Claimed::Won(claim) => {
                self.prune_now_and_then();
                Begun::Run(Guard {
                    owner: self.clone(),
                    claim,
                })
            }
            Claimed::Replay(response) => Begun::Replay(response),
            Claimed::InProgress => Begun::InProgress,
            Claimed::Mismatch => Begun::Mismatch,
        })
    }

    /// Deletes expired keys in the background, unless this instance did so recently.
    fn prune_now_and_then(&self) {
        let shared = &self.0;
        let now = shared.clock.now();
        {
            let Ok(mut last) = shared.last_prune.lock() else {
                return;
            };
            if last.is_some_and(|at| now.saturating_duration_since(at) < PRUNE_EVERY) {
                return;
            }
            *last = Some(now);
        }
        let (db, now) = (shared.db.clone(), shared.clock.utc_now());
        tokio::spawn(async move {
            match repository::prune(&db, now).await {
                Ok(0) => {}
                Ok(n) => log::info!("pruned {n} expired idempotency keys"),
                Err(e) => log::warn!("pruning idempotency keys failed: {e}"),
            }
        });
    }
}

impl Guard {
    /// Keeps `response` as the answer to every repeat of this request.
    pub async fn finish(self, response: &StoredResponse) -> crate::Result<()> {
        let shared = &self.owner.0;
        let kept = repository::finish(&shared.db, &shared.secrets, &self.claim, response).await?;
        if !kept {
            log::warn!(
                "an idempotent request outlived its claim ({:?}); its answer was not kept",
                shared.abandon_after
            );
        }
        Ok(())
    }

    /// Lets the key go without an answer: the next request with it runs.
    pub async fn release(self) -> crate::Result<()> {
        Ok(repository::release(&self.owner.0.db, &self.claim).await?)
    }
}
