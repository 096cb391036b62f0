//! Who is told when a notifier may have changed.

use std::sync::Arc;

type Hook = Arc<dyn Fn(i64) + Send + Sync>;

/// Called with a notifier's id after every write of it through the store, whatever the
/// outcome (a failed write may still have committed). Subscribers hold state derived
/// from a notifier's settings: the mailer's pooled SMTP connections, for one.
#[derive(Clone, Default)]
pub struct ChangeHooks(Vec<Hook>);

impl ChangeHooks {
    pub fn on_change(mut self, hook: impl Fn(i64) + Send + Sync + 'static) -> Self {
        self.0.push(Arc::new(hook));
        self
    }

    pub(crate) fn changed(&self, id: i64) {
        for hook in &self.0 {
            hook(id);
        }
    }
}
