//! OPTIONS answers: DRF's metadata, which the original product's clients may read.

use std::future::{Ready, ready};
use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpResponse, http::header::ContentType};
use notifier_domain::authentication::{MAX_OAUTH_FIELD_LENGTH, METHODS};
use notifier_domain::limits;
use serde_json::json;

use crate::ApiError;
use crate::auth::{
    Authenticated, Require,
    markers::{AdminOnly, ViewDeliveries},
};
use crate::paths::{DKIM_ALLOW, ME_ALLOW, SETTING_ALLOW};

/// The serializer's fields as DRF's SimpleMetadata describes them, with the domain's limits.
static NOTIFIER_FIELDS: LazyLock<String> = LazyLock::new(|| {
    let field = |kind: &str, required: bool, read_only: bool, label: &str| json!({"type": kind, "required": required, "read_only": read_only, "label": label});
    let limited = |kind: &str, label: &str, max_length: usize| {
        let mut described = field(kind, true, false, label);
        described["max_length"] = json!(max_length);
        described
    };
    json!({
        "id": field("integer", false, true, "ID"),
        "name": limited("string", "Name", limits::MAX_NAME_LENGTH),
        "host": limited("string", "Host", limits::MAX_HOST_LENGTH),
        "port": field("integer", false, false, "Port"),
        "username": limited("string", "Username", limits::MAX_USERNAME_LENGTH),
        "password": limited("string", "Password", limits::MAX_PASSWORD_LENGTH),
        "from_email": limited("email", "From email", limits::MAX_FROM_EMAIL_LENGTH),
        "use_tls": field("boolean", false, false, "Use tls"),
        "use_ssl": field("boolean", false, false, "Use ssl"),
        "fail_silently": field("boolean", false, false, "Fail silently"),
        "created_at": field("datetime", false, true, "Created at"),
        "updated_at": field("datetime", false, true, "Updated at"),
    })
    .to_string()
});

/// OPTIONS on a notifier route: admins only, as DRF's permission class maps no code to it.
/// `action` is the write method the metadata describes (`POST` or `PUT`).
pub fn notifier_options(
    action: &'static str,
    allow: &'static str,
) -> impl Fn(Require<AdminOnly>) -> Ready<Result<HttpResponse, ApiError>> + Clone {
    move |_| {
        let body = format!(
            r#"{{"name":"Email Notifier","description":"","renders":["application/json"],"parses":["application/json"],"actions":{{"{action}":{fields}}}}}"#,
            fields = NOTIFIER_FIELDS.as_str()
        );
        ready(Ok(json_with_allow(body, allow)))
    }
}

/// OPTIONS on a delivery route: who may read the delivery log; no writable fields to
/// describe (retry and cancel take no body).
pub fn delivery_options(
    name: &'static str,
    allow: &'static str,
) -> impl Fn(Require<ViewDeliveries>) -> Ready<Result<HttpResponse, ApiError>> + Clone {
    move |_| {
        let body = format!(
            r#"{{"name":"{name}","description":"","renders":["application/json"],"parses":["application/json"]}}"#
        );
        ready(Ok(json_with_allow(body, allow)))
    }
}

/// OPTIONS on a notifier's DKIM settings: admins only, like the notifier routes.
pub async fn dkim_options(_: Require<AdminOnly>) -> HttpResponse {
    let body = r#"{"name":"Email Notifier DKIM","description":"The notifier's DKIM signing settings.","renders":["application/json"],"parses":["application/json"]}"#;
    json_with_allow(body.to_owned(), DKIM_ALLOW)
}

/// OPTIONS on `/authentication`: admins only, as on the notifier routes; the PUT body's
/// one field as DRF's SimpleMetadata describes a `ChoiceField`.
pub async fn authentication_options(_: Require<AdminOnly>) -> HttpResponse {
    let choice = |names: &[&str]| -> Vec<serde_json::Value> {
        names
            .iter()
            .map(|m| json!({"value": m, "display_name": m}))
            .collect()
    };
    let text = |required: bool, label: &str| {
        json!({"type": "string", "required": required, "read_only": false, "label": label,
               "max_length": MAX_OAUTH_FIELD_LENGTH})
    };
    let body = json!({
        "name": "Authentication",
        "description": "How the notifier logs in to its SMTP server.",
        "renders": ["application/json"],
        "parses": ["application/json"],
        "actions": {"PUT": {
            "method": {
                "type": "choice", "required": true, "read_only": false, "label": "Method",
                "choices": choice(&METHODS),
            },
            "xoauth2": {
                "type": "nested object", "required": false, "read_only": false,
                "label": "Xoauth2",
                "children": {
                    "provider": {"type": "choice", "required": false, "read_only": false,
                                 "label": "Provider", "choices": choice(&["microsoft", "google"])},
                    "tenant": text(false, "Tenant"),
                    "grant": {"type": "choice", "required": false, "read_only": false,
                              "label": "Grant",
                              "choices": choice(&["client_credentials", "refresh_token"])},
                    "token_url": text(false, "Token url"),
                    "client_id": text(true, "Client id"),
                    "client_secret": text(true, "Client secret"),
                    "scope": text(false, "Scope"),
                    "refresh_token": text(false, "Refresh token"),
                },
            },
        }},
    });
    json_with_allow(body.to_string(), SETTING_ALLOW)
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

#[cfg(test)]
mod tests {
    use super::NOTIFIER_FIELDS;

    /// What DRF's SimpleMetadata answers for the original serializer, byte for byte.
    const DRF_FIELDS: &str = r#"{"id":{"type":"integer","required":false,"read_only":true,"label":"ID"},"name":{"type":"string","required":true,"read_only":false,"label":"Name","max_length":255},"host":{"type":"string","required":true,"read_only":false,"label":"Host","max_length":255},"port":{"type":"integer","required":false,"read_only":false,"label":"Port"},"username":{"type":"string","required":true,"read_only":false,"label":"Username","max_length":255},"password":{"type":"string","required":true,"read_only":false,"label":"Password","max_length":1024},"from_email":{"type":"email","required":true,"read_only":false,"label":"From email","max_length":254},"use_tls":{"type":"boolean","required":false,"read_only":false,"label":"Use tls"},"use_ssl":{"type":"boolean","required":false,"read_only":false,"label":"Use ssl"},"fail_silently":{"type":"boolean","required":false,"read_only":false,"label":"Fail silently"},"created_at":{"type":"datetime","required":false,"read_only":true,"label":"Created at"},"updated_at":{"type":"datetime","required":false,"read_only":true,"label":"Updated at"}}"#;

    #[test]
    fn the_fields_built_from_the_domain_limits_are_drfs_bytes() {
        assert_eq!(NOTIFIER_FIELDS.as_str(), DRF_FIELDS);
    }
}
