//! Several stateless instances on one PostgreSQL (issue: scale-out): what one writes the
//! other serves within the documented bound (`MAX_STALENESS`), concurrent creates split across both stay consistent, migrations
//! started together neither fail nor run twice, and a revocation reaches every instance's
//! token cache on its next request, as does a change of a notifier's authentication to
//! every instance's sending cache.

use futures_util::future::join_all;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::smtp_server::{Quirks, Security, SmtpServerOptions, TestSmtpServer};

backend_tests!(sqlite: [], postgres: [two_instances_share_one_database]);

const NOTIFIERS: &str = "/api/notifications/notifiers/email";

async fn two_instances_share_one_database(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let config = env.write_config(&env.settings);
    let config = config.to_str().expect("utf-8 path");
    let args = ["--config", config, "serve"];

    // Both start on an empty database at the same moment: both migrate, both bootstrap.
    let (first, second) = tokio::join!(
        ServerProcess::start(&args, "info"),
        ServerProcess::start(&args, "info")
    );
    let declared = <migration::Migrator as migration::MigratorTrait>::migrations().len();
    assert_eq!(
        applied_migrations(&env.database.url).await,
        i64::try_from(declared).expect("a small number"),
        "each migration ran exactly once"
    );
    for server in [first, second] {
        let finished = server.terminate().await;
        assert!(finished.status.success(), "{finished:?}");
    }

    // Two more instances, in this process so the test can let the staleness bound pass
    // on their clocks instead of sleeping; each has its own pool, caches and writer.
    let (a, b) = (
        env.launch(env.settings.clone()).await,
        env.launch(env.settings.clone()).await,
    );

    let client = http_client();
    let admin = token_header(&env.admin_token());
    let call = |method: reqwest::Method, base: &str, path: &str, body: Option<Value>| {
        let mut request = client
            .request(method, format!("{base}{path}"))
            .header("Authorization", &admin);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.expect("request");
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, body)
        }
    };

    // What A writes, B serves once the bound has passed, and the other way round.
    let settle = || {
        a.settle();
        b.settle();
    };
    let (status, created) = call(
        reqwest::Method::POST,
        &a.address,
        NOTIFIERS,
        Some(notifier_body("shared")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let item = notifier_path(id_of(&created));
    settle();
    let (status, seen_by_b) = call(reqwest::Method::GET, &b.address, &item, None).await;
    assert_eq!((status, &seen_by_b), (StatusCode::OK, &created));
    // A reads (and caches) the item and the list; B's writes must still show on A.
    let (_, cached_by_a) = call(reqwest::Method::GET, &a.address, &item, None).await;
    assert_eq!(cached_by_a, created);
    for base in [&a.address, &b.address] {
        let (_, page) = call(reqwest::Method::GET, base, NOTIFIERS, None).await;
        assert_eq!(
            page["count"], 1,
            "count seen by {base} before the split creates"
        );
    }
    let (status, _) = call(
        reqwest::Method::PATCH,
        &b.address,
        &item,
        Some(json!({"name": "renamed"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    settle();
    let (_, seen_by_a) = call(reqwest::Method::GET, &a.address, &item, None).await;
    assert_eq!(seen_by_a["name"], "renamed");

    // 100 distinct creates alternating between the instances: all stored, none lost.
    let creates = (0..100).map(|i| {
        let base = if i % 2 == 0 { &a.address } else { &b.address };
        call(
            reqwest::Method::POST,
            base,
            NOTIFIERS,
            Some(notifier_body(&format!("split-{i}"))),
        )
    });
    let statuses: Vec<StatusCode> = join_all(creates)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    settle();
    for base in [&a.address, &b.address] {
        let (_, page) = call(reqwest::Method::GET, base, NOTIFIERS, None).await;
        assert_eq!(page["count"], 101, "count seen by {base}");
    }

    // The same name from both instances at once: the unique index lets exactly one win.
    let duplicates = (0..20).map(|i| {
        let base = if i % 2 == 0 { &a.address } else { &b.address };
        call(
            reqwest::Method::POST,
            base,
            NOTIFIERS,
            Some(notifier_body("Contested")),
        )
    });
    let outcomes = join_all(duplicates).await;
    let wins = outcomes
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(wins, 1, "{outcomes:?}");
    for (status, body) in outcomes.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
        assert_eq!(*status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            &json!({"name": ["email notifier with this name already exists."]})
        );
    }

    // Both instances cache how a notifier logs in; a change on one reaches the other
    // within the bound, and the instance that made it at once.
    let options = SmtpServerOptions {
        security: Security::Plain,
        tls: None,
        username: String::new(),
        password: String::new(),
        require_auth: false,
    };
    let no_auth = Quirks {
        no_auth: true,
        ..Quirks::default()
    };
    let relay = TestSmtpServer::start_with(options, no_auth).await;
    let mut body = notifier_body("relay");
    body["host"] = json!("127.0.0.1");
    body["port"] = json!(relay.port);
    body["use_tls"] = json!(false);
    body["use_ssl"] = json!(false);
    let (status, created) = call(reqwest::Method::POST, &a.address, NOTIFIERS, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let relay_item = notifier_path(id_of(&created));
    let check = |base: &str| {
        let path = format!("{relay_item}/test");
        let base = base.to_owned();
        let call = &call;
        async move {
            let (status, answer) = call(reqwest::Method::POST, &base, &path, Some(json!({}))).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
            answer["success"] == json!(true)
        }
    };
    let set_method = |base: &str, method: &str| {
        let path = format!("{relay_item}/authentication");
        let base = base.to_owned();
        let body = json!({ "method": method });
        let call = &call;
        async move {
            let (status, answer) = call(reqwest::Method::PUT, &base, &path, Some(body)).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
        }
    };
    settle();
    assert!(
        !check(&b.address).await,
        "a password meets a relay without AUTH"
    );
    set_method(&a.address, "none").await;
    settle();
    assert!(check(&b.address).await, "B sends as A set it");
    set_method(&b.address, "password").await;
    assert!(!check(&b.address).await, "B sees its own change at once");
    settle();
    assert!(!check(&a.address).await, "and A within the bound");

    // Both instances cache the staff token; a revocation from the CLI reaches both within
    // the bound.
    let staff = user_token(config, "ops", &["2830"]).await;
    let staff_get = |base: &str| {
        let request = client
            .get(format!("{base}{NOTIFIERS}"))
            .header("Authorization", token_header(&staff));
        async move { request.send().await.expect("request").status() }
    };
    for base in [&a.address, &b.address] {
        assert_eq!(
            staff_get(base).await,
            StatusCode::OK,
            "warm the cache on {base}"
        );
    }
    assert_success(
        &run_cli(config.as_ref(), &["user", "revoke", "ops", "2830"]).await,
        "revoke",
    );
    settle();
    for base in [&a.address, &b.address] {
        assert_eq!(
            staff_get(base).await,
            StatusCode::FORBIDDEN,
            "grant revoked on {base}"
        );
    }
    assert_success(
        &run_cli(config.as_ref(), &["user", "grant", "ops", "2830"]).await,
        "grant",
    );
    assert_success(
        &run_cli(config.as_ref(), &["token", "revoke", &staff]).await,
        "token revoke",
    );
    settle();
    for base in [&a.address, &b.address] {
        assert_eq!(
            staff_get(base).await,
            StatusCode::UNAUTHORIZED,
            "token revoked on {base}"
        );
    }
}

async fn applied_migrations(url: &str) -> i64 {
    let db = Database::connect(url).await.expect("connect");
    let statement = Statement::from_string(
        db.get_database_backend(),
        "SELECT COUNT(*) AS n FROM seaql_migrations",
    );
    let row = db
        .query_one_raw(statement)
        .await
        .expect("count")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("n")
}

async fn user_token(config: &str, name: &str, codes: &[&str]) -> String {
    assert_success(
        &run_cli(config.as_ref(), &["user", "create", name, "--staff"]).await,
        "user create",
    );
    let mut grant = vec!["user", "grant", name];
    grant.extend_from_slice(codes);
    assert_success(&run_cli(config.as_ref(), &grant).await, "grant");
    let output = run_cli(config.as_ref(), &["token", "create", name]).await;
    assert_success(&output, "token create");
    stdout_of(&output).trim().to_owned()
}
