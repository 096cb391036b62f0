//! §12 token and user lifecycle through the CLI: `user list`, `user activate`, `token list`,
//! `token revoke --id`, `token create --expires-in`, `last_used_at`, the last-admin guard.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::*;

const EXPIRED: &str = "Token has expired.";
const INACTIVE: &str = "User inactive or deleted.";
const LAST_ADMIN: &str =
    "error: admin is the last active admin: create or activate another admin first";

/// `token list [NAME]`, each line split at its tabs.
async fn token_rows(app: &TestApp, name: Option<&str>) -> Vec<Vec<String>> {
    let mut args = vec!["token", "list"];
    args.extend(name);
    app.cli_ok(&args)
        .await
        .lines()
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect()
}

/// The `token list` row of the token whose key is `key`.
async fn row_of(app: &TestApp, key: &str) -> Vec<String> {
    let rows = token_rows(app, None).await;
    let mut matching = rows.into_iter().filter(|row| row[4] == key[..8]);
    let row = matching.next().expect("a row with the key's prefix");
    assert!(matching.next().is_none(), "prefixes of random keys differ");
    row
}

async fn user_list_shows_each_user_with_flags_and_codes(backend: Backend) {
    let app = spawn_app(backend).await;
    app.user_with_codes("clerk", true, &[2832, 2830]).await;
    app.cli_ok(&["user", "create", "plain"]).await;
    app.cli_ok(&["user", "create", "chief", "--admin"]).await;
    app.cli_ok(&["user", "deactivate", "plain"]).await;

    let listed = app.cli_ok(&["user", "list"]).await;

    assert_eq!(
        listed,
        "admin\tactive\tstaff,admin\t-\n\
         chief\tactive\tadmin\t-\n\
         clerk\tactive\tstaff\t2830,2832\n\
         plain\tinactive\t-\t-\n"
    );
}

async fn user_activate_brings_back_a_deactivated_users_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.user_with_codes("returner", true, &[2830]).await;
    app.cli_ok(&["user", "deactivate", "returner"]).await;
    assert_detail(&app.get(NOTIFIERS, &token).await, 401, INACTIVE);

    app.cli_ok(&["user", "activate", "returner"]).await;

    assert_status(&app.get(NOTIFIERS, &token).await, 200);
    let unknown = app.cli(&["user", "activate", "ghost"]).await;
    assert_cli_error(&unknown, "error: no such user: ghost", "activate ghost");
}

async fn the_last_active_admin_cannot_be_deactivated(backend: Backend) {
    let app = spawn_app(backend).await;

    let refused = app.cli(&["user", "deactivate", "admin"]).await;

    assert_cli_error(&refused, LAST_ADMIN, "deactivate the only admin");
    assert_status(&app.get(NOTIFIERS, &app.admin_token).await, 200);

    // With a second active admin the first may go; then the second is the last one.
    app.cli_ok(&["user", "create", "deputy", "--admin"]).await;
    app.cli_ok(&["user", "deactivate", "admin"]).await;
    let refused = app.cli(&["user", "deactivate", "deputy"]).await;
    assert_cli_error(
        &refused,
        "error: deputy is the last active admin: create or activate another admin first",
        "deactivate the remaining admin",
    );
    assert_detail(&app.get(NOTIFIERS, &app.admin_token).await, 401, INACTIVE);
    // Inactive admins and non-admins never count as the last one.
    app.cli_ok(&["user", "deactivate", "admin"]).await;
    app.cli_ok(&["user", "create", "staffer", "--staff"]).await;
    app.cli_ok(&["user", "deactivate", "staffer"]).await;
}

async fn two_admins_deactivated_at_once_leave_one_active(backend: Backend) {
    let app = spawn_app(backend).await;
    app.cli_ok(&["user", "create", "deputy", "--admin"]).await;

    let (first, second) = tokio::join!(
        app.cli(&["user", "deactivate", "admin"]),
        app.cli(&["user", "deactivate", "deputy"])
    );

    let succeeded = [&first, &second]
        .iter()
        .filter(|output| output.status.success())
        .count();
    assert_eq!(succeeded, 1, "{first:?}\n{second:?}");
    let listed = app.cli_ok(&["user", "list"]).await;
    assert_eq!(listed.matches("\tactive\t").count(), 1, "{listed}");
}

