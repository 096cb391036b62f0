//! §7 subcommands: users, grants, tokens, migrations, and their one-line errors.

use crate::helpers::*;

async fn token_create_prints_one_line_that_authenticates(backend: Backend) {
    let app = spawn_app(backend).await;
    app.cli_ok(&["user", "create", "reader", "--staff"]).await;
    app.cli_ok(&["user", "grant", "reader", "2830"]).await;

    let output = app.cli(&["token", "create", "reader"]).await;

    assert_success(&output, "token create");
    let stdout = stdout_of(&output);
    let key = stdout.strip_suffix('\n').unwrap_or_default();
    assert!(
        !key.is_empty() && !key.contains(char::is_whitespace),
        "one line with the key alone: {stdout:?}"
    );
    assert!(key.len() >= 27, "at least 160 random bits: {key:?}");
    assert_status(&app.get(NOTIFIERS, key).await, 200);
}

async fn each_token_create_makes_a_new_working_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.user_with_codes("reader", true, &[2830]).await;

    let second = app.new_token("reader").await;

    assert_ne!(first, second);
    assert_status(&app.get(NOTIFIERS, &first).await, 200);
    assert_status(&app.get(NOTIFIERS, &second).await, 200);
}

async fn grants_take_effect_at_once_and_revoke_removes_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.user_with_codes("clerk", true, &[]).await;
    let forbidden = |resp: &Resp| assert_detail(resp, 403, FORBIDDEN);
    forbidden(&app.get(NOTIFIERS, &token).await);

    app.cli_ok(&["user", "grant", "clerk", "2830", "2831"])
        .await;

    assert_status(&app.get(NOTIFIERS, &token).await, 200);
    let created = app
        .post_json(NOTIFIERS, &notifier_body("granted"), &token)
        .await;
    assert_status(&created, 201);

    app.cli_ok(&["user", "revoke", "clerk", "2830"]).await;

    forbidden(&app.get(NOTIFIERS, &token).await);
    let still = app
        .post_json(NOTIFIERS, &notifier_body("still"), &token)
        .await;
    assert_status(&still, 201);
}

async fn granting_twice_and_revoking_what_is_not_held_are_harmless(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.user_with_codes("clerk", true, &[2830]).await;

    app.cli_ok(&["user", "grant", "clerk", "2830"]).await;
    app.cli_ok(&["user", "revoke", "clerk", "2834"]).await;

    assert_status(&app.get(NOTIFIERS, &token).await, 200);
}

async fn staff_flag_matters_and_admin_flag_grants_everything(backend: Backend) {
    let app = spawn_app(backend).await;
    let plain = app.user_with_codes("plain", false, &[2830]).await;
    let staff = app.user_with_codes("staff", true, &[2830]).await;
    app.cli_ok(&["user", "create", "chief", "--admin"]).await;
    let chief = app.new_token("chief").await;
    app.cli_ok(&["user", "create", "both", "--staff", "--admin"])
        .await;
    let both = app.new_token("both").await;

    assert_detail(&app.get(NOTIFIERS, &plain).await, 403, FORBIDDEN);
    assert_status(&app.get(NOTIFIERS, &staff).await, 200);
    assert_status(
        &app.post_json(NOTIFIERS, &notifier_body("c"), &chief).await,
        201,
    );
    assert_status(
        &app.post_json(NOTIFIERS, &notifier_body("b"), &both).await,
        201,
    );
}

async fn user_deactivate_stops_every_token_of_that_user(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.user_with_codes("leaver", true, &[2830]).await;
    let second = app.new_token("leaver").await;
    let other = app.user_with_codes("stayer", true, &[2830]).await;

    app.cli_ok(&["user", "deactivate", "leaver"]).await;

    for token in [&first, &second] {
        assert_detail(
            &app.get(NOTIFIERS, token).await,
            401,
            "User inactive or deleted.",
        );
    }
    assert_status(&app.get(NOTIFIERS, &other).await, 200);
}

async fn token_revoke_stops_that_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.user_with_codes("reader", true, &[2830]).await;

    app.cli_ok(&["token", "revoke", &token]).await;

    assert_detail(&app.get(NOTIFIERS, &token).await, 401, "Invalid token.");
    let again = app.cli(&["token", "revoke", &token]).await;
    assert_cli_error(&again, "error: no such token", "revoking twice");
}

async fn unknown_user_is_a_one_line_error(backend: Backend) {
    let app = spawn_app(backend).await;
    let commands: [&[&str]; 5] = [
        &["user", "grant", "ghost", "2830"],
        &["user", "revoke", "ghost", "2830"],
        &["user", "deactivate", "ghost"],
        &["token", "create", "ghost"],
        &["user", "grant", "ghost", "2830", "2831"],
    ];

    for args in commands {
        let output = app.cli(args).await;

        assert_cli_error(&output, "error: no such user: ghost", &args.join(" "));
    }
}

async fn creating_an_existing_user_is_a_one_line_error(backend: Backend) {
    let app = spawn_app(backend).await;
    app.cli_ok(&["user", "create", "twin"]).await;

    for args in [
        &["user", "create", "twin"][..],
        &["user", "create", "admin"][..],
    ] {
        let output = app.cli(args).await;

        let name = args[2];
        assert_cli_error(
            &output,
            &format!("error: user already exists: {name}"),
            &args.join(" "),
        );
    }
}

async fn unknown_permission_code_is_a_one_line_error(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.user_with_codes("clerk", true, &[]).await;

    for code in ["2829", "2838", "9999", "abc", "28300"] {
        for verb in ["grant", "revoke"] {
            let output = app.cli(&["user", verb, "clerk", "2830", code]).await;

            let message = format!("error: unknown permission code: {code} (expected 2830-2837)");
            assert_cli_error(&output, &message, &format!("{verb} {code}"));
        }
    }
    // A command with a bad code changes nothing, not even its valid codes.
    assert_detail(&app.get(NOTIFIERS, &token).await, 403, FORBIDDEN);
}

