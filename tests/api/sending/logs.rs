//! `notifier serve` as a process, logging at trace level while it checks and sends: its
//! output never shows an SMTP password (plain or as AUTH sends it) or a message's body.

use serde_json::json;

use super::*;

/// Standard base64, as AUTH PLAIN and AUTH LOGIN carry credentials.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

async fn served_process_logs_no_password_and_no_body(backend: Backend) {
    let ca = TestCa::new();
    let tls = ca.server_config(&["localhost", "127.0.0.1"]);
    let server = TestSmtpServer::start(smtp_options(Security::StartTls, Some(tls))).await;
    // AUTH in the clear, where a transcript would show the credentials' base64.
    let plain = TestSmtpServer::start(smtp_options(Security::Plain, None)).await;
    let mut env = TestEnv::new(backend).await;
    let ca_file = env.dir.path().join("test-ca.pem");
    std::fs::write(&ca_file, &ca.ca_pem).expect("write the CA file");
    env.settings.smtp.extra_ca_file = ca_file.display().to_string();
    let config = env.write_config(&env.settings);
    let config = config.to_str().expect("a UTF-8 path");
    let process = ServerProcess::start(&["--config", config, "serve"], "trace").await;
    let client = http_client();
    let auth = token_header(&env.admin_token());
    let post = |path: String, body: Value| {
        client
            .post(format!("{}{path}", process.address))
            .header("authorization", auth.clone())
            .json(&body)
            .send()
    };
    let text = "BODY-MARKER-7d1e plain text";
    let html = "<p>HTML-MARKER-93ab</p>";
    let message =
        json!({ "to": ["a@example.com"], "subject": "s", "body": text, "html_body": html });

    let mut statuses = Vec::new();
    let notifiers = [
        ("right", SMTP_PASSWORD, server.port, STARTTLS),
        ("wrong", WRONG_PASSWORD, server.port, STARTTLS),
        ("plain", SMTP_PASSWORD, plain.port, PLAIN),
    ];
    for (name, password, port, flags) in notifiers {
        let mut body = smtp_notifier(name, port, flags);
        body["password"] = json!(password);
        let created = post(NOTIFIERS.to_owned(), body).await.expect("create");
        let id = id_of(&created.json::<Value>().await.expect("a notifier"));
        for (path, body) in [
            (check_path(id), json!({})),
            (check_path(id), json!({ "to": "b@example.com" })),
            (send_path(id), message.clone()),
        ] {
            let resp = post(path, body).await.expect("a request to the process");
            statuses.push(resp.status().as_u16());
        }
    }
    let finished = process.terminate().await;

    assert_eq!(statuses, [200, 200, 200, 200, 200, 502, 200, 200, 200]);
    assert_eq!(
        server.received().len(),
        2,
        "the right notifier's check and send"
    );
    assert_eq!(
        plain.received().len(),
        2,
        "the plain notifier's check and send"
    );
    let output = format!("{}{}", finished.stdout, finished.stderr);
    let mut secrets = vec![
        SMTP_PASSWORD.to_owned(),
        WRONG_PASSWORD.to_owned(),
        env.admin_token(),
        "BODY-MARKER-7d1e".to_owned(),
        "HTML-MARKER-93ab".to_owned(),
    ];
    for password in [SMTP_PASSWORD, WRONG_PASSWORD] {
        secrets.push(base64(password.as_bytes()));
        secrets.push(base64(format!("\0{SMTP_USER}\0{password}").as_bytes()));
    }
    for secret in secrets {
        assert!(
            !output.contains(&secret),
            "the log shows {secret:?}:\n{output}"
        );
    }
}

#[test]
fn base64_matches_the_rfc_4648_examples() {
    let cases = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
    ];
    for (plain, encoded) in cases {
        assert_eq!(base64(plain.as_bytes()), encoded);
    }
}

backend_tests!(served_process_logs_no_password_and_no_body);
