//! The route table. Every path also answers with a trailing slash.

use actix_web::middleware::from_fn;
use actix_web::web;

use crate::auth::resolve_principal;
use crate::handlers::not_allowed::{not_allowed, not_found};
use crate::handlers::{create, delete, health, list, me, retrieve, send, smtp_check, update};

pub const NOTIFIERS_PATH: &str = "/api/notifications/notifiers/email";

const COLLECTION_ALLOW: &str = "GET, POST, HEAD, OPTIONS";
const ITEM_ALLOW: &str = "GET, PUT, PATCH, DELETE, HEAD, OPTIONS";
const ME_ALLOW: &str = "GET, HEAD, OPTIONS";
const ACTION_ALLOW: &str = "POST, OPTIONS";

/// Registers every route; `main` and the tests build the same app through this.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .service(
            web::scope("/api")
                .wrap(from_fn(resolve_principal))
                .service(
                    web::resource(with_slash("/notifications/notifiers/email"))
                        .route(web::get().to(list::list))
                        .route(web::head().to(list::list))
                        .route(web::post().to(create::create))
                        .default_service(web::to(not_allowed(COLLECTION_ALLOW))),
                )
                .service(
                    web::resource(with_slash("/notifications/notifiers/email/{id:[0-9]+}"))
                        .route(web::get().to(retrieve::retrieve))
                        .route(web::head().to(retrieve::retrieve))
                        .route(web::patch().to(update::partial_update))
                        .route(web::put().to(update::replace))
                        .route(web::delete().to(delete::delete))
                        .default_service(web::to(not_allowed(ITEM_ALLOW))),
                )
                .service(
                    web::resource(with_slash(
                        "/notifications/notifiers/email/{id:[0-9]+}/test",
                    ))
                    .route(web::post().to(smtp_check::smtp_check))
                    .default_service(web::to(not_allowed(ACTION_ALLOW))),
                )
                .service(
                    web::resource(with_slash(
                        "/notifications/notifiers/email/{id:[0-9]+}/send",
                    ))
                    .route(web::post().to(send::send))
                    .default_service(web::to(not_allowed(ACTION_ALLOW))),
                )
                .service(
                    web::resource(with_slash("/me"))
                        .route(web::get().to(me::me))
                        .route(web::head().to(me::me))
                        .default_service(web::to(not_allowed(ME_ALLOW))),
                )
                .default_service(web::to(not_found)),
        )
        .configure(crate::dashboard::configure)
        .default_service(web::to(not_found));
}

fn with_slash(path: &str) -> [String; 2] {
    [path.to_owned(), format!("{path}/")]
}
