//! What a store call can answer besides its value, named for what the caller tells a
//! client; storage details stay inside the sources.

use notifier_domain::FieldErrors;

type Cause = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no such notifier")]
    NotFound,
    /// The name is taken (the unique index decided a race the pre-check did not see).
    #[error("email notifier with this name already exists")]
    NameTaken,
    /// The change would move the stored password to another destination without a new one.
    #[error("a new password is required when changing the host, port or TLS settings")]
    PasswordRequired,
    /// The request's fields are wrong (with a taken name added when it is).
    #[error("invalid fields")]
    Invalid(FieldErrors),
    #[error("no such delivery")]
    DeliveryNotFound,
    /// Only a failed or deferred delivery can be retried.
    #[error("the delivery is not failed or deferred")]
    NotRetryable,
    /// Only a queued or deferred delivery can be cancelled.
    #[error("the delivery is not queued or deferred")]
    NotCancellable,
    /// The page number is past the last page.
    #[error("no such page")]
    PageOutOfRange,
    /// The database does not answer, or a write's outcome is unknown: try again.
    #[error("the database is unavailable")]
    Unavailable(#[source] Cause),
    /// Anything else: a database error, an undecryptable password, a body that does not
    /// serialize.
    #[error("internal error")]
    Internal(#[source] Cause),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<notifier_persistence::Error> for Error {
    fn from(err: notifier_persistence::Error) -> Self {
        use notifier_persistence::Error as E;
        match err {
            E::NotFound => Error::NotFound,
            E::NameTaken => Error::NameTaken,
            E::PasswordRequired => Error::PasswordRequired,
            E::Unavailable(_) => Error::Unavailable(Box::new(err)),
            other => Error::Internal(Box::new(other)),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Error::Internal(Box::new(err))
    }
}
