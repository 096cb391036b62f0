//! The CLI subcommands other than `serve`: one database operation each.

use std::str::FromStr;

use notifier_domain::{
    AuditAction, AuditContext, AuditEntry, Changes, Permission, User, validate_username,
};
use notifier_persistence::{ConnectionTrait, audit, tokens, users};
use serde_json::Value;

use crate::cli::{TokenCommand, UserCommand};
use crate::settings::Settings;
use crate::startup::open_database;

pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    open_database(settings).await?;
    Ok(())
}

pub async fn user(settings: &Settings, command: UserCommand) -> anyhow::Result<()> {
    let db = open_database(settings).await?;
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
            let user = users::find(&txn, &name).await?;
            users::deactivate(&txn, &name).await?;
            let changes = Changes::default().naming("user", name.as_str()).field(
                "is_active",
                user.is_active,
                false,
            );
            AuditEntry::new(AuditAction::UserDeactivate, None, changes)
        }
    };
    audit::append(&txn, &AuditContext::cli(), record).await?;
    audit::commit(txn).await?;
    Ok(())
}

pub async fn token(settings: &Settings, command: TokenCommand) -> anyhow::Result<()> {
    let db = open_database(settings).await?;
    let txn = audit::begin(&db).await?;
    let (record, key) = match command {
        TokenCommand::Create { name } => {
            let key = tokens::issue(&txn, &name).await?;
            let changes = Changes::default()
                .naming("user", name.as_str())
                .naming("token", tokens::id_of(&txn, &key).await?);
            let record = AuditEntry::new(AuditAction::TokenCreate, None, changes);
            (record, Some(key))
        }
        TokenCommand::Revoke { key } => {
            let id = tokens::id_of(&txn, &key).await?;
            tokens::revoke(&txn, &key).await?;
            let changes = Changes::default().naming("token", id);
            (
                AuditEntry::new(AuditAction::TokenRevoke, None, changes),
                None,
            )
        }
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