async fn token_list_shows_ids_and_key_prefixes_but_never_keys(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.user_with_codes("reader", true, &[2830]).await;
    let second = app.new_token("reader").await;
    let other = app.user_with_codes("writer", true, &[2831]).await;

    let all = app.cli_ok(&["token", "list"]).await;
    let rows = token_rows(&app, None).await;
    let readers = token_rows(&app, Some("reader")).await;

    for key in [&first, &second, &other, &app.admin_token] {
        assert!(!all.contains(key.as_str()), "a whole key is listed:\n{all}");
    }
    // The bootstrap admin's, then one line per token in the order they were made.
    let users: Vec<&str> = rows.iter().map(|row| row[1].as_str()).collect();
    assert_eq!(users, ["admin", "reader", "reader", "writer"], "{all}");
    let prefixes: Vec<&str> = rows.iter().map(|row| row[4].as_str()).collect();
    assert_eq!(
        prefixes,
        [
            &app.admin_token[..8],
            &first[..8],
            &second[..8],
            &other[..8]
        ]
    );
    for row in &rows {
        assert_eq!(row.len(), 6, "{row:?}");
        assert!(row[0].parse::<i64>().is_ok(), "the id comes first: {row:?}");
        assert!(
            row[2].ends_with('Z') && row[2].len() == 20,
            "created: {row:?}"
        );
        assert_eq!(
            (row[3].as_str(), row[5].as_str()),
            ("never", "expires never")
        );
    }
    assert_eq!(readers, rows[1..3].to_vec());
    let unknown = app.cli(&["token", "list", "ghost"]).await;
    assert_cli_error(&unknown, "error: no such user: ghost", "list ghost");
}

async fn token_revoke_by_id_stops_that_token_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let doomed = app.user_with_codes("reader", true, &[2830]).await;
    let kept = app.new_token("reader").await;
    let id = row_of(&app, &doomed).await[0].clone();

    app.cli_ok(&["token", "revoke", "--id", &id]).await;

    assert_detail(&app.get(NOTIFIERS, &doomed).await, 401, "Invalid token.");
    assert_status(&app.get(NOTIFIERS, &kept).await, 200);
    let rows = token_rows(&app, Some("reader")).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][4], kept[..8]);
    let again = app.cli(&["token", "revoke", "--id", &id]).await;
    assert_cli_error(&again, &format!("error: no such token id: {id}"), "twice");
    // Either the key or --id, not both.
    let both = app.cli(&["token", "revoke", &kept, "--id", &id]).await;
    assert_eq!(both.status.code(), Some(2), "{both:?}");
    assert_status(&app.get(NOTIFIERS, &kept).await, 200);
}

async fn expired_tokens_answer_401_token_has_expired(backend: Backend) {
    let app = spawn_app(backend).await;
    app.user_with_codes("temp", true, &[2830]).await;
    let stdout = app
        .cli_ok(&["token", "create", "temp", "--expires-in", "1h"])
        .await;
    let key = stdout.trim_end().to_owned();
    let forever = app.new_token("temp").await;
    assert_status(&app.get(NOTIFIERS, &key).await, 200);
    let expires = row_of(&app, &key).await[5].clone();
    assert!(expires.starts_with("expires 20"), "{expires}");

    app.clock.advance(Duration::from_secs(3601));

    assert_detail(&app.get(NOTIFIERS, &key).await, 401, EXPIRED);
    assert_detail(&app.get("/api/me", &key).await, 401, EXPIRED);
    assert_status(&app.get(NOTIFIERS, &forever).await, 200);
}

