//! PATCH and PUT: the reference example, masked passwords, uniqueness, 404s.

use serde_json::{Value, json};

use crate::helpers::*;

/// `updated` is `before` with `changes`, a later `updated_at` and the same `created_at`.
#[track_caller]
fn assert_updated(resp: &Resp, before: &Value, changes: &Value) {
    let after = resp.json();
    let fields = with(before, changes.clone());
    let expected = expected_notifier(&after, &fields);
    assert_json(resp, 200, &expected);
    assert_eq!(after["id"], before["id"]);
    assert_eq!(
        after["created_at"], before["created_at"],
        "created_at never changes"
    );
    assert!(
        timestamp(&after, "updated_at") > timestamp(before, "updated_at"),
        "updated_at should move forward: {} then {}",
        before["updated_at"],
        after["updated_at"]
    );
}

async fn reference_patch_example_changes_only_name_and_updated_at(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_notifier(&reference_create_body()).await;
    let path = notifier_path(id_of(&created));

    let resp = app
        .patch_json(
            &path,
            &json!({ "name": "hamgam_mail_edited" }),
            &app.admin_token,
        )
        .await;

    assert_updated(&resp, &created, &json!({ "name": "hamgam_mail_edited" }));
    assert_json(&app.get(&path, &app.admin_token).await, 200, &resp.json());
}

async fn empty_patch_only_moves_updated_at(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_named("still").await;

    let resp = app
        .patch_json(
            &notifier_path(id_of(&created)),
            &json!({}),
            &app.admin_token,
        )
        .await;

    assert_updated(&resp, &created, &json!({}));
}

async fn patch_changes_several_fields_with_coercion(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_named("multi").await;

    let resp = app
        .patch_json(
            &notifier_path(id_of(&created)),
            &json!({
                "host": "10.0.0.25", "port": "2587", "use_tls": "off", "fail_silently": 1,
                "password": "for-the-new-host",
            }),
            &app.admin_token,
        )
        .await;

    assert_updated(
        &resp,
        &created,
        &json!({ "host": "10.0.0.25", "port": 2587, "use_tls": false, "fail_silently": true }),
    );
}

async fn patch_validates_only_the_fields_it_sends(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_named("valid").await;
    let path = notifier_path(id_of(&created));
    let cases = [
        (
            json!({ "port": 0 }),
            json!({ "port": ["Ensure this value is greater than or equal to 1."] }),
        ),
        (
            json!({ "name": "  " }),
            json!({ "name": ["This field may not be blank."] }),
        ),
        (
            json!({ "host": null }),
            json!({ "host": ["This field may not be null."] }),
        ),
        (
            json!({ "from_email": "nope", "use_ssl": "perhaps" }),
            json!({ "from_email": ["Enter a valid email address."], "use_ssl": ["Must be a valid boolean."] }),
        ),
    ];

    for (body, errors) in cases {
        let resp = app.patch_json(&path, &body, &app.admin_token).await;

        assert_json(&resp, 400, &errors);
    }
    assert_json(&app.get(&path, &app.admin_token).await, 200, &created);
}

async fn put_requires_creates_required_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_named("whole").await;
    let path = notifier_path(id_of(&created));

    let resp = app
        .put_json(&path, &json!({ "name": "renamed" }), &app.admin_token)
        .await;

    let required = json!(["This field is required."]);
    assert_json(
        &resp,
        400,
        &json!({
            "host": required, "username": required, "password": required,
            "from_email": required
        }),
    );
    assert_json(&app.get(&path, &app.admin_token).await, 200, &created);
}

async fn put_replaces_every_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_notifier(&reference_create_body()).await;
    let replacement = json!({
        "name": "replaced", "host": "relay.example.net", "port": 2525, "username": "relay",
        "password": "another-secret", "from_email": "relay@example.net", "use_tls": false,
        "use_ssl": false, "fail_silently": true
    });

    let resp = app
        .put_json(
            &notifier_path(id_of(&created)),
            &replacement,
            &app.admin_token,
        )
        .await;

    assert_updated(&resp, &created, &shown(&replacement));
}

/// DRF's full update leaves fields with defaults that the body omits as they were stored.
async fn put_keeps_stored_values_of_omitted_optional_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let stored = with(
        &reference_create_body(),
        json!({ "use_tls": false, "fail_silently": true }),
    );
    let created = app.create_notifier(&stored).await;
    let required_only = json!({
        "name": "put_me", "host": "h2.example", "username": "u2", "password": "p2",
        "from_email": "x@y.co"
    });

    let resp = app
        .put_json(
            &notifier_path(id_of(&created)),
            &required_only,
            &app.admin_token,
        )
        .await;

    assert_updated(
        &resp,
        &created,
        &with(&required_only, json!({ "password": MASK })),
    );
}

