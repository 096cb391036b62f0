//! Weak secrets stop start-up with one line (exit 2); `notifier config` redacts every
//! password, one in a database URL's query string included.

use std::os::unix::fs::PermissionsExt;

use crate::helpers::*;

async fn a_short_admin_token_stops_start_up(backend: Backend) {
    let mut env = TestEnv::new(backend).await;
    env.settings.security.admin_token = "a".into();
    let config = env.write_config(&env.settings);

    let output = run_cli(&config, &["serve"]).await;

    assert_cli_error(
        &output,
        "error: security.admin_token is too short: use at least 32 \
         random characters (e.g. `head -c 24 /dev/urandom | base64`)",
        "serve with a one-character admin token",
    );
}

async fn a_key_file_others_can_read_stops_start_up(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let config = env.write_config(&env.settings);
    let key_file = env.secret_key_path();
    std::fs::write(&key_file, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n")
        .expect("write a key file");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).expect("chmod 644");

    let output = run_cli(&config, &["serve"]).await;

    let path = key_file.display();
    assert_cli_error(
        &output,
        &format!(
            "error: the secret key file {path} is readable by group or others (mode 0644); \
             run `chmod 600 {path}`"
        ),
        "serve with a world-readable key file",
    );

    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
    let args = ["--config", config.to_str().expect("a UTF-8 path"), "serve"];
    // Private again, the same key serves (start waits for the "listening on" line).
    ServerProcess::start(&args, "info").await;
}

async fn config_redacts_a_password_in_the_url_query(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let config = env.write_config(&env.settings);
    let url = "postgres://app@db.example.com/notifier?sslmode=require&password=hunter2-db";

    let with_query = tokio::process::Command::new(notifier_bin())
        .args(["--config", config.to_str().expect("a UTF-8 path"), "config"])
        .env("NOTIFIER__DATABASE__URL", url)
        .output()
        .await
        .expect("run notifier config");

    let printed = String::from_utf8_lossy(&with_query.stdout);
    assert!(with_query.status.success(), "{with_query:?}");
    assert!(!printed.contains("hunter2-db"), "{printed}");
    assert!(
        printed.contains(
            "url = \"postgres://app@db.example.com/notifier?sslmode=require&password=***\""
        ),
        "{printed}"
    );
}

backend_tests!(
    a_short_admin_token_stops_start_up,
    a_key_file_others_can_read_stops_start_up,
    config_redacts_a_password_in_the_url_query,
);
