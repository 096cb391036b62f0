//! §1/§4 field rules on create: every error row, all failing fields at once.

use serde_json::{Value, json};

use crate::helpers::*;

const REQUIRED: &str = "This field is required.";
const NULL: &str = "This field may not be null.";
const BLANK: &str = "This field may not be blank.";
const NOT_STRING: &str = "Not a valid string.";
const INVALID_INTEGER: &str = "A valid integer is required.";
const INVALID_BOOLEAN: &str = "Must be a valid boolean.";
const INVALID_EMAIL: &str = "Enter a valid email address.";
const INVALID_HOST: &str = "Enter a valid hostname or IP address.";
pub(crate) const TOO_LONG_255: &str = "Ensure this field has no more than 255 characters.";
const TOO_LONG_254: &str = "Ensure this field has no more than 254 characters.";
pub(crate) const TOO_LONG_1024: &str = "Ensure this field has no more than 1024 characters.";
const PORT_TOO_BIG: &str = "Ensure this value is less than or equal to 65535.";
const PORT_TOO_SMALL: &str = "Ensure this value is greater than or equal to 1.";
const NUL: &str = "Null characters are not allowed.";

/// An address of exactly `len` characters that is otherwise valid (labels ≤ 63).
pub(crate) fn long_email(len: usize) -> String {
    let domain = format!("{}io", format!("{}.", "a".repeat(61)).repeat(4));
    let local = "x".repeat(len - domain.len() - 1);
    format!("{local}@{domain}")
}

async fn assert_create_rejected(app: &TestApp, body: &Value, errors: &Value) {
    let resp = app.post_json(NOTIFIERS, body, &app.admin_token).await;
    assert_json(&resp, 400, errors);
}

async fn missing_required_fields_are_all_reported(backend: Backend) {
    let app = spawn_app(backend).await;

    let resp = app.post_json(NOTIFIERS, &json!({}), &app.admin_token).await;

    assert_json(
        &resp,
        400,
        &json!({
            "name": [REQUIRED], "host": [REQUIRED], "username": [REQUIRED],
            "password": [REQUIRED], "from_email": [REQUIRED]
        }),
    );
}

async fn each_missing_required_field_is_reported_alone(backend: Backend) {
    let app = spawn_app(backend).await;

    for field in ["name", "host", "username", "password", "from_email"] {
        let body = with(&notifier_body("complete"), json!({ field: null }));

        assert_create_rejected(&app, &body, &json!({ field: [REQUIRED] })).await;
    }
}

async fn every_failing_field_is_reported_at_once_in_field_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = json!({
        "fail_silently": [], "use_ssl": null, "use_tls": "maybe", "from_email": "x",
        "password": "", "username": "", "port": 0, "host": "", "name": ""
    });

    let resp = app.post_json(NOTIFIERS, &body, &app.admin_token).await;

    assert_json(
        &resp,
        400,
        &json!({
            "name": [BLANK], "host": [BLANK], "port": [PORT_TOO_SMALL], "username": [BLANK],
            "password": [BLANK], "from_email": [INVALID_EMAIL], "use_tls": [INVALID_BOOLEAN],
            "use_ssl": [NULL], "fail_silently": [INVALID_BOOLEAN]
        }),
    );
}

async fn null_is_refused_for_every_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let fields = [
        "name",
        "host",
        "port",
        "username",
        "password",
        "from_email",
        "use_tls",
        "use_ssl",
        "fail_silently",
    ];
    let body: Value = fields
        .iter()
        .map(|f| (f.to_string(), Value::Null))
        .collect();
    let errors: Value = fields
        .iter()
        .map(|f| (f.to_string(), json!([NULL])))
        .collect();

    assert_create_rejected(&app, &body, &errors).await;
}

async fn wrong_types_are_reported_per_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = json!({
        "name": true, "host": [], "port": "abc", "username": {}, "password": 5,
        "from_email": 1.5
    });

    assert_create_rejected(
        &app,
        &body,
        &json!({
            "name": [NOT_STRING], "host": [NOT_STRING], "port": [INVALID_INTEGER],
            "username": [NOT_STRING], "from_email": [INVALID_EMAIL]
        }),
    )
    .await;
}

