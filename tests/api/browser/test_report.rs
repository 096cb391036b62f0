//! The Test dialog's staged report against the in-process SMTP server in the mode of each
//! known mistake: the steps that ran as a checklist (name, outcome, time, what each found),
//! the failing one last, and the hint that names the fix; a passing test has every step
//! ticked and no hint.

use serde_json::{Value, json};

use super::chromedriver::Browser;
use super::page::row;
use super::steps::{RELAY_PASSWORD, RELAY_USER, relay_body, smtp_relay};
use super::{DESKTOP, PHONE};
use crate::helpers::*;
use crate::smtp_server::{
    Quirks, Security, SmtpServerOptions, TestCa, TestSmtpServer, silent_server,
};

/// The report as shown: `[step, ok]` per line of the checklist, top to bottom.
async fn shown_steps(browser: &Browser) -> Value {
    browser
        .execute(
            "return [...document.querySelectorAll('#test-steps li.step')] \
               .map((li) => [li.dataset.step, li.dataset.ok === 'true'])",
            vec![],
        )
        .await
}

/// `[step, ok]` for `names`, every one passing but the last.
fn failing_at(names: &[&str]) -> Value {
    let last = names.len() - 1;
    json!(
        names
            .iter()
            .enumerate()
            .map(|(i, name)| json!([name, i != last]))
            .collect::<Vec<_>>()
    )
}

/// A server of the relay's credentials in `security` mode, with `tls` when given.
async fn server(security: Security, tls: Option<&TestCa>, quirks: Quirks) -> TestSmtpServer {
    let options = SmtpServerOptions {
        security,
        tls: tls.map(|ca| ca.server_config(&["localhost", "127.0.0.1"])),
        username: RELAY_USER.to_owned(),
        password: RELAY_PASSWORD.to_owned(),
        require_auth: true,
    };
    TestSmtpServer::start_with(options, quirks).await
}

/// A notifier named `name` for `port` with the given flags.
fn notifier(name: &str, port: u16, use_tls: bool, use_ssl: bool) -> Value {
    with(
        &relay_body(port),
        json!({ "name": name, "use_tls": use_tls, "use_ssl": use_ssl }),
    )
}

