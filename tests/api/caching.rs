//! The per-instance read caches never hide a change: an instance serves its own writes on
//! the very next request, and another instance's writes once `MAX_STALENESS` has passed.

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
    let writer = reader.sibling(reader.options.clone()).await;
    let item = notifier_path(id_of(&writer.create_named("before").await));
    tokio::time::sleep(notifier_web::MAX_STALENESS).await;
    let (one, page) = warm(&reader, &item).await;
    assert_eq!(
        (&one["name"], &page["count"]),
        (&json!("before"), &json!(1))
    );

    let patched = writer
        .patch_json(&item, &json!({"name": "after"}), &writer.admin_token)
        .await;
    assert_eq!(patched.status, 200);
    tokio::time::sleep(notifier_web::MAX_STALENESS).await;
    let (one, page) = warm(&reader, &item).await;
    assert_eq!(
        (&one["name"], &page["results"][0]["name"]),
        (&json!("after"), &json!("after"))
    );

    assert_eq!(writer.delete(&item, &writer.admin_token).await.status, 204);
    tokio::time::sleep(notifier_web::MAX_STALENESS).await;
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

backend_tests!(
    own_writes_show_at_once_despite_warm_caches,
    another_instances_writes_show_within_the_bound,
);
