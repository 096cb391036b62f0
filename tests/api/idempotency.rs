//! The `Idempotency-Key` header on create and send (draft-ietf-httpapi-idempotency-key-header):
//! a repeat replays the first answer byte for byte and does nothing else, a different
//! request under the key is 422, a repeat during the first is 409 (or a replay), keys are
//! per user and kept 24 hours, and they hold across instances on one PostgreSQL.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::Method;
use reqwest::header::AUTHORIZATION;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::smtp_server::{Quirks, Security, SmtpServerOptions, TestSmtpServer};

backend_tests!(
    sqlite: [
        create_replays_the_first_answer_and_creates_nothing_more,
        send_replays_the_first_answer_and_sends_nothing_more,
        a_failed_send_is_replayed,
        a_validation_answer_is_replayed,
        the_same_key_with_another_request_is_422,
        concurrent_creates_with_one_key_run_once,
        concurrent_sends_with_one_key_send_once,
        keys_belong_to_their_user,
        keys_are_kept_24_hours,
        malformed_keys_are_400,
        authentication_and_permission_come_before_the_key,
        without_the_header_nothing_changes,
        kept_answers_are_sealed,
    ],
    postgres: [
        create_replays_the_first_answer_and_creates_nothing_more,
        send_replays_the_first_answer_and_sends_nothing_more,
        a_failed_send_is_replayed,
        a_validation_answer_is_replayed,
        the_same_key_with_another_request_is_422,
        concurrent_creates_with_one_key_run_once,
        concurrent_sends_with_one_key_send_once,
        keys_belong_to_their_user,
        keys_are_kept_24_hours,
        malformed_keys_are_400,
        authentication_and_permission_come_before_the_key,
        without_the_header_nothing_changes,
        kept_answers_are_sealed,
        two_instances_run_one_key_once,
    ],
);

const KEY: &str = "idempotency-key";
const REPLAY: &str = "idempotent-replay";
const INVALID: &str = r#"{"detail":"Invalid Idempotency-Key."}"#;
const REUSED: &str = r#"{"detail":"Idempotency-Key was already used for a different request."}"#;
const IN_PROGRESS: &str = r#"{"detail":"A request with this Idempotency-Key is in progress."}"#;
const SMTP_USER: &str = "mailer";
const SMTP_PASSWORD: &str = "s3cret-Pass-7f3a";

impl TestApp {
    /// POSTs `body` as JSON with `token` and, when given, an `Idempotency-Key`.
    async fn post_keyed(&self, path: &str, body: &Value, token: &str, key: Option<&str>) -> Resp {
        let mut request = self
            .request(Method::POST, path)
            .header(AUTHORIZATION, token_header(token))
            .json(body);
        if let Some(key) = key {
            request = request.header(KEY, key);
        }
        self.send(request).await
    }

    async fn notifier_count(&self) -> i64 {
        self.settle();
        let page = self.get(NOTIFIERS, &self.admin_token).await;
        assert_status(&page, 200);
        page.json()["count"].as_i64().expect("a count")
    }
}

/// `repeat` is `first` again, byte for byte, marked as a replay.
#[track_caller]
fn assert_replay_of(repeat: &Resp, first: &Resp) {
    assert_eq!(repeat.status, first.status, "{repeat:?}");
    assert_eq!(repeat.text, first.text, "{repeat:?}");
    for header in ["content-type", "location"] {
        assert_eq!(repeat.header(header), first.header(header), "{header}");
    }
    assert_eq!(repeat.header(REPLAY), Some("true"), "{repeat:?}");
    assert_eq!(first.header(REPLAY), None, "{first:?}");
}

#[track_caller]
fn assert_body(resp: &Resp, status: u16, body: &str) {
    assert_eq!(
        (resp.status, resp.text.as_str()),
        (status, body),
        "{resp:?}"
    );
}

async fn smtp_server(quirks: Quirks) -> TestSmtpServer {
    let options = SmtpServerOptions {
        security: Security::Plain,
        tls: None,
        username: SMTP_USER.into(),
        password: SMTP_PASSWORD.into(),
        require_auth: true,
    };
    TestSmtpServer::start_with(options, quirks).await
}

/// A plain-SMTP notifier for 127.0.0.1:`port`; returns its `/send` path.
async fn send_path(app: &TestApp, port: u16) -> String {
    let created = app
        .create_notifier(&json!({
            "name": format!("smtp-{port}"),
            "host": "127.0.0.1",
            "port": port,
            "username": SMTP_USER,
            "password": SMTP_PASSWORD,
            "from_email": "noreply@example.com",
            "use_tls": false,
            "use_ssl": false,
            "fail_silently": false
        }))
        .await;
    format!("{}/send", notifier_path(id_of(&created)))
}

