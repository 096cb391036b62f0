//! How a notifier logs in to its SMTP server: its `/authentication` sub-resource
//! (docs/API.md §2). Kept apart from the notifier itself, so the notifier's body, its
//! cached answers and its `updated_at` never change with it.

use serde_json::{Map, Value, json};

use crate::coerce;
use crate::error::{FieldErrors, messages};

/// A notifier's authentication method; a notifier without a stored one uses
/// [`Authentication::Password`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Authentication {
    /// AUTH PLAIN or LOGIN with the notifier's username and password.
    #[default]
    Password,
    /// No AUTH command: a relay that accepts mail from trusted hosts.
    None,
}

impl Authentication {
    /// Every method, in the order the API lists them.
    pub const ALL: [Authentication; 2] = [Authentication::Password, Authentication::None];

    /// The `method` the API and the database name it by.
    pub fn method(self) -> &'static str {
        match self {
            Authentication::Password => "password",
            Authentication::None => "none",
        }
    }

    /// The method named `name` exactly, if any.
    pub fn from_method(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.method() == name)
    }

    /// The body of GET (and of a successful PUT).
    pub fn to_json(self) -> Value {
        json!({ "method": self.method() })
    }
}

/// A PUT body, as DRF's serializer with one `ChoiceField` reads it: `method` is required,
/// not null, and one of the choices (compared as `str(value)`, as DRF does). Other keys
/// are ignored.
pub fn parse_authentication(body: &Map<String, Value>) -> Result<Authentication, FieldErrors> {
    let choice = match body.get("method") {
        None => Err(messages::REQUIRED.to_owned()),
        Some(Value::Null) => Err(messages::NULL.to_owned()),
        Some(value) => {
            let text = coerce::python_str(value);
            Authentication::from_method(&text).ok_or_else(|| messages::invalid_choice(&text))
        }
    };
    choice.map_err(|message| FieldErrors::single("method", message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: Value) -> Result<Authentication, String> {
        let Value::Object(map) = body else {
            panic!("an object")
        };
        parse_authentication(&map).map_err(|e| serde_json::to_string(&e).unwrap_or_default())
    }

    #[test]
    fn methods_round_trip_and_default_to_password() {
        assert_eq!(Authentication::default(), Authentication::Password);
        for method in Authentication::ALL {
            assert_eq!(Authentication::from_method(method.method()), Some(method));
            assert_eq!(parse(method.to_json()), Ok(method));
        }
        assert_eq!(
            Authentication::None.to_json().to_string(),
            r#"{"method":"none"}"#
        );
    }

    #[test]
    fn refusals_are_drfs_choice_field_texts() {
        let cases = [
            (json!({}), r#"{"method":["This field is required."]}"#),
            (
                json!({"method": null}),
                r#"{"method":["This field may not be null."]}"#,
            ),
            (
                json!({"method": "x"}),
                r#"{"method":["\"x\" is not a valid choice."]}"#,
            ),
            (
                json!({"method": "NONE"}),
                r#"{"method":["\"NONE\" is not a valid choice."]}"#,
            ),
            (
                json!({"method": ""}),
                r#"{"method":["\"\" is not a valid choice."]}"#,
            ),
            (
                json!({"method": 5}),
                r#"{"method":["\"5\" is not a valid choice."]}"#,
            ),
            (
                json!({"method": true}),
                r#"{"method":["\"True\" is not a valid choice."]}"#,
            ),
            (
                json!({"method": ["none"]}),
                r#"{"method":["\"['none']\" is not a valid choice."]}"#,
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(parse(body.clone()), Err(expected.to_owned()), "{body}");
        }
    }
}
