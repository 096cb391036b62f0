//! §12 request ids: every response carries `X-Request-Id` (the client's when valid, else
//! a new one), the access log line of the request names it with the user, method and
//! route pattern, and a 5xx body carries it as `"request_id"`.

use crate::helpers::*;

const HEADER: &str = "x-request-id";

async fn get_with_id(app: &TestApp, path: &str, id: Option<&str>) -> Resp {
    let mut request = app
        .request(reqwest::Method::GET, path)
        .header("authorization", token_header(&app.admin_token));
    if let Some(id) = id {
        request = request.header(HEADER, id);
    }
    app.send(request).await
}

#[track_caller]
fn assert_generated(resp: &Resp) -> String {
    let id = resp.header(HEADER).unwrap_or_default().to_owned();
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "a new id is 32 hex digits: {id:?}"
    );
    id
}

async fn a_valid_id_is_echoed_and_any_other_replaced(backend: Backend) {
    let app = spawn_app(backend).await;
    let longest = "x".repeat(64);

    for valid in ["abc-123", "!~{}[]:;", longest.as_str()] {
        let resp = get_with_id(&app, NOTIFIERS, Some(valid)).await;
        assert_status(&resp, 200);
        assert_eq!(resp.header(HEADER), Some(valid));
    }
    let first = assert_generated(&get_with_id(&app, NOTIFIERS, None).await);
    let second = assert_generated(&get_with_id(&app, NOTIFIERS, None).await);
    assert_ne!(first, second, "each request gets its own id");
    let too_long = "x".repeat(65);
    for invalid in ["has space", too_long.as_str(), "tab\there"] {
        let resp = get_with_id(&app, NOTIFIERS, Some(invalid)).await;
        assert_generated(&resp);
    }
    // Every response, also errors, unauthenticated and unrouted ones.
    let unrouted = app.raw("GET", "/nowhere", None, None, "").await;
    assert_detail(&unrouted, 404, "Not found.");
    assert_generated(&unrouted);
    let anonymous = app.raw("GET", NOTIFIERS, None, None, "").await;
    assert_detail(
        &anonymous,
        401,
        "Authentication credentials were not provided.",
    );
    assert_generated(&anonymous);
}

async fn the_access_log_line_names_the_request(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let config = env.write_config(&env.settings);
    let config = config.to_str().expect("a UTF-8 path");
    let server = ServerProcess::start(&["--config", config, "serve"], "info").await;
    let token = env.admin_token();
    let client = http_client();
    let get = |path: String, id: &'static str| {
        client
            .get(format!("{}{path}", server.address))
            .header("authorization", token_header(&token))
            .header(HEADER, id)
            .send()
    };

    let listed = get(format!("{NOTIFIERS}?search=secret-term"), "trace-list-1").await;
    let missing = get(notifier_path(4242), "trace-missing-2").await;
    let statuses = [listed.map(|r| r.status()), missing.map(|r| r.status())];
    let finished = server.terminate().await;

    assert_eq!(
        statuses.map(|s| s.map(|s| s.as_u16()).ok()),
        [Some(200), Some(404)]
    );
    let line = |id: &str| {
        finished
            .stderr
            .lines()
            .find(|l| l.contains(&format!("request_id={id} ")))
            .unwrap_or_else(|| panic!("no log line names {id}:\n{}", finished.stderr))
            .to_owned()
    };
    let listed = line("trace-list-1");
    assert!(
        listed.contains(r#"user=admin "GET /api/notifications/notifiers/email" 200 "#),
        "{listed}"
    );
    let missing = line("trace-missing-2");
    assert!(
        missing.contains(r#"user=admin "GET /api/notifications/notifiers/email/{id}" 404 "#),
        "{missing}"
    );
    // The route pattern, never the raw path and query; never the token.
    assert!(
        !finished.stderr.contains("secret-term"),
        "{}",
        finished.stderr
    );
    assert!(!finished.stderr.contains("4242"), "{}", finished.stderr);
    assert!(!finished.stderr.contains(token.as_str()));
}

/// SQLite opened read-only: writes fail with a 5xx whose body names the request; a 4xx
/// body stays exactly as it was.
async fn a_5xx_body_names_its_request_sqlite(backend: Backend) {
    let app = spawn_app(backend).await;
    let read_only = app.db_url.replace("mode=rwc", "mode=ro");
    let server = launch_over(&app.dir, read_only, app.settings.clone()).await;

    let failed = server
        .post_json(NOTIFIERS, &notifier_body("x"), &server.admin_token)
        .await;

    assert_5xx_names_its_request(&failed);
    assert_detail(
        &server.get(&notifier_path(77), &server.admin_token).await,
        404,
        "No EmailNotifier matches the given query.",
    );
}

/// PostgreSQL: the database is dropped from under the server.
async fn a_5xx_body_names_its_request_postgres(backend: Backend) {
    let app = spawn_app(backend).await;
    app.database.drop_postgres_database().await;

    let failed = app.get(NOTIFIERS, &app.admin_token).await;

    assert_5xx_names_its_request(&failed);
}

#[track_caller]
fn assert_5xx_names_its_request(resp: &Resp) {
    assert!(resp.status >= 500, "{resp:?}");
    assert_json_content_type(resp);
    let body = resp.json();
    assert!(body["detail"].is_string(), "{body}");
    assert_eq!(body["request_id"].as_str(), resp.header(HEADER), "{body}");
    assert!(resp.header(HEADER).is_some());
}

async fn cross_origin_clients_may_read_the_id(backend: Backend) {
    let origin = "https://staff.example.com";
    let app = spawn_app_with(backend, |s| {
        s.server.cors_allowed_origins = vec![origin.to_owned()];
    })
    .await;

    let resp = app
        .send(
            app.request(reqwest::Method::GET, NOTIFIERS)
                .header("authorization", token_header(&app.admin_token))
                .header("origin", origin),
        )
        .await;

    assert_status(&resp, 200);
    let exposed = resp
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .to_lowercase();
    assert!(
        exposed.split(',').any(|h| h.trim() == HEADER),
        "exposed: {exposed}"
    );
}

backend_tests!(
    sqlite: [
        a_valid_id_is_echoed_and_any_other_replaced,
        the_access_log_line_names_the_request,
        a_5xx_body_names_its_request_sqlite,
        cross_origin_clients_may_read_the_id,
    ],
    postgres: [
        a_valid_id_is_echoed_and_any_other_replaced,
        the_access_log_line_names_the_request,
        a_5xx_body_names_its_request_postgres,
        cross_origin_clients_may_read_the_id,
    ],
);
