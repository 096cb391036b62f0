//! §2 operational endpoints: no authentication; readiness follows the database.

use crate::helpers::*;

async fn healthz_is_200_without_authentication(backend: Backend) {
    let app = spawn_app(backend).await;

    let resp = app.raw("GET", "/healthz", None, None, "").await;

    assert_status(&resp, 200);
}

async fn readyz_is_200_when_the_database_answers(backend: Backend) {
    let app = spawn_app(backend).await;

    let resp = app.raw("GET", "/readyz", None, None, "").await;

    assert_status(&resp, 200);
}

/// PostgreSQL only: the database can be taken away from under a running server.
async fn readyz_is_503_and_api_errors_hide_internals_when_the_database_is_gone(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_named("before").await;

    app.database.drop_postgres_database().await;

    let ready = app.raw("GET", "/readyz", None, None, "").await;
    assert_status(&ready, 503);
    let healthy = app.raw("GET", "/healthz", None, None, "").await;
    assert_status(&healthy, 200);
    let listed = app.get(NOTIFIERS, &app.admin_token).await;
    assert!(
        matches!(listed.status, 500 | 503),
        "a dead database should be a 503 (or 500), got {}: {}",
        listed.status,
        listed.text
    );
    assert_json_content_type(&listed);
    let body = listed.json();
    let detail = body["detail"].as_str().unwrap_or_default();
    // §12: a 5xx body also names its request, as `X-Request-Id` does.
    assert_eq!(
        body.as_object().map(|o| o.len()),
        Some(2),
        "only detail and request_id: {body}"
    );
    assert_eq!(body["request_id"].as_str(), listed.header("x-request-id"));
    let lowered = detail.to_lowercase();
    for leak in [
        "select",
        "sqlx",
        "notifier_test_",
        "postgres",
        "error returned from",
        "panicked",
    ] {
        assert!(
            !lowered.contains(leak),
            "detail leaks internals ({leak}): {detail}"
        );
    }
}

async fn metrics_are_prometheus_text_without_authentication(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_named("counted").await;

    let resp = app.raw("GET", "/metrics", None, None, "").await;

    assert_status(&resp, 200);
    let content_type = resp.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("text/plain"),
        "Content-Type {content_type:?}"
    );
    assert!(
        resp.text.contains("# TYPE "),
        "not Prometheus text: {}",
        resp.text
    );
}

async fn openapi_schema_describes_the_notifier_endpoints(backend: Backend) {
    let app = spawn_app(backend).await;

    let resp = app.raw("GET", "/api/schema", None, None, "").await;

    assert_status(&resp, 200);
    let schema = resp.json();
    let version = schema["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3."), "openapi version {version:?}");
    let paths = schema["paths"].as_object().expect("paths");
    let item = paths
        .keys()
        .find(|p| p.starts_with(&format!("{NOTIFIERS}/{{")) && p.ends_with('}'))
        .unwrap_or_else(|| panic!("no item path in {:?}", paths.keys().collect::<Vec<_>>()));
    let operations = |path: &str| -> Vec<String> {
        let mut ops: Vec<String> = paths[path]
            .as_object()
            .map(|o| o.keys().filter(|k| *k != "parameters").cloned().collect())
            .unwrap_or_default();
        ops.sort();
        ops
    };
    assert_eq!(operations(NOTIFIERS), ["get", "post"]);
    assert_eq!(operations(item), ["delete", "get", "patch", "put"]);
    for action in ["test", "send"] {
        assert!(
            paths.contains_key(&format!("{item}/{action}")),
            "no {item}/{action} in the schema"
        );
    }
}

async fn swagger_ui_is_served_from_the_binary(backend: Backend) {
    let app = spawn_app(backend).await;
    let following = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client that follows redirects");

    let resp = following
        .get(app.url("/api/docs"))
        .send()
        .await
        .expect("GET /api/docs");

    assert_eq!(resp.status().as_u16(), 200);
    let html = resp.text().await.expect("the docs page");
    assert!(
        html.to_lowercase().contains("swagger"),
        "not Swagger UI: {html}"
    );
    for external in [
        "src=\"http",
        "src='http",
        "href=\"http",
        "href='http",
        "//cdn",
    ] {
        assert!(
            !html.contains(external),
            "the docs page loads {external}…: {html}"
        );
    }
}

backend_tests!(
    sqlite: [
        healthz_is_200_without_authentication,
        readyz_is_200_when_the_database_answers,
        metrics_are_prometheus_text_without_authentication,
        openapi_schema_describes_the_notifier_endpoints,
        swagger_ui_is_served_from_the_binary,
    ],
    postgres: [
        healthz_is_200_without_authentication,
        readyz_is_200_when_the_database_answers,
        readyz_is_503_and_api_errors_hide_internals_when_the_database_is_gone,
        metrics_are_prometheus_text_without_authentication,
        openapi_schema_describes_the_notifier_endpoints,
        swagger_ui_is_served_from_the_binary,
    ],
);
