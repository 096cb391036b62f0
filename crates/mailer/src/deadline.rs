//! Time limits of one exchange: each step has `smtp.timeout_secs`, and the whole check or
//! send has `smtp.total_timeout_secs` (docs/API.md §11), whichever ends first.
//!
//! Without the overall limit a slow server could hold a request for the step limit times
//! the number of commands: ten recipients at 1.4 s a reply took 22 s.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{MailError, Result};

/// The limits of one exchange; made when it starts, passed to every step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    step: Duration,
    total: Duration,
    end: Instant,
}

impl Deadline {
    pub(crate) fn start(step: Duration, total: Duration) -> Self {
        Self {
            step,
            total,
            end: Instant::now() + total,
        }
    }

    /// The per-step limit, for lettre's own connect timeout and for messages.
    pub(crate) fn step(&self) -> Duration {
        self.step
    }

    /// Runs one step within its own limit and what is left of the exchange; the error
    /// names whichever limit ran out.
    pub(crate) async fn run<T>(&self, work: impl Future<Output = T>) -> Result<T> {
        let step_end = Instant::now() + self.step;
        if step_end < self.end {
            tokio::time::timeout_at(step_end, work)
                .await
                .map_err(|_| MailError::Timeout(self.step))
        } else {
            tokio::time::timeout_at(self.end, work)
                .await
                .map_err(|_| MailError::TotalTimeout(self.total))
        }
    }

    /// Waits for `work` as long as the whole exchange may last (queueing for a connection
    /// is no step of the SMTP exchange).
    pub(crate) async fn within_total<T>(&self, work: impl Future<Output = T>) -> Result<T> {
        tokio::time::timeout_at(self.end, work)
            .await
            .map_err(|_| MailError::TotalTimeout(self.total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_step_fails_on_its_own_limit_while_time_is_left() {
        let deadline = Deadline::start(Duration::from_millis(50), Duration::from_secs(60));
        let outcome = deadline
            .run(tokio::time::sleep(Duration::from_secs(5)))
            .await;
        assert!(matches!(outcome, Err(MailError::Timeout(_))), "{outcome:?}");
    }

    #[tokio::test]
    async fn steps_that_each_fit_still_end_at_the_total_limit() {
        let deadline = Deadline::start(Duration::from_secs(1), Duration::from_millis(300));
        let started = Instant::now();
        let outcome = loop {
            let step = deadline
                .run(tokio::time::sleep(Duration::from_millis(100)))
                .await;
            if step.is_err() {
                break step;
            }
        };
        let took = started.elapsed();
        assert!(
            matches!(outcome, Err(MailError::TotalTimeout(_))),
            "{outcome:?}"
        );
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_secs(1),
            "{took:?}"
        );
    }
}
