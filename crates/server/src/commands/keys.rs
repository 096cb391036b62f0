//! `keys generate` and `keys rotate`.

use std::time::Duration;

use notifier_domain::{AuditAction, AuditContext, AuditEntry, Changes};
use notifier_persistence::audit;
use notifier_persistence::rotation::{self, RotateOptions};

use crate::cli::KeysCommand;
use crate::settings::Settings;
use crate::startup::{open_database, secret_box};

pub async fn keys(settings: &Settings, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Generate => println!("{}", notifier_persistence::generate_key_base64()),
        KeysCommand::Rotate {
            batch_size,
            pause_ms,
        } => rotate(settings, batch_size, Duration::from_millis(pause_ms)).await?,
    }
    Ok(())
}

async fn rotate(settings: &Settings, batch_size: u64, pause: Duration) -> anyhow::Result<()> {
    let secrets = secret_box(settings)?;
    let db = open_database(settings).await?;
    // A ring that opens nothing of this database would only count failures.
    secrets.verify(&db).await?;
    let options = RotateOptions { batch_size, pause };
    let rotated = rotation::rotate(&db, &secrets, options, |done| {
        eprintln!("keys rotate: {done} re-encrypted so far");
    })
    .await?;
    for value in &rotated.unreadable {
        eprintln!("keys rotate: no configured key opens {value}");
    }
    // Its own transaction: the rotation is many small commits, recorded once it ends.
    let changes = Changes::default()
        .naming("re_encrypted", rotated.re_encrypted)
        .naming("remaining", rotated.remaining);
    let txn = audit::begin(&db).await?;
    let record = AuditEntry::new(AuditAction::KeysRotate, None, changes);
    audit::append(&txn, &AuditContext::cli(), record).await?;
    audit::commit(txn).await?;
    println!(
        "re-encrypted {} values; {} still use an old key",
        rotated.re_encrypted, rotated.remaining
    );
    if rotated.remaining > 0 {
        anyhow::bail!(
            "{} values still use an old key: keep the previous keys and run `keys rotate` again",
            rotated.remaining
        );
    }
    Ok(())
}
