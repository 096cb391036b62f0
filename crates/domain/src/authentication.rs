//! How a notifier logs in to its SMTP server: its `/authentication` sub-resource
//! (docs/API.md §2). Kept apart from the notifier itself, so the notifier's body, its
//! cached answers and its `updated_at` never change with it.

use serde_json::{Map, Value, json};

use crate::coerce;
use crate::error::{FieldErrors, messages};
use crate::notifier::{MASKED_PASSWORD, Password};
use crate::notifier_input::text;

/// The longest URL, identifier, scope or secret an `xoauth2` object takes.
pub const MAX_OAUTH_FIELD_LENGTH: usize = 4096;
/// §11: a PUT that moves the OAuth2 secrets to another token endpoint must carry them.
pub const SECRET_AGAIN: &str = "Enter the secret again when changing the token URL.";
pub const INVALID_URL: &str = "Enter a valid URL.";
pub const INVALID_TENANT: &str = "Enter a valid tenant id or domain.";

/// A notifier's authentication method; a notifier without a stored one uses
/// [`Authentication::Password`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Authentication {
    /// AUTH PLAIN or LOGIN with the notifier's username and password.
    #[default]
    Password,
    /// No AUTH command: a relay that accepts mail from trusted hosts.
    None,
    /// SASL XOAUTH2 with access tokens from an OAuth2 token endpoint.
    XOAuth2(XOAuth2),
}

/// The `xoauth2` settings as stored, secrets in clear (in memory only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XOAuth2 {
    pub grant: Grant,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: Password,
    pub scope: String,
    /// Only with [`Grant::RefreshToken`].
    pub refresh_token: Option<Password>,
    /// The shortcut that filled `token_url` and `scope`, echoed by GET.
    pub provider: Option<Provider>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    ClientCredentials,
    RefreshToken,
}

impl Grant {
    const ALL: [Grant; 2] = [Grant::ClientCredentials, Grant::RefreshToken];

    pub fn name(self) -> &'static str {
        match self {
            Grant::ClientCredentials => "client_credentials",
            Grant::RefreshToken => "refresh_token",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.name() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    /// Microsoft identity platform, for one tenant (an id or a domain).
    Microsoft {
        tenant: String,
    },
    Google,
}

impl Provider {
    pub fn name(&self) -> &'static str {
        match self {
            Provider::Microsoft { .. } => "microsoft",
            Provider::Google => "google",
        }
    }

    /// The token endpoint and scope the shortcut stands for.
    pub fn endpoint(&self) -> (String, &'static str) {
        match self {
            Provider::Microsoft { tenant } => (
                format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"),
                "https://outlook.office365.com/.default",
            ),
            Provider::Google => (
                "https://oauth2.googleapis.com/token".to_owned(),
                "https://mail.google.com/",
            ),
        }
    }
}

/// Every method's name, in the order the API lists them.
pub const METHODS: [&str; 3] = ["password", "none", "xoauth2"];

impl Authentication {
    /// The `method` the API and the database name it by.
    pub fn method(&self) -> &'static str {
        match self {
            Authentication::Password => "password",
            Authentication::None => "none",
            Authentication::XOAuth2(_) => "xoauth2",
        }
    }

    /// The body of GET (and of a successful PUT); secrets as `********`.
    pub fn to_json(&self) -> Value {
        match self {
            Authentication::XOAuth2(x) => {
                let mut object = Map::new();
                object.insert("grant".into(), json!(x.grant.name()));
                object.insert("token_url".into(), json!(x.token_url));
                object.insert("client_id".into(), json!(x.client_id));
                object.insert("client_secret".into(), json!(MASKED_PASSWORD));
                object.insert("scope".into(), json!(x.scope));
                if x.refresh_token.is_some() {
                    object.insert("refresh_token".into(), json!(MASKED_PASSWORD));
                }
                if let Some(provider) = &x.provider {
                    object.insert("provider".into(), json!(provider.name()));
                    if let Provider::Microsoft { tenant } = provider {
                        object.insert("tenant".into(), json!(tenant));
                    }
                }
                json!({ "method": "xoauth2", "xoauth2": object })
            }
            other => json!({ "method": other.method() }),
        }
    }
}

/// A secret in a PUT body: a new value, or `********` for the stored one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretInput {
    Keep,
    New(Password),
}

/// A validated PUT body; `********` secrets are resolved against what is stored by
/// [`AuthenticationInput::resolve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthenticationInput {
    Password,
    None,
    XOAuth2(XOAuth2Input),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XOAuth2Input {
    pub grant: Grant,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: SecretInput,
    pub scope: String,
    pub refresh_token: Option<SecretInput>,
    pub provider: Option<Provider>,
}

