//! The route table. Every path also answers with a trailing slash.

use actix_web::http::{Method, header};
use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, guard, web};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::markers::{CreateNotifier, SendWithNotifier};
use crate::auth::resolve_principal;
use crate::failed_auth::limit_failed_auth;
use crate::handlers::metadata::{
    authentication_options, delivery_options, dkim_options, me_options, notifier_options,
};
use crate::handlers::not_allowed::{
    not_allowed, not_allowed_authenticated, not_allowed_open, not_found,
};
use crate::handlers::{
    audit_log, authentication, create, delete, delivery_actions, delivery_log, dkim, health, list,
    me, metrics, retrieve, send, smtp_check, update,
};
use crate::idempotency::idempotent;
use crate::paths::{
    ACTION_ALLOW, AUDIT_PATH, AUTHENTICATION_PATH, CANCEL_PATH, CHECK_PATH, COLLECTION_ALLOW,
    DELIVERIES_PATH, DELIVERY_PATH, DKIM_ALLOW, DKIM_PATH, HEALTHZ_PATH, ITEM_ALLOW, ME_ALLOW,
    ME_PATH, METRICS_PATH, NOTIFIER_PATH, NOTIFIERS_PATH, OPEN_ALLOW, READ_ONLY_ALLOW, READYZ_PATH,
    RETRY_PATH, SEND_PATH, SETTING_ALLOW,
};

/// Registers every route; `main` and the tests build the same app through this.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // actix tries routes in registration order: the API first, as single-pattern
    // resources (a multi-pattern resource matches through a regex set).
    for slash in ["", "/"] {
        cfg.service(
            resource(NOTIFIERS_PATH, slash)
                .route(web::get().to(list::list))
                .route(web::head().to(list::list))
                .route(
                    web::post()
                        .to(create::create)
                        .wrap(from_fn(idempotent::<CreateNotifier>)),
                )
                .route(options().to(notifier_options("POST", COLLECTION_ALLOW)))
                .default_service(web::to(not_allowed(COLLECTION_ALLOW))),
        )
        .service(
            resource(NOTIFIER_PATH, slash)
                .route(web::get().to(retrieve::retrieve))
                .route(web::head().to(retrieve::retrieve))
                .route(web::patch().to(update::partial_update))
                .route(web::put().to(update::replace))
                .route(web::delete().to(delete::delete))
                .route(options().to(notifier_options("PUT", ITEM_ALLOW)))
                .default_service(web::to(not_allowed(ITEM_ALLOW))),
        )
        .service(
            resource(CHECK_PATH, slash)
                .route(web::post().to(smtp_check::smtp_check))
                .route(options().to(notifier_options("POST", ACTION_ALLOW)))
                .default_service(web::to(not_allowed(ACTION_ALLOW))),
        )
        .service(
            resource(SEND_PATH, slash)
                .route(
                    web::post()
                        .to(send::send)
                        .wrap(from_fn(idempotent::<SendWithNotifier>)),
                )
                .route(options().to(notifier_options("POST", ACTION_ALLOW)))
                .default_service(web::to(not_allowed(ACTION_ALLOW))),
        )
        .service(
            resource(AUTHENTICATION_PATH, slash)
                .route(web::get().to(authentication::retrieve))
                .route(web::head().to(authentication::retrieve))
                .route(web::put().to(authentication::replace))
                .route(options().to(authentication_options))
                .default_service(web::to(not_allowed(SETTING_ALLOW))),
        )
        .service(
            resource(DKIM_PATH, slash)
                .route(web::get().to(dkim::retrieve))
                .route(web::head().to(dkim::retrieve))
                .route(web::put().to(dkim::replace))
                .route(web::delete().to(dkim::delete))
                .route(options().to(dkim_options))
                .default_service(web::to(not_allowed(DKIM_ALLOW))),
        )
        .service(
            resource(DELIVERIES_PATH, slash)
                .route(web::get().to(delivery_log::list))
                .route(web::head().to(delivery_log::list))
                .route(options().to(delivery_options("Delivery List", READ_ONLY_ALLOW)))
                .default_service(web::to(not_allowed(READ_ONLY_ALLOW))),
        )
        .service(
            resource(DELIVERY_PATH, slash)
                .route(web::get().to(delivery_log::retrieve))
                .route(web::head().to(delivery_log::retrieve))
                .route(options().to(delivery_options("Delivery Instance", READ_ONLY_ALLOW)))
                .default_service(web::to(not_allowed(READ_ONLY_ALLOW))),
        )
        .service(
            resource(RETRY_PATH, slash)
                .route(web::post().to(delivery_actions::retry))
                .route(options().to(delivery_options("Retry", ACTION_ALLOW)))
                .default_service(web::to(not_allowed(ACTION_ALLOW))),
        )
        .service(
            resource(CANCEL_PATH, slash)
                .route(web::post().to(delivery_actions::cancel))
                .route(options().to(delivery_options("Cancel", ACTION_ALLOW)))
                .default_service(web::to(not_allowed(ACTION_ALLOW))),
        )
        .service(
            resource(ME_PATH, slash)
                .route(web::get().to(me::me))
                .route(web::head().to(me::me))
                .route(options().to(me_options))
                .default_service(web::to(not_allowed_authenticated(ME_ALLOW))),
        )
        .service(
            resource(AUDIT_PATH, slash)
                .route(web::get().to(audit_log::list))
                .route(web::head().to(audit_log::list))
                .route(options().to(audit_log::options))
                .default_service(web::to(not_allowed(READ_ONLY_ALLOW))),
        );
    }
    cfg.service(open_resource(HEALTHZ_PATH).route(web::get().to(health::healthz)))
        .service(open_resource(READYZ_PATH).route(web::get().to(health::readyz)))
        .service(
            open_resource(METRICS_PATH)
                .route(web::get().to(metrics::metrics))
                .wrap(from_fn(limit_failed_auth)),
        )
        .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/schema", crate::openapi::document()))
        .route(
            "/api/docs",
            web::get().to(|| async { redirect("/api/docs/") }),
        )
        .configure(crate::dashboard::configure)
        .default_service(web::to(not_found));
}

/// A resource for an OpenAPI-style path, plus `slash` (empty or a trailing slash: every
/// path answers both ways). `{id}` only matches digits (a guard rather than a regex
/// segment, so the route pattern stays a clean metrics label); other ids are routing
/// 404s, as in DRF.
fn resource(
    path: &'static str,
    slash: &str,
) -> actix_web::Resource<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let resource = web::resource(format!("{path}{slash}")).wrap(from_fn(resolve_principal));
    match path.split_once("/{id}") {
        Some((collection, _)) => {
            resource.guard(guard::fn_guard(move |ctx| numeric_id(ctx, collection)))
        }
        None => resource,
    }
}

/// Whether the path segment after `collection` is all digits.
fn numeric_id(ctx: &guard::GuardContext<'_>, collection: &str) -> bool {
    let path = ctx.head().uri.path();
    let id = path
        .strip_prefix(collection)
        .and_then(|rest| rest.strip_prefix('/'));
    let id = id
        .map(|rest| rest.split('/').next().unwrap_or_default())
        .unwrap_or_default();
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

/// An unauthenticated operational route: GET only, 405 otherwise.
fn open_resource(path: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(not_allowed_open(OPEN_ALLOW)))
}

fn options() -> actix_web::Route {
    web::method(Method::OPTIONS)
}

fn redirect(to: &'static str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, to))
        .finish()
}
