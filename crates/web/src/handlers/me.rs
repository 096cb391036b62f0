use actix_web::HttpResponse;
use serde::Serialize;

use crate::auth::Authenticated;

#[derive(Serialize)]
struct Me<'a> {
    username: &'a str,
    is_staff: bool,
    is_admin: bool,
    permissions: Vec<u16>,
}

/// GET /api/me: who the token belongs to and which codes it may exercise (§8).
pub async fn me(Authenticated(principal): Authenticated) -> HttpResponse {
    let permissions = principal
        .effective_permissions()
        .into_iter()
        .map(|p| p.code())
        .collect();
    HttpResponse::Ok().json(Me {
        username: &principal.user.username,
        is_staff: principal.user.is_staff,
        is_admin: principal.user.is_admin,
        permissions,
    })
}
