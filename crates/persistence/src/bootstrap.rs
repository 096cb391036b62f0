//! First start: an admin, so that somebody can use the API at all.

use sea_orm::ConnectionTrait;

use crate::{Error, Result, tokens, users};

pub const ADMIN_USERNAME: &str = "admin";

/// What the first start did, for the binary to report.
#[derive(Debug, PartialEq, Eq)]
pub enum Bootstrap {
    /// Users existed already; nothing was created.
    AlreadyDone,
    /// The admin got the configured token.
    ConfiguredToken,
    /// The admin got this new random key, to be shown once.
    GeneratedToken(String),
}

/// Creates the admin user and its token when the user table is empty. Two instances
/// starting together race on the unique username; the loser finds the work done.
pub async fn bootstrap_admin(
    db: &impl ConnectionTrait,
    configured_token: Option<&str>,
) -> Result<Bootstrap> {
    if users::count(db).await? > 0 {
        return Ok(Bootstrap::AlreadyDone);
    }
    let admin = match users::create(db, ADMIN_USERNAME, true, true).await {
        Ok(admin) => admin,
        Err(Error::UserExists(_)) => return Ok(Bootstrap::AlreadyDone),
        Err(e) => return Err(e),
    };
    match configured_token {
        Some(key) => {
            tokens::store(db, admin.id, key, None).await?;
            Ok(Bootstrap::ConfiguredToken)
        }
        None => {
            let key = tokens::generate_key();
            tokens::store(db, admin.id, &key, None).await?;
            Ok(Bootstrap::GeneratedToken(key))
        }
    }
}
