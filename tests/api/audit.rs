//! §12 the audit log: every API write, test, send, retry and cancel, and every user and
//! token command, leaves exactly one record with its actor, action and changes, written
//! with the change (a failed write leaves none); secrets never reach it; `GET /api/audit`
//! needs code 2837 and is read-only.

use reqwest::Method;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use crate::helpers::*;

const AUDIT: &str = "/api/audit";

/// Every record matching `query`, newest first.
pub(crate) async fn records(app: &TestApp, query: &str) -> Vec<Value> {
    let resp = app
        .get(&format!("{AUDIT}?page_size=100&{query}"), &app.admin_token)
        .await;
    assert_status(&resp, 200);
    let page = resp.json();
    page["results"].as_array().cloned().unwrap_or_default()
}

/// The newest record, checked to be the only one added since `before` records existed.
async fn one_new_record(app: &TestApp, before: usize) -> Value {
    let all = records(app, "").await;
    assert_eq!(all.len(), before + 1, "exactly one new record: {all:#?}");
    all[0].clone()
}

/// A record's actor, action, notifier and changes, and that it names the request.
#[track_caller]
fn assert_record(record: &Value, resp: &Resp, action: &str, notifier: Value, changes: Value) {
    let expected = json!({
        "actor": "admin",
        "action": action,
        "notifier": notifier,
        "changes": changes,
        "request_id": resp.header("x-request-id"),
        "client_ip": "127.0.0.1",
    });
    let mut shown = record.clone();
    let fields = shown.as_object_mut().expect("a record object");
    assert!(
        fields.remove("id").is_some_and(|id| id.is_i64()),
        "{record}"
    );
    assert!(
        fields.remove("at").is_some_and(|at| at.is_string()),
        "{record}"
    );
    assert_eq!(shown, expected, "{}", resp.request);
}

/// Everything the database holds in the audit table, as text.
async fn audit_table_text(app: &TestApp) -> String {
    let db = Database::connect(&app.db_url).await.expect("connect");
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT actor, action, changes, request_id, client_ip FROM audit_log",
        ))
        .await
        .expect("read the audit table");
    let mut text = String::new();
    for row in rows {
        for i in 0..5 {
            let value: Option<String> = row.try_get_by_index(i).expect("a text column");
            text.push_str(&value.unwrap_or_default());
            text.push('\n');
        }
    }
    text
}

/// A port on loopback where nothing listens: sends to it are refused (transient).
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    listener.local_addr().expect("address").port()
}

