//! Request bodies → validated notifier inputs, with DRF's field order, coercions and messages.

use serde_json::{Map, Value};

use crate::coerce;
use crate::host::is_valid_host;
use crate::limits::{
    MAX_FROM_EMAIL_LENGTH, MAX_HOST_LENGTH, MAX_NAME_LENGTH, MAX_PASSWORD_LENGTH, MAX_PORT,
    MAX_USERNAME_LENGTH, MIN_PORT,
};
use crate::notifier::{MASKED_PASSWORD, NewNotifier, NotifierChanges, Password, default_port};
use crate::{FieldErrors, messages};

/// The writable fields in the serializer's order, which is also the order of error keys.
const FIELD_ORDER: [&str; 9] = [
    "name",
    "host",
    "port",
    "username",
    "password",
    "from_email",
    "use_tls",
    "use_ssl",
    "fail_silently",
];
const NULL_CHARACTERS: &str = "Null characters are not allowed.";

/// A POST body: every required field present and valid, port defaulted.
pub fn parse_create(body: &Map<String, Value>) -> Result<NewNotifier, FieldErrors> {
    let fields = parse_fields(body, true)?;
    let use_tls = fields.use_tls.unwrap_or(true);
    let use_ssl = fields.use_ssl.unwrap_or(false);
    // parse_fields with `required` guarantees these; the fallbacks are never reached.
    Ok(NewNotifier {
        name: fields.name.unwrap_or_default(),
        host: fields.host.unwrap_or_default(),
        port: fields
            .port
            .unwrap_or_else(|| default_port(use_tls, use_ssl)),
        username: fields.username.unwrap_or_default(),
        password: fields.password.unwrap_or_else(|| Password::new("")),
        from_email: fields.from_email.unwrap_or_default(),
        use_tls,
        use_ssl,
        fail_silently: fields.fail_silently.unwrap_or(false),
    })
}

/// A PUT body: create's required fields, optional ones left as stored when absent.
pub fn parse_replace(body: &Map<String, Value>) -> Result<NotifierChanges, FieldErrors> {
    parse_fields(body, true).map(keep_masked_password)
}

/// A PATCH body: any subset of fields.
pub fn parse_partial_update(body: &Map<String, Value>) -> Result<NotifierChanges, FieldErrors> {
    parse_fields(body, false).map(keep_masked_password)
}

impl FieldErrors {
    /// Adds the duplicate-name error in its place among the others.
    pub fn with_name_taken(mut self) -> Self {
        self.add("name", messages::NAME_TAKEN);
        self.sorted_by(&FIELD_ORDER)
    }
}

fn keep_masked_password(mut changes: NotifierChanges) -> NotifierChanges {
    if changes
        .password
        .as_ref()
        .is_some_and(|p| p.expose() == MASKED_PASSWORD)
    {
        changes.password = None;
    }
    changes
}

fn parse_fields(body: &Map<String, Value>, required: bool) -> Result<NotifierChanges, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut field =
        |name: &str, required: bool, parse: &dyn Fn(&Value) -> Result<Parsed, Vec<String>>| {
            match body.get(name) {
                None if required => {
                    errors.add(name, messages::REQUIRED);
                    None
                }
                None => None,
                Some(value) => parse(value)
                    .map_err(|list| list.into_iter().for_each(|m| errors.add(name, m)))
                    .ok(),
            }
        };
    let name = field("name", required, &|v| {
        text(v, MAX_NAME_LENGTH).map(Parsed::Text)
    });
    let host = field("host", required, &|v| host(v).map(Parsed::Text));
    let port = field("port", false, &|v| port(v).map(Parsed::Port));
    let username = field("username", required, &|v| {
        text(v, MAX_USERNAME_LENGTH).map(Parsed::Text)
    });
    let password = field("password", required, &|v| {
        text(v, MAX_PASSWORD_LENGTH).map(Parsed::Text)
    });
    let from_email = field("from_email", required, &|v| email(v).map(Parsed::Text));
    let use_tls = field("use_tls", false, &|v| flag(v).map(Parsed::Flag));
    let use_ssl = field("use_ssl", false, &|v| flag(v).map(Parsed::Flag));
    let fail_silently = field("fail_silently", false, &|v| flag(v).map(Parsed::Flag));
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NotifierChanges {
        name: name.and_then(Parsed::into_text),
        host: host.and_then(Parsed::into_text),
        port: port.and_then(Parsed::into_port),
        username: username.and_then(Parsed::into_text),
        password: password.and_then(Parsed::into_text).map(Password::new),
        from_email: from_email.and_then(Parsed::into_text),
        use_tls: use_tls.and_then(Parsed::into_flag),
        use_ssl: use_ssl.and_then(Parsed::into_flag),
        fail_silently: fail_silently.and_then(Parsed::into_flag),
    })
}

