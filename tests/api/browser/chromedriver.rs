//! Debian's chromedriver as a child process on a free loopback port, and one headless
//! Chromium session on it through fantoccini (plain HTTP, so no TLS connector).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::TempDir;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// How long a wait for the page may take before the test fails (a slow, shared machine).
pub const WAIT: Duration = Duration::from_secs(30);
pub const POLL: Duration = Duration::from_millis(50);

/// How the browser window looks to the page.
#[derive(Debug, Clone, Copy)]
pub enum Viewport {
    /// A desktop window of this size.
    Desktop { width: u32, height: u32 },
    /// Chrome's mobile emulation: a phone-sized viewport at pixel ratio 1.
    Mobile { width: u32, height: u32 },
}

/// The chromedriver process, killed when dropped, with its log and Chromium's profile.
struct Driver {
    child: Child,
    log: PathBuf,
    _profile: TempDir,
}

/// One chromedriver process with one Chromium session; both end when this is dropped.
/// The selector-level steps are in `page.rs`.
pub struct Browser {
    pub client: Client,
    /// Dropped after `client`'s session is closed (see `Drop for Browser`).
    _driver: Driver,
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
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("clone the log file"))
            .stderr(log_file)
            .spawn()
            .expect("start chromedriver");
        let mut driver = Driver {
            child,
            log,
            _profile: profile,
        };
        driver.wait_until_listening(port).await;

        let user_data_dir = driver._profile.path().join("chromium-profile");
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities(viewport, &user_data_dir))
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| panic!("no WebDriver session: {e}\n{}", driver.log_text()));
        let browser = Browser {
            client,
            _driver: driver,
        };
        if let Viewport::Desktop { width, height } = viewport {
            browser.size_viewport(width, height).await;
        }
        Some(browser)
    }

    /// Resizes the window so that the page itself gets `width` × `height` CSS pixels
    /// (`--window-size` counts the window's own frame too).
    async fn size_viewport(&self, width: u32, height: u32) {
        let measure = "return [innerWidth, innerHeight, \
                       outerWidth - innerWidth, outerHeight - innerHeight]";
        let n = |v: &Value, i: usize| {
            let n = v[i].as_u64().expect("a window dimension");
            u32::try_from(n).expect("a window dimension in range")
        };
        let measured = self.execute(measure, vec![]).await;
        let (frame_w, frame_h) = (n(&measured, 2), n(&measured, 3));
        self.client
            .set_window_size(width + frame_w, height + frame_h)
            .await
            .expect("resize the window");
        let measured = self.execute(measure, vec![]).await;
        assert_eq!(
            (n(&measured, 0), n(&measured, 1)),
            (width, height),
            "the viewport after resizing the window"
        );
    }

    /// The browser console's entries since the last call (chromedriver's log endpoint, which
    /// fantoccini does not wrap): `{"level", "message", "source"}` each.
    pub async fn console_entries(&self) -> Vec<Value> {
        let entries = self
            .client
            .issue_cmd(BrowserLog)
            .await
            .unwrap_or_else(|e| panic!("reading the browser log failed: {e}"));
        entries.as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // End the session (which closes Chromium) before `_driver` kills chromedriver.
        // fantoccini's session task runs on the test's multi-threaded runtime, which may be
        // the one dropping us, so wait for the close on a thread and runtime of its own.
        let client = self.client.clone();
        let closed = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime
                .block_on(async {
                    tokio::time::timeout(Duration::from_secs(20), client.close()).await
                })
                .ok()?
                .ok()
        })
        .join();
        if !matches!(closed, Ok(Some(()))) {
            eprintln!("could not end the WebDriver session");
        }
    }
}

impl Driver {
    /// Waits until chromedriver accepts connections on `port`.
    async fn wait_until_listening(&mut self, port: u16) {
        let deadline = Instant::now() + WAIT;
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chromedriver exited ({status}):\n{}", self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver was not listening after {WAIT:?}:\n{}",
                self.log_text()
            );
            tokio::time::sleep(POLL).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `POST /session/{id}/se/log` for the `browser` log (needs `goog:loggingPrefs`).
#[derive(Debug)]
struct BrowserLog;

/// `url::ParseError`: `reqwest` re-exports the `url` and `http` types fantoccini's command
/// trait uses, so they need no dependency of their own.
type ParseError = <reqwest::Url as std::str::FromStr>::Err;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &reqwest::Url,
        session: Option<&str>,
    ) -> Result<reqwest::Url, ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &reqwest::Url) -> (reqwest::Method, Option<String>) {
        (
            reqwest::Method::POST,
            Some(json!({ "type": "browser" }).to_string()),
        )
    }
}

fn capabilities(viewport: Viewport, user_data_dir: &Path) -> Capabilities {
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
    let capabilities = json!({
        "browserName": "chrome",
        "goog:loggingPrefs": { "browser": "ALL" },
        "goog:chromeOptions": options
    });
    match capabilities {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object"),
    }
}

/// A port that was free a moment ago, for chromedriver's `--port`.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("the local address").port()
}
