//! Synchronous extractors that turn the resolved [`AuthOutcome`] into 401/403 or a principal.

use std::future::{Ready, ready};
use std::marker::PhantomData;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use notifier_domain::{Permission, Principal};

use super::outcome::AuthOutcome;
use crate::ApiError;

/// A permission an endpoint needs, named by a marker type.
pub trait Needs {
    /// `None`: admins only (methods no action maps to, as DRF's permission class decides).
    const PERMISSION: Option<Permission>;
}

/// Marker types, one per permission code, plus admin-only.
pub mod markers {
    use super::{Needs, Permission};

    macro_rules! marker {
        ($name:ident, $permission:expr) => {
            pub struct $name;
            impl Needs for $name {
                const PERMISSION: Option<Permission> = $permission;
            }
        };
    }

    marker!(ListNotifiers, Some(Permission::ListNotifiers));
    marker!(CreateNotifier, Some(Permission::CreateNotifier));
    marker!(RetrieveNotifier, Some(Permission::RetrieveNotifier));
    marker!(UpdateNotifier, Some(Permission::UpdateNotifier));
    marker!(DeleteNotifier, Some(Permission::DeleteNotifier));
    marker!(SendWithNotifier, Some(Permission::SendWithNotifier));
    marker!(ViewDeliveries, Some(Permission::ViewDeliveries));
    marker!(ViewAudit, Some(Permission::ViewAudit));
    marker!(AdminOnly, None);
}

/// Passes when the caller may exercise `N`'s permission; put it first in a handler.
pub struct Require<N: Needs>(PhantomData<N>);

/// Any active authenticated user, whatever its permissions.
pub struct Authenticated(pub Arc<Principal>);

fn authenticated(req: &HttpRequest) -> Result<Arc<Principal>, ApiError> {
    match req.extensions().get::<AuthOutcome>() {
        Some(AuthOutcome::Authenticated(principal)) => Ok(Arc::clone(principal)),
        Some(AuthOutcome::Rejected(message)) => Err(ApiError::AuthenticationFailed(message)),
        Some(AuthOutcome::LookupFailed) => {
            Err(ApiError::Unavailable("the token lookup failed".into()))
        }
        Some(AuthOutcome::Anonymous) | None => Err(ApiError::NotAuthenticated),
    }
}

/// The caller, when it may exercise `N`'s permission; else the 401/403 (or 503) it gets.
pub(crate) fn authorize<N: Needs>(req: &HttpRequest) -> Result<Arc<Principal>, ApiError> {
    let principal = authenticated(req)?;
    let allowed = match N::PERMISSION {
        Some(permission) => principal.may(permission),
        None => principal.is_admin(),
    };
    if allowed {
        Ok(principal)
    } else {
        Err(ApiError::PermissionDenied)
    }
}

impl<N: Needs> FromRequest for Require<N> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authorize::<N>(req).map(|_| Require(PhantomData)))
    }
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticated(req).map(Authenticated))
    }
}
