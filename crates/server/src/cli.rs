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
    /// Mark a user inactive; its tokens stop working.
    Deactivate { name: String },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Print a new token for the user, alone on one line.
    Create { name: String },
    /// Revoke a token.
    Revoke { key: String },
}
