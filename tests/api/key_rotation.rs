//! §12 key rotation: `keys generate`, a key ring (`security.previous_secret_keys`), and
//! `keys rotate` re-encrypting every sealed value under the primary key while two instances
//! serve reads and writes, re-run after a `kill -9`, and values sealed before key ids.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::Method;
use reqwest::header::AUTHORIZATION;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::*;
use crate::smtp_server::{SmtpServerOptions, TestSmtpServer};

const SMTP_USER: &str = "mailer";
const SMTP_PASSWORD: &str = "s3cret-Pass-rotate";
const FROM: &str = "noreply@mail.example.com";
const WAIT: Duration = Duration::from_secs(20);

/// `keys generate`: checked to be one line holding base64 of 32 bytes.
async fn generated_key() -> String {
    let output = run_notifier(&["keys", "generate"]).await;
    assert_success(&output, "keys generate");
    let key = stdout_of(&output).trim_end().to_owned();
    assert_eq!(stdout_of(&output), format!("{key}\n"), "one line");
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&key)
        .expect("base64");
    assert_eq!(bytes.len(), 32, "{key}");
    key
}

/// `keys rotate ARGS`: exits 0 and prints the totals; returns how many were re-encrypted.
async fn rotated(config: &std::path::Path, args: &[&str]) -> u64 {
    let mut all = vec!["keys", "rotate"];
    all.extend_from_slice(args);
    let output = run_cli(config, &all).await;
    assert_success(&output, "keys rotate");
    let stdout = stdout_of(&output);
    let count = stdout
        .strip_prefix("re-encrypted ")
        .and_then(|rest| rest.strip_suffix(" values; 0 still use an old key\n"))
        .unwrap_or_else(|| panic!("unexpected summary {stdout:?}"));
    count.parse().expect("a count")
}

fn smtp_notifier(name: &str, port: u16, password: &str) -> Value {
    json!({
        "name": name, "host": "127.0.0.1", "port": port, "username": SMTP_USER,
        "password": password, "from_email": FROM, "use_tls": false, "use_ssl": false,
        "fail_silently": false
    })
}

fn message() -> Value {
    json!({ "to": ["ann@example.com"], "subject": "after rotation", "body": "hi" })
}

/// A create with an `Idempotency-Key`: its answer is kept sealed.
async fn keyed_create(app: &TestApp, port: u16) -> Resp {
    let request = app
        .request(Method::POST, NOTIFIERS)
        .header(AUTHORIZATION, token_header(&app.admin_token))
        .header("Idempotency-Key", "rotation-create")
        .json(&smtp_notifier("keyed", port, SMTP_PASSWORD));
    app.send(request).await
}

/// `settings` with `primary` sealing and `previous` still opening.
fn ring(settings: &Settings, primary: &str, previous: &[&str]) -> Settings {
    let mut ring = settings.clone();
    ring.security.secret_key = primary.into();
    ring.security.previous_secret_keys = previous.iter().map(|k| (*k).into()).collect();
    ring
}

/// One round of the writer: a wrong password, then the right one, so that a write lost to
/// the rotation (an older value put back) would leave a notifier that cannot log in.
async fn flip_password(app: &TestApp, id: i64, round: usize) {
    let path = notifier_path(id);
    for password in [format!("wrong-{round}"), SMTP_PASSWORD.to_owned()] {
        let resp = app
            .patch_json(&path, &json!({ "password": password }), &app.admin_token)
            .await;
        assert_status(&resp, 200);
    }
}

/// Reads and writes on both instances until `stop`; returns the rounds completed.
async fn load(a: Arc<TestApp>, b: Arc<TestApp>, ids: Vec<i64>, stop: Arc<AtomicBool>) -> usize {
    let mut round = 0;
    while !stop.load(Ordering::SeqCst) {
        for (i, id) in ids.iter().enumerate() {
            let (reader, writer) = if (i + round) % 2 == 0 {
                (&a, &b)
            } else {
                (&b, &a)
            };
            let read = reader.get(&notifier_path(*id), &reader.admin_token).await;
            assert_status(&read, 200);
            flip_password(writer, *id, round).await;
        }
        round += 1;
    }
    round
}

