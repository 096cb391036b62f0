//! The JSON body extractor: DRF's JSONParser and the serializer's "expected a dictionary".
//! Use it after the permission extractor, so 401/403 win over 413/415/400.

use actix_web::dev::Payload;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde_json::{Map, Value};

use crate::{ApiError, AppState};

/// Used when no state is registered (never in the real app).
const FALLBACK_LIMIT: usize = 64 * 1024;
const FALLBACK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A request body that is a JSON object; an empty body reads as `{}`, as in DRF.
pub struct JsonObject(pub Map<String, Value>);

impl FromRequest for JsonObject {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let read = read_json_body(req, payload);
        Box::pin(async move {
            match read.await? {
                None => Ok(JsonObject(Map::new())),
                Some(body) => parse_object(&body).map(JsonObject),
            }
        })
    }
}

/// The body's bytes, read as [`JsonObject`] reads them, with the same refusals (415, 413,
/// 408) in the same order; `None` when the request declares no body (read as `{}`).
pub(crate) fn read_json_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<Option<Bytes>, ApiError>> {
    let state = req.app_data::<web::Data<AppState>>();
    let limit = state.map_or(FALLBACK_LIMIT, |s| s.body_limit);
    let deadline = state.map_or(FALLBACK_TIMEOUT, |s| s.body_timeout);
    let header = |name| {
        req.headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let content_type = header(CONTENT_TYPE).unwrap_or_default();
    let declared_length = header(CONTENT_LENGTH).and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = header(TRANSFER_ENCODING).is_some();
    let mut payload = payload.take();
    Box::pin(async move {
        if declared_length.unwrap_or(0) == 0 && !chunked {
            return Ok(None);
        }
        if !is_json(&content_type) {
            return Err(ApiError::UnsupportedMediaType(content_type));
        }
        if declared_length.is_some_and(|length| length > limit) {
            return Err(ApiError::PayloadTooLarge);
        }
        // A client that trickles its body would otherwise hold a worker's slot (and
        // a socket) for as long as it likes, however small the body.
        let read = async {
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| ApiError::ParseError(e.to_string()))?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body.freeze())
        };
        let body = tokio::time::timeout(deadline, read)
            .await
            .map_err(|_| ApiError::BodyTimeout)??;
        Ok(Some(body))
    })
}

fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::ParseError(python_style_reason(&e, body)))?;
    into_object(value)
}

/// `application/json`, with or without parameters such as charset.
fn is_json(content_type: &str) -> bool {
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    media_type.eq_ignore_ascii_case("application/json")
}

fn into_object(value: Value) -> Result<Map<String, Value>, ApiError> {
    let got = match value {
        Value::Object(map) => return Ok(map),
        Value::Null => return Err(ApiError::NonFieldError("No data provided".into())),
        Value::Array(_) => "list",
        Value::String(_) => "str",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
    };
    Err(ApiError::NonFieldError(format!(
        "Invalid data. Expected a dictionary, but got {got}."
    )))
}

/// The reason as Python's `json` module words it, which is what DRF clients have seen.
fn python_style_reason(err: &serde_json::Error, body: &[u8]) -> String {
    let text = err.to_string();
    let what = text.split(" at line ").next().unwrap_or(&text);
    let reason = match what {
        "EOF while parsing a value" | "expected value" => "Expecting value",
        "key must be a string" | "EOF while parsing an object" => {
            "Expecting property name enclosed in double quotes"
        }
        "expected `:`" => "Expecting ':' delimiter",
        "expected `,` or `}`" | "expected `,` or `]`" | "EOF while parsing a list" => {
            "Expecting ',' delimiter"
        }
        "trailing characters" => "Extra data",
        "EOF while parsing a string" => "Unterminated string starting at",
        "invalid escape" => "Invalid \\escape",
        other if other.starts_with("control character") => "Invalid control character at",
        other => other,
    };
    // serde_json points at the last byte read; Python at the offending position.
    let column = if err.is_eof() {
        err.column() + 1
    } else {
        err.column().max(1)
    };
    let line_start: usize = String::from_utf8_lossy(body)
        .split_inclusive('\n')
        .take(err.line().saturating_sub(1))
        .map(|l| l.chars().count())
        .sum();
    let char_index = line_start + column - 1;
    format!(
        "{reason}: line {} column {column} (char {char_index})",
        err.line()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(body: &str) -> String {
        match serde_json::from_str::<Value>(body) {
            Err(e) => python_style_reason(&e, body.as_bytes()),
            Ok(_) => String::from("parsed"),
        }
    }

    #[test]
    fn parse_errors_read_like_python() {
        assert_eq!(
            reason("{\"a\":"),
            "Expecting value: line 1 column 6 (char 5)"
        );
        assert_eq!(reason(""), "Expecting value: line 1 column 1 (char 0)");
        assert_eq!(
            reason("{\"a\" 1}"),
            "Expecting ':' delimiter: line 1 column 6 (char 5)"
        );
    }

    #[test]
    fn content_type_must_be_json() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(!is_json("text/plain"));
        assert!(!is_json(""));
    }
}
