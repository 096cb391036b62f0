//! A notifier's own page (`#notifiers/<id>`, permission 2832): its settings, the
//! Authentication panel (password, none, OAuth2 with the provider shortcuts; secrets shown as
//! `********` and kept) and the DKIM panel (the DNS record to publish, with Copy; stop
//! signing), and the same page read-only for a token without 2833.

use serde_json::{Value, json};

use super::chromedriver::Browser;
use super::page::row;
use super::{DESKTOP, PHONE};
use crate::helpers::*;

fn auth_path(id: i64) -> String {
    format!("{}/authentication", notifier_path(id))
}

fn dkim_path(id: i64) -> String {
    format!("{}/dkim", notifier_path(id))
}

impl Browser {
    /// Opens notifier `id`'s page from its name in the list and waits for it.
    async fn open_notifier_page(&self, id: i64) {
        self.click(&format!("{} .name-link", row(id))).await;
        self.ready().await;
        self.assert_view("notifier").await;
        let url = self.current_url().await;
        assert!(url.contains(&format!("#notifiers/{id}")), "{url}");
    }

    /// Picks `value` in the select `css` (changes apply when the form is submitted).
    async fn pick(&self, css: &str, value: &str) {
        let select = self.el(css).await;
        select
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("choosing {value:?} in {css}: {e}"));
    }

    async fn save_auth(&self) {
        self.click("#auth-submit").await;
        self.ready().await;
    }

    async fn save_dkim(&self) {
        self.click("#dkim-submit").await;
        self.ready().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifier_page_sets_authentication_and_dkim() {
    let Some(browser) = Browser::start(DESKTOP).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    let id = id_of(&app.create_named("m365").await);
    browser.open_as_admin(&app).await;
    browser.open_notifier_page(id).await;
    assert_eq!(browser.text("#notifier-heading").await, "m365");
    assert_eq!(browser.text("#nf-host").await, "smtp.example.com");
    assert!(!browser.is_displayed("#notifier-readonly").await);
    assert_eq!(
        browser.property("#auth-method-password", "checked").await,
        "true",
        "the default method"
    );
    assert!(!browser.is_displayed("#auth-oauth").await);

    // OAuth2 through the Microsoft shortcut: tenant, client id and secret only.
    browser.click("#auth-method-xoauth2").await;
    browser.pick("#auth-provider", "microsoft").await;
    assert!(!browser.is_displayed("#auth-token_url-field").await);
    assert!(!browser.is_displayed("#auth-refresh_token-field").await);
    browser
        .fill("#auth-tenant", "contoso.onmicrosoft.com")
        .await;
    browser.fill("#auth-client_id", "client-1").await;
    browser.fill("#auth-client_secret", "first-secret").await;
    browser.save_auth().await;
    assert_eq!(browser.text("#auth-status").await, "Authentication saved.");
    assert_eq!(
        browser.text("#auth-current").await,
        "In use: OAuth2 with Microsoft 365 (client credentials, client client-1)."
    );
    let stored = app.get(&auth_path(id), &app.admin_token).await.json();
    assert_eq!(stored["method"], "xoauth2", "{stored}");
    let oauth = &stored["xoauth2"];
    assert_eq!(oauth["provider"], "microsoft", "{stored}");
    assert_eq!(oauth["tenant"], "contoso.onmicrosoft.com", "{stored}");
    assert_eq!(oauth["client_id"], "client-1", "{stored}");
    assert_eq!(oauth["client_secret"], "********", "{stored}");
    assert_eq!(
        oauth["token_url"],
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    );
    // The secret shows masked; saving it unchanged keeps the stored one.
    assert_eq!(
        browser.property("#auth-client_secret", "value").await,
        "********"
    );
    browser.fill("#auth-client_id", "client-2").await;
    browser.save_auth().await;
    assert_eq!(browser.text("#auth-status").await, "Authentication saved.");
    let kept = app.get(&auth_path(id), &app.admin_token).await.json();
    assert_eq!(
        kept["xoauth2"],
        with(oauth, json!({ "client_id": "client-2" })),
        "only the client id changed"
    );

    // A token URL that is not https: the API's nested error beside its field, in plain words.
    browser.pick("#auth-provider", "").await;
    browser
        .fill("#auth-token_url", "http://login.example.com/token")
        .await;
    browser.fill("#auth-scope", "smtp").await;
    browser.fill("#auth-client_secret", "second-secret").await;
    browser.save_auth().await;
    assert!(browser.is_displayed("#auth-error-token_url").await);
    assert_eq!(
        browser.text("#auth-error-token_url").await,
        "Token URL: enter a full address that starts with https."
    );
    assert!(
        browser
            .text("#auth-error-summary")
            .await
            .contains("Token URL")
    );
    let raw = app
        .put_json(
            &auth_path(id),
            &json!({"method": "xoauth2", "xoauth2": {"grant": "client_credentials",
                "token_url": "http://login.example.com/token", "scope": "smtp",
                "client_id": "c", "client_secret": "s"}}),
            &app.admin_token,
        )
        .await;
    assert_json(
        &raw,
        400,
        &json!({"xoauth2": {"token_url": ["Enter a valid URL."]}}),
    );
    assert_eq!(
        app.get(&auth_path(id), &app.admin_token).await.json(),
        kept,
        "a rejected form changes nothing"
    );

    // No login at all.
    browser.click("#auth-method-none").await;
    assert!(!browser.is_displayed("#auth-oauth").await);
    browser.save_auth().await;
    assert_eq!(
        app.get(&auth_path(id), &app.admin_token).await.json(),
        json!({"method": "none"})
    );

    // DKIM: not signing yet; the domain is offered from the from address.
    assert!(browser.text("#dkim-state").await.starts_with("Not signing"));
    assert!(!browser.is_displayed("#dkim-record").await);
    assert_eq!(
        browser.property("#dkim-domain", "value").await,
        "example.com"
    );
    browser.fill("#dkim-domain", "other.org").await;
    browser.fill("#dkim-selector", "mail2026").await;
    browser.save_dkim().await;
    assert_eq!(
        browser.text("#dkim-error-domain").await,
        "The DKIM domain must be the from_email's domain or a parent of it."
    );
    assert_eq!(app.get(&dkim_path(id), &app.admin_token).await.status, 404);

    browser.fill("#dkim-domain", "example.com").await;
    browser.pick("#dkim-algorithm", "ed25519-sha256").await;
    browser.save_dkim().await;
    let dkim = app.get(&dkim_path(id), &app.admin_token).await;
    assert_status(&dkim, 200);
    let dkim = dkim.json();
    let record = &dkim["public_key_dns"];
    assert!(browser.is_displayed("#dkim-record").await);
    assert_eq!(
        browser.text("#dkim-dns-name").await,
        "mail2026._domainkey.example.com"
    );
    assert_eq!(browser.text("#dkim-dns-type").await, "TXT");
    let value = browser.text("#dkim-dns-value").await;
    assert_eq!(Value::String(value.clone()), record["value"], "{dkim}");
    assert!(value.starts_with("v=DKIM1; k=ed25519; p="), "{value}");
    assert!(
        browser
            .text("#dkim-state")
            .await
            .contains("Signing as example.com")
    );
    browser.assert_fits_width("notifier page").await;
    assert_eq!(
        browser.save_screenshot("notifier-page-1280").await,
        (1280, 800)
    );

    // Copy the record's value: to the clipboard, or selected for Ctrl+C where it is refused.
    browser
        .click("#dkim-record .copy-button[data-copy=\"dkim-dns-value\"]")
        .await;
    browser.ready().await;
    let copied = browser.text("#dkim-copy-status").await;
    let selected = browser
        .execute("return String(getSelection())", vec![])
        .await;
    assert!(
        copied == "Copied the record value."
            || (copied.starts_with("The record value is selected") && selected == json!(value)),
        "{copied:?} / selection {selected}"
    );

    // Stop signing, after a confirmation.
    browser.click("#dkim-delete").await;
    assert!(browser.dialog_open("#confirm-dialog").await);
    assert!(browser.text("#confirm-text").await.contains("m365"));
    assert_eq!(
        browser.save_screenshot("confirm-stop-signing-1280").await,
        (1280, 800)
    );
    browser.click("#confirm-delete").await;
    browser.ready().await;
    assert!(!browser.dialog_open("#confirm-dialog").await);
    assert_eq!(browser.text("#dkim-status").await, "DKIM signing stopped.");
    assert!(!browser.is_displayed("#dkim-record").await);
    assert_eq!(app.get(&dkim_path(id), &app.admin_token).await.status, 404);

    // The page is an address: a reload shows it again; Back returns to the list.
    browser.refresh().await;
    browser.ready().await;
    browser.assert_view("notifier").await;
    assert_eq!(browser.text("#notifier-heading").await, "m365");
    browser.client.back().await.expect("Back");
    browser.ready().await;
    browser.assert_view("list").await;
    browser.el(&row(id)).await;
    browser.assert_no_page_errors().await;
}

/// The History panel (2837): the notifier's audit records, newest first, who and what
/// changed, a secret only as "changed".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_panel_lists_who_changed_what() {
    let Some(browser) = Browser::start(DESKTOP).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    let id = id_of(&app.create_named("relay").await);
    let rename = json!({"name": "relay-2", "password": "another-Secret-1"});
    assert_status(
        &app.patch_json(&notifier_path(id), &rename, &app.admin_token)
            .await,
        200,
    );
    browser.open_as_admin(&app).await;
    browser.open_notifier_page(id).await;
    browser.wait_for("#history-list li").await;

    let entries = browser.texts("#history-list > li .who").await;
    assert_eq!(
        entries,
        ["admin · update", "admin · create"],
        "newest first"
    );
    let changes = browser
        .texts("#history-list > li:first-child .changes li")
        .await;
    assert!(
        changes.contains(&"name: relay → relay-2".to_owned()),
        "{changes:?}"
    );
    assert!(
        changes.contains(&"password: changed".to_owned()),
        "{changes:?}"
    );
    assert!(
        !browser
            .text("#history-panel")
            .await
            .contains("another-Secret-1")
    );
    assert!(!browser.is_displayed("#history-more").await, "one page");
    browser.scroll_into_view("#history-panel").await;
    assert_eq!(
        browser.save_screenshot("notifier-history-1280").await,
        (1280, 800)
    );
    browser.assert_no_page_errors().await;
}

