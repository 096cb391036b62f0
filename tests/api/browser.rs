//! §8 the staff dashboard in a real browser: Debian's headless Chromium driven through
//! chromedriver, against the real application on SQLite and an in-process SMTP server.
//! Screenshots of each main view go to `target/screenshots/dashboard-<view>-<width>.png`.
//! The Deliveries view: deliveries.rs; a notifier's page (authentication, DKIM):
//! notifier_page.rs; the list's state in the location, filters, pages and layout:
//! list_state.rs; messages, Cancel and validation: feedback.rs; the staged /test report:
//! test_report.rs.

#[path = "browser/chromedriver.rs"]
mod chromedriver;
#[path = "browser/deliveries.rs"]
mod deliveries;
#[path = "browser/feedback.rs"]
mod feedback;
#[path = "browser/list_state.rs"]
mod list_state;
#[path = "browser/notifier_page.rs"]
mod notifier_page;
#[path = "browser/page.rs"]
mod page;
#[path = "browser/steps.rs"]
mod steps;
#[path = "browser/test_report.rs"]
mod test_report;

use std::time::Duration;

use fantoccini::key::Key;
use serde_json::{Value, json};

use crate::helpers::*;
use chromedriver::{Browser, Viewport};
use page::row;
use steps::{RELAY_USER, relay_body, run_smtp_test, send_message, smtp_relay, submit_bad_port};

