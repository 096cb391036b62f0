//! The workers: each claims one due delivery at a time, attempts it and records the
//! outcome; one more task deletes finished deliveries past their retention.

use std::time::Duration;

use notifier_store::{Claimed, Outcome};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::Outbox;
use crate::attempt::{attempt, outcome, sending_settings, unsendable};

/// How long an idle worker waits before looking again, unless this instance queues a
/// delivery first: the delay before a delivery queued by another instance, or come due
/// by its back-off, is picked up.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// Outcomes one worker may have waiting to be recorded before it claims again.
const MAX_PENDING_RECORDS: usize = 4;
/// After a database error, before the next claim.
const ERROR_PAUSE: Duration = Duration::from_secs(1);
/// Between retention sweeps, and the most rows one delete takes.
const SWEEP_EVERY: Duration = Duration::from_secs(600);
const SWEEP_BATCH: u64 = 500;

/// This instance's running workers.
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Workers {
    /// Starts this instance's workers and the retention sweep over `outbox`'s queue.
    pub fn start(outbox: Outbox) -> Self {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for _ in 0..outbox.inner.options.workers {
            tasks.spawn(work(outbox.clone(), stopped.clone()));
        }
        tasks.spawn(sweep(outbox, stopped));
        Self { stop, tasks }
    }

    /// Stops claiming, lets in-flight attempts finish (each is bounded by the SMTP
    /// deadlines) and returns when every worker is done; what is left stays queued.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

async fn work(outbox: Outbox, mut stopped: watch::Receiver<bool>) {
    let inner = &outbox.inner;
    // Outcomes being recorded: a worker moves on while the last outcome is written (the
    // record is fenced by its claim, so it cannot be confused with a later one), and
    // waits for them all before it ends.
    let mut records = JoinSet::new();
    // The next delivery, claimed while the current one was being sent, so that the SMTP
    // connection does not sit idle during the claim's round trip.
    let mut next: Option<Claimed> = None;
    loop {
        while records.try_join_next().is_some() {}
        // A slow database holds the worker back rather than piling up records.
        while records.len() >= MAX_PENDING_RECORDS {
            records.join_next().await;
        }
        if *stopped.borrow() {
            break;
        }
        let current = match next.take() {
            Some(claimed) => claimed,
            None => match inner.store.deliveries.claim(inner.options.lease).await {
                Ok(Some(claimed)) => claimed,
                Ok(None) => {
                    idle(&outbox, &mut stopped, IDLE_POLL).await;
                    continue;
                }
                Err(e) => {
                    log::warn!("delivery worker cannot claim: {e}");
                    idle(&outbox, &mut stopped, ERROR_PAUSE).await;
                    continue;
                }
            },
        };
        let claim_next = async {
            if *stopped.borrow() {
                return None;
            }
            match inner.store.deliveries.claim(inner.options.lease).await {
                Ok(claimed) => claimed,
                Err(e) => {
                    log::warn!("delivery worker cannot claim: {e}");
                    None
                }
            }
        };
        let (decided, claimed_next) = tokio::join!(deliver(&outbox, &current), claim_next);
        next = claimed_next;
        if let Some(decided) = decided {
            let outbox = outbox.clone();
            records.spawn(async move { record(&outbox, &current, decided).await });
        }
    }
    // Stopping: a delivery claimed ahead goes back to the queue at once rather than
    // waiting out its lease.
    if let Some(unsent) = next
        && let Err(e) = inner.store.deliveries.release(&unsent.delivery).await
    {
        log::warn!(
            "delivery={} claimed but not attempted; due again when its lease ends: {e}",
            unsent.delivery.id
        );
    }
    while records.join_next().await.is_some() {}
}

/// Waits for a delivery queued here, the pause, or the stop.
async fn idle(outbox: &Outbox, stopped: &mut watch::Receiver<bool>, pause: Duration) {
    tokio::select! {
        _ = outbox.inner.queued.notified() => {}
        _ = tokio::time::sleep(pause) => {}
        _ = stopped.changed() => {}
    }
}

/// One attempt of a claimed delivery: what to record, or `None` to leave it claimed
/// (due again when its lease ends).
async fn deliver(outbox: &Outbox, claimed: &Claimed) -> Option<Outcome> {
    let inner = &outbox.inner;
    let Claimed {
        delivery,
        content,
        round_attempts,
    } = claimed;
    let notifier = match delivery.notifier {
        Some(id) => match inner.store.notifiers.notifier(id).await {
            Ok(notifier) => Some(notifier),
            Err(notifier_store::Error::NotFound) => None,
            Err(e) => {
                log::warn!("delivery={} cannot read its notifier: {e}", delivery.id);
                return None;
            }
        },
        None => None,
    };
    Some(match (notifier, content) {
        (None, _) => unsendable("the notifier was deleted"),
        (Some(_), None) => unsendable("the message text is no longer stored"),
        (Some(notifier), Some(content)) => {
            let settings = match sending_settings(&inner.store, &notifier).await {
                Ok(settings) => settings,
                Err(e) => {
                    log::warn!(
                        "delivery={} cannot read its notifier's sending settings: {e}",
                        delivery.id
                    );
                    return None;
                }
            };
            let result = attempt(
                &inner.mailer,
                &inner.counters,
                &notifier,
                &settings,
                delivery,
                content.clone(),
            )
            .await;
            let now = inner.store.deliveries.now();
            outcome(&result, *round_attempts, inner.options.max_attempts, now)
        }
    })
}

async fn record(outbox: &Outbox, claimed: &Claimed, decided: Outcome) {
    let delivery = &claimed.delivery;
    match outbox
        .inner
        .store
        .deliveries
        .record(delivery, decided)
        .await
    {
        Ok(Some(_)) => {}
        Ok(None) => log::warn!(
            "delivery={} outlasted its lease; the outcome recorded by the worker that took it over stands",
            delivery.id
        ),
        Err(e) => log::error!(
            "delivery={} attempt made but its outcome was not recorded; it will be attempted again when its lease ends: {e}",
            delivery.id
        ),
    }
}

/// Deletes finished deliveries past `delivery.retention_days` and audit records past
/// `audit.retention_days`, a batch at a time.
async fn sweep(outbox: Outbox, mut stopped: watch::Receiver<bool>) {
    let inner = &outbox.inner;
    let store = &inner.store;
    while !*stopped.borrow() {
        drain("finished deliveries", || {
            store.deliveries.purge(inner.options.retention, SWEEP_BATCH)
        })
        .await;
        drain("audit records", || {
            store
                .audit
                .prune(inner.options.audit_retention, SWEEP_BATCH)
        })
        .await;
        tokio::select! {
            _ = tokio::time::sleep(SWEEP_EVERY) => {}
            _ = stopped.changed() => {}
        }
    }
}

/// Runs `purge` until it takes less than a whole batch.
async fn drain<F>(what: &str, purge: impl Fn() -> F)
where
    F: std::future::Future<Output = notifier_store::Result<u64>>,
{
    loop {
        match purge().await {
            Ok(n) if n == SWEEP_BATCH => continue,
            Ok(n) => {
                if n > 0 {
                    log::info!("deleted {n} {what} past their retention");
                }
                return;
            }
            Err(e) => {
                log::warn!("cannot delete old {what}: {e}");
                return;
            }
        }
    }
}
