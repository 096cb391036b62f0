//! When each token was last used, kept off the request path: a request only compares an
//! atomic and, at most once a minute per token, hands the token's id to a background task,
//! which writes it, again at most once a minute per token on this instance.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};
use notifier_persistence::{DatabaseConnection, tokens};
use tokio::sync::mpsc;

/// Seconds between two recorded uses of one token by one instance.
pub(crate) const INTERVAL_SECS: i64 = 60;

/// The first-use-of-the-minute mark a cached token carries.
#[derive(Debug, Default)]
pub(crate) struct LastNoted(AtomicI64);

impl LastNoted {
    /// True for the one caller that finds a minute gone since the last note at `now`.
    pub fn claim(&self, now: DateTime<Utc>) -> bool {
        let now = now.timestamp();
        let last = self.0.load(Ordering::Relaxed);
        now - last >= INTERVAL_SECS
            && self
                .0
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// Cheap to clone; clones feed the same writer task, which ends with the last clone.
#[derive(Clone)]
pub(crate) struct TokenUse {
    uses: mpsc::UnboundedSender<(i64, DateTime<Utc>)>,
}

impl TokenUse {
    /// Starts the writer task; call inside the runtime.
    pub fn start(db: DatabaseConnection) -> Self {
        let (uses, received) = mpsc::unbounded_channel();
        tokio::spawn(record(db, received));
        Self { uses }
    }

    /// Notes a use of the token at `now` if its mark says a minute has gone by.
    pub fn note(&self, token_id: i64, mark: &LastNoted, now: DateTime<Utc>) {
        if mark.claim(now) {
            // The task only stops once every sender is gone: this cannot fail.
            let _ = self.uses.send((token_id, now));
        }
    }
}

async fn record(db: DatabaseConnection, mut uses: mpsc::UnboundedReceiver<(i64, DateTime<Utc>)>) {
    // A cache retirement (the auth epoch moved) starts tokens' marks afresh: this map
    // keeps the limit across it.
    let mut written: HashMap<i64, DateTime<Utc>> = HashMap::new();
    while let Some((token_id, at)) = uses.recv().await {
        if !due(written.get(&token_id), at) {
            continue;
        }
        match tokens::mark_used(&db, token_id, at).await {
            Ok(()) => {
                written.insert(token_id, at);
            }
            Err(e) => log::warn!("cannot record the last use of token {token_id}: {e}"),
        }
        if written.len() > 4096 {
            written.retain(|_, last| due(Some(last), at).then_some(()).is_none());
        }
    }
}

fn due(last: Option<&DateTime<Utc>>, at: DateTime<Utc>) -> bool {
    last.is_none_or(|last| (at - *last).num_seconds() >= INTERVAL_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_claim_per_minute() {
        let mark = LastNoted::default();
        let start = Utc::now();
        assert!(mark.claim(start));
        assert!(!mark.claim(start + chrono::Duration::seconds(59)));
        assert!(mark.claim(start + chrono::Duration::seconds(60)));
        assert!(!mark.claim(start + chrono::Duration::seconds(61)));
    }

    #[test]
    fn the_writer_skips_uses_within_a_minute_of_its_last_write() {
        let at = Utc::now();
        assert!(due(None, at));
        assert!(!due(Some(&at), at + chrono::Duration::seconds(30)));
        assert!(due(Some(&at), at + chrono::Duration::seconds(60)));
    }
}