impl AuthenticationInput {
    /// What to store, given what is stored: `********` keeps a stored secret, unless the
    /// token URL changes (§11: the secrets follow their destination).
    pub fn resolve(self, stored: &Authentication) -> Result<Authentication, FieldErrors> {
        let input = match self {
            AuthenticationInput::Password => return Ok(Authentication::Password),
            AuthenticationInput::None => return Ok(Authentication::None),
            AuthenticationInput::XOAuth2(input) => input,
        };
        let kept = match stored {
            Authentication::XOAuth2(stored) if stored.token_url == input.token_url => Some(stored),
            _ => None,
        };
        let mut errors = FieldErrors::default();
        let client_secret = match (input.client_secret, kept) {
            (SecretInput::New(secret), _) => Some(secret),
            (SecretInput::Keep, Some(stored)) => Some(stored.client_secret.clone()),
            (SecretInput::Keep, None) => {
                errors.add("client_secret", SECRET_AGAIN);
                None
            }
        };
        let refresh_token = match (input.refresh_token, kept) {
            (None, _) => None,
            (Some(SecretInput::New(token)), _) => Some(token),
            (Some(SecretInput::Keep), Some(stored)) if stored.refresh_token.is_some() => {
                stored.refresh_token.clone()
            }
            (Some(SecretInput::Keep), _) => {
                errors.add("refresh_token", SECRET_AGAIN);
                None
            }
        };
        match client_secret {
            Some(client_secret) if errors.is_empty() => Ok(Authentication::XOAuth2(XOAuth2 {
                grant: input.grant,
                token_url: input.token_url,
                client_id: input.client_id,
                client_secret,
                scope: input.scope,
                refresh_token,
                provider: input.provider,
            })),
            _ => {
                let mut nested = FieldErrors::default();
                nested.add_nested("xoauth2", errors);
                Err(nested)
            }
        }
    }
}

/// A PUT body, as DRF's serializer reads it: `method` is a required `ChoiceField`
/// (compared as `str(value)`); `xoauth2` a nested serializer, required with that method
/// and ignored otherwise, whose errors nest under `"xoauth2"`. Other keys are ignored.
pub fn parse_authentication(body: &Map<String, Value>) -> Result<AuthenticationInput, FieldErrors> {
    let method = match body.get("method") {
        None => Err(messages::REQUIRED.to_owned()),
        Some(Value::Null) => Err(messages::NULL.to_owned()),
        Some(value) => {
            let text = coerce::python_str(value);
            if METHODS.contains(&text.as_str()) {
                Ok(text)
            } else {
                Err(messages::invalid_choice(&text))
            }
        }
    };
    let method = method.map_err(|message| FieldErrors::single("method", message))?;
    match method.as_str() {
        "password" => Ok(AuthenticationInput::Password),
        "none" => Ok(AuthenticationInput::None),
        _ => parse_xoauth2(body.get("xoauth2")).map(AuthenticationInput::XOAuth2),
    }
}