fn message() -> Value {
    json!({ "to": ["ann@example.com"], "subject": "hello", "body": "hi there" })
}

async fn create_replays_the_first_answer_and_creates_nothing_more(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = notifier_body("once");
    let token = &app.admin_token;

    let first = app.post_keyed(NOTIFIERS, &body, token, Some("k-1")).await;
    assert_status(&first, 201);
    assert!(first.header("location").is_some(), "{first:?}");
    let repeat = app.post_keyed(NOTIFIERS, &body, token, Some("k-1")).await;

    assert_replay_of(&repeat, &first);
    assert_eq!(app.notifier_count().await, 1);
}

async fn send_replays_the_first_answer_and_sends_nothing_more(backend: Backend) {
    let app = spawn_app(backend).await;
    let server = smtp_server(Quirks::default()).await;
    let path = send_path(&app, server.port).await;
    let token = &app.admin_token;

    let first = app.post_keyed(&path, &message(), token, Some("s-1")).await;
    assert_status(&first, 200);
    assert_eq!(
        server.wait_for_mail(1, Duration::from_secs(5)).await.len(),
        1
    );
    let repeat = app.post_keyed(&path, &message(), token, Some("s-1")).await;

    assert_replay_of(&repeat, &first);
    // The same message id: the answer is the first one, not a second send's.
    assert_eq!(repeat.json()["message_id"], first.json()["message_id"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.received().len(), 1, "a replay must send nothing");
    // A new key sends again.
    let other = app.post_keyed(&path, &message(), token, Some("s-2")).await;
    assert_status(&other, 200);
    assert_eq!(other.header(REPLAY), None);
    assert_eq!(
        server.wait_for_mail(2, Duration::from_secs(5)).await.len(),
        2
    );
}

async fn a_failed_send_is_replayed(backend: Backend) {
    let app = spawn_app(backend).await;
    // Nothing listens there any more: the connection is refused, a 502.
    let port = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        listener.local_addr().expect("address").port()
    };
    let path = send_path(&app, port).await;
    let token = &app.admin_token;

    let first = app.post_keyed(&path, &message(), token, Some("f-1")).await;
    assert_status(&first, 502);
    let repeat = app.post_keyed(&path, &message(), token, Some("f-1")).await;

    assert_replay_of(&repeat, &first);
}

async fn a_validation_answer_is_replayed(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = &app.admin_token;
    let invalid = json!({ "name": "no-host" });

    let first = app
        .post_keyed(NOTIFIERS, &invalid, token, Some("v-1"))
        .await;
    assert_status(&first, 400);
    let repeat = app
        .post_keyed(NOTIFIERS, &invalid, token, Some("v-1"))
        .await;
    assert_replay_of(&repeat, &first);

    // A body that is not JSON at all is answered, and replayed, the same way.
    let raw = |key: &'static str| {
        app.send(
            app.request(Method::POST, NOTIFIERS)
                .header(AUTHORIZATION, token_header(token))
                .header("content-type", "application/json")
                .header(KEY, key)
                .body("{\"name\":"),
        )
    };
    let first = raw("v-2").await;
    assert_status(&first, 400);
    assert_replay_of(&raw("v-2").await, &first);
    assert_eq!(app.notifier_count().await, 0);
}

async fn the_same_key_with_another_request_is_422(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = &app.admin_token;
    let first = app
        .post_keyed(NOTIFIERS, &notifier_body("first"), token, Some("d-1"))
        .await;
    assert_status(&first, 201);

    let other_body = app
        .post_keyed(NOTIFIERS, &notifier_body("second"), token, Some("d-1"))
        .await;
    assert_body(&other_body, 422, REUSED);
    assert_json_content_type(&other_body);
    let send = format!("{}/send", notifier_path(id_of(&first.json())));
    let other_path = app.post_keyed(&send, &message(), token, Some("d-1")).await;
    assert_body(&other_path, 422, REUSED);
    assert_eq!(app.notifier_count().await, 1);
    // The first request is still replayed.
    let repeat = app
        .post_keyed(NOTIFIERS, &notifier_body("first"), token, Some("d-1"))
        .await;
    assert_replay_of(&repeat, &first);
}