/// Runs the test of notifier `id` from its row and checks the report: the steps, the
/// failing one last, and a hint containing `hint`. Leaves the dialog open.
async fn check_report(browser: &Browser, id: i64, steps: &[&str], hint: &str) {
    browser.click(&format!("{} .test-button", row(id))).await;
    browser.click("#test-submit").await;
    browser.ready().await;
    let result = browser.text("#test-result").await;
    assert!(result.starts_with("Failed: "), "{result}");
    assert_eq!(shown_steps(browser).await, failing_at(steps), "{result}");
    let failed = browser.text("#test-steps li.step[data-ok=\"false\"]").await;
    assert!(failed.contains(" ms"), "its time: {failed}");
    assert!(browser.is_displayed("#test-advice").await, "no hint shown");
    let advice = browser.text("#test-advice-text").await;
    assert!(advice.contains(hint), "{advice}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_test_shows_its_steps_and_the_fix() {
    let Some(browser) = Browser::start(DESKTOP).await else {
        return;
    };
    // The app trusts no extra CA: the test CA's certificates are untrusted to it.
    let app = spawn_app(Backend::Sqlite).await;
    let ca = TestCa::new();
    let starttls = server(Security::StartTls, Some(&ca), Quirks::default()).await;
    let implicit = server(Security::ImplicitTls, Some(&ca), Quirks::default()).await;
    let no_auth = Quirks {
        no_auth: true,
        ..Quirks::default()
    };
    let open_relay = server(Security::Plain, None, no_auth).await;
    let relay = smtp_relay().await;

    let ssl_on_starttls = app
        .create_notifier(&notifier("ssl-on-587", starttls.port, false, true))
        .await;
    let plain_on_starttls = app
        .create_notifier(&notifier("plain-on-587", starttls.port, false, false))
        .await;
    let untrusted = app
        .create_notifier(&notifier("untrusted", implicit.port, false, true))
        .await;
    let login_to_open_relay = app
        .create_notifier(&notifier("open-relay", open_relay.port, false, false))
        .await;
    let good = app.create_notifier(&relay_body(relay.port)).await;
    browser.open_as_admin(&app).await;

    // One row per known mistake: the notifier, the steps that ran, a part of the hint.
    let cases = [
        // Implicit TLS against a STARTTLS server.
        (
            &ssl_on_starttls,
            &["resolve", "connect", "tls"][..],
            "set use_tls to true and use_ssl to false",
        ),
        // Plain SMTP where the server wants STARTTLS before a login.
        (
            &plain_on_starttls,
            &["resolve", "connect", "ehlo", "auth"][..],
            "set use_tls to true",
        ),
        // A certificate from a CA the service does not trust.
        (
            &untrusted,
            &["resolve", "connect", "tls"][..],
            "smtp.extra_ca_file",
        ),
        // A relay that offers no AUTH, with the default password method.
        (
            &login_to_open_relay,
            &["resolve", "connect", "ehlo", "auth"][..],
            "set the notifier's authentication method to \"none\"",
        ),
    ];
    for (notifier, steps, hint) in cases {
        check_report(&browser, id_of(notifier), steps, hint).await;
        if notifier == &ssl_on_starttls {
            assert_eq!(
                browser
                    .text("#test-steps li.step[data-step=\"tls\"] .step-name")
                    .await,
                "TLS handshake"
            );
            browser.scroll_into_view("#test-steps").await;
            assert_eq!(
                browser.save_screenshot("test-report-failed-1280").await,
                (1280, 800)
            );
        }
        if notifier == &untrusted {
            let tls = browser
                .text("#test-steps li.step[data-step=\"tls\"] .step-detail")
                .await;
            assert!(tls.contains("issued by CN=notifier test CA"), "{tls}");
        }
        browser.click("#test-close").await;
    }

    // A good notifier: every step ticked, no hint.
    browser
        .click(&format!("{} .test-button", row(id_of(&good))))
        .await;
    browser.click("#test-submit").await;
    browser.ready().await;
    assert!(browser.text("#test-result").await.starts_with("Success"));
    let steps = shown_steps(&browser).await;
    let names: Vec<&str> = steps
        .as_array()
        .expect("steps")
        .iter()
        .map(|step| step[0].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["resolve", "connect", "ehlo", "auth"], "{steps}");
    assert!(
        steps
            .as_array()
            .expect("steps")
            .iter()
            .all(|s| s[1] == true),
        "{steps}"
    );
    assert!(!browser.is_displayed("#test-advice").await);
    browser.assert_no_page_errors().await;
}

/// The report at 375 px: the spinner with Cancel while a test runs, then the checklist and
/// the hint, fit the screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_fits_a_375_px_screen() {
    let Some(browser) = Browser::start(PHONE).await else {
        return;
    };
    let app = spawn_app_with(Backend::Sqlite, |settings| settings.smtp.timeout_secs = 2).await;
    let (silent_port, _silent) = silent_server().await;
    let mute = id_of(
        &app.create_notifier(&notifier("mute", silent_port, false, false))
            .await,
    );
    let ca = TestCa::new();
    let starttls = server(Security::StartTls, Some(&ca), Quirks::default()).await;
    let id = id_of(
        &app.create_notifier(&notifier("ssl-on-587", starttls.port, false, true))
            .await,
    );
    browser.open_as_admin(&app).await;

    browser.click(&format!("{} .test-button", row(mute))).await;
    browser.click("#test-submit").await;
    browser.wait_for("#test-progress:not([hidden])").await;
    browser.assert_fits_width("a running test").await;
    assert_eq!(
        browser.save_screenshot("test-running-375").await,
        (375, 800)
    );
    browser.click("#test-cancel").await;
    browser.ready().await;
    browser.click("#test-close").await;

    check_report(
        &browser,
        id,
        &["resolve", "connect", "tls"],
        "expects STARTTLS",
    )
    .await;
    browser.assert_fits_width("the test report").await;
    browser.scroll_into_view("#test-steps").await;
    assert_eq!(
        browser.save_screenshot("test-report-failed-375").await,
        (375, 800)
    );
    browser.assert_no_page_errors().await;
}
