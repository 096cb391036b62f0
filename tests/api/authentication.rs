//! `/authentication`: how a notifier logs in (docs/API.md §2). `password` by default,
//! `none` for relays that trust their clients; a sub-resource, so the notifier's own body
//! and `updated_at` never change with it. Sends (synchronous and queued) and `/test` use it.

use std::time::Duration;

use reqwest::Method;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::smtp_server::{
    Quirks, Security, SmtpServerOptions, TestCa, TestSmtpServer, TokenEndpoint,
};

backend_tests!(
    the_default_is_password_and_none_is_kept_without_touching_the_notifier,
    unknown_notifiers_are_404_and_unknown_methods_400,
    codes_2832_read_and_2833_write_before_anything_else,
    other_methods_are_405_and_options_describes_the_choice,
    none_sends_without_auth_and_a_password_meets_the_hint,
    queued_sends_honour_none,
    the_method_goes_with_its_notifier,
    xoauth2_is_stored_masked_and_its_secrets_follow_the_token_url,
    xoauth2_sends_tests_and_queues_with_a_cached_access_token,
    xoauth2_stores_a_rotated_refresh_token_and_reports_endpoint_errors,
    xoauth2_against_a_server_without_it_is_reported_after_the_token,
);

const SMTP_USER: &str = "mailer";
const SMTP_PASSWORD: &str = "s3cret-Pass-7f3a";
const WAIT: Duration = Duration::from_secs(10);
const HINT: &str = "server offers no authentication; if this relay needs no login, set the \
                    notifier's authentication method to \"none\"";

fn authentication_path(id: i64) -> String {
    format!("{}/authentication", notifier_path(id))
}

/// A relay on 127.0.0.1 that offers no AUTH at all and takes mail from anyone.
async fn trusting_relay() -> TestSmtpServer {
    let options = SmtpServerOptions {
        security: Security::Plain,
        tls: None,
        username: SMTP_USER.into(),
        password: SMTP_PASSWORD.into(),
        require_auth: false,
    };
    let quirks = Quirks {
        no_auth: true,
        ..Quirks::default()
    };
    TestSmtpServer::start_with(options, quirks).await
}

/// A plain-text notifier for the relay on `port`, with a username and password (the
/// notifier's body requires them whatever its authentication).
fn relay_notifier(name: &str, port: u16) -> Value {
    json!({
        "name": name,
        "host": "127.0.0.1",
        "port": port,
        "username": SMTP_USER,
        "password": SMTP_PASSWORD,
        "from_email": "noreply@example.com",
        "use_tls": false,
        "use_ssl": false,
        "fail_silently": false
    })
}

fn message(to: &str) -> Value {
    json!({ "to": [to], "subject": "hello", "body": "hi there" })
}

async fn put_method(app: &TestApp, id: i64, method: &str) -> Resp {
    app.put_json(
        &authentication_path(id),
        &json!({ "method": method }),
        &app.admin_token,
    )
    .await
}

async fn the_default_is_password_and_none_is_kept_without_touching_the_notifier(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = id_of(&app.create_named("relay").await);
    let before = app.get(&notifier_path(id), &app.admin_token).await;
    assert_status(&before, 200);

    let resp = app.get(&authentication_path(id), &app.admin_token).await;
    assert_json(&resp, 200, &json!({ "method": "password" }));

    let resp = put_method(&app, id, "none").await;
    assert_json(&resp, 200, &json!({ "method": "none" }));
    for path in [
        authentication_path(id),
        format!("{}/", authentication_path(id)),
    ] {
        let resp = app.get(&path, &app.admin_token).await;
        assert_json(&resp, 200, &json!({ "method": "none" }));
    }

    // The notifier's body, `updated_at` included, is byte for byte what it was; so is the
    // list's (no cached answer went stale).
    let after = app.get(&notifier_path(id), &app.admin_token).await;
    assert_eq!(after.text, before.text);
    let listed = app.get(NOTIFIERS, &app.admin_token).await.json();
    assert_eq!(listed["results"][0], before.json());

    // Unknown keys are ignored; back to the default.
    let resp = app
        .put_json(
            &format!("{}/", authentication_path(id)),
            &json!({ "method": "password", "extra": 1 }),
            &app.admin_token,
        )
        .await;
    assert_json(&resp, 200, &json!({ "method": "password" }));
    let resp = app.get(&authentication_path(id), &app.admin_token).await;
    assert_json(&resp, 200, &json!({ "method": "password" }));
    assert_eq!(
        app.get(&notifier_path(id), &app.admin_token).await.text,
        before.text
    );
}

