//! Every numeric limit of the contract. The validators enforce these and the web crate's
//! OpenAPI document advertises them, so the document cannot drift from what is enforced.

/// `name`, as the model's `CharField` bounds it.
pub const MAX_NAME_LENGTH: usize = 255;
/// `host`, as the model's `CharField` bounds it (a DNS name is held to [`MAX_DNS_NAME_LENGTH`] too).
pub const MAX_HOST_LENGTH: usize = 255;
/// `username`, as the model's `CharField` bounds it.
pub const MAX_USERNAME_LENGTH: usize = 255;
/// `password`, as the model's `CharField` bounds it.
pub const MAX_PASSWORD_LENGTH: usize = 1024;
/// `from_email`, as the model's `EmailField` bounds it.
pub const MAX_FROM_EMAIL_LENGTH: usize = 254;

/// The SMTP port range.
pub const MIN_PORT: u16 = 1;
pub const MAX_PORT: u16 = u16::MAX;

/// Any e-mail address, as Django's `EmailValidator` bounds it.
pub const MAX_EMAIL_ADDRESS_LENGTH: usize = 320;
/// An address's top-level domain label, at least.
pub const MIN_TOP_LEVEL_LABEL_LENGTH: usize = 2;

/// A DNS name without its trailing dot (RFC 1035).
pub const MAX_DNS_NAME_LENGTH: usize = 253;
/// One label of a DNS name or of an address's domain.
pub const MAX_DNS_LABEL_LENGTH: usize = 63;

/// `/send`: at most this many addresses across to, cc and bcc.
pub const MAX_RECIPIENTS: usize = 100;

/// The list's page size when `page_size` is absent or not a positive integer.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Larger `page_size` values are clamped to this.
pub const MAX_PAGE_SIZE: u64 = 100;
/// Search terms used at most; the rest are ignored, so no query grows without bound
/// (a thousand terms made SQLite's expression tree too deep, and PostgreSQL slow).
pub const MAX_SEARCH_TERMS: usize = 10;
