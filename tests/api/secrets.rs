//! §6 secrets (SQLite, whose files can be read directly): nothing in clear at rest or in logs.

use std::os::unix::fs::PermissionsExt;

use serde_json::json;

use crate::helpers::*;

/// Distinctive strings that would be found if they leaked anywhere.
fn needle(what: &str) -> String {
    format!("{what}-{}", uuid::Uuid::new_v4().simple())
}

fn database_bytes(env_dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    ["notifier.db", "notifier.db-wal", "notifier.db-shm"]
        .iter()
        .filter_map(|name| {
            std::fs::read(env_dir.join(name))
                .ok()
                .map(|bytes| (name.to_string(), bytes))
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

async fn database_files_hold_no_plaintext_password_or_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let first_password = needle("first-password");
    let second_password = needle("second-password");
    let created = app
        .create_notifier(&with(
            &notifier_body("vault"),
            json!({ "password": first_password }),
        ))
        .await;
    let resp = app
        .patch_json(
            &notifier_path(id_of(&created)),
            &json!({ "password": second_password }),
            &app.admin_token,
        )
        .await;
    assert_status(&resp, 200);
    let user_token = app.user_with_codes("reader", true, &[2830]).await;
    assert_status(&app.get(NOTIFIERS, &user_token).await, 200);

    let files = database_bytes(app.dir_path());

    assert!(
        files.iter().any(|(name, _)| name == "notifier.db"),
        "no database file"
    );
    for (name, bytes) in &files {
        for secret in [
            &first_password,
            &second_password,
            &app.admin_token,
            &user_token,
        ] {
            assert!(!contains(bytes, secret), "{name} holds {secret:?} in clear");
        }
    }
}

async fn generated_secret_key_file_is_readable_by_its_owner_only(backend: Backend) {
    let app = spawn_app(backend).await;

    let metadata = std::fs::metadata(app.dir_path().join("secret.key"))
        .expect("the server generates the key file on first start");

    assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
}

async fn served_process_logs_neither_passwords_nor_tokens(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let config = env.write_config(&env.settings);
    let config_arg = config.to_str().expect("a UTF-8 path");
    let server = ServerProcess::start(&["--config", config_arg, "serve"], "debug").await;
    let user_token = {
        let output = run_cli(&config, &["user", "create", "reader", "--staff"]).await;
        assert_success(&output, "user create");
        assert_success(
            &run_cli(&config, &["user", "grant", "reader", "2830"]).await,
            "grant",
        );
        let output = run_cli(&config, &["token", "create", "reader"]).await;
        assert_success(&output, "token create");
        stdout_of(&output).trim().to_owned()
    };
    let admin = env.admin_token();
    let passwords = [
        needle("created-pw"),
        needle("patched-pw"),
        needle("rejected-pw"),
    ];
    let malformed_password = needle("malformed-pw");
    let wrong_tokens = [
        needle("wrong-token"),
        needle("wrong-bearer"),
        needle("spaced"),
    ];
    let client = http_client();
    let url = |path: &str| format!("{}{path}", server.address);
    let send = |request: reqwest::RequestBuilder| async move {
        let response = request.send().await.expect("request to the served process");
        let status = response.status().as_u16();
        (status, response.text().await.expect("a response body"))
    };
    let auth = token_header(&admin);
    let user_auth = token_header(&user_token);

    let create = with(
        &notifier_body("logged"),
        json!({ "password": passwords[0] }),
    );
    let (status, text) = send(
        client
            .post(url(NOTIFIERS))
            .header("authorization", &auth)
            .json(&create),
    )
    .await;
    assert_eq!(status, 201, "{text}");
    let id = serde_json::from_str::<serde_json::Value>(&text).expect("json")["id"].clone();
    let item = notifier_path(id);
    let patch = json!({ "password": passwords[1] });
    let rejected = json!({ "password": passwords[2], "port": "abc" });
    let malformed = format!("{{\"password\": \"{malformed_password}\", ");
    let bad_headers = [
        format!("Token {}", wrong_tokens[0]),
        format!("Bearer {}", wrong_tokens[1]),
        format!("Token {} b", wrong_tokens[2]),
    ];
    let mut requests = vec![
        (
            200,
            client
                .patch(url(&item))
                .header("authorization", &auth)
                .json(&patch),
        ),
        (
            400,
            client
                .patch(url(&item))
                .header("authorization", &auth)
                .json(&rejected),
        ),
        (
            400,
            client
                .post(url(NOTIFIERS))
                .header("authorization", &auth)
                .header("content-type", "application/json")
                .body(malformed),
        ),
        (
            200,
            client
                .get(url(NOTIFIERS))
                .header("authorization", &user_auth),
        ),
        (
            403,
            client
                .delete(url(&item))
                .header("authorization", &user_auth),
        ),
    ];
    for header in &bad_headers {
        requests.push((
            401,
            client.get(url(NOTIFIERS)).header("authorization", header),
        ));
    }
    for (expected, request) in requests {
        let (status, text) = send(request).await;
        assert_eq!(status, expected, "{text}");
    }
    drop(client);

    let finished = server.terminate().await;

    assert!(
        finished.status.success(),
        "SIGTERM should exit 0: {finished:?}"
    );
    let secrets = passwords
        .iter()
        .chain([&malformed_password, &admin, &user_token])
        .chain(&wrong_tokens);
    for secret in secrets {
        assert!(
            !finished.stderr.contains(secret.as_str()),
            "the log holds {secret:?}:\n{}",
            finished.stderr
        );
        assert!(
            !finished.stdout.contains(secret.as_str()),
            "stdout holds {secret:?}:\n{}",
            finished.stdout
        );
    }
}

backend_tests!(
    sqlite: [
        database_files_hold_no_plaintext_password_or_token,
        generated_secret_key_file_is_readable_by_its_owner_only,
        served_process_logs_neither_passwords_nor_tokens,
    ],
    postgres: [],
);
