//! Request bodies of `/send` and `/test`: DRF's 400 bodies, byte for byte (checked against
//! the DRF reference), and no SMTP connection for a rejected body.

use serde_json::json;

use super::*;

const REQUIRED: &str = "This field is required.";
const BAD_EMAIL: &str = "Enter a valid email address.";
const BLANK: &str = "This field may not be blank.";
const NULL: &str = "This field may not be null.";
const NOT_A_STRING: &str = "Not a valid string.";
const ONE_LINE: &str = "The subject must be a single line.";
const TOO_MANY: &str = "At most 100 recipients in all.";

fn not_a_list(type_name: &str) -> String {
    format!("Expected a list of items but got type \"{type_name}\".")
}

/// `n` addresses `prefix0@example.com`, `prefix1@example.com`, …
fn addresses(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}@example.com")).collect()
}

/// (request body, the whole 400 body DRF answers).
fn send_cases() -> Vec<(Value, Value)> {
    let ok = short_message("a@example.com");
    vec![
        (
            json!({}),
            json!({ "to": [REQUIRED], "subject": [REQUIRED], "body": [REQUIRED] }),
        ),
        (
            with(&ok, json!({ "to": "a@example.com" })),
            json!({ "to": [not_a_list("str")] }),
        ),
        (
            with(&ok, json!({ "to": { "a": "b" } })),
            json!({ "to": [not_a_list("dict")] }),
        ),
        (
            with(&ok, json!({ "to": "x", "cc": "y", "bcc": 3 })),
            json!({
                "to": [not_a_list("str")],
                "cc": [not_a_list("str")],
                "bcc": [not_a_list("int")]
            }),
        ),
        (
            with(&ok, json!({ "to": [] })),
            json!({ "to": ["This list may not be empty."] }),
        ),
        (
            with(&ok, json!({ "bcc": ["nope"] })),
            json!({ "bcc": { "0": [BAD_EMAIL] } }),
        ),
        (
            with(
                &ok,
                json!({
                    "to": ["a@example.com", "bad", "c@example.com", "x@"],
                    "cc": ["y"],
                    "bcc": ["nope"],
                    "reply_to": "zz"
                }),
            ),
            json!({
                "to": { "1": [BAD_EMAIL], "3": [BAD_EMAIL] },
                "cc": { "0": [BAD_EMAIL] },
                "bcc": { "0": [BAD_EMAIL] },
                "reply_to": [BAD_EMAIL]
            }),
        ),
        (
            with(&ok, json!({ "to": ["Ann <ann@example.com>"] })),
            json!({ "to": { "0": [BAD_EMAIL] } }),
        ),
        (
            with(&ok, json!({ "to": ["a@example.com", null] })),
            json!({ "to": { "1": [NULL] } }),
        ),
        (
            with(&ok, json!({ "to": ["a@example.com", ""] })),
            json!({ "to": { "1": [BLANK] } }),
        ),
        (with_field(&ok, "to", Value::Null), json!({ "to": [NULL] })),
        (
            with(&ok, json!({ "subject": "first\nsecond" })),
            json!({ "subject": [ONE_LINE] }),
        ),
        (
            with(&ok, json!({ "subject": "first\rsecond" })),
            json!({ "subject": [ONE_LINE] }),
        ),
        (
            with(&ok, json!({ "subject": "", "body": "" })),
            json!({ "subject": [BLANK], "body": [BLANK] }),
        ),
        (
            with(&ok, json!({ "subject": "  " })),
            json!({ "subject": [BLANK] }),
        ),
        (
            with(&ok, json!({ "subject": "\n", "body": "a\u{0}b" })),
            json!({ "subject": [BLANK], "body": ["Null characters are not allowed."] }),
        ),
        (
            with_field(
                &with_field(&with_field(&ok, "cc", Value::Null), "subject", Value::Null),
                "html_body",
                Value::Null,
            ),
            json!({ "cc": [NULL], "subject": [NULL], "html_body": [NULL] }),
        ),
        (
            with(&ok, json!({ "html_body": "", "reply_to": "" })),
            json!({ "reply_to": [BLANK], "html_body": [BLANK] }),
        ),
        (
            with(&ok, json!({ "reply_to": ["a@example.com"] })),
            json!({ "reply_to": [BAD_EMAIL] }),
        ),
        (
            with(&ok, json!({ "to": [1], "subject": 1, "body": true })),
            json!({ "to": { "0": [BAD_EMAIL] }, "body": [NOT_A_STRING] }),
        ),
        (
            with(
                &ok,
                json!({ "to": [["a@example.com"]], "subject": ["s"], "body": { "a": 1 } }),
            ),
            json!({
                "to": { "0": [BAD_EMAIL] },
                "subject": [NOT_A_STRING],
                "body": [NOT_A_STRING]
            }),
        ),
        (
            with(
                &ok,
                json!({
                    "to": addresses("t", 50),
                    "cc": addresses("c", 25),
                    "bcc": addresses("b", 26)
                }),
            ),
            json!({ "non_field_errors": [TOO_MANY] }),
        ),
        // The recipient count is checked only once every field is valid.
        (
            with(
                &ok,
                json!({ "to": addresses("t", 101), "subject": "two\nlines" }),
            ),
            json!({ "subject": [ONE_LINE] }),
        ),
    ]
}

