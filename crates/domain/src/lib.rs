//! The email notifier and its rules, free of I/O.
//!
//! Everything here is pure: parsing a JSON body the way Django REST Framework coerces it,
//! validating fields with DRF's exact messages, port defaulting, the permission codes and
//! the user/principal model. The web layer feeds it bodies; persistence stores what it yields.

pub mod audit;
mod audit_query;
pub mod authentication;
mod coerce;
mod delivery;
pub mod dkim;
mod email;
mod error;
mod host;
pub mod idempotency;
pub mod limits;
mod list_query;
mod notifier;
pub mod notifier_audit;
mod notifier_input;
mod permission;
mod send_input;
pub mod setting_audit;
mod user;

pub use audit::{AuditAction, AuditContext, AuditEntry, AuditRecord, Changes};
pub use audit_query::{AuditQuery, AuditQueryError};
pub use authentication::{
    Authentication, AuthenticationInput, Grant, Provider, SecretInput, XOAuth2, XOAuth2Input,
    parse_authentication,
};
pub use delivery::{
    Delivery, DeliveryOrder, DeliveryQuery, DeliveryQueryError, DeliveryStatus, backoff,
};
pub use dkim::{Dkim, DkimAlgorithm, DkimInput, parse_dkim};
pub use error::{FieldError, FieldErrors, messages};
// Also at the crate root, where they were before `limits` gathered them.
pub use limits::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_RECIPIENTS};
pub use list_query::{Direction, InvalidPage, ListQuery, OrderField};
pub use notifier::{
    Destination, MASKED_PASSWORD, NewNotifier, Notifier, NotifierChanges, Password, default_port,
    name_key,
};
pub use notifier_input::{parse_create, parse_partial_update, parse_replace};
pub use permission::{Permission, UnknownPermission};
pub use send_input::{SendRequest, parse_send, parse_test};
pub use user::{Principal, User, validate_username};
