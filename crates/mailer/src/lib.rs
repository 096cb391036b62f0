//! SMTP delivery for stored email notifiers (docs/API.md §5), on lettre's async SMTP client.
//!
//! The web layer builds one [`Mailer`] at start-up and passes each request the notifier's
//! [`SmtpSettings`]; nothing here reads configuration, the database or globals. Every
//! error's `Display` is safe to show a client: never the password, and of the server's
//! words only its reply lines, cleaned (docs/API.md §11). Outbound policy
//! (denied and allowed networks and ports, no password over plain text) is checked on the
//! resolved addresses before any connection. This crate does not log; the caller logs one
//! line per send.

mod certificate;
mod deadline;
mod diagnosis;
mod dkim;
mod error;
mod link;
mod mailer;
mod message;
mod oauth;
mod policy;
mod pool;
mod session;
mod settings;
mod tls;
mod trace;

pub use dkim::{DkimKey, DkimKeyError, DkimKeyType, DkimSettings, RSA_BITS, SIGNED_HEADERS};
pub use error::{CertificateProblem, MailError, Result};
/// The network type of [`MailerConfig`]'s address lists, so callers need no `ipnet` of
/// their own.
pub use ipnet::IpNet;
pub use mailer::{CheckOutcome, CheckReport, Mailer};
pub use message::{OutgoingMessage, new_message_id};
pub use oauth::RotatedRefreshToken;
pub use policy::DEFAULT_DENIED_NETWORKS;
pub use settings::{MailerConfig, SmtpAuth, SmtpSettings, TlsMode, XOAuth2};
pub use trace::{StepName, StepReport};
