//! §2/§3 permissions: each endpoint needs exactly its code; checked before body and lookup.

use serde_json::{Value, json};

use crate::helpers::*;

/// One endpoint of §2, with the code it needs and the status it answers when allowed.
struct Endpoint {
    action: &'static str,
    method: &'static str,
    code: u16,
    success: u16,
}

const ENDPOINTS: [Endpoint; 8] = [
    Endpoint {
        action: "list",
        method: "GET",
        code: 2830,
        success: 200,
    },
    Endpoint {
        action: "create",
        method: "POST",
        code: 2831,
        success: 201,
    },
    Endpoint {
        action: "retrieve",
        method: "GET",
        code: 2832,
        success: 200,
    },
    Endpoint {
        action: "partial_update",
        method: "PATCH",
        code: 2833,
        success: 200,
    },
    Endpoint {
        action: "update",
        method: "PUT",
        code: 2833,
        success: 200,
    },
    Endpoint {
        action: "destroy",
        method: "DELETE",
        code: 2834,
        success: 204,
    },
    Endpoint {
        action: "test",
        method: "POST",
        code: 2835,
        success: 200,
    },
    Endpoint {
        action: "send",
        method: "POST",
        code: 2835,
        success: 200,
    },
];

impl Endpoint {
    fn path(&self, id: i64) -> String {
        match self.action {
            "list" | "create" => NOTIFIERS.to_owned(),
            "test" => format!("{}/test", notifier_path(id)),
            "send" => format!("{}/send", notifier_path(id)),
            _ => notifier_path(id),
        }
    }

    /// A body this endpoint accepts; `tag` keeps names unique.
    fn body(&self, tag: &str) -> Option<Value> {
        match self.action {
            "create" | "update" => Some(target_body(&format!("{}-{tag}", self.action))),
            "partial_update" => Some(json!({ "name": format!("patched-{tag}") })),
            "test" => Some(json!({})),
            "send" => Some(json!({ "to": ["someone@example.com"], "subject": "s", "body": "b" })),
            _ => None,
        }
    }

    async fn call(&self, app: &TestApp, id: i64, token: &str, tag: &str) -> Resp {
        let body = self
            .body(tag)
            .map(|b| serde_json::to_vec(&b).expect("a JSON body"))
            .unwrap_or_default();
        let content_type = (!body.is_empty()).then_some("application/json");
        let authorization = token_header(token);
        app.raw(
            self.method,
            &self.path(id),
            Some(&authorization),
            content_type,
            body,
        )
        .await
    }
}

/// A notifier whose SMTP server refuses at once (port 1 on loopback) and that fails
/// silently, so `/test` and `/send` answer 200 without any network wait.
fn target_body(name: &str) -> Value {
    json!({
        "name": name,
        "host": "127.0.0.1",
        "port": 1,
        "username": "u",
        "password": "p",
        "from_email": "sender@example.com",
        "use_tls": false,
        "use_ssl": false,
        "fail_silently": true
    })
}

async fn new_target(app: &TestApp, tag: &str) -> i64 {
    id_of(
        &app.create_notifier(&target_body(&format!("target-{tag}")))
            .await,
    )
}

fn every_code_but(code: u16) -> Vec<u16> {
    ALL_CODES.into_iter().filter(|c| *c != code).collect()
}

async fn staff_with_every_other_code_is_forbidden_on_each_endpoint(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = new_target(&app, "kept").await;
    let before = app.get(&notifier_path(id), &app.admin_token).await.text;

    for (i, endpoint) in ENDPOINTS.iter().enumerate() {
        let user = format!("staff-without-{}", endpoint.action);
        let token = app
            .user_with_codes(&user, true, &every_code_but(endpoint.code))
            .await;

        let resp = endpoint.call(&app, id, &token, &i.to_string()).await;

        assert_detail(&resp, 403, FORBIDDEN);
    }
    let after = app.get(NOTIFIERS, &app.admin_token).await.json();
    assert_eq!(after["count"], 1, "a forbidden request changed the data");
    assert_eq!(
        app.get(&notifier_path(id), &app.admin_token).await.text,
        before
    );
}

async fn staff_with_only_the_endpoints_code_is_allowed(backend: Backend) {
    let app = spawn_app(backend).await;

    for (i, endpoint) in ENDPOINTS.iter().enumerate() {
        let id = new_target(&app, &i.to_string()).await;
        let user = format!("staff-with-{}", endpoint.action);
        let token = app.user_with_codes(&user, true, &[endpoint.code]).await;

        let resp = endpoint.call(&app, id, &token, &i.to_string()).await;

        assert_eq!(
            resp.status, endpoint.success,
            "{} with only code {}: {}",
            endpoint.action, endpoint.code, resp.text
        );
    }
}

