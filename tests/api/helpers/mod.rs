//! The test harness: `spawn_app`, typed requests, the CLI, and backend selection.

mod app;
mod backend;
mod fixtures;
mod http;
mod outage;
mod process;

pub use app::{TestApp, TestEnv, http_client, spawn_app, spawn_app_with};
pub use backend::Backend;
pub use fixtures::*;
pub use http::{
    Resp, assert_delivery_location, assert_detail, assert_json, assert_json_content_type,
    assert_send_failed, assert_status, token_header,
};
pub use notifier_server::settings::Settings;
pub use outage::{TcpProxy, launch_over, postgres_address, run_notifier_with_env, via_port};
pub use process::{
    ServerProcess, assert_cli_error, assert_success, notifier_bin, run_cli, run_notifier,
    stderr_of, stdout_of,
};

/// Writes each listed `async fn NAME(backend: Backend)` as two tests, `sqlite::NAME` and
/// `postgres::NAME`. `backend_tests!(a, b)` runs both on both backends;
/// `backend_tests!(sqlite: [a], postgres: [b])` chooses per backend.
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        backend_tests!(sqlite: [$($name),+], postgres: [$($name),+]);
    };
    (sqlite: [$($sqlite:ident),* $(,)?], postgres: [$($postgres:ident),* $(,)?] $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $sqlite() {
                    super::$sqlite($crate::helpers::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $postgres() {
                    if let Some(backend) = $crate::helpers::Backend::postgres() {
                        super::$postgres(backend).await;
                    }
                }
            )*
        }
    };
}