async fn unknown_notifiers_are_404_and_unknown_methods_400(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = id_of(&app.create_named("relay").await);
    let missing = id + 1000;

    let resp = app
        .get(&authentication_path(missing), &app.admin_token)
        .await;
    assert_detail(&resp, 404, NOT_FOUND_NOTIFIER);
    let resp = put_method(&app, missing, "none").await;
    assert_detail(&resp, 404, NOT_FOUND_NOTIFIER);
    // The lookup comes before the body, as in DRF's update view.
    let resp = put_method(&app, missing, "x").await;
    assert_detail(&resp, 404, NOT_FOUND_NOTIFIER);

    let resp = put_method(&app, id, "x").await;
    assert_json(
        &resp,
        400,
        &json!({ "method": ["\"x\" is not a valid choice."] }),
    );
    let resp = put_method(&app, id, "xoauth2").await;
    assert_json(
        &resp,
        400,
        &json!({ "xoauth2": ["This field is required."] }),
    );
    let resp = app
        .put_json(&authentication_path(id), &json!({}), &app.admin_token)
        .await;
    assert_json(
        &resp,
        400,
        &json!({ "method": ["This field is required."] }),
    );
    let resp = app
        .put_json(
            &authentication_path(id),
            &json!({ "method": null }),
            &app.admin_token,
        )
        .await;
    assert_json(
        &resp,
        400,
        &json!({ "method": ["This field may not be null."] }),
    );
    // Nothing was stored by the refusals.
    let resp = app.get(&authentication_path(id), &app.admin_token).await;
    assert_json(&resp, 200, &json!({ "method": "password" }));
}

async fn codes_2832_read_and_2833_write_before_anything_else(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = id_of(&app.create_named("relay").await);
    let reader = app.user_with_codes("reader", true, &[2832]).await;
    let writer = app.user_with_codes("writer", true, &[2833]).await;
    let others: Vec<u16> = ALL_CODES
        .into_iter()
        .filter(|c| !matches!(c, 2832 | 2833))
        .collect();
    let bystander = app.user_with_codes("bystander", true, &others).await;
    let path = authentication_path(id);
    let missing = authentication_path(id + 1000);
    let bad = json!({ "method": "x" });

    assert_json(
        &app.get(&path, &reader).await,
        200,
        &json!({ "method": "password" }),
    );
    assert_detail(
        &app.put_json(&path, &json!({ "method": "none" }), &reader)
            .await,
        403,
        FORBIDDEN,
    );
    assert_json(
        &app.put_json(&path, &json!({ "method": "none" }), &writer)
            .await,
        200,
        &json!({ "method": "none" }),
    );
    assert_detail(&app.get(&path, &writer).await, 403, FORBIDDEN);

    // 403 before 404 and 400.
    for token in [&bystander, &reader] {
        assert_detail(&app.put_json(&missing, &bad, token).await, 403, FORBIDDEN);
    }
    assert_detail(&app.get(&missing, &bystander).await, 403, FORBIDDEN);
    assert_detail(&app.get(&path, &bystander).await, 403, FORBIDDEN);
    // 401 before everything.
    let anonymous = app.send(app.request(Method::GET, &missing)).await;
    assert_detail(&anonymous, 401, NOT_AUTHENTICATED);
    let anonymous = app
        .send(app.request(Method::PUT, &missing).json(&bad))
        .await;
    assert_detail(&anonymous, 401, NOT_AUTHENTICATED);
    assert_json(
        &app.get(&path, &app.admin_token).await,
        200,
        &json!({ "method": "none" }),
    );
}

