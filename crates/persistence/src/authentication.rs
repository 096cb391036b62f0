//! How each notifier logs in (`notifier_authentication`, one row per notifier at most).
//!
//! A notifier without a row uses [`Authentication::Password`]. The table is not a
//! notifier table: no trigger moves the data epoch for it and the notifier's row, its
//! `updated_at` included, is never written here. Rows go with their notifier
//! (`ON DELETE CASCADE`). Written directly on the connection given, as users and tokens
//! are: a PUT here is rare, and nothing cached depends on it. The OAuth2 client secret
//! and refresh token pass through the [`SecretBox`], as passwords do; access tokens are
//! never stored.

use chrono::{SubsecRound, Utc};
use notifier_domain::{Authentication, Grant, Password, Provider, XOAuth2};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, SqlErr,
};
use serde::{Deserialize, Serialize};

use crate::entities::email_notifier;
use crate::entities::notifier_authentication::{ActiveModel, Column, Entity, Model};
use crate::{Error, Result, SecretBox};

/// The `xoauth2` column: the settings that are not secret.
#[derive(Serialize, Deserialize)]
struct Settings {
    grant: String,
    token_url: String,
    client_id: String,
    scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tenant: Option<String>,
}

/// The notifier's method; [`Error::NotFound`] when no such notifier exists.
pub async fn get(
    db: &impl ConnectionTrait,
    secrets: &SecretBox,
    id: i64,
) -> Result<Authentication> {
    let id = i32::try_from(id).map_err(|_| Error::NotFound)?;
    if let Some(row) = Entity::find_by_id(id).one(db).await? {
        return to_domain(row, secrets);
    }
    // No row: the default, if the notifier exists.
    email_notifier::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|_| Authentication::default())
        .ok_or(Error::NotFound)
}

/// The method to send with, for a notifier the caller has just read: one primary-key
/// lookup, no check that the notifier still exists (the send finds out).
pub async fn for_sending(
    db: &impl ConnectionTrait,
    secrets: &SecretBox,
    id: i64,
) -> Result<Authentication> {
    let Ok(id) = i32::try_from(id) else {
        return Ok(Authentication::default());
    };
    match Entity::find_by_id(id).one(db).await? {
        Some(row) => to_domain(row, secrets),
        None => Ok(Authentication::default()),
    }
}

/// Sets the notifier's method (an upsert); [`Error::NotFound`] when no such notifier
/// exists (the foreign key decides, so a concurrent delete is one too).
pub async fn put(
    db: &impl ConnectionTrait,
    secrets: &SecretBox,
    id: i64,
    auth: &Authentication,
) -> Result<()> {
    let id = i32::try_from(id).map_err(|_| Error::NotFound)?;
    let (settings, client_secret, refresh_token) = match auth {
        Authentication::XOAuth2(x) => {
            let (provider, tenant) = match &x.provider {
                Some(Provider::Microsoft { tenant }) => {
                    (Some("microsoft".to_owned()), Some(tenant.clone()))
                }
                Some(Provider::Google) => (Some("google".to_owned()), None),
                None => (None, None),
            };
            let settings = Settings {
                grant: x.grant.name().to_owned(),
                token_url: x.token_url.clone(),
                client_id: x.client_id.clone(),
                scope: x.scope.clone(),
                provider,
                tenant,
            };
            (
                Some(serde_json::to_string(&settings).map_err(|e| {
                    Error::Database(DbErr::Custom(format!("cannot encode xoauth2: {e}")))
                })?),
                Some(secrets.seal(x.client_secret.expose())),
                x.refresh_token.as_ref().map(|t| secrets.seal(t.expose())),
            )
        }
        _ => (None, None, None),
    };
    let row = ActiveModel {
        notifier_id: Set(id),
        method: Set(auth.method().to_owned()),
        xoauth2: Set(settings),
        client_secret_sealed: Set(client_secret),
        refresh_token_sealed: Set(refresh_token),
        updated_at: Set(Utc::now().trunc_subsecs(6)),
    };
    let upsert = Entity::insert(row).on_conflict(
        OnConflict::column(Column::NotifierId)
            .update_columns([
                Column::Method,
                Column::Xoauth2,
                Column::ClientSecretSealed,
                Column::RefreshTokenSealed,
                Column::UpdatedAt,
            ])
            .to_owned(),
    );
    match upsert.exec_without_returning(db).await {
        Ok(_) => Ok(()),
        Err(e) if is_foreign_key_violation(&e) => Err(Error::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// Stores the refresh token a token endpoint returned in place of `previous`, if the
/// notifier still logs in with `previous` (a PUT in between wins). Whether it did.
pub async fn rotate_refresh_token(
    db: &impl ConnectionTrait,
    secrets: &SecretBox,
    id: i64,
    previous: &str,
    refresh_token: &str,
) -> Result<bool> {
    let id = i32::try_from(id).map_err(|_| Error::NotFound)?;
    // A `keys rotate` may reseal the stored token between the read and the write: that
    // changes its ciphertext, not its value, so read again and retry (a few times at most).
    for _ in 0..3 {
        let Some(row) = Entity::find_by_id(id).one(db).await? else {
            return Ok(false);
        };
        let Some(sealed) = row.refresh_token_sealed else {
            return Ok(false);
        };
        if secrets.open(&sealed).as_deref() != Some(previous) {
            return Ok(false);
        }
        // Conditional on the sealed value read: a concurrent PUT is not undone.
        let updated = Entity::update_many()
            .col_expr(
                Column::RefreshTokenSealed,
                Expr::value(secrets.seal(refresh_token)),
            )
            .filter(Column::NotifierId.eq(id))
            .filter(Column::RefreshTokenSealed.eq(sealed))
            .exec(db)
            .await?;
        if updated.rows_affected == 1 {
            return Ok(true);
        }
    }
    Ok(false)
}

fn to_domain(row: Model, secrets: &SecretBox) -> Result<Authentication> {
    match row.method.as_str() {
        "password" => Ok(Authentication::Password),
        "none" => Ok(Authentication::None),
        "xoauth2" => {
            let settings: Settings = row
                .xoauth2
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok())
                .ok_or_else(|| corrupt("xoauth2 settings"))?;
            let open = |sealed: Option<String>| -> Result<Option<Password>> {
                sealed
                    .map(|s| {
                        secrets
                            .open(&s)
                            .map(Password::new)
                            .ok_or(Error::Undecryptable)
                    })
                    .transpose()
            };
            let client_secret =
                open(row.client_secret_sealed)?.ok_or_else(|| corrupt("client secret"))?;
            let grant = Grant::from_name(&settings.grant).ok_or_else(|| corrupt("grant"))?;
            let provider = match (settings.provider.as_deref(), settings.tenant) {
                (Some("microsoft"), Some(tenant)) => Some(Provider::Microsoft { tenant }),
                (Some("google"), _) => Some(Provider::Google),
                _ => None,
            };
            Ok(Authentication::XOAuth2(XOAuth2 {
                grant,
                token_url: settings.token_url,
                client_id: settings.client_id,
                client_secret,
                scope: settings.scope,
                refresh_token: open(row.refresh_token_sealed)?,
                provider,
            }))
        }
        other => Err(corrupt(&format!("method {other:?}"))),
    }
}

fn corrupt(what: &str) -> Error {
    Error::Database(DbErr::Custom(format!(
        "unreadable {what} in notifier_authentication"
    )))
}

fn is_foreign_key_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(SqlErr::ForeignKeyConstraintViolation(_))
    )
}
