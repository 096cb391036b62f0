//! Bodies of `/send` and `/test` (§5), validated as the original's serializers do.

use serde_json::{Map, Value};

use crate::limits::MAX_RECIPIENTS;
use crate::notifier_input::{email_field, text};
use crate::{FieldErrors, messages};

/// No practical limit on a message's text beyond the request body limit.
const UNBOUNDED: usize = usize::MAX;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRequest {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    pub body: String,
    pub html_body: Option<String>,
}

impl SendRequest {
    pub fn recipient_count(&self) -> usize {
        self.to.len() + self.cc.len() + self.bcc.len()
    }
}

pub fn parse_send(body: &Map<String, Value>) -> Result<SendRequest, FieldErrors> {
    let mut errors = FieldErrors::default();
    let to = required(body, "to", &mut errors, |v| address_list(v, false));
    let cc = optional(body, "cc", &mut errors, |v| address_list(v, true)).unwrap_or_default();
    let bcc = optional(body, "bcc", &mut errors, |v| address_list(v, true)).unwrap_or_default();
    let reply_to = optional(body, "reply_to", &mut errors, |v| {
        email_field(v, None).map_err(ListErr::Messages)
    });
    let subject = required(body, "subject", &mut errors, |v| {
        subject(v).map_err(ListErr::Messages)
    });
    let text_body = required(body, "body", &mut errors, |v| {
        text(v, UNBOUNDED).map_err(ListErr::Messages)
    });
    let html_body = optional(body, "html_body", &mut errors, |v| {
        text(v, UNBOUNDED).map_err(ListErr::Messages)
    });
    let (Some(to), Some(subject), Some(text_body), true) =
        (to, subject, text_body, errors.is_empty())
    else {
        return Err(errors);
    };
    let request = SendRequest {
        to,
        cc,
        bcc,
        reply_to,
        subject,
        body: text_body,
        html_body,
    };
    if request.recipient_count() > MAX_RECIPIENTS {
        return Err(FieldErrors::single(
            "non_field_errors",
            messages::too_many_recipients(),
        ));
    }
    Ok(request)
}

/// `/test`'s optional `to`: when given, a short test message goes there.
pub fn parse_test(body: &Map<String, Value>) -> Result<Option<String>, FieldErrors> {
    let mut errors = FieldErrors::default();
    let to = optional(body, "to", &mut errors, |v| {
        email_field(v, None).map_err(ListErr::Messages)
    });
    if errors.is_empty() {
        Ok(to)
    } else {
        Err(errors)
    }
}

/// A field's failure: plain messages, or messages per list item.
enum ListErr {
    Messages(Vec<String>),
    Items(Vec<(usize, Vec<String>)>),
}

fn optional<T>(
    body: &Map<String, Value>,
    name: &str,
    errors: &mut FieldErrors,
    parse: impl Fn(&Value) -> Result<T, ListErr>,
) -> Option<T> {
    match parse(body.get(name)?) {
        Ok(value) => Some(value),
        Err(ListErr::Messages(list)) => {
            list.into_iter().for_each(|m| errors.add(name, m));
            None
        }
        Err(ListErr::Items(items)) => {
            errors.add_items(name, items);
            None
        }
    }
}

fn required<T>(
    body: &Map<String, Value>,
    name: &str,
    errors: &mut FieldErrors,
    parse: impl Fn(&Value) -> Result<T, ListErr>,
) -> Option<T> {
    if !body.contains_key(name) {
        errors.add(name, messages::REQUIRED);
        return None;
    }
    optional(body, name, errors, parse)
}

/// `ListField(child=EmailField())`: a JSON array of valid addresses.
fn address_list(value: &Value, allow_empty: bool) -> Result<Vec<String>, ListErr> {
    let items = match value {
        Value::Array(items) => items,
        Value::Null => return Err(ListErr::Messages(vec![messages::NULL.to_owned()])),
        other => {
            return Err(ListErr::Messages(vec![messages::not_a_list(python_type(
                other,
            ))]));
        }
    };
    if items.is_empty() && !allow_empty {
        return Err(ListErr::Messages(vec![messages::EMPTY_LIST.to_owned()]));
    }
    let mut addresses = Vec::with_capacity(items.len());
    let mut failures = Vec::new();
    for (index, item) in items.iter().enumerate() {
        match email_field(item, None) {
            Ok(address) => addresses.push(address),
            Err(list) => failures.push((index, list)),
        }
    }
    if failures.is_empty() {
        Ok(addresses)
    } else {
        Err(ListErr::Items(failures))
    }
}

/// Trimmed like any CharField, then one line only: no header injection.
fn subject(value: &Value) -> Result<String, Vec<String>> {
    let subject = text(value, UNBOUNDED)?;
    if subject.contains(['\r', '\n']) {
        return Err(vec![messages::SINGLE_LINE_SUBJECT.to_owned()]);
    }
    Ok(subject)
}

fn python_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors_of(value: Value) -> Value {
        let body = value.as_object().cloned().unwrap_or_default();
        json!(parse_send(&body).err().unwrap_or_default())
    }

    #[test]
    fn send_reports_drf_shaped_errors() {
        assert_eq!(
            errors_of(json!({})),
            json!({"to": [messages::REQUIRED], "subject": [messages::REQUIRED], "body": [messages::REQUIRED]})
        );
        assert_eq!(
            errors_of(json!({"to": "a@b.co", "cc": null, "subject": "a\nb", "body": "  "})),
            json!({
                "to": ["Expected a list of items but got type \"str\"."],
                "cc": [messages::NULL],
                "subject": [messages::SINGLE_LINE_SUBJECT],
                "body": [messages::BLANK]
            })
        );
        assert_eq!(
            errors_of(
                json!({"to": [], "bcc": ["x", "a@b.co", 3], "reply_to": "bad", "subject": "s", "body": "b"})
            ),
            json!({
                "to": [messages::EMPTY_LIST],
                "bcc": {"0": [messages::INVALID_EMAIL], "2": [messages::INVALID_EMAIL]},
                "reply_to": [messages::INVALID_EMAIL]
            })
        );
    }

    #[test]
    fn send_limits_recipients_in_all() {
        let many: Vec<String> = (0..=MAX_RECIPIENTS).map(|i| format!("a{i}@b.co")).collect();
        assert_eq!(
            errors_of(json!({"to": many, "subject": "s", "body": "b"})),
            json!({"non_field_errors": ["At most 100 recipients in all."]})
        );
    }

    #[test]
    fn send_accepts_a_full_message() {
        let body = json!({"to": ["a@b.co"], "cc": ["c@d.co"], "bcc": [], "reply_to": "r@b.co",
            "subject": " Grüße ", "body": "hello", "html_body": "<p>hello</p>"});
        let parsed = parse_send(body.as_object().unwrap_or(&Map::new()));
        assert_eq!(
            parsed.map(|r| (r.recipient_count(), r.subject)),
            Ok((2, "Grüße".into()))
        );
    }

    #[test]
    fn test_takes_an_optional_address() {
        let parse = |v: Value| parse_test(v.as_object().unwrap_or(&Map::new()));
        assert_eq!(parse(json!({})), Ok(None));
        assert_eq!(parse(json!({"to": "a@b.co"})), Ok(Some("a@b.co".into())));
        assert_eq!(
            parse(json!({"to": ["a@b.co"]})),
            Err(FieldErrors::single("to", messages::INVALID_EMAIL))
        );
    }
}