async fn other_methods_are_405_and_options_describes_the_choice(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = id_of(&app.create_named("relay").await);
    let path = authentication_path(id);
    let allow = "GET, PUT, HEAD, OPTIONS";

    for method in [Method::POST, Method::PATCH, Method::DELETE] {
        let resp = app
            .send(
                app.request(method.clone(), &path)
                    .header("Authorization", token_header(&app.admin_token)),
            )
            .await;
        assert_detail(&resp, 405, &format!("Method \"{method}\" not allowed."));
        assert_eq!(resp.header("allow"), Some(allow), "{method}");
    }

    let resp = app
        .send(
            app.request(Method::OPTIONS, &path)
                .header("Authorization", token_header(&app.admin_token)),
        )
        .await;
    assert_status(&resp, 200);
    assert_eq!(resp.header("allow"), Some(allow));
    let choices = &resp.json()["actions"]["PUT"]["method"]["choices"];
    assert_eq!(
        choices,
        &json!([
            { "value": "password", "display_name": "password" },
            { "value": "none", "display_name": "none" },
            { "value": "xoauth2", "display_name": "xoauth2" },
        ])
    );

    let staff = app.user_with_codes("staff", true, &ALL_CODES).await;
    let resp = app
        .send(
            app.request(Method::OPTIONS, &path)
                .header("Authorization", token_header(&staff)),
        )
        .await;
    assert_detail(&resp, 403, FORBIDDEN);
}

async fn none_sends_without_auth_and_a_password_meets_the_hint(backend: Backend) {
    let relay = trusting_relay().await;
    let app = spawn_app(backend).await;
    let id = id_of(
        &app.create_notifier(&relay_notifier("relay", relay.port))
            .await,
    );
    let send = format!("{}/send", notifier_path(id));
    let check = format!("{}/test", notifier_path(id));

    // `password` (the default) against a server that offers no AUTH: a permanent failure
    // whose words say what to do.
    let resp = app
        .post_json(&send, &message("ann@example.com"), &app.admin_token)
        .await;
    assert_send_failed(&resp, &format!("SMTP error: {HINT}"));
    let resp = app.post_json(&check, &json!({}), &app.admin_token).await;
    assert_status(&resp, 200);
    assert_eq!(resp.json()["success"], json!(false), "{}", resp.text);
    assert_eq!(resp.json()["detail"], json!(HINT), "{}", resp.text);
    assert_eq!(
        step_names(&resp),
        ["resolve", "connect", "ehlo", "auth"],
        "{}",
        resp.text
    );
    let hint = resp.json()["hint"].as_str().unwrap_or_default().to_owned();
    assert!(
        hint.contains("authentication method to \"none\""),
        "{}",
        resp.text
    );
    assert!(relay.received().is_empty());

    assert_status(&put_method(&app, id, "none").await, 200);

    let resp = app
        .post_json(&send, &message("ann@example.com"), &app.admin_token)
        .await;
    assert_status(&resp, 200);
    assert_eq!(resp.json()["sent"], json!(1), "{}", resp.text);
    let resp = app
        .post_json(
            &check,
            &json!({ "to": "bob@example.com" }),
            &app.admin_token,
        )
        .await;
    assert_status(&resp, 200);
    assert_eq!(resp.json()["success"], json!(true), "{}", resp.text);
    assert_eq!(
        step_names(&resp),
        ["resolve", "connect", "ehlo", "mail_from", "rcpt_to", "data"],
        "`none` sends no AUTH, so there is no auth step: {}",
        resp.text
    );
    assert_eq!(resp.json()["hint"], json!(null));

    let mails = relay.wait_for_mail(2, WAIT).await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    let recipients: Vec<&str> = mails.iter().map(|m| m.rcpt_to[0].as_str()).collect();
    assert!(
        recipients.iter().any(|r| r.contains("ann@example.com")),
        "{recipients:?}"
    );
    assert!(
        recipients.iter().any(|r| r.contains("bob@example.com")),
        "{recipients:?}"
    );
    assert!(mails.iter().all(|m| m.auth_user.is_none()));
}

