use std::time::Instant;

use actix_web::{HttpResponse, web};
use notifier_domain::{SendRequest, parse_send};
use notifier_mailer::OutgoingMessage;
use serde::Serialize;

use super::{parse_id, smtp_settings};
use crate::api_docs::{AuthFailures, BodyFailures, Detail, SendBody, UnknownNotifier};
use crate::auth::{Require, markers::SendWithNotifier};
use crate::body::JsonObject;
use crate::paths::SEND_PATH;
use crate::{ApiError, AppState};

#[derive(Serialize, utoipa::ToSchema)]
pub struct SendResponse {
    sent: u8,
    message_id: Option<String>,
    detail: &'static str,
}

#[utoipa::path(
    post, path = SEND_PATH, tag = "sending",
    params(("id" = i64, Path, description = "The notifier's id")),
    request_body(content = SendBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Sent (`sent: 1`), or failed with `fail_silently` (`sent: 0`)", body = SendResponse),
        BodyFailures,
        AuthFailures,
        UnknownNotifier,
        (status = 502, description = "The SMTP exchange failed: `SMTP error: <reason>`", body = Detail),
    ),
    security(("Token" = [])),
)]
/// POST .../{id}/send (permission 2835): one message; 502 on SMTP failure unless the notifier fails silently,
/// which answers 200 with `sent: 0` as Django's `send_mail` returns 0.
pub async fn send(
    _: Require<SendWithNotifier>,
    id: web::Path<String>,
    state: web::Data<AppState>,
    JsonObject(body): JsonObject,
) -> Result<HttpResponse, ApiError> {
    let notifier = state.store.notifiers.notifier(parse_id(&id)?).await?;
    let request = parse_send(&body).map_err(ApiError::Validation)?;
    let recipients = request.recipient_count();
    let started = Instant::now();
    let outcome = state
        .mailer
        .send(notifier.id, &smtp_settings(&notifier), &message(request))
        .await;
    let duration_ms = started.elapsed().as_millis();
    let id = notifier.id;
    match outcome {
        Ok(message_id) => {
            state.metrics.mail_sent(id);
            log::info!(
                "smtp send notifier={id} recipients={recipients} outcome=sent duration_ms={duration_ms}"
            );
            Ok(HttpResponse::Ok().json(SendResponse {
                sent: 1,
                message_id: Some(message_id),
                detail: "sent",
            }))
        }
        Err(e) => {
            state.metrics.mail_failed(id);
            log::warn!(
                "smtp send notifier={id} recipients={recipients} outcome=failed duration_ms={duration_ms} error={e}"
            );
            if notifier.fail_silently {
                let detail = "not sent (fail_silently)";
                Ok(HttpResponse::Ok().json(SendResponse {
                    sent: 0,
                    message_id: None,
                    detail,
                }))
            } else {
                Err(ApiError::SmtpFailure(e.to_string()))
            }
        }
    }
}

fn message(request: SendRequest) -> OutgoingMessage {
    OutgoingMessage {
        to: request.to,
        cc: request.cc,
        bcc: request.bcc,
        reply_to: request.reply_to,
        subject: request.subject,
        body: request.body,
        html_body: request.html_body,
        message_id: None,
    }
}