/// 2830 + 2832: the page by its link, read-only: no forms, no actions, a note that says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_token_sees_the_notifier_page_without_forms() {
    let Some(browser) = Browser::start(PHONE).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    let id = id_of(&app.create_named("relay").await);
    let dkim = json!({"domain": "example.com", "selector": "s1", "algorithm": "ed25519-sha256"});
    assert_status(
        &app.put_json(&dkim_path(id), &dkim, &app.admin_token).await,
        200,
    );
    let viewer = app.user_with_codes("viewer", true, &[2830, 2832]).await;

    // A link straight to the page, opened before signing in.
    browser
        .goto(&app.url(&format!("/dashboard/#notifiers/{id}")))
        .await;
    browser.ready().await;
    browser.sign_in(&viewer).await;
    browser.assert_view("notifier").await;
    assert_eq!(browser.text("#notifier-heading").await, "relay");
    assert!(browser.is_displayed("#notifier-readonly").await);
    for action in ["edit", "test", "send", "delete"] {
        let css = format!("#detail-{action}");
        assert!(!browser.is_displayed(&css).await, "{css} offered");
    }
    assert_eq!(browser.property("#auth-fields", "disabled").await, "true");
    assert_eq!(
        browser.text("#auth-current").await,
        "In use: password (AUTH PLAIN or LOGIN)."
    );
    assert!(!browser.is_displayed("#auth-submit").await);
    assert!(!browser.is_displayed("#dkim-form").await, "no DKIM form");
    assert!(
        !browser.is_displayed("#history-panel").await,
        "no history without 2837"
    );
    assert_eq!(
        browser.text("#dkim-dns-name").await,
        "s1._domainkey.example.com"
    );
    browser.assert_fits_width("read-only notifier page").await;
    assert_eq!(
        browser.save_screenshot("notifier-page-read-only-375").await,
        (375, 800)
    );
    browser.assert_no_page_errors().await;
}