/// Of the responses to one key, exactly one ran (no replay header); the others are replays
/// of it or 409s.
#[track_caller]
fn assert_ran_once(responses: &[Resp], ran_status: u16) -> usize {
    let ran: Vec<&Resp> = responses
        .iter()
        .filter(|r| r.header(REPLAY).is_none() && r.status != 409)
        .collect();
    assert_eq!(ran.len(), 1, "exactly one should run: {responses:#?}");
    let first = ran[0];
    assert_eq!(first.status, ran_status, "{first:?}");
    let mut conflicts = 0;
    for resp in responses {
        if resp.status == 409 {
            assert_body(resp, 409, IN_PROGRESS);
            assert_eq!(resp.header("retry-after"), Some("1"), "{resp:?}");
            conflicts += 1;
        } else if resp.header(REPLAY).is_some() {
            assert_replay_of(resp, first);
        }
    }
    conflicts
}

async fn concurrent_creates_with_one_key_run_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = notifier_body("raced");
    let responses =
        join_all((0..8).map(|_| app.post_keyed(NOTIFIERS, &body, &app.admin_token, Some("c-1"))))
            .await;

    assert_ran_once(&responses, 201);
    assert_eq!(app.notifier_count().await, 1);
}

async fn concurrent_sends_with_one_key_send_once(backend: Backend) {
    let app = spawn_app(backend).await;
    // Slow enough that the first send is still running when the others arrive.
    let server = smtp_server(Quirks {
        reply_delay: Some(Duration::from_millis(100)),
        ..Quirks::default()
    })
    .await;
    let path = send_path(&app, server.port).await;
    let message = message();
    let responses =
        join_all((0..5).map(|_| app.post_keyed(&path, &message, &app.admin_token, Some("c-2"))))
            .await;

    let conflicts = assert_ran_once(&responses, 200);
    assert!(
        conflicts > 0,
        "the repeats overlapped the send: {responses:#?}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.received().len(), 1, "sent more than once");
    // Once it is done, a repeat is a replay.
    let after = app
        .post_keyed(&path, &message, &app.admin_token, Some("c-2"))
        .await;
    assert_eq!(after.header(REPLAY), Some("true"), "{after:?}");
}

async fn keys_belong_to_their_user(backend: Backend) {
    let app = spawn_app(backend).await;
    let other = app.user_with_codes("bee", true, &[2830, 2831]).await;
    let first = app
        .post_keyed(
            NOTIFIERS,
            &notifier_body("by-admin"),
            &app.admin_token,
            Some("u-1"),
        )
        .await;
    assert_status(&first, 201);

    // The same key and request from another user runs as that user's own request: the
    // name is taken now, which only a request that ran can find out.
    let theirs = app
        .post_keyed(NOTIFIERS, &notifier_body("by-admin"), &other, Some("u-1"))
        .await;
    assert_json(
        &theirs,
        400,
        &json!({"name": ["email notifier with this name already exists."]}),
    );
    assert_eq!(theirs.header(REPLAY), None);
    // Under that user, the key now means that user's request.
    let own = app
        .post_keyed(NOTIFIERS, &notifier_body("by-bee"), &other, Some("u-1"))
        .await;
    assert_body(&own, 422, REUSED);
    let mine_again = app
        .post_keyed(
            NOTIFIERS,
            &notifier_body("by-admin"),
            &app.admin_token,
            Some("u-1"),
        )
        .await;
    assert_replay_of(&mine_again, &first);
}

async fn keys_are_kept_24_hours(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = notifier_body("daily");
    let token = &app.admin_token;
    let first = app.post_keyed(NOTIFIERS, &body, token, Some("e-1")).await;
    assert_status(&first, 201);

    app.clock.advance(Duration::from_secs(23 * 3600));
    let within = app.post_keyed(NOTIFIERS, &body, token, Some("e-1")).await;
    assert_replay_of(&within, &first);

    app.clock.advance(Duration::from_secs(3600));
    // The key is forgotten: the request runs again, and finds its name taken.
    let after = app.post_keyed(NOTIFIERS, &body, token, Some("e-1")).await;
    assert_json(
        &after,
        400,
        &json!({"name": ["email notifier with this name already exists."]}),
    );
    assert_eq!(after.header(REPLAY), None);
    // That answer is the key's answer now.
    let again = app.post_keyed(NOTIFIERS, &body, token, Some("e-1")).await;
    assert_replay_of(&again, &after);
    // An expired key may come with another request too.
    app.clock.advance(Duration::from_secs(24 * 3600));
    let other = app
        .post_keyed(NOTIFIERS, &notifier_body("next-day"), token, Some("e-1"))
        .await;
    assert_status(&other, 201);
}

async fn malformed_keys_are_400(backend: Backend) {
    let app = spawn_app(backend).await;
    let long = "k".repeat(256);
    let bad: [&[u8]; 5] = [
        b"",
        b"with space",
        "clé".as_bytes(),
        b"tab\tinside",
        long.as_bytes(),
    ];
    for (i, key) in bad.into_iter().enumerate() {
        let value = reqwest::header::HeaderValue::from_bytes(key).expect("a sendable value");
        let resp = app
            .send(
                app.request(Method::POST, NOTIFIERS)
                    .header(AUTHORIZATION, token_header(&app.admin_token))
                    .header(KEY, value)
                    .json(&notifier_body(&format!("bad-{i}"))),
            )
            .await;
        assert_body(&resp, 400, INVALID);
        assert_json_content_type(&resp);
    }
    // Twice the header is no key either.
    let twice = app
        .send(
            app.request(Method::POST, NOTIFIERS)
                .header(AUTHORIZATION, token_header(&app.admin_token))
                .header(KEY, "a")
                .header(KEY, "b")
                .json(&notifier_body("twice")),
        )
        .await;
    assert_body(&twice, 400, INVALID);
    assert_eq!(app.notifier_count().await, 0);

    let longest = "~".repeat(255);
    let ok = app
        .post_keyed(
            NOTIFIERS,
            &notifier_body("ok"),
            &app.admin_token,
            Some(&longest),
        )
        .await;
    assert_status(&ok, 201);
}

async fn authentication_and_permission_come_before_the_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let lister = app.user_with_codes("lister", true, &[2830]).await;
    for key in ["with space", ""] {
        let anonymous = app
            .send(
                app.request(Method::POST, NOTIFIERS)
                    .header(KEY, key)
                    .json(&notifier_body("anon")),
            )
            .await;
        assert_detail(&anonymous, 401, NOT_AUTHENTICATED);
        let forbidden = app
            .post_keyed(NOTIFIERS, &notifier_body("lister"), &lister, Some(key))
            .await;
        assert_detail(&forbidden, 403, FORBIDDEN);
        let send = format!("{}/send", notifier_path(1));
        let forbidden = app.post_keyed(&send, &message(), &lister, Some(key)).await;
        assert_detail(&forbidden, 403, FORBIDDEN);
    }
    // A refused request does not use up a valid key either.
    let refused = app
        .post_keyed(NOTIFIERS, &notifier_body("x"), &lister, Some("p-1"))
        .await;
    assert_status(&refused, 403);
    let admin = app
        .post_keyed(
            NOTIFIERS,
            &notifier_body("x"),
            &app.admin_token,
            Some("p-1"),
        )
        .await;
    assert_status(&admin, 201);
}

