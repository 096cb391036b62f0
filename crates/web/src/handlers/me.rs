use actix_web::HttpResponse;
use serde::Serialize;

use crate::api_docs::Detail;
use crate::auth::Authenticated;
use crate::paths::ME_PATH;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me<'a> {
    username: &'a str,
    is_staff: bool,
    is_admin: bool,
    permissions: Vec<u16>,
}

#[utoipa::path(
    get, path = ME_PATH, tag = "account",
    responses(
        (status = 200, description = "The token's user and the codes it may exercise", body = Me),
        (status = 401, description = "No, malformed, unknown or revoked token; inactive user", body = Detail),
    ),
    security(("Token" = [])),
)]
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
