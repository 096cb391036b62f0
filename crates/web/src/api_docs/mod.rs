//! Types that exist only to describe the API in the OpenAPI document; nothing serializes
//! them. A leaf module: it imports nothing from the handlers, the routes or `openapi`, so
//! handlers can name their documented bodies and responses without an import cycle.

mod bodies;
mod idempotency;
mod params;
mod responses;

pub use bodies::{AuthenticationBody, CheckBody, NotifierWrite, SendBody};
#[cfg(test)]
pub use idempotency::IDEMPOTENT_PATHS;
pub use idempotency::IdempotentOperations;
pub use params::{AuditListParams, DeliveryListParams, ListParams};
pub use responses::{
    AuthFailures, BodyFailures, Detail, FieldErrorsBody, UnknownDelivery, UnknownNotifier,
};