fn parse_xoauth2(value: Option<&Value>) -> Result<XOAuth2Input, FieldErrors> {
    let object = match value {
        None => return Err(FieldErrors::single("xoauth2", messages::REQUIRED)),
        Some(Value::Null) => return Err(FieldErrors::single("xoauth2", messages::NULL)),
        Some(Value::Object(object)) => object,
        Some(other) => {
            let mut nested = FieldErrors::default();
            nested.add(
                "non_field_errors",
                format!(
                    "Invalid data. Expected a dictionary, but got {}.",
                    python_type(other)
                ),
            );
            let mut errors = FieldErrors::default();
            errors.add_nested("xoauth2", nested);
            return Err(errors);
        }
    };
    let mut errors = FieldErrors::default();
    let field = |name: &str, errors: &mut FieldErrors| -> Option<String> {
        match object.get(name) {
            None => {
                errors.add(name, messages::REQUIRED);
                None
            }
            Some(value) => match text(value, MAX_OAUTH_FIELD_LENGTH) {
                Ok(text) => Some(text),
                Err(problems) => {
                    for problem in problems {
                        errors.add(name, problem);
                    }
                    None
                }
            },
        }
    };

    let provider = match object.get("provider") {
        None => None,
        Some(value) => match coerce::python_str(value).as_str() {
            _ if value.is_null() => {
                errors.add("provider", messages::NULL);
                None
            }
            "google" => Some(Provider::Google),
            "microsoft" => field("tenant", &mut errors).and_then(|tenant| {
                if is_tenant(&tenant) {
                    Some(Provider::Microsoft { tenant })
                } else {
                    errors.add("tenant", INVALID_TENANT);
                    None
                }
            }),
            other => {
                errors.add("provider", messages::invalid_choice(other));
                None
            }
        },
    };
    let shortcut = provider.as_ref().map(Provider::endpoint);
    // A shortcut that was asked for but is wrong is reported alone, not as the fields it
    // would have filled.
    let named = object.get("provider").is_some_and(|v| !v.is_null());
    let google = matches!(object.get("provider"), Some(Value::String(p)) if p == "google");

    let grant = match (&provider, object.get("grant")) {
        (Some(Provider::Google), _) => Some(Grant::RefreshToken),
        (None, _) if google => Some(Grant::RefreshToken),
        (_, None) if named => Some(Grant::ClientCredentials),
        (_, None) => {
            errors.add("grant", messages::REQUIRED);
            None
        }
        (_, Some(Value::Null)) => {
            errors.add("grant", messages::NULL);
            None
        }
        (_, Some(value)) => {
            let name = coerce::python_str(value);
            let grant = Grant::from_name(&name);
            if grant.is_none() {
                errors.add("grant", messages::invalid_choice(&name));
            }
            grant
        }
    };
    let token_url = match &shortcut {
        Some((url, _)) => Some(url.clone()),
        None if named => None,
        None => field("token_url", &mut errors).and_then(|url| {
            if is_https_url(&url) {
                Some(url)
            } else {
                errors.add("token_url", INVALID_URL);
                None
            }
        }),
    };
    let client_id = field("client_id", &mut errors);
    let client_secret = field("client_secret", &mut errors).map(secret);
    let scope = match &shortcut {
        Some((_, scope)) => Some((*scope).to_owned()),
        None if named => None,
        None => field("scope", &mut errors),
    };
    let refresh_token = match grant {
        Some(Grant::RefreshToken) => field("refresh_token", &mut errors).map(secret),
        _ => None,
    };

    match (grant, token_url, client_id, client_secret, scope) {
        (Some(grant), Some(token_url), Some(client_id), Some(client_secret), Some(scope))
            if errors.is_empty() =>
        {
            Ok(XOAuth2Input {
                grant,
                token_url,
                client_id,
                client_secret,
                scope,
                refresh_token,
                provider,
            })
        }
        _ => {
            let mut nested = FieldErrors::default();
            nested.add_nested("xoauth2", errors);
            Err(nested)
        }
    }
}

fn secret(text: String) -> SecretInput {
    if text == MASKED_PASSWORD {
        SecretInput::Keep
    } else {
        SecretInput::New(Password::new(text))
    }
}

/// An absolute `https` URL with a host (a name or an IP literal), no credentials, no
/// spaces: what Django's `URLValidator(schemes=["https"])` takes, near enough.
fn is_https_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return false;
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        match v6.split_once(']') {
            Some((ip, port)) if ip.parse::<std::net::Ipv6Addr>().is_ok() => {
                return port.is_empty() || valid_port(port);
            }
            _ => return false,
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) if valid_port(port) => host,
            Some(_) => return false,
            None => authority,
        }
    };
    crate::host::is_valid_host(host)
}

fn valid_port(text: &str) -> bool {
    text.strip_prefix(':')
        .unwrap_or(text)
        .parse::<u16>()
        .is_ok_and(|p| p > 0)
}