async fn rotation_under_load_on_two_instances_leaves_every_secret_readable(backend: Backend) {
    let smtp =
        TestSmtpServer::start(SmtpServerOptions::plain_with_auth(SMTP_USER, SMTP_PASSWORD)).await;
    let mut env = TestEnv::new(backend).await;
    let (old, new) = (generated_key().await, generated_key().await);
    env.settings.security.secret_key = old.clone().into();
    // Queued deliveries keep their sealed text until an instance with workers sends them.
    env.settings.delivery.workers = 0;
    let before = env.launch(env.settings.clone()).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let created = before
            .create_notifier(&smtp_notifier(&format!("n{i}"), smtp.port, SMTP_PASSWORD))
            .await;
        ids.push(id_of(&created));
    }
    let dkim =
        json!({"domain": "mail.example.com", "selector": "s1", "algorithm": "ed25519-sha256"});
    let resp = before
        .put_json(
            &format!("{}/dkim", notifier_path(ids[0])),
            &dkim,
            &before.admin_token,
        )
        .await;
    assert_status(&resp, 200);
    let first_answer = keyed_create(&before, smtp.port).await;
    assert_status(&first_answer, 201);
    for id in &ids {
        assert_status(
            &before
                .send_queued(*id, &message(), &before.admin_token)
                .await,
            202,
        );
    }
    drop(before);

    // Every instance restarted with the ring, then the rotation while both serve.
    let ring_settings = ring(&env.settings, &new, &[&old]);
    let a = Arc::new(env.launch(ring_settings.clone()).await);
    let b = Arc::new(env.launch(ring_settings.clone()).await);
    let config = env.write_config(&ring_settings);
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(load(a.clone(), b.clone(), ids.clone(), stop.clone()));

    let re_encrypted = rotated(&config, &["--batch-size", "2", "--pause-ms", "20"]).await;

    stop.store(true, Ordering::SeqCst);
    let rounds = writer.await.expect("the load ran");
    assert!(rounds > 0, "reads and writes ran beside the rotation");
    assert!(re_encrypted > 0, "values were still under the old key");
    assert_eq!(
        rotated(&config, &[]).await,
        0,
        "a second run finds nothing to do"
    );
    drop((a, b));

    // The old key dropped: every secret still opens, every notifier still sends.
    let mut only_new = ring(&env.settings, &new, &[]);
    only_new.security.expose_passwords = true;
    only_new.delivery.workers = 2;
    let after = env.launch(only_new).await;
    let queued = smtp.wait_for_mail(ids.len(), WAIT).await;
    assert_eq!(queued.len(), ids.len(), "the queued messages were sent");
    for id in &ids {
        let shown = after.get(&notifier_path(*id), &after.admin_token).await;
        assert_eq!(shown.json()["password"], SMTP_PASSWORD, "notifier {id}");
        let sent = after
            .post_json(
                &format!("{}/send", notifier_path(*id)),
                &message(),
                &after.admin_token,
            )
            .await;
        assert_status(&sent, 200);
        assert_eq!(sent.json()["sent"], 1, "notifier {id}: {}", sent.text);
    }
    let mail = smtp.wait_for_mail(2 * ids.len(), WAIT).await;
    assert_eq!(mail.len(), 2 * ids.len());
    assert!(
        mail.iter()
            .all(|m| m.auth_user.as_deref() == Some(SMTP_USER)),
        "every message logged in"
    );
    let signed = mail
        .iter()
        .filter(|m| m.data.to_ascii_lowercase().contains("dkim-signature:"))
        .count();
    assert_eq!(
        signed, 2,
        "the DKIM notifier's messages are signed with its key"
    );
    let replay = keyed_create(&after, smtp.port).await;
    assert_eq!((replay.status, &replay.text), (201, &first_answer.text));
    assert_eq!(replay.header("Idempotent-Replay"), Some("true"));
}

