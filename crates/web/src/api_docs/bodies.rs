//! Request bodies.

use utoipa::ToSchema;

/// The writable fields of a notifier. POST and PUT require `name`, `host`, `username`,
/// `password` and `from_email`; PATCH takes any subset. Unknown keys are ignored.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NotifierWrite {
    /// Trimmed; 1-255 characters; unique regardless of case.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"\S",
        example = "hamgam_mail"
    )]
    pub name: Option<String>,
    /// A DNS host name or an IP literal.
    #[schema(format = Hostname, max_length = 255, example = "mail.hamgam.online")]
    pub host: Option<String>,
    /// Defaults on create to 465 with `use_ssl`, else 587 with `use_tls`, else 25.
    #[schema(minimum = 1, maximum = 65535, example = 887)]
    pub port: Option<u16>,
    #[schema(min_length = 1, max_length = 255, pattern = r"\S", example = "info")]
    pub username: Option<String>,
    /// Stored encrypted. On PATCH/PUT, `********` keeps the stored password.
    #[schema(
        write_only,
        min_length = 1,
        max_length = 1024,
        example = "somepassword"
    )]
    pub password: Option<String>,
    #[schema(format = Email, max_length = 254, example = "info@hamgam.online")]
    pub from_email: Option<String>,
    /// STARTTLS; default true.
    pub use_tls: Option<bool>,
    /// Implicit TLS; default false; wins over `use_tls`.
    pub use_ssl: Option<bool>,
    /// On SMTP failure, `/send` answers 200 with `sent: 0` instead of 502; default false.
    pub fail_silently: Option<bool>,
}

/// `/test`'s optional body.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CheckBody {
    /// When given, a short test message is sent there too.
    #[schema(format = Email)]
    pub to: Option<String>,
}

/// `/send`'s body: at most 100 recipients in all.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SendBody {
    #[schema(min_items = 1)]
    pub to: Vec<String>,
    pub cc: Option<Vec<String>>,
    /// Envelope only, never in a header.
    pub bcc: Option<Vec<String>>,
    #[schema(format = Email)]
    pub reply_to: Option<String>,
    /// One line.
    pub subject: String,
    pub body: String,
    /// Sent as the HTML alternative of `body`.
    pub html_body: Option<String>,
}
