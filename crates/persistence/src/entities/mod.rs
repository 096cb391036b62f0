//! SeaORM entities: the tables as the migrations create them. Private to this crate;
//! repositories hand out domain types.

pub(crate) mod api_token;
pub(crate) mod audit_log;
pub(crate) mod delivery;
pub(crate) mod email_notifier;
pub(crate) mod idempotency_key;
pub(crate) mod notifier_authentication;
pub(crate) mod notifier_dkim;
pub(crate) mod permission_grant;
pub(crate) mod server_meta;
pub(crate) mod user;
