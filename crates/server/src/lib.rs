//! The `notifier` binary's library half: configuration, CLI commands and the app builder.
//! `main` and the black-box tests both start the service through [`startup::Application`].

pub mod cli;
pub mod commands;
pub mod settings;
pub mod startup;