async fn non_staff_user_holding_every_code_is_forbidden_everywhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = new_target(&app, "kept").await;
    let token = app.user_with_codes("not-staff", false, &ALL_CODES).await;

    for (i, endpoint) in ENDPOINTS.iter().enumerate() {
        let resp = endpoint.call(&app, id, &token, &i.to_string()).await;

        assert_detail(&resp, 403, FORBIDDEN);
    }
}

async fn admins_are_allowed_everywhere_without_codes(backend: Backend) {
    let app = spawn_app(backend).await;
    app.cli_ok(&["user", "create", "boss", "--admin"]).await;
    let boss = app.new_token("boss").await;

    let admins = [
        ("bootstrap admin", app.admin_token.clone()),
        ("--admin user", boss),
    ];
    for (n, (who, token)) in admins.iter().enumerate() {
        for (i, endpoint) in ENDPOINTS.iter().enumerate() {
            let tag = format!("{n}-{i}");
            let id = new_target(&app, &tag).await;

            let resp = endpoint.call(&app, id, token, &tag).await;

            assert_eq!(
                resp.status, endpoint.success,
                "{who} on {}: {}",
                endpoint.action, resp.text
            );
        }
    }
}

async fn forbidden_user_gets_403_before_body_or_lookup(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.user_with_codes("reader", true, &[2830, 2832]).await;
    let auth = token_header(&token);
    let missing = notifier_path(999_999);
    let oversized = vec![b' '; app.settings.server.body_limit + 1];
    let cases: [(&str, &str, Option<&str>, Vec<u8>); 6] = [
        (
            "PATCH",
            &missing,
            Some("application/json"),
            br#"{"port": "abc"}"#.to_vec(),
        ),
        (
            "PATCH",
            &missing,
            Some("application/json"),
            b"{not json".to_vec(),
        ),
        ("PATCH", &missing, Some("text/plain"), b"hello".to_vec()),
        ("PUT", &missing, Some("application/json"), oversized),
        (
            "POST",
            NOTIFIERS,
            Some("application/json"),
            br#"[1, 2]"#.to_vec(),
        ),
        ("DELETE", &missing, None, Vec::new()),
    ];

    for (method, path, content_type, body) in cases {
        let resp = app.raw(method, path, Some(&auth), content_type, body).await;

        assert_detail(&resp, 403, FORBIDDEN);
    }
}

async fn forbidden_user_reading_a_missing_id_gets_403_not_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.user_with_codes("lister", true, &[2830]).await;

    let resp = app.get(&notifier_path(999_999), &token).await;

    assert_detail(&resp, 403, FORBIDDEN);
}

async fn unauthenticated_request_gets_401_before_body_checks(backend: Backend) {
    let app = spawn_app(backend).await;
    let oversized = vec![b' '; app.settings.server.body_limit + 1];
    let cases: [(&str, Option<&str>, Vec<u8>); 4] = [
        ("POST", Some("text/plain"), b"hello".to_vec()),
        ("POST", Some("application/json"), b"{not json".to_vec()),
        ("POST", Some("application/json"), oversized),
        ("PATCH", Some("text/plain"), b"hello".to_vec()),
    ];

    for (method, content_type, body) in cases {
        let path = if method == "POST" {
            NOTIFIERS.to_owned()
        } else {
            notifier_path(1)
        };
        let resp = app.raw(method, &path, None, content_type, body).await;

        assert_detail(&resp, 401, NOT_AUTHENTICATED);
    }
}

/// DRF's update looks the instance up before it validates: a permitted user gets 404.
async fn permitted_user_patching_a_missing_id_with_a_bad_body_gets_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.user_with_codes("editor", true, &[2833]).await;

    let resp = app
        .patch_json(&notifier_path(999_999), &json!({ "port": "abc" }), &token)
        .await;

    assert_detail(&resp, 404, NOT_FOUND_NOTIFIER);
}

backend_tests!(
    staff_with_every_other_code_is_forbidden_on_each_endpoint,
    staff_with_only_the_endpoints_code_is_allowed,
    non_staff_user_holding_every_code_is_forbidden_everywhere,
    admins_are_allowed_everywhere_without_codes,
    forbidden_user_gets_403_before_body_or_lookup,
    forbidden_user_reading_a_missing_id_gets_403_not_404,
    unauthenticated_request_gets_401_before_body_checks,
    permitted_user_patching_a_missing_id_with_a_bad_body_gets_404,
);
