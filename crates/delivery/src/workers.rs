//! The workers: each claims one due delivery at a time, attempts it and records the
//! outcome; one more task deletes finished deliveries past their retention.

use std::time::Duration;

use notifier_domain::{Authentication, Notifier};
use notifier_store::Claimed;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::Outbox;
use crate::attempt::{attempt, outcome, unsendable};

/// How long an idle worker waits before looking again, unless this instance queues a
/// delivery first: the delay before a delivery queued by another instance, or come due
/// by its back-off, is picked up.
const IDLE_POLL: Duration = Duration::from_millis(500);
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
    pub(crate) fn start(outbox: Outbox) -> Self {
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
    while !*stopped.borrow() {
        let pause = match inner.store.deliveries.claim(inner.options.lease).await {
            Ok(Some(claimed)) => {
                deliver(&outbox, claimed).await;
                continue;
            }
            Ok(None) => IDLE_POLL,
            Err(e) => {
                log::warn!("delivery worker cannot claim: {e}");
                ERROR_PAUSE
            }
        };
        tokio::select! {
            _ = inner.queued.notified() => {}
            _ = tokio::time::sleep(pause) => {}
            _ = stopped.changed() => {}
        }
    }
}

/// One attempt of a claimed delivery, recorded.
async fn deliver(outbox: &Outbox, claimed: Claimed) {
    let inner = &outbox.inner;
    let deliveries = &inner.store.deliveries;
    let Claimed {
        delivery,
        content,
        round_attempts,
    } = claimed;
    let notifier = match delivery.notifier {
        Some(id) => match sender(&inner.store, id).await {
            Ok(found) => Some(found),
            Err(notifier_store::Error::NotFound) => None,
            Err(e) => {
                // Left as claimed: due again when its lease ends.
                log::warn!("delivery={} cannot read its notifier: {e}", delivery.id);
                return;
            }
        },
        None => None,
    };
    let decided = match (notifier, content) {
        (None, _) => unsendable("the notifier was deleted"),
        (Some(_), None) => unsendable("the message text is no longer stored"),
        (Some((notifier, auth)), Some(content)) => {
            let result = attempt(
                &inner.mailer,
                &inner.counters,
                &notifier,
                &auth,
                &delivery,
                content,
            )
            .await;
            outcome(
                &result,
                round_attempts,
                inner.options.max_attempts,
                deliveries.now(),
            )
        }
    };
    match deliveries.record(&delivery, decided).await {
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

/// The notifier as stored now, and how it logs in now.
async fn sender(
    store: &notifier_store::Store,
    id: i64,
) -> notifier_store::Result<(Notifier, Authentication)> {
    let notifier = store.notifiers.notifier(id).await?;
    let auth = store.authentication.for_sending(id).await?;
    Ok((notifier, auth))
}

/// Deletes finished deliveries past `delivery.retention_days`, a batch at a time.
async fn sweep(outbox: Outbox, mut stopped: watch::Receiver<bool>) {
    let inner = &outbox.inner;
    while !*stopped.borrow() {
        loop {
            match inner
                .store
                .deliveries
                .purge(inner.options.retention, SWEEP_BATCH)
                .await
            {
                Ok(n) if n == SWEEP_BATCH => continue,
                Ok(n) => {
                    if n > 0 {
                        log::info!("deleted {n} finished deliveries past their retention");
                    }
                    break;
                }
                Err(e) => {
                    log::warn!("cannot delete old deliveries: {e}");
                    break;
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(SWEEP_EVERY) => {}
            _ = stopped.changed() => {}
        }
    }
}
