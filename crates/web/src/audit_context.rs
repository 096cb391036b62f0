//! The [`Audit`] extractor: who acts, through which request and from where, for the
//! audit records a handler's writes append.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use notifier_domain::AuditContext;

use crate::auth::AuthOutcome;
use crate::request_id::request_id_of;
use crate::{ApiError, AppState};

/// The request's [`AuditContext`]; after the permission extractor, so always a user.
pub struct Audit(pub AuditContext);

impl FromRequest for Audit {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let actor = match req.extensions().get::<AuthOutcome>() {
            Some(AuthOutcome::Authenticated(principal)) => principal.user.username.clone(),
            _ => return ready(Err(ApiError::NotAuthenticated)),
        };
        let request_id = request_id_of(req);
        let client_ip = req.app_data::<web::Data<AppState>>().and_then(|state| {
            let peer = req.peer_addr().map(|a| a.ip());
            state.origin.client_ip(peer, req.headers())
        });
        ready(Ok(Audit(AuditContext {
            actor,
            request_id,
            client_ip: client_ip.map(|ip| ip.to_string()),
        })))
    }
}
