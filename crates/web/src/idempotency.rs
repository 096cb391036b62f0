//! The `Idempotency-Key` header (draft-ietf-httpapi-idempotency-key-header) on the POSTs
//! that create a notifier or send a message: a middleware on those two routes, so their
//! handlers stay as they are.
//!
//! Without the header nothing changes. With it, once the caller is known to be allowed
//! (else the handler answers 401/403 as usual, whatever the key), the key is checked (400),
//! the body read, and the store claims the key for the caller's user and a fingerprint of
//! method, path and body. The request then runs, and its answer is kept for 24 hours, or it
//! is answered with the kept answer (`Idempotent-Replay: true`), a 409 while the first is
//! still running, or a 422 when the key came with a different request. The service's own
//! failures (500, 503: the database) are not kept: the key is let go, so the client's retry
//! runs again. A 502 is kept: the SMTP server answered, and a retry would mail again.

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderName, HeaderValue, LOCATION};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError, web};
use notifier_domain::idempotency::{Fingerprint, IdempotencyKey, StoredResponse};
use notifier_store::{Begun, Guard};

use crate::auth::{Needs, authorize};
use crate::body::read_json_body;
use crate::request_id::{naming_request, request_id_of};
use crate::{ApiError, AppState};

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const IDEMPOTENT_REPLAY: HeaderName = HeaderName::from_static("idempotent-replay");

/// Wraps a route whose handler requires `N`; see the module docs.
pub async fn idempotent<N: Needs>(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let mut keys = req.headers().get_all(IDEMPOTENCY_KEY);
    let Some(raw) = keys.next() else {
        return pass(req, next).await;
    };
    let single = keys.next().is_none();
    let (Ok(principal), Some(state)) = (
        authorize::<N>(req.request()),
        req.app_data::<web::Data<AppState>>().cloned(),
    ) else {
        // The handler's own extractor answers, exactly as without a key.
        return pass(req, next).await;
    };
    let key = match IdempotencyKey::parse(raw.as_bytes()) {
        Ok(key) if single => key,
        _ => return Ok(refuse(req, ApiError::InvalidIdempotencyKey)),
    };
    let mut payload = req.take_payload();
    let body = match read_json_body(req.request(), &mut payload).await {
        Ok(body) => body,
        Err(refusal) => return Ok(refuse(req, refusal)),
    };
    let fingerprint = Fingerprint::of(
        req.method().as_str(),
        req.path(),
        body.as_deref().unwrap_or_default(),
    );
    let begun = state
        .store
        .idempotency
        .begin(principal.user.id, &key, fingerprint)
        .await;
    match begun {
        Err(e) => Ok(refuse(req, e.into())),
        Ok(Begun::Replay(stored)) => Ok(req.into_response(replay(stored))),
        Ok(Begun::InProgress) => Ok(refuse(req, ApiError::IdempotencyKeyInProgress)),
        Ok(Begun::Mismatch) => Ok(refuse(req, ApiError::IdempotencyKeyReused)),
        Ok(Begun::Run(guard)) => {
            // The handler reads the body again, as it was.
            req.set_payload(body.map_or(Payload::None, Payload::from));
            // On a task of its own: a client that hangs up does not cut the request short,
            // so the answer its retry is waiting for gets kept.
            actix_web::rt::spawn(run(req, next, guard))
                .await
                .map_err(|e| ApiError::Internal(Box::new(e)).into())
                .and_then(|outcome| outcome)
        }
    }
}

async fn pass(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    Ok(next.call(req).await?.map_into_boxed_body())
}

fn refuse(req: ServiceRequest, error: ApiError) -> ServiceResponse<BoxBody> {
    req.into_response(error.error_response())
}

/// Runs the request holding the key, then keeps its answer, or lets the key go after a
/// failure of the service's own (the client should retry, and the retry should run).
async fn run(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    guard: Guard,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let response = match next.call(req).await {
        Ok(response) if !is_own_failure(response.status()) => response,
        outcome => {
            if let Err(e) = guard.release().await {
                log::warn!("cannot release an idempotency key: {e}");
            }
            return outcome.map(ServiceResponse::map_into_boxed_body);
        }
    };
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let body = match to_bytes(body).await {
        Ok(body) => body,
        Err(e) => {
            let reason: Box<dyn std::error::Error> = e.into();
            if let Err(e) = guard.release().await {
                log::warn!("cannot release an idempotency key: {e}");
            }
            return Err(ApiError::Internal(reason.to_string().into()).into());
        }
    };
    let header = |name| {
        head.headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    // A kept 502 names the request that made it, in its replays too (§12).
    let body = match request_id_of(&request) {
        Some(id) if head.status().is_server_error() => {
            naming_request(&body, &id).map_or(body, Into::into)
        }
        _ => body,
    };
    let stored = StoredResponse {
        status: head.status().as_u16(),
        content_type: header(CONTENT_TYPE),
        location: header(LOCATION),
        body: body.to_vec(),
    };
    // Not kept (the database failed): the key stays claimed until presumed abandoned.
    if let Err(e) = guard.finish(&stored).await {
        log::error!("cannot keep an idempotent request's answer: {e}");
    }
    Ok(ServiceResponse::new(
        request,
        head.set_body(BoxBody::new(body)),
    ))
}

fn is_own_failure(status: StatusCode) -> bool {
    status == StatusCode::INTERNAL_SERVER_ERROR || status == StatusCode::SERVICE_UNAVAILABLE
}

/// The kept answer, as first sent, marked as a replay.
fn replay(stored: StoredResponse) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    for (name, value) in [
        (CONTENT_TYPE, stored.content_type),
        (LOCATION, stored.location),
    ] {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            response.insert_header((name, value));
        }
    }
    response.insert_header((IDEMPOTENT_REPLAY, HeaderValue::from_static("true")));
    response.body(stored.body)
}