/// One parsed field value; lets one closure type serve every field.
enum Parsed {
    Text(String),
    Port(u16),
    Flag(bool),
}

impl Parsed {
    fn into_text(self) -> Option<String> {
        if let Parsed::Text(s) = self {
            Some(s)
        } else {
            None
        }
    }
    fn into_port(self) -> Option<u16> {
        if let Parsed::Port(p) = self {
            Some(p)
        } else {
            None
        }
    }
    fn into_flag(self) -> Option<bool> {
        if let Parsed::Flag(b) = self {
            Some(b)
        } else {
            None
        }
    }
}

/// `CharField(max_length=max)`: trimmed, not blank, length and NUL validators all reported.
pub(crate) fn text(value: &Value, max: usize) -> Result<String, Vec<String>> {
    let text = coerce::text(value).map_err(|m| vec![m.to_owned()])?;
    if text.is_empty() {
        return Err(vec![messages::BLANK.to_owned()]);
    }
    let mut problems = Vec::new();
    if text.chars().count() > max {
        problems.push(messages::too_long(max));
    }
    if text.contains('\0') {
        problems.push(NULL_CHARACTERS.to_owned());
    }
    if problems.is_empty() {
        Ok(text)
    } else {
        Err(problems)
    }
}

/// `EmailField(max_length=MAX_FROM_EMAIL_LENGTH)`, as the model declares `from_email`.
fn email(value: &Value) -> Result<String, Vec<String>> {
    email_field(value, Some(MAX_FROM_EMAIL_LENGTH))
}

/// DRF's `EmailField`: a non-string is "Enter a valid email address."; the optional length
/// limit and Django's address rules are both reported, as DRF runs every validator.
pub(crate) fn email_field(value: &Value, max: Option<usize>) -> Result<String, Vec<String>> {
    if coerce::text(value) == Err(messages::NOT_A_STRING) {
        return Err(vec![messages::INVALID_EMAIL.to_owned()]);
    }
    let address = text(value, max.unwrap_or(usize::MAX));
    let candidate = match &address {
        Ok(a) => a.clone(),
        Err(_) => coerce::text(value).unwrap_or_default(),
    };
    if candidate.is_empty() || crate::email::is_valid(&candidate) {
        return address;
    }
    let mut problems = address.err().unwrap_or_default();
    problems.push(messages::INVALID_EMAIL.to_owned());
    Err(problems)
}

fn host(value: &Value) -> Result<String, Vec<String>> {
    let host = text(value, MAX_HOST_LENGTH)?;
    if is_valid_host(&host) {
        Ok(host)
    } else {
        Err(vec![messages::INVALID_HOST.to_owned()])
    }
}

fn port(value: &Value) -> Result<u16, Vec<String>> {
    let number = coerce::integer(value).map_err(|m| vec![m.to_owned()])?;
    if number < i64::from(MIN_PORT) {
        return Err(vec![messages::at_least(MIN_PORT.into())]);
    }
    // MAX_PORT is u16::MAX, so the conversion's bound is the port range's.
    u16::try_from(number).map_err(|_| vec![messages::at_most(MAX_PORT.into())])
}

