//! §8 the staff dashboard as served: redirects, security headers, caching, compression,
//! size, and nothing fetched from another host. (What it does in a browser: browser.rs.)
//! The assets do not depend on the database, so these run on SQLite only.

use std::io::Write;
use std::process::{Command, Stdio};

use reqwest::Method;

use crate::helpers::*;

const PAGE: &str = "/dashboard/";
const SCRIPT: &str = "/dashboard/app.js";
const STYLESHEET: &str = "/dashboard/style.css";

/// Each asset with the media type it must be served as.
const ASSETS: [(&str, &str); 3] = [
    (PAGE, "text/html"),
    (SCRIPT, "text/javascript"),
    (STYLESHEET, "text/css"),
];

async fn app() -> TestApp {
    spawn_app(Backend::Sqlite).await
}

async fn fetch(app: &TestApp, path: &str) -> Resp {
    app.raw("GET", path, None, None, "").await
}

/// The media type without parameters, lower-cased.
fn media_type(resp: &Resp) -> String {
    resp.header("content-type")
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_and_bare_dashboard_redirect_to_the_page() {
    let app = app().await;

    for path in ["/", "/dashboard"] {
        let resp = fetch(&app, path).await;

        assert_eq!(resp.status, 302, "{}: {resp:?}", resp.request);
        assert_eq!(resp.header("location"), Some(PAGE), "{}", resp.request);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_is_html_with_security_headers() {
    let app = app().await;

    let resp = fetch(&app, PAGE).await;

    assert_status(&resp, 200);
    assert_eq!(media_type(&resp), "text/html");
    let csp = resp
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("no Content-Security-Policy: {:?}", resp.headers));
    for directive in ["default-src 'self'", "frame-ancestors 'none'"] {
        assert!(csp.contains(directive), "CSP {csp:?} lacks {directive:?}");
    }
    // "Plus what the page needs from 'self' only": no other host, no inline code.
    for loosening in [
        "http:",
        "https:",
        "*",
        "'unsafe-inline'",
        "'unsafe-eval'",
        "data:",
    ] {
        assert!(!csp.contains(loosening), "CSP {csp:?} allows {loosening}");
    }
    assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(resp.header("referrer-policy"), Some("no-referrer"));
    assert!(resp.text.contains("<html"), "{}", resp.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_asset_has_its_media_type_and_nosniff() {
    let app = app().await;

    for (path, expected) in ASSETS {
        let resp = fetch(&app, path).await;

        assert_status(&resp, 200);
        assert_eq!(media_type(&resp), expected, "{path}");
        // nosniff makes the browser hold the script and the stylesheet to these types.
        assert_eq!(
            resp.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert!(!resp.text.is_empty(), "{path} is empty");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_needs_no_token() {
    let app = app().await;

    for (path, _) in ASSETS {
        let resp = app
            .raw("GET", path, Some("Token not-a-real-one"), None, "")
            .await;

        // The API behind it decides; the page itself is public and ignores a bad token.
        assert_status(&resp, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etag_revalidation_answers_304() {
    let app = app().await;

    for (path, _) in ASSETS {
        let first = fetch(&app, path).await;
        let etag = first
            .header("etag")
            .unwrap_or_else(|| panic!("{path} has no ETag: {:?}", first.headers))
            .to_owned();

        let again = app
            .send(
                app.request(Method::GET, path)
                    .header("if-none-match", &etag),
            )
            .await;
        let among_others = app
            .send(
                app.request(Method::GET, path)
                    .header("if-none-match", format!("\"nope\", {etag}")),
            )
            .await;
        let stale = app
            .send(
                app.request(Method::GET, path)
                    .header("if-none-match", "\"0000000000000000\""),
            )
            .await;

        assert_eq!(again.status, 304, "{path} with its own ETag");
        assert!(again.text.is_empty(), "a 304 has no body: {again:?}");
        assert_eq!(again.header("etag"), Some(etag.as_str()), "{path}");
        assert_eq!(among_others.status, 304, "{path} with its ETag in a list");
        assert_eq!(stale.status, 200, "{path} with another ETag");
        assert_eq!(stale.text, first.text, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etags_differ_between_assets() {
    let app = app().await;
    let mut tags = Vec::new();

    for (path, _) in ASSETS {
        tags.push(fetch(&app, path).await.header("etag").map(str::to_owned));
    }

    tags.sort();
    tags.dedup();
    assert_eq!(tags.len(), ASSETS.len(), "{tags:?}");
}

/// `gzip -dc`: the test crate has no inflate of its own.
fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut child = Command::new("gzip")
        .arg("-dc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gzip -dc");
    let mut stdin = child.stdin.take().expect("gzip's stdin");
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().expect("wait for gzip");
    writer
        .join()
        .expect("the writer thread")
        .expect("write to gzip");
    assert!(
        output.status.success(),
        "gzip -dc failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_are_gzip_compressed_on_request() {
    let app = app().await;

    for (path, expected_type) in ASSETS {
        let plain = fetch(&app, path).await;
        // Read as bytes: this client does not decompress.
        let response = app
            .request(Method::GET, path)
            .header("accept-encoding", "gzip")
            .send()
            .await
            .expect("a request for the asset");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("read the body").to_vec();

        assert_eq!(status, 200, "{path}");
        assert_eq!(
            headers
                .get("content-encoding")
                .map(|v| v.to_str().unwrap_or("")),
            Some("gzip"),
            "{path}: {headers:?}"
        );
        assert!(body.starts_with(&[0x1f, 0x8b]), "{path}: not a gzip stream");
        assert!(
            body.len() < plain.text.len(),
            "{path}: {} compressed bytes for {} plain",
            body.len(),
            plain.text.len()
        );
        assert_eq!(
            String::from_utf8(gunzip(&body)).expect("UTF-8 text"),
            plain.text,
            "{path} decompresses to the plain body"
        );
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(content_type.starts_with(expected_type), "{path}");
        // The plain answer is not compressed.
        assert_eq!(plain.header("content-encoding"), None, "{path}");
    }
}

/// What a browser downloads is the gzip answer (the plain one bounds memory and parsing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_three_assets_weigh_less_than_64_kb_compressed() {
    let app = app().await;
    let (mut plain, mut compressed) = (0, 0);

    for (path, _) in ASSETS {
        plain += fetch(&app, path).await.text.len();
        let gzipped = app
            .request(Method::GET, path)
            .header("accept-encoding", "gzip")
            .send()
            .await
            .expect("the gzip answer");
        compressed += gzipped.bytes().await.expect("its body").len();
    }

    assert!(
        compressed < 64 * 1024,
        "the dashboard sends {compressed} bytes"
    );
    assert!(plain < 192 * 1024, "the dashboard weighs {plain} bytes");
}

/// Every place `text` names a URL: `src=`, `href=`, `action=`, `url(`, `fetch(`, `import`.
fn references(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let lower = text.to_ascii_lowercase();
    for marker in [
        "src=", "href=", "action=", "url(", "fetch(", "import(", "import ", "from ",
    ] {
        let mut from = 0;
        while let Some(at) = lower[from..].find(marker) {
            let start = from + at + marker.len();
            let rest = text[start..].trim_start();
            let target: String = match rest.chars().next() {
                Some(quote @ ('"' | '\'' | '`')) => {
                    rest[1..].chars().take_while(|&c| c != quote).collect()
                }
                _ => rest
                    .chars()
                    .take_while(|&c| !c.is_whitespace() && !matches!(c, ')' | '>' | ';' | ','))
                    .collect(),
            };
            found.push(target);
            from = start;
        }
    }
    found
}

/// A reference that leaves the origin: a scheme with a host, or protocol-relative `//host`.
fn leaves_the_origin(target: &str) -> bool {
    let t = target.trim().to_ascii_lowercase();
    t.starts_with("//") || t.contains("://") || t.starts_with("http:") || t.starts_with("https:")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_comes_from_another_host() {
    let app = app().await;

    for (path, _) in ASSETS {
        let body = fetch(&app, path).await.text;

        // No absolute URL anywhere, not even in a comment or a string.
        for scheme in ["http://", "https://"] {
            assert!(
                !body.to_ascii_lowercase().contains(scheme),
                "{path} contains {scheme}: {}",
                around(&body, scheme)
            );
        }
        // No protocol-relative URL in a quote, an attribute or url().
        for opener in ["\"//", "'//", "`//", "(//", "=//"] {
            assert!(
                !body.contains(opener),
                "{path} contains a protocol-relative URL: {}",
                around(&body, opener)
            );
        }
        for target in references(&body) {
            assert!(
                !leaves_the_origin(&target),
                "{path} references {target:?} on another host"
            );
        }
    }
}

/// The page's own references all resolve on this server, relative to /dashboard/.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_references_only_what_is_served() {
    let app = app().await;
    let page = fetch(&app, PAGE).await.text;
    let lower = page.to_ascii_lowercase();
    let mut assets = Vec::new();

    for marker in ["src=", "href="] {
        let mut from = 0;
        while let Some(at) = lower[from..].find(marker) {
            let start = from + at + marker.len();
            let rest = &page[start..];
            let quote = rest.chars().next().expect("an attribute value");
            let value: String = rest[1..].chars().take_while(|&c| c != quote).collect();
            if !value.starts_with('#') {
                assets.push(value);
            }
            from = start;
        }
    }

    assets.sort();
    assert_eq!(assets, ["app.js", "style.css"], "the page's references");
    for asset in assets {
        assert_status(&fetch(&app, &format!("{PAGE}{asset}")).await, 200);
    }
}

/// The CSP forbids inline script and inline style: the page must not rely on them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_has_no_inline_script_or_style() {
    let app = app().await;
    let page = fetch(&app, PAGE).await.text;
    let lower = page.to_ascii_lowercase();

    assert!(!lower.contains("<style"), "a <style> element");
    assert!(!lower.contains(" style="), "a style attribute");
    for (at, _) in lower.match_indices("<script") {
        let tag_end = at + lower[at..].find('>').expect("a closed script tag");
        assert!(
            lower[at..tag_end].contains(" src="),
            "an inline script: {}",
            &page[at..tag_end]
        );
        assert!(
            lower[tag_end + 1..].trim_start().starts_with("</script>"),
            "a script with a src and a body"
        );
    }
    for handler in [
        " onclick=",
        " onload=",
        " onsubmit=",
        " oninput=",
        " onchange=",
    ] {
        assert!(!lower.contains(handler), "an inline handler {handler}");
    }
}

/// "Every input labelled": each input, select and textarea has a `<label for=...>`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_input_has_a_label() {
    let app = app().await;
    let page = fetch(&app, PAGE).await.text;
    let mut ids = Vec::new();

    for tag in ["<input", "<select", "<textarea"] {
        for (at, _) in page.match_indices(tag) {
            let end = at + page[at..].find('>').expect("a closed tag");
            let element = &page[at..end];
            let id = element
                .split_once(" id=\"")
                .and_then(|(_, rest)| rest.split_once('"'))
                .map(|(id, _)| id.to_owned())
                .unwrap_or_else(|| panic!("an input without an id: {element}"));
            ids.push(id);
        }
    }

    assert!(ids.len() >= 20, "expected the form inputs, found {ids:?}");
    for id in ids {
        assert!(
            page.contains(&format!("<label for=\"{id}\"")),
            "#{id} has no <label for>"
        );
    }
}

/// A few characters either side of the first `needle`, for a failure message.
fn around<'a>(text: &'a str, needle: &str) -> &'a str {
    let at = text.find(needle).unwrap_or(0);
    let start = text[..at]
        .char_indices()
        .rev()
        .nth(40)
        .map_or(0, |(i, _)| i);
    let end = text[at..]
        .char_indices()
        .nth(80)
        .map_or(text.len(), |(i, _)| at + i);
    &text[start..end]
}