async fn queued_sends_honour_none(backend: Backend) {
    let relay = trusting_relay().await;
    let app = spawn_app(backend).await;
    let id = id_of(
        &app.create_notifier(&relay_notifier("relay", relay.port))
            .await,
    );
    assert_status(&put_method(&app, id, "none").await, 200);

    let resp = app
        .send(
            app.request(Method::POST, &format!("{}/send", notifier_path(id)))
                .header("Authorization", token_header(&app.admin_token))
                .header("Prefer", "respond-async")
                .json(&message("carl@example.com")),
        )
        .await;
    assert_status(&resp, 202);
    let delivery = resp.json()["id"].as_i64().expect("the delivery's id");

    let mails = relay.wait_for_mail(1, WAIT).await;
    assert_eq!(mails.len(), 1, "the workers should have sent it");
    assert_eq!(mails[0].auth_user, None);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let current = app
            .get(
                &format!("/api/notifications/deliveries/{delivery}"),
                &app.admin_token,
            )
            .await
            .json();
        if current["status"] == json!("sent") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never recorded as sent: {current}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn the_method_goes_with_its_notifier(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = id_of(&app.create_named("relay").await);
    assert_status(&put_method(&app, id, "none").await, 200);

    assert_status(&app.delete(&notifier_path(id), &app.admin_token).await, 204);

    assert_detail(
        &app.get(&authentication_path(id), &app.admin_token).await,
        404,
        NOT_FOUND_NOTIFIER,
    );
    let db = Database::connect(&app.db_url).await.expect("connect");
    let rows = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM notifier_authentication",
        ))
        .await
        .expect("count")
        .expect("a row")
        .try_get::<i64>("", "n")
        .expect("n");
    assert_eq!(rows, 0, "ON DELETE CASCADE");
}

/// An app trusting a CA made for the test, a token endpoint with that CA's certificate,
/// and a relay on loopback that accepts AUTH XOAUTH2 with the endpoint's current token.
struct OAuthRig {
    app: TestApp,
    endpoint: TokenEndpoint,
    relay: TestSmtpServer,
    _ca_dir: tempfile::TempDir,
}

impl OAuthRig {
    async fn new(backend: Backend) -> OAuthRig {
        let ca = TestCa::new();
        let ca_dir = tempfile::tempdir().expect("a temp dir");
        let ca_file = ca_dir.path().join("ca.pem");
        std::fs::write(&ca_file, &ca.ca_pem).expect("write the CA");
        let app = spawn_app_with(backend, |settings| {
            settings.smtp.extra_ca_file = ca_file.display().to_string();
        })
        .await;
        let endpoint = TokenEndpoint::start(ca.server_config(&["localhost", "127.0.0.1"])).await;
        let options = SmtpServerOptions {
            security: Security::Plain,
            tls: None,
            username: SMTP_USER.into(),
            password: SMTP_PASSWORD.into(),
            require_auth: true,
        };
        let quirks = Quirks {
            xoauth2: Some(endpoint.current.clone()),
            ..Quirks::default()
        };
        let relay = TestSmtpServer::start_with(options, quirks).await;
        OAuthRig {
            app,
            endpoint,
            relay,
            _ca_dir: ca_dir,
        }
    }

    async fn notifier(&self, body: Value) -> i64 {
        let id = id_of(
            &self
                .app
                .create_notifier(&relay_notifier("oauth", self.relay.port))
                .await,
        );
        let resp = self
            .app
            .put_json(&authentication_path(id), &body, &self.app.admin_token)
            .await;
        assert_status(&resp, 200);
        id
    }
}