/// The page at 375 px with OAuth2 and DKIM filled in: nothing wider than the screen, and a
/// screenshot of each panel; the empty list's next step too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifier_page_fits_a_375_px_screen() {
    let Some(browser) = Browser::start(PHONE).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    let id = id_of(&app.create_named("gmail").await);
    let google = json!({"method": "xoauth2", "xoauth2": {"provider": "google",
        "client_id": "client", "client_secret": "secret", "refresh_token": "refresh"}});
    assert_status(
        &app.put_json(&auth_path(id), &google, &app.admin_token)
            .await,
        200,
    );
    let rsa = json!({"domain": "example.com", "selector": "mail", "algorithm": "rsa-sha256"});
    assert_status(
        &app.put_json(&dkim_path(id), &rsa, &app.admin_token).await,
        200,
    );
    browser.open_as_admin(&app).await;

    browser.open_notifier_page(id).await;
    assert_eq!(browser.property("#auth-provider", "value").await, "google");
    assert!(browser.is_displayed("#auth-refresh_token-field").await);
    assert!(!browser.is_displayed("#auth-grant-field").await);
    assert_eq!(
        browser.property("#auth-refresh_token", "value").await,
        "********"
    );
    browser.assert_fits_width("notifier page").await;
    browser.assert_touch_targets("#notifier-view").await;
    browser.assert_touch_targets("header").await;
    assert_eq!(
        browser.save_screenshot("notifier-page-375").await,
        (375, 800)
    );
    for panel in ["auth", "dkim"] {
        browser.scroll_into_view(&format!("#{panel}-panel")).await;
        assert_eq!(
            browser
                .save_screenshot(&format!("notifier-{panel}-375"))
                .await,
            (375, 800)
        );
    }
    browser.click("#dkim-delete").await;
    browser.assert_fits_width("confirmation").await;
    assert_eq!(
        browser.save_screenshot("confirm-stop-signing-375").await,
        (375, 800)
    );
    browser.click("#confirm-cancel").await;

    browser.click("#back-to-list").await;
    browser.ready().await;
    browser.assert_view("list").await;
    browser.fill("#search-input", "nothing-like-this").await;
    browser.ready().await;
    assert!(browser.is_displayed("#empty-clear").await);
    browser.assert_fits_width("empty list").await;
    assert_eq!(browser.save_screenshot("list-empty-375").await, (375, 800));
    browser.assert_no_page_errors().await;
}
