//! Pooled SMTP connections: reused between sends of one notifier, dropped when the notifier
//! is changed or deleted, so that new settings take effect on the very next send.

use std::collections::HashSet;

use futures_util::future::join_all;

use serde_json::json;

use super::mime;
use super::*;

async fn sends_reuse_one_connection_until_the_port_changes(backend: Backend) {
    let rig = Rig::new(backend).await;
    let first = rig.server(Security::StartTls).await;
    let second = rig.server(Security::StartTls).await;
    let id = rig
        .notifier(&smtp_notifier("pooled", first.port, STARTTLS))
        .await;

    let mut ids = Vec::new();
    for n in 0..3 {
        let resp = rig
            .send(id, &short_message(&format!("r{n}@example.com")))
            .await;
        ids.push(sent(&resp));
    }

    let mails = first.wait_for_mail(3, WAIT).await;
    assert_eq!(mails.len(), 3, "{mails:#?}");
    assert_eq!(first.connections(), 1, "three sends, one connection");
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), 3, "message ids repeat: {ids:?}");
    for (n, (mail, message_id)) in mails.iter().zip(&ids).enumerate() {
        assert_eq!(mail.rcpt_to, [format!("r{n}@example.com")]);
        assert_eq!(mime::parse(&mail.data).header("Message-ID"), message_id);
    }

    let patched = rig
        .app
        .patch_json(
            &notifier_path(id),
            &json!({ "port": second.port, "password": SMTP_PASSWORD }),
            &rig.app.admin_token,
        )
        .await;
    assert_status(&patched, 200);
    let resp = rig.send(id, &short_message("moved@example.com")).await;

    let message_id = sent(&resp);
    let moved = second.wait_for_mail(1, WAIT).await;
    assert_eq!(moved.len(), 1, "the send after the PATCH went elsewhere");
    assert_eq!(moved[0].rcpt_to, ["moved@example.com"]);
    assert_eq!(mime::parse(&moved[0].data).header("Message-ID"), message_id);
    assert_eq!(first.received().len(), 3, "the old server got the new send");
    assert_eq!(first.connections(), 1);
}

/// A connection authenticated with the old password must not carry a send after the
/// password changed.
async fn a_new_password_applies_to_the_next_send(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::StartTls).await;
    let id = rig
        .notifier(&smtp_notifier("rotated", server.port, STARTTLS))
        .await;
    let admin = &rig.app.admin_token;
    sent(&rig.send(id, &short_message("a@example.com")).await);

    let patched = rig
        .app
        .patch_json(
            &notifier_path(id),
            &json!({ "password": WRONG_PASSWORD }),
            admin,
        )
        .await;
    assert_status(&patched, 200);
    let refused = rig.send(id, &short_message("b@example.com")).await;
    let restored = rig
        .app
        .patch_json(
            &notifier_path(id),
            &json!({ "password": SMTP_PASSWORD }),
            admin,
        )
        .await;
    assert_status(&restored, 200);
    let accepted = rig.send(id, &short_message("c@example.com")).await;

    assert_send_failed(&refused, &format!("SMTP error: {AUTH_REJECTED}"));
    sent(&accepted);
    let mails = server.wait_for_mail(2, WAIT).await;
    let recipients: Vec<&str> = mails.iter().map(|m| m.rcpt_to[0].as_str()).collect();
    assert_eq!(recipients, ["a@example.com", "c@example.com"]);
}

/// Any PATCH or PUT drops the notifier's pooled connections; a DELETE leaves nothing to
/// send through.
async fn update_and_delete_drop_the_pooled_connection(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::StartTls).await;
    let body = smtp_notifier("renamed", server.port, STARTTLS);
    let id = rig.notifier(&body).await;
    let admin = &rig.app.admin_token;
    let path = notifier_path(id);
    sent(&rig.send(id, &short_message("a@example.com")).await);
    assert_eq!(server.connections(), 1);

    let patched = rig
        .app
        .patch_json(&path, &json!({ "name": "renamed-again" }), admin)
        .await;
    assert_status(&patched, 200);
    sent(&rig.send(id, &short_message("b@example.com")).await);
    assert_eq!(server.connections(), 2, "PATCH kept the pooled connection");

    let put = rig.app.put_json(&path, &body, admin).await;
    assert_status(&put, 200);
    sent(&rig.send(id, &short_message("c@example.com")).await);
    assert_eq!(server.connections(), 3, "PUT kept the pooled connection");

    let deleted = rig.app.delete(&path, admin).await;
    assert_status(&deleted, 204);
    let gone = rig.send(id, &short_message("d@example.com")).await;
    assert_detail(&gone, 404, NOT_FOUND_NOTIFIER);
    assert_eq!(server.received().len(), 3);
    assert_eq!(server.connections(), 3);
}

/// Concurrent sends beyond `smtp.max_connections_per_notifier` wait for a connection of
/// the notifier instead of opening (and authenticating) more; every message still goes.
async fn concurrent_sends_share_a_bounded_number_of_connections(backend: Backend) {
    let rig = Rig::with(backend, |settings| {
        settings.smtp.max_connections_per_notifier = 2;
    })
    .await;
    let server = rig.server(Security::StartTls).await;
    let id = rig
        .notifier(&smtp_notifier("bounded", server.port, STARTTLS))
        .await;

    let messages: Vec<_> = (0..10)
        .map(|n| short_message(&format!("c{n}@example.com")))
        .collect();
    let answers = join_all(messages.iter().map(|message| rig.send(id, message))).await;

    for answer in &answers {
        sent(answer);
    }
    assert_eq!(server.wait_for_mail(10, WAIT).await.len(), 10);
    assert!(
        server.connections() <= 2,
        "{} connections for 10 concurrent sends",
        server.connections()
    );
}

backend_tests!(
    concurrent_sends_share_a_bounded_number_of_connections,
    sends_reuse_one_connection_until_the_port_changes,
    a_new_password_applies_to_the_next_send,
    update_and_delete_drop_the_pooled_connection,
);
