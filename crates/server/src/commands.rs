//! The CLI subcommands other than `serve`: one database operation each (`keys rotate`:
//! one pass over the sealed values).

mod expires_in;
mod keys;
mod listing;

use std::str::FromStr;

use notifier_domain::{
    AuditAction, AuditContext, AuditEntry, Changes, Permission, User, validate_username,
};
use notifier_persistence::{ConnectionTrait, audit, tokens, users};
use serde_json::Value;

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
    if let UserCommand::List = command {
        for (user, codes) in users::list(&db).await? {
            println!("{}", listing::user_line(&user, &codes));
        }
        return Ok(());
    }
    // Each command and its audit record commit together.
    let txn = audit::begin(&db).await?;
    let record = match command {
        UserCommand::Create { name, staff, admin } => {
            validate_username(&name).map_err(anyhow::Error::msg)?;
            users::create(&txn, &name, staff, admin).await?;
            let changes = Changes::default()
                .naming("user", name.as_str())
                .field("is_staff", Value::Null, staff)
                .field("is_admin", Value::Null, admin);
            AuditEntry::new(AuditAction::UserCreate, None, changes)
        }
        UserCommand::Grant { name, codes } => {
            let codes = parse_codes(&codes)?;
            let (user, before) = user_and_codes(&txn, &name).await?;
            users::grant(&txn, &name, &codes).await?;
            let changes = codes_changed(&txn, &user, before).await?;
            AuditEntry::new(AuditAction::UserGrant, None, changes)
        }
        UserCommand::Revoke { name, codes } => {
            let codes = parse_codes(&codes)?;
            let (user, before) = user_and_codes(&txn, &name).await?;
            users::revoke(&txn, &name, &codes).await?;
            let changes = codes_changed(&txn, &user, before).await?;
            AuditEntry::new(AuditAction::UserRevoke, None, changes)
        }
        UserCommand::Deactivate { name } => {
            // In the record's transaction: the last-admin guard's lock holds until the commit.
            let user = users::find(&txn, &name).await?;
            users::deactivate(&txn, &name).await?;
            let changes = Changes::default().naming("user", name.as_str()).field(
                "is_active",
                user.is_active,
                false,
            );
            AuditEntry::new(AuditAction::UserDeactivate, None, changes)
        }
        UserCommand::Activate { name } => {
            let user = users::find(&txn, &name).await?;
            users::activate(&txn, &name).await?;
            let changes = Changes::default().naming("user", name.as_str()).field(
                "is_active",
                user.is_active,
                true,
            );
            AuditEntry::new(AuditAction::UserActivate, None, changes)
        }
        // Listed above: it changes nothing, so it leaves no record.
        UserCommand::List => return Ok(()),
    };
    audit::append(&txn, &AuditContext::cli(), record).await?;
    audit::commit(txn).await?;
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
    if let TokenCommand::List { name } = &command {
        for token in tokens::list(&db, name.as_deref()).await? {
            println!("{}", listing::token_line(&token));
        }
        return Ok(());
    }
    let txn = audit::begin(&db).await?;
    let (record, key) = match command {
        TokenCommand::Create { name, .. } => {
            let key = tokens::issue(&txn, &name, expires_at).await?;
            let mut changes = Changes::default()
                .naming("user", name.as_str())
                .naming("token", tokens::id_of(&txn, &key).await?);
            if let Some(at) = expires_at {
                changes = changes.field("expires_at", Value::Null, at.to_rfc3339());
            }
            let record = AuditEntry::new(AuditAction::TokenCreate, None, changes);
            (record, Some(key))
        }
        TokenCommand::Revoke { id: Some(id), .. } => {
            tokens::revoke_by_id(&txn, id).await?;
            let changes = Changes::default().naming("token", id);
            (
                AuditEntry::new(AuditAction::TokenRevoke, None, changes),
                None,
            )
        }
        TokenCommand::Revoke { key, .. } => {
            let key = key.unwrap_or_default();
            let id = tokens::id_of(&txn, &key).await?;
            tokens::revoke(&txn, &key).await?;
            let changes = Changes::default().naming("token", id);
            (
                AuditEntry::new(AuditAction::TokenRevoke, None, changes),
                None,
            )
        }
        // Listed above: it changes nothing, so it leaves no record.
        TokenCommand::List { .. } => return Ok(()),
    };
    audit::append(&txn, &AuditContext::cli(), record).await?;
    audit::commit(txn).await?;
    // Printed once committed: a key whose record failed was never issued.
    if let Some(key) = key {
        println!("{key}");
    }
    Ok(())
}

/// The user and the codes it holds before a grant or revoke.
async fn user_and_codes(
    db: &impl ConnectionTrait,
    name: &str,
) -> anyhow::Result<(User, Vec<Permission>)> {
    let user = users::find(db, name).await?;
    let codes = users::granted(db, user.id).await?;
    Ok((user, codes))
}

/// `{"user": name, "permissions": [before, after]}`, or only the name when none changed.
async fn codes_changed(
    db: &impl ConnectionTrait,
    user: &User,
    before: Vec<Permission>,
) -> anyhow::Result<Changes> {
    let after = users::granted(db, user.id).await?;
    let codes = |codes: Vec<Permission>| codes.into_iter().map(|p| p.code()).collect::<Vec<_>>();
    Ok(Changes::default()
        .naming("user", user.username.as_str())
        .field("permissions", codes(before), codes(after)))
}

/// All codes are checked before any is applied, so bad input changes nothing.
fn parse_codes(codes: &[String]) -> anyhow::Result<Vec<Permission>> {
    codes
        .iter()
        .map(|c| Permission::from_str(c).map_err(anyhow::Error::from))
        .collect()
}
