//! The notifier list as staff use it: its state in the location (page, page size, search,
//! ordering, filters) so reload, Back and links show the same view; the API's filters;
//! numbered pages; a loading state; empty states with a next step; and the layout at
//! 1280 px (one line per notifier) and 375 px (sticky pager, 44 px touch targets).

use fantoccini::key::Key;
use serde_json::{Value, json};

use super::chromedriver::{Browser, Viewport};
use super::page::row;
use super::{DESKTOP, PHONE};
use crate::helpers::*;

/// 23 notifiers `n01`..`n23`: every third one on implicit TLS, every fifth one on
/// `relay.example.org`. Returns their ids in creation order.
async fn seed(app: &TestApp) -> Vec<i64> {
    let mut ids = Vec::new();
    for n in 1..=23 {
        let host = if n % 5 == 0 {
            "relay.example.org"
        } else {
            "smtp.example.com"
        };
        let body = with(
            &notifier_body(&format!("n{n:02}")),
            json!({ "host": host, "use_ssl": n % 3 == 0 }),
        );
        ids.push(id_of(&app.create_notifier(&body).await));
    }
    ids
}

/// A browser signed in as the admin on a fresh app holding [`seed`]'s notifiers.
async fn seeded(viewport: Viewport) -> Option<(Browser, TestApp)> {
    let browser = Browser::start(viewport).await?;
    let app = spawn_app(Backend::Sqlite).await;
    seed(&app).await;
    browser.open_as_admin(&app).await;
    Some((browser, app))
}

impl Browser {
    /// The names in the list, top to bottom.
    async fn listed_names(&self) -> Vec<String> {
        let names = self
            .execute(
                "return [...document.querySelectorAll('#notifier-rows tr[data-id] .col-name')] \
                   .map((th) => th.textContent.trim())",
                vec![],
            )
            .await;
        serde_json::from_value(names).expect("a list of names")
    }

    /// The location's fragment.
    async fn hash(&self) -> String {
        let hash = self.execute("return location.hash", vec![]).await;
        hash.as_str().unwrap_or_default().to_owned()
    }

    /// Chooses `value` in the select `css` (which applies it) and waits for the list.
    async fn select_filter(&self, css: &str, value: &str) {
        let select = self.el(css).await;
        select
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("choosing {value:?} in {css}: {e}"));
        self.ready().await;
    }

    async fn back(&self) {
        self.client.back().await.expect("Back");
        self.ready().await;
    }
}

