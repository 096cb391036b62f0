//! DELETE: 204 with no body, then the notifier is gone.

use crate::helpers::*;

async fn delete_answers_204_with_an_empty_body_then_retrieve_is_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_notifier(&reference_create_body()).await;
    let path = notifier_path(id_of(&created));

    let resp = app.delete(&path, &app.admin_token).await;

    assert_eq!(
        (resp.status, resp.text.as_str()),
        (204, ""),
        "{}",
        resp.request
    );
    assert_detail(
        &app.get(&path, &app.admin_token).await,
        404,
        NOT_FOUND_NOTIFIER,
    );
    assert_eq!(
        app.get(NOTIFIERS, &app.admin_token).await.json()["count"],
        0
    );
}

async fn deleting_twice_is_404_the_second_time(backend: Backend) {
    let app = spawn_app(backend).await;
    let path = notifier_path(id_of(&app.create_named("once").await));
    assert_eq!(app.delete(&path, &app.admin_token).await.status, 204);

    let resp = app.delete(&path, &app.admin_token).await;

    assert_detail(&resp, 404, NOT_FOUND_NOTIFIER);
}

async fn delete_removes_only_that_notifier(backend: Backend) {
    let app = spawn_app(backend).await;
    let kept = app.create_named("kept").await;
    let gone = app.create_named("gone").await;

    assert_eq!(
        app.delete(&notifier_path(id_of(&gone)), &app.admin_token)
            .await
            .status,
        204
    );

    let listed = app.get(NOTIFIERS, &app.admin_token).await;
    assert_json(
        &listed,
        200,
        &serde_json::json!({ "count": 1, "next": null, "previous": null, "results": [kept] }),
    );
}

async fn a_deleted_name_can_be_used_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.create_named("reused").await;
    assert_eq!(
        app.delete(&notifier_path(id_of(&first)), &app.admin_token)
            .await
            .status,
        204
    );

    let second = app.create_named("reused").await;

    assert_ne!(second["id"], first["id"], "ids are not reused");
}

backend_tests!(
    delete_answers_204_with_an_empty_body_then_retrieve_is_404,
    deleting_twice_is_404_the_second_time,
    delete_removes_only_that_notifier,
    a_deleted_name_can_be_used_again,
);
