//! The `Idempotency-Key` header of the two POSTs that take it, added to their operations in
//! one place, as the middleware is added to their routes in one place.

use notifier_domain::idempotency::{MAX_KEY_LENGTH, MIN_KEY_LENGTH};
use utoipa::Modify;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Required, ResponseBuilder};

use crate::paths::{NOTIFIERS_PATH, SEND_PATH};

/// The operations that accept `Idempotency-Key`: POST on these paths.
pub const IDEMPOTENT_PATHS: [&str; 2] = [NOTIFIERS_PATH, SEND_PATH];

pub struct IdempotentOperations;

impl Modify for IdempotentOperations {
    fn modify(&self, openapi: &mut OpenApi) {
        for path in IDEMPOTENT_PATHS {
            let Some(operation) = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| item.post.as_mut())
            else {
                continue;
            };
            operation
                .parameters
                .get_or_insert_with(Vec::new)
                .push(RefOr::T(key_parameter()));
            let responses = &mut operation.responses.responses;
            for (status, response) in responses.iter_mut() {
                if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
                    response
                        .headers
                        .insert("Idempotent-Replay".into(), RefOr::T(replay_header()));
                }
            }
            responses.insert(
                "409".into(),
                detail_response(
                    "`A request with this Idempotency-Key is in progress.`: the first request \
                     with this key is still running; `Retry-After: 1`",
                    true,
                ),
            );
            responses.insert(
                "422".into(),
                detail_response(
                    "`Idempotency-Key was already used for a different request.`: another \
                     method, path or body came with this key within 24 hours",
                    false,
                ),
            );
        }
    }
}

fn key_parameter() -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes a retry safe (draft-ietf-httpapi-idempotency-key-header). Keys belong to the \
             token's user and are kept 24 hours. A repeat with the same key, method, path and \
             body gets the first answer again (status, body, `Location`; 400s and 502s too) \
             with `Idempotent-Replay: true`, and nothing is done again. Checked after \
             authentication and permission; a malformed key is 400 `Invalid Idempotency-Key.`. \
             Answers of 500 and 503 are not kept: the retry runs.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(MIN_KEY_LENGTH))
                .max_length(Some(MAX_KEY_LENGTH))
                .pattern(Some("^[\\x21-\\x7E]+$")),
        ))
        .build()
}

fn replay_header() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(
            "`true` when this is the kept answer to an earlier request with the same \
             `Idempotency-Key`",
        ))
        .build()
}

fn detail_response(description: &str, retry_after: bool) -> RefOr<utoipa::openapi::Response> {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Detail")))
            .build(),
    );
    if retry_after {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                .description(Some("Seconds to wait before retrying"))
                .build(),
        );
    }
    RefOr::T(response.build())
}
