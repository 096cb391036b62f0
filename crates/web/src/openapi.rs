//! The OpenAPI 3 description, generated from the handlers' `#[utoipa::path]` annotations and
//! the DTO types; served at `/api/schema`, browsable at `/api/docs` (Swagger UI in the binary).

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api_docs::{Detail, FieldErrorsBody, IdempotentOperations};
use crate::handlers::{
    audit_log, authentication, create, delete, delivery_actions, delivery_log, dkim, health, list,
    me, metrics, retrieve, send, smtp_check, update,
};

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
        delete::delete, authentication::retrieve, authentication::replace, dkim::retrieve,
        dkim::replace, dkim::delete, smtp_check::smtp_check, send::send, delivery_log::list,
        delivery_log::retrieve, delivery_actions::retry, delivery_actions::cancel, me::me,
        audit_log::list,
        health::healthz,
        health::readyz, metrics::metrics,
    ),
    // Schemas that only response sets (`IntoResponses`) name: utoipa collects the schemas
    // of `body = ...` but not theirs, and a `$ref` to an undefined schema voids the document.
    components(schemas(Detail, FieldErrorsBody)),
    modifiers(&TokenSecurity, &IdempotentOperations),
    tags(
        (name = "notifiers", description = "Email notifier CRUD (codes 2830-2834), and how each logs in"),
        (name = "sending", description = "Checking settings and sending mail (code 2835)"),
        (name = "deliveries", description = "The delivery log (code 2836); retry and cancel (code 2835)"),
        (name = "account", description = "Who a token belongs to"),
        (name = "audit", description = "The audit log: who changed what, and when (code 2837)"),
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

/// The document as JSON, for `/api/schema`.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

#[cfg(test)]
mod tests;
