//! Debian's chromedriver as a child process, and the few W3C WebDriver commands the
//! dashboard tests use, spoken over plain HTTP on loopback with reqwest.
//!
//! (fantoccini 0.22 without its TLS features has no connector the test crate can build: its
//! `ClientBuilder::new` wants a `hyper_util` connector, and `hyper_util` is not a dependency
//! of this crate. The protocol is small enough to speak directly.)

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// The W3C key under which an element reference travels.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long a wait for the page may take before the test fails (a slow, shared machine).
pub const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(50);

/// How the browser window looks to the page.
#[derive(Debug, Clone, Copy)]
pub enum Viewport {
    /// A desktop window of this size.
    Desktop { width: u32, height: u32 },
    /// Chrome's mobile emulation: a phone-sized viewport at pixel ratio 1.
    Mobile { width: u32, height: u32 },
}

/// A WebDriver error answer (`{"value": {"error": ..., "message": ...}}`).
#[derive(Debug)]
pub struct WdError {
    pub error: String,
    pub message: String,
}

impl std::fmt::Display for WdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

/// A found element.
#[derive(Debug, Clone)]
pub struct Element {
    id: String,
    /// The selector it was found with, for failure messages.
    pub selector: String,
}

/// One chromedriver process with one Chromium session; both end when this is dropped.
pub struct Browser {
    driver: Child,
    client: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`
    session: String,
    log: PathBuf,
    _profile: TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session. `None` when chromedriver is not
    /// installed, except under `CI=true`, where that fails the test.
    pub async fn start(viewport: Viewport) -> Option<Browser> {
        if !Path::new(CHROMEDRIVER).exists() {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{CHROMEDRIVER} is not installed: CI must run the browser tests");
            }
            eprintln!("browser test did not run: chromedriver not installed");
            return None;
        }
        let profile = tempfile::tempdir().expect("a temp dir for the browser");
        let log = profile.path().join("chromedriver.log");
        let log_file = std::fs::File::create(&log).expect("create the chromedriver log");
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("clone the log file"))
            .stderr(log_file)
            .spawn()
            .expect("start chromedriver");
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("build the WebDriver client");
        let mut browser = Browser {
            driver,
            client,
            session: String::new(),
            log,
            _profile: profile,
        };
        let base = format!("http://127.0.0.1:{port}");
        browser.wait_for_driver(&base).await;
        let user_data_dir = browser._profile.path().join("chromium-profile");
        let capabilities = capabilities(viewport, &user_data_dir);
        let created = browser
            .call(
                reqwest::Method::POST,
                &format!("{base}/session"),
                Some(capabilities),
            )
            .await
            .unwrap_or_else(|e| panic!("no WebDriver session: {e}\n{}", browser.log_text()));
        let id = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId in {created}"));
        browser.session = format!("{base}/session/{id}");
        if let Viewport::Desktop { width, height } = viewport {
            browser.size_viewport(width, height).await;
        }
        Some(browser)
    }

    /// Resizes the window so that the page itself gets `width` × `height` CSS pixels
    /// (`--window-size` counts the window's own frame too).
    async fn size_viewport(&self, width: u32, height: u32) {
        let inner = "return [window.innerWidth, window.innerHeight, \
                     window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]";
        let measured = self.execute(inner, vec![]).await;
        let frame = (n_of(&measured, 2), n_of(&measured, 3));
        let rect =
            json!({ "width": u64::from(width) + frame.0, "height": u64::from(height) + frame.1 });
        self.cmd(reqwest::Method::POST, "/window/rect", Some(rect))
            .await;
        let measured = self.execute(inner, vec![]).await;
        assert_eq!(
            (n_of(&measured, 0), n_of(&measured, 1)),
            (u64::from(width), u64::from(height)),
            "the viewport after resizing the window"
        );
    }

    async fn wait_for_driver(&mut self, base: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(Some(status)) = self.driver.try_wait() {
                panic!("chromedriver exited ({status}):\n{}", self.log_text());
            }
            let status = self.client.get(format!("{base}/status")).send().await;
            if let Ok(response) = status
                && response
                    .json::<Value>()
                    .await
                    .is_ok_and(|b| b["value"]["ready"] == true)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver was not ready in {WAIT:?}:\n{}",
                self.log_text()
            );
            tokio::time::sleep(POLL).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// One command; the answer's `value`, or the WebDriver error.
    async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Value>,
    ) -> Result<Value, WdError> {
        let mut request = self.client.request(method.clone(), url);
        // POST commands always carry a JSON object, even an empty one.
        if method == reqwest::Method::POST {
            request = request.json(&body.unwrap_or_else(|| json!({})));
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let ok = response.status().is_success();
        let answer: Value = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: an answer that is not JSON: {e}"));
        let value = answer["value"].clone();
        if ok {
            Ok(value)
        } else {
            Err(WdError {
                error: value["error"].as_str().unwrap_or("?").to_owned(),
                message: value["message"].as_str().unwrap_or("").to_owned(),
            })
        }
    }

    /// A session command (`path` after `/session/ID`) that must succeed.
    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.session);
        self.call(method.clone(), &url, body)
            .await
            .unwrap_or_else(|e| panic!("WebDriver {method} {path} failed: {e}"))
    }

    pub async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    pub async fn refresh(&self) {
        self.cmd(reqwest::Method::POST, "/refresh", None).await;
    }

    pub async fn current_url(&self) -> String {
        let url = self.cmd(reqwest::Method::GET, "/url", None).await;
        url.as_str().expect("a URL string").to_owned()
    }

    /// The element `css` selects now, if any.
    pub async fn find(&self, css: &str) -> Option<Element> {
        let url = format!("{}/element", self.session);
        let query = json!({ "using": "css selector", "value": css });
        match self.call(reqwest::Method::POST, &url, Some(query)).await {
            Ok(value) => Some(element(value, css)),
            Err(e) if e.error == "no such element" => None,
            Err(e) => panic!("find {css:?}: {e}"),
        }
    }

    /// Every element `css` selects now.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let query = json!({ "using": "css selector", "value": css });
        let found = self
            .cmd(reqwest::Method::POST, "/elements", Some(query))
            .await;
        found
            .as_array()
            .expect("a list of elements")
            .iter()
            .map(|v| element(v.clone(), css))
            .collect()
    }

    /// The element `css` selects, waiting for it to appear.
    pub async fn wait_for(&self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(found) = self.find(css).await {
                return found;
            }
            if Instant::now() >= deadline {
                let body = self.execute("return document.body.outerHTML", vec![]).await;
                panic!("{css:?} did not appear within {WAIT:?}; the page:\n{body}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The element `css` selects; panics when there is none.
    pub async fn el(&self, css: &str) -> Element {
        self.find(css)
            .await
            .unwrap_or_else(|| panic!("no element matches {css:?}"))
    }

    pub async fn click(&self, css: &str) {
        let el = self.el(css).await;
        self.click_el(&el).await;
    }

    pub async fn click_el(&self, el: &Element) {
        let url = format!("{}/element/{}/click", self.session, el.id);
        if let Err(e) = self.call(reqwest::Method::POST, &url, None).await {
            panic!("clicking {:?} failed: {e}", el.selector);
        }
    }

    /// Clears the field `css` and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.el(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{}/clear", el.id),
            None,
        )
        .await;
        self.type_into(&el, text).await;
    }

    /// Key presses into `el` (WebDriver key codes such as `\u{E007}`, Enter, included).
    pub async fn type_into(&self, el: &Element, text: &str) {
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{}/value", el.id),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// The rendered text of `css`.
    pub async fn text(&self, css: &str) -> String {
        let el = self.el(css).await;
        let text = self
            .cmd(
                reqwest::Method::GET,
                &format!("/element/{}/text", el.id),
                None,
            )
            .await;
        text.as_str().unwrap_or_default().to_owned()
    }

    /// A DOM property of `css` (`value`, `checked`, `open`, ...).
    pub async fn property(&self, css: &str, name: &str) -> Value {
        let el = self.el(css).await;
        self.cmd(
            reqwest::Method::GET,
            &format!("/element/{}/property/{name}", el.id),
            None,
        )
        .await
    }

    pub async fn is_displayed(&self, css: &str) -> bool {
        let el = self.el(css).await;
        let shown = self
            .cmd(
                reqwest::Method::GET,
                &format!("/element/{}/displayed", el.id),
                None,
            )
            .await;
        shown == true
    }

    /// The element that has keyboard focus.
    pub async fn active_element(&self) -> Element {
        let value = self
            .cmd(reqwest::Method::GET, "/element/active", None)
            .await;
        element(value, ":focus")
    }

    /// Whether two references name the same element.
    pub async fn same_element(&self, a: &Element, b: &Element) -> bool {
        let script = "return arguments[0] === arguments[1]";
        self.execute(script, vec![a.to_json(), b.to_json()]).await == true
    }

    /// Runs `script` in the page (a function body; `arguments` are `args`).
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        let body = json!({ "script": script, "args": args });
        self.cmd(reqwest::Method::POST, "/execute/sync", Some(body))
            .await
    }

    /// The browser console's entries since the last call (chromedriver's log endpoint):
    /// `{"level", "message", "source"}` each.
    pub async fn console_entries(&self) -> Vec<Value> {
        let body = json!({ "type": "browser" });
        let entries = self.cmd(reqwest::Method::POST, "/se/log", Some(body)).await;
        entries.as_array().cloned().unwrap_or_default()
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        let encoded = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        base64_decode(encoded.as_str().expect("base64 PNG data"))
    }
}

impl Element {
    pub fn to_json(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }
}

fn n_of(list: &Value, i: usize) -> u64 {
    list[i].as_u64().expect("a window dimension")
}

fn element(value: Value, css: &str) -> Element {
    let id = value[ELEMENT_KEY]
        .as_str()
        .unwrap_or_else(|| panic!("not an element reference for {css:?}: {value}"));
    Element {
        id: id.to_owned(),
        selector: css.to_owned(),
    }
}

fn capabilities(viewport: Viewport, user_data_dir: &Path) -> Value {
    let mut args = vec![
        "--headless=new".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--no-first-run".to_owned(),
        format!("--user-data-dir={}", user_data_dir.display()),
    ];
    let mut options = json!({ "binary": CHROMIUM });
    match viewport {
        Viewport::Desktop { width, height } => {
            args.push(format!("--window-size={width},{height}"));
        }
        Viewport::Mobile { width, height } => {
            args.push("--window-size=1280,800".to_owned());
            options["mobileEmulation"] = json!({
                "deviceMetrics": { "width": width, "height": height, "pixelRatio": 1 }
            });
        }
    }
    options["args"] = json!(args);
    json!({
        "capabilities": {
            "alwaysMatch": {
                "browserName": "chrome",
                "goog:loggingPrefs": { "browser": "ALL" },
                "goog:chromeOptions": options
            }
        }
    })
}

/// A port that was free a moment ago, for chromedriver's `--port`.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("the local address").port()
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session closes Chromium; then chromedriver goes. This runs on a thread
        // of its own because drop may run inside the test's runtime.
        if !self.session.is_empty() {
            let session = self.session.clone();
            let ended = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                runtime.block_on(async {
                    let client = reqwest::Client::builder()
                        .no_proxy()
                        .timeout(Duration::from_secs(20))
                        .build()
                        .ok()?;
                    client.delete(&session).send().await.ok()
                })
            })
            .join();
            if !matches!(ended, Ok(Some(_))) {
                eprintln!("could not end the WebDriver session {}", self.session);
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Standard base64 (with padding), as WebDriver sends screenshots.
fn base64_decode(text: &str) -> Vec<u8> {
    fn sextet(c: u8) -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c:?}"),
        }
    }
    let clean: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let bits = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &c)| acc | (sextet(c) << (18 - 6 * i)));
        let bytes = bits.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64_decode;

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(base64_decode("TWFu"), b"Man");
        assert_eq!(base64_decode("TWE="), b"Ma");
        assert_eq!(base64_decode("TQ=="), b"M");
        assert_eq!(base64_decode("iVBORw0KGgo="), b"\x89PNG\r\n\x1a\n");
    }
}
