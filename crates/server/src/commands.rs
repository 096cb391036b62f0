//! The CLI subcommands other than `serve`: one database operation each.

use std::str::FromStr;

use notifier_domain::{Permission, validate_username};
use notifier_persistence::{tokens, users};

use crate::cli::{TokenCommand, UserCommand};
use crate::settings::Settings;
use crate::startup::open_database;

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
        UserCommand::Deactivate { name } => users::deactivate(&db, &name).await?,
    }
    Ok(())
}

pub async fn token(settings: &Settings, command: TokenCommand) -> anyhow::Result<()> {
    let db = open_database(settings).await?;
    match command {
        TokenCommand::Create { name } => {
            let key = tokens::issue(&db, &name).await?;
            println!("{key}");
        }
        TokenCommand::Revoke { key } => tokens::revoke(&db, &key).await?,
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
