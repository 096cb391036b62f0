//! A stored password follows its destination: whoever may update a notifier cannot point
//! it at a server of theirs and collect the password at the next test or send.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::smtp_server::{Security, SmtpServerOptions, TestSmtpServer};

const PASSWORD_AGAIN: &str =
    "Enter the password again when changing the host, port or TLS settings.";

fn password_again() -> Value {
    json!({ "password": [PASSWORD_AGAIN] })
}

/// A listener where the attacker would collect the password: it accepts any AUTH.
async fn collector() -> TestSmtpServer {
    TestSmtpServer::start(SmtpServerOptions {
        security: Security::Plain,
        tls: None,
        username: "info".into(),
        password: "somepassword".into(),
        require_auth: false,
    })
    .await
}

async fn an_updater_cannot_move_the_stored_password_elsewhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let exposed = app.exposing_passwords().await;
    let created = app.create_notifier(&reference_create_body()).await;
    let path = notifier_path(id_of(&created));
    let updater = app.user_with_codes("updater", true, &[2833, 2835]).await;
    let listener = collector().await;

    let attempts = [
        json!({ "host": "127.0.0.1", "port": listener.port, "use_tls": false, "use_ssl": false }),
        json!({ "host": "127.0.0.1" }),
        json!({ "port": listener.port }),
        json!({ "port": listener.port, "password": MASK }),
        json!({ "use_tls": false, "use_ssl": false }),
    ];
    for attempt in &attempts {
        let resp = app.patch_json(&path, attempt, &updater).await;
        assert_json(&resp, 400, &password_again());
    }
    let put = with(
        &reference_create_body(),
        json!({ "host": "127.0.0.1", "port": listener.port, "password": MASK }),
    );
    assert_json(
        &app.put_json(&path, &put, &updater).await,
        400,
        &password_again(),
    );

    // The destination never moved (no /test here: it would reach the reference host).
    assert_eq!(listener.connections(), 0, "the collector was reached");
    let stored = exposed.get(&path, &exposed.admin_token).await.json();
    assert_eq!(
        stored,
        with(&created, json!({ "password": "somepassword" }))
    );
}

async fn a_new_destination_with_a_new_password_is_accepted(backend: Backend) {
    let app = spawn_app(backend).await;
    let exposed = app.exposing_passwords().await;
    let created = app.create_notifier(&reference_create_body()).await;
    let path = notifier_path(id_of(&created));

    let resp = app
        .patch_json(
            &path,
            &json!({ "host": "smtp.example.net", "port": 2525, "use_tls": false,
                     "use_ssl": false, "password": "typed-again" }),
            &app.admin_token,
        )
        .await;

    assert_status(&resp, 200);
    let stored = exposed.get(&path, &exposed.admin_token).await.json();
    assert_eq!(stored["host"], "smtp.example.net");
    assert_eq!(stored["password"], "typed-again");
}

async fn changes_that_keep_the_destination_need_no_password(backend: Backend) {
    let app = spawn_app(backend).await;
    // STARTTLS on 587.
    let created = app.create_notifier(&notifier_body("kept")).await;
    let path = notifier_path(id_of(&created));
    let host = created["host"].clone();
    let port = created["port"].clone();

    for change in [
        json!({ "host": host }),
        json!({ "port": port }),
        json!({ "name": "renamed", "username": "other", "fail_silently": true }),
        // Implicit TLS instead of STARTTLS: still encrypted.
        json!({ "use_tls": false, "use_ssl": true }),
        json!({ "use_tls": true, "use_ssl": false }),
    ] {
        let resp = app.patch_json(&path, &change, &app.admin_token).await;
        assert_status(&resp, 200);
    }

    // Once plain, turning TLS "off" again moves nothing.
    let plain = app
        .patch_json(
            &path,
            &json!({ "use_tls": false, "password": "plain-now" }),
            &app.admin_token,
        )
        .await;
    assert_status(&plain, 200);
    let again = app
        .patch_json(
            &path,
            &json!({ "use_tls": false, "use_ssl": false }),
            &app.admin_token,
        )
        .await;
    assert_status(&again, 200);
}

async fn an_unknown_notifier_is_still_404(backend: Backend) {
    let app = spawn_app(backend).await;

    let resp = app
        .patch_json(
            &notifier_path(999),
            &json!({ "port": 2525 }),
            &app.admin_token,
        )
        .await;

    assert_detail(&resp, 404, NOT_FOUND_NOTIFIER);
}

backend_tests!(
    an_updater_cannot_move_the_stored_password_elsewhere,
    a_new_destination_with_a_new_password_is_accepted,
    changes_that_keep_the_destination_need_no_password,
    an_unknown_notifier_is_still_404,
);
