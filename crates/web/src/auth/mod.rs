//! Token authentication in two steps: a middleware resolves `Authorization` to an
//! [`AuthOutcome`] once (the async lookup), and synchronous extractors decide per endpoint.
//! The extractor is each handler's first argument, so 401/403 win over body errors.

mod header;
mod middleware;
mod outcome;

pub(crate) use outcome::AuthOutcome;
mod require;

pub use header::{Credentials, parse as parse_credentials};
pub use middleware::resolve_principal;
pub(crate) use require::authorize;
pub use require::{Authenticated, Needs, Require, markers};
