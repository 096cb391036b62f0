//! The middleware on every API resource that resolves a request's token to a principal,
//! once, before any extractor runs (actix polls a handler's extractors together, so an
//! async lookup inside one would let a body error overtake a 401/403).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::AUTHORIZATION;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use notifier_store::TokenCheck;

use super::header::{Credentials, parse};
use super::outcome::AuthOutcome;
use crate::AppState;
use crate::failed_auth::throttle;

const INVALID_TOKEN: &str = "Invalid token.";
const INACTIVE_USER: &str = "User inactive or deleted.";
const EXPIRED_TOKEN: &str = "Token has expired.";

/// Stores an [`AuthOutcome`] in the request's extensions; never answers by itself, so
/// routing (404/405) and the endpoint's own extractor decide what the client sees.
/// The 401s it leads to count towards the client's failed-authentication limit.
pub async fn resolve_principal(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let outcome = match req.app_data::<web::Data<AppState>>() {
        Some(state) => {
            let header = req.headers().get(AUTHORIZATION).map(|v| v.as_bytes());
            outcome_for(state, parse(header)).await
        }
        None => AuthOutcome::LookupFailed,
    };
    req.extensions_mut().insert(outcome);
    Ok(throttle(next.call(req).await?))
}

async fn outcome_for(state: &AppState, credentials: Credentials<'_>) -> AuthOutcome {
    let key = match credentials {
        Credentials::None => return AuthOutcome::Anonymous,
        Credentials::Malformed(message) => return AuthOutcome::Rejected(message),
        Credentials::Key(key) => key,
    };
    match state.store.principals.authenticate(key).await {
        Ok(TokenCheck::Unknown) => AuthOutcome::Rejected(INVALID_TOKEN),
        Ok(TokenCheck::Expired) => AuthOutcome::Rejected(EXPIRED_TOKEN),
        Ok(TokenCheck::Valid(principal)) if !principal.user.is_active => {
            AuthOutcome::Rejected(INACTIVE_USER)
        }
        Ok(TokenCheck::Valid(principal)) => AuthOutcome::Authenticated(principal),
        Err(e) => {
            log::error!("token lookup failed: {e}");
            AuthOutcome::LookupFailed
        }
    }
}
