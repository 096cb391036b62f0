//! The dashboard's Deliveries view in a real browser: the delivery log with its statuses,
//! filters, a delivery's detail, and Retry / Cancel only for those who may send.
//!
//! Deliveries are seeded through the real API with `delivery.workers = 0`, so nothing
//! moves under the test: a send to the in-process relay is `sent`, one to a closed port is
//! `deferred` (connection refused), one with a wrong password is `failed` (535), and one
//! made with `Prefer: respond-async` stays `queued`.

use fantoccini::key::Key;
use serde_json::{Value, json};

use super::chromedriver::Browser;
use super::steps::{relay_body, send_message, smtp_relay};
use super::{DESKTOP, PHONE};
use crate::helpers::*;
use crate::smtp_server::TestSmtpServer;

const RETRY_CONFLICT: &str = "Only a failed or deferred delivery can be retried.";

/// The row of delivery `id` in the Deliveries view.
fn delivery_row(id: i64) -> String {
    format!("#delivery-table tr[data-id=\"{id}\"]")
}

/// One delivery in each settled state, and the notifiers behind them.
struct Seeded {
    _smtp: TestSmtpServer,
    relay: i64,
    closed: i64,
    sent: i64,
    deferred: i64,
    failed: i64,
    queued: i64,
}

/// The app with no delivery workers: a delivery stays in the state the test put it in.
async fn quiet_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |s| s.delivery.workers = 0).await
}

fn message(to: &str, subject: &str) -> Value {
    json!({ "to": [to], "subject": subject, "body": "Never shown by the dashboard." })
}

fn send_path(notifier: i64) -> String {
    format!("{}/send", notifier_path(notifier))
}

fn delivery_of(resp: &Resp) -> i64 {
    resp.json()["delivery"]
        .as_i64()
        .or_else(|| resp.json()["id"].as_i64())
        .unwrap_or_else(|| panic!("{} named no delivery: {}", resp.request, resp.text))
}

async fn seed(app: &TestApp) -> Seeded {
    let smtp = smtp_relay().await;
    let token = &app.admin_token;
    let relay = id_of(&app.create_notifier(&relay_body(smtp.port)).await);
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("local addr").port()
    };
    let closed = id_of(
        &app.create_notifier(&with(
            &relay_body(closed_port),
            json!({ "name": "closed_port" }),
        ))
        .await,
    );
    let wrong = id_of(
        &app.create_notifier(&with(
            &relay_body(smtp.port),
            json!({ "name": "wrong_password", "password": "not-the-password" }),
        ))
        .await,
    );

    let resp = app
        .post_json(
            &send_path(relay),
            &message("ops@example.com", "Disk almost full"),
            token,
        )
        .await;
    assert_status(&resp, 200);
    let sent = delivery_of(&resp);

    let resp = app
        .post_json(
            &send_path(closed),
            &message("oncall@example.com", "Nobody listens"),
            token,
        )
        .await;
    assert_status(&resp, 502);
    let deferred = delivery_of(&resp);

    let resp = app
        .post_json(
            &send_path(wrong),
            &message("audit@example.com", "Bad credentials"),
            token,
        )
        .await;
    assert_status(&resp, 502);
    let failed = delivery_of(&resp);

    let resp = app
        .send_queued(
            relay,
            &message("later@example.com", "Queued for the workers"),
            token,
        )
        .await;
    assert_status(&resp, 202);
    let queued = delivery_of(&resp);

    let seeded = Seeded {
        _smtp: smtp,
        relay,
        closed,
        sent,
        deferred,
        failed,
        queued,
    };
    for (id, status) in seeded.statuses() {
        assert_eq!(api_status(app, id).await, status, "delivery {id}");
    }
    seeded
}

