use std::time::Instant;

use actix_web::{HttpResponse, web};
use notifier_domain::{AuditAction, AuditEntry, Changes, parse_test};
use serde::Serialize;

use notifier_delivery::sending_settings;
use notifier_mailer::StepReport;

use super::parse_id;
use crate::api_docs::{AuthFailures, BodyFailures, CheckBody, UnknownNotifier};
use crate::audit_context::Audit;
use crate::auth::{Require, markers::SendWithNotifier};
use crate::body::JsonObject;
use crate::paths::CHECK_PATH;
use crate::{ApiError, AppState};

#[derive(Serialize, utoipa::ToSchema)]
pub struct CheckResponse {
    success: bool,
    detail: String,
    duration_ms: u128,
    /// The steps that ran, in order; steps never reached are absent.
    steps: Vec<CheckStep>,
    /// On failure, a suggested fix when the failure is a known mistake; null on success.
    hint: Option<String>,
}

/// One step of the SMTP conversation.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CheckStep {
    /// `oauth2_token`, `resolve`, `connect`, `tls`, `ehlo` (twice around STARTTLS), `auth`,
    /// `mail_from`, `rcpt_to` or `data`.
    #[schema(example = "tls")]
    step: &'static str,
    ok: bool,
    duration_ms: u128,
    /// What the step found, or why it failed.
    detail: String,
}

impl From<StepReport> for CheckStep {
    fn from(report: StepReport) -> Self {
        Self {
            step: report.step.as_str(),
            ok: report.ok,
            duration_ms: report.duration.as_millis(),
            detail: report.detail,
        }
    }
}

#[utoipa::path(
    post, path = CHECK_PATH, tag = "sending",
    params(("id" = i64, Path, description = "The notifier's id")),
    request_body(content = Option<CheckBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "The outcome of the check, successful or not", body = CheckResponse),
        BodyFailures,
        AuthFailures,
        UnknownNotifier,
    ),
    security(("Token" = [])),
)]
/// POST .../{id}/test (permission 2835): connect, TLS, AUTH, QUIT; with `to`, also send a short message.
/// A failed check is still a 200: the answer is about the settings, not the request. `steps` lists
/// each step that ran with its timing; `hint` suggests a fix for a known mistake.
pub async fn smtp_check(
    _: Require<SendWithNotifier>,
    Audit(audit): Audit,
    id: web::Path<String>,
    state: web::Data<AppState>,
    JsonObject(body): JsonObject,
) -> Result<HttpResponse, ApiError> {
    let notifier = state.store.notifiers.notifier(parse_id(&id)?).await?;
    let to = parse_test(&body).map_err(ApiError::Validation)?;
    let settings = sending_settings(&state.store, &notifier).await?;
    let started = Instant::now();
    let report = state
        .mailer
        .diagnose_notifier(notifier.id, &settings, to.as_deref())
        .await;
    let duration_ms = started.elapsed().as_millis();
    let (success, detail) = match report.outcome {
        Ok(done) => (true, done.detail),
        Err(e) => (false, e.to_string()),
    };
    let record = Changes::default().naming("success", success);
    let record = AuditEntry::new(AuditAction::Test, Some(notifier.id), record);
    state.store.audit.append(&audit, record).await?;
    log::info!(
        "smtp test notifier={} recipients={} success={success} duration_ms={duration_ms} detail={detail:?}",
        notifier.id,
        usize::from(to.is_some()),
    );
    Ok(HttpResponse::Ok().json(CheckResponse {
        success,
        detail,
        duration_ms,
        steps: report.steps.into_iter().map(CheckStep::from).collect(),
        hint: report.hint,
    }))
}
