//! POST create: the reference example, defaults, trimming, Location, ignored keys.

use serde_json::json;

use crate::helpers::*;

async fn reference_create_example_answers_201_with_every_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = reference_create_body();

    let resp = app.post_json(NOTIFIERS, &body, &app.admin_token).await;

    let created = resp.json();
    let expected = expected_notifier(&created, &shown(&body));
    assert_json(&resp, 201, &expected);
}

async fn reference_create_example_echoes_the_password_when_exposed(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.security.expose_passwords = true
    })
    .await;
    let body = reference_create_body();

    let resp = app.post_json(NOTIFIERS, &body, &app.admin_token).await;

    let expected = expected_notifier(&resp.json(), &body);
    assert_json(&resp, 201, &expected);
    let listed = app.get(NOTIFIERS, &app.admin_token).await.json();
    assert_eq!(listed["results"][0]["password"], "somepassword");
}

async fn created_notifier_has_a_location_that_retrieves_it(backend: Backend) {
    let app = spawn_app(backend).await;

    let resp = app
        .post_json(NOTIFIERS, &reference_create_body(), &app.admin_token)
        .await;

    assert_status(&resp, 201);
    let created = resp.json();
    let path = notifier_path(id_of(&created));
    let location = resp.header("location").expect("a Location header on 201");
    assert!(
        location == path || location == app.url(&path),
        "Location should be {path} (or absolute), got {location}"
    );
    let fetched = app.get(&path, &app.admin_token).await;
    assert_json(&fetched, 200, &created);
}

async fn port_defaults_follow_the_tls_flags(backend: Backend) {
    let app = spawn_app(backend).await;
    let base = with(&notifier_body("x"), json!({ "port": null }));
    // (flags sent, expected port): use_tls defaults to true, use_ssl to false.
    let cases = [
        (json!({ "use_ssl": true, "use_tls": true }), 465),
        (json!({ "use_ssl": true, "use_tls": false }), 465),
        (json!({ "use_ssl": false, "use_tls": true }), 587),
        (json!({ "use_ssl": false, "use_tls": false }), 25),
        (json!({ "use_tls": null, "use_ssl": null }), 587),
        (json!({ "use_tls": false, "use_ssl": null }), 25),
        (json!({ "use_tls": null, "use_ssl": true }), 465),
    ];

    for (i, (flags, port)) in cases.into_iter().enumerate() {
        let body = with(
            &with(&base, flags.clone()),
            json!({ "name": format!("n{i}") }),
        );

        let created = app.create_notifier(&body).await;

        assert_eq!(created["port"], port, "port for flags {flags}");
    }
}

async fn omitted_optional_fields_take_their_defaults(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = json!({
        "name": "minimal",
        "host": "smtp.example.com",
        "username": "mailer",
        "password": "pw",
        "from_email": "noreply@example.com"
    });

    let resp = app.post_json(NOTIFIERS, &body, &app.admin_token).await;

    let fields = with(
        &body,
        json!({
            "port": 587, "password": MASK, "use_tls": true, "use_ssl": false,
            "fail_silently": false
        }),
    );
    let expected = expected_notifier(&resp.json(), &fields);
    assert_json(&resp, 201, &expected);
}

async fn name_is_trimmed(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = notifier_body("  padded name \t");

    let created = app.create_notifier(&body).await;

    assert_eq!(created["name"], "padded name");
    let fetched = app
        .get(&notifier_path(id_of(&created)), &app.admin_token)
        .await;
    assert_eq!(fetched.json()["name"], "padded name");
}

async fn read_only_and_unknown_keys_are_ignored(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = notifier_body("ignores");
    let sent = with(
        &body,
        json!({
            "id": 4242,
            "created_at": "2000-01-01T00:00:00.000000Z",
            "updated_at": "2000-01-01T00:00:00.000000Z",
            "colour": "blue"
        }),
    );

    let resp = app.post_json(NOTIFIERS, &sent, &app.admin_token).await;

    let created = resp.json();
    let expected = expected_notifier(&created, &shown(&body));
    assert_json(&resp, 201, &expected);
    assert_ne!(created["id"], 4242);
    assert!(!timestamp(&created, "created_at").starts_with("2000"));
    assert!(!timestamp(&created, "updated_at").starts_with("2000"));
}

async fn ids_are_assigned_in_increasing_order(backend: Backend) {
    let app = spawn_app(backend).await;

    let first = id_of(&app.create_named("first").await);
    let second = id_of(&app.create_named("second").await);

    assert!(second > first, "ids {first} then {second}");
}

async fn created_notifier_is_returned_by_retrieve_unchanged(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_notifier(&reference_create_body()).await;

    let resp = app
        .get(&notifier_path(id_of(&created)), &app.admin_token)
        .await;

    assert_json(&resp, 200, &created);
}

async fn retrieve_of_unknown_id_is_404(backend: Backend) {
    let app = spawn_app(backend).await;

    let resp = app.get(&notifier_path(12345), &app.admin_token).await;

    assert_detail(&resp, 404, NOT_FOUND_NOTIFIER);
}

/// Ids past the column's range, up to the edge of a 64-bit integer and beyond, are simply
/// not found (a block read ahead around them must not overflow).
async fn retrieve_of_ids_out_of_range_is_404(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_named("exists").await;

    for id in [
        "2147483647",
        "2147483648",
        "9223372036854775806",
        "9223372036854775807",
        "9223372036854775808",
    ] {
        let resp = app.get(&notifier_path(id), &app.admin_token).await;
        assert_detail(&resp, 404, NOT_FOUND_NOTIFIER);
    }
}

backend_tests!(
    reference_create_example_answers_201_with_every_field,
    reference_create_example_echoes_the_password_when_exposed,
    created_notifier_has_a_location_that_retrieves_it,
    port_defaults_follow_the_tls_flags,
    omitted_optional_fields_take_their_defaults,
    name_is_trimmed,
    read_only_and_unknown_keys_are_ignored,
    ids_are_assigned_in_increasing_order,
    created_notifier_is_returned_by_retrieve_unchanged,
    retrieve_of_unknown_id_is_404,
    retrieve_of_ids_out_of_range_is_404,
);
