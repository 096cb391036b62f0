//! §7 `notifier serve` as a process: bootstrap token, request log, SIGTERM.

use crate::helpers::*;

const ADMIN_TOKEN_LINE: &str = "admin token: ";

async fn status_of(address: &str, path: &str, token: Option<&str>) -> u16 {
    let mut request = http_client().get(format!("{address}{path}"));
    if let Some(token) = token {
        request = request.header("authorization", token_header(token));
    }
    request
        .send()
        .await
        .expect("a request to the served process")
        .status()
        .as_u16()
}

fn config_arg(config: &std::path::Path) -> &str {
    config.to_str().expect("a UTF-8 path")
}

async fn generated_admin_token_is_printed_once_on_stdout_only(backend: Backend) {
    let mut env = TestEnv::new(backend).await;
    env.settings.security.admin_token = "".into();
    let config = env.write_config(&env.settings);
    let args = ["--config", config_arg(&config), "serve"];

    let mut first = ServerProcess::start(&args, "info").await;
    let line = first.wait_for_stdout(ADMIN_TOKEN_LINE).await;
    let token = line
        .strip_prefix(ADMIN_TOKEN_LINE)
        .unwrap_or_else(|| panic!("the line should start with {ADMIN_TOKEN_LINE:?}: {line:?}"))
        .to_owned();
    assert_eq!(
        status_of(&first.address, NOTIFIERS, Some(&token)).await,
        200
    );
    let first = first.terminate().await;

    let second = ServerProcess::start(&args, "info").await;
    assert_eq!(
        status_of(&second.address, NOTIFIERS, Some(&token)).await,
        200
    );
    let second = second.terminate().await;

    assert!(first.status.success(), "{first:?}");
    assert!(second.status.success(), "{second:?}");
    let printed = first.stdout.matches(ADMIN_TOKEN_LINE).count();
    assert_eq!(printed, 1, "printed once: {:?}", first.stdout);
    assert!(
        !second.stdout.contains(ADMIN_TOKEN_LINE),
        "not again: {:?}",
        second.stdout
    );
    assert!(
        token.len() >= 27,
        "a token of at least 160 bits, got {token:?}"
    );
    for log in [&first.stderr, &second.stderr] {
        assert!(!log.contains(&token), "the token is in the log:\n{log}");
    }
}

async fn configured_admin_token_is_used_and_never_printed(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let config = env.write_config(&env.settings);

    let server = ServerProcess::start(&["--config", config_arg(&config), "serve"], "info").await;
    let status = status_of(&server.address, NOTIFIERS, Some(&env.admin_token())).await;
    let finished = server.terminate().await;

    assert_eq!(status, 200);
    assert!(finished.status.success(), "{finished:?}");
    assert!(
        !finished.stdout.contains(ADMIN_TOKEN_LINE),
        "{:?}",
        finished.stdout
    );
    let token = &env.admin_token();
    assert!(!finished.stdout.contains(token.as_str()) && !finished.stderr.contains(token.as_str()));
}

async fn serve_is_the_default_and_config_may_follow_the_subcommand(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let config = env.write_config(&env.settings);
    let forms: [&[&str]; 3] = [
        &["--config", config_arg(&config)],
        &["serve", "--config", config_arg(&config)],
        &["--config", config_arg(&config), "serve"],
    ];

    for args in forms {
        let server = ServerProcess::start(args, "info").await;
        let status = status_of(&server.address, "/healthz", None).await;
        let finished = server.terminate().await;

        assert_eq!(status, 200, "notifier {args:?}");
        assert!(finished.status.success(), "notifier {args:?}: {finished:?}");
    }
}

async fn each_request_is_logged_with_method_route_and_status(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let config = env.write_config(&env.settings);
    let server = ServerProcess::start(&["--config", config_arg(&config), "serve"], "info").await;
    let token = env.admin_token();

    assert_eq!(
        status_of(&server.address, NOTIFIERS, Some(&token)).await,
        200
    );
    assert_eq!(
        status_of(&server.address, &notifier_path(404_404), Some(&token)).await,
        404
    );
    let finished = server.terminate().await;

    assert!(finished.status.success(), "{finished:?}");
    let logged = |method: &str, path: &str, status: &str| {
        finished
            .stderr
            .lines()
            .any(|line| line.contains(method) && line.contains(path) && line.contains(status))
    };
    assert!(
        logged("GET", NOTIFIERS, "200"),
        "no log line for the list:\n{}",
        finished.stderr
    );
    // §12: the route pattern, not the raw path.
    assert!(
        logged("GET", &notifier_path("{id}"), "404"),
        "no log line for the 404:\n{}",
        finished.stderr
    );
    assert!(!finished.stderr.contains("404404"), "{}", finished.stderr);
}

async fn environment_variables_override_the_config_file(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let config = env.write_config(&env.settings);
    let args = ["--config", config_arg(&config), "serve"];
    let overrides = [
        ("NOTIFIER__SERVER__BODY_LIMIT", "300"),
        ("NOTIFIER__SECURITY__EXPOSE_PASSWORDS", "true"),
    ];
    let server = ServerProcess::start_with_env(&args, "info", &overrides).await;
    let client = http_client();
    let auth = token_header(&env.admin_token());
    let post = |body: String| {
        client
            .post(format!("{}{NOTIFIERS}", server.address))
            .header("authorization", &auth)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let small = post(notifier_body("small").to_string())
        .await
        .expect("a small create");
    let small_status = small.status().as_u16();
    let small_body: serde_json::Value = small.json().await.expect("a JSON body");
    let big = with(
        &notifier_body("big"),
        serde_json::json!({ "padding": "x".repeat(300) }),
    );
    let big_status = post(big.to_string())
        .await
        .expect("a big create")
        .status()
        .as_u16();
    drop(client);
    let finished = server.terminate().await;

    assert_eq!(small_status, 201);
    assert_eq!(
        small_body["password"], "hunter2-password",
        "expose_passwords from the env"
    );
    assert_eq!(big_status, 413, "body_limit from the env");
    assert!(finished.status.success(), "{finished:?}");
}

backend_tests!(
    generated_admin_token_is_printed_once_on_stdout_only,
    configured_admin_token_is_used_and_never_printed,
    serve_is_the_default_and_config_may_follow_the_subcommand,
    each_request_is_logged_with_method_route_and_status,
    environment_variables_override_the_config_file,
);
