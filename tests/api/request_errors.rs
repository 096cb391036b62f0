//! §4 request-level errors: JSON parsing, content types, body limit, 405, unmatched paths,
//! trailing slashes.

use serde_json::json;

use crate::helpers::*;

async fn malformed_json_is_400_json_parse_error(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = id_of(&app.create_named("target").await);
    let bodies: [&[u8]; 4] = [b"{\"name\":", b"{name: 1}", b"{\"a\": 1,}", b"\xff\xfe"];

    for body in bodies {
        for (method, path) in [("POST", NOTIFIERS.to_owned()), ("PATCH", notifier_path(id))] {
            let resp = app
                .raw_as_admin(method, &path, Some("application/json"), body)
                .await;

            assert_status(&resp, 400);
            assert_json_content_type(&resp);
            let error = resp.json();
            let detail = error["detail"].as_str().unwrap_or_default();
            assert!(
                error.as_object().map(|o| o.len()) == Some(1)
                    && detail.starts_with("JSON parse error - ")
                    && detail.len() > "JSON parse error - ".len(),
                "{method} {body:?}: {}",
                resp.text
            );
        }
    }
}

async fn json_that_is_not_an_object_is_400_non_field_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = id_of(&app.create_named("target").await);
    let cases = [
        ("[1, 2]", "list"),
        ("[]", "list"),
        ("\"text\"", "str"),
        ("5", "int"),
        ("5.5", "float"),
        ("true", "bool"),
    ];

    for (body, type_name) in cases {
        for (method, path) in [("POST", NOTIFIERS.to_owned()), ("PATCH", notifier_path(id))] {
            let resp = app
                .raw_as_admin(method, &path, Some("application/json"), body)
                .await;

            let message = format!("Invalid data. Expected a dictionary, but got {type_name}.");
            assert_json(&resp, 400, &json!({ "non_field_errors": [message] }));
        }
    }
}

async fn json_null_is_400_no_data_provided(backend: Backend) {
    let app = spawn_app(backend).await;

    let resp = app
        .raw_as_admin("POST", NOTIFIERS, Some("application/json"), "null")
        .await;

    assert_json(
        &resp,
        400,
        &json!({ "non_field_errors": ["No data provided"] }),
    );
}

async fn empty_body_is_an_empty_object(backend: Backend) {
    let app = spawn_app(backend).await;
    let required = json!(["This field is required."]);
    let all_required = json!({
        "name": required, "host": required, "username": required, "password": required,
        "from_email": required
    });

    let with_type = app
        .raw_as_admin("POST", NOTIFIERS, Some("application/json"), "")
        .await;
    let without_type = app.raw_as_admin("POST", NOTIFIERS, None, "").await;

    assert_json(&with_type, 400, &all_required);
    assert_json(&without_type, 400, &all_required);
}

async fn wrong_content_type_is_415(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = id_of(&app.create_named("target").await);
    let body = serde_json::to_vec(&notifier_body("new")).expect("json");
    let cases = [
        ("POST", NOTIFIERS.to_owned(), "text/plain"),
        (
            "POST",
            NOTIFIERS.to_owned(),
            "application/x-www-form-urlencoded",
        ),
        ("POST", NOTIFIERS.to_owned(), "application/xml"),
        ("PATCH", notifier_path(id), "text/plain"),
        ("PUT", notifier_path(id), "text/plain"),
        ("POST", format!("{}/test", notifier_path(id)), "text/plain"),
        (
            "POST",
            format!("{}/send", notifier_path(id)),
            "application/x-www-form-urlencoded",
        ),
    ];

    for (method, path, content_type) in cases {
        let resp = app
            .raw_as_admin(method, &path, Some(content_type), body.clone())
            .await;

        let detail = format!("Unsupported media type \"{content_type}\" in request.");
        assert_detail(&resp, 415, &detail);
    }
    assert_eq!(
        app.get(NOTIFIERS, &app.admin_token).await.json()["count"],
        1
    );
}

async fn json_content_type_with_charset_is_accepted(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = serde_json::to_vec(&notifier_body("charset")).expect("json");

    let resp = app
        .raw_as_admin(
            "POST",
            NOTIFIERS,
            Some("application/json; charset=utf-8"),
            body,
        )
        .await;

    assert_status(&resp, 201);
}

async fn body_over_the_limit_is_413(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = id_of(&app.create_named("target").await);
    let limit = app.settings.server.body_limit;
    let oversized = padded_body(&notifier_body("big"), limit + 1);

    for (method, path) in [("POST", NOTIFIERS.to_owned()), ("PUT", notifier_path(id))] {
        let resp = app
            .raw_as_admin(method, &path, Some("application/json"), oversized.clone())
            .await;

        assert_detail(&resp, 413, "Request body is too large.");
    }
}

