//! The OpenAPI 3 description, generated from the handlers' `#[utoipa::path]` annotations and
//! the DTO types; served at `/api/schema`, browsable at `/api/docs` (Swagger UI in the binary).

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::handlers::{create, delete, health, list, me, retrieve, send, smtp_check, update};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "notifier",
        description = "Email notifiers: stored SMTP configurations, and mail sent through them. \
            Authenticate with `Authorization: Token <key>`. A request passes when its user is \
            active and is an admin, or is staff and holds the endpoint's permission code.",
    ),
    paths(
        list::list, create::create, retrieve::retrieve, update::partial_update, update::replace,
        delete::delete, smtp_check::smtp_check, send::send, me::me, health::healthz,
        health::readyz, crate::metrics::metrics,
    ),
    // Schemas that only response sets (`IntoResponses`) name: utoipa collects the schemas
    // of `body = ...` but not theirs, and a `$ref` to an undefined schema voids the document.
    components(schemas(Detail, FieldErrorsBody)),
    modifiers(&TokenSecurity),
    tags(
        (name = "notifiers", description = "Email notifier CRUD (codes 2830-2834)"),
        (name = "sending", description = "Checking settings and sending mail (code 2835)"),
        (name = "account", description = "Who a token belongs to"),
        (name = "operations", description = "Health, readiness and metrics; no authentication"),
    ),
)]
pub struct ApiDoc;

/// The `Token` scheme: DRF's `Authorization: Token <key>` (`Bearer` is accepted too).
struct TokenSecurity;

impl Modify for TokenSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = ApiKey::Header(ApiKeyValue::with_description(
            "Authorization",
            "`Token <key>` (or `Bearer <key>`); tokens come from `notifier token create`.",
        ));
        components.add_security_scheme("Token", SecurityScheme::ApiKey(scheme));
    }
}

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

/// The writable fields of a notifier. POST and PUT require `name`, `host`, `username`,
/// `password` and `from_email`; PATCH takes any subset. Unknown keys are ignored.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NotifierWrite {
    /// Trimmed; 1-255 characters; unique regardless of case.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"\S",
        example = "hamgam_mail"
    )]
    pub name: Option<String>,
    /// A DNS host name or an IP literal.
    #[schema(format = Hostname, max_length = 255, example = "mail.hamgam.online")]
    pub host: Option<String>,
    /// Defaults on create to 465 with `use_ssl`, else 587 with `use_tls`, else 25.
    #[schema(minimum = 1, maximum = 65535, example = 887)]
    pub port: Option<u16>,
    #[schema(min_length = 1, max_length = 255, pattern = r"\S", example = "info")]
    pub username: Option<String>,
    /// Stored encrypted. On PATCH/PUT, `********` keeps the stored password.
    #[schema(
        write_only,
        min_length = 1,
        max_length = 1024,
        example = "somepassword"
    )]
    pub password: Option<String>,
    #[schema(format = Email, max_length = 254, example = "info@hamgam.online")]
    pub from_email: Option<String>,
    /// STARTTLS; default true.
    pub use_tls: Option<bool>,
    /// Implicit TLS; default false; wins over `use_tls`.
    pub use_ssl: Option<bool>,
    /// On SMTP failure, `/send` answers 200 with `sent: 0` instead of 502; default false.
    pub fail_silently: Option<bool>,
}

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

/// `/test`'s optional body.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CheckBody {
    /// When given, a short test message is sent there too.
    #[schema(format = Email)]
    pub to: Option<String>,
}

/// `/send`'s body: at most 100 recipients in all.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SendBody {
    #[schema(min_items = 1)]
    pub to: Vec<String>,
    pub cc: Option<Vec<String>>,
    /// Envelope only, never in a header.
    pub bcc: Option<Vec<String>>,
    #[schema(format = Email)]
    pub reply_to: Option<String>,
    /// One line.
    pub subject: String,
    pub body: String,
    /// Sent as the HTML alternative of `body`.
    pub html_body: Option<String>,
}

/// The document as JSON, for `/api/schema`.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    #[test]
    fn every_reference_resolves() {
        let document = serde_json::to_value(super::document()).unwrap_or_default();
        let mut references = Vec::new();
        collect_references(&document, &mut references);
        assert!(!references.is_empty());
        for reference in references {
            let pointer = reference.strip_prefix('#').unwrap_or_default();
            assert!(
                document.pointer(pointer).is_some(),
                "{reference} is undefined"
            );
        }
    }

    fn collect_references(value: &Value, into: &mut Vec<String>) {
        match value {
            Value::Object(object) => {
                if let Some(Value::String(reference)) = object.get("$ref") {
                    into.push(reference.clone());
                }
                object.values().for_each(|v| collect_references(v, into));
            }
            Value::Array(items) => items.iter().for_each(|v| collect_references(v, into)),
            _ => {}
        }
    }
}