const DESKTOP: Viewport = Viewport::Desktop {
    width: 1280,
    height: 800,
};
const PHONE: Viewport = Viewport::Mobile {
    width: 375,
    height: 800,
};
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_creates_edits_tests_sends_and_deletes() {
    let Some(browser) = Browser::start(DESKTOP).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    let stored = app.exposing_passwords().await;
    let smtp = smtp_relay().await;

    // Sign in with the bootstrap token.
    browser.open_dashboard(&app).await;
    browser.assert_view("signin").await;
    assert_eq!(browser.save_screenshot("signin-1280").await, (1280, 800));
    browser.sign_in(&app.admin_token).await;
    browser.assert_view("list").await;
    assert!(browser.text("#whoami").await.contains("admin"));
    let session = browser.stored_session().await;
    assert_eq!(session["token"], app.admin_token.as_str(), "{session}");
    assert_eq!(session["local"], 0, "nothing in localStorage: {session}");
    assert_eq!(session["cookie"], "", "no cookie: {session}");

    // The original reference's example, through the form.
    let reference = reference_create_body();
    browser.click("#create-button").await;
    browser.fill_notifier_form(&reference).await;
    browser.click("#form-submit").await;
    browser.ready().await;
    assert!(
        !browser.dialog_open("#form-dialog").await,
        "the form closes"
    );
    let listed = stored.get(NOTIFIERS, &stored.admin_token).await.json();
    assert_eq!(listed["count"], 1, "{listed}");
    let id = id_of(&listed["results"][0]);
    let created = stored.get(&notifier_path(id), &stored.admin_token).await;
    assert_json(
        &created,
        200,
        &expected_notifier(&created.json(), &reference),
    );
    let created = created.json();
    let shown = browser.text(&row(id)).await;
    assert!(shown.contains("hamgam_mail"), "{shown}");
    assert!(shown.contains("mail.hamgam.online:887"), "{shown}");

    // Rename it: the edit form PATCHes only the name.
    browser.click(&format!("{} .edit-button", row(id))).await;
    browser.ready().await;
    assert!(browser.dialog_open("#form-dialog").await);
    assert_eq!(
        browser.property("#field-name", "value").await,
        "hamgam_mail"
    );
    assert_eq!(browser.property("#field-password", "value").await, "");
    browser.fill("#field-name", "hamgam_mail_renamed").await;
    browser.click("#form-submit").await;
    browser.ready().await;
    assert!(!browser.dialog_open("#form-dialog").await);
    let renamed = stored
        .get(&notifier_path(id), &stored.admin_token)
        .await
        .json();
    assert_ne!(renamed["updated_at"], created["updated_at"], "{renamed}");
    let expected = with(
        &created,
        json!({ "name": "hamgam_mail_renamed", "updated_at": renamed["updated_at"] }),
    );
    assert_eq!(renamed, expected, "only name and updated_at change");
    assert!(browser.text(&row(id)).await.contains("hamgam_mail_renamed"));

    // A port out of range: the API's message beside the field, nothing stored.
    submit_bad_port(&browser, &app).await;
    assert_eq!(
        browser.save_screenshot("form-errors-1280").await,
        (1280, 800)
    );
    browser.click("#form-cancel").await;
    assert!(!browser.dialog_open("#form-dialog").await);

    // A notifier for the in-process relay; a reload keeps the session (sessionStorage).
    let relay = id_of(&app.create_notifier(&relay_body(smtp.port)).await);
    browser.refresh().await;
    browser.ready().await;
    browser.assert_view("list").await;
    browser.el(&row(relay)).await;
    browser.assert_fits_width("list").await;
    assert_eq!(browser.save_screenshot("list-1280").await, (1280, 800));

    // Test its settings.
    run_smtp_test(&browser, relay).await;
    assert!(smtp.connections() >= 1, "the relay saw no connection");
    assert!(
        smtp.received().is_empty(),
        "a test with no recipient sends nothing"
    );
    assert_eq!(
        browser.save_screenshot("test-dialog-1280").await,
        (1280, 800)
    );
    browser.click("#test-close").await;

    // Send a message.
    send_message(
        &browser,
        relay,
        "ops@example.com, oncall@example.com",
        "Disk almost full",
        "Free space is below 5 percent.",
    )
    .await;
    let mails = smtp.wait_for_mail(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert_eq!(mail.rcpt_to, ["ops@example.com", "oncall@example.com"]);
    assert_eq!(mail.mail_from, "alerts@example.com");
    assert_eq!(mail.auth_user.as_deref(), Some(RELAY_USER));
    assert!(
        mail.data.contains("Subject: Disk almost full"),
        "{}",
        mail.data
    );
    assert!(
        mail.data.contains("Free space is below 5 percent."),
        "{}",
        mail.data
    );
    assert_eq!(
        browser.save_screenshot("send-dialog-1280").await,
        (1280, 800)
    );
    browser.click("#send-close").await;

    // Delete after confirming.
    browser.click(&format!("{} .delete-button", row(id))).await;
    assert!(browser.dialog_open("#confirm-dialog").await);
    assert!(
        browser
            .text("#confirm-text")
            .await
            .contains("hamgam_mail_renamed")
    );
    browser.click("#confirm-delete").await;
    browser.ready().await;
    assert!(!browser.dialog_open("#confirm-dialog").await);
    assert!(browser.find(&row(id)).await.is_none(), "the row is gone");
    browser.el(&row(relay)).await;
    let gone = app.get(&notifier_path(id), &app.admin_token).await;
    assert_detail(&gone, 404, NOT_FOUND_NOTIFIER);

    // Sign out: the token is forgotten, and a reload asks for one.
    browser.click("#signout-button").await;
    browser.ready().await;
    browser.assert_view("signin").await;
    let session = browser.stored_session().await;
    assert_eq!(session["token"], Value::Null, "{session}");
    assert_eq!(session["session"], 0, "{session}");
    browser.refresh().await;
    browser.ready().await;
    browser.assert_view("signin").await;
    assert_eq!(browser.property("#token-input", "value").await, "");
    assert!(browser.find_all("#notifier-rows tr").await.is_empty());
    browser.assert_no_page_errors().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_permitted_actions_are_offered() {
    let Some(browser) = Browser::start(DESKTOP).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    let first = id_of(&app.create_named("first").await);
    let second = id_of(&app.create_named("second").await);
    let viewer = app.user_with_codes("viewer", true, &[2830, 2832]).await;
    let creator = app.user_with_codes("creator", true, &[2831]).await;
    browser.open_dashboard(&app).await;

    // Keyboard only: the token field has focus; Enter submits.
    let focused = browser.active_element().await;
    let token_input = browser.el("#token-input").await;
    // (WebDriver gives an element the same reference each time it is found.)
    assert_eq!(focused.element_id(), token_input.element_id());
    let enter = Key::Enter.to_string();
    browser
        .type_into(&token_input, &format!("not-a-token{enter}"))
        .await;
    browser.ready().await;
    browser.assert_view("signin").await;
    assert!(browser.is_displayed("#signin-error").await);
    assert_eq!(
        browser.text("#signin-error").await,
        "That token was not accepted."
    );
    browser.fill("#token-input", &viewer).await;
    browser.type_into(&token_input, &enter).await;
    browser.ready().await;

    // 2830 and 2832: the list, and no create, edit, delete, test or send.
    browser.assert_view("list").await;
    assert_eq!(browser.text("#whoami").await, "Signed in as viewer (staff)");
    browser.el(&row(first)).await;
    browser.el(&row(second)).await;
    assert!(!browser.is_displayed("#create-button").await);
    let actions = ":is(.edit-button, .delete-button, .test-button, .send-button)";
    let offered = browser.find_all(&format!("#notifier-rows {actions}")).await;
    assert!(offered.is_empty(), "{} row actions offered", offered.len());

    // 2832: the name opens the notifier's page, read-only.
    browser.click(&format!("{} .name-link", row(first))).await;
    browser.ready().await;
    browser.assert_view("notifier").await;
    assert!(browser.is_displayed("#notifier-readonly").await);
    assert!(!browser.is_displayed("#auth-submit").await);
    assert_eq!(
        browser
            .save_screenshot("notifier-page-read-only-1280")
            .await,
        (1280, 800)
    );

    // 2831 only: may create, may not list.
    browser.click("#signout-button").await;
    browser.ready().await;
    browser.sign_in(&creator).await;
    browser.assert_view("list").await;
    assert!(browser.is_displayed("#create-button").await);
    assert!(browser.is_displayed("#no-list").await);
    assert!(!browser.is_displayed("#list-body").await);
    assert!(browser.find(&row(first)).await.is_none());
    browser.assert_no_page_errors().await;
}

/// The views at 375 px (Chrome's mobile emulation): usable, nothing wider than the screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_fit_a_375_px_screen() {
    let Some(browser) = Browser::start(PHONE).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    let smtp = smtp_relay().await;
    app.create_named("alerts-primary").await;
    let relay = id_of(&app.create_notifier(&relay_body(smtp.port)).await);

    browser.open_dashboard(&app).await;
    browser.assert_fits_width("sign-in").await;
    assert_eq!(browser.save_screenshot("signin-375").await, (375, 800));

    browser.sign_in(&app.admin_token).await;
    browser.assert_view("list").await;
    browser.el(&row(relay)).await;
    browser.assert_fits_width("list").await;
    assert_eq!(browser.save_screenshot("list-375").await, (375, 800));

    submit_bad_port(&browser, &app).await;
    browser.assert_fits_width("form with errors").await;
    assert_eq!(browser.save_screenshot("form-errors-375").await, (375, 800));
    browser.click("#form-cancel").await;

    run_smtp_test(&browser, relay).await;
    browser.assert_fits_width("test dialog").await;
    assert_eq!(browser.save_screenshot("test-dialog-375").await, (375, 800));
    browser.click("#test-close").await;

    send_message(&browser, relay, "ops@example.com", "Hello", "From a phone.").await;
    assert_eq!(
        smtp.wait_for_mail(1, Duration::from_secs(10)).await.len(),
        1
    );
    browser.assert_fits_width("send dialog").await;
    assert_eq!(browser.save_screenshot("send-dialog-375").await, (375, 800));
    browser.click("#send-close").await;
    browser.assert_no_page_errors().await;
}
