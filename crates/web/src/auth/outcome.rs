use std::sync::Arc;

use notifier_domain::Principal;

/// What the middleware learned about the caller.
#[derive(Debug, Clone)]
pub enum AuthOutcome {
    /// No credentials of a scheme we know.
    Anonymous,
    /// Credentials were given and are wrong; the text is DRF's.
    Rejected(&'static str),
    Authenticated(Arc<Principal>),
    /// The lookup itself failed (database down).
    LookupFailed,
}
