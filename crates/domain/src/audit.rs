//! The audit log (§12): who changed what, and when. Records are built here, free of I/O;
//! persistence writes each in the transaction of the change it records.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// The `actor` of records written by the CLI.
pub const CLI_ACTOR: &str = "cli";

/// The text a secret's entry in `changes` holds instead of any value.
pub const SECRET_CHANGED: &str = "changed";

/// Who acts and through which request: what every record of one request shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    /// The username, or [`CLI_ACTOR`].
    pub actor: String,
    /// The request's `X-Request-Id`; `None` for the CLI.
    pub request_id: Option<String>,
    /// The client's address; `None` for the CLI.
    pub client_ip: Option<String>,
}

impl AuditContext {
    /// A command run on the server's own machine.
    pub fn cli() -> Self {
        Self {
            actor: CLI_ACTOR.to_owned(),
            request_id: None,
            client_ip: None,
        }
    }
}

/// What a record says happened; the names are the contract's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    Create,
    Update,
    Delete,
    Test,
    Send,
    Retry,
    Cancel,
    AuthenticationUpdate,
    DkimUpdate,
    DkimDelete,
    UserCreate,
    UserGrant,
    UserRevoke,
    UserDeactivate,
    UserActivate,
    TokenCreate,
    TokenRevoke,
    KeysRotate,
}

impl AuditAction {
    pub const fn as_str(self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Update => "update",
            AuditAction::Delete => "delete",
            AuditAction::Test => "test",
            AuditAction::Send => "send",
            AuditAction::Retry => "retry",
            AuditAction::Cancel => "cancel",
            AuditAction::AuthenticationUpdate => "authentication.update",
            AuditAction::DkimUpdate => "dkim.update",
            AuditAction::DkimDelete => "dkim.delete",
            AuditAction::UserCreate => "user.create",
            AuditAction::UserGrant => "user.grant",
            AuditAction::UserRevoke => "user.revoke",
            AuditAction::UserDeactivate => "user.deactivate",
            AuditAction::UserActivate => "user.activate",
            AuditAction::TokenCreate => "token.create",
            AuditAction::TokenRevoke => "token.revoke",
            AuditAction::KeysRotate => "keys.rotate",
        }
    }
}

/// A record's `changes`: `{field: [old, new]}` for each field that changed, a secret as
/// `{field: "changed"}`, and plain `{key: value}` entries naming what was acted on (a
/// delivery, a user, a token id).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes(Map<String, Value>);

impl Changes {
    /// `field` changed from `old` to `new`; nothing when they are equal.
    pub fn field(mut self, field: &str, old: impl Into<Value>, new: impl Into<Value>) -> Self {
        let (old, new) = (old.into(), new.into());
        if old != new {
            self.0
                .insert(field.to_owned(), Value::Array(vec![old, new]));
        }
        self
    }

    /// A secret changed (or was set): never its value.
    pub fn secret(mut self, field: &str, changed: bool) -> Self {
        if changed {
            self.0.insert(field.to_owned(), Value::from(SECRET_CHANGED));
        }
        self
    }

    /// What the action was done to, e.g. `("delivery", 42)` or `("user", "ops")`.
    pub fn naming(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.insert(key.to_owned(), value.into());
        self
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One record to append: the request's context plus what it did.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub action: AuditAction,
    /// The notifier acted on, when there is one.
    pub notifier: Option<i64>,
    pub changes: Changes,
}

impl AuditEntry {
    pub fn new(action: AuditAction, notifier: Option<i64>, changes: Changes) -> Self {
        Self {
            action,
            notifier,
            changes,
        }
    }
}

/// A stored record, as `GET /api/audit` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub notifier: Option<i64>,
    pub changes: Value,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_changed_fields_are_kept_and_secrets_never_show_a_value() {
        let changes = Changes::default()
            .field("name", "a", "b")
            .field("port", 25, 25)
            .secret("password", true)
            .secret("client_secret", false)
            .naming("delivery", 7);
        assert_eq!(
            changes.into_value(),
            json!({"name": ["a", "b"], "password": "changed", "delivery": 7})
        );
        assert!(Changes::default().field("port", 1, 1).is_empty());
    }
}
