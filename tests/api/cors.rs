//! §8 CORS, as django-cors-headers behaves: allowed origins get their origin back (or `*`),
//! preflights are answered before authentication, everyone else gets no CORS header.

use reqwest::Method;
use reqwest::header::HeaderMap;

use crate::helpers::*;

const STAFF_ORIGIN: &str = "https://staff.example.com";
const OTHER_ORIGIN: &str = "https://evil.example.net";
const ALLOW_METHODS: &str = "DELETE, GET, OPTIONS, PATCH, POST, PUT";

async fn app_allowing(backend: Backend, origins: &[&str]) -> TestApp {
    spawn_app_with(backend, |settings| {
        settings.server.cors_allowed_origins = origins.iter().map(|o| (*o).to_owned()).collect();
    })
    .await
}

/// What a browser sends before a cross-origin `method` with a token and a JSON body:
/// `OPTIONS` with `Origin` and `Access-Control-Request-*`, and no `Authorization`.
async fn preflight(app: &TestApp, path: &str, origin: &str, method: &str) -> Resp {
    app.send(
        app.request(Method::OPTIONS, path)
            .header("origin", origin)
            .header("access-control-request-method", method)
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            ),
    )
    .await
}

/// An ordinary request from `origin`, with the admin's token.
async fn get_from(app: &TestApp, path: &str, origin: &str) -> Resp {
    app.send(
        app.request(Method::GET, path)
            .header("origin", origin)
            .header("authorization", token_header(&app.admin_token)),
    )
    .await
}