async fn patch_with_masked_password_keeps_stored_password(backend: Backend) {
    let app = spawn_app(backend).await;
    let exposed = app.exposing_passwords().await;
    let created = app.create_notifier(&reference_create_body()).await;
    let path = notifier_path(id_of(&created));

    let resp = app
        .patch_json(
            &path,
            &json!({ "password": MASK, "username": "renamed" }),
            &app.admin_token,
        )
        .await;

    assert_updated(&resp, &created, &json!({ "username": "renamed" }));
    let stored = exposed.get(&path, &exposed.admin_token).await.json();
    assert_eq!(stored["password"], "somepassword");
}

async fn put_with_masked_password_keeps_stored_password(backend: Backend) {
    let app = spawn_app(backend).await;
    let exposed = app.exposing_passwords().await;
    let created = app.create_notifier(&reference_create_body()).await;
    let path = notifier_path(id_of(&created));
    let replacement = with(
        &reference_create_body(),
        json!({ "password": MASK, "username": "renamed" }),
    );

    let resp = app.put_json(&path, &replacement, &app.admin_token).await;

    assert_updated(&resp, &created, &json!({ "username": "renamed" }));
    let stored = exposed.get(&path, &exposed.admin_token).await.json();
    assert_eq!(stored["password"], "somepassword");
}

async fn patch_with_a_new_password_replaces_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let exposed = app.exposing_passwords().await;
    let created = app.create_notifier(&reference_create_body()).await;
    let path = notifier_path(id_of(&created));

    let resp = app
        .patch_json(
            &path,
            &json!({ "password": "brand-new-secret" }),
            &app.admin_token,
        )
        .await;

    assert_updated(&resp, &created, &json!({}));
    let stored = exposed.get(&path, &exposed.admin_token).await;
    let expected = expected_notifier(
        &stored.json(),
        &with(
            &reference_create_body(),
            json!({ "password": "brand-new-secret" }),
        ),
    );
    assert_json(&stored, 200, &expected);
}

async fn duplicate_name_is_refused_case_insensitively_on_create(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_named("Alerts").await;

    for name in ["Alerts", "alerts", "ALERTS", "  aLeRtS  "] {
        let resp = app
            .post_json(NOTIFIERS, &notifier_body(name), &app.admin_token)
            .await;

        assert_json(&resp, 400, &json!({ "name": [NAME_TAKEN] }));
    }
    assert_eq!(
        app.get(NOTIFIERS, &app.admin_token).await.json()["count"],
        1
    );
}

async fn duplicate_name_is_refused_case_insensitively_on_update(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_named("Alerts").await;
    let other = app.create_named("Reports").await;
    let path = notifier_path(id_of(&other));

    let patched = app
        .patch_json(&path, &json!({ "name": "alerts" }), &app.admin_token)
        .await;
    let put = app
        .put_json(&path, &notifier_body(" ALERTS "), &app.admin_token)
        .await;

    assert_json(&patched, 400, &json!({ "name": [NAME_TAKEN] }));
    assert_json(&put, 400, &json!({ "name": [NAME_TAKEN] }));
    assert_json(&app.get(&path, &app.admin_token).await, 200, &other);
}

async fn renaming_to_a_new_case_of_its_own_name_is_allowed(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_named("Alerts").await;

    let resp = app
        .patch_json(
            &notifier_path(id_of(&created)),
            &json!({ "name": "ALERTS" }),
            &app.admin_token,
        )
        .await;

    assert_updated(&resp, &created, &json!({ "name": "ALERTS" }));
}

async fn updating_an_unknown_id_is_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let path = notifier_path(777);

    let patched = app
        .patch_json(&path, &json!({ "name": "x" }), &app.admin_token)
        .await;
    let put = app
        .put_json(&path, &notifier_body("x"), &app.admin_token)
        .await;

    assert_detail(&patched, 404, NOT_FOUND_NOTIFIER);
    assert_detail(&put, 404, NOT_FOUND_NOTIFIER);
}

async fn read_only_keys_in_a_patch_are_ignored(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_named("fixed").await;

    let resp = app
        .patch_json(
            &notifier_path(id_of(&created)),
            &json!({ "id": 999, "created_at": "2000-01-01T00:00:00.000000Z", "colour": "red" }),
            &app.admin_token,
        )
        .await;

    assert_updated(&resp, &created, &json!({}));
}

backend_tests!(
    reference_patch_example_changes_only_name_and_updated_at,
    empty_patch_only_moves_updated_at,
    patch_changes_several_fields_with_coercion,
    patch_validates_only_the_fields_it_sends,
    put_requires_creates_required_fields,
    put_replaces_every_field,
    put_keeps_stored_values_of_omitted_optional_fields,
    patch_with_masked_password_keeps_stored_password,
    put_with_masked_password_keeps_stored_password,
    patch_with_a_new_password_replaces_it,
    duplicate_name_is_refused_case_insensitively_on_create,
    duplicate_name_is_refused_case_insensitively_on_update,
    renaming_to_a_new_case_of_its_own_name_is_allowed,
    updating_an_unknown_id_is_404,
    read_only_keys_in_a_patch_are_ignored,
);
