//! Request ids (§12): every response carries `X-Request-Id` (the client's when it is
//! valid, else a new random one), the access log names it, and a 5xx body carries it as
//! `"request_id"`, so that an operator can find the log line of a failed request.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use actix_web::middleware::{Logger, Next};
use actix_web::{HttpMessage, HttpResponse};

use crate::auth::AuthOutcome;

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest client id accepted.
const MAX_LEN: usize = 64;

/// The request's id, in its extensions for handlers (audit records) and the log.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Middleware around everything but the access log: assigns the id, echoes it on the
/// response, and adds it to 5xx JSON bodies.
pub async fn assign_request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(X_REQUEST_ID)
        .map(HeaderValue::as_bytes)
        .filter(|given| valid(given))
        .and_then(|given| std::str::from_utf8(given).ok())
        .map_or_else(generate, str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));
    // (An error instead of a response is rare here: the handlers answer with responses.)
    let mut response = next.call(req).await?.map_into_boxed_body();
    if response.status().is_server_error() && is_json(&response) {
        response = with_request_id(response, &id).await;
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    Ok(response)
}

/// 1 to 64 visible ASCII characters: nothing that could forge a log line.
fn valid(id: &[u8]) -> bool {
    (1..=MAX_LEN).contains(&id.len()) && id.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// 128 random bits, hex.
fn generate() -> String {
    format!("{:032x}", rand::random::<u128>())
}

fn is_json(response: &ServiceResponse<BoxBody>) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/json"))
}

/// The body with `"request_id"` added, when it is a JSON object.
async fn with_request_id(response: ServiceResponse<BoxBody>, id: &str) -> ServiceResponse<BoxBody> {
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let Ok(bytes) = actix_web::body::to_bytes(body).await else {
        // The body could not be read: the client gets what is left, which is nothing.
        return ServiceResponse::new(request, head.set_body(BoxBody::new(())));
    };
    let body = naming_request(&bytes, id).unwrap_or_else(|| bytes.to_vec());
    let response: HttpResponse = head.set_body(BoxBody::new(body));
    ServiceResponse::new(request, response)
}

/// A JSON object body with `"request_id": id` added; `None` for any other body, or one
/// that names its request already (a kept answer replayed names the first request).
pub(crate) fn naming_request(body: &[u8], id: &str) -> Option<Vec<u8>> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(mut fields)) if !fields.contains_key("request_id") => {
            fields.insert("request_id".to_owned(), id.into());
            Some(serde_json::Value::Object(fields).to_string().into_bytes())
        }
        _ => None,
    }
}

/// The id [`assign_request_id`] gave the request.
pub(crate) fn request_id_of(req: &actix_web::HttpRequest) -> Option<String> {
    req.extensions().get::<RequestId>().map(|id| id.0.clone())
}

/// The access log: one line per request with its id, the authenticated user (or `-`),
/// method, route pattern (never the raw path: no query, no ids), status, size and latency.
pub fn access_log() -> Logger {
    Logger::new(
        "%a request_id=%{request_id}xo user=%{user}xo \"%{method}xi %{route}xo\" %s %b %Dms",
    )
    .custom_request_replace("method", |req| req.method().to_string())
    .custom_response_replace("request_id", |res| {
        res.request()
            .extensions()
            .get::<RequestId>()
            .map_or_else(|| "-".to_owned(), |id| id.0.clone())
    })
    .custom_response_replace("user", |res| {
        match res.request().extensions().get::<AuthOutcome>() {
            Some(AuthOutcome::Authenticated(principal)) => principal.user.username.clone(),
            _ => "-".to_owned(),
        }
    })
    .custom_response_replace("route", |res| {
        res.request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_visible_ascii_ids_are_taken() {
        assert!(valid(b"abc-123_X.Y:z"));
        assert!(valid(&[b'a'; 64]));
        for bad in [
            &b""[..],
            &[b'a'; 65],
            b"has space",
            b"tab\t",
            "é".as_bytes(),
            b"\x7f",
        ] {
            assert!(!valid(bad), "{bad:?}");
        }
        let generated = generate();
        assert_eq!(generated.len(), 32);
        assert!(valid(generated.as_bytes()));
    }
}
