//! The binary's own command line. Having an integration test here also makes
//! `cargo test --workspace` build a fresh `target/<profile>/notifier`, which the black-box
//! suite in `tests/` runs for its CLI and process tests.

use std::process::Command;

#[test]
fn help_lists_every_subcommand_of_the_contract() {
    let output = Command::new(env!("CARGO_BIN_EXE_notifier"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for subcommand in ["serve", "migrate", "config", "user", "token"] {
        assert!(
            help.contains(subcommand),
            "{subcommand} missing from:\n{help}"
        );
    }
}

#[test]
fn unknown_subcommands_exit_with_status_2() {
    let output = Command::new(env!("CARGO_BIN_EXE_notifier"))
        .arg("frobnicate")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}
