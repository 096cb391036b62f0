//! Paths, request bodies and the expected shape of a notifier.

use std::fmt::Display;

use serde_json::{Map, Value, json};

use super::app::TestApp;
use super::http::{Resp, assert_status, token_header};

pub const NOTIFIERS: &str = "/api/notifications/notifiers/email";
pub const DELIVERIES: &str = "/api/notifications/deliveries";
pub const MASK: &str = "********";
pub const NOT_FOUND_NOTIFIER: &str = "No EmailNotifier matches the given query.";
pub const FORBIDDEN: &str = "You do not have permission to perform this action.";
pub const NOT_AUTHENTICATED: &str = "Authentication credentials were not provided.";
pub const NAME_TAKEN: &str = "email notifier with this name already exists.";
/// The permission codes of the `EmailNotifierPermission` family.
pub const ALL_CODES: [u16; 6] = [2830, 2831, 2832, 2833, 2834, 2835];

pub fn notifier_path(id: impl Display) -> String {
    format!("{NOTIFIERS}/{id}")
}

/// The create example of the original API reference.
pub fn reference_create_body() -> Value {
    json!({
        "name": "hamgam_mail",
        "host": "mail.hamgam.online",
        "port": 887,
        "username": "info",
        "password": "somepassword",
        "from_email": "info@hamgam.online",
        "use_tls": true,
        "use_ssl": true,
        "fail_silently": false
    })
}

/// A complete, valid create body named `name`.
pub fn notifier_body(name: &str) -> Value {
    json!({
        "name": name,
        "host": "smtp.example.com",
        "port": 2525,
        "username": "mailer",
        "password": "hunter2-password",
        "from_email": "noreply@example.com",
        "use_tls": true,
        "use_ssl": false,
        "fail_silently": false
    })
}

/// `body` with `changes` applied key by key (a `null` value removes the key).
pub fn with(body: &Value, changes: Value) -> Value {
    let mut out = body.as_object().expect("an object body").clone();
    for (key, value) in changes.as_object().expect("an object of changes") {
        if value.is_null() {
            out.remove(key);
        } else {
            out.insert(key.clone(), value.clone());
        }
    }
    Value::Object(out)
}

/// `body` with exactly one key set, even to JSON null.
pub fn with_field(body: &Value, key: &str, value: Value) -> Value {
    let mut out = body.as_object().expect("an object body").clone();
    out.insert(key.to_owned(), value);
    Value::Object(out)
}

/// The fields a response shows for a full create body: the same values, password masked.
pub fn shown(body: &Value) -> Value {
    with(body, json!({ "password": MASK }))
}

/// The whole notifier `actual` should be: `id`, then `fields` (name … fail_silently) in
/// contract order, then `created_at` and `updated_at`. The server-made values (id and the
/// timestamps) come from `actual` after their shape is checked.
#[track_caller]
pub fn expected_notifier(actual: &Value, fields: &Value) -> Value {
    let id = &actual["id"];
    assert!(
        id.as_i64().is_some_and(|id| id > 0),
        "id should be a positive integer: {actual}"
    );
    let created_at = timestamp(actual, "created_at");
    let updated_at = timestamp(actual, "updated_at");
    let mut out = Map::new();
    out.insert("id".into(), id.clone());
    for key in [
        "name",
        "host",
        "port",
        "username",
        "password",
        "from_email",
        "use_tls",
        "use_ssl",
        "fail_silently",
    ] {
        let value = fields
            .get(key)
            .unwrap_or_else(|| panic!("expected fields lack {key}: {fields}"));
        out.insert(key.into(), value.clone());
    }
    out.insert("created_at".into(), Value::String(created_at.into()));
    out.insert("updated_at".into(), Value::String(updated_at.into()));
    Value::Object(out)
}

/// `value[key]` as a timestamp string; panics unless it is `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
#[track_caller]
pub fn timestamp<'a>(value: &'a Value, key: &str) -> &'a str {
    let text = value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} should be a string: {value}"));
    assert!(
        is_utc_micros(text),
        "{key} should look like 2025-12-28T17:43:38.130046Z, got {text:?}"
    );
    text
}

fn is_utc_micros(text: &str) -> bool {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd.ddddddZ";
    text.len() == SHAPE.len()
        && text.bytes().zip(SHAPE).all(|(b, &s)| match s {
            b'd' => b.is_ascii_digit(),
            other => b == other,
        })
}

pub fn id_of(notifier: &Value) -> i64 {
    notifier["id"].as_i64().expect("a notifier id")
}

pub fn delivery_path(id: impl Display) -> String {
    format!("{DELIVERIES}/{id}")
}

impl TestApp {
    /// `/send` of `body` through `notifier` with `Prefer: respond-async` (queued, 202).
    pub async fn send_queued(&self, notifier: i64, body: &Value, token: &str) -> Resp {
        self.send(
            self.request(
                reqwest::Method::POST,
                &format!("{}/send", notifier_path(notifier)),
            )
            .header(reqwest::header::AUTHORIZATION, token_header(token))
            .header("Prefer", "respond-async")
            .json(body),
        )
        .await
    }

    /// POSTs `body` as the admin and returns the created notifier; anything but 201 panics.
    pub async fn create_notifier(&self, body: &Value) -> Value {
        let resp = self.post_json(NOTIFIERS, body, &self.admin_token).await;
        assert_status(&resp, 201);
        resp.json()
    }

    /// Creates `notifier_body(name)`.
    pub async fn create_named(&self, name: &str) -> Value {
        self.create_notifier(&notifier_body(name)).await
    }
}

#[cfg(test)]
mod tests {
    use super::is_utc_micros;

    #[test]
    fn timestamp_shape_needs_microseconds_and_z() {
        assert!(is_utc_micros("2025-12-28T17:43:38.130046Z"));
        for bad in [
            "2025-12-28T17:43:38Z",
            "2025-12-28T17:43:38.130Z",
            "2025-12-28T17:43:38.130046+00:00",
            "2025-12-28 17:43:38.130046Z",
        ] {
            assert!(!is_utc_micros(bad), "{bad}");
        }
    }
}
