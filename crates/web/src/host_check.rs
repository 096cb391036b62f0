//! The `Host` check (§11) as a middleware; which names pass is [`OriginPolicy`]'s call.
//!
//! [`OriginPolicy`]: crate::OriginPolicy

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};

use crate::paths::{HEALTHZ_PATH, READYZ_PATH};
use crate::{ApiError, AppState};

/// Middleware around the whole app: a request to a name not in `server.allowed_hosts`
/// gets 400 before anything else runs. Liveness and readiness probes are exempt: load
/// balancers send them to the instance's address, not to the public name.
pub async fn check_host(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let allowed = match req.app_data::<web::Data<AppState>>() {
        Some(state) => {
            matches!(req.path(), HEALTHZ_PATH | READYZ_PATH) || state.origin.host_allowed(&req)
        }
        None => true,
    };
    if allowed {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let response = ApiError::InvalidHost.error_response();
    Ok(req.into_response(response).map_into_right_body())
}
