//! Code 2835 guards `/test` and `/send`, before the body and before the lookup.

use serde_json::json;

use super::*;

/// (path, a valid body) for both endpoints of notifier `id`.
fn endpoints(id: i64) -> [(String, Value); 2] {
    [
        (check_path(id), json!({ "to": "t@example.com" })),
        (send_path(id), short_message("s@example.com")),
    ]
}

async fn staff_without_2835_is_forbidden_and_nothing_is_sent(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::StartTls).await;
    let id = rig
        .notifier(&smtp_notifier("guarded", server.port, STARTTLS))
        .await;
    let others: Vec<u16> = ALL_CODES.into_iter().filter(|c| *c != 2835).collect();
    let staff = rig.app.user_with_codes("staff", true, &others).await;
    let outsider = rig.app.user_with_codes("outsider", false, &ALL_CODES).await;

    for token in [&staff, &outsider] {
        for (path, body) in endpoints(id) {
            let resp = rig.app.post_json(&path, &body, token).await;

            assert_detail(&resp, 403, FORBIDDEN);
        }
    }
    assert_eq!(server.connections(), 0, "a forbidden request reached SMTP");
}

async fn staff_with_2835_alone_and_admins_may_test_and_send(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::StartTls).await;
    let id = rig
        .notifier(&smtp_notifier("allowed", server.port, STARTTLS))
        .await;
    let sender = rig.app.user_with_codes("sender", true, &[2835]).await;

    for token in [&sender, &rig.app.admin_token] {
        let [(check, check_body), (send, send_body)] = endpoints(id);

        let outcome = checked(&rig.app.post_json(&check, &check_body, token).await);
        let resp = rig.app.post_json(&send, &send_body, token).await;

        assert!(outcome.success, "{outcome:?}");
        sent(&resp);
    }
    assert_eq!(server.wait_for_mail(4, WAIT).await.len(), 4);
}

async fn no_token_is_401_before_the_body(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::StartTls).await;
    let id = rig
        .notifier(&smtp_notifier("anonymous", server.port, STARTTLS))
        .await;

    for (path, body) in endpoints(id) {
        let valid = serde_json::to_vec(&body).expect("a JSON body");
        for (content_type, body) in [
            ("application/json", valid),
            ("application/json", b"{not json".to_vec()),
            ("text/plain", b"hello".to_vec()),
        ] {
            let resp = rig
                .app
                .raw("POST", &path, None, Some(content_type), body)
                .await;

            assert_detail(&resp, 401, NOT_AUTHENTICATED);
            assert_eq!(resp.header("www-authenticate"), Some("Token"));
        }
    }
    assert_eq!(server.connections(), 0);
}

async fn forbidden_is_decided_before_the_body_and_the_lookup(backend: Backend) {
    let rig = Rig::new(backend).await;
    let token = rig.app.user_with_codes("reader", true, &[2830, 2832]).await;
    let auth = token_header(&token);
    let oversized = vec![b' '; rig.app.settings.server.body_limit + 1];

    for path in [check_path(999_999), send_path(999_999)] {
        let cases: [(&str, Vec<u8>); 4] = [
            ("application/json", br#"{"to": "x"}"#.to_vec()),
            ("application/json", b"{not json".to_vec()),
            ("text/plain", b"hello".to_vec()),
            ("application/json", oversized.clone()),
        ];
        for (content_type, body) in cases {
            let resp = rig
                .app
                .raw("POST", &path, Some(&auth), Some(content_type), body)
                .await;

            assert_detail(&resp, 403, FORBIDDEN);
        }
    }
}

/// DRF's actions call `get_object()` first: a permitted user learns of a missing id even
/// with a body that would not validate.
async fn unknown_id_is_404_before_the_body(backend: Backend) {
    let rig = Rig::new(backend).await;
    let sender = rig.app.user_with_codes("sender", true, &[2835]).await;

    for token in [&sender, &rig.app.admin_token] {
        for (path, valid) in endpoints(999_999) {
            for body in [valid, json!({ "to": "x" })] {
                let resp = rig.app.post_json(&path, &body, token).await;

                assert_detail(&resp, 404, NOT_FOUND_NOTIFIER);
            }
        }
    }
}

backend_tests!(
    staff_without_2835_is_forbidden_and_nothing_is_sent,
    staff_with_2835_alone_and_admins_may_test_and_send,
    no_token_is_401_before_the_body,
    forbidden_is_decided_before_the_body_and_the_lookup,
    unknown_id_is_404_before_the_body,
);