fn names(range: impl IntoIterator<Item = u32>) -> Vec<String> {
    range.into_iter().map(|n| format!("n{n:02}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_state_survives_reload_back_and_links() {
    let Some((browser, app)) = seeded(DESKTOP).await else {
        return;
    };
    assert_eq!(browser.listed_names().await, names(1..=20));

    // Page size, then page 2 from its numbered link.
    browser.select_filter("#page-size", "10").await;
    assert_eq!(browser.hash().await, "#notifiers?page_size=10");
    let pages: Vec<String> = {
        let links = browser.find_all("#page-links .page-link").await;
        let mut texts = Vec::new();
        for link in links {
            texts.push(link.text().await.expect("a page link's text"));
        }
        texts
    };
    assert_eq!(pages, ["1", "2", "3"]);
    browser
        .click("#page-links .page-link[data-page=\"2\"]")
        .await;
    browser.ready().await;
    assert_eq!(browser.hash().await, "#notifiers?page=2&page_size=10");
    assert_eq!(browser.listed_names().await, names(11..=20));
    assert_eq!(
        browser
            .text("#page-links .page-link[aria-current=\"page\"]")
            .await,
        "2"
    );

    // A reload shows the same page; Back steps through the earlier views.
    browser.refresh().await;
    browser.ready().await;
    assert_eq!(browser.listed_names().await, names(11..=20));
    assert_eq!(browser.property("#page-size", "value").await, "10");
    browser.back().await;
    assert_eq!(browser.listed_names().await, names(1..=10));
    browser.back().await;
    assert_eq!(browser.listed_names().await, names(1..=20));
    assert_eq!(browser.property("#page-size", "value").await, "20");

    // Sorting: a second click on a column reverses it.
    browser
        .click("button.sort-button[data-sort=\"name\"]")
        .await;
    browser.ready().await;
    browser
        .click("button.sort-button[data-sort=\"name\"]")
        .await;
    browser.ready().await;
    assert_eq!(browser.hash().await, "#notifiers?ordering=-name");
    assert_eq!(browser.listed_names().await[..3], names([23, 22, 21]));
    assert_eq!(
        browser.property("th[data-sort=\"name\"]", "ariaSort").await,
        "descending"
    );

    // The API's filters: SSL, then the host as well (Enter applies it).
    browser.select_filter("#filter-use_ssl", "true").await;
    assert_eq!(
        browser.listed_names().await,
        names([21, 18, 15, 12, 9, 6, 3])
    );
    let host = browser.el("#filter-host").await;
    browser
        .type_into(&host, &format!("relay.example.org{}", Key::Enter))
        .await;
    browser.ready().await;
    assert_eq!(browser.listed_names().await, names([15]));
    assert_eq!(
        browser.hash().await,
        "#notifiers?ordering=-name&host=relay.example.org&use_ssl=true"
    );
    browser.select_filter("#filter-use_ssl", "false").await;
    assert_eq!(browser.listed_names().await, names([20, 10, 5]));

    // A linked view, opened in a fresh page load of the same tab.
    let link = "/dashboard/#notifiers?host=relay.example.org&ordering=name&page_size=10";
    browser.goto(&app.url(link)).await;
    browser.refresh().await;
    browser.ready().await;
    browser.assert_view("list").await;
    assert_eq!(browser.listed_names().await, names([5, 10, 15, 20]));
    assert_eq!(
        browser.property("#filter-host", "value").await,
        "relay.example.org"
    );
    assert_eq!(browser.property("#filter-use_ssl", "value").await, "");
    assert_eq!(browser.property("#page-size", "value").await, "10");
    assert!(browser.is_displayed("#list-clear").await);

    // Nothing matches: the empty state says so and offers the way back.
    let search = browser.el("#search-input").await;
    browser
        .type_into(&search, &format!("no-such-notifier{}", Key::Enter))
        .await;
    browser.ready().await;
    assert!(browser.listed_names().await.is_empty());
    assert!(browser.is_displayed("#list-empty").await);
    assert_eq!(
        browser.text("#list-empty-text").await,
        "No notifiers match “no-such-notifier” with these filters."
    );
    assert!(!browser.is_displayed("#empty-create").await);
    browser.click("#empty-clear").await;
    browser.ready().await;
    assert_eq!(browser.listed_names().await, names(1..=10));
    assert_eq!(browser.property("#search-input", "value").await, "");
    assert_eq!(
        browser.hash().await,
        "#notifiers?page_size=10&ordering=name"
    );
    browser.assert_no_page_errors().await;
}

/// While a page loads, the table says so (a visible "Loading…" and aria-busy), and stops
/// saying so once the rows are in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_shows_its_loading_state() {
    let Some((browser, _app)) = seeded(DESKTOP).await else {
        return;
    };
    browser
        .execute(
            "window.seenLoading = []; \
             new MutationObserver(() => window.seenLoading.push([ \
               !document.querySelector('#list-loading').hidden, \
               document.querySelector('#notifier-table').getAttribute('aria-busy')])) \
             .observe(document.querySelector('#notifier-table-wrap'), \
               { attributes: true, subtree: true, attributeFilter: ['hidden', 'aria-busy'] });",
            vec![],
        )
        .await;
    browser.click("#next-page").await;
    browser.ready().await;
    let seen = browser.execute("return window.seenLoading", vec![]).await;
    let seen = seen.as_array().expect("records").clone();
    assert!(
        seen.contains(&json!([true, "true"])),
        "never shown loading: {seen:?}"
    );
    assert!(!browser.is_displayed("#list-loading").await);
    assert_eq!(
        browser.property("#notifier-table", "ariaBusy").await,
        "",
        "not busy once loaded"
    );
    assert_eq!(browser.listed_names().await, names(21..=23));
}

/// No notifiers at all: the next step is to create one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_list_offers_to_create_a_notifier() {
    let Some(browser) = Browser::start(DESKTOP).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    browser.open_as_admin(&app).await;
    assert!(browser.is_displayed("#list-empty").await);
    assert_eq!(
        browser.text("#list-empty-text").await,
        "No notifiers yet. Create one to start sending mail."
    );
    assert!(!browser.is_displayed("#empty-clear").await);
    assert_eq!(
        browser.save_screenshot("list-empty-1280").await,
        (1280, 800)
    );
    browser.click("#empty-create").await;
    assert!(browser.dialog_open("#form-dialog").await);
    browser.assert_no_page_errors().await;
}

