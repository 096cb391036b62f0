//! The staff dashboard (§8): one page, one script, one stylesheet, embedded at compile time.
//! It talks to the public REST API with the user's token, so it can do nothing the API
//! would not let that token do.

use actix_web::http::header::{self, ETag, EntityTag, Header, IfNoneMatch};
use actix_web::{HttpRequest, HttpResponse, web};

const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

struct Asset {
    body: &'static [u8],
    content_type: &'static str,
    etag: u64,
}

macro_rules! asset {
    ($file:literal, $content_type:literal) => {{
        const BODY: &[u8] = include_bytes!(concat!("../assets/dashboard/", $file));
        Asset {
            body: BODY,
            content_type: $content_type,
            etag: fnv1a(BODY),
        }
    }};
}

const INDEX: Asset = asset!("index.html", "text/html; charset=utf-8");
const SCRIPT: Asset = asset!("app.js", "text/javascript; charset=utf-8");
const STYLESHEET: Asset = asset!("style.css", "text/css; charset=utf-8");

/// `/dashboard/...` routes, plus `/` and `/dashboard` redirecting to the page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(redirect))
        // Browsers ask for it on every page; an empty answer keeps their consoles clean.
        .route("/favicon.ico", web::get().to(HttpResponse::NoContent))
        .route("/dashboard", web::get().to(redirect))
        .service(
            web::scope("/dashboard")
                .wrap(actix_web::middleware::Compress::default())
                .route("/", web::get().to(|req: HttpRequest| serve(req, &INDEX)))
                .route(
                    "/app.js",
                    web::get().to(|req: HttpRequest| serve(req, &SCRIPT)),
                )
                .route(
                    "/style.css",
                    web::get().to(|req: HttpRequest| serve(req, &STYLESHEET)),
                ),
        );
}

async fn redirect() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, "/dashboard/"))
        .finish()
}

async fn serve(req: HttpRequest, asset: &'static Asset) -> HttpResponse {
    let tag = EntityTag::new_strong(format!("{:016x}", asset.etag));
    let unchanged = match IfNoneMatch::parse(&req) {
        Ok(IfNoneMatch::Any) => true,
        Ok(IfNoneMatch::Items(items)) => items.iter().any(|t| t.weak_eq(&tag)),
        Err(_) => false,
    };
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header(ETag(tag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"));
    if unchanged {
        return response.finish();
    }
    response.insert_header((header::CONTENT_TYPE, asset.content_type));
    response.body(asset.body)
}

/// FNV-1a at compile time: an ETag that changes whenever the embedded file does.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

#[cfg(test)]
mod tests {
    use notifier_domain::limits;

    /// The form's own length checks are the domain's limits.
    #[test]
    fn the_form_limits_are_the_domains() {
        let page = include_str!("../assets/dashboard/index.html");
        let expected = [
            ("name", limits::MAX_NAME_LENGTH),
            ("host", limits::MAX_HOST_LENGTH),
            ("username", limits::MAX_USERNAME_LENGTH),
            ("password", limits::MAX_PASSWORD_LENGTH),
            ("from_email", limits::MAX_FROM_EMAIL_LENGTH),
        ];
        for (field, max) in expected {
            let input = page
                .split("<input")
                .find(|tag| tag.contains(&format!("id=\"field-{field}\"")))
                .unwrap_or_else(|| panic!("no input for {field}"));
            assert!(
                input.contains(&format!("maxlength=\"{max}\"")),
                "{field}: {input}"
            );
        }
    }
}