async fn every_api_write_leaves_one_record(backend: Backend) {
    // No workers: deliveries stay where the requests put them.
    let app = spawn_app_with(backend, |s| s.delivery.workers = 0).await;
    let token = app.admin_token.clone();
    let port = closed_port().await;
    let body = json!({
        "name": "audited", "host": "127.0.0.1", "port": port, "username": "u",
        "password": "pw-create-1", "from_email": "a@mail.example.com",
        "use_tls": false, "use_ssl": false, "fail_silently": false
    });

    let created = app.post_json(NOTIFIERS, &body, &token).await;
    assert_status(&created, 201);
    let id = created.json()["id"].as_i64().expect("an id");
    let record = one_new_record(&app, 0).await;
    assert_record(
        &record,
        &created,
        "create",
        json!(id),
        json!({
            "name": [null, "audited"], "host": [null, "127.0.0.1"], "port": [null, port],
            "username": [null, "u"], "from_email": [null, "a@mail.example.com"],
            "use_tls": [null, false], "use_ssl": [null, false], "fail_silently": [null, false],
            "password": "changed"
        }),
    );

    let path = notifier_path(id);
    let steps: Vec<(Resp, &str, Value)> = vec![
        (
            app.patch_json(&path, &json!({"name": "renamed", "port": port}), &token).await,
            "update",
            json!({"name": ["audited", "renamed"]}),
        ),
        (
            app.put_json(&format!("{path}/authentication"), &json!({"method": "none"}), &token)
                .await,
            "authentication.update",
            json!({"method": ["password", "none"]}),
        ),
        (
            app.put_json(
                &format!("{path}/dkim"),
                &json!({"domain": "mail.example.com", "selector": "s1", "algorithm": "ed25519-sha256"}),
                &token,
            )
            .await,
            "dkim.update",
            json!({
                "domain": [null, "mail.example.com"], "selector": [null, "s1"],
                "algorithm": [null, "ed25519-sha256"], "private_key": "changed"
            }),
        ),
        (
            app.delete(&format!("{path}/dkim"), &token).await,
            "dkim.delete",
            json!({
                "domain": ["mail.example.com", null], "selector": ["s1", null],
                "algorithm": ["ed25519-sha256", null], "private_key": "changed"
            }),
        ),
        (
            app.post_json(&format!("{path}/test"), &json!({}), &token).await,
            "test",
            json!({"success": false}),
        ),
    ];
    for (n, (resp, action, changes)) in steps.iter().enumerate() {
        assert!(resp.status < 300, "{action}: {resp:?}");
        let all = records(&app, "").await;
        let record = &all[steps.len() - 1 - n];
        assert_record(record, resp, action, json!(id), changes.clone());
    }

    let message = json!({"to": ["x@example.com"], "subject": "s", "body": "b"});
    let sent = app
        .post_json(&format!("{path}/send"), &message, &token)
        .await;
    let detail = sent.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let delivery = assert_send_failed(&sent, &detail);
    let record = one_new_record(&app, 6).await;
    assert_record(
        &record,
        &sent,
        "send",
        json!(id),
        json!({"delivery": delivery}),
    );

    let retried = app
        .post_json(
            &format!("{}/retry", delivery_path(delivery)),
            &json!({}),
            &token,
        )
        .await;
    assert_status(&retried, 200);
    let record = one_new_record(&app, 7).await;
    assert_record(
        &record,
        &retried,
        "retry",
        json!(id),
        json!({"delivery": delivery}),
    );

    let cancelled = app
        .post_json(
            &format!("{}/cancel", delivery_path(delivery)),
            &json!({}),
            &token,
        )
        .await;
    assert_status(&cancelled, 200);
    let record = one_new_record(&app, 8).await;
    assert_record(
        &record,
        &cancelled,
        "cancel",
        json!(id),
        json!({"delivery": delivery}),
    );

    let deleted = app.delete(&path, &token).await;
    assert_status(&deleted, 204);
    let record = one_new_record(&app, 9).await;
    assert_record(
        &record,
        &deleted,
        "delete",
        json!(id),
        json!({
            "name": ["renamed", null], "host": ["127.0.0.1", null], "port": [port, null],
            "username": ["u", null], "from_email": ["a@mail.example.com", null],
            "use_tls": [false, null], "use_ssl": [false, null], "fail_silently": [false, null]
        }),
    );

    // The deleted notifier's id stays on its records.
    let of_it = records(&app, &format!("notifier={id}")).await;
    assert_eq!(of_it.len(), 10, "{of_it:#?}");
}

/// As the Django admin logs "No fields changed.": an update that changes nothing is still
/// an `update`, with `{}`.
async fn an_update_that_changes_nothing_is_recorded_with_no_changes(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = id_of(&app.create_named("same").await);

    let resp = app
        .patch_json(
            &notifier_path(id),
            &json!({"name": "same", "password": "********"}),
            &app.admin_token,
        )
        .await;

    assert_status(&resp, 200);
    let record = one_new_record(&app, 1).await;
    assert_record(&record, &resp, "update", json!(id), json!({}));
}

async fn failed_writes_leave_no_record(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.admin_token.clone();
    let id = id_of(&app.create_named("taken").await);
    let path = notifier_path(id);
    let attempts = [
        app.post_json(NOTIFIERS, &json!({"name": "no-host"}), &token)
            .await,
        app.post_json(NOTIFIERS, &notifier_body("taken"), &token)
            .await,
        app.patch_json(&path, &json!({"port": 0}), &token).await,
        app.patch_json(&path, &json!({"host": "elsewhere.example.com"}), &token)
            .await,
        app.patch_json(&notifier_path(9999), &json!({"name": "x"}), &token)
            .await,
        app.delete(&notifier_path(9999), &token).await,
        app.put_json(
            &format!("{}/authentication", notifier_path(9999)),
            &json!({"method": "none"}),
            &token,
        )
        .await,
        app.put_json(
            &format!("{path}/authentication"),
            &json!({"method": "carrier-pigeon"}),
            &token,
        )
        .await,
        app.put_json(
            &format!("{path}/dkim"),
            &json!({"domain": "other.org", "selector": "s"}),
            &token,
        )
        .await,
        app.delete(&format!("{path}/dkim"), &token).await,
        app.post_json(
            &format!("{}/retry", delivery_path(9999)),
            &json!({}),
            &token,
        )
        .await,
        app.post_json(
            &format!("{}/cancel", delivery_path(9999)),
            &json!({}),
            &token,
        )
        .await,
        app.post_json(&format!("{path}/send"), &json!({"to": []}), &token)
            .await,
    ];
    for resp in &attempts {
        assert!(
            matches!(resp.status, 400 | 404),
            "{} should have failed: {resp:?}",
            resp.request
        );
    }

    let all = records(&app, "").await;
    assert_eq!(all.len(), 1, "only the first create: {all:#?}");
    assert_eq!(all[0]["action"], "create");
}

