//! The list's query parameters (§4). Described by hand so that the page size and search
//! limits in the descriptions come from `notifier_domain::limits`: a derived `IntoParams`
//! takes its descriptions from doc comments, which cannot name a constant.

use notifier_domain::limits::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_SEARCH_TERMS};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{RefOr, Required, Schema};
use utoipa::{IntoParams, PartialSchema};

pub struct ListParams;

impl IntoParams for ListParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = page_params();
        params.extend([
            query(
                "search",
                String::schema(),
                Some(&format!(
                    "Case-insensitive substring of name, host, username or from_email; several \
                     terms separated by spaces or commas must all match (the first \
                     {MAX_SEARCH_TERMS} count, the rest are ignored)."
                )),
            ),
            query(
                "ordering",
                String::schema(),
                Some(
                    "`id`, `name`, `created_at` or `updated_at`, `-` for descending; comma-separated.",
                ),
            ),
            query("host", String::schema(), Some("Exact host.")),
            query("use_tls", bool::schema(), None),
            query("use_ssl", bool::schema(), None),
            query("fail_silently", bool::schema(), None),
        ]);
        params
    }
}

/// The delivery log's parameters (§9).
pub struct DeliveryListParams;

impl IntoParams for DeliveryListParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = page_params();
        params.extend([
            query("notifier", i64::schema(), Some("The notifier's id.")),
            query(
                "status",
                String::schema(),
                Some("`queued`, `sending`, `sent`, `deferred`, `failed` or `cancelled`."),
            ),
            query(
                "ordering",
                String::schema(),
                Some("`created_at`, `-created_at` (the default), `id` or `-id`."),
            ),
        ]);
        params
    }
}

/// The audit log's parameters (§12).
pub struct AuditListParams;

impl IntoParams for AuditListParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = page_params();
        params.extend([
            query("notifier", i64::schema(), Some("The notifier's id.")),
            query("actor", String::schema(), Some("A username, or `cli`.")),
            query(
                "action",
                String::schema(),
                Some("E.g. `create`, `update`, `send`, `dkim.update`, `token.create`."),
            ),
        ]);
        params
    }
}

/// DRF pagination's two parameters, shared by every list.
fn page_params() -> Vec<Parameter> {
    vec![
        query(
            "page",
            String::schema(),
            Some("Page number from 1, or `last`."),
        ),
        query(
            "page_size",
            u32::schema(),
            Some(&format!(
                "Items per page: default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE}."
            )),
        ),
    ]
}

fn query(name: &str, schema: RefOr<Schema>, description: Option<&str>) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(description)
        .schema(Some(schema))
        .build()
}
