//! `.../email/{id}/dkim`: a notifier's DKIM settings (docs/API.md §5, DKIM). A
//! sub-resource: the notifier's own body and `updated_at` never change through it.

use actix_web::{HttpResponse, web};
use notifier_domain::{Dkim, DkimAlgorithm, FieldErrors, Password, parse_dkim};
use notifier_mailer::{DkimKey, DkimKeyError, DkimKeyType};
use serde::{Deserialize, Serialize};

use super::parse_id;
use crate::api_docs::{AuthFailures, BodyFailures, Detail};
use crate::audit_context::Audit;
use crate::auth::{
    Require,
    markers::{RetrieveNotifier, UpdateNotifier},
};
use crate::body::JsonObject;
use crate::paths::DKIM_PATH;
use crate::{ApiError, AppState};

/// The DNS TXT record that publishes the public key.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DnsRecord {
    /// `<selector>._domainkey.<domain>`
    #[schema(example = "mail2026._domainkey.example.com")]
    name: String,
    #[serde(rename = "type")]
    #[schema(example = "TXT")]
    kind: &'static str,
    /// `v=DKIM1; k=rsa|ed25519; p=<base64>`
    #[schema(example = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")]
    value: String,
}

/// A notifier's DKIM settings; the private key is never shown.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DkimResponse {
    #[schema(example = "example.com")]
    domain: String,
    #[schema(example = "mail2026")]
    selector: String,
    #[schema(example = "ed25519-sha256")]
    algorithm: &'static str,
    public_key_dns: DnsRecord,
}

impl DkimResponse {
    fn new(dkim: &Dkim) -> Self {
        Self {
            domain: dkim.domain.clone(),
            selector: dkim.selector.clone(),
            algorithm: dkim.algorithm.as_str(),
            public_key_dns: DnsRecord {
                name: dkim.dns_name(),
                kind: "TXT",
                value: dkim.dns_value(),
            },
        }
    }
}

/// The PUT body.
#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct DkimWrite {
    /// The from_email's domain or a parent of it
    #[schema(example = "example.com")]
    domain: String,
    /// One DNS label
    #[schema(example = "mail2026")]
    selector: String,
    /// `rsa-sha256` (generated keys: 2048 bits) or `ed25519-sha256`
    #[schema(example = "ed25519-sha256")]
    algorithm: String,
    /// PEM, PKCS#8 or (RSA) PKCS#1; without it the server generates a key pair
    #[schema(nullable = false, write_only)]
    private_key: Option<String>,
}

/// 404: no such notifier, or no DKIM settings.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum DkimNotFound {
    /// `No EmailNotifier matches the given query.` for an unknown notifier,
    /// `Not found.` when it has no DKIM settings
    #[response(status = 404)]
    NotFound(Detail),
}

/// A notifier's DKIM settings and the DNS record to publish (permission 2832).
#[utoipa::path(
    get, path = DKIM_PATH, tag = "notifiers", operation_id = "retrieve_notifier_dkim",
    params(("id" = i64, Path, description = "The notifier's id")),
    responses(
        (status = 200, description = "The DKIM settings", body = DkimResponse),
        AuthFailures,
        DkimNotFound,
    ),
    security(("Token" = [])),
)]
pub async fn retrieve(
    _: Require<RetrieveNotifier>,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    match state.store.dkim.get(parse_id(&id)?).await? {
        Some(dkim) => Ok(HttpResponse::Ok().json(DkimResponse::new(&dkim))),
        None => Err(ApiError::NotFound),
    }
}

/// Set a notifier's DKIM settings (permission 2833); without `private_key` a key pair is
/// generated. Every message sent through the notifier is signed from then on.
#[utoipa::path(
    put, path = DKIM_PATH, tag = "notifiers", operation_id = "set_notifier_dkim",
    params(("id" = i64, Path, description = "The notifier's id")),
    request_body(content = DkimWrite, content_type = "application/json"),
    responses(
        (status = 200, description = "The DKIM settings", body = DkimResponse),
        BodyFailures,
        AuthFailures,
        DkimNotFound,
    ),
    security(("Token" = [])),
)]
pub async fn replace(
    _: Require<UpdateNotifier>,
    Audit(audit): Audit,
    id: web::Path<String>,
    state: web::Data<AppState>,
    JsonObject(body): JsonObject,
) -> Result<HttpResponse, ApiError> {
    let notifier = state.store.notifiers.notifier(parse_id(&id)?).await?;
    let input = parse_dkim(&body, &notifier.from_email).map_err(ApiError::Validation)?;
    let key = signing_key(input.algorithm, input.private_key).await?;
    let dkim = Dkim {
        notifier_id: notifier.id,
        domain: input.domain,
        selector: input.selector,
        algorithm: input.algorithm,
        private_key: Password::new(key.to_pem()),
        public_key: key.public_key_base64(),
    };
    state.store.dkim.put(&dkim, &audit).await?;
    log::info!(
        "dkim set notifier={} domain={} selector={} algorithm={} generated={}",
        notifier.id,
        dkim.domain,
        dkim.selector,
        dkim.algorithm,
        !body.contains_key("private_key")
    );
    Ok(HttpResponse::Ok().json(DkimResponse::new(&dkim)))
}

/// Stop signing the notifier's messages (permission 2833).
#[utoipa::path(
    delete, path = DKIM_PATH, tag = "notifiers", operation_id = "delete_notifier_dkim",
    params(("id" = i64, Path, description = "The notifier's id")),
    responses(
        (status = 204, description = "Removed; empty body"),
        AuthFailures,
        DkimNotFound,
    ),
    security(("Token" = [])),
)]
pub async fn delete(
    _: Require<UpdateNotifier>,
    Audit(audit): Audit,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    if state.store.dkim.delete(id, &audit).await? {
        log::info!("dkim removed notifier={id}");
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound)
    }
}

/// The given key, checked against the algorithm, or a new one. Off the async threads:
/// generating an RSA key takes a while.
async fn signing_key(algorithm: DkimAlgorithm, pem: Option<Password>) -> Result<DkimKey, ApiError> {
    let wanted = match algorithm {
        DkimAlgorithm::RsaSha256 => DkimKeyType::Rsa,
        DkimAlgorithm::Ed25519Sha256 => DkimKeyType::Ed25519,
    };
    let given = pem.is_some();
    let made = tokio::task::spawn_blocking(move || match pem {
        Some(pem) => DkimKey::from_pem(pem.expose()),
        None => DkimKey::generate(wanted),
    })
    .await
    .map_err(|e| ApiError::Internal(Box::new(e)))?;
    let key = match made {
        Ok(key) => key,
        Err(DkimKeyError::Generation) => {
            return Err(ApiError::Internal(Box::new(DkimKeyError::Generation)));
        }
        Err(e) => return Err(key_error(e.to_string())),
    };
    if given && key.key_type() != wanted {
        return Err(key_error(format!(
            "This is {}, which does not match the algorithm \"{algorithm}\".",
            key.key_type().label()
        )));
    }
    Ok(key)
}

fn key_error(message: String) -> ApiError {
    ApiError::Validation(FieldErrors::single("private_key", message))
}
