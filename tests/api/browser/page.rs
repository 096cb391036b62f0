//! The dashboard's steps, through the stable hooks app.js documents at its top: CSS
//! selectors in, and a panic that names the selector when fantoccini reports an error.

use std::path::PathBuf;

use fantoccini::Locator;
use fantoccini::elements::Element;
use serde_json::{Value, json};

use super::chromedriver::{Browser, POLL, WAIT};
use crate::helpers::TestApp;

/// `target/screenshots` of the workspace.
pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).expect("create target/screenshots");
    dir.canonicalize().expect("the screenshot directory")
}

/// The row of notifier `id` in the list.
pub fn row(id: i64) -> String {
    format!("#notifier-table tr[data-id=\"{id}\"]")
}

impl Browser {
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    pub async fn refresh(&self) {
        self.client.refresh().await.expect("reload the page");
    }

    pub async fn current_url(&self) -> String {
        self.client.current_url().await.expect("the URL").into()
    }

    /// Runs `script` in the page (a function body; `arguments` are `args`).
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("the script failed: {e}\n{script}"))
    }

    /// The element `css` selects now, if any.
    pub async fn find(&self, css: &str) -> Option<Element> {
        match self.client.find(Locator::Css(css)).await {
            Ok(found) => Some(found),
            Err(e) if e.is_no_such_element() => None,
            Err(e) => panic!("find {css:?}: {e}"),
        }
    }

    /// Every element `css` selects now.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let found = self.client.find_all(Locator::Css(css)).await;
        found.unwrap_or_else(|e| panic!("find all {css:?}: {e}"))
    }

    /// The visible text of every element `css` selects now, in document order.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for el in self.find_all(css).await {
            texts.push(
                el.text()
                    .await
                    .unwrap_or_else(|e| panic!("text of {css:?}: {e}")),
            );
        }
        texts
    }

    /// The element `css` selects; panics when there is none.
    pub async fn el(&self, css: &str) -> Element {
        self.find(css)
            .await
            .unwrap_or_else(|| panic!("no element matches {css:?}"))
    }

    /// The element `css` selects, waiting for it to appear.
    pub async fn wait_for(&self, css: &str) -> Element {
        let wait = self.client.wait().at_most(WAIT).every(POLL);
        match wait.for_element(Locator::Css(css)).await {
            Ok(found) => found,
            Err(e) => {
                let body = self.execute("return document.body.outerHTML", vec![]).await;
                panic!("{css:?} did not appear within {WAIT:?} ({e}); the page:\n{body}");
            }
        }
    }

    /// Waits until nothing `css` selects is displayed (a message that fades, say).
    pub async fn wait_gone(&self, css: &str) {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let shown = match self.find(css).await {
                Some(el) => el.is_displayed().await.unwrap_or(false),
                None => false,
            };
            if !shown {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{css:?} still shown after {WAIT:?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Clicks `css` after scrolling it to the middle of the viewport: WebDriver scrolls only
    /// as far as the edge, where a sticky bar (the pager on a phone) may cover it.
    pub async fn click(&self, css: &str) {
        let el = self.el(css).await;
        self.execute(
            "arguments[0].scrollIntoView({ block: 'center', inline: 'nearest' })",
            vec![json!(el)],
        )
        .await;
        let clicked = el.click().await;
        clicked.unwrap_or_else(|e| panic!("clicking {css:?} failed: {e}"));
    }

    /// Clears the field `css` and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.el(css).await;
        el.clear()
            .await
            .unwrap_or_else(|e| panic!("clearing {css:?}: {e}"));
        self.type_into(&el, text).await;
    }

    /// Key presses into `el` (with [`fantoccini::key::Key`]s such as `Enter` in `text`).
    pub async fn type_into(&self, el: &Element, text: &str) {
        el.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing {text:?}: {e}"));
    }

    /// The rendered text of `css`.
    pub async fn text(&self, css: &str) -> String {
        let text = self.el(css).await.text().await;
        text.unwrap_or_else(|e| panic!("the text of {css:?}: {e}"))
    }

    /// A DOM property of `css` (`value`, `checked`, `open`, ...) as text ("" when unset;
    /// booleans are "true" or "false").
    pub async fn property(&self, css: &str, name: &str) -> String {
        let value = self.el(css).await.prop(name).await;
        let value = value.unwrap_or_else(|e| panic!("{css:?}.{name}: {e}"));
        value.unwrap_or_default()
    }

    pub async fn is_displayed(&self, css: &str) -> bool {
        let shown = self.el(css).await.is_displayed().await;
        shown.unwrap_or_else(|e| panic!("is {css:?} displayed: {e}"))
    }

    /// The element that has keyboard focus.
    pub async fn active_element(&self) -> Element {
        self.client
            .active_element()
            .await
            .expect("the focused element")
    }

    /// Waits until the current view is rendered and nothing is pending.
    pub async fn ready(&self) {
        self.wait_for("body[data-state=\"ready\"]").await;
    }

    /// Opens `/` of `app` (which redirects to the dashboard) and waits for it.
    pub async fn open_dashboard(&self, app: &TestApp) {
        self.goto(&app.url("/")).await;
        self.ready().await;
        assert_eq!(self.current_url().await, app.url("/dashboard/"));
    }

    /// Opens the dashboard of `app` and signs in as its admin.
    pub async fn open_as_admin(&self, app: &TestApp) {
        self.open_dashboard(app).await;
        self.sign_in(&app.admin_token).await;
    }

    /// `body[data-view]`: "signin", "list" or "deliveries".
    pub async fn view(&self) -> String {
        self.execute("return document.body.dataset.view", vec![])
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn assert_view(&self, expected: &str) {
        let view = self.view().await;
        let status = self.text("#status").await;
        assert_eq!(
            view, expected,
            "the dashboard's view; #status says {status:?}"
        );
    }

    /// Pastes `token` and presses the sign-in button; waits for the answer.
    pub async fn sign_in(&self, token: &str) {
        self.assert_view("signin").await;
        self.fill("#token-input", token).await;
        self.click("#signin-button").await;
        self.ready().await;
    }

    /// Ticks or unticks the checkbox `css`.
    pub async fn set_checked(&self, css: &str, checked: bool) {
        if self.property(css, "checked").await != checked.to_string() {
            self.click(css).await;
        }
        assert_eq!(
            self.property(css, "checked").await,
            checked.to_string(),
            "{css}"
        );
    }

    /// Fills the open notifier form with `body`'s fields (a create body of the API).
    pub async fn fill_notifier_form(&self, body: &Value) {
        for field in ["name", "host", "port", "username", "password", "from_email"] {
            let text = match &body[field] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            self.fill(&format!("#field-{field}"), &text).await;
        }
        for flag in ["use_tls", "use_ssl", "fail_silently"] {
            let on = body[flag].as_bool().expect("a boolean flag");
            self.set_checked(&format!("#field-{flag}"), on).await;
        }
    }

    pub async fn dialog_open(&self, css: &str) -> bool {
        self.property(css, "open").await == "true"
    }

    /// The `notifier.token` entry of sessionStorage, and whether anything else holds state.
    pub async fn stored_session(&self) -> Value {
        self.execute(
            "return { token: sessionStorage.getItem('notifier.token'), \
             session: sessionStorage.length, local: localStorage.length, \
             cookie: document.cookie }",
            vec![],
        )
        .await
    }

    /// Saves the viewport as `target/screenshots/dashboard-<name>.png`; returns its width and
    /// height in pixels.
    pub async fn save_screenshot(&self, name: &str) -> (u32, u32) {
        let png = self.client.screenshot().await.expect("a screenshot");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG screenshot");
        let path = screenshot_dir().join(format!("dashboard-{name}.png"));
        std::fs::write(&path, &png).expect("write the screenshot");
        let be = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
        // The IHDR chunk follows the 8-byte signature and its 8-byte header.
        (be(16), be(20))
    }

    /// No script error, `console.error` or CSP violation so far. (Failed requests the test
    /// caused on purpose, such as the 400 of a bad port, are network entries and pass.)
    pub async fn assert_no_page_errors(&self) {
        let problems: Vec<Value> = self
            .console_entries()
            .await
            .into_iter()
            .filter(|e| {
                let message = e["message"].as_str().unwrap_or_default();
                e["source"] != "network"
                    && (e["level"] == "SEVERE" || message.contains("Content Security Policy"))
            })
            .collect();
        assert!(problems.is_empty(), "the page logged errors: {problems:#?}");
    }

    /// Scrolls `css` to the middle of its scrolling box (a dialog's result line, say).
    pub async fn scroll_into_view(&self, css: &str) {
        let el = self.el(css).await;
        self.execute(
            "arguments[0].scrollIntoView({ block: 'center' })",
            vec![json!(el)],
        )
        .await;
    }

    /// Every visible button, select, text input and page link inside `scope` is at least
    /// 44 × 44 px (WCAG's enhanced target size; check boxes and radios have their labels).
    pub async fn assert_touch_targets(&self, scope: &str) {
        let small = self
            .execute(
                "return [...document.querySelectorAll(arguments[0] + ' :is(button, select, summary, \
                   input:not([type=checkbox], [type=radio]), textarea, .page-link)')] \
                   .filter((el) => el.checkVisibility() && !el.classList.contains('link-button')) \
                   .map((el) => [el.id || el.className || el.tagName, el.getBoundingClientRect()]) \
                   .filter(([, r]) => r.height < 44 || r.width < 44) \
                   .map(([name, r]) => [name, Math.round(r.width), Math.round(r.height)])",
                vec![json!(scope)],
            )
            .await;
        assert_eq!(
            small,
            json!([]),
            "{scope}: targets under 44 px ([name, width, height])"
        );
    }

    /// Nothing sticks out sideways: the page does not scroll horizontally, nor does any
    /// table (notifiers, deliveries) in its box, and any open dialog lies within the viewport.
    pub async fn assert_fits_width(&self, what: &str) {
        let measured = self
            .execute(
                "const inner = window.innerWidth; \
                 const out = [...document.querySelectorAll('dialog[open]')] \
                   .map((d) => d.getBoundingClientRect()) \
                   .filter((r) => r.left < -1 || r.right > inner + 1) \
                   .map((r) => [r.left, r.right]); \
                 const tables = [...document.querySelectorAll('.table-wrap')] \
                   .filter((wrap) => wrap.scrollWidth > wrap.clientWidth) \
                   .map((wrap) => [wrap.scrollWidth, wrap.clientWidth]); \
                 return { inner, scroll: document.documentElement.scrollWidth, out, tables };",
                vec![],
            )
            .await;
        let inner = measured["inner"].as_f64().expect("innerWidth");
        let scroll = measured["scroll"].as_f64().expect("scrollWidth");
        assert!(
            scroll <= inner,
            "{what}: the page is {scroll} px wide in a {inner} px viewport"
        );
        assert_eq!(
            measured["tables"],
            json!([]),
            "{what}: a table is wider than its box ([scrollWidth, clientWidth])"
        );
        assert_eq!(
            measured["out"],
            json!([]),
            "{what}: an open dialog sticks out of the {inner} px viewport"
        );
    }
}
