//! The audit log (§12): `GET /api/audit`, permission 2837. Records are appended by the
//! writes they record and never changed through the API (other methods: 405).

use std::future::{Ready, ready};

use actix_web::{HttpRequest, HttpResponse, web};
use notifier_domain::{AuditQuery, AuditQueryError, AuditRecord};
use serde::Serialize;

use crate::api_docs::{AuditListParams, AuthFailures, Detail, FieldErrorsBody};
use crate::auth::{Require, markers::ViewAudit};
use crate::dto::timestamp;
use crate::links::{neighbour_links, query_pairs};
use crate::paths::{AUDIT_PATH, READ_ONLY_ALLOW};
use crate::{ApiError, AppState};

/// One audit record.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AuditRecord)]
pub struct AuditRecordResponse<'a> {
    id: i64,
    #[schema(format = DateTime, example = "2026-12-02T10:10:18.641173Z")]
    at: String,
    /// The username, or `cli`.
    actor: &'a str,
    #[schema(example = "update")]
    action: &'a str,
    /// The notifier's id (kept after it is deleted), or null.
    notifier: Option<i64>,
    /// `{field: [old, new]}` for each field that changed; a secret only as `"changed"`.
    #[schema(value_type = Object, example = json!({"name": ["old", "new"], "password": "changed"}))]
    changes: &'a serde_json::Value,
    request_id: Option<&'a str>,
    client_ip: Option<&'a str>,
}

impl<'a> AuditRecordResponse<'a> {
    fn new(record: &'a AuditRecord) -> Self {
        Self {
            id: record.id,
            at: timestamp(record.at),
            actor: &record.actor,
            action: &record.action,
            notifier: record.notifier,
            changes: &record.changes,
            request_id: record.request_id.as_deref(),
            client_ip: record.client_ip.as_deref(),
        }
    }
}

/// One page of the audit log.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AuditPage)]
pub struct AuditPageResponse<'a> {
    count: u64,
    next: Option<String>,
    previous: Option<String>,
    results: Vec<AuditRecordResponse<'a>>,
}

/// List audit records (permission 2837), newest first, filtered by notifier, actor and
/// action, paginated as notifiers are.
#[utoipa::path(
    get, path = AUDIT_PATH, tag = "audit", operation_id = "list_audit_records",
    params(AuditListParams),
    responses(
        (status = 200, description = "One page of audit records", body = AuditPageResponse),
        (status = 400, description = "A filter's value is not valid", body = FieldErrorsBody),
        AuthFailures,
        (status = 404, description = "`page` out of range or not a positive integer", body = Detail),
    ),
    security(("Token" = [])),
)]
pub async fn list(
    _: Require<ViewAudit>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = AuditQuery::from_pairs(&query_pairs(&req)).map_err(|e| match e {
        AuditQueryError::Page(_) => ApiError::InvalidPage,
        AuditQueryError::Filters(errors) => ApiError::Validation(errors),
    })?;
    let (number, count, records) = state.store.audit.page(&query).await?;
    let num_pages = count.div_ceil(query.page_size).max(1);
    let (next, previous) = neighbour_links(&req, number, num_pages);
    Ok(HttpResponse::Ok().json(AuditPageResponse {
        count,
        next,
        previous,
        results: records.iter().map(AuditRecordResponse::new).collect(),
    }))
}

/// OPTIONS: who may read the audit log; nothing writable to describe.
pub fn options(_: Require<ViewAudit>) -> Ready<Result<HttpResponse, ApiError>> {
    let body = r#"{"name":"Audit Record List","description":"","renders":["application/json"],"parses":["application/json"]}"#;
    ready(Ok(HttpResponse::Ok()
        .insert_header(("Allow", READ_ONLY_ALLOW))
        .content_type("application/json")
        .body(body)))
}