fn xoauth2_body(token_url: &str, secret: &str, refresh_token: Option<&str>) -> Value {
    let mut inner = json!({
        "grant": if refresh_token.is_some() { "refresh_token" } else { "client_credentials" },
        "token_url": token_url,
        "client_id": "client-1",
        "client_secret": secret,
        "scope": "https://mail.example.com/.default",
    });
    if let Some(refresh_token) = refresh_token {
        inner["refresh_token"] = json!(refresh_token);
    }
    json!({ "method": "xoauth2", "xoauth2": inner })
}

async fn xoauth2_is_stored_masked_and_its_secrets_follow_the_token_url(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = id_of(&app.create_named("oauth").await);
    let before = app.get(&notifier_path(id), &app.admin_token).await.text;
    let path = authentication_path(id);
    let url = "https://login.example.com/oauth2/token";

    let resp = app
        .put_json(
            &path,
            &xoauth2_body(url, "secret-1", Some("rt-0")),
            &app.admin_token,
        )
        .await;
    let masked = json!({ "method": "xoauth2", "xoauth2": {
        "grant": "refresh_token", "token_url": url, "client_id": "client-1",
        "client_secret": "********", "scope": "https://mail.example.com/.default",
        "refresh_token": "********" } });
    assert_json(&resp, 200, &masked);
    assert_json(&app.get(&path, &app.admin_token).await, 200, &masked);
    assert_eq!(
        app.get(&notifier_path(id), &app.admin_token).await.text,
        before
    );

    // `********` keeps the stored secrets while the token URL stays.
    let resp = app
        .put_json(
            &path,
            &xoauth2_body(url, "********", Some("********")),
            &app.admin_token,
        )
        .await;
    assert_json(&resp, 200, &masked);
    // §11: not when it changes.
    let resp = app
        .put_json(
            &path,
            &xoauth2_body("https://evil.example.net/token", "********", Some("rt-9")),
            &app.admin_token,
        )
        .await;
    assert_json(
        &resp,
        400,
        &json!({ "xoauth2": { "client_secret": ["Enter the secret again when changing the token URL."] } }),
    );
    let resp = app
        .put_json(
            &path,
            &xoauth2_body("http://login.example.com/t", "s", None),
            &app.admin_token,
        )
        .await;
    assert_json(
        &resp,
        400,
        &json!({ "xoauth2": { "token_url": ["Enter a valid URL."] } }),
    );
    assert_json(&app.get(&path, &app.admin_token).await, 200, &masked);

    // Shortcuts fill the endpoint and scope, and are echoed.
    let resp = app
        .put_json(
            &path,
            &json!({ "method": "xoauth2", "xoauth2": { "provider": "microsoft",
                "tenant": "contoso.onmicrosoft.com", "client_id": "c", "client_secret": "s" } }),
            &app.admin_token,
        )
        .await;
    assert_json(
        &resp,
        200,
        &json!({ "method": "xoauth2", "xoauth2": {
        "grant": "client_credentials",
        "token_url": "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
        "client_id": "c", "client_secret": "********",
        "scope": "https://outlook.office365.com/.default",
        "provider": "microsoft", "tenant": "contoso.onmicrosoft.com" } }),
    );
    let resp = app
        .put_json(
            &path,
            &json!({ "method": "xoauth2", "xoauth2": { "provider": "google",
                "client_id": "c", "client_secret": "s", "refresh_token": "r" } }),
            &app.admin_token,
        )
        .await;
    assert_json(
        &resp,
        200,
        &json!({ "method": "xoauth2", "xoauth2": {
        "grant": "refresh_token", "token_url": "https://oauth2.googleapis.com/token",
        "client_id": "c", "client_secret": "********", "scope": "https://mail.google.com/",
        "refresh_token": "********", "provider": "google" } }),
    );

    // The secrets are sealed in the database, like passwords.
    let db = Database::connect(&app.db_url).await.expect("connect");
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT client_secret_sealed, refresh_token_sealed FROM notifier_authentication",
        ))
        .await
        .expect("read")
        .expect("a row");
    let sealed: String = row.try_get("", "client_secret_sealed").expect("sealed");
    assert!(!sealed.is_empty() && sealed != "s", "{sealed}");
    let sealed: String = row.try_get("", "refresh_token_sealed").expect("sealed");
    assert!(!sealed.is_empty() && sealed != "r", "{sealed}");
}

