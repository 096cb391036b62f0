//! Where failed authentication meets its throttle: a 401 is counted against its client and
//! becomes DRF's 429 once the client is over [`AuthThrottle`]'s limit.
//!
//! [`AuthThrottle`]: crate::AuthThrottle

use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};

use crate::{ApiError, AppState};

/// Middleware for routes that can answer 401 outside the API resources (`/metrics`);
/// the API's token middleware applies [`throttle`] itself.
pub async fn limit_failed_auth(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    Ok(throttle(next.call(req).await?))
}

/// Counts a 401 against its client and turns it into DRF's 429 when the client is over
/// the limit; any other response passes as it is.
pub(crate) fn throttle<B>(response: ServiceResponse<B>) -> ServiceResponse<EitherBody<B>> {
    if response.status() != StatusCode::UNAUTHORIZED {
        return response.map_into_left_body();
    }
    let request = response.request();
    let Some(state) = request
        .app_data::<web::Data<AppState>>()
        .filter(|state| state.auth_throttle.is_on())
    else {
        return response.map_into_left_body();
    };
    let peer = request.peer_addr().map(|a| a.ip());
    let client = state.origin.client_ip(peer, request.headers());
    match state.auth_throttle.failed(client, Instant::now()) {
        None => response.map_into_left_body(),
        Some(wait_secs) => {
            let (request, _) = response.into_parts();
            let throttled = ApiError::Throttled { wait_secs }.error_response();
            ServiceResponse::new(request, throttled).map_into_right_body()
        }
    }
}