/// Writes every sealed value of the notifiers and the key check back in the format used
/// before values named their key (`v2:<id>:` dropped), as an existing database holds them.
async fn strip_key_ids(db_url: &str) {
    let db = Database::connect(db_url).await.expect("connect");
    for statement in [
        "UPDATE email_notifiers SET password_sealed = substr(password_sealed, 13)",
        "UPDATE server_meta SET value = substr(value, 13) WHERE name = 'secret_key_check'",
    ] {
        db.execute_unprepared(statement).await.expect(statement);
    }
}

async fn an_interrupted_rotation_completes_when_run_again(backend: Backend) {
    let mut env = TestEnv::new(backend).await;
    let (old, new) = (generated_key().await, generated_key().await);
    env.settings.security.secret_key = old.clone().into();
    let before = env.launch(env.settings.clone()).await;
    let count = 12;
    let mut ids = Vec::new();
    for i in 0..count {
        let body = smtp_notifier(&format!("n{i}"), 2525, &format!("password-{i}"));
        ids.push(id_of(&before.create_notifier(&body).await));
    }
    drop(before);
    strip_key_ids(&env.database.url).await;
    let config = env.write_config(&ring(&env.settings, &new, &[&old]));

    // One value per batch and a pause after each: killed after its first batch.
    let mut child = tokio::process::Command::new(notifier_bin())
        .arg("--config")
        .arg(&config)
        .args(["keys", "rotate", "--batch-size", "1", "--pause-ms", "200"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start keys rotate");
    let mut progress = BufReader::new(child.stderr.take().expect("piped")).lines();
    let line = tokio::time::timeout(WAIT, progress.next_line())
        .await
        .expect("progress in time")
        .expect("read stderr")
        .expect("a progress line");
    assert!(line.contains("re-encrypted so far"), "{line}");
    child.start_kill().expect("SIGKILL");
    let status = child.wait().await.expect("the killed rotation exits");
    assert!(!status.success(), "killed midway: {status:?}");

    let rest = rotated(&config, &[]).await;

    // The notifiers' passwords and the key check: the first run did some of them.
    let total = count + 1;
    assert!(
        rest >= 1 && rest < total,
        "{rest} of {total} left for the second run"
    );
    let mut only_new = ring(&env.settings, &new, &[]);
    only_new.security.expose_passwords = true;
    let after = env.launch(only_new).await;
    for (i, id) in ids.iter().enumerate() {
        let shown = after.get(&notifier_path(*id), &after.admin_token).await;
        assert_eq!(shown.json()["password"], format!("password-{i}"));
    }
}

async fn start_up_refuses_a_ring_that_opens_nothing(backend: Backend) {
    let mut env = TestEnv::new(backend).await;
    let (old, new, other) = (
        generated_key().await,
        generated_key().await,
        generated_key().await,
    );
    env.settings.security.secret_key = old.clone().into();
    drop(env.launch(env.settings.clone()).await);

    let config = env.write_config(&ring(&env.settings, &new, &[&other]));
    let refused = run_cli(&config, &["keys", "rotate"]).await;
    let serve = run_cli(&config, &["serve"]).await;

    let wrong = "error: the configured secret key is not the one this database's passwords were encrypted with";
    assert_cli_error(&refused, wrong, "keys rotate");
    assert_eq!(serve.status.code(), Some(2), "{serve:?}");
    assert!(stderr_of(&serve).contains(wrong), "{serve:?}");
    // With the old key among the previous ones the same start-up succeeds.
    let app = env.launch(ring(&env.settings, &new, &[&other, &old])).await;
    assert_status(&app.get(NOTIFIERS, &app.admin_token).await, 200);
}

backend_tests!(
    rotation_under_load_on_two_instances_leaves_every_secret_readable,
    an_interrupted_rotation_completes_when_run_again,
    start_up_refuses_a_ring_that_opens_nothing,
);