async fn xoauth2_sends_tests_and_queues_with_a_cached_access_token(backend: Backend) {
    let rig = OAuthRig::new(backend).await;
    let app = &rig.app;
    let id = rig
        .notifier(xoauth2_body(&rig.endpoint.url(), "secret-1", None))
        .await;

    let check = app
        .post_json(
            &format!("{}/test", notifier_path(id)),
            &json!({}),
            &app.admin_token,
        )
        .await;
    assert_eq!(check.json()["success"], json!(true), "{}", check.text);
    assert_eq!(
        step_names(&check),
        ["oauth2_token", "resolve", "connect", "ehlo", "auth"],
        "the token comes first: {}",
        check.text
    );
    assert_eq!(
        check.json()["steps"][4]["detail"],
        json!("accepted AUTH XOAUTH2")
    );
    let resp = app
        .post_json(
            &format!("{}/send", notifier_path(id)),
            &message("ann@example.com"),
            &app.admin_token,
        )
        .await;
    assert_status(&resp, 200);
    let queued = app
        .send(
            app.request(Method::POST, &format!("{}/send", notifier_path(id)))
                .header("Authorization", token_header(&app.admin_token))
                .header("Prefer", "respond-async")
                .json(&message("bob@example.com")),
        )
        .await;
    assert_status(&queued, 202);

    let mails = rig.relay.wait_for_mail(2, WAIT).await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(
        mails
            .iter()
            .all(|m| m.auth_user.as_deref() == Some(SMTP_USER))
    );
    let requests = rig.endpoint.requests();
    assert_eq!(
        requests.len(),
        1,
        "one token served all three: {requests:?}"
    );
    assert_eq!(requests[0]["grant_type"], "client_credentials");
    assert_eq!(requests[0]["client_secret"], "secret-1");

    // Revoked early: a new connection (`/test` always makes one) gets a 535, then one new
    // token is fetched and the login succeeds.
    rig.endpoint.revoke();
    let check = app
        .post_json(
            &format!("{}/test", notifier_path(id)),
            &json!({}),
            &app.admin_token,
        )
        .await;
    assert_eq!(check.json()["success"], json!(true), "{}", check.text);
    assert_eq!(rig.endpoint.requests().len(), 2);
    assert_eq!(
        step_names(&check),
        [
            "oauth2_token",
            "resolve",
            "connect",
            "ehlo",
            "auth",
            "oauth2_token",
            "connect",
            "ehlo",
            "auth"
        ],
        "the 535 and the retry with a new token, in the order they ran: {}",
        check.text
    );
    assert_eq!(
        check.json()["steps"][4]["ok"],
        json!(false),
        "{}",
        check.text
    );

    let metrics = app.raw("GET", "/metrics", None, None, "").await.text;
    assert!(
        metrics.contains("notifier_oauth_token_fetch_total{outcome=\"ok\"} 2"),
        "{metrics}"
    );
}