async fn secrets_never_reach_the_audit_log(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.admin_token.clone();
    let secrets = [
        "Pw-Created-8412",
        "Pw-Changed-5521",
        "Client-Secret-7310",
        "Refresh-Tok-9044",
    ];
    let id = id_of(
        &app.create_notifier(&with_field(
            &notifier_body("secretive"),
            "password",
            json!(secrets[0]),
        ))
        .await,
    );
    let path = notifier_path(id);
    let changed = app
        .patch_json(&path, &json!({"password": secrets[1]}), &token)
        .await;
    assert_status(&changed, 200);
    let xoauth2 = json!({"method": "xoauth2", "xoauth2": {
        "provider": "google", "client_id": "cid", "client_secret": secrets[2],
        "refresh_token": secrets[3]
    }});
    let set = app
        .put_json(&format!("{path}/authentication"), &xoauth2, &token)
        .await;
    assert_status(&set, 200);
    let user_token = app.user_with_codes("auditor", true, &[2837]).await;

    let listed = app.get(AUDIT, &token).await;
    assert_status(&listed, 200);
    let table = audit_table_text(&app).await;
    for secret in secrets
        .iter()
        .chain([&token.as_str(), &user_token.as_str()])
    {
        assert!(!listed.text.contains(secret), "{secret} in {}", listed.text);
        assert!(
            !table.contains(secret),
            "{secret} in the audit table:\n{table}"
        );
    }
    let results = &listed.json()["results"];
    let of_action = |action: &str| {
        results
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["action"] == action)
            .cloned()
            .unwrap_or_else(|| panic!("no {action} record"))
    };
    assert_eq!(
        of_action("update")["changes"],
        json!({"password": "changed"})
    );
    assert_eq!(
        of_action("authentication.update")["changes"],
        json!({
            "method": ["password", "xoauth2"], "provider": [null, "google"],
            "grant": [null, "refresh_token"],
            "token_url": [null, "https://oauth2.googleapis.com/token"],
            "client_id": [null, "cid"], "scope": [null, "https://mail.google.com/"],
            "client_secret": "changed", "refresh_token": "changed"
        })
    );
}

async fn cli_commands_leave_one_record_each(backend: Backend) {
    let app = spawn_app(backend).await;

    app.cli_ok(&["user", "create", "ops", "--staff"]).await;
    app.cli_ok(&["user", "grant", "ops", "2830", "2837"]).await;
    app.cli_ok(&["user", "revoke", "ops", "2830"]).await;
    let key = app.new_token("ops").await;
    app.cli_ok(&["token", "revoke", &key]).await;
    app.cli_ok(&["user", "deactivate", "ops"]).await;
    // A command that fails records nothing.
    let failed = app.cli(&["user", "grant", "nobody", "2830"]).await;
    assert!(!failed.status.success());

    let all = records(&app, "actor=cli").await;
    let shown: Vec<Value> = all
        .iter()
        .rev()
        .map(|r| {
            json!([
                r["action"],
                r["notifier"],
                r["changes"],
                r["request_id"],
                r["client_ip"]
            ])
        })
        .collect();
    let token_id = all[1]["changes"]["token"].clone();
    assert!(
        token_id.is_i64(),
        "token create names the token id: {all:#?}"
    );
    assert_eq!(
        shown,
        vec![
            json!(["user.create", null, {"user": "ops", "is_staff": [null, true], "is_admin": [null, false]}, null, null]),
            json!(["user.grant", null, {"user": "ops", "permissions": [[], [2830, 2837]]}, null, null]),
            json!(["user.revoke", null, {"user": "ops", "permissions": [[2830, 2837], [2837]]}, null, null]),
            json!(["token.create", null, {"user": "ops", "token": token_id}, null, null]),
            json!(["token.revoke", null, {"token": token_id}, null, null]),
            json!(["user.deactivate", null, {"user": "ops", "is_active": [true, false]}, null, null]),
        ]
    );
    assert!(!audit_table_text(&app).await.contains(&key));
}

async fn the_audit_log_needs_code_2837_and_is_read_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let without = app.user_with_codes("clerk", true, &[2830, 2836]).await;
    let with = app.user_with_codes("auditor", true, &[2837]).await;

    assert_detail(&app.get(AUDIT, &without).await, 403, FORBIDDEN);
    assert_status(&app.get(AUDIT, &with).await, 200);
    assert_status(&app.get(&format!("{AUDIT}/"), &with).await, 200);
    let anonymous = app.raw("GET", AUDIT, None, None, "").await;
    assert_detail(
        &anonymous,
        401,
        "Authentication credentials were not provided.",
    );
    let me = app.get("/api/me", &with).await;
    assert_eq!(me.json()["permissions"], json!([2837]));
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        let resp = app
            .raw_as_admin(method, AUDIT, Some("application/json"), "{}")
            .await;
        assert_detail(&resp, 405, &format!("Method \"{method}\" not allowed."));
        assert_eq!(resp.header("allow"), Some("GET, HEAD, OPTIONS"));
    }
    let options = app
        .send(
            app.request(Method::OPTIONS, AUDIT)
                .header("authorization", token_header(&with)),
        )
        .await;
    assert_status(&options, 200);
}

