//! Concurrent writes: no lost inserts, and the database arbitrates name uniqueness.

use std::collections::HashSet;

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::*;

async fn concurrent_creates_with_distinct_names_all_succeed(backend: Backend) {
    let app = spawn_app(backend).await;
    let bodies: Vec<_> = (0..200)
        .map(|i| notifier_body(&format!("parallel-{i}")))
        .collect();

    let responses = join_all(
        bodies
            .iter()
            .map(|body| app.post_json(NOTIFIERS, body, &app.admin_token)),
    )
    .await;

    let failures: Vec<String> = responses
        .iter()
        .filter(|r| r.status != 201)
        .map(|r| format!("{} {}", r.status, r.text))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of 200 failed: {failures:?}",
        failures.len()
    );
    let ids: HashSet<i64> = responses.iter().map(|r| id_of(&r.json())).collect();
    assert_eq!(ids.len(), 200, "every create got its own id");
    let listed = app
        .get(&format!("{NOTIFIERS}?page_size=1"), &app.admin_token)
        .await;
    assert_eq!(listed.json()["count"], 200);
}

/// 20 creates racing for `names` (cycled); exactly one may win.
async fn race_for_one_name(app: &TestApp, names: &[&str]) {
    let bodies: Vec<_> = (0..20)
        .map(|i| notifier_body(names[i % names.len()]))
        .collect();

    let responses = join_all(
        bodies
            .iter()
            .map(|body| app.post_json(NOTIFIERS, body, &app.admin_token)),
    )
    .await;

    let created = responses.iter().filter(|r| r.status == 201).count();
    assert_eq!(created, 1, "exactly one create of {names:?} wins");
    let taken = serde_json::to_string(&json!({ "name": [NAME_TAKEN] })).expect("json");
    for resp in responses.iter().filter(|r| r.status != 201) {
        assert_eq!((resp.status, resp.text.as_str()), (400, taken.as_str()));
    }
    let listed = app.get(NOTIFIERS, &app.admin_token).await;
    assert_eq!(listed.json()["count"], 1);
}

async fn concurrent_creates_of_one_name_let_exactly_one_through(backend: Backend) {
    let app = spawn_app(backend).await;

    race_for_one_name(&app, &["contended"]).await;
}

async fn concurrent_creates_differing_only_in_case_let_exactly_one_through(backend: Backend) {
    let app = spawn_app(backend).await;

    race_for_one_name(
        &app,
        &["contended", "CONTENDED", "Contended", " contended "],
    )
    .await;
}

async fn concurrent_renames_to_one_name_let_exactly_one_through(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut paths = Vec::new();
    for i in 0..10 {
        paths.push(notifier_path(id_of(
            &app.create_named(&format!("rename-{i}")).await,
        )));
    }
    let body = json!({ "name": "Target" });

    let responses = join_all(
        paths
            .iter()
            .map(|path| app.patch_json(path, &body, &app.admin_token)),
    )
    .await;

    assert_eq!(responses.iter().filter(|r| r.status == 200).count(), 1);
    let taken = serde_json::to_string(&json!({ "name": [NAME_TAKEN] })).expect("json");
    for resp in responses.iter().filter(|r| r.status != 200) {
        assert_eq!((resp.status, resp.text.as_str()), (400, taken.as_str()));
    }
}

backend_tests!(
    concurrent_creates_with_distinct_names_all_succeed,
    concurrent_creates_of_one_name_let_exactly_one_through,
    concurrent_creates_differing_only_in_case_let_exactly_one_through,
    concurrent_renames_to_one_name_let_exactly_one_through,
);
