//! `notifier`: serve the API (the default) or run one administrative command.

use std::process::ExitCode;

use clap::Parser;
use notifier_server::cli::{Cli, Command};
use notifier_server::commands;
use notifier_server::settings::Settings;
use notifier_server::startup::Application;

#[tokio::main]
async fn main() -> ExitCode {
    // One process-wide TLS provider (ring), before anything builds a TLS config.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let serving = matches!(cli.command, None | Some(Command::Serve));
    init_logging(serving);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the error and its causes, nothing else.
            eprintln!("error: {}", one_line(&e));
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            Application::build(settings)
                .await?
                .run_until_stopped()
                .await?
        }
        Command::Migrate => commands::migrate(&settings).await?,
        Command::Config => print!("{}", settings.redacted_toml()?),
        Command::User(command) => commands::user(&settings, command).await?,
        Command::Token(command) => commands::token(&settings, command).await?,
        Command::Keys(command) => commands::keys(&settings, command).await?,
    }
    Ok(())
}

/// The error and its causes joined by ": ", skipping a cause its parent already quotes
/// (database errors repeat their source in their own message).
fn one_line(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let cause = cause.to_string();
        if text.contains(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}

/// `RUST_LOG` wins; otherwise the server logs requests and commands stay quiet.
fn init_logging(serving: bool) {
    let default = if serving {
        "info,sqlx=warn,actix_server=warn"
    } else {
        "warn"
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default)).init();
}
