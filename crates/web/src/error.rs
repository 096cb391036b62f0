//! The one mapping from failures to statuses and DRF's bodies.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use notifier_domain::FieldErrors;
use serde_json::json;

#[derive(Debug)]
pub enum ApiError {
    NotAuthenticated,
    AuthenticationFailed(&'static str),
    PermissionDenied,
    NotFound,
    NotifierNotFound,
    DeliveryNotFound,
    /// A retry or cancel that the delivery's state does not allow (409).
    DeliveryConflict(&'static str),
    InvalidPage,
    MethodNotAllowed {
        method: String,
        allow: &'static str,
    },
    UnsupportedMediaType(String),
    PayloadTooLarge,
    /// The body did not arrive within `server.body_timeout_secs`.
    BodyTimeout,
    /// `Host` (or a trusted proxy's forwarded host) is not in `server.allowed_hosts`.
    InvalidHost,
    /// Too many failed authentications from one client; retry after this many seconds.
    Throttled {
        wait_secs: u64,
    },
    ParseError(String),
    Validation(FieldErrors),
    NonFieldError(String),
    /// The `Idempotency-Key` header is not 1–255 visible ASCII characters.
    InvalidIdempotencyKey,
    /// The `Idempotency-Key` was used before for a different request.
    IdempotencyKeyReused,
    /// The first request with this `Idempotency-Key` is still running.
    IdempotencyKeyInProgress,
    /// The SMTP exchange failed; the text is the mailer's client-safe reason (with what
    /// happens next, when the message was queued for retry).
    SmtpFailure(String),
    /// A send's SMTP exchange failed after its delivery was recorded: the body also names
    /// the delivery, and `Location` points at it.
    SendFailed {
        reason: String,
        delivery: i64,
        location: String,
    },
    Unavailable(Box<dyn std::error::Error + Send + Sync>),
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    fn body(&self) -> serde_json::Value {
        let detail = |text: &str| json!({ "detail": text });
        match self {
            ApiError::NotAuthenticated => detail("Authentication credentials were not provided."),
            ApiError::AuthenticationFailed(message) => detail(message),
            ApiError::PermissionDenied => {
                detail("You do not have permission to perform this action.")
            }
            ApiError::NotFound => detail("Not found."),
            ApiError::NotifierNotFound => detail("No EmailNotifier matches the given query."),
            ApiError::DeliveryNotFound => detail("No Delivery matches the given query."),
            ApiError::DeliveryConflict(message) => detail(message),
            ApiError::InvalidPage => detail("Invalid page."),
            ApiError::MethodNotAllowed { method, .. } => {
                detail(&format!("Method \"{method}\" not allowed."))
            }
            ApiError::UnsupportedMediaType(media) => {
                detail(&format!("Unsupported media type \"{media}\" in request."))
            }
            ApiError::PayloadTooLarge => detail("Request body is too large."),
            ApiError::BodyTimeout => detail("Request body timed out."),
            ApiError::InvalidHost => detail("Invalid host header."),
            ApiError::Throttled { wait_secs } => detail(&throttled(*wait_secs)),
            ApiError::ParseError(reason) => detail(&format!("JSON parse error - {reason}")),
            ApiError::Validation(errors) => json!(errors),
            ApiError::NonFieldError(message) => json!({ "non_field_errors": [message] }),
            ApiError::InvalidIdempotencyKey => detail("Invalid Idempotency-Key."),
            ApiError::IdempotencyKeyReused => {
                detail("Idempotency-Key was already used for a different request.")
            }
            ApiError::IdempotencyKeyInProgress => {
                detail("A request with this Idempotency-Key is in progress.")
            }
            ApiError::SmtpFailure(reason) => detail(&format!("SMTP error: {reason}")),
            ApiError::SendFailed {
                reason, delivery, ..
            } => json!({ "detail": format!("SMTP error: {reason}"), "delivery": delivery }),
            ApiError::Unavailable(_) => detail("Service temporarily unavailable, try again later."),
            ApiError::Internal(_) => detail("A server error occurred."),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.body())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::NotAuthenticated | ApiError::AuthenticationFailed(_) => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::PermissionDenied => StatusCode::FORBIDDEN,
            ApiError::NotFound
            | ApiError::NotifierNotFound
            | ApiError::DeliveryNotFound
            | ApiError::InvalidPage => StatusCode::NOT_FOUND,
            ApiError::DeliveryConflict(_) => StatusCode::CONFLICT,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::InvalidHost => StatusCode::BAD_REQUEST,
            ApiError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::ParseError(_)
            | ApiError::Validation(_)
            | ApiError::NonFieldError(_)
            | ApiError::InvalidIdempotencyKey => StatusCode::BAD_REQUEST,
            ApiError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::IdempotencyKeyInProgress => StatusCode::CONFLICT,
            ApiError::SmtpFailure(_) | ApiError::SendFailed { .. } => StatusCode::BAD_GATEWAY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Unavailable(source) | ApiError::Internal(source) = self {
            log::error!("request failed: {}", error_chain(source.as_ref()));
        }
        let mut response = HttpResponse::build(self.status_code());
        match self {
            // DRF sends the challenge with every 401.
            ApiError::NotAuthenticated | ApiError::AuthenticationFailed(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Token"));
            }
            ApiError::MethodNotAllowed { allow, .. } => {
                response.insert_header((header::ALLOW, HeaderValue::from_static(allow)));
            }
            ApiError::Throttled { wait_secs } => {
                response.insert_header((header::RETRY_AFTER, *wait_secs));
            }
            ApiError::SendFailed { location, .. } => {
                if let Ok(value) = HeaderValue::from_str(location) {
                    response.insert_header((header::LOCATION, value));
                }
            }
            // The first request is usually done within a second.
            ApiError::IdempotencyKeyInProgress => {
                response.insert_header((header::RETRY_AFTER, 1));
            }
            // The rest of a slow body is never read: the connection cannot be reused.
            ApiError::BodyTimeout => {
                response.force_close();
            }
            _ => {}
        }
        response.json(self.body())
    }
}

impl From<notifier_store::Error> for ApiError {
    fn from(err: notifier_store::Error) -> Self {
        use notifier_store::Error as E;
        match err {
            E::NotFound => ApiError::NotifierNotFound,
            E::NameTaken => ApiError::Validation(FieldErrors::default().with_name_taken()),
            E::PasswordRequired => ApiError::Validation(FieldErrors::single(
                "password",
                notifier_domain::messages::PASSWORD_AGAIN,
            )),
            E::Invalid(errors) => ApiError::Validation(errors),
            E::PageOutOfRange => ApiError::InvalidPage,
            E::DeliveryNotFound => ApiError::DeliveryNotFound,
            E::NotRetryable => {
                ApiError::DeliveryConflict("Only a failed or deferred delivery can be retried.")
            }
            E::NotCancellable => {
                ApiError::DeliveryConflict("Only a queued or deferred delivery can be cancelled.")
            }
            E::Unavailable(cause) => ApiError::Unavailable(cause),
            E::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

/// DRF's `Throttled` text, singular or plural as DRF words it.
fn throttled(wait_secs: u64) -> String {
    let unit = if wait_secs == 1 { "second" } else { "seconds" };
    format!("Request was throttled. Expected available in {wait_secs} {unit}.")
}

/// "outer: inner: innermost", for the log only.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
