//! The per-instance read caches never hide a change: an instance serves its own writes on
//! the very next request, and another instance's writes once `MAX_STALENESS` has passed.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::*;

/// Reads the item and the first list page, so both sit in the instance's response cache.
async fn warm(app: &TestApp, item: &str) -> (Value, Value) {
    let one = app.get(item, &app.admin_token).await;
    let page = app.get(NOTIFIERS, &app.admin_token).await;
    assert_eq!((one.status, page.status), (200, 200));
    (one.json(), page.json())
}

async fn own_writes_show_at_once_despite_warm_caches(backend: Backend) {
    let app = spawn_app(backend).await;
    let item = notifier_path(id_of(&app.create_named("before").await));
    warm(&app, &item).await;

    let patched = app
        .patch_json(&item, &json!({"name": "after"}), &app.admin_token)
        .await;
    assert_eq!(patched.status, 200);
    let (one, page) = warm(&app, &item).await;
    assert_eq!(
        (&one["name"], &page["results"][0]["name"]),
        (&json!("after"), &json!("after"))
    );

    let other = app.create_named("second").await;
    let (_, page) = warm(&app, &item).await;
    assert_eq!(
        page["count"], 2,
        "a create shows in the cached list at once"
    );

    assert_eq!(app.delete(&item, &app.admin_token).await.status, 204);
    assert_detail(
        &app.get(&item, &app.admin_token).await,
        404,
        NOT_FOUND_NOTIFIER,
    );
    let page = app.get(NOTIFIERS, &app.admin_token).await.json();
    assert_eq!(page["results"], json!([other]));
}

async fn another_instances_writes_show_within_the_bound(backend: Backend) {
    let reader = spawn_app(backend).await;
    let writer = reader.sibling(|_| {}).await;
    let item = notifier_path(id_of(&writer.create_named("before").await));
    reader.settle();
    let (one, page) = warm(&reader, &item).await;
    assert_eq!(
        (&one["name"], &page["count"]),
        (&json!("before"), &json!(1))
    );

    let patched = writer
        .patch_json(&item, &json!({"name": "after"}), &writer.admin_token)
        .await;
    assert_eq!(patched.status, 200);
    reader.settle();
    let (one, page) = warm(&reader, &item).await;
    assert_eq!(
        (&one["name"], &page["results"][0]["name"]),
        (&json!("after"), &json!("after"))
    );

    assert_eq!(writer.delete(&item, &writer.admin_token).await.status, 204);
    reader.settle();
    assert_detail(
        &reader.get(&item, &reader.admin_token).await,
        404,
        NOT_FOUND_NOTIFIER,
    );
    assert_eq!(
        reader.get(NOTIFIERS, &reader.admin_token).await.json()["count"],
        0
    );
}

/// Many writes of one notifier at once (on SQLite they share a commit), with reads racing
/// them: what the instance then serves is what the database holds, as a fresh instance
/// reads it.
async fn racing_writes_and_reads_leave_the_stored_notifier_cached(backend: Backend) {
    let app = spawn_app(backend).await;
    let item = notifier_path(id_of(&app.create_named("raced").await));
    warm(&app, &item).await;

    let patches = join_all((1..=32).map(|n| {
        let (app, item) = (&app, &item);
        async move {
            app.patch_json(
                item,
                &json!({"username": format!("user-{n}")}),
                &app.admin_token,
            )
            .await
            .status
        }
    }));
    let reads = join_all((0..32).map(|_| {
        let (app, item) = (&app, &item);
        async move { app.get(item, &app.admin_token).await.status }
    }));
    let (patched, read) = tokio::join!(patches, reads);
    assert!(patched.iter().all(|status| *status == 200), "{patched:?}");
    assert!(read.iter().all(|status| *status == 200), "{read:?}");

    let fresh = app.sibling(|_| {}).await;
    let stored = fresh.get(&item, &fresh.admin_token).await.json();
    for _ in 0..3 {
        assert_eq!(app.get(&item, &app.admin_token).await.json(), stored);
    }
}

