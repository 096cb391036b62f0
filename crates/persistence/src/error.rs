//! What can go wrong in storage, named for what the caller must do about it.

use sea_orm::{DbErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("email notifier with this name already exists")]
    NameTaken,
    #[error("no such notifier")]
    NotFound,
    /// §11: the update moves the stored password to another destination without a new one.
    #[error("a new password is required when changing the host, port or TLS settings")]
    PasswordRequired,
    #[error("no such user: {0}")]
    NoSuchUser(String),
    #[error("user already exists: {0}")]
    UserExists(String),
    #[error("no such token")]
    NoSuchToken,
    #[error("no such token id: {0}")]
    NoSuchTokenId(i64),
    /// Nobody could administer the service any more.
    #[error("{0} is the last active admin: create or activate another admin first")]
    LastActiveAdmin(String),
    #[error("a stored password cannot be decrypted with the configured secret key")]
    Undecryptable,
    #[error("the database is unavailable")]
    Unavailable(#[source] DbErr),
    #[error("database error")]
    Database(#[source] DbErr),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        match err {
            DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => Error::Unavailable(err),
            other => Error::Database(other),
        }
    }
}

/// True when the statement broke a unique index: the database arbitrated a race.
pub(crate) fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
