use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use notifier_domain::parse_send;
use serde::Serialize;

use super::parse_id;
use crate::api_docs::{AuthFailures, BodyFailures, Detail, SendBody, UnknownNotifier};
use crate::audit_context::Audit;
use crate::auth::{Require, markers::SendWithNotifier};
use crate::body::JsonObject;
use crate::dto::DeliveryResponse;
use crate::links::absolute_path;
use crate::paths::{DELIVERIES_PATH, SEND_PATH};
use crate::{ApiError, AppState};

#[derive(Serialize, utoipa::ToSchema)]
pub struct SendResponse {
    sent: u8,
    message_id: Option<String>,
    detail: &'static str,
    /// The delivery recorded for this message (`/api/notifications/deliveries/{id}`).
    delivery: i64,
}

#[utoipa::path(
    post, path = SEND_PATH, tag = "sending",
    params(
        ("id" = i64, Path, description = "The notifier's id"),
        ("Prefer" = Option<String>, Header, description = "`respond-async`: record the message as queued and answer 202 at once"),
    ),
    request_body(content = SendBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Sent (`sent: 1`), or failed with `fail_silently` (`sent: 0`)", body = SendResponse,
            headers(("Location" = String, description = "URL of the delivery"))),
        (status = 202, description = "`Prefer: respond-async`: queued for the delivery workers", body = DeliveryResponse,
            headers(("Location" = String, description = "URL of the delivery"),
                     ("Preference-Applied" = String, description = "`respond-async`"))),
        BodyFailures,
        AuthFailures,
        UnknownNotifier,
        (status = 502, description = "The SMTP exchange failed: `SMTP error: <reason>`, with the delivery's id (when the failure was transient, the message was queued for retry)", body = Detail),
    ),
    security(("Token" = [])),
)]
/// POST .../{id}/send (permission 2835): one message, recorded as a delivery before any
/// SMTP traffic. By default the first attempt is made now: 502 on SMTP failure unless the
/// notifier fails silently, which answers 200 with `sent: 0` as Django's `send_mail`
/// returns 0. With `Prefer: respond-async` it is queued and answered 202.
pub async fn send(
    _: Require<SendWithNotifier>,
    Audit(audit): Audit,
    id: web::Path<String>,
    req: HttpRequest,
    state: web::Data<AppState>,
    JsonObject(body): JsonObject,
) -> Result<HttpResponse, ApiError> {
    let notifier = state.store.notifiers.notifier(parse_id(&id)?).await?;
    let request = parse_send(&body).map_err(ApiError::Validation)?;
    if prefers_async(&req) {
        let delivery = state.outbox.enqueue(&notifier, request, &audit).await?;
        let mut response = HttpResponse::build(StatusCode::ACCEPTED);
        response
            .insert_header(location(&req, delivery.id))
            .insert_header(("Preference-Applied", "respond-async"));
        return Ok(response.json(DeliveryResponse::new(&delivery)));
    }
    let sent = state.outbox.send_now(&notifier, request, &audit).await?;
    let delivery = sent.delivery.id;
    let retrying = sent.queued_for_retry();
    let body = match sent.result {
        Ok(message_id) => SendResponse {
            sent: 1,
            message_id: Some(message_id),
            detail: "sent",
            delivery,
        },
        Err(e) if !notifier.fail_silently => {
            let retry_note = if retrying { "; queued for retry" } else { "" };
            return Err(ApiError::SendFailed {
                reason: format!("{e}{retry_note}"),
                delivery,
                location: location(&req, delivery).1,
            });
        }
        Err(_) => SendResponse {
            sent: 0,
            message_id: None,
            detail: if retrying {
                "not sent (fail_silently); queued for retry"
            } else {
                "not sent (fail_silently)"
            },
            delivery,
        },
    };
    Ok(HttpResponse::Ok()
        .insert_header(location(&req, delivery))
        .json(body))
}

/// RFC 7240: `Prefer` holds comma-separated preferences, each a token with optional
/// parameters; the header may be repeated.
fn prefers_async(req: &HttpRequest) -> bool {
    req.headers()
        .get_all("prefer")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|preference| {
            let token = preference.split(';').next().unwrap_or_default();
            token.trim().eq_ignore_ascii_case("respond-async")
        })
}

fn location(req: &HttpRequest, delivery: i64) -> (header::HeaderName, String) {
    (
        header::LOCATION,
        absolute_path(req, &format!("{DELIVERIES_PATH}/{delivery}")),
    )
}