fn flag(value: &Value) -> Result<bool, Vec<String>> {
    coerce::boolean(value).map_err(|m| vec![m.to_owned()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    fn reference_example() -> Map<String, Value> {
        body(json!({
            "name": "hamgam_mail", "host": "mail.hamgam.online", "port": 887, "username": "info",
            "password": "somepassword", "from_email": "info@hamgam.online",
            "use_tls": true, "use_ssl": true, "fail_silently": false
        }))
    }

    #[test]
    fn create_accepts_the_reference_example() {
        let created = parse_create(&reference_example()).map_err(|e| format!("{e:?}"));
        let created = created
            .as_ref()
            .map(|n| (n.name.as_str(), n.port, n.use_ssl));
        assert_eq!(created, Ok(("hamgam_mail", 887, true)));
    }

    #[test]
    fn create_reports_every_missing_field_in_order() {
        let errors = parse_create(&Map::new()).err().unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            ["name", "host", "username", "password", "from_email"]
        );
        assert!(errors.iter().all(|(_, m)| m == [messages::REQUIRED]));
    }

    #[test]
    fn create_defaults_port_from_tls_flags() {
        let cases = [
            (json!({}), 587),
            (json!({"use_ssl": true}), 465),
            (json!({"use_tls": false}), 25),
        ];
        for (flags, expected) in cases {
            let mut input = reference_example();
            input.remove("port");
            input.remove("use_tls");
            input.remove("use_ssl");
            input.extend(body(flags.clone()));
            let port = parse_create(&input)
                .map(|n| n.port)
                .map_err(|e| format!("{e:?}"));
            assert_eq!(port, Ok(expected), "flags {flags}");
        }
    }

    #[test]
    fn create_trims_names_and_rejects_blank_ones() {
        let mut input = reference_example();
        input.insert("name".into(), json!("  spaced  "));
        assert_eq!(
            parse_create(&input).map(|n| n.name).ok(),
            Some("spaced".into())
        );
        input.insert("name".into(), json!("   "));
        let errors = parse_create(&input).err().unwrap_or_default();
        assert_eq!(errors, FieldErrors::single("name", messages::BLANK));
    }

    #[test]
    fn field_rules_use_drf_messages() {
        let cases = [
            ("name", json!("x".repeat(256)), messages::too_long(255)),
            ("port", json!(0), messages::at_least(1)),
            ("port", json!(65536), messages::at_most(65535)),
            ("port", json!("abc"), messages::INVALID_INTEGER.to_owned()),
            (
                "from_email",
                json!("not-an-email"),
                messages::INVALID_EMAIL.to_owned(),
            ),
            ("host", json!("bad host"), messages::INVALID_HOST.to_owned()),
            (
                "use_tls",
                json!("maybe"),
                messages::INVALID_BOOLEAN.to_owned(),
            ),
            ("username", json!(null), messages::NULL.to_owned()),
            (
                "password",
                json!({"a": 1}),
                messages::NOT_A_STRING.to_owned(),
            ),
        ];
        for (field, value, message) in cases {
            let mut input = reference_example();
            input.insert(field.into(), value.clone());
            let errors = parse_create(&input).err().unwrap_or_default();
            assert_eq!(
                errors,
                FieldErrors::single(field, message),
                "{field} = {value}"
            );
        }
    }

    #[test]
    fn localhost_and_dotted_domains_are_valid_senders() {
        for address in ["root@localhost", "info@hamgam.online", "a@sub.example.co"] {
            let mut input = reference_example();
            input.insert("from_email".into(), json!(address));
            assert!(parse_create(&input).is_ok(), "{address}");
        }
    }

    #[test]
    fn updates_keep_a_masked_password() {
        let patch = parse_partial_update(&body(json!({"password": "********"})));
        assert_eq!(patch, Ok(NotifierChanges::default()));
        let replace = parse_replace(&reference_example()).map(|c| c.password.is_some());
        assert_eq!(replace, Ok(true));
    }

    #[test]
    fn name_taken_lands_in_field_order() {
        let errors = FieldErrors::single("port", "x").with_name_taken();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["name", "port"]);
    }
}
