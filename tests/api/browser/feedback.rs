//! Feedback where the eye is: a message under the row it is about (good news fades), a
//! failure inside the dialog that caused it, an outcome that outlives its dialog naming
//! the notifier, and a page-wide bar that fades after success; a test that can be
//! cancelled while it runs. Validation in the form's words: the browser's own checks for
//! required fields and e-mail syntax, the API's field errors rephrased (the API itself
//! keeps DRF's bytes), and a summary at the top of the form.

use serde_json::json;
use tokio::net::TcpListener;

use super::DESKTOP;
use super::chromedriver::Browser;
use super::page::row;
use crate::helpers::*;
use crate::smtp_server::silent_server;

/// A port on 127.0.0.1 where nothing listens (bound, then released).
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("the address").port()
}

/// A notifier for `port` on 127.0.0.1, plain SMTP.
fn local_body(name: &str, port: u16) -> serde_json::Value {
    with(
        &notifier_body(name),
        json!({ "host": "127.0.0.1", "port": port, "use_tls": false, "use_ssl": false }),
    )
}

/// The note under notifier `id`'s row.
fn note(id: i64) -> String {
    format!("#notifier-rows tr.row-note[data-note-for=\"{id}\"]")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_appear_next_to_their_cause_and_good_news_fades() {
    let Some(browser) = Browser::start(DESKTOP).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    let keep = id_of(&app.create_named("keep").await);
    let unreachable = id_of(
        &app.create_notifier(&local_body("unreachable", closed_port().await))
            .await,
    );
    browser.open_as_admin(&app).await;

    // Saved: said under the row, and gone after a while.
    browser.click(&format!("{} .edit-button", row(keep))).await;
    browser.ready().await;
    browser.fill("#field-name", "keep-renamed").await;
    browser.click("#form-submit").await;
    browser.ready().await;
    assert_eq!(browser.text(&note(keep)).await, "Saved “keep-renamed”.");
    assert!(!browser.is_displayed("#status-bar").await, "no banner");
    assert_eq!(browser.save_screenshot("row-note-1280").await, (1280, 800));
    browser.wait_gone(&note(keep)).await;

    // A failed send: the reason inside the dialog that caused it, not in a banner.
    browser
        .click(&format!("{} .send-button", row(unreachable)))
        .await;
    browser.fill("#send-to", "ops@example.com").await;
    browser.fill("#send-subject", "Hello").await;
    browser.fill("#send-body", "Hi").await;
    browser.click("#send-submit").await;
    browser.ready().await;
    let result = browser.text("#send-result").await;
    assert!(result.starts_with("Failed: SMTP error"), "{result}");
    assert!(!browser.is_displayed("#status-bar").await, "no banner");
    browser.click("#send-close").await;

    // Deleted: the page's bar says so, then fades.
    browser
        .click(&format!("{} .delete-button", row(keep)))
        .await;
    browser.click("#confirm-delete").await;
    browser.ready().await;
    assert!(browser.is_displayed("#status-bar").await);
    assert_eq!(browser.text("#status").await, "Deleted “keep-renamed”.");
    browser.wait_gone("#status-bar").await;
    browser.assert_no_page_errors().await;
}

/// A server that accepts connections and never says a word: a test against it runs until
/// the SMTP timeout, so there is time to cancel it, or to close its dialog.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_test_can_be_cancelled_and_a_late_outcome_names_its_notifier() {
    let Some(browser) = Browser::start(DESKTOP).await else {
        return;
    };
    let app = spawn_app_with(Backend::Sqlite, |settings| settings.smtp.timeout_secs = 2).await;
    let (port, silent) = silent_server().await;
    let mute = id_of(&app.create_notifier(&local_body("mute", port)).await);
    browser.open_as_admin(&app).await;

    // Cancel while it runs: the spinner goes, the dialog says it was cancelled.
    browser.click(&format!("{} .test-button", row(mute))).await;
    browser.click("#test-submit").await;
    browser.wait_for("#test-progress:not([hidden])").await;
    assert!(browser.is_displayed("#test-cancel").await);
    assert_eq!(
        browser.save_screenshot("test-running-1280").await,
        (1280, 800)
    );
    browser.click("#test-cancel").await;
    browser.ready().await;
    assert!(!browser.is_displayed("#test-progress").await);
    assert!(
        browser
            .text("#test-result")
            .await
            .starts_with("Test cancelled."),
        "{}",
        browser.text("#test-result").await
    );

    // Closed while it runs: the outcome arrives later, under the row, naming the notifier.
    browser.click("#test-submit").await;
    browser.wait_for("#test-progress:not([hidden])").await;
    browser.click("#test-close").await;
    browser.ready().await;
    let late = browser.wait_for(&note(mute)).await;
    let text = late.text().await.expect("the note's text");
    assert!(text.starts_with("Test of “mute”: Failed:"), "{text}");
    drop(silent);
    browser.assert_no_page_errors().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_check_in_the_browser_and_say_it_plainly() {
    let Some(browser) = Browser::start(DESKTOP).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    app.create_named("taken").await;
    browser.open_as_admin(&app).await;

    // Nothing filled in: the browser's required checks, all at once, with a summary.
    browser.click("#create-button").await;
    browser.click("#form-submit").await;
    browser.ready().await;
    let summary = browser.text("#error-summary").await;
    assert!(summary.starts_with("Fix 5 problems:"), "{summary}");
    assert_eq!(browser.text("#error-name").await, "Name is required.");
    assert_eq!(
        browser.text("#error-from_email").await,
        "From address is required."
    );
    assert_eq!(browser.property("#field-name", "ariaInvalid").await, "true");

    // An address the browser does not accept.
    let body = with(
        &notifier_body("taken"),
        json!({ "from_email": "not-an-email" }),
    );
    browser.fill_notifier_form(&body).await;
    browser.click("#form-submit").await;
    browser.ready().await;
    assert_eq!(
        browser.text("#error-from_email").await,
        "From address: enter an email address such as name@example.com."
    );
    assert!(
        browser
            .text("#error-summary")
            .await
            .starts_with("Fix 1 problem:")
    );
    let count = app.get(NOTIFIERS, &app.admin_token).await.json()["count"].clone();
    assert_eq!(count, 1, "the browser sent nothing");

    // The API's duplicate-name error, in plain words; the API's own bytes stay DRF's.
    browser
        .fill("#field-from_email", "noreply@example.com")
        .await;
    browser.click("#form-submit").await;
    browser.ready().await;
    assert_eq!(
        browser.text("#error-name").await,
        "A notifier with this name already exists. Choose another name."
    );
    let raw = app
        .post_json(NOTIFIERS, &notifier_body("taken"), &app.admin_token)
        .await;
    assert_json(
        &raw,
        400,
        &json!({"name": ["email notifier with this name already exists."]}),
    );

    // The summary's entry moves to its field.
    browser.click("#field-port").await;
    browser.click("#error-summary .link-button").await;
    let focused = browser.active_element().await;
    let name = browser.el("#field-name").await;
    assert_eq!(focused.element_id(), name.element_id());
    browser.scroll_into_view("#error-summary").await;
    assert_eq!(
        browser.save_screenshot("form-summary-1280").await,
        (1280, 800)
    );
    browser.assert_no_page_errors().await;
}