async fn without_the_header_nothing_changes(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = notifier_body("plain");
    let first = app
        .post_keyed(NOTIFIERS, &body, &app.admin_token, None)
        .await;
    assert_status(&first, 201);
    let second = app
        .post_keyed(NOTIFIERS, &body, &app.admin_token, None)
        .await;
    assert_json(
        &second,
        400,
        &json!({"name": ["email notifier with this name already exists."]}),
    );
    for resp in [&first, &second] {
        assert_eq!(resp.header(REPLAY), None);
    }
}

async fn kept_answers_are_sealed(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.security.expose_passwords = true).await;
    let body = notifier_body("sealed");
    let first = app
        .post_keyed(NOTIFIERS, &body, &app.admin_token, Some("z-1"))
        .await;
    assert_status(&first, 201);
    let password = body["password"].as_str().expect("a password");
    assert!(first.text.contains(password), "exposed: {first:?}");

    let db = Database::connect(&app.db_url).await.expect("connect");
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT response FROM idempotency_keys",
        ))
        .await
        .expect("read the kept answers");
    assert_eq!(rows.len(), 1);
    let stored: String = rows[0].try_get("", "response").expect("a kept answer");
    assert!(!stored.contains(password) && !stored.contains("sealed"));
    // The replay opens it again.
    let repeat = app
        .post_keyed(NOTIFIERS, &body, &app.admin_token, Some("z-1"))
        .await;
    assert_replay_of(&repeat, &first);
}

async fn two_instances_run_one_key_once(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let (a, b) = (
        env.launch(env.settings.clone()).await,
        env.launch(env.settings.clone()).await,
    );
    let body = notifier_body("across");
    let responses = join_all((0..10).map(|i| {
        let app = if i % 2 == 0 { &a } else { &b };
        app.post_keyed(NOTIFIERS, &body, &app.admin_token, Some("x-1"))
    }))
    .await;

    assert_ran_once(&responses, 201);
    assert_eq!(a.notifier_count().await, 1);
    // Whichever ran it, both replay it now.
    let ran = responses
        .iter()
        .find(|r| r.header(REPLAY).is_none() && r.status == 201)
        .expect("one ran");
    for app in [&a, &b] {
        let repeat = app
            .post_keyed(NOTIFIERS, &body, &app.admin_token, Some("x-1"))
            .await;
        assert_replay_of(&repeat, ran);
    }
}
