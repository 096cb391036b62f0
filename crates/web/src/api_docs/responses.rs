//! The error bodies and the response sets that many operations share.

use utoipa::ToSchema;

/// `{"detail": "..."}`: authentication, permission, not found, 405, 413, 415, parse errors.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Detail {
    pub detail: String,
}

/// DRF field errors: each failing field with its messages (list fields: messages per
/// item index), or `non_field_errors`.
#[derive(ToSchema)]
#[schema(example = json!({"name": ["This field is required."], "port": ["A valid integer is required."]}))]
#[allow(dead_code)]
pub struct FieldErrorsBody(std::collections::HashMap<String, serde_json::Value>);

/// 401, 403 and 429: what every authenticated endpoint can answer.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum AuthFailures {
    /// No, malformed, unknown or revoked token; inactive user
    #[response(status = 401)]
    Unauthenticated(Detail),
    /// Authenticated but without the permission code
    #[response(status = 403)]
    Forbidden(Detail),
    /// More than `security.auth_failures_per_minute` 401s from this client in a minute;
    /// `Retry-After` says when to try again. A valid token is never throttled.
    #[response(status = 429, headers(("Retry-After" = u64, description = "Seconds until the client's minute is over")))]
    Throttled(Detail),
}

/// 400, 413 and 415: what a JSON body can get wrong.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum BodyFailures {
    /// Field errors (every failing field), a JSON parse error or a non-object body
    #[response(status = 400)]
    Invalid(FieldErrorsBody),
    /// Body over `server.body_limit`
    #[response(status = 413)]
    TooLarge(Detail),
    /// Content-Type is not application/json
    #[response(status = 415)]
    UnsupportedMediaType(Detail),
    /// The body did not arrive within `server.body_timeout_secs`
    #[response(status = 408)]
    BodyTimedOut(Detail),
}

/// 404 for an id no notifier has.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum UnknownNotifier {
    /// No notifier with this id
    #[response(status = 404)]
    NotFound(Detail),
}

/// 404 for an id no delivery has.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum UnknownDelivery {
    /// No delivery with this id
    #[response(status = 404)]
    NotFound(Detail),
}