async fn xoauth2_stores_a_rotated_refresh_token_and_reports_endpoint_errors(backend: Backend) {
    let rig = OAuthRig::new(backend).await;
    let app = &rig.app;
    rig.endpoint.rotate_refresh_tokens();
    let id = rig
        .notifier(xoauth2_body(&rig.endpoint.url(), "secret-1", Some("rt-0")))
        .await;
    let send = format!("{}/send", notifier_path(id));
    let db = Database::connect(&app.db_url).await.expect("connect");
    let sealed = || async {
        db.query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT refresh_token_sealed FROM notifier_authentication",
        ))
        .await
        .expect("read")
        .expect("a row")
        .try_get::<String>("", "refresh_token_sealed")
        .expect("sealed")
    };
    let first = sealed().await;

    assert_status(
        &app.post_json(&send, &message("ann@example.com"), &app.admin_token)
            .await,
        200,
    );
    assert_eq!(rig.endpoint.requests()[0]["refresh_token"], "rt-0");

    // The endpoint answered rt-1 in place of rt-0: it is stored (sealed) ...
    let deadline = tokio::time::Instant::now() + WAIT;
    while sealed().await == first {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the rotated token was never stored"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // ... and the next token is asked for with it (revoked early: `/test` gets a 535).
    rig.endpoint.revoke();
    let check = app
        .post_json(
            &format!("{}/test", notifier_path(id)),
            &json!({}),
            &app.admin_token,
        )
        .await;
    assert_eq!(check.json()["success"], json!(true), "{}", check.text);
    let requests = rig.endpoint.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[1]["refresh_token"], "rt-1");

    // An endpoint's refusal, in its own words. A PUT (secrets kept) drops the pooled
    // connections and the cached token, so the send needs a new one.
    rig.endpoint
        .fail_with("invalid_grant", "The refresh token has expired.");
    let resp = app
        .put_json(
            &authentication_path(id),
            &xoauth2_body(&rig.endpoint.url(), "********", Some("********")),
            &app.admin_token,
        )
        .await;
    assert_status(&resp, 200);
    let resp = app
        .post_json(&send, &message("carl@example.com"), &app.admin_token)
        .await;
    assert_send_failed(
        &resp,
        "SMTP error: OAuth2 token endpoint: invalid_grant: The refresh token has expired.",
    );
    let check = app
        .post_json(
            &format!("{}/test", notifier_path(id)),
            &json!({}),
            &app.admin_token,
        )
        .await;
    assert_eq!(
        check.json()["detail"],
        json!("OAuth2 token endpoint: invalid_grant: The refresh token has expired."),
        "{}",
        check.text
    );
    assert_eq!(step_names(&check), ["oauth2_token"], "{}", check.text);
    let hint = check.json()["hint"].as_str().unwrap_or_default().to_owned();
    assert!(hint.contains("refresh token"), "{}", check.text);
}

async fn xoauth2_against_a_server_without_it_is_reported_after_the_token(backend: Backend) {
    let rig = OAuthRig::new(backend).await;
    let app = &rig.app;
    let options = SmtpServerOptions {
        security: Security::Plain,
        tls: None,
        username: SMTP_USER.into(),
        password: SMTP_PASSWORD.into(),
        require_auth: true,
    };
    let password_only = TestSmtpServer::start(options).await;
    let id = id_of(
        &app.create_notifier(&relay_notifier("password-only", password_only.port))
            .await,
    );
    let body = xoauth2_body(&rig.endpoint.url(), "secret-1", None);
    let resp = app
        .put_json(&authentication_path(id), &body, &app.admin_token)
        .await;
    assert_status(&resp, 200);

    let check = app
        .post_json(
            &format!("{}/test", notifier_path(id)),
            &json!({}),
            &app.admin_token,
        )
        .await;
    assert_eq!(check.json()["success"], json!(false), "{}", check.text);
    assert_eq!(
        check.json()["detail"],
        json!("server does not offer AUTH XOAUTH2"),
        "{}",
        check.text
    );
    assert_eq!(
        step_names(&check),
        ["oauth2_token", "resolve", "connect", "ehlo", "auth"],
        "{}",
        check.text
    );
    let hint = check.json()["hint"].as_str().unwrap_or_default().to_owned();
    assert!(
        hint.contains("smtp.office365.com for Microsoft 365"),
        "{}",
        check.text
    );
}

/// The names of a `/test` answer's steps, in order.
fn step_names(check: &Resp) -> Vec<String> {
    check.json()["steps"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .filter_map(|s| s["step"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