async fn the_list_is_newest_first_filtered_and_paginated(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut ids = Vec::new();
    for name in ["a", "b", "c"] {
        ids.push(id_of(&app.create_named(name).await));
    }
    let renamed = app
        .patch_json(
            &notifier_path(ids[0]),
            &json!({"name": "a2"}),
            &app.admin_token,
        )
        .await;
    assert_status(&renamed, 200);

    let page = app
        .get(
            &format!("{AUDIT}?action=create&page_size=2"),
            &app.admin_token,
        )
        .await;
    assert_status(&page, 200);
    let body = page.json();
    assert_eq!(body["count"], 3);
    assert!(
        body["next"]
            .as_str()
            .is_some_and(|next| next.contains("page=2")),
        "{body}"
    );
    assert_eq!(body["previous"], Value::Null);
    let first = body["results"][0]["id"].as_i64().unwrap_or_default();
    let second = body["results"][1]["id"].as_i64().unwrap_or_default();
    assert!(first > second, "newest first: {body}");

    let of_a = records(&app, &format!("notifier={}", ids[0])).await;
    let actions: Vec<&Value> = of_a.iter().map(|r| &r["action"]).collect();
    assert_eq!(actions, [&json!("update"), &json!("create")]);
    assert_eq!(records(&app, "actor=admin").await.len(), 4);
    assert_eq!(records(&app, "actor=nobody").await.len(), 0);
    assert_eq!(records(&app, "actor=%00&action=%00").await.len(), 0);
    assert_json(
        &app.get(&format!("{AUDIT}?notifier=x"), &app.admin_token)
            .await,
        400,
        &json!({"notifier": ["Enter a number."]}),
    );
    assert_detail(
        &app.get(&format!("{AUDIT}?page=9"), &app.admin_token).await,
        404,
        "Invalid page.",
    );
}

/// `audit.retention_days`: the sweep every instance runs (at start, then every 10
/// minutes) deletes records older than that; 0 keeps none that exist when it runs.
async fn records_past_their_retention_are_pruned(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_named("old").await;
    assert_eq!(records(&app, "").await.len(), 1);

    let _pruning = app.sibling(|s| s.audit.retention_days = 0).await;

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !records(&app, "").await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the old record was not pruned"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The instance's cached body spares an update its read only while the row is still as
/// cached: changed behind its back (another instance, say), the record names the value the
/// write actually replaced.
async fn an_update_records_the_stored_old_values_not_a_cached_copy(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = id_of(&app.create_named("cached").await);
    let path = notifier_path(id);
    assert_status(&app.get(&path, &app.admin_token).await, 200);
    assert_status(&app.get(&path, &app.admin_token).await, 200);

    // Through the cache, as usual: the record's old value is the cached one, which is right.
    let resp = app
        .patch_json(&path, &json!({ "username": "second" }), &app.admin_token)
        .await;
    assert_status(&resp, 200);
    let before = records(&app, "").await.len();
    assert_eq!(
        records(&app, "action=update").await[0]["changes"],
        json!({ "username": ["mailer", "second"] })
    );

    // Behind the instance's back: its cached body still says "second".
    let db = Database::connect(&app.db_url).await.expect("connect");
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        format!("UPDATE email_notifiers SET username = 'elsewhere' WHERE id = {id}"),
    ))
    .await
    .expect("change the row directly");
    let resp = app
        .patch_json(&path, &json!({ "username": "third" }), &app.admin_token)
        .await;
    assert_status(&resp, 200);
    let record = one_new_record(&app, before).await;
    assert_record(
        &record,
        &resp,
        "update",
        json!(id),
        json!({ "username": ["elsewhere", "third"] }),
    );
}

backend_tests!(
    an_update_records_the_stored_old_values_not_a_cached_copy,
    records_past_their_retention_are_pruned,
    every_api_write_leaves_one_record,
    an_update_that_changes_nothing_is_recorded_with_no_changes,
    failed_writes_leave_no_record,
    secrets_never_reach_the_audit_log,
    cli_commands_leave_one_record_each,
    the_audit_log_needs_code_2837_and_is_read_only,
    the_list_is_newest_first_filtered_and_paginated,
);
