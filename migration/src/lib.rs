//! The schema's history, one file per step, backend-neutral (SQLite and PostgreSQL).
//!
//! Migrations never depend on the persistence crate: each declares its own identifiers,
//! so an old step keeps meaning what it meant when it ran.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_create_users;
mod m20261126_000002_create_permission_grants;
mod m20261126_000003_create_api_tokens;
mod m20261126_000004_create_email_notifiers;
mod m20261126_000005_create_server_meta;
mod m20261126_000006_track_notifier_changes;
mod m20261202_000007_stripe_the_data_epoch;
mod m20261202_000008_create_deliveries;
mod m20261202_000009_create_idempotency_keys;
mod m20261202_000010_create_notifier_authentication;
mod m20261202_000011_create_notifier_dkim;
mod m20261202_000012_create_audit_log;
mod m20261202_000013_token_lifecycle;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_users::Migration),
            Box::new(m20261126_000002_create_permission_grants::Migration),
            Box::new(m20261126_000003_create_api_tokens::Migration),
            Box::new(m20261126_000004_create_email_notifiers::Migration),
            Box::new(m20261126_000005_create_server_meta::Migration),
            Box::new(m20261126_000006_track_notifier_changes::Migration),
            Box::new(m20261202_000007_stripe_the_data_epoch::Migration),
            Box::new(m20261202_000008_create_deliveries::Migration),
            Box::new(m20261202_000009_create_idempotency_keys::Migration),
            Box::new(m20261202_000010_create_notifier_authentication::Migration),
            Box::new(m20261202_000011_create_notifier_dkim::Migration),
            Box::new(m20261202_000012_create_audit_log::Migration),
            Box::new(m20261202_000013_token_lifecycle::Migration),
        ]
    }
}
