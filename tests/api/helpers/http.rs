//! Requests to a `TestApp` and whole-response assertions.

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap};
use reqwest::{Method, RequestBuilder};
use serde_json::Value;

use super::app::TestApp;

/// A response read whole, with the request it answers (for failure messages).
#[derive(Debug)]
pub struct Resp {
    pub request: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Resp {
    /// The body as JSON; panics with the whole response when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| {
            panic!(
                "{} answered a body that is not JSON ({e}): {self:?}",
                self.request
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("header is not text"))
    }
}

/// `Authorization: Token <key>`.
pub fn token_header(token: &str) -> String {
    format!("Token {token}")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A request to build on; send it with [`TestApp::send`].
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub async fn send(&self, request: RequestBuilder) -> Resp {
        let built = request.build().expect("build the request");
        let label = format!("{} {}", built.method(), built.url());
        let response = self
            .client
            .execute(built)
            .await
            .unwrap_or_else(|e| panic!("{label} failed: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("read the response body");
        Resp {
            request: label,
            status,
            headers,
            text,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.send(
            self.request(Method::GET, path)
                .header(AUTHORIZATION, token_header(token)),
        )
        .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        self.send(
            self.request(Method::DELETE, path)
                .header(AUTHORIZATION, token_header(token)),
        )
        .await
    }

    pub async fn post_json(&self, path: &str, body: &Value, token: &str) -> Resp {
        self.json_request(Method::POST, path, body, token).await
    }

    pub async fn patch_json(&self, path: &str, body: &Value, token: &str) -> Resp {
        self.json_request(Method::PATCH, path, body, token).await
    }

    pub async fn put_json(&self, path: &str, body: &Value, token: &str) -> Resp {
        self.json_request(Method::PUT, path, body, token).await
    }

    async fn json_request(&self, method: Method, path: &str, body: &Value, token: &str) -> Resp {
        self.send(
            self.request(method, path)
                .header(AUTHORIZATION, token_header(token))
                .json(body),
        )
        .await
    }

    /// Any method and path, with an exact `Authorization` value (or none), an exact
    /// `Content-Type` (or none) and raw body bytes.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<Vec<u8>>,
    ) -> Resp {
        let method = Method::from_bytes(method.as_bytes()).expect("a valid method");
        let mut request = self.request(method, path);
        if let Some(value) = authorization {
            request = request.header(AUTHORIZATION, value);
        }
        if let Some(value) = content_type {
            request = request.header(CONTENT_TYPE, value);
        }
        let body = body.into();
        if !body.is_empty() {
            request = request.body(body);
        }
        self.send(request).await
    }

    /// Like [`TestApp::raw`] with the admin's token.
    pub async fn raw_as_admin(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<Vec<u8>>,
    ) -> Resp {
        let auth = token_header(&self.admin_token);
        self.raw(method, path, Some(&auth), content_type, body)
            .await
    }
}

/// Status and body text exactly: `expected` serialized compactly with its key order,
/// which is how DRF renders JSON. JSON content type too.
#[track_caller]
pub fn assert_json(resp: &Resp, status: u16, expected: &Value) {
    let expected_text = serde_json::to_string(expected).expect("serialize the expected body");
    assert_eq!(
        (resp.status, resp.text.as_str()),
        (status, expected_text.as_str()),
        "{} answered with an unexpected status or body",
        resp.request
    );
    assert_json_content_type(resp);
}

/// `{"detail": "<detail>"}` with `status`.
#[track_caller]
pub fn assert_detail(resp: &Resp, status: u16, detail: &str) {
    assert_json(resp, status, &serde_json::json!({ "detail": detail }));
}

/// A `/send` whose SMTP exchange failed after its delivery was recorded: 502, exactly
/// `{"detail": detail, "delivery": <id>, "request_id": <its X-Request-Id>}` (§12: a 5xx
/// body names its request), and `Location` naming that delivery. Returns the id.
#[track_caller]
pub fn assert_send_failed(resp: &Resp, detail: &str) -> i64 {
    let delivery = resp.json()["delivery"]
        .as_i64()
        .unwrap_or_else(|| panic!("a failed send should name its delivery: {}", resp.text));
    let request_id = resp.header("x-request-id");
    assert_json(
        resp,
        502,
        &serde_json::json!({ "detail": detail, "delivery": delivery, "request_id": request_id }),
    );
    assert_delivery_location(resp, delivery);
    delivery
}

/// `Location` is the absolute URL of delivery `id`.
#[track_caller]
pub fn assert_delivery_location(resp: &Resp, id: i64) {
    let location = resp.header("location").unwrap_or_default();
    assert!(
        location.starts_with("http")
            && location.ends_with(&format!("/api/notifications/deliveries/{id}")),
        "{} answered Location {location:?}, expected delivery {id}",
        resp.request
    );
}

#[track_caller]
pub fn assert_json_content_type(resp: &Resp) {
    let content_type = resp.header("content-type").unwrap_or("");
    assert!(
        content_type.starts_with("application/json"),
        "{} answered Content-Type {content_type:?}, expected application/json",
        resp.request
    );
}

#[track_caller]
pub fn assert_status(resp: &Resp, status: u16) {
    assert_eq!(
        resp.status, status,
        "{} answered an unexpected status; body: {}",
        resp.request, resp.text
    );
}