async fn single_field_errors_have_drf_messages(backend: Backend) {
    let app = spawn_app(backend).await;
    let long = "a".repeat(256);
    let cases: Vec<(&str, Value, &str)> = vec![
        ("name", json!(""), BLANK),
        ("name", json!("   "), BLANK),
        ("name", json!(long), TOO_LONG_255),
        ("name", json!(false), NOT_STRING),
        ("name", json!(["a"]), NOT_STRING),
        ("name", json!({ "a": 1 }), NOT_STRING),
        ("name", json!("nul\u{0}inside"), NUL),
        ("host", json!(""), BLANK),
        ("host", json!("not a host"), INVALID_HOST),
        ("host", json!("-bad.example.com"), INVALID_HOST),
        ("host", json!("bad-.example.com"), INVALID_HOST),
        ("host", json!("smtp_relay.example.com"), INVALID_HOST),
        ("host", json!("smtp..example.com"), INVALID_HOST),
        ("host", json!("http://smtp.example.com"), INVALID_HOST),
        ("host", json!("smtp.example.com:25"), INVALID_HOST),
        ("host", json!("999.1.1.1"), INVALID_HOST),
        ("host", json!(true), NOT_STRING),
        ("port", json!(0), PORT_TOO_SMALL),
        ("port", json!(-1), PORT_TOO_SMALL),
        ("port", json!(65536), PORT_TOO_BIG),
        ("port", json!("65536"), PORT_TOO_BIG),
        ("port", json!(12_345_678_901_234_567_890_u64), PORT_TOO_BIG),
        ("port", json!("abc"), INVALID_INTEGER),
        ("port", json!(5.5), INVALID_INTEGER),
        ("port", json!(true), INVALID_INTEGER),
        ("port", json!([25]), INVALID_INTEGER),
        ("username", json!(""), BLANK),
        ("username", json!(long), TOO_LONG_255),
        ("username", json!({}), NOT_STRING),
        ("username", json!("nul\u{0}"), NUL),
        ("password", json!(""), BLANK),
        ("password", json!("p".repeat(1025)), TOO_LONG_1024),
        ("password", json!([]), NOT_STRING),
        ("password", json!("\u{0}secret"), NUL),
        ("from_email", json!(""), BLANK),
        ("from_email", json!("not-an-email"), INVALID_EMAIL),
        ("from_email", json!("a@"), INVALID_EMAIL),
        ("from_email", json!("@example.com"), INVALID_EMAIL),
        ("from_email", json!("a b@example.com"), INVALID_EMAIL),
        ("from_email", json!("a@b"), INVALID_EMAIL),
        ("from_email", json!(long_email(255)), TOO_LONG_254),
        ("use_tls", json!("maybe"), INVALID_BOOLEAN),
        ("use_ssl", json!(2), INVALID_BOOLEAN),
        ("fail_silently", json!(""), INVALID_BOOLEAN),
        ("fail_silently", json!([]), INVALID_BOOLEAN),
    ];

    let mut mismatches = Vec::new();
    for (field, value, message) in cases {
        let body = with_field(&notifier_body("valid"), field, value.clone());
        let resp = app.post_json(NOTIFIERS, &body, &app.admin_token).await;

        let expected = serde_json::to_string(&json!({ field: [message] })).expect("json");
        if (resp.status, resp.text.as_str()) != (400, expected.as_str()) {
            mismatches.push(format!(
                "{field} = {value}: expected 400 {expected}, got {} {}",
                resp.status, resp.text
            ));
            if resp.status == 201 {
                let path = notifier_path(id_of(&resp.json()));
                assert_eq!(app.delete(&path, &app.admin_token).await.status, 204);
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} case(s) differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert_eq!(
        app.get(NOTIFIERS, &app.admin_token).await.json()["count"],
        0
    );
}

/// A host longer than 255 characters is too long; whatever else is said about it.
async fn overlong_host_is_reported_too_long(backend: Backend) {
    let app = spawn_app(backend).await;
    let host = format!(
        "{}{}",
        format!("{}.", "a".repeat(63)).repeat(4),
        "a".repeat(63)
    );
    let body = with(&notifier_body("valid"), json!({ "host": host }));

    let resp = app.post_json(NOTIFIERS, &body, &app.admin_token).await;

    assert_status(&resp, 400);
    let errors = resp.json();
    assert_eq!(
        errors.as_object().map(|o| o.len()),
        Some(1),
        "only host fails: {errors}"
    );
    let host_errors = errors["host"].as_array().expect("host errors");
    assert!(host_errors.contains(&json!(TOO_LONG_255)), "{errors}");
}

backend_tests!(
    missing_required_fields_are_all_reported,
    each_missing_required_field_is_reported_alone,
    every_failing_field_is_reported_at_once_in_field_order,
    null_is_refused_for_every_field,
    wrong_types_are_reported_per_field,
    single_field_errors_have_drf_messages,
    overlong_host_is_reported_too_long,
);
