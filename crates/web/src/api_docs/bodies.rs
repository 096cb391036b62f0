//! Request bodies. The schemas that carry limits are built by hand: utoipa's
//! `#[schema(max_length = ...)]` takes only a literal, and the limits must come from
//! `notifier_domain::limits`, which the validators enforce.

use notifier_domain::default_port;
use notifier_domain::limits::{
    MAX_FROM_EMAIL_LENGTH, MAX_HOST_LENGTH, MAX_NAME_LENGTH, MAX_PASSWORD_LENGTH, MAX_PORT,
    MAX_RECIPIENTS, MAX_USERNAME_LENGTH, MIN_PORT,
};
use serde_json::json;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::{PartialSchema, ToSchema};

/// A text field needs a non-whitespace character: DRF trims, then rejects blanks.
const NOT_BLANK: &str = r"\S";

/// The writable fields of a notifier (POST, PUT and PATCH bodies).
pub struct NotifierWrite;

impl ToSchema for NotifierWrite {}

impl PartialSchema for NotifierWrite {
    fn schema() -> RefOr<Schema> {
        let ports = format!(
            "Defaults on create to {} with `use_ssl`, else {} with `use_tls`, else {}.",
            default_port(false, true),
            default_port(true, false),
            default_port(false, false),
        );
        ObjectBuilder::new()
            .description(Some(
                "The writable fields of a notifier. POST and PUT require `name`, `host`, \
                 `username`, `password` and `from_email`; PATCH takes any subset. Unknown keys \
                 are ignored.",
            ))
            .property(
                "name",
                optional_text(MAX_NAME_LENGTH, "hamgam_mail")
                    .description(Some(format!(
                        "Trimmed; 1 to {MAX_NAME_LENGTH} characters; unique regardless of case."
                    )))
                    .min_length(Some(1))
                    .pattern(Some(NOT_BLANK)),
            )
            .property(
                "host",
                optional_text(MAX_HOST_LENGTH, "mail.hamgam.online")
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Hostname)))
                    .description(Some("A DNS host name or an IP literal.")),
            )
            .property(
                "port",
                ObjectBuilder::new()
                    .schema_type(nullable(Type::Integer))
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
                    .minimum(Some(MIN_PORT))
                    .maximum(Some(MAX_PORT))
                    .description(Some(ports))
                    .examples([json!(887)]),
            )
            .property(
                "username",
                optional_text(MAX_USERNAME_LENGTH, "info")
                    .min_length(Some(1))
                    .pattern(Some(NOT_BLANK)),
            )
            .property(
                "password",
                optional_text(MAX_PASSWORD_LENGTH, "somepassword")
                    .description(Some(
                        "Stored encrypted. On PATCH/PUT, `********` keeps the stored password.",
                    ))
                    .write_only(true)
                    .min_length(Some(1)),
            )
            .property(
                "from_email",
                optional_text(MAX_FROM_EMAIL_LENGTH, "info@hamgam.online")
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email))),
            )
            .property("use_tls", optional_flag("STARTTLS; default true."))
            .property(
                "use_ssl",
                optional_flag("Implicit TLS; default false; wins over `use_tls`."),
            )
            .property(
                "fail_silently",
                optional_flag(
                    "On SMTP failure, `/send` answers 200 with `sent: 0` instead of 502; \
                     default false.",
                ),
            )
            .into()
    }
}

/// `/test`'s optional body.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CheckBody {
    /// When given, a short test message is sent there too.
    #[schema(format = Email)]
    pub to: Option<String>,
}

/// `/send`'s body.
pub struct SendBody;

impl ToSchema for SendBody {}

impl PartialSchema for SendBody {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some(format!(
                "`/send`'s body: at most {MAX_RECIPIENTS} recipients in all."
            )))
            .property("to", addresses(Type::Array).min_items(Some(1)))
            .required("to")
            .property("cc", addresses(nullable(Type::Array)))
            .property(
                "bcc",
                addresses(nullable(Type::Array))
                    .description(Some("Envelope only, never in a header.")),
            )
            .property(
                "reply_to",
                ObjectBuilder::new()
                    .schema_type(nullable(Type::String))
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email))),
            )
            .property(
                "subject",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some("One line.")),
            )
            .required("subject")
            .property("body", ObjectBuilder::new().schema_type(Type::String))
            .required("body")
            .property(
                "html_body",
                ObjectBuilder::new()
                    .schema_type(nullable(Type::String))
                    .description(Some("Sent as the HTML alternative of `body`.")),
            )
            .into()
    }
}

/// A field a body may leave out: its type, or `null`.
fn nullable(kind: Type) -> SchemaType {
    SchemaType::from_iter([kind, Type::Null])
}

fn optional_text(max_length: usize, example: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(nullable(Type::String))
        .max_length(Some(max_length))
        .examples([json!(example)])
}

fn optional_flag(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(nullable(Type::Boolean))
        .description(Some(description))
}

/// A recipient list: no list can hold more than all recipients together may.
fn addresses(kind: impl Into<SchemaType>) -> ArrayBuilder {
    ArrayBuilder::new()
        .schema_type(kind)
        .items(ObjectBuilder::new().schema_type(Type::String))
        .max_items(Some(MAX_RECIPIENTS))
}

/// How a notifier logs in: GET's answer and PUT's body (`/authentication`).
#[derive(ToSchema)]
#[schema(example = json!({"method": "none"}))]
#[allow(dead_code)]
pub struct AuthenticationBody {
    /// `password` (the default): AUTH PLAIN or LOGIN with the notifier's username and
    /// password. `none`: no AUTH command, for relays that accept mail from trusted hosts.
    /// `xoauth2`: SASL XOAUTH2 with access tokens from an OAuth2 token endpoint.
    pub method: AuthenticationMethod,
    /// Required with `xoauth2`, ignored otherwise. Secrets are answered as `********`,
    /// and `********` in a PUT keeps the stored one unless `token_url` changes.
    pub xoauth2: Option<XOAuth2Body>,
}

/// The authentication methods.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum AuthenticationMethod {
    Password,
    None,
    Xoauth2,
}

/// Where and how the notifier gets XOAUTH2 access tokens.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct XOAuth2Body {
    /// A shortcut that fills `token_url` and `scope` (`google` also sets the
    /// `refresh_token` grant).
    pub provider: Option<OAuthProvider>,
    /// With `provider: microsoft`: the tenant id or domain.
    pub tenant: Option<String>,
    /// Required unless `provider` is given.
    pub grant: Option<OAuthGrant>,
    /// An `https` URL; required unless `provider` is given.
    pub token_url: Option<String>,
    pub client_id: String,
    pub client_secret: String,
    /// Required unless `provider` is given.
    pub scope: Option<String>,
    /// Required with the `refresh_token` grant.
    pub refresh_token: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum OAuthProvider {
    Microsoft,
    Google,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum OAuthGrant {
    ClientCredentials,
    RefreshToken,
}
