//! The dashboard's steps, through the stable hooks app.js documents at its top.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::webdriver::Browser;
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

    /// `body[data-view]`: "signin" or "list".
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
        if self.property(css, "checked").await != checked {
            self.click(css).await;
        }
        assert_eq!(self.property(css, "checked").await, checked, "{css}");
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
        self.property(css, "open").await == true
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
        let png = self.screenshot().await;
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
            vec![el.to_json()],
        )
        .await;
    }

    /// Nothing sticks out sideways: the page does not scroll horizontally and any open
    /// dialog lies within the viewport.
    pub async fn assert_fits_width(&self, what: &str) {
        let measured = self
            .execute(
                "const inner = window.innerWidth; \
                 const out = [...document.querySelectorAll('dialog[open]')] \
                   .map((d) => d.getBoundingClientRect()) \
                   .filter((r) => r.left < -1 || r.right > inner + 1) \
                   .map((r) => [r.left, r.right]); \
                 return { inner, scroll: document.documentElement.scrollWidth, out };",
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
            measured["out"],
            json!([]),
            "{what}: an open dialog sticks out of the {inner} px viewport"
        );
    }
}
