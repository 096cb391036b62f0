//! `/metrics` cannot be grown by requests (every label from a closed set), and can be
//! guarded by a bearer token.

use crate::helpers::*;

/// The request-series lines of `/metrics` (one per label set).
async fn request_series(app: &TestApp) -> Vec<String> {
    let resp = app.raw("GET", "/metrics", None, None, "").await;
    assert_status(&resp, 200);
    resp.text
        .lines()
        .filter(|line| line.starts_with("notifier_http_requests_total{"))
        .map(|line| {
            line.rsplit_once(' ')
                .map_or(line, |(series, _)| series)
                .to_owned()
        })
        .collect()
}

/// Per `n`: a made-up method on a served path and on an unknown path, GET on an unknown
/// path, and a made-up method on the API.
async fn odd_requests(app: &TestApp, range: std::ops::Range<usize>) {
    for n in range {
        let method = format!("M{n:06}");
        let unknown_path = format!("/no/such/path/{n}");
        app.raw(&method, "/healthz", None, None, "").await;
        app.raw(&method, &unknown_path, None, None, "").await;
        app.raw("GET", &unknown_path, None, None, "").await;
        app.raw(&method, NOTIFIERS, None, None, "").await;
    }
}

async fn unknown_methods_and_paths_add_no_series(backend: Backend) {
    // Anonymous API requests are 401s: throttling off, so 429s do not add their series.
    let app = spawn_app_with(backend, |settings| {
        settings.security.auth_failures_per_minute = 0;
    })
    .await;
    // One of each kind first: the `other` and `unmatched` series may appear once.
    odd_requests(&app, 0..3).await;
    let before = request_series(&app).await;

    odd_requests(&app, 3..203).await;
    let after = request_series(&app).await;

    // /metrics itself adds its own GET series between the two reads at most.
    let new: Vec<&String> = after.iter().filter(|s| !before.contains(s)).collect();
    assert!(
        new.iter().all(|s| s.contains("endpoint=\"/metrics\"")),
        "requests added series: {new:#?}"
    );
    let text = app.raw("GET", "/metrics", None, None, "").await.text;
    assert!(!text.contains("M000"), "a method became a label:\n{text}");
    assert!(!text.contains("/no/such"), "a path became a label:\n{text}");
    assert!(text.contains("method=\"other\""), "{text}");
    assert!(text.contains("endpoint=\"unmatched\""), "{text}");
}

async fn a_metrics_token_guards_metrics(backend: Backend) {
    let token = "metrics-scraper-token-0123456789abcdef";
    let app = spawn_app_with(backend, |settings| {
        settings.server.metrics_token = token.into();
    })
    .await;

    let anonymous = app.raw("GET", "/metrics", None, None, "").await;
    let wrong = app
        .raw("GET", "/metrics", Some("Bearer not-the-token"), None, "")
        .await;
    let right = app
        .raw(
            "GET",
            "/metrics",
            Some(&format!("Bearer {token}")),
            None,
            "",
        )
        .await;

    assert_detail(&anonymous, 401, NOT_AUTHENTICATED);
    assert_detail(&wrong, 401, "Invalid token.");
    assert_status(&right, 200);
    assert!(
        right.text.contains("notifier_http_requests_total"),
        "{}",
        right.text
    );
    // The probes stay open.
    assert_status(&app.raw("GET", "/healthz", None, None, "").await, 200);
}

backend_tests!(
    unknown_methods_and_paths_add_no_series,
    a_metrics_token_guards_metrics,
);
