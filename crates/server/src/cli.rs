//! The command line of §7.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "notifier",
    version,
    about = "Email notifier service: REST API over stored SMTP settings"
)]
pub struct Cli {
    /// Configuration file (TOML) over the built-in defaults; NOTIFIER__SECTION__KEY
    /// environment variables override both.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve HTTP (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the effective configuration, every secret redacted.
    Config,
    /// Manage users and their permission codes.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage the secret keys that seal passwords and other secrets at rest.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user.
    Create {
        name: String,
        #[arg(long)]
        staff: bool,
        #[arg(long)]
        admin: bool,
    },
    /// Grant permission codes (2830-2837).
    Grant {
        name: String,
        #[arg(required = true)]
        codes: Vec<String>,
    },
    /// Revoke permission codes.
    Revoke {
        name: String,
        #[arg(required = true)]
        codes: Vec<String>,
    },
    /// Mark a user inactive; its tokens stop working. The last active admin cannot be.
    Deactivate { name: String },
    /// Mark a user active again.
    Activate { name: String },
    /// One line per user: name, active or inactive, staff/admin, granted codes.
    List,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Print a new token for the user, alone on one line.
    Create {
        name: String,
        /// The token stops working after this long: a number and s, m, h or d (e.g. 90d).
        #[arg(long, value_name = "DURATION")]
        expires_in: Option<String>,
    },
    /// Revoke a token, by its key or by its id (`--id`, as `token list` shows it).
    Revoke {
        #[arg(required_unless_present = "id", conflicts_with = "id")]
        key: Option<String>,
        #[arg(long)]
        id: Option<i64>,
    },
    /// One line per token (of NAME, or of everyone): id, user, created, last used, the
    /// key's first 8 characters, expiry. Never the key.
    List { name: Option<String> },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-encrypt every sealed secret under `security.secret_key`, in batches; safe while
    /// instances serve, and to run again after an interruption.
    Rotate {
        /// Rows read and re-encrypted per batch.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
        batch_size: u64,
        /// Milliseconds to wait between batches, to go easy on a busy database.
        #[arg(long, default_value_t = 0)]
        pause_ms: u64,
    },
    /// Print a new random key (base64 of 32 bytes) for `security.secret_key`.
    Generate,
}
