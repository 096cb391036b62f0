//! The steps of one SMTP conversation as `/test` reports them (docs/API.md §10): each with
//! its outcome, duration and a line about what happened. Sends pass [`Trace::off`], which
//! records nothing and costs nothing.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::error::{MailError, Result};

/// A step of the conversation, named as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepName {
    OAuth2Token,
    Resolve,
    Connect,
    Tls,
    Ehlo,
    Auth,
    MailFrom,
    RcptTo,
    Data,
}

impl StepName {
    pub fn as_str(self) -> &'static str {
        match self {
            StepName::OAuth2Token => "oauth2_token",
            StepName::Resolve => "resolve",
            StepName::Connect => "connect",
            StepName::Tls => "tls",
            StepName::Ehlo => "ehlo",
            StepName::Auth => "auth",
            StepName::MailFrom => "mail_from",
            StepName::RcptTo => "rcpt_to",
            StepName::Data => "data",
        }
    }
}

/// One step that ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    pub step: StepName,
    pub ok: bool,
    pub duration: Duration,
    /// What the step found (addresses, the certificate, the extensions offered) or, when
    /// it failed, the error's words.
    pub detail: String,
}

/// Where a conversation writes its steps, when anyone reads them.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    steps: Option<Vec<StepReport>>,
    /// Whether the last EHLO offered STARTTLS, for hints about plain connections.
    pub(crate) starttls_offered: bool,
}

impl Trace {
    pub(crate) fn off() -> Self {
        Self::default()
    }

    pub(crate) fn on() -> Self {
        Self {
            steps: Some(Vec::new()),
            starttls_offered: false,
        }
    }

    pub(crate) fn is_on(&self) -> bool {
        self.steps.is_some()
    }

    /// Runs `work` as step `step`; `describe` words a success.
    pub(crate) async fn step<T>(
        &mut self,
        step: StepName,
        work: impl Future<Output = Result<T>>,
        describe: impl FnOnce(&T) -> String,
    ) -> Result<T> {
        if self.steps.is_none() {
            return work.await;
        }
        let started = Instant::now();
        let outcome = work.await;
        let detail = match &outcome {
            Ok(done) => describe(done),
            Err(e) => e.to_string(),
        };
        self.record(step, outcome.is_ok(), started.elapsed(), detail);
        outcome
    }

    /// A step that failed before it could start (say, STARTTLS not offered).
    pub(crate) fn refuse(&mut self, step: StepName, err: &MailError) {
        self.record(step, false, Duration::ZERO, err.to_string());
    }

    /// Adds `more` to the last step's detail.
    pub(crate) fn amend_last(&mut self, more: &str) {
        if let Some(last) = self.steps.as_mut().and_then(|steps| steps.last_mut()) {
            last.detail.push_str(more);
        }
    }

    fn record(&mut self, step: StepName, ok: bool, duration: Duration, detail: String) {
        if let Some(steps) = &mut self.steps {
            steps.push(StepReport {
                step,
                ok,
                duration,
                detail,
            });
        }
    }

    /// The step that failed last, if any.
    pub(crate) fn failed(&self) -> Option<StepName> {
        self.steps
            .as_ref()?
            .iter()
            .rev()
            .find(|s| !s.ok)
            .map(|s| s.step)
    }

    /// Whether `step` ran and succeeded.
    pub(crate) fn passed(&self, step: StepName) -> bool {
        self.steps
            .as_ref()
            .is_some_and(|steps| steps.iter().any(|s| s.step == step && s.ok))
    }

    pub(crate) fn into_steps(self) -> Vec<StepReport> {
        self.steps.unwrap_or_default()
    }
}