/// At 1280 px each notifier is one line, long values included: they end in "…" (the whole
/// value in a title) rather than wrap or break mid-word, and the actions are icon buttons
/// named for screen readers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_line_per_notifier_at_1280_px() {
    let Some(browser) = Browser::start(DESKTOP).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    let long_host = "smtp-relay-eu-west-1.mail.internal.example-corporation.com";
    let long = with(
        &notifier_body("quarterly-billing-reminders"),
        json!({ "host": long_host, "username": "billing-notifications-service-account",
                "from_email": "billing-notifications@accounts.example-corporation.com" }),
    );
    let long = id_of(&app.create_notifier(&long).await);
    for name in ["alerts", "backups", "reports"] {
        app.create_named(name).await;
    }
    browser.open_as_admin(&app).await;

    let rows = browser
        .execute(
            "return [...document.querySelectorAll('#notifier-rows tr[data-id]')].map((tr) => { \
               const tops = [...tr.querySelectorAll('.row-actions button')] \
                 .map((b) => Math.round(b.getBoundingClientRect().top)); \
               const wrapped = [...tr.querySelectorAll('td:not(.col-actions), th')] \
                 .filter((cell) => { const range = document.createRange(); \
                   range.selectNodeContents(cell); \
                   const line = parseFloat(getComputedStyle(cell).lineHeight); \
                   return range.getBoundingClientRect().height > 1.5 * line; }) \
                 .map((cell) => cell.className); \
               return { height: tr.getBoundingClientRect().height, \
                        tops: [...new Set(tops)].length, wrapped }; })",
            vec![],
        )
        .await;
    assert_eq!(
        browser.save_screenshot("list-long-values-1280").await,
        (1280, 800)
    );
    for shown in rows.as_array().expect("rows") {
        let height = shown["height"].as_f64().expect("a height");
        assert!(height <= 56.0, "a row {height} px tall: {rows}");
        assert_eq!(shown["tops"], 1, "actions on one line: {rows}");
        assert_eq!(shown["wrapped"], json!([]), "a value wraps: {rows}");
    }
    let host = format!("{} .col-host .truncate", row(long));
    assert_eq!(
        browser.property(&host, "title").await,
        format!("{long_host}:2525")
    );
    let label = browser
        .el(&format!("{} .edit-button", row(long)))
        .await
        .attr("aria-label")
        .await
        .expect("an aria-label");
    assert_eq!(label.as_deref(), Some("Edit quarterly-billing-reminders"));
    browser.assert_fits_width("list with long values").await;
    browser.assert_no_page_errors().await;
}

/// At 375 px a page of 20 cards keeps its pager on screen, and every control is at least
/// 44 px tall (icon buttons 44 px wide too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_list_has_a_sticky_pager_and_44_px_targets() {
    let Some((browser, _app)) = seeded(PHONE).await else {
        return;
    };
    assert_eq!(browser.listed_names().await.len(), 20);

    let pager_in_view = "const r = document.querySelector('#list-pager').getBoundingClientRect(); \
                         return r.top >= 0 && r.bottom <= innerHeight + 1;";
    let tall = browser
        .execute("return document.documentElement.scrollHeight", vec![])
        .await;
    assert!(tall.as_f64().expect("a height") > 1600.0, "{tall}");
    for at in ["0", "document.documentElement.scrollHeight / 2"] {
        browser
            .execute(&format!("window.scrollTo(0, {at})"), vec![])
            .await;
        assert_eq!(
            browser.execute(pager_in_view, vec![]).await,
            Value::Bool(true),
            "the pager is off screen when scrolled to {at}"
        );
    }
    browser.execute("window.scrollTo(0, 0)", vec![]).await;
    assert_eq!(browser.save_screenshot("list-20-375").await, (375, 800));

    // The filters fold away on a phone; their summary opens them.
    assert_eq!(browser.property("#list-filters", "open").await, "false");
    browser.click("#list-filters > summary").await;
    assert!(browser.is_displayed("#filter-host").await);
    browser.assert_touch_targets("#list-view").await;
    browser.assert_fits_width("a page of 20").await;
    browser.assert_no_page_errors().await;
}
