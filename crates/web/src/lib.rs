//! The HTTP face of the service: routes, the token-auth permission guard, DRF-shaped errors.
//!
//! Handlers stay thin: extract (permission first), validate with `notifier_domain`, call
//! the `notifier_store` (which owns every cache and write), and map the result to a
//! response. [`ApiError`] is the only place that knows status codes and the contract's
//! error bodies.

mod api_docs;
mod audit_context;
mod auth;
mod body;
mod cors;
mod dashboard;
mod dto;
mod error;
mod failed_auth;
mod handlers;
mod host_check;
mod idempotency;
mod links;
mod metrics;
mod openapi;
mod origin;
mod paths;
mod request_id;
mod request_metrics;
mod routes;
mod state;
mod throttle;

pub use cors::{cors, sorted_preflight_lists};
pub use dto::NotifierBodies;
pub use error::ApiError;
pub use failed_auth::limit_failed_auth;
pub use host_check::check_host;
pub use metrics::Metrics;
pub use openapi::document as openapi_document;
pub use origin::OriginPolicy;
pub use paths::ROUTES;
pub use request_id::{X_REQUEST_ID, access_log, assign_request_id};
pub use request_metrics::record_request;
pub use routes::configure;
pub use state::AppState;
pub use throttle::AuthThrottle;
