//! Steps several browser tests share: the SMTP relay, and the form and dialog round trips.

use serde_json::{Value, json};

use super::chromedriver::Browser;
use super::page::row;
use crate::helpers::*;
use crate::smtp_server::{Security, SmtpServerOptions, TestSmtpServer};

/// The browser's own range check, in the form's words (the API's would be DRF's
/// "Ensure this value is less than or equal to 65535.").
pub const BAD_PORT: &str = "Port must be between 1 and 65535.";
pub const RELAY_USER: &str = "relay-user";
pub const RELAY_PASSWORD: &str = "relay-password";

/// A plain-text SMTP server that wants AUTH with [`RELAY_USER`] / [`RELAY_PASSWORD`].
pub async fn smtp_relay() -> TestSmtpServer {
    TestSmtpServer::start(SmtpServerOptions {
        security: Security::Plain,
        tls: None,
        username: RELAY_USER.to_owned(),
        password: RELAY_PASSWORD.to_owned(),
        require_auth: true,
    })
    .await
}

/// A notifier for the relay on 127.0.0.1: no TLS of either kind.
pub fn relay_body(port: u16) -> Value {
    json!({
        "name": "local_relay",
        "host": "127.0.0.1",
        "port": port,
        "username": RELAY_USER,
        "password": RELAY_PASSWORD,
        "from_email": "alerts@example.com",
        "use_tls": false,
        "use_ssl": false,
        "fail_silently": false
    })
}

/// Opens the create form, submits port 70000, and checks the browser's range check lands
/// beside the port field and in the summary at the top, while nothing is stored. Leaves the
/// form open.
pub async fn submit_bad_port(browser: &Browser, app: &TestApp) {
    let count_before = app.get(NOTIFIERS, &app.admin_token).await.json()["count"].clone();
    browser.click("#create-button").await;
    assert!(browser.dialog_open("#form-dialog").await);
    let body = with(&notifier_body("bad-port"), json!({ "port": 70000 }));
    browser.fill_notifier_form(&body).await;

    browser.click("#form-submit").await;
    browser.ready().await;

    assert!(
        browser.is_displayed("#error-port").await,
        "#error-port hidden"
    );
    assert_eq!(browser.text("#error-port").await, BAD_PORT);
    assert_eq!(browser.property("#field-port", "ariaInvalid").await, "true");
    assert!(browser.is_displayed("#error-summary").await, "no summary");
    let summary = browser.text("#error-summary").await;
    assert!(summary.starts_with("Fix 1 problem:"), "{summary}");
    assert!(summary.contains(BAD_PORT), "{summary}");
    assert!(
        browser.dialog_open("#form-dialog").await,
        "the form stays open"
    );
    let count_after = app.get(NOTIFIERS, &app.admin_token).await.json()["count"].clone();
    assert_eq!(count_after, count_before, "a rejected form stores nothing");
    browser.scroll_into_view("#error-port").await;
}

/// Runs the test action on notifier `id` (connect and authenticate only); leaves the dialog
/// open on its result.
pub async fn run_smtp_test(browser: &Browser, id: i64) {
    browser.click(&format!("{} .test-button", row(id))).await;
    assert!(browser.dialog_open("#test-dialog").await);
    browser.click("#test-submit").await;
    browser.ready().await;
    let result = browser.text("#test-result").await;
    assert!(result.starts_with("Success"), "#test-result: {result:?}");
    browser.scroll_into_view("#test-result").await;
}

/// Sends a message through notifier `id` from the send form; leaves the dialog open.
pub async fn send_message(browser: &Browser, id: i64, to: &str, subject: &str, body: &str) {
    browser.click(&format!("{} .send-button", row(id))).await;
    assert!(browser.dialog_open("#send-dialog").await);
    browser.fill("#send-to", to).await;
    browser.fill("#send-subject", subject).await;
    browser.fill("#send-body", body).await;
    browser.click("#send-submit").await;
    browser.ready().await;
    let result = browser.text("#send-result").await;
    assert!(result.starts_with("Sent"), "#send-result: {result:?}");
    browser.scroll_into_view("#send-result").await;
}