async fn send_validation_errors_are_drfs_and_nothing_is_sent(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::StartTls).await;
    let id = rig
        .notifier(&smtp_notifier("validated", server.port, STARTTLS))
        .await;

    for (body, expected) in send_cases() {
        let resp = rig.send(id, &body).await;

        assert_json(&resp, 400, &expected);
    }
    let no_body = rig
        .app
        .raw_as_admin("POST", &send_path(id), None, Vec::new())
        .await;
    assert_json(
        &no_body,
        400,
        &json!({ "to": [REQUIRED], "subject": [REQUIRED], "body": [REQUIRED] }),
    );
    let list = rig
        .app
        .raw_as_admin("POST", &send_path(id), Some("application/json"), "[]")
        .await;
    assert_json(
        &list,
        400,
        &json!({ "non_field_errors": ["Invalid data. Expected a dictionary, but got list."] }),
    );
    assert_eq!(server.connections(), 0, "a rejected body reached SMTP");
}

async fn exactly_100_recipients_are_accepted(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::StartTls).await;
    let id = rig
        .notifier(&smtp_notifier("hundred", server.port, STARTTLS))
        .await;
    let (to, cc, bcc) = (addresses("t", 50), addresses("c", 25), addresses("b", 25));

    let resp = rig
        .send(
            id,
            &json!({ "to": to, "cc": cc, "bcc": bcc, "subject": "s", "body": "b" }),
        )
        .await;

    sent(&resp);
    let mails = server.wait_for_mail(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    let expected: Vec<String> = [to, cc, bcc].concat();
    assert_eq!(mails[0].rcpt_to, expected);
}

async fn check_validation_errors_are_drfs(backend: Backend) {
    let rig = Rig::new(backend).await;
    let server = rig.server(Security::StartTls).await;
    let id = rig
        .notifier(&smtp_notifier("checked", server.port, STARTTLS))
        .await;
    let cases = [
        (json!({ "to": "bad" }), json!({ "to": [BAD_EMAIL] })),
        (
            json!({ "to": ["a@example.com"] }),
            json!({ "to": [BAD_EMAIL] }),
        ),
        (json!({ "to": null }), json!({ "to": [NULL] })),
        (json!({ "to": "" }), json!({ "to": [BLANK] })),
    ];

    for (body, expected) in cases {
        let resp = rig.check(id, &body).await;

        assert_json(&resp, 400, &expected);
    }
    let list = rig
        .app
        .raw_as_admin("POST", &check_path(id), Some("application/json"), "[]")
        .await;
    assert_json(
        &list,
        400,
        &json!({ "non_field_errors": ["Invalid data. Expected a dictionary, but got list."] }),
    );
    assert_eq!(server.connections(), 0, "a rejected body reached SMTP");
}

/// DRF's EmailField on `/send` and `/test` has no max_length: Django's validator alone
/// decides, and it takes local parts over 64 characters and addresses up to 320.
async fn long_addresses_are_judged_as_django_judges_them(backend: Backend) {
    let rig = Rig::new(backend).await;
    let id = rig
        .notifier(&smtp_notifier("long", closed_port().await, PLAIN))
        .await;
    let label = |c: &str, n: usize| c.repeat(n);
    let local_65 = format!("{}@example.com", label("a", 65));
    let total_255 = format!(
        "{}@{}.{}.{}.com",
        label("a", 64),
        label("b", 63),
        label("c", 63),
        label("d", 58)
    );
    let total_331 = format!(
        "{}@{}.{}.{}.{}.{}.com",
        label("a", 64),
        label("b", 63),
        label("c", 63),
        label("d", 63),
        label("e", 63),
        label("f", 6)
    );
    assert_eq!((total_255.len(), total_331.len()), (255, 331));

    for address in [&local_65, &total_255] {
        let send = rig.send(id, &short_message(address)).await;
        let check = rig.check(id, &json!({ "to": address })).await;

        // Valid: on to SMTP, where the port is closed.
        assert_send_failed(&send, "SMTP error: connection refused; queued for retry");
        assert_eq!(checked(&check).detail, "connection refused");
    }
    let send = rig.send(id, &short_message(&total_331)).await;
    let check = rig.check(id, &json!({ "to": total_331 })).await;

    assert_json(&send, 400, &json!({ "to": { "0": [BAD_EMAIL] } }));
    assert_json(&check, 400, &json!({ "to": [BAD_EMAIL] }));
}

backend_tests!(
    send_validation_errors_are_drfs_and_nothing_is_sent,
    exactly_100_recipients_are_accepted,
    check_validation_errors_are_drfs,
    long_addresses_are_judged_as_django_judges_them,
);
