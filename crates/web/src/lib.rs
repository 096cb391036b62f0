//! The HTTP face of the service: routes, the token-auth permission guard, DRF-shaped errors.
//!
//! Handlers stay thin: extract (permission first), validate with `notifier_domain`, call a
//! `notifier_persistence` repository, and map the result to a response DTO. [`ApiError`]
//! is the only place that knows status codes and the contract's error bodies.

mod auth;
mod body;
mod cache;
mod cors;
mod dashboard;
mod dto;
mod epochs;
mod error;
mod handlers;
mod items;
mod links;
mod metrics;
mod openapi;
mod origin;
mod routes;
mod state;
mod throttle;

pub use cors::{cors, sorted_preflight_lists};
pub use epochs::MAX_STALENESS;
pub use error::ApiError;
pub use metrics::{Metrics, record_request};
pub use openapi::document as openapi_document;
pub use origin::{OriginPolicy, check_host};
pub use routes::{ROUTES, configure};
pub use state::{AppState, Caches};
pub use throttle::{AuthThrottle, limit_failed_auth};

/// The access-log format: method, path, status and latency; never headers or bodies.
pub const ACCESS_LOG_FORMAT: &str = "%a \"%r\" %s %b %Dms";