/// Another instance's write that lands between this instance's own writes is not taken
/// for one of them.
async fn a_write_elsewhere_among_own_writes_is_noticed(backend: Backend) {
    let app = spawn_app(backend).await;
    let other = app.sibling(|_| {}).await;
    let mine = notifier_path(id_of(&app.create_named("mine").await));
    let theirs = notifier_path(id_of(&app.create_named("theirs").await));
    app.settle();
    warm(&app, &theirs).await;
    warm(&app, &mine).await;

    let port = |port: u16| json!({ "port": port, "password": "moved-with-it" });
    assert_eq!(
        app.patch_json(&mine, &port(1), &app.admin_token)
            .await
            .status,
        200
    );
    assert_eq!(
        other
            .patch_json(&theirs, &port(2), &other.admin_token)
            .await
            .status,
        200
    );
    assert_eq!(
        app.patch_json(&mine, &port(3), &app.admin_token)
            .await
            .status,
        200
    );
    app.settle();
    assert_eq!(app.get(&theirs, &app.admin_token).await.json()["port"], 2);
    assert_eq!(app.get(&mine, &app.admin_token).await.json()["port"], 3);
}

/// A counter's value in the instance's `/metrics` text.
async fn counter(app: &TestApp, name: &str) -> u64 {
    let metrics = app.raw("GET", "/metrics", None, None, "").await.text;
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics:\n{metrics}"))
}

/// Operators can see the notifier cache at work: loads, hits, and retirements by changes
/// made elsewhere (and none by the instance's own writes).
async fn the_cache_reports_its_work_on_metrics(backend: Backend) {
    let app = spawn_app(backend).await;
    let other = app.sibling(|_| {}).await;
    let item = notifier_path(id_of(&app.create_named("counted").await));
    app.settle();
    let (loads, hits) = (
        counter(&app, "notifier_cache_loads_total").await,
        counter(&app, "notifier_cache_hits_total").await,
    );
    for _ in 0..3 {
        assert_eq!(app.get(&item, &app.admin_token).await.status, 200);
    }
    assert_eq!(counter(&app, "notifier_cache_loads_total").await, loads + 1);
    assert_eq!(counter(&app, "notifier_cache_hits_total").await, hits + 2);

    let retirements = counter(&app, "notifier_cache_retirements_total").await;
    let port = json!({ "port": 2525 });
    assert_eq!(
        other
            .patch_json(&item, &port, &other.admin_token)
            .await
            .status,
        200
    );
    app.settle();
    assert_eq!(app.get(&item, &app.admin_token).await.json()["port"], 2525);
    assert_eq!(
        counter(&app, "notifier_cache_retirements_total").await,
        retirements + 1
    );
}

/// `cache.max_memory_mb = 0` keeps nothing: every read is a load from the database, and
/// reads still see every write.
async fn without_cache_memory_every_read_loads(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.cache.max_memory_mb = 0).await;
    let id = id_of(&app.create_named("uncached").await);
    let item = notifier_path(id);
    let loads = counter(&app, "notifier_cache_loads_total").await;
    for _ in 0..3 {
        warm(&app, &item).await;
    }
    assert_eq!(counter(&app, "notifier_cache_hits_total").await, 0);
    assert_eq!(
        counter(&app, "notifier_cache_loads_total").await,
        loads + 6,
        "three GETs of the notifier and three of the list, each a load"
    );

    let renamed = json!({ "name": "renamed" });
    let patched = app.patch_json(&item, &renamed, &app.admin_token).await;
    assert_eq!(patched.status, 200);
    let (one, page) = warm(&app, &item).await;
    assert_eq!(
        (&one["name"], &page["results"][0]["name"]),
        (&json!("renamed"), &json!("renamed"))
    );
    assert_detail(
        &app.get(&notifier_path(id + 1), &app.admin_token).await,
        404,
        NOT_FOUND_NOTIFIER,
    );
}

backend_tests!(
    without_cache_memory_every_read_loads,
    the_cache_reports_its_work_on_metrics,
    own_writes_show_at_once_despite_warm_caches,
    another_instances_writes_show_within_the_bound,
    racing_writes_and_reads_leave_the_stored_notifier_cached,
    a_write_elsewhere_among_own_writes_is_noticed,
);
