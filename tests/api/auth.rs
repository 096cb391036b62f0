//! §3 authentication: every row of the table, on every endpoint.

use crate::helpers::*;

const NO_CREDENTIALS: &str = "Invalid token header. No credentials provided.";
const SPACES: &str = "Invalid token header. Token string should not contain spaces.";
const INVALID_TOKEN: &str = "Invalid token.";
const INACTIVE: &str = "User inactive or deleted.";

/// A 401 of the table: the body, and `WWW-Authenticate: Token` so clients know the scheme.
#[track_caller]
fn assert_unauthorized(resp: &Resp, detail: &str) {
    assert_detail(resp, 401, detail);
    assert_eq!(
        resp.header("www-authenticate"),
        Some("Token"),
        "{} should name the Token scheme in WWW-Authenticate",
        resp.request
    );
}

async fn list_with_authorization(app: &TestApp, authorization: Option<&str>) -> Resp {
    app.raw("GET", NOTIFIERS, authorization, None, "").await
}

async fn missing_header_is_401_credentials_not_provided(backend: Backend) {
    let app = spawn_app(backend).await;

    let resp = list_with_authorization(&app, None).await;

    assert_unauthorized(&resp, NOT_AUTHENTICATED);
}

async fn another_scheme_counts_as_no_credentials(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin_basic = format!("Basic {}", app.admin_token);

    for authorization in ["Basic Zm9vOmJhcg==", admin_basic.as_str(), "Digest x"] {
        let resp = list_with_authorization(&app, Some(authorization)).await;

        assert_unauthorized(&resp, NOT_AUTHENTICATED);
    }
}

async fn token_keyword_without_key_is_401_no_credentials(backend: Backend) {
    let app = spawn_app(backend).await;

    let resp = list_with_authorization(&app, Some("Token")).await;

    assert_unauthorized(&resp, NO_CREDENTIALS);
}

async fn token_with_spaces_is_401(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin_and_more = format!("Token {} extra", app.admin_token);

    for authorization in ["Token a b", admin_and_more.as_str()] {
        let resp = list_with_authorization(&app, Some(authorization)).await;

        assert_unauthorized(&resp, SPACES);
    }
}

async fn token_with_bytes_that_are_not_text_is_401(backend: Backend) {
    let app = spawn_app(backend).await;
    let header = reqwest::header::HeaderValue::from_bytes(b"Token \xff\xfe").expect("obs-text");

    let resp = app
        .send(
            app.request(reqwest::Method::GET, NOTIFIERS)
                .header("authorization", header),
        )
        .await;

    assert_unauthorized(
        &resp,
        "Invalid token header. Token string should not contain invalid characters.",
    );
}

async fn unknown_token_is_401_invalid_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let almost = format!("Token {}x", app.admin_token);

    for authorization in ["Token nope", "Bearer nope", almost.as_str()] {
        let resp = list_with_authorization(&app, Some(authorization)).await;

        assert_unauthorized(&resp, INVALID_TOKEN);
    }
}

/// DRF authenticates before it looks at the method.
async fn unsupported_method_without_credentials_is_401(backend: Backend) {
    let app = spawn_app(backend).await;

    let resp = app.raw("DELETE", NOTIFIERS, None, None, "").await;

    assert_unauthorized(&resp, NOT_AUTHENTICATED);
}

async fn token_keyword_is_case_insensitive(backend: Backend) {
    let app = spawn_app(backend).await;

    for keyword in ["Token", "token", "TOKEN", "tOkEn", "Token "] {
        let authorization = format!("{keyword} {}", app.admin_token);
        let resp = list_with_authorization(&app, Some(&authorization)).await;

        assert_eq!(resp.status, 200, "keyword {keyword:?}: {}", resp.text);
    }
}

async fn bearer_scheme_is_accepted(backend: Backend) {
    let app = spawn_app(backend).await;
    let authorization = format!("Bearer {}", app.admin_token);

    let resp = list_with_authorization(&app, Some(&authorization)).await;

    assert_json(
        &resp,
        200,
        &serde_json::json!({"count": 0, "next": null, "previous": null, "results": []}),
    );
}

async fn revoked_token_is_401_invalid_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.user_with_codes("reader", true, &[2830]).await;
    assert_status(&app.get(NOTIFIERS, &token).await, 200);

    app.cli_ok(&["token", "revoke", &token]).await;

    assert_unauthorized(&app.get(NOTIFIERS, &token).await, INVALID_TOKEN);
}

async fn revoking_one_token_keeps_the_users_other_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.user_with_codes("reader", true, &[2830]).await;
    let second = app.new_token("reader").await;

    app.cli_ok(&["token", "revoke", &first]).await;

    assert_unauthorized(&app.get(NOTIFIERS, &first).await, INVALID_TOKEN);
    assert_status(&app.get(NOTIFIERS, &second).await, 200);
}

async fn inactive_user_is_401_user_inactive(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.user_with_codes("leaver", true, &[2830]).await;
    assert_status(&app.get(NOTIFIERS, &token).await, 200);

    app.cli_ok(&["user", "deactivate", "leaver"]).await;

    assert_unauthorized(&app.get(NOTIFIERS, &token).await, INACTIVE);
}

async fn authenticated_user_without_permission_is_403_without_challenge(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.user_with_codes("nobody", false, &[]).await;

    let resp = app.get(NOTIFIERS, &token).await;

    assert_detail(&resp, 403, FORBIDDEN);
    assert_eq!(
        resp.header("www-authenticate"),
        None,
        "a 403 is not a challenge"
    );
}

async fn every_endpoint_requires_authentication(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = id_of(&app.create_named("existing").await);
    let item = notifier_path(id);
    let body = serde_json::to_vec(&notifier_body("other")).expect("a JSON body");
    let cases = [
        ("GET", NOTIFIERS.to_owned()),
        ("POST", NOTIFIERS.to_owned()),
        ("GET", item.clone()),
        ("PATCH", item.clone()),
        ("PUT", item.clone()),
        ("DELETE", item.clone()),
        ("POST", format!("{item}/test")),
        ("POST", format!("{item}/send")),
    ];

    for (method, path) in cases {
        let resp = app
            .raw(method, &path, None, Some("application/json"), body.clone())
            .await;

        assert_unauthorized(&resp, NOT_AUTHENTICATED);
    }
    // Nothing was changed by the refused requests.
    assert_eq!(
        app.get(NOTIFIERS, &app.admin_token).await.json()["count"],
        1
    );
}

backend_tests!(
    missing_header_is_401_credentials_not_provided,
    another_scheme_counts_as_no_credentials,
    token_keyword_without_key_is_401_no_credentials,
    token_with_spaces_is_401,
    token_with_bytes_that_are_not_text_is_401,
    unknown_token_is_401_invalid_token,
    unsupported_method_without_credentials_is_401,
    token_keyword_is_case_insensitive,
    bearer_scheme_is_accepted,
    revoked_token_is_401_invalid_token,
    revoking_one_token_keeps_the_users_other_tokens,
    inactive_user_is_401_user_inactive,
    authenticated_user_without_permission_is_403_without_challenge,
    every_endpoint_requires_authentication,
);
