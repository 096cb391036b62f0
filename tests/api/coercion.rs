//! §1 what create accepts: boundary values, DRF's type coercions, trimming, lengths in
//! characters.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::validation::{TOO_LONG_255, TOO_LONG_1024, long_email};

async fn boundary_values_are_accepted(backend: Backend) {
    let app = spawn_app(backend).await;
    let cases: Vec<(&str, Value)> = vec![
        ("name", json!("n".repeat(255))),
        ("username", json!("u".repeat(255))),
        ("password", json!("p".repeat(1024))),
        ("from_email", json!(long_email(254))),
        ("port", json!(1)),
        ("port", json!(65535)),
        ("host", json!("127.0.0.1")),
        ("host", json!("::1")),
        ("host", json!("2001:db8::25")),
        ("host", json!("localhost")),
        ("host", json!("mail-1.example.co.uk")),
        ("from_email", json!("first.last+tag@sub.example.org")),
        ("from_email", json!("root@localhost")),
    ];

    for (i, (field, value)) in cases.into_iter().enumerate() {
        let body = with_field(
            &notifier_body(&format!("boundary-{i}")),
            field,
            value.clone(),
        );
        let resp = app.post_json(NOTIFIERS, &body, &app.admin_token).await;

        assert_eq!(resp.status, 201, "{field} = {value}: {}", resp.text);
        if field != "password" {
            assert_eq!(resp.json()[field], value, "{field} is stored as sent");
        }
    }
}

/// DRF's CharField trims every string field, not only the name.
async fn surrounding_whitespace_is_trimmed_from_text_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = with(
        &notifier_body("trim"),
        json!({ "host": "  smtp.example.com\t", "username": " mailer ", "from_email": " noreply@example.com " }),
    );

    let resp = app.post_json(NOTIFIERS, &body, &app.admin_token).await;

    let expected = expected_notifier(&resp.json(), &shown(&notifier_body("trim")));
    assert_json(&resp, 201, &expected);
}

/// Lengths count characters, not bytes.
async fn lengths_count_characters_not_bytes(backend: Backend) {
    let app = spawn_app(backend).await;
    let accepted = with(
        &notifier_body("x"),
        json!({
            "name": "é".repeat(255),
            "username": "😀".repeat(255),
            "password": "€".repeat(1024)
        }),
    );
    let rejected = with(
        &notifier_body("x"),
        json!({ "name": "é".repeat(256), "username": "😀".repeat(256), "password": "€".repeat(1025) }),
    );

    let created = app.post_json(NOTIFIERS, &accepted, &app.admin_token).await;
    let refused = app.post_json(NOTIFIERS, &rejected, &app.admin_token).await;

    let expected = expected_notifier(&created.json(), &shown(&accepted));
    assert_json(&created, 201, &expected);
    assert_json(
        &refused,
        400,
        &json!({
            "name": [TOO_LONG_255], "username": [TOO_LONG_255], "password": [TOO_LONG_1024]
        }),
    );
}

async fn integer_strings_are_coerced_to_port_numbers(backend: Backend) {
    let app = spawn_app(backend).await;

    for (i, (sent, port)) in [
        (json!("587"), 587),
        (json!("1"), 1),
        (json!("65535"), 65535),
    ]
    .into_iter()
    .enumerate()
    {
        let body = with(&notifier_body(&format!("p{i}")), json!({ "port": sent }));

        let created = app.create_notifier(&body).await;

        assert_eq!(created["port"], port, "port sent as {sent}");
    }
}

async fn drf_boolean_forms_are_coerced(backend: Backend) {
    let app = spawn_app(backend).await;
    let truthy = [
        json!(true),
        json!("true"),
        json!("True"),
        json!("TRUE"),
        json!("yes"),
        json!("Yes"),
        json!("YES"),
        json!("on"),
        json!("On"),
        json!("ON"),
        json!("1"),
        json!(1),
    ];
    let falsy = [
        json!(false),
        json!("false"),
        json!("False"),
        json!("FALSE"),
        json!("no"),
        json!("No"),
        json!("NO"),
        json!("off"),
        json!("Off"),
        json!("OFF"),
        json!("0"),
        json!(0),
    ];
    let cases = truthy
        .into_iter()
        .map(|v| (v, true))
        .chain(falsy.into_iter().map(|v| (v, false)));

    for (i, (sent, expected)) in cases.enumerate() {
        let body = with(
            &notifier_body(&format!("b{i}")),
            json!({ "fail_silently": sent, "use_ssl": sent, "use_tls": sent }),
        );

        let created = app.create_notifier(&body).await;

        for field in ["use_tls", "use_ssl", "fail_silently"] {
            assert_eq!(created[field], expected, "{field} sent as {sent}");
        }
    }
}

async fn numbers_for_string_fields_become_their_text(backend: Backend) {
    let app = spawn_app(backend).await;
    let exposed = app.exposing_passwords().await;
    let body = with(
        &notifier_body("x"),
        json!({ "name": 12345, "username": 678, "password": 9.5 }),
    );

    let created = app.create_notifier(&body).await;

    assert_eq!(created["name"], "12345");
    assert_eq!(created["username"], "678");
    let stored = exposed
        .get(&notifier_path(id_of(&created)), &exposed.admin_token)
        .await;
    assert_eq!(stored.json()["password"], "9.5");
}

backend_tests!(
    boundary_values_are_accepted,
    surrounding_whitespace_is_trimmed_from_text_fields,
    lengths_count_characters_not_bytes,
    integer_strings_are_coerced_to_port_numbers,
    drf_boolean_forms_are_coerced,
    numbers_for_string_fields_become_their_text,
);
