//! Token authentication in two steps: a middleware resolves `Authorization` to an
//! [`AuthOutcome`] once (the async lookup), and synchronous extractors decide per endpoint.
//! The extractor is each handler's first argument, so 401/403 win over body errors.

mod header;
mod middleware;
mod require;

pub use header::{Credentials, parse as parse_credentials};
pub use middleware::resolve_principal;
pub use require::{Authenticated, Require, markers};

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