async fn body_of_exactly_the_limit_is_accepted(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = padded_body(&notifier_body("at-limit"), app.settings.server.body_limit);

    let resp = app
        .raw_as_admin("POST", NOTIFIERS, Some("application/json"), body)
        .await;

    assert_status(&resp, 201);
}

/// `body` as JSON with an ignored key padding it to exactly `len` bytes.
fn padded_body(body: &serde_json::Value, len: usize) -> Vec<u8> {
    let bare = serde_json::to_vec(&with(body, json!({ "padding": "" }))).expect("json");
    let padding = "p".repeat(len - bare.len());
    let out = serde_json::to_vec(&with(body, json!({ "padding": padding }))).expect("json");
    assert_eq!(out.len(), len);
    out
}

async fn unsupported_method_is_405_with_allow(backend: Backend) {
    let app = spawn_app(backend).await;
    let item = notifier_path(id_of(&app.create_named("target").await));
    let cases = [
        ("DELETE", NOTIFIERS.to_owned(), vec!["GET", "POST"]),
        ("PUT", NOTIFIERS.to_owned(), vec!["GET", "POST"]),
        ("PATCH", NOTIFIERS.to_owned(), vec!["GET", "POST"]),
        ("POST", item.clone(), vec!["GET", "PUT", "PATCH", "DELETE"]),
        ("GET", format!("{item}/test"), vec!["POST"]),
        ("DELETE", format!("{item}/send"), vec!["POST"]),
    ];

    for (method, path, allowed) in cases {
        let resp = app
            .raw_as_admin(method, &path, Some("application/json"), "{}")
            .await;

        assert_detail(&resp, 405, &format!("Method \"{method}\" not allowed."));
        let allow = resp
            .header("allow")
            .unwrap_or_else(|| panic!("{method} {path}: no Allow"));
        let listed: Vec<&str> = allow.split(',').map(str::trim).collect();
        let extras_ok = listed
            .iter()
            .all(|m| allowed.contains(m) || *m == "HEAD" || *m == "OPTIONS");
        assert!(
            allowed.iter().all(|m| listed.contains(m)) && extras_ok,
            "{method} {path}: Allow should list {allowed:?}, got {allow:?}"
        );
    }
}

async fn unmatched_paths_are_json_404_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let paths = [
        format!("{NOTIFIERS}/abc"),
        format!("{NOTIFIERS}/abc/"),
        format!("{NOTIFIERS}/1.5"),
        format!("{NOTIFIERS}/1/unknown"),
        "/nope".to_owned(),
        "/api/notifications/notifiers/sms".to_owned(),
    ];

    for path in paths {
        let resp = app.get(&path, &app.admin_token).await;

        assert_detail(&resp, 404, "Not found.");
    }
}

async fn every_path_accepts_a_trailing_slash(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_named("slashed").await;
    let item = format!("{}/", notifier_path(id_of(&created)));
    let admin = app.admin_token.clone();

    let listed = app.get(&format!("{NOTIFIERS}/"), &admin).await;
    let made = app
        .post_json(&format!("{NOTIFIERS}/"), &notifier_body("made"), &admin)
        .await;
    let fetched = app.get(&item, &admin).await;
    let patched = app
        .patch_json(&item, &json!({ "username": "renamed" }), &admin)
        .await;
    let put = app.put_json(&item, &notifier_body("slashed"), &admin).await;
    let missing_test = app
        .post_json(&format!("{}/test/", notifier_path(999)), &json!({}), &admin)
        .await;
    let missing_send = app
        .post_json(
            &format!("{}/send/", notifier_path(999)),
            &json!({ "to": ["a@example.com"], "subject": "s", "body": "b" }),
            &admin,
        )
        .await;
    let deleted = app.delete(&item, &admin).await;

    assert_status(&listed, 200);
    assert_status(&made, 201);
    assert_json(&fetched, 200, &created);
    assert_status(&patched, 200);
    assert_status(&put, 200);
    assert_detail(&missing_test, 404, NOT_FOUND_NOTIFIER);
    assert_detail(&missing_send, 404, NOT_FOUND_NOTIFIER);
    assert_eq!(deleted.status, 204);
}

backend_tests!(
    malformed_json_is_400_json_parse_error,
    json_that_is_not_an_object_is_400_non_field_errors,
    json_null_is_400_no_data_provided,
    empty_body_is_an_empty_object,
    wrong_content_type_is_415,
    json_content_type_with_charset_is_accepted,
    body_over_the_limit_is_413,
    body_of_exactly_the_limit_is_accepted,
    unsupported_method_is_405_with_allow,
    unmatched_paths_are_json_404_not_found,
    every_path_accepts_a_trailing_slash,
);
