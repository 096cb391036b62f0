//! What an audit record says a notifier's authentication or DKIM change changed (see
//! `notifier_audit`): the settings that are not secret as `[old, new]`, each secret
//! only as `"changed"` when it differs.

use serde_json::Value;

use crate::{Authentication, Changes, Dkim, Password};

/// `authentication.update`: from `old` to `new`.
pub fn authentication(old: &Authentication, new: &Authentication) -> Changes {
    let (old_x, new_x) = (xoauth2(old), xoauth2(new));
    let mut changes = Changes::default().field("method", old.method(), new.method());
    for (i, (name, new_value)) in new_x.0.iter().enumerate() {
        changes = changes.field(name, old_x.0[i].1.clone(), new_value.clone());
    }
    changes
        .secret("client_secret", differs(old_x.1.as_ref(), new_x.1.as_ref()))
        .secret("refresh_token", differs(old_x.2.as_ref(), new_x.2.as_ref()))
}

/// `dkim.update` (`new` set) or `dkim.delete` (`new` none).
pub fn dkim(old: Option<&Dkim>, new: Option<&Dkim>) -> Changes {
    let get = |d: Option<&Dkim>, f: fn(&Dkim) -> Value| d.map_or(Value::Null, f);
    Changes::default()
        .field(
            "domain",
            get(old, |d| d.domain.as_str().into()),
            get(new, |d| d.domain.as_str().into()),
        )
        .field(
            "selector",
            get(old, |d| d.selector.as_str().into()),
            get(new, |d| d.selector.as_str().into()),
        )
        .field(
            "algorithm",
            get(old, |d| d.algorithm.as_str().into()),
            get(new, |d| d.algorithm.as_str().into()),
        )
        .secret(
            "private_key",
            differs(old.map(|d| &d.private_key), new.map(|d| &d.private_key)),
        )
}

type XFields = (
    [(&'static str, Value); 6],
    Option<Password>,
    Option<Password>,
);

/// The XOAuth2 settings that are not secret (null when not XOAuth2), and the two secrets.
fn xoauth2(auth: &Authentication) -> XFields {
    let Authentication::XOAuth2(x) = auth else {
        return (
            [
                "provider",
                "tenant",
                "grant",
                "token_url",
                "client_id",
                "scope",
            ]
            .map(|n| (n, Value::Null)),
            None,
            None,
        );
    };
    let provider = x.provider.as_ref().map_or(Value::Null, |p| p.name().into());
    let tenant = match &x.provider {
        Some(crate::Provider::Microsoft { tenant }) => tenant.as_str().into(),
        _ => Value::Null,
    };
    (
        [
            ("provider", provider),
            ("tenant", tenant),
            ("grant", x.grant.name().into()),
            ("token_url", x.token_url.as_str().into()),
            ("client_id", x.client_id.as_str().into()),
            ("scope", x.scope.as_str().into()),
        ],
        Some(x.client_secret.clone()),
        x.refresh_token.clone(),
    )
}

fn differs(old: Option<&Password>, new: Option<&Password>) -> bool {
    old.map(Password::expose) != new.map(Password::expose)
}