/// A Microsoft tenant: a GUID or a domain (letters, digits, dots and hyphens).
fn is_tenant(tenant: &str) -> bool {
    !tenant.is_empty()
        && tenant.len() <= 253
        && tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

/// Python's type name of a parsed JSON value, as DRF's messages show it.
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

    fn parse(body: Value) -> Result<AuthenticationInput, String> {
        let Value::Object(map) = body else {
            panic!("an object")
        };
        parse_authentication(&map).map_err(|e| serde_json::to_string(&e).unwrap_or_default())
    }

    fn stored(input: AuthenticationInput) -> Authentication {
        input
            .resolve(&Authentication::Password)
            .unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn simple_methods_round_trip_and_default_to_password() {
        assert_eq!(Authentication::default(), Authentication::Password);
        assert_eq!(
            parse(json!({"method": "none"})),
            Ok(AuthenticationInput::None)
        );
        assert_eq!(
            parse(json!({"method": "password", "xoauth2": 5})),
            Ok(AuthenticationInput::Password)
        );
        assert_eq!(
            Authentication::None.to_json().to_string(),
            r#"{"method":"none"}"#
        );
    }

    #[test]
    fn method_refusals_are_drfs_choice_field_texts() {
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

    #[test]
    fn xoauth2_errors_nest_as_drf_nests_them() {
        let cases = [
            (
                json!({"method": "xoauth2"}),
                r#"{"xoauth2":["This field is required."]}"#,
            ),
            (
                json!({"method": "xoauth2", "xoauth2": "x"}),
                r#"{"xoauth2":{"non_field_errors":["Invalid data. Expected a dictionary, but got str."]}}"#,
            ),
            (
                json!({"method": "xoauth2", "xoauth2": {"grant": "client_credentials",
                    "token_url": "http://login.example.com/token", "client_id": "id",
                    "client_secret": "s", "scope": "smtp"}}),
                r#"{"xoauth2":{"token_url":["Enter a valid URL."]}}"#,
            ),
            (
                json!({"method": "xoauth2", "xoauth2": {"grant": "refresh_token",
                    "token_url": "https://login.example.com/token", "client_id": "id",
                    "client_secret": "s", "scope": "smtp"}}),
                r#"{"xoauth2":{"refresh_token":["This field is required."]}}"#,
            ),
            (
                json!({"method": "xoauth2", "xoauth2": {"grant": "x", "token_url": "https:/x",
                    "client_id": "", "client_secret": "s"}}),
                r#"{"xoauth2":{"grant":["\"x\" is not a valid choice."],"token_url":["Enter a valid URL."],"client_id":["This field may not be blank."],"scope":["This field is required."]}}"#,
            ),
            (
                json!({"method": "xoauth2", "xoauth2": {"provider": "microsoft",
                    "client_id": "id", "client_secret": "s"}}),
                r#"{"xoauth2":{"tenant":["This field is required."]}}"#,
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(parse(body.clone()), Err(expected.to_owned()), "{body}");
        }
    }

    #[test]
    fn shortcuts_fill_the_endpoint_and_scope_and_get_echoes_them() {
        let microsoft = stored(
            parse(
                json!({"method": "xoauth2", "xoauth2": {"provider": "microsoft",
                "tenant": "contoso.onmicrosoft.com", "client_id": "id", "client_secret": "s"}}),
            )
            .unwrap(),
        );
        assert_eq!(
            microsoft.to_json(),
            json!({"method": "xoauth2", "xoauth2": {
                "grant": "client_credentials",
                "token_url": "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
                "client_id": "id", "client_secret": "********",
                "scope": "https://outlook.office365.com/.default",
                "provider": "microsoft", "tenant": "contoso.onmicrosoft.com"}})
        );
        let google = stored(
            parse(
                json!({"method": "xoauth2", "xoauth2": {"provider": "google",
                "client_id": "id", "client_secret": "s", "refresh_token": "r"}}),
            )
            .unwrap(),
        );
        assert_eq!(
            google.to_json(),
            json!({"method": "xoauth2", "xoauth2": {
                "grant": "refresh_token", "token_url": "https://oauth2.googleapis.com/token",
                "client_id": "id", "client_secret": "********",
                "scope": "https://mail.google.com/", "refresh_token": "********",
                "provider": "google"}})
        );
    }

    #[test]
    fn masked_secrets_are_kept_only_for_the_same_token_url() {
        let body = |url: &str, secret: &str, refresh: &str| {
            json!({"method": "xoauth2", "xoauth2": {"grant": "refresh_token",
                "token_url": url, "client_id": "id", "client_secret": secret,
                "scope": "smtp", "refresh_token": refresh}})
        };
        let first = stored(parse(body("https://a.example.com/t", "s1", "r1")).unwrap());
        let kept = parse(body(
            "https://a.example.com/t",
            MASKED_PASSWORD,
            MASKED_PASSWORD,
        ))
        .unwrap()
        .resolve(&first)
        .unwrap();
        assert_eq!(kept, first);

        let moved = parse(body("https://b.example.com/t", MASKED_PASSWORD, "r2"))
            .unwrap()
            .resolve(&first)
            .map_err(|e| serde_json::to_string(&e).unwrap_or_default());
        assert_eq!(
            moved,
            Err(r#"{"xoauth2":{"client_secret":["Enter the secret again when changing the token URL."]}}"#.to_owned())
        );
        let from_password = parse(body("https://a.example.com/t", MASKED_PASSWORD, "r"))
            .unwrap()
            .resolve(&Authentication::None);
        assert!(from_password.is_err());
        let moved_with_secrets = parse(body("https://b.example.com/t", "s2", "r2"))
            .unwrap()
            .resolve(&first);
        assert!(moved_with_secrets.is_ok());
    }

    #[test]
    fn https_urls_are_checked() {
        for good in [
            "https://login.example.com/token",
            "https://127.0.0.1:8443/token",
            "https://[::1]:8443/t?x=1",
            "https://example.com",
        ] {
            assert!(is_https_url(good), "{good}");
        }
        for bad in [
            "http://example.com/t",
            "https://",
            "https://user:pw@example.com/t",
            "https://exa mple.com/",
            "https://example.com:0/",
            "https://example.com:x/",
            "ftp://example.com",
        ] {
            assert!(!is_https_url(bad), "{bad}");
        }
    }
}
