//! §9 the delivery log: list, filters, ordering and pages; retry and cancel state rules;
//! permissions 2836 and 2835; message text sealed at rest and erased; metrics.

use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use super::*;

const NO_DELIVERY: &str = "No Delivery matches the given query.";
const NOT_RETRYABLE: &str = "Only a failed or deferred delivery can be retried.";
const NOT_CANCELLABLE: &str = "Only a queued or deferred delivery can be cancelled.";

/// An app whose workers never send: queued deliveries stay queued.
async fn idle_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |settings| settings.delivery.workers = 0).await
}

async fn queue(app: &TestApp, notifier: i64, body: &Value) -> i64 {
    let resp = app.send_queued(notifier, body, &app.admin_token).await;
    assert_status(&resp, 202);
    resp.json()["id"].as_i64().expect("a delivery id")
}

fn ids(resp: &Resp) -> Vec<i64> {
    resp.json()["results"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {}", resp.text))
        .iter()
        .map(|d| d["id"].as_i64().expect("an id"))
        .collect()
}

async fn notifier_at(app: &TestApp, name: &str, port: u16) -> i64 {
    id_of(&app.create_notifier(&smtp_notifier(name, port, PLAIN)).await)
}

async fn the_log_lists_filters_orders_and_pages(backend: Backend) {
    let app = idle_app(backend).await;
    let port = closed_port().await;
    let (a, b) = (
        notifier_at(&app, "a", port).await,
        notifier_at(&app, "b", port).await,
    );
    let mut queued = Vec::new();
    for notifier in [a, b, a, a] {
        queued.push(queue(&app, notifier, &short_message("x@example.com")).await);
    }
    let token = &app.admin_token;

    let newest_first = app.get(DELIVERIES, token).await;
    let by_id = app.get(&format!("{DELIVERIES}?ordering=id"), token).await;
    let of_a = app.get(&format!("{DELIVERIES}?notifier={a}"), token).await;
    let queued_ones = app.get(&format!("{DELIVERIES}?status=queued"), token).await;
    let sent_ones = app.get(&format!("{DELIVERIES}/?status=sent"), token).await;

    assert_eq!(newest_first.json()["count"], 4);
    assert_eq!(
        ids(&newest_first),
        queued.iter().rev().copied().collect::<Vec<_>>()
    );
    assert_eq!(ids(&by_id), queued);
    assert_eq!(ids(&of_a), [queued[3], queued[2], queued[0]]);
    assert_eq!(queued_ones.json()["count"], 4);
    assert_json(
        &sent_ones,
        200,
        &json!({ "count": 0, "next": null, "previous": null, "results": [] }),
    );

    let first = app
        .get(&format!("{DELIVERIES}?page_size=3&ordering=id"), token)
        .await;
    let second = app
        .get(
            &format!("{DELIVERIES}?page_size=3&ordering=id&page=2"),
            token,
        )
        .await;
    let beyond = app
        .get(&format!("{DELIVERIES}?page_size=3&page=3"), token)
        .await;
    assert_eq!(ids(&first), queued[..3]);
    assert_eq!(
        first.json()["next"],
        app.url(&format!("{DELIVERIES}?ordering=id&page=2&page_size=3"))
    );
    assert_eq!(ids(&second), queued[3..]);
    assert_eq!(
        second.json()["previous"],
        app.url(&format!("{DELIVERIES}?ordering=id&page_size=3"))
    );
    assert_detail(&beyond, 404, "Invalid page.");
    let last = app
        .get(
            &format!("{DELIVERIES}?page_size=3&ordering=id&page=last"),
            token,
        )
        .await;
    assert_eq!(ids(&last), queued[3..]);
    let huge = format!("{DELIVERIES}?page={}&page_size=100", i64::MAX);
    assert_detail(&app.get(&huge, token).await, 404, "Invalid page.");

    let bad = app
        .get(&format!("{DELIVERIES}?notifier=x&status=lost"), token)
        .await;
    assert_json(
        &bad,
        400,
        &json!({
            "notifier": ["Enter a number."],
            "status": ["Select a valid choice. lost is not one of the available choices."]
        }),
    );

    // A deleted notifier's deliveries stay, named as they were.
    assert_status(&app.delete(&notifier_path(b), token).await, 204);
    let orphan = app.get(&format!("{DELIVERIES}/{}", queued[1]), token).await;
    assert_eq!(orphan.json()["notifier"], Value::Null, "{}", orphan.text);
    assert_eq!(orphan.json()["notifier_name"], "b");
}

async fn retry_and_cancel_follow_the_state_rules(backend: Backend) {
    let app = idle_app(backend).await;
    let notifier = notifier_at(&app, "rules", closed_port().await).await;
    let id = queue(&app, notifier, &short_message("x@example.com")).await;
    let token = &app.admin_token;
    let action = |id: i64, what: &str| format!("{DELIVERIES}/{id}/{what}");

    let retry_queued = app.post_json(&action(id, "retry"), &json!({}), token).await;
    let cancelled = app
        .post_json(&action(id, "cancel"), &json!({}), token)
        .await;
    let cancel_again = app
        .post_json(&action(id, "cancel/"), &json!({}), token)
        .await;
    let retry_cancelled = app.post_json(&action(id, "retry"), &json!({}), token).await;

    assert_detail(&retry_queued, 409, NOT_RETRYABLE);
    assert_status(&cancelled, 200);
    assert_eq!(cancelled.json()["status"], "cancelled");
    assert_eq!(cancelled.json()["next_attempt_at"], Value::Null);
    assert_detail(&cancel_again, 409, NOT_CANCELLABLE);
    assert_detail(&retry_cancelled, 409, NOT_RETRYABLE);

    for resp in [
        app.get(&format!("{DELIVERIES}/999999"), token).await,
        app.post_json(&action(999_999, "retry"), &json!({}), token)
            .await,
        app.post_json(&action(999_999, "cancel"), &json!({}), token)
            .await,
    ] {
        assert_detail(&resp, 404, NO_DELIVERY);
    }
    assert_detail(
        &app.get(&format!("{DELIVERIES}/abc"), token).await,
        404,
        "Not found.",
    );
    let wrong_method = app.delete(&format!("{DELIVERIES}/{id}"), token).await;
    assert_detail(&wrong_method, 405, "Method \"DELETE\" not allowed.");
}

async fn the_log_needs_2836_and_its_actions_need_2835(backend: Backend) {
    let app = idle_app(backend).await;
    let notifier = notifier_at(&app, "perm", closed_port().await).await;
    let id = queue(&app, notifier, &short_message("x@example.com")).await;
    let sender = app.user_with_codes("sender", true, &[2835]).await;
    let viewer = app.user_with_codes("viewer", true, &[2836]).await;
    let outsider = app.user_with_codes("outsider", false, &[2835, 2836]).await;
    let one = format!("{DELIVERIES}/{id}");
    let cancel = format!("{one}/cancel");

    for token in [&sender, &outsider] {
        assert_detail(&app.get(DELIVERIES, token).await, 403, FORBIDDEN);
        assert_detail(&app.get(&one, token).await, 403, FORBIDDEN);
    }
    // Permission first: no 404 for an unknown id to a user who may not look.
    assert_detail(
        &app.get(&format!("{DELIVERIES}/999999"), &sender).await,
        403,
        FORBIDDEN,
    );
    assert_status(&app.get(DELIVERIES, &viewer).await, 200);
    assert_status(&app.get(&one, &viewer).await, 200);
    assert_detail(
        &app.post_json(&cancel, &json!({}), &viewer).await,
        403,
        FORBIDDEN,
    );
    let anonymous = app.raw("GET", DELIVERIES, None, None, "").await;
    assert_detail(&anonymous, 401, NOT_AUTHENTICATED);

    let by_sender = app.post_json(&cancel, &json!({}), &sender).await;
    assert_status(&by_sender, 200);
    assert_eq!(by_sender.json()["status"], "cancelled");
}

/// Every text column of every delivery row, as stored.
async fn stored_delivery_text(app: &TestApp) -> String {
    let db = Database::connect(&app.db_url).await.expect("connect");
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT recipients, subject, message_id, payload_sealed FROM deliveries",
        ))
        .await
        .expect("read the deliveries");
    let mut text = String::new();
    for row in rows {
        for column in ["recipients", "subject", "message_id", "payload_sealed"] {
            let value: Option<String> = row.try_get("", column).expect("a text column");
            text.push_str(&value.unwrap_or_else(|| "NULL".into()));
            text.push('\n');
        }
    }
    text
}

