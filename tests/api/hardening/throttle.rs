//! Failed authentication is throttled per client address; successful requests never are.

use crate::helpers::*;

/// An app that answers 429 after `per_minute` 401s to one client in a minute.
async fn limited(backend: Backend, per_minute: u32) -> TestApp {
    spawn_app_with(backend, |settings| {
        settings.security.auth_failures_per_minute = per_minute;
    })
    .await
}

/// `Request was throttled. Expected available in N seconds.` with `Retry-After: N`.
#[track_caller]
fn assert_throttled(resp: &Resp) {
    assert_status(resp, 429);
    let retry_after: u64 = resp
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After: {resp:?}"));
    assert!((1..=60).contains(&retry_after), "{resp:?}");
    let unit = if retry_after == 1 {
        "second"
    } else {
        "seconds"
    };
    let expected = format!("Request was throttled. Expected available in {retry_after} {unit}.");
    assert_detail(resp, 429, &expected);
}

async fn failed_authentication_beyond_the_limit_is_throttled(backend: Backend) {
    let app = limited(backend, 5).await;

    for n in 0..5 {
        let resp = app.get(NOTIFIERS, &format!("guess-{n}")).await;
        assert_detail(&resp, 401, "Invalid token.");
    }
    let guess = app.get(NOTIFIERS, "guess-6").await;
    let anonymous = app.raw("GET", NOTIFIERS, None, None, "").await;
    let valid = app.get(NOTIFIERS, &app.admin_token).await;
    let again = app.get(NOTIFIERS, "guess-7").await;

    assert_throttled(&guess);
    assert_throttled(&anonymous);
    assert_status(&valid, 200);
    assert_throttled(&again);
}

async fn the_same_wrong_token_repeated_is_throttled_too(backend: Backend) {
    let app = limited(backend, 3).await;

    let statuses: Vec<u16> = {
        let mut statuses = Vec::new();
        for _ in 0..6 {
            statuses.push(app.get(NOTIFIERS, "the-same-guess").await.status);
        }
        statuses
    };

    assert_eq!(statuses, [401, 401, 401, 429, 429, 429]);
}

async fn zero_turns_throttling_off(backend: Backend) {
    let app = limited(backend, 0).await;

    for n in 0..100 {
        let resp = app.get(NOTIFIERS, &format!("guess-{n}")).await;
        assert_detail(&resp, 401, "Invalid token.");
    }
}

async fn a_new_token_works_at_once_after_failures(backend: Backend) {
    let app = limited(backend, 60).await;
    // Wrong tokens are remembered as unknown; a token made afterwards is not among them.
    for n in 0..3 {
        assert_status(&app.get(NOTIFIERS, &format!("guess-{n}")).await, 401);
    }

    let token = app.user_with_codes("reader", true, &[2830]).await;

    assert_status(&app.get(NOTIFIERS, &token).await, 200);
}

backend_tests!(
    failed_authentication_beyond_the_limit_is_throttled,
    the_same_wrong_token_repeated_is_throttled_too,
    zero_turns_throttling_off,
    a_new_token_works_at_once_after_failures,
);
