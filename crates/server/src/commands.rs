//! The CLI subcommands other than `serve`: one database operation each (`keys rotate`:
//! one pass over the sealed values).

mod expires_in;
mod keys;
mod listing;

use std::str::FromStr;

use notifier_domain::{Permission, validate_username};
use notifier_persistence::{TransactionTrait, tokens, users};

use crate::cli::{TokenCommand, UserCommand};
use crate::settings::Settings;
use crate::startup::open_database;

pub use keys::keys;

pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    open_database(settings).await?;
    Ok(())
}

pub async fn user(settings: &Settings, command: UserCommand) -> anyhow::Result<()> {
    let db = open_database(settings).await?;
    match command {
        UserCommand::Create { name, staff, admin } => {
            validate_username(&name).map_err(anyhow::Error::msg)?;
            users::create(&db, &name, staff, admin).await?;
        }
        UserCommand::Grant { name, codes } => {
            users::grant(&db, &name, &parse_codes(&codes)?).await?
        }
        UserCommand::Revoke { name, codes } => {
            users::revoke(&db, &name, &parse_codes(&codes)?).await?
        }
        UserCommand::Deactivate { name } => {
            // The last-admin guard's lock holds until the commit.
            let txn = db.begin().await?;
            users::deactivate(&txn, &name).await?;
            txn.commit().await?;
        }
        UserCommand::Activate { name } => users::activate(&db, &name).await?,
        UserCommand::List => {
            for (user, codes) in users::list(&db).await? {
                println!("{}", listing::user_line(&user, &codes));
            }
        }
    }
    Ok(())
}

pub async fn token(settings: &Settings, command: TokenCommand) -> anyhow::Result<()> {
    // Bad input is refused before the database is opened (and migrated).
    let expires_at = match &command {
        TokenCommand::Create {
            expires_in: Some(text),
            ..
        } => Some(chrono::Utc::now() + expires_in::parse(text)?),
        _ => None,
    };
    let db = open_database(settings).await?;
    match command {
        TokenCommand::Create { name, .. } => {
            let key = tokens::issue(&db, &name, expires_at).await?;
            println!("{key}");
        }
        TokenCommand::Revoke { id: Some(id), .. } => tokens::revoke_by_id(&db, id).await?,
        TokenCommand::Revoke { key, .. } => {
            tokens::revoke(&db, key.as_deref().unwrap_or_default()).await?
        }
        TokenCommand::List { name } => {
            for token in tokens::list(&db, name.as_deref()).await? {
                println!("{}", listing::token_line(&token));
            }
        }
    }
    Ok(())
}

/// All codes are checked before any is applied, so bad input changes nothing.
fn parse_codes(codes: &[String]) -> anyhow::Result<Vec<Permission>> {
    codes
        .iter()
        .map(|c| Permission::from_str(c).map_err(anyhow::Error::from))
        .collect()
}