async fn message_text_is_sealed_at_rest_and_erased_when_done(backend: Backend) {
    let app = idle_app(backend).await;
    let notifier = notifier_at(&app, "sealed", closed_port().await).await;
    let marker = "body-marker-5f0c9e";
    let html_marker = "html-marker-77a1d2";
    let message = json!({
        "to": ["x@example.com"], "subject": "visible subject",
        "body": marker, "html_body": format!("<p>{html_marker}</p>"), "reply_to": "r@example.com"
    });
    let id = queue(&app, notifier, &message).await;

    let one = app
        .get(&format!("{DELIVERIES}/{id}"), &app.admin_token)
        .await;
    let list = app.get(DELIVERIES, &app.admin_token).await;
    for resp in [&one, &list] {
        assert!(
            !resp.text.contains(marker) && !resp.text.contains(html_marker),
            "{}",
            resp.text
        );
        assert!(!resp.text.contains("r@example.com"), "{}", resp.text);
    }
    let stored = stored_delivery_text(&app).await;
    assert!(stored.contains("visible subject"), "{stored}");
    assert!(
        !stored.contains(marker) && !stored.contains(html_marker),
        "{stored}"
    );
    assert!(
        !stored.contains("NULL"),
        "the text is kept until the delivery ends: {stored}"
    );
    if let Some(path) = app.db_url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or(path);
        for file in [path.to_owned(), format!("{path}-wal")] {
            let bytes = std::fs::read(&file).unwrap_or_default();
            let raw = String::from_utf8_lossy(&bytes);
            assert!(
                !raw.contains(marker) && !raw.contains(html_marker),
                "{file} holds the body"
            );
        }
    }

    let cancel = format!("{DELIVERIES}/{id}/cancel");
    assert_status(
        &app.post_json(&cancel, &json!({}), &app.admin_token).await,
        200,
    );

    let stored = stored_delivery_text(&app).await;
    assert!(
        stored.trim_end().ends_with("NULL"),
        "erased once cancelled: {stored}"
    );
}

