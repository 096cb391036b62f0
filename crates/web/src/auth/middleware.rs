//! The scope middleware that resolves a request's token to a principal, once.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::AUTHORIZATION;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};

use super::AuthOutcome;
use super::header::{Credentials, parse};
use crate::AppState;

const INVALID_TOKEN: &str = "Invalid token.";
const INACTIVE_USER: &str = "User inactive or deleted.";

/// Stores an [`AuthOutcome`] in the request's extensions; never answers by itself, so
/// routing (404/405) and the endpoint's own extractor decide what the client sees.
pub async fn resolve_principal(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let outcome = match req.app_data::<web::Data<AppState>>() {
        Some(state) => {
            let header = req.headers().get(AUTHORIZATION).map(|v| v.as_bytes());
            outcome_for(state, &req, parse(header)).await
        }
        None => AuthOutcome::LookupFailed,
    };
    req.extensions_mut().insert(outcome);
    next.call(req).await
}

async fn outcome_for(
    state: &AppState,
    req: &ServiceRequest,
    credentials: Credentials<'_>,
) -> AuthOutcome {
    let key = match credentials {
        Credentials::None => return AuthOutcome::Anonymous,
        Credentials::Malformed(message) => return AuthOutcome::Rejected(message),
        Credentials::Key(key) => key,
    };
    match cached_authenticate(state, req, key).await {
        Ok(None) => AuthOutcome::Rejected(INVALID_TOKEN),
        Ok(Some(principal)) if !principal.user.is_active => AuthOutcome::Rejected(INACTIVE_USER),
        Ok(Some(principal)) => AuthOutcome::Authenticated(principal),
        Err(e) => {
            log::error!("token lookup failed: {e}");
            AuthOutcome::LookupFailed
        }
    }
}

/// One (shared) epoch read; the three-query lookup only when the cache has nothing
/// current. The epochs go into the request for handlers that cache reads.
async fn cached_authenticate(
    state: &AppState,
    req: &ServiceRequest,
    key: &str,
) -> notifier_persistence::Result<Option<notifier_domain::Principal>> {
    let epochs = state.caches.epochs.current(&state.db).await?;
    req.extensions_mut().insert(epochs.clone());
    let key_hash = notifier_persistence::tokens::hash_key(key);
    if let Some(principal) = state.caches.principals.get(&key_hash, &epochs.auth) {
        return Ok(Some(principal));
    }
    let found = notifier_persistence::tokens::authenticate(&state.db, key).await?;
    if let Some(principal) = &found {
        state
            .caches
            .principals
            .insert(key_hash, epochs.auth, principal.clone());
    }
    Ok(found)
}