/// Every value of `name`, split on commas, trimmed and lower-cased.
fn header_tokens(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .flat_map(|v| v.to_str().expect("header is not text").split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The names of the response's headers that start with `prefix`.
fn headers_starting_with(resp: &Resp, prefix: &str) -> Vec<String> {
    resp.headers
        .keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| k.starts_with(prefix))
        .collect()
}

#[track_caller]
fn assert_no_allow_headers(resp: &Resp) {
    let found = headers_starting_with(resp, "access-control-allow-");
    assert!(
        found.is_empty(),
        "{} should carry no Access-Control-Allow-* header, got {found:?} in {:?}",
        resp.request,
        resp.headers
    );
}

#[track_caller]
fn assert_vary_origin(resp: &Resp) {
    let vary = header_tokens(&resp.headers, "vary");
    assert!(
        vary.iter().any(|v| v == "origin"),
        "{} should answer Vary: Origin, got {vary:?}",
        resp.request
    );
}

#[track_caller]
fn assert_no_credentials(resp: &Resp) {
    assert_eq!(
        resp.header("access-control-allow-credentials"),
        None,
        "{}: tokens travel in a header, so Access-Control-Allow-Credentials is never sent",
        resp.request
    );
}

/// The whole preflight answer for an allowed origin (`expected_origin`: that origin or `*`).
#[track_caller]
fn assert_allowed_preflight(resp: &Resp, expected_origin: &str) {
    assert_eq!(
        resp.status, 200,
        "{} should answer 200; headers {:?}, body {:?}",
        resp.request, resp.headers, resp.text
    );
    assert_eq!(
        resp.header("access-control-allow-origin"),
        Some(expected_origin),
        "{}",
        resp.request
    );
    assert_eq!(
        resp.header("access-control-allow-methods"),
        Some(ALLOW_METHODS),
        "{}",
        resp.request
    );
    let allowed_headers = header_tokens(&resp.headers, "access-control-allow-headers");
    for needed in ["accept", "authorization", "content-type"] {
        assert!(
            allowed_headers.iter().any(|h| h == needed),
            "{}: Access-Control-Allow-Headers should include {needed}, got {allowed_headers:?}",
            resp.request
        );
    }
    assert_eq!(
        resp.header("access-control-max-age"),
        Some("86400"),
        "{}",
        resp.request
    );
    assert_no_credentials(resp);
}

/// Access-Control-Expose-Headers lists Location, so a cross-origin create can read it.
#[track_caller]
fn assert_exposes_location(resp: &Resp) {
    let exposed = header_tokens(&resp.headers, "access-control-expose-headers");
    assert!(
        exposed.iter().any(|h| h == "location"),
        "{} should expose Location, got {exposed:?}",
        resp.request
    );
}

async fn allowed_preflight_is_answered_before_authentication(backend: Backend) {
    let app = app_allowing(backend, &[STAFF_ORIGIN]).await;
    let id = id_of(&app.create_named("preflighted").await);
    let item = notifier_path(id);
    let cases = [
        (NOTIFIERS.to_owned(), "POST"),
        (format!("{NOTIFIERS}/"), "GET"),
        (item.clone(), "PATCH"),
        (item.clone(), "PUT"),
        (item.clone(), "DELETE"),
        (format!("{item}/test"), "POST"),
        (format!("{item}/send"), "POST"),
        ("/api/me".to_owned(), "GET"),
    ];

    for (path, method) in cases {
        let resp = preflight(&app, &path, STAFF_ORIGIN, method).await;

        assert_allowed_preflight(&resp, STAFF_ORIGIN);
        assert_vary_origin(&resp);
    }
    // A preflight changes nothing.
    assert_status(&app.get(&item, &app.admin_token).await, 200);
}

async fn allowed_origin_request_gets_origin_and_exposed_location(backend: Backend) {
    let app = app_allowing(backend, &[STAFF_ORIGIN]).await;

    let list = get_from(&app, NOTIFIERS, STAFF_ORIGIN).await;
    let created = app
        .send(
            app.request(Method::POST, NOTIFIERS)
                .header("origin", STAFF_ORIGIN)
                .header("authorization", token_header(&app.admin_token))
                .json(&notifier_body("cross-origin")),
        )
        .await;
    let me = get_from(&app, "/api/me", STAFF_ORIGIN).await;

    assert_status(&list, 200);
    assert_status(&created, 201);
    assert!(created.header("location").is_some(), "{created:?}");
    assert_status(&me, 200);
    for resp in [&list, &created, &me] {
        assert_eq!(
            resp.header("access-control-allow-origin"),
            Some(STAFF_ORIGIN),
            "{}",
            resp.request
        );
        assert_exposes_location(resp);
        assert_vary_origin(resp);
        assert_no_credentials(resp);
    }
}

/// django-cors-headers puts its headers on error answers too, so a cross-origin dashboard
/// can read the 401's sentence instead of a network error.
async fn allowed_origin_error_answers_carry_cors_headers(backend: Backend) {
    let app = app_allowing(backend, &[STAFF_ORIGIN]).await;

    let unauthenticated = app
        .send(
            app.request(Method::GET, NOTIFIERS)
                .header("origin", STAFF_ORIGIN),
        )
        .await;
    let missing = get_from(&app, &notifier_path(999_999), STAFF_ORIGIN).await;

    assert_detail(&unauthenticated, 401, NOT_AUTHENTICATED);
    assert_detail(&missing, 404, NOT_FOUND_NOTIFIER);
    for resp in [&unauthenticated, &missing] {
        assert_eq!(
            resp.header("access-control-allow-origin"),
            Some(STAFF_ORIGIN),
            "{}",
            resp.request
        );
        assert_no_credentials(resp);
    }
}

async fn disallowed_origin_gets_no_cors_headers(backend: Backend) {
    let app = app_allowing(backend, &[STAFF_ORIGIN]).await;

    let pre = preflight(&app, NOTIFIERS, OTHER_ORIGIN, "POST").await;
    let list = get_from(&app, NOTIFIERS, OTHER_ORIGIN).await;
    // An origin that only shares a prefix or differs in scheme is another origin.
    let lookalike = get_from(&app, NOTIFIERS, "https://staff.example.com.evil.net").await;
    let plain_http = get_from(&app, NOTIFIERS, "http://staff.example.com").await;

    for resp in [&pre, &list, &lookalike, &plain_http] {
        assert_no_allow_headers(resp);
    }
    // The server still answers; only the browser withholds the body from the page.
    assert_status(&list, 200);
}

async fn default_configuration_sends_no_cors_header(backend: Backend) {
    let app = spawn_app(backend).await;

    let pre = preflight(&app, NOTIFIERS, STAFF_ORIGIN, "POST").await;
    let list = get_from(&app, NOTIFIERS, STAFF_ORIGIN).await;
    let me = get_from(&app, "/api/me", STAFF_ORIGIN).await;

    for resp in [&pre, &list, &me] {
        let found = headers_starting_with(resp, "access-control-");
        assert!(
            found.is_empty(),
            "{} should carry no CORS header by default, got {found:?}",
            resp.request
        );
    }
    assert_status(&list, 200);
    assert_status(&me, 200);
}

async fn wildcard_allows_any_origin(backend: Backend) {
    let app = app_allowing(backend, &["*"]).await;

    for origin in [STAFF_ORIGIN, OTHER_ORIGIN, "http://localhost:3000"] {
        let pre = preflight(&app, NOTIFIERS, origin, "POST").await;
        let list = get_from(&app, NOTIFIERS, origin).await;

        assert_allowed_preflight(&pre, "*");
        assert_status(&list, 200);
        assert_eq!(
            list.header("access-control-allow-origin"),
            Some("*"),
            "{origin}"
        );
        assert_exposes_location(&list);
        assert_no_credentials(&list);
    }
}

async fn several_origins_each_get_their_own(backend: Backend) {
    let app = app_allowing(backend, &["https://a.example", "https://b.example"]).await;

    for origin in ["https://a.example", "https://b.example"] {
        let pre = preflight(&app, NOTIFIERS, origin, "POST").await;

        assert_allowed_preflight(&pre, origin);
    }
    assert_no_allow_headers(&preflight(&app, NOTIFIERS, "https://c.example", "POST").await);
}

/// The environment form: `NOTIFIER__SERVER__CORS_ALLOWED_ORIGINS`, comma-separated, and it
/// wins over the config file's (empty) list.
async fn origins_from_the_environment_are_comma_separated(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let config = env.write_config(&env.settings);
    let config = config.to_str().expect("a UTF-8 path");
    let server = ServerProcess::start_with_env(
        &["--config", config, "serve"],
        "info",
        &[(
            "NOTIFIER__SERVER__CORS_ALLOWED_ORIGINS",
            "https://a.example,https://b.example",
        )],
    )
    .await;
    let client = http_client();
    let preflight_from = |origin: &'static str| {
        client
            .request(Method::OPTIONS, format!("{}{NOTIFIERS}", server.address))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };

    let a = preflight_from("https://a.example")
        .await
        .expect("preflight a");
    let b = preflight_from("https://b.example")
        .await
        .expect("preflight b");
    let c = preflight_from("https://c.example")
        .await
        .expect("preflight c");
    let finished = server.terminate().await;

    assert_eq!(a.status(), 200);
    assert_eq!(
        a.headers()
            .get("access-control-allow-origin")
            .map(|v| v.as_bytes()),
        Some(&b"https://a.example"[..])
    );
    assert_eq!(b.status(), 200);
    assert_eq!(
        b.headers()
            .get("access-control-allow-origin")
            .map(|v| v.as_bytes()),
        Some(&b"https://b.example"[..])
    );
    assert_eq!(c.headers().get("access-control-allow-origin"), None);
    assert!(finished.status.success(), "{finished:?}");
}

backend_tests!(
    allowed_preflight_is_answered_before_authentication,
    allowed_origin_request_gets_origin_and_exposed_location,
    allowed_origin_error_answers_carry_cors_headers,
    disallowed_origin_gets_no_cors_headers,
    default_configuration_sends_no_cors_header,
    wildcard_allows_any_origin,
    several_origins_each_get_their_own,
    origins_from_the_environment_are_comma_separated,
);