async fn metrics_count_deliveries_and_attempts(backend: Backend) {
    let rig = Rig::new(backend).await;
    let app = &rig.app;
    let server = TestSmtpServer::start(smtp_options(Security::Plain, None)).await;
    let working = rig
        .notifier(&smtp_notifier("working", server.port, PLAIN))
        .await;
    let down = rig
        .notifier(&smtp_notifier("down", closed_port().await, PLAIN))
        .await;

    sent(&rig.send(working, &short_message("a@example.com")).await);
    assert_send_failed(
        &rig.send(down, &short_message("a@example.com")).await,
        "SMTP error: connection refused; queued for retry",
    );
    let metrics = app.get("/metrics", "").await;

    assert_status(&metrics, 200);
    for line in [
        "notifier_deliveries{status=\"sent\"} 1",
        "notifier_deliveries{status=\"deferred\"} 1",
        "notifier_deliveries{status=\"queued\"} 0",
        "notifier_delivery_attempts_total{outcome=\"sent\"} 1",
        "notifier_delivery_attempts_total{outcome=\"transient\"} 1",
        // The deferred one is not due yet.
        "notifier_delivery_queue_age_seconds 0",
    ] {
        assert!(
            metrics.text.lines().any(|l| l == line),
            "no {line:?} in:\n{}",
            metrics.text
        );
    }
}

backend_tests!(
    the_log_lists_filters_orders_and_pages,
    retry_and_cancel_follow_the_state_rules,
    the_log_needs_2836_and_its_actions_need_2835,
    message_text_is_sealed_at_rest_and_erased_when_done,
    metrics_count_deliveries_and_attempts,
);
