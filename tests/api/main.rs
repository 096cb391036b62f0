//! Black-box tests of the notifier API: the real application on a port-0 listener, over a
//! database of its own per test, on SQLite and on PostgreSQL.
//!
//! The CLI and process tests run `target/<profile>/notifier`: build it first
//! (`cargo build -p notifier-server`, or `cargo test --workspace`). The PostgreSQL variant of
//! each test needs `NOTIFIER_TEST_POSTGRES_URL` (e.g. `postgres://postgres@127.0.0.1:5432/postgres`,
//! a database that exists); each test creates and drops `notifier_test_<uuid>` on that server.
//! Unset, those tests say they did not run, except under `CI=true`, where they fail.

#[macro_use]
mod helpers;

mod audit;
mod auth;
mod authentication;
mod browser;
mod caching;
mod cli;
mod coercion;
mod concurrency;
mod cors;
mod create;
mod dashboard;
mod delete;
mod dkim;
mod hardening;
mod health;
mod idempotency;
mod key_rotation;
mod list;
mod me;
mod outbound;
mod permissions;
mod readiness;
mod request_errors;
mod request_ids;
mod scale_out;
mod schema_routes;
mod secrets;
mod sending;
mod serve;
mod smtp_server;
mod tokens;
mod update;
mod validation;