impl Seeded {
    fn statuses(&self) -> [(i64, &'static str); 4] {
        [
            (self.sent, "sent"),
            (self.deferred, "deferred"),
            (self.failed, "failed"),
            (self.queued, "queued"),
        ]
    }
}

/// The delivery's status as the API tells it.
async fn api_status(app: &TestApp, id: i64) -> String {
    let resp = app.get(&delivery_path(id), &app.admin_token).await;
    assert_status(&resp, 200);
    resp.json()["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

impl Browser {
    /// Clicks the Deliveries link of the navigation and waits for the list.
    async fn open_deliveries(&self) {
        assert!(
            self.is_displayed("#nav-deliveries").await,
            "no Deliveries link"
        );
        self.click("#nav-deliveries").await;
        self.ready().await;
        self.assert_view("deliveries").await;
        assert_eq!(
            self.property("#nav-deliveries", "ariaCurrent").await,
            "page"
        );
    }

    /// The ids of the listed deliveries, top to bottom.
    async fn listed_deliveries(&self) -> Vec<i64> {
        let ids = self
            .execute(
                "return [...document.querySelectorAll('#delivery-rows tr')] \
                   .map((tr) => Number(tr.dataset.id))",
                vec![],
            )
            .await;
        serde_json::from_value(ids).expect("a list of ids")
    }

    /// Chooses `value` in the select `css` (which applies it) and waits for the list.
    async fn choose(&self, css: &str, value: &str) {
        let select = self.el(css).await;
        select
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("choosing {value:?} in {css}: {e}"));
        self.ready().await;
    }

    /// Whether the page asked the API for the delivery list with `needle` in its query.
    async fn requested_deliveries_with(&self, needle: &str) -> bool {
        let urls = self
            .execute(
                "return performance.getEntriesByType('resource').map((e) => e.name)",
                vec![],
            )
            .await;
        let urls: Vec<String> = serde_json::from_value(urls).expect("resource URLs");
        urls.iter()
            .any(|url| url.contains("/api/notifications/deliveries?") && url.contains(needle))
    }

    /// Opens the detail of delivery `id` from its row.
    async fn open_delivery(&self, id: i64) {
        self.click(&format!("{} .details-button", delivery_row(id)))
            .await;
        self.ready().await;
        assert!(self.dialog_open("#delivery-dialog").await, "no detail");
        assert_eq!(
            self.text("#delivery-heading").await,
            format!("Delivery {id}")
        );
    }

    /// Which of Retry and Cancel the open detail offers.
    async fn offered_actions(&self) -> (bool, bool) {
        (
            self.is_displayed("#delivery-retry").await,
            self.is_displayed("#delivery-cancel").await,
        )
    }

    async fn close_delivery(&self) {
        self.click("#delivery-close").await;
        assert!(!self.dialog_open("#delivery-dialog").await);
    }
}

async fn deliveries_are_listed_filtered_retried_and_cancelled(backend: Backend) {
    let Some(browser) = Browser::start(DESKTOP).await else {
        return;
    };
    let app = quiet_app(backend).await;
    let seeded = seed(&app).await;
    browser.open_dashboard(&app).await;
    browser.sign_in(&app.admin_token).await;
    browser.assert_view("list").await;
    browser.open_deliveries().await;

    // Every delivery, newest first, each with its status in words.
    let newest_first = [seeded.queued, seeded.failed, seeded.deferred, seeded.sent];
    assert_eq!(browser.listed_deliveries().await, newest_first);
    for (id, status) in seeded.statuses() {
        let row = delivery_row(id);
        browser
            .el(&format!("{row}[data-status=\"{status}\"]"))
            .await;
        let badge = browser.text(&format!("{row} .status-badge")).await;
        assert_eq!(badge.to_lowercase(), status, "delivery {id}'s badge");
    }
    let sent_row = browser.text(&delivery_row(seeded.sent)).await;
    for shown in ["local_relay", "ops@example.com", "Disk almost full"] {
        assert!(sent_row.contains(shown), "{shown} not in {sent_row:?}");
    }
    assert!(
        !browser
            .text("#delivery-table")
            .await
            .contains("Never shown"),
        "a message body is shown"
    );
    assert!(
        browser
            .text("#delivery-page-info")
            .await
            .contains("4 deliveries")
    );
    browser.assert_fits_width("deliveries").await;
    assert_eq!(
        browser.save_screenshot("deliveries-1280").await,
        (1280, 800)
    );

    // Filters narrow the list; the API is asked with them, and the location keeps them.
    browser.choose("#filter-status", "deferred").await;
    assert_eq!(browser.listed_deliveries().await, [seeded.deferred]);
    assert!(browser.requested_deliveries_with("status=deferred").await);
    assert!(
        browser
            .current_url()
            .await
            .ends_with("#deliveries?status=deferred")
    );
    browser.choose("#filter-status", "").await;
    let relay = seeded.relay.to_string();
    browser.choose("#filter-notifier", &relay).await;
    assert_eq!(
        browser.listed_deliveries().await,
        [seeded.queued, seeded.sent]
    );
    assert!(
        browser
            .requested_deliveries_with(&format!("notifier={relay}"))
            .await
    );
    browser.choose("#filter-status", "failed").await;
    assert!(browser.listed_deliveries().await.is_empty());
    assert_eq!(
        browser.text("#delivery-empty").await,
        "No deliveries match these filters."
    );
    // A reload shows the same filtered list.
    browser.refresh().await;
    browser.ready().await;
    browser.assert_view("deliveries").await;
    assert_eq!(browser.property("#filter-status", "value").await, "failed");
    assert_eq!(browser.property("#filter-notifier", "value").await, relay);
    browser.click("#filter-clear").await;
    browser.ready().await;
    assert_eq!(browser.listed_deliveries().await, newest_first);

    // The deferred one: its attempt, its error, when it is tried next; Retry and Cancel.
    browser.open_delivery(seeded.deferred).await;
    assert_eq!(browser.text("#delivery-badge").await, "Deferred");
    assert_eq!(browser.text("#detail-attempts").await, "1");
    let error = browser.text("#detail-last_error").await;
    assert!(error.contains("connection refused"), "{error:?}");
    assert_eq!(browser.text("#detail-last_reply_code").await, "none");
    assert_ne!(browser.text("#detail-next_attempt_at").await, "none");
    assert_eq!(browser.text("#detail-sent_at").await, "none");
    assert!(
        browser
            .text("#detail-notifier")
            .await
            .contains("closed_port")
    );
    assert_eq!(browser.text("#detail-to").await, "oncall@example.com");
    assert_eq!(browser.text("#detail-requested_by").await, "admin");
    let message_id = browser.text("#detail-message_id").await;
    assert!(message_id.ends_with("@notifier.local>"), "{message_id:?}");
    assert_eq!(browser.offered_actions().await, (true, true));
    browser.assert_fits_width("delivery detail").await;
    assert_eq!(
        browser.save_screenshot("delivery-detail-1280").await,
        (1280, 800)
    );

    // It is cancelled behind the dashboard's back: Retry answers 409, said as a sentence,
    // and the detail catches up.
    let resp = app
        .post_json(
            &format!("{}/cancel", delivery_path(seeded.deferred)),
            &json!({}),
            &app.admin_token,
        )
        .await;
    assert_status(&resp, 200);
    browser.click("#delivery-retry").await;
    browser.ready().await;
    assert_eq!(browser.text("#delivery-result").await, RETRY_CONFLICT);
    assert_eq!(browser.text("#delivery-badge").await, "Cancelled");
    assert_eq!(browser.offered_actions().await, (false, false));
    browser.close_delivery().await;
    assert_eq!(
        browser.active_element().await.element_id(),
        browser
            .el(&format!(
                "{} .details-button",
                delivery_row(seeded.deferred)
            ))
            .await
            .element_id(),
        "focus returns to the row's Details button"
    );
    browser
        .el(&format!(
            "{}[data-status=\"cancelled\"]",
            delivery_row(seeded.deferred)
        ))
        .await;

    // The failed one: the server's reply code; Retry queues it again.
    browser.open_delivery(seeded.failed).await;
    assert_eq!(browser.text("#detail-last_reply_code").await, "535");
    assert!(
        browser
            .text("#detail-last_error")
            .await
            .contains("authentication rejected")
    );
    assert_eq!(browser.offered_actions().await, (true, false));
    browser.click("#delivery-retry").await;
    browser.ready().await;
    assert_eq!(browser.text("#delivery-badge").await, "Queued");
    assert_eq!(
        browser.text("#delivery-result").await,
        format!("Delivery {} is queued again.", seeded.failed)
    );
    assert_eq!(browser.offered_actions().await, (false, true));
    assert_eq!(api_status(&app, seeded.failed).await, "queued");
    browser.close_delivery().await;
    browser
        .el(&format!(
            "{}[data-status=\"queued\"]",
            delivery_row(seeded.failed)
        ))
        .await;

    // The queued one: Cancel only; it is cancelled.
    browser.open_delivery(seeded.queued).await;
    assert_eq!(browser.offered_actions().await, (false, true));
    browser.click("#delivery-cancel").await;
    browser.ready().await;
    assert_eq!(browser.text("#delivery-badge").await, "Cancelled");
    assert_eq!(browser.offered_actions().await, (false, false));
    assert_eq!(api_status(&app, seeded.queued).await, "cancelled");
    browser.close_delivery().await;

    // The sent one: when, and nothing to do.
    browser.open_delivery(seeded.sent).await;
    assert_ne!(browser.text("#detail-sent_at").await, "none");
    assert_eq!(browser.text("#detail-last_error").await, "none");
    assert_eq!(browser.offered_actions().await, (false, false));
    browser.close_delivery().await;

    // A send from the notifier list links to the delivery it recorded.
    browser.click("#nav-notifiers").await;
    browser.ready().await;
    browser.assert_view("list").await;
    send_message(&browser, seeded.relay, "ops@example.com", "Linked", "Hi.").await;
    browser.click("#send-delivery-link").await;
    browser.ready().await;
    browser.assert_view("deliveries").await;
    assert!(browser.dialog_open("#delivery-dialog").await);
    let newest = browser.listed_deliveries().await[0];
    assert_eq!(
        browser.text("#delivery-heading").await,
        format!("Delivery {newest}")
    );
    assert_eq!(browser.text("#delivery-badge").await, "Sent");
    browser.close_delivery().await;
    browser.assert_no_page_errors().await;
}

backend_tests!(deliveries_are_listed_filtered_retried_and_cancelled);

/// 2830 + 2836: the log, but no Retry or Cancel. 2836 alone: a number field filters by
/// notifier. Without 2836: no Deliveries in the navigation, even by its address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_permitted_delivery_actions_are_offered() {
    let Some(browser) = Browser::start(DESKTOP).await else {
        return;
    };
    let app = quiet_app(Backend::Sqlite).await;
    let seeded = seed(&app).await;
    let viewer = app.user_with_codes("log-viewer", true, &[2830, 2836]).await;
    let log_only = app.user_with_codes("log-only", true, &[2836]).await;
    let sender = app.user_with_codes("sender", true, &[2830, 2835]).await;
    browser.open_dashboard(&app).await;

    browser.sign_in(&viewer).await;
    browser.open_deliveries().await;
    assert_eq!(browser.listed_deliveries().await.len(), 4);
    // Back and Forward move between the views.
    browser.click("#nav-notifiers").await;
    browser.ready().await;
    browser.assert_view("list").await;
    browser.execute("history.back()", vec![]).await;
    browser.wait_for("body[data-view=\"deliveries\"]").await;
    browser.ready().await;
    assert_eq!(browser.listed_deliveries().await.len(), 4);
    for id in [seeded.deferred, seeded.failed, seeded.queued] {
        browser.open_delivery(id).await;
        assert_eq!(browser.offered_actions().await, (false, false), "{id}");
        browser.close_delivery().await;
    }
    browser.click("#signout-button").await;
    browser.ready().await;

    // No list permission: the notifier filter is a number; Enter applies it.
    browser.sign_in(&log_only).await;
    browser.open_deliveries().await;
    assert!(!browser.is_displayed("#filter-notifier").await);
    let field = browser.el("#filter-notifier-id").await;
    let closed = seeded.closed.to_string();
    browser
        .type_into(&field, &format!("{closed}{}", Key::Enter))
        .await;
    browser.ready().await;
    assert_eq!(browser.listed_deliveries().await, [seeded.deferred]);
    assert!(
        browser
            .requested_deliveries_with(&format!("notifier={closed}"))
            .await
    );
    browser.click("#signout-button").await;
    browser.ready().await;

    // Without 2836 there is no Deliveries view, not even through its address.
    browser.sign_in(&sender).await;
    browser.assert_view("list").await;
    assert!(!browser.is_displayed("#nav-deliveries").await);
    let deliveries_url = format!("{}#deliveries", app.url("/dashboard/"));
    browser.goto(&deliveries_url).await;
    browser.refresh().await;
    browser.ready().await;
    browser.assert_view("list").await;
    assert!(!browser.is_displayed("#deliveries-view").await);
    browser.assert_no_page_errors().await;
}

/// The Deliveries view and a delivery's detail at 375 px: nothing wider than the screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_fit_a_375_px_screen() {
    let Some(browser) = Browser::start(PHONE).await else {
        return;
    };
    let app = quiet_app(Backend::Sqlite).await;
    let seeded = seed(&app).await;
    browser.open_dashboard(&app).await;
    browser.sign_in(&app.admin_token).await;
    browser.open_deliveries().await;
    assert_eq!(browser.listed_deliveries().await.len(), 4);
    browser.assert_fits_width("deliveries").await;
    assert_eq!(browser.save_screenshot("deliveries-375").await, (375, 800));

    browser.choose("#filter-status", "deferred").await;
    assert_eq!(browser.listed_deliveries().await, [seeded.deferred]);
    browser.open_delivery(seeded.deferred).await;
    browser.assert_fits_width("delivery detail").await;
    assert_eq!(
        browser.save_screenshot("delivery-detail-375").await,
        (375, 800)
    );
    assert!(browser.is_displayed("#delivery-retry").await);
    browser.assert_no_page_errors().await;
}
