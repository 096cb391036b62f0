//! What an audit record says a notifier write changed: `{field: [old, new]}` for each
//! field that changed (a create from null, a delete to null), the password only as
//! `"changed"`. `id` and the timestamps are not fields anyone edits: left out, as the
//! Django admin leaves out automatic fields.

use serde_json::Value;

use crate::{Changes, NewNotifier, Notifier, NotifierChanges};

/// A create: every field from null.
pub fn created(new: &NewNotifier) -> Changes {
    let fields = fields(
        &new.name,
        &new.host,
        new.port,
        &new.username,
        &new.from_email,
        [new.use_tls, new.use_ssl, new.fail_silently],
    );
    between(None, Some(fields)).secret("password", true)
}

/// A PATCH or PUT of `before`: only the fields whose value it changes.
pub fn updated(before: &Notifier, changes: &NotifierChanges) -> Changes {
    let password_changed = changes
        .password
        .as_ref()
        .is_some_and(|new| new.expose() != before.password.expose());
    let mut after = before.clone();
    changes.clone().apply_to(&mut after);
    between(Some(of(before)), Some(of(&after))).secret("password", password_changed)
}

/// A delete: every field to null.
pub fn deleted(before: &Notifier) -> Changes {
    between(Some(of(before)), None)
}

type Fields = [(&'static str, Value); 8];

fn of(n: &Notifier) -> Fields {
    fields(
        &n.name,
        &n.host,
        n.port,
        &n.username,
        &n.from_email,
        [n.use_tls, n.use_ssl, n.fail_silently],
    )
}

fn fields(
    name: &str,
    host: &str,
    port: u16,
    username: &str,
    from_email: &str,
    [use_tls, use_ssl, fail_silently]: [bool; 3],
) -> Fields {
    [
        ("name", name.into()),
        ("host", host.into()),
        ("port", port.into()),
        ("username", username.into()),
        ("from_email", from_email.into()),
        ("use_tls", use_tls.into()),
        ("use_ssl", use_ssl.into()),
        ("fail_silently", fail_silently.into()),
    ]
}

fn between(before: Option<Fields>, after: Option<Fields>) -> Changes {
    let names = before
        .as_ref()
        .or(after.as_ref())
        .map(|f| f.clone().map(|(name, _)| name));
    let value =
        |fields: &Option<Fields>, i: usize| fields.as_ref().map_or(Value::Null, |f| f[i].1.clone());
    let mut changes = Changes::default();
    for (i, name) in names.into_iter().flatten().enumerate() {
        changes = changes.field(name, value(&before, i), value(&after, i));
    }
    changes
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::Password;

    fn stored() -> Notifier {
        Notifier {
            id: 1,
            name: "a".into(),
            host: "mail.example.com".into(),
            port: 587,
            username: "u".into(),
            password: Password::new("secret"),
            from_email: "a@example.com".into(),
            use_tls: true,
            use_ssl: false,
            fail_silently: false,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn an_update_lists_only_what_it_changes_and_never_a_password() {
        let changes = NotifierChanges {
            name: Some("b".into()),
            port: Some(587),
            password: Some(Password::new("new-secret")),
            ..Default::default()
        };
        let value = updated(&stored(), &changes).into_value();
        assert_eq!(value, json!({"name": ["a", "b"], "password": "changed"}));
        assert!(!value.to_string().contains("secret\""));
        let same_password = NotifierChanges {
            password: Some(Password::new("secret")),
            ..Default::default()
        };
        assert!(updated(&stored(), &same_password).is_empty());
    }

    #[test]
    fn a_delete_lists_every_field_to_null() {
        let value = deleted(&stored()).into_value();
        assert_eq!(value["port"], json!([587, null]));
        assert_eq!(value.as_object().unwrap().len(), 8);
        assert!(value.get("password").is_none());
    }
}