async fn unknown_token_revoke_is_a_one_line_error(backend: Backend) {
    let app = spawn_app(backend).await;

    let output = app.cli(&["token", "revoke", "not-a-real-token"]).await;

    assert_cli_error(&output, "error: no such token", "token revoke");
}

async fn usage_errors_exit_2(backend: Backend) {
    let app = spawn_app(backend).await;
    let commands: [&[&str]; 7] = [
        &["user", "create"],
        &["user", "grant", "someone"],
        &["user", "revoke", "someone"],
        &["user", "deactivate"],
        &["token", "create"],
        &["token", "revoke"],
        &["frobnicate"],
    ];

    for args in commands {
        let output = app.cli(args).await;

        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert!(
            !stderr_of(&output).is_empty(),
            "{args:?} explains itself on stderr"
        );
    }
}

async fn migrate_is_idempotent(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let config = env.write_config(&env.settings);

    for run in 1..=2 {
        let output = run_cli(&config, &["migrate"]).await;

        assert_success(&output, &format!("migrate, run {run}"));
    }
    let app = env.launch(env.settings.clone()).await;
    assert_status(&app.get(NOTIFIERS, &app.admin_token).await, 200);
    assert_success(
        &app.cli(&["migrate"]).await,
        "migrate under a running server",
    );
    assert_status(
        &app.post_json(NOTIFIERS, &notifier_body("after"), &app.admin_token)
            .await,
        201,
    );
}

async fn config_flag_may_follow_the_subcommand(backend: Backend) {
    let app = spawn_app(backend).await;
    let config = app.config_path.to_str().expect("a UTF-8 path");

    let output = run_notifier(&["user", "create", "late", "--staff", "--config", config]).await;
    assert_success(&output, "user create … --config");
    let output = run_notifier(&["token", "create", "late", "--config", config]).await;

    assert_success(&output, "token create … --config");
    let token = stdout_of(&output).trim().to_owned();
    assert_detail(&app.get(NOTIFIERS, &token).await, 403, FORBIDDEN);
}

async fn unreadable_or_invalid_config_is_a_one_line_error(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let missing = env.dir.path().join("missing.toml");
    let unknown_key = env.dir.path().join("unknown-key.toml");
    let good = std::fs::read_to_string(env.write_config(&env.settings)).expect("the config");
    std::fs::write(&unknown_key, good.replace("[smtp]", "[smtp]\nretries = 3")).expect("write");

    for config in [&missing, &unknown_key] {
        let output = run_cli(config, &["user", "create", "someone"]).await;

        let stderr = stderr_of(&output);
        assert!(!output.status.success(), "{}: {output:?}", config.display());
        assert!(
            stderr.starts_with("error: ") && stderr.lines().count() == 1,
            "{}: one error line expected, got {stderr:?}",
            config.display()
        );
    }
}

/// `notifier config ARGS...` run in `dir`, which has no config/ folder of its own.
async fn print_config_in(dir: &std::path::Path, args: &[&str]) -> String {
    let output = tokio::process::Command::new(notifier_bin())
        .args(args)
        .arg("config")
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .await
        .expect("run notifier config");
    assert_success(&output, "notifier config");
    stdout_of(&output)
}

/// The defaults are built in: `notifier config` prints the same from any working directory,
/// and with a config file it prints that file's settings, serialized with secrets redacted.
#[tokio::test]
async fn config_prints_the_settings_serialized_with_secrets_redacted() {
    let mut env = TestEnv::new(Backend::Sqlite).await;
    let defaults = Settings::defaults().expect("the built-in defaults load");

    let printed = print_config_in(env.dir.path(), &[]).await;

    assert_eq!(printed, defaults.redacted_toml().expect("serializes"));

    env.settings.server.metrics_token = "metrics-token-0123456789abcdef".into();
    env.settings.security.secret_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".into();
    env.settings.database.url = "postgres://app:db-pass-5e1@db.example.com/notifier".into();
    let admin_token = env.admin_token();
    let config = env.write_config(&env.settings);
    let config = config.to_str().expect("a UTF-8 path");

    let printed = print_config_in(env.dir.path(), &["--config", config]).await;

    assert_eq!(printed, env.settings.redacted_toml().expect("serializes"));
    for secret in [
        "metrics-token-0123456789abcdef",
        "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        "db-pass-5e1",
        &admin_token,
    ] {
        assert!(!printed.contains(secret), "{secret} leaked:\n{printed}");
    }
    assert!(
        printed.contains("url = \"postgres://app:***@db.example.com/notifier\"\n"),
        "{printed}"
    );
}

backend_tests!(
    token_create_prints_one_line_that_authenticates,
    each_token_create_makes_a_new_working_token,
    grants_take_effect_at_once_and_revoke_removes_them,
    granting_twice_and_revoking_what_is_not_held_are_harmless,
    staff_flag_matters_and_admin_flag_grants_everything,
    user_deactivate_stops_every_token_of_that_user,
    token_revoke_stops_that_token,
    unknown_user_is_a_one_line_error,
    creating_an_existing_user_is_a_one_line_error,
    unknown_permission_code_is_a_one_line_error,
    unknown_token_revoke_is_a_one_line_error,
    usage_errors_exit_2,
    migrate_is_idempotent,
    config_flag_may_follow_the_subcommand,
    unreadable_or_invalid_config_is_a_one_line_error,
);
