//! OPTIONS answers: DRF's metadata, which the original product's clients may read.

use std::future::{Ready, ready};

use actix_web::http::header;
use actix_web::{HttpResponse, http::header::ContentType};

use crate::ApiError;
use crate::auth::{Authenticated, Require, markers::AdminOnly};
use crate::paths::ME_ALLOW;

/// The serializer's fields as DRF's SimpleMetadata describes them.
const NOTIFIER_FIELDS: &str = r#"{"id":{"type":"integer","required":false,"read_only":true,"label":"ID"},"name":{"type":"string","required":true,"read_only":false,"label":"Name","max_length":255},"host":{"type":"string","required":true,"read_only":false,"label":"Host","max_length":255},"port":{"type":"integer","required":false,"read_only":false,"label":"Port"},"username":{"type":"string","required":true,"read_only":false,"label":"Username","max_length":255},"password":{"type":"string","required":true,"read_only":false,"label":"Password","max_length":1024},"from_email":{"type":"email","required":true,"read_only":false,"label":"From email","max_length":254},"use_tls":{"type":"boolean","required":false,"read_only":false,"label":"Use tls"},"use_ssl":{"type":"boolean","required":false,"read_only":false,"label":"Use ssl"},"fail_silently":{"type":"boolean","required":false,"read_only":false,"label":"Fail silently"},"created_at":{"type":"datetime","required":false,"read_only":true,"label":"Created at"},"updated_at":{"type":"datetime","required":false,"read_only":true,"label":"Updated at"}}"#;

/// OPTIONS on a notifier route: admins only, as DRF's permission class maps no code to it.
/// `action` is the write method the metadata describes (`POST` or `PUT`).
pub fn notifier_options(
    action: &'static str,
    allow: &'static str,
) -> impl Fn(Require<AdminOnly>) -> Ready<Result<HttpResponse, ApiError>> + Clone {
    move |_| {
        let body = format!(
            r#"{{"name":"Email Notifier","description":"","renders":["application/json"],"parses":["application/json"],"actions":{{"{action}":{NOTIFIER_FIELDS}}}}}"#
        );
        ready(Ok(json_with_allow(body, allow)))
    }
}

/// OPTIONS on /api/me: any authenticated user.
pub async fn me_options(_: Authenticated) -> HttpResponse {
    let body = r#"{"name":"Me","description":"Who the token belongs to and which codes it may exercise.","renders":["application/json"],"parses":["application/json"]}"#;
    json_with_allow(body.to_owned(), ME_ALLOW)
}

fn json_with_allow(body: String, allow: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ContentType::json())
        .insert_header((header::ALLOW, allow))
        .body(body)
}
