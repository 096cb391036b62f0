//! `Location` and pagination links: `server.public_url` when set; forwarding headers only
//! from `server.trusted_proxies`; `Host` checked against `server.allowed_hosts`.

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HOST};
use serde_json::json;

use crate::helpers::*;

const SPOOFING: [(&str, &str); 3] = [
    ("x-forwarded-host", "evil.example.com"),
    ("x-forwarded-proto", "https"),
    ("forwarded", "host=evil.example.com;proto=https"),
];

/// Creates a notifier with `headers` and returns its `Location`, then lists with a page
/// size of one and returns the `next` link.
async fn links(app: &TestApp, headers: &[(&str, &str)]) -> (String, String) {
    let mut create = app
        .request(Method::POST, NOTIFIERS)
        .header(AUTHORIZATION, token_header(&app.admin_token))
        .json(&notifier_body(&format!(
            "n{}",
            uuid::Uuid::new_v4().simple()
        )));
    let mut list = app
        .request(Method::GET, &format!("{NOTIFIERS}?page_size=1"))
        .header(AUTHORIZATION, token_header(&app.admin_token));
    for (name, value) in headers {
        create = create.header(*name, *value);
        list = list.header(*name, *value);
    }
    let created = app.send(create).await;
    assert_status(&created, 201);
    // A second one, so that the list has a next page.
    app.create_named(&format!("m{}", uuid::Uuid::new_v4().simple()))
        .await;
    let listed = app.send(list).await;
    assert_status(&listed, 200);
    let location = created.header("location").unwrap_or_default().to_owned();
    let next = listed.json()["next"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (location, next)
}

async fn forwarding_headers_from_a_client_are_ignored(backend: Backend) {
    let app = spawn_app(backend).await;

    let (location, next) = links(&app, &SPOOFING).await;

    let own = format!("http://127.0.0.1:{}/", app.port);
    assert!(location.starts_with(&own), "{location}");
    assert!(next.starts_with(&own), "{next}");
}

async fn forwarding_headers_from_a_trusted_proxy_count(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.server.trusted_proxies = vec!["127.0.0.1/32".parse().expect("a CIDR")];
    })
    .await;

    let (location, next) = links(
        &app,
        &[
            ("x-forwarded-host", "notifier.example.com"),
            ("x-forwarded-proto", "https"),
        ],
    )
    .await;

    let public = "https://notifier.example.com/api/notifications/notifiers/email";
    assert!(location.starts_with(public), "{location}");
    assert!(next.starts_with(public), "{next}");
}

async fn public_url_is_the_base_of_every_link(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.server.public_url = "https://notifier.example.com/".into();
    })
    .await;
    let mut spoofed = SPOOFING.to_vec();
    spoofed.push(("host", "evil.example.com"));

    let (location, next) = links(&app, &spoofed).await;

    let id = location.rsplit('/').next().unwrap_or_default();
    assert_eq!(
        location,
        format!("https://notifier.example.com{NOTIFIERS}/{id}")
    );
    assert_eq!(
        next,
        format!("https://notifier.example.com{NOTIFIERS}?page=2&page_size=1")
    );
}

async fn a_host_not_allowed_is_refused(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.server.allowed_hosts =
            vec!["notifier.example.com".into(), ".internal.example".into()];
    })
    .await;
    let with_host = |host: &str, path: &str| {
        app.request(Method::GET, path)
            .header(HOST, host)
            .header(AUTHORIZATION, token_header(&app.admin_token))
    };

    let evil = app.send(with_host("evil.example.com", NOTIFIERS)).await;
    let direct = app.get(NOTIFIERS, &app.admin_token).await;
    let allowed = app
        .send(with_host(
            &format!("notifier.example.com:{}", app.port),
            NOTIFIERS,
        ))
        .await;
    let subdomain = app.send(with_host("a.internal.example", NOTIFIERS)).await;
    let probe = app.send(with_host("10.1.2.3:8080", "/readyz")).await;
    let live = app.send(with_host("10.1.2.3:8080", "/healthz")).await;

    assert_json(&evil, 400, &json!({ "detail": "Invalid host header." }));
    assert_json(&direct, 400, &json!({ "detail": "Invalid host header." }));
    assert_status(&allowed, 200);
    assert_status(&subdomain, 200);
    assert_status(&probe, 200);
    assert_status(&live, 200);
}

backend_tests!(
    forwarding_headers_from_a_client_are_ignored,
    forwarding_headers_from_a_trusted_proxy_count,
    public_url_is_the_base_of_every_link,
    a_host_not_allowed_is_refused,
);
