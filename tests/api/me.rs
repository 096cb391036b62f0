//! §8 `GET /api/me`: who a token belongs to and which codes it may exercise.

use serde_json::json;

use crate::helpers::*;

const ME: &str = "/api/me";

async fn admin_gets_every_code(backend: Backend) {
    let app = spawn_app(backend).await;

    let resp = app.get(ME, &app.admin_token).await;

    assert_json(
        &resp,
        200,
        &json!({
            "username": "admin",
            "is_staff": true,
            "is_admin": true,
            "permissions": [2830, 2831, 2832, 2833, 2834, 2835, 2836, 2837]
        }),
    );
}

async fn trailing_slash_and_bearer_work_too(backend: Backend) {
    let app = spawn_app(backend).await;
    let bearer = format!("Bearer {}", app.admin_token);

    let resp = app.raw("GET", "/api/me/", Some(&bearer), None, "").await;

    assert_status(&resp, 200);
    assert_eq!(resp.json()["username"], "admin");
}

async fn staff_user_gets_exactly_its_codes_ascending(backend: Backend) {
    let app = spawn_app(backend).await;
    // Granted out of order: the answer is sorted.
    let token = app
        .user_with_codes("operator", true, &[2835, 2830, 2833])
        .await;

    let resp = app.get(ME, &token).await;

    assert_json(
        &resp,
        200,
        &json!({
            "username": "operator",
            "is_staff": true,
            "is_admin": false,
            "permissions": [2830, 2833, 2835]
        }),
    );
}

async fn staff_user_without_codes_gets_an_empty_list(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.user_with_codes("bystander", true, &[]).await;

    let resp = app.get(ME, &token).await;

    assert_json(
        &resp,
        200,
        &json!({
            "username": "bystander",
            "is_staff": true,
            "is_admin": false,
            "permissions": []
        }),
    );
}

/// A non-staff user may call /api/me, and its grants count for nothing (§3).
async fn non_staff_user_with_codes_gets_no_permissions(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.user_with_codes("customer", false, &[2830, 2831]).await;

    let resp = app.get(ME, &token).await;

    assert_json(
        &resp,
        200,
        &json!({
            "username": "customer",
            "is_staff": false,
            "is_admin": false,
            "permissions": []
        }),
    );
    // And the API agrees: the grant does not let it list.
    assert_detail(&app.get(NOTIFIERS, &token).await, 403, FORBIDDEN);
}

/// What /api/me lists is what the API lets the token do, code by code.
async fn listed_codes_match_what_the_api_allows(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = id_of(&app.create_named("existing").await);
    let token = app.user_with_codes("reader", true, &[2832]).await;

    let me = app.get(ME, &token).await.json();

    assert_eq!(me["permissions"], json!([2832]));
    assert_status(&app.get(&notifier_path(id), &token).await, 200);
    assert_detail(&app.get(NOTIFIERS, &token).await, 403, FORBIDDEN);
}

async fn revoked_code_disappears(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.user_with_codes("shrinking", true, &[2830, 2834]).await;

    app.cli_ok(&["user", "revoke", "shrinking", "2834"]).await;

    assert_eq!(
        app.get(ME, &token).await.json()["permissions"],
        json!([2830])
    );
}

async fn inactive_user_is_401(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.user_with_codes("leaver", true, &[2830]).await;
    assert_status(&app.get(ME, &token).await, 200);

    app.cli_ok(&["user", "deactivate", "leaver"]).await;

    let resp = app.get(ME, &token).await;
    assert_detail(&resp, 401, "User inactive or deleted.");
}

async fn no_token_is_401_with_challenge(backend: Backend) {
    let app = spawn_app(backend).await;

    let resp = app.raw("GET", ME, None, None, "").await;

    assert_detail(&resp, 401, NOT_AUTHENTICATED);
    assert_eq!(resp.header("www-authenticate"), Some("Token"));
}

async fn unknown_and_revoked_tokens_are_401(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.user_with_codes("temp", true, &[]).await;
    app.cli_ok(&["token", "revoke", &token]).await;

    for key in ["nope", token.as_str()] {
        let resp = app.get(ME, key).await;

        assert_detail(&resp, 401, "Invalid token.");
    }
    let resp = app.raw("GET", ME, Some("Token"), None, "").await;
    assert_detail(&resp, 401, "Invalid token header. No credentials provided.");
}

/// /api/me only reads: other methods are 405 with its Allow list, for any authenticated
/// user (DRF's `IsAuthenticated` view passes them on to `http_method_not_allowed`).
async fn other_methods_are_405(backend: Backend) {
    let app = spawn_app(backend).await;
    let bystander = app.user_with_codes("bystander", true, &[]).await;
    let outsider = app.user_with_codes("outsider", false, &[]).await;

    for token in [&app.admin_token, &bystander, &outsider] {
        for method in ["POST", "PUT", "PATCH", "DELETE"] {
            let resp = app
                .raw(
                    method,
                    ME,
                    Some(&format!("Token {token}")),
                    Some("application/json"),
                    "{}",
                )
                .await;

            assert_detail(&resp, 405, &format!("Method \"{method}\" not allowed."));
            assert_eq!(resp.header("allow"), Some("GET, HEAD, OPTIONS"), "{resp:?}");
        }
    }
}

backend_tests!(
    admin_gets_every_code,
    trailing_slash_and_bearer_work_too,
    staff_user_gets_exactly_its_codes_ascending,
    staff_user_without_codes_gets_an_empty_list,
    non_staff_user_with_codes_gets_no_permissions,
    listed_codes_match_what_the_api_allows,
    revoked_code_disappears,
    inactive_user_is_401,
    no_token_is_401_with_challenge,
    unknown_and_revoked_tokens_are_401,
    other_methods_are_405,
);