async fn expires_in_takes_s_m_h_d_and_refuses_anything_else(backend: Backend) {
    let app = spawn_app(backend).await;
    app.cli_ok(&["user", "create", "temp", "--staff"]).await;
    for good in ["30s", "15m", "12h", "90d"] {
        app.cli_ok(&["token", "create", "temp", "--expires-in", good])
            .await;
    }
    for bad in ["90w", "0d", "1.5h", "d", "90"] {
        let output = app
            .cli(&["token", "create", "temp", "--expires-in", bad])
            .await;

        let message = format!(
            "error: invalid --expires-in {bad:?}: expected a positive number and a unit s, m, h or d (e.g. 90d)"
        );
        assert_cli_error(&output, &message, bad);
    }
    assert_eq!(token_rows(&app, Some("temp")).await.len(), 4);
}

/// Polls `token list` until the token's last-used column differs from `before`: the use
/// is written off the request path, moments after the request.
async fn last_used_after(app: &TestApp, key: &str, before: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let last_used = row_of(app, key).await[3].clone();
        if last_used != before {
            return last_used;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "last used stayed {before:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn last_used_is_recorded_at_most_once_a_minute(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.user_with_codes("user", true, &[2830]).await;
    assert_eq!(row_of(&app, &key).await[3], "never");

    assert_status(&app.get(NOTIFIERS, &key).await, 200);

    let first = last_used_after(&app, &key, "never").await;
    assert!(first.ends_with('Z'), "{first}");
    // Two minutes on (the server's clock), the next use is recorded again.
    app.clock.advance(Duration::from_secs(120));
    assert_status(&app.get(NOTIFIERS, &key).await, 200);
    let second = last_used_after(&app, &key, &first).await;
    assert!(second > first, "{second} after {first}");
}

async fn lifecycle_commands_leave_one_audit_record_each(backend: Backend) {
    let app = spawn_app(backend).await;
    app.cli_ok(&["user", "create", "ops", "--staff"]).await;
    app.cli_ok(&["user", "deactivate", "ops"]).await;
    let before = crate::audit::records(&app, "actor=cli").await.len();

    app.cli_ok(&["user", "activate", "ops"]).await;
    let key = app
        .cli_ok(&["token", "create", "ops", "--expires-in", "1d"])
        .await;
    let id = row_of(&app, key.trim_end()).await[0].clone();
    app.cli_ok(&["token", "revoke", "--id", &id]).await;
    app.cli_ok(&["user", "list"]).await;
    app.cli_ok(&["token", "list"]).await;
    app.cli_ok(&["keys", "rotate"]).await;

    let all = crate::audit::records(&app, "actor=cli").await;
    let new: Vec<(Value, Value)> = all[..all.len() - before]
        .iter()
        .rev()
        .map(|r| (r["action"].clone(), r["changes"].clone()))
        .collect();
    let id: i64 = id.parse().expect("a token id");
    let expires = new[1].1["expires_at"][1].as_str().unwrap_or_default();
    assert!(expires.starts_with("20"), "{new:?}");
    assert_eq!(
        new,
        [
            (
                json!("user.activate"),
                json!({"user": "ops", "is_active": [false, true]})
            ),
            (
                json!("token.create"),
                json!({"user": "ops", "token": id, "expires_at": [null, expires]})
            ),
            (json!("token.revoke"), json!({"token": id})),
            (
                json!("keys.rotate"),
                json!({"re_encrypted": 0, "remaining": 0})
            ),
        ],
        "listing records nothing"
    );
}

backend_tests!(
    user_list_shows_each_user_with_flags_and_codes,
    user_activate_brings_back_a_deactivated_users_tokens,
    the_last_active_admin_cannot_be_deactivated,
    two_admins_deactivated_at_once_leave_one_active,
    token_list_shows_ids_and_key_prefixes_but_never_keys,
    token_revoke_by_id_stops_that_token_only,
    expired_tokens_answer_401_token_has_expired,
    expires_in_takes_s_m_h_d_and_refuses_anything_else,
    last_used_is_recorded_at_most_once_a_minute,
    lifecycle_commands_leave_one_audit_record_each,
);
