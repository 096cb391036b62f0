//! SMTP delivery for stored email notifiers (spec/API.md §5), on lettre's async SMTP client.
//!
//! The web layer builds one [`Mailer`] at start-up and passes each request the notifier's
//! [`SmtpSettings`]; nothing here reads configuration, the database or globals. Every
//! error's `Display` is safe to show a client: it carries the server's reply, never the
//! password. This crate does not log; the caller logs one line per send.

mod error;
mod mailer;
mod message;
mod pool;
mod session;
mod settings;
mod tls;

pub use error::{MailError, Result};
pub use mailer::{CheckOutcome, Mailer};
pub use message::OutgoingMessage;
pub use settings::{MailerConfig, SmtpSettings, TlsMode};
