//! DKIM (docs/API.md §5, DKIM): `.../email/{id}/dkim`, and every message sent through a
//! notifier with DKIM settings signed so that an independent verifier accepts it.
//!
//! The verifier is Python's dkimpy, installed with pip into a venv under the target
//! directory on first use (python3 is all the machine needs); it is given the DNS TXT
//! record the API publishes through its `dnsfunc` argument. Keys given in PEM are made
//! with Python's `cryptography` package in the same venv, so neither the keys nor the
//! verification come from the crates that sign.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::*;
use crate::smtp_server::{ReceivedMail, Security, SmtpServerOptions, TestSmtpServer};

const FROM: &str = "noreply@mail.example.com";
const SMTP_USER: &str = "mailer";
const SMTP_PASSWORD: &str = "s3cret-Pass-dkim";
const WAIT: Duration = Duration::from_secs(10);
const DOMAIN_OUTSIDE: &str = "The DKIM domain must be the from_email's domain or a parent of it.";
const FROM_OUTSIDE: &str =
    "This address is outside the DKIM domain; change or remove the DKIM settings first.";
const SIGNED: &str = "from:from:to:cc:subject:date:message-id:reply-to:mime-version:content-type";

fn dkim_path(id: i64) -> String {
    format!("{}/dkim", notifier_path(id))
}

async fn smtp_server() -> TestSmtpServer {
    TestSmtpServer::start(SmtpServerOptions {
        security: Security::Plain,
        tls: None,
        username: SMTP_USER.into(),
        password: SMTP_PASSWORD.into(),
        require_auth: true,
    })
    .await
}

/// A notifier for the plain-text test server on `port`, sending from [`FROM`].
async fn notifier(app: &TestApp, name: &str, port: u16) -> (i64, Value) {
    let created = app
        .create_notifier(&json!({
            "name": name, "host": "127.0.0.1", "port": port, "username": SMTP_USER,
            "password": SMTP_PASSWORD, "from_email": FROM, "use_tls": false,
            "use_ssl": false,
        }))
        .await;
    (id_of(&created), created)
}

async fn put_dkim(app: &TestApp, id: i64, body: Value) -> Resp {
    app.put_json(&dkim_path(id), &body, &app.admin_token).await
}

/// A 200 DKIM body: exactly these keys, the record derived from domain and selector, no
/// private key. Returns the `p=` value.
#[track_caller]
fn published(resp: &Resp, domain: &str, selector: &str, algorithm: &str) -> String {
    assert_status(resp, 200);
    let body = resp.json();
    let value = body["public_key_dns"]["value"].as_str().unwrap_or_default();
    let key_type = if algorithm == "rsa-sha256" {
        "rsa"
    } else {
        "ed25519"
    };
    let prefix = format!("v=DKIM1; k={key_type}; p=");
    let p = value
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{value:?} should start with {prefix:?}"))
        .to_owned();
    assert_json(
        resp,
        200,
        &json!({
            "domain": domain, "selector": selector, "algorithm": algorithm,
            "public_key_dns": {
                "name": format!("{selector}._domainkey.{domain}"), "type": "TXT", "value": value,
            },
        }),
    );
    assert!(!resp.text.contains("PRIVATE"), "{}", resp.text);
    assert!(!resp.text.contains("private_key"), "{}", resp.text);
    p
}

// ---------------------------------------------------------------------------------------
// The independent side: a venv with dkimpy and cryptography under the target directory.

const VERIFY: &str = r#"
import sys, dkim
message = open(sys.argv[1], 'rb').read()
record = sys.argv[2].encode()
asked = []
def dnsfunc(name, timeout=5):
    asked.append(name.decode())
    return record
ok = dkim.verify(message, dnsfunc=dnsfunc)
print(('pass' if ok else 'fail') + ' ' + ','.join(asked))
"#;

/// `python3 -c` in the venv: make PEMs and their expected `p=` values.
const MAKE_KEYS: &str = r#"
import base64, json
from cryptography.hazmat.primitives.asymmetric import rsa, ed25519
from cryptography.hazmat.primitives import serialization as s
r = rsa.generate_private_key(public_exponent=65537, key_size=2048)
e = ed25519.Ed25519PrivateKey.generate()
b64 = lambda b: base64.b64encode(b).decode()
print(json.dumps({
  'rsa_pkcs8': r.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()).decode(),
  'rsa_pkcs1': r.private_bytes(s.Encoding.PEM, s.PrivateFormat.TraditionalOpenSSL, s.NoEncryption()).decode(),
  'rsa_p': b64(r.public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo)),
  'ed_pkcs8': e.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()).decode(),
  'ed_p': b64(e.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)),
}))
"#;

fn venv() -> PathBuf {
    static READY: Mutex<bool> = Mutex::new(false);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dkimpy-venv");
    let python = dir.join("bin/python");
    let mut ready = READY.lock().unwrap_or_else(|e| e.into_inner());
    if *ready {
        return python;
    }
    let has_modules = |python: &Path| {
        Command::new(python)
            .args(["-c", "import dkim, nacl, cryptography"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !has_modules(&python) {
        // Built beside and renamed into place, so that a half-made venv is never used.
        let building = dir.with_extension(format!("building-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&building);
        let run = |cmd: &mut Command| {
            let out = cmd.output().expect("run python3 (the DKIM tests need it)");
            assert!(
                out.status.success(),
                "{cmd:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(Command::new("python3").arg("-m").arg("venv").arg(&building));
        run(Command::new(building.join("bin/pip")).args([
            "install",
            "-q",
            "dkimpy==1.1.8",
            "pynacl>=1.5",
            "cryptography>=42",
        ]));
        let _ = std::fs::remove_dir_all(&dir);
        if std::fs::rename(&building, &dir).is_err() {
            // Another test process won the race; its venv is as good.
            let _ = std::fs::remove_dir_all(&building);
        }
        assert!(
            has_modules(&python),
            "the dkimpy venv at {dir:?} is unusable"
        );
    }
    *ready = true;
    python
}

/// dkimpy's verdict on `message` with `record` as the only DNS answer, and the names it
/// looked up.
async fn dkimpy_verify(message: &str, record: &str) -> (bool, String) {
    let (message, record) = (message.to_owned(), record.to_owned());
    tokio::task::spawn_blocking(move || {
        let python = venv();
        let file = tempfile::NamedTempFile::new().expect("a temp file");
        std::fs::write(file.path(), message.as_bytes()).expect("write the message");
        let out = Command::new(python)
            .arg("-c")
            .arg(VERIFY)
            .arg(file.path())
            .arg(&record)
            .output()
            .expect("run dkimpy");
        let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(
            out.status.success(),
            "dkimpy failed: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (verdict, asked) = text.split_once(' ').unwrap_or((&text, ""));
        (verdict == "pass", asked.to_owned())
    })
    .await
    .expect("the verifier task")
}

struct PythonKeys {
    rsa_pkcs8: String,
    rsa_pkcs1: String,
    rsa_p: String,
    ed_pkcs8: String,
    ed_p: String,
}

async fn python_keys() -> PythonKeys {
    tokio::task::spawn_blocking(|| {
        let out = Command::new(venv())
            .arg("-c")
            .arg(MAKE_KEYS)
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let keys: Value = serde_json::from_slice(&out.stdout).expect("JSON keys");
        let get = |k: &str| keys[k].as_str().unwrap_or_default().to_owned();
        PythonKeys {
            rsa_pkcs8: get("rsa_pkcs8"),
            rsa_pkcs1: get("rsa_pkcs1"),
            rsa_p: get("rsa_p"),
            ed_pkcs8: get("ed_pkcs8"),
            ed_p: get("ed_p"),
        }
    })
    .await
    .expect("the key task")
}

/// The `DKIM-Signature` header of a received message (unfolded), if any.
fn signature_of(mail: &ReceivedMail) -> Option<String> {
    let head = mail.data.split("\r\n\r\n").next().unwrap_or_default();
    let unfolded = head.replace("\r\n\t", " ").replace("\r\n ", " ");
    unfolded
        .split("\r\n")
        .find(|line| line.to_ascii_lowercase().starts_with("dkim-signature:"))
        .map(str::to_owned)
}

/// Sends one message through notifier `id` and returns it as the server received it.
async fn send_one(app: &TestApp, server: &TestSmtpServer, id: i64, subject: &str) -> ReceivedMail {
    let before = server.received().len();
    let resp = app
        .post_json(
            &format!("{}/send", notifier_path(id)),
            &json!({
                "to": ["ann@example.org", "bob@example.net"], "cc": ["carol@example.org"],
                "bcc": ["hidden@example.org"], "reply_to": "replies@mail.example.com",
                "subject": subject, "body": "Hello,\n  with   spaces\t and a tab.  \n\n",
                "html_body": "<p>Hello</p>",
            }),
            &app.admin_token,
        )
        .await;
    assert_status(&resp, 200);
    assert_eq!(resp.json()["sent"], 1, "{}", resp.text);
    let mails = server.wait_for_mail(before + 1, WAIT).await;
    mails[before].clone()
}

#[track_caller]
fn assert_signature_shape(mail: &ReceivedMail, domain: &str, selector: &str, algorithm: &str) {
    let signature = signature_of(mail).unwrap_or_else(|| panic!("unsigned: {}", mail.data));
    for tag in [
        format!("a={algorithm};"),
        "c=relaxed/relaxed;".to_owned(),
        format!("d={domain};"),
        format!("s={selector};"),
        format!("h={SIGNED};"),
    ] {
        assert!(signature.contains(&tag), "{tag} missing: {signature}");
    }
    assert!(!signature.contains(" l="), "{signature}");
    assert!(
        mail.data.starts_with("DKIM-Signature: "),
        "the signature comes first: {}",
        mail.data
    );
}

/// The message with its Subject changed, as a forwarder that rewrites it would.
fn with_subject_altered(data: &str) -> String {
    data.replacen("Subject: ", "Subject: [ext] ", 1)
}

// ---------------------------------------------------------------------------------------

async fn no_settings_and_unknown_notifiers_are_told_apart(backend: Backend) {
    let app = spawn_app(backend).await;
    let (id, _) = notifier(&app, "plain", 25).await;
    let token = &app.admin_token;
    for path in [dkim_path(id), format!("{}/", dkim_path(id))] {
        assert_detail(&app.get(&path, token).await, 404, "Not found.");
        assert_detail(&app.delete(&path, token).await, 404, "Not found.");
    }
    let missing = dkim_path(id + 1000);
    assert_detail(&app.get(&missing, token).await, 404, NOT_FOUND_NOTIFIER);
    assert_detail(&app.delete(&missing, token).await, 404, NOT_FOUND_NOTIFIER);
    // The notifier is looked up before the body is validated, as everywhere.
    let resp = app.put_json(&missing, &json!({}), token).await;
    assert_detail(&resp, 404, NOT_FOUND_NOTIFIER);

    let resp = app.post_json(&dkim_path(id), &json!({}), token).await;
    assert_detail(&resp, 405, "Method \"POST\" not allowed.");
    assert_eq!(
        resp.header("allow"),
        Some("GET, PUT, DELETE, HEAD, OPTIONS")
    );
    let resp = app.patch_json(&dkim_path(id), &json!({}), token).await;
    assert_status(&resp, 405);
    // OPTIONS: DRF-style metadata for admins, with the same Allow.
    let resp = app
        .send(
            app.request(reqwest::Method::OPTIONS, &dkim_path(id))
                .header("Authorization", token_header(token)),
        )
        .await;
    assert_status(&resp, 200);
    assert_eq!(
        resp.header("allow"),
        Some("GET, PUT, DELETE, HEAD, OPTIONS")
    );
    let resp = app
        .send(
            app.request(reqwest::Method::HEAD, &dkim_path(id))
                .header("Authorization", token_header(token)),
        )
        .await;
    assert_status(&resp, 404);
}

async fn generated_keys_publish_their_record_and_leave_the_notifier_alone(backend: Backend) {
    let app = spawn_app(backend).await;
    let (id, created) = notifier(&app, "signer", 25).await;
    let token = &app.admin_token;

    let resp = put_dkim(
        &app,
        id,
        json!({"domain": "example.com", "selector": "ed2026", "algorithm": "ed25519-sha256"}),
    )
    .await;
    let ed_p = published(&resp, "example.com", "ed2026", "ed25519-sha256");
    assert_eq!(decode(&ed_p).len(), 32, "raw Ed25519 key: {ed_p}");
    let got = app.get(&dkim_path(id), token).await;
    assert_eq!((got.status, got.json()), (200, resp.json()));

    let resp = put_dkim(
        &app,
        id,
        json!({"domain": "Mail.Example.com", "selector": "rsa2026", "algorithm": "rsa-sha256"}),
    )
    .await;
    let rsa_p = published(&resp, "mail.example.com", "rsa2026", "rsa-sha256");
    let der = decode(&rsa_p);
    // SubjectPublicKeyInfo of a 2048-bit RSA key: a SEQUENCE of 294 bytes with the
    // rsaEncryption OID.
    assert_eq!(der.len(), 294, "{rsa_p}");
    assert!(
        der.windows(9)
            .any(|w| w == [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]),
        "{rsa_p}"
    );
    let got = app.get(&format!("{}/", dkim_path(id)), token).await;
    assert_eq!((got.status, got.json()), (200, resp.json()));

    // A sub-resource: the notifier's body, `updated_at` included, is what it was.
    let notifier_now = app.get(&notifier_path(id), token).await;
    assert_eq!(notifier_now.json(), created);
    assert_status(&app.delete(&dkim_path(id), token).await, 204);
    assert_eq!(app.get(&notifier_path(id), token).await.json(), created);
    assert_detail(&app.get(&dkim_path(id), token).await, 404, "Not found.");
}

fn decode(b64: &str) -> Vec<u8> {
    // A small decoder, so the tests need no base64 crate.
    let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in b64.bytes().filter(|&c| c != b'=') {
        let v = table.iter().position(|&t| t == c).expect("base64") as u32;
        bits = (bits << 6) | v;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

async fn signed_messages_verify_with_dkimpy(backend: Backend) {
    let app = spawn_app(backend).await;
    let server = smtp_server().await;
    let (id, _) = notifier(&app, "signed", server.port).await;
    let token = &app.admin_token;

    for (algorithm, selector, domain) in [
        ("ed25519-sha256", "ed", "example.com"),
        ("rsa-sha256", "rsa", "mail.example.com"),
    ] {
        let resp = put_dkim(
            &app,
            id,
            json!({"domain": domain, "selector": selector, "algorithm": algorithm}),
        )
        .await;
        assert_status(&resp, 200);
        let record = resp.json()["public_key_dns"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned();

        let mail = send_one(&app, &server, id, &format!("Signed with {algorithm}")).await;
        assert_signature_shape(&mail, domain, selector, algorithm);
        let (ok, asked) = dkimpy_verify(&mail.data, &record).await;
        assert!(ok, "dkimpy refused {algorithm}: {}", mail.data);
        assert!(
            asked.starts_with(&format!("{selector}._domainkey.{domain}")),
            "{asked}"
        );
        let (ok, _) = dkimpy_verify(&with_subject_altered(&mail.data), &record).await;
        assert!(!ok, "an altered Subject still verified ({algorithm})");
        // A second From added on the way breaks the signature too (From is signed twice).
        let extra_from =
            mail.data
                .replacen("\r\nFrom: ", "\r\nFrom: evil@attacker.example\r\nFrom: ", 1);
        assert!(!dkimpy_verify(&extra_from, &record).await.0);

        // /test with a `to` signs its message as well.
        let before = server.received().len();
        let resp = app
            .post_json(
                &format!("{}/test", notifier_path(id)),
                &json!({"to": "check@example.org"}),
                token,
            )
            .await;
        assert_eq!(resp.json()["success"], true, "{}", resp.text);
        let test_mail = server.wait_for_mail(before + 1, WAIT).await[before].clone();
        assert_signature_shape(&test_mail, domain, selector, algorithm);
        assert!(dkimpy_verify(&test_mail.data, &record).await.0);
    }

    // Queued sends are signed by the delivery workers.
    let before = server.received().len();
    let resp = app
        .send(
            app.request(
                reqwest::Method::POST,
                &format!("{}/send", notifier_path(id)),
            )
            .header("Authorization", token_header(token))
            .header("Prefer", "respond-async")
            .json(&json!({"to": ["queued@example.org"], "subject": "later", "body": "b"})),
        )
        .await;
    assert_status(&resp, 202);
    let queued = server.wait_for_mail(before + 1, WAIT).await[before].clone();
    assert_signature_shape(&queued, "mail.example.com", "rsa", "rsa-sha256");
    let record = app.get(&dkim_path(id), token).await.json()["public_key_dns"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(dkimpy_verify(&queued.data, &record).await.0);

    // DELETE stops signing.
    assert_status(&app.delete(&dkim_path(id), token).await, 204);
    assert_detail(&app.get(&dkim_path(id), token).await, 404, "Not found.");
    let mail = send_one(&app, &server, id, "Unsigned again").await;
    assert_eq!(signature_of(&mail), None, "{}", mail.data);
}

async fn given_pems_are_used_as_they_are(backend: Backend) {
    let app = spawn_app(backend).await;
    let server = smtp_server().await;
    let (id, _) = notifier(&app, "given", server.port).await;
    let keys = python_keys().await;

    for (pem, algorithm, expected_p) in [
        (&keys.rsa_pkcs8, "rsa-sha256", &keys.rsa_p),
        (&keys.rsa_pkcs1, "rsa-sha256", &keys.rsa_p),
        (&keys.ed_pkcs8, "ed25519-sha256", &keys.ed_p),
    ] {
        let resp = put_dkim(
            &app,
            id,
            json!({"domain": "example.com", "selector": "given", "algorithm": algorithm,
                   "private_key": pem}),
        )
        .await;
        let p = published(&resp, "example.com", "given", algorithm);
        assert_eq!(&p, expected_p, "{algorithm}");
        let record = resp.json()["public_key_dns"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let mail = send_one(&app, &server, id, "Given key").await;
        assert!(
            dkimpy_verify(&mail.data, &record).await.0,
            "{algorithm}: {}",
            mail.data
        );
    }

    // A key of the other type than `algorithm` says so.
    let resp = put_dkim(
        &app,
        id,
        json!({"domain": "example.com", "selector": "given", "algorithm": "rsa-sha256",
               "private_key": keys.ed_pkcs8}),
    )
    .await;
    assert_json(
        &resp,
        400,
        &json!({"private_key": ["This is an Ed25519 key, which does not match the algorithm \"rsa-sha256\"."]}),
    );
    let resp = put_dkim(
        &app,
        id,
        json!({"domain": "example.com", "selector": "given", "algorithm": "ed25519-sha256",
               "private_key": keys.rsa_pkcs1}),
    )
    .await;
    assert_json(
        &resp,
        400,
        &json!({"private_key": ["This is an RSA key, which does not match the algorithm \"ed25519-sha256\"."]}),
    );
    // The refused PUTs changed nothing: the last key still signs.
    let got = app.get(&dkim_path(id), &app.admin_token).await;
    assert_eq!(got.json()["algorithm"], "ed25519-sha256");
}

async fn bodies_are_validated_with_drf_messages(backend: Backend) {
    let app = spawn_app(backend).await;
    let (id, _) = notifier(&app, "strict", 25).await;
    let cases = [
        (
            json!({}),
            json!({"domain": ["This field is required."], "selector": ["This field is required."],
                   "algorithm": ["This field is required."]}),
        ),
        (
            json!({"domain": "example.com", "selector": "s", "algorithm": "x"}),
            json!({"algorithm": ["\"x\" is not a valid choice."]}),
        ),
        (
            json!({"domain": "other.org", "selector": "s", "algorithm": "rsa-sha256"}),
            json!({"domain": [DOMAIN_OUTSIDE]}),
        ),
        (
            // A child of the from_email's domain is not a parent of it.
            json!({"domain": "x.mail.example.com", "selector": "s", "algorithm": "rsa-sha256"}),
            json!({"domain": [DOMAIN_OUTSIDE]}),
        ),
        (
            json!({"domain": "example.com", "selector": "a.b", "algorithm": "rsa-sha256"}),
            json!({"selector": ["Enter a valid selector: one DNS label of letters, digits and hyphens."]}),
        ),
        (
            json!({"domain": "exa mple.com", "selector": "s", "algorithm": "rsa-sha256"}),
            json!({"domain": ["Enter a valid domain name."]}),
        ),
        (
            json!({"domain": "example.com", "selector": "s", "algorithm": "rsa-sha256",
                   "private_key": "not a key"}),
            json!({"private_key": ["Enter a private key in PEM: PKCS#8 (\"BEGIN PRIVATE KEY\") or, for RSA, PKCS#1 (\"BEGIN RSA PRIVATE KEY\")."]}),
        ),
        (
            json!({"domain": "example.com", "selector": "s", "algorithm": "rsa-sha256",
                   "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}),
            json!({"private_key": ["The PEM text does not hold a valid RSA or Ed25519 private key."]}),
        ),
        (
            json!({"domain": "example.com", "selector": "s", "algorithm": "rsa-sha256",
                   "private_key": "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"}),
            json!({"private_key": ["Encrypted private keys are not supported; give the key unencrypted."]}),
        ),
    ];
    for (body, errors) in cases {
        let resp = put_dkim(&app, id, body.clone()).await;
        assert_json(&resp, 400, &errors);
    }
    assert_detail(
        &app.get(&dkim_path(id), &app.admin_token).await,
        404,
        "Not found.",
    );
}

async fn from_email_stays_inside_the_dkim_domain(backend: Backend) {
    let app = spawn_app(backend).await;
    let (id, created) = notifier(&app, "bound", 25).await;
    let token = &app.admin_token;
    let resp = put_dkim(
        &app,
        id,
        json!({"domain": "example.com", "selector": "s", "algorithm": "ed25519-sha256"}),
    )
    .await;
    assert_status(&resp, 200);

    let resp = app
        .patch_json(
            &notifier_path(id),
            &json!({"from_email": "a@other.org"}),
            token,
        )
        .await;
    assert_json(&resp, 400, &json!({"from_email": [FROM_OUTSIDE]}));
    let put = with(
        &json!({"name": "bound", "host": "127.0.0.1", "username": SMTP_USER,
                "password": SMTP_PASSWORD}),
        json!({"from_email": "a@example.community"}),
    );
    let resp = app.put_json(&notifier_path(id), &put, token).await;
    assert_json(&resp, 400, &json!({"from_email": [FROM_OUTSIDE]}));
    assert_eq!(app.get(&notifier_path(id), token).await.json(), created);

    // Inside the domain, any subdomain: fine.
    let resp = app
        .patch_json(
            &notifier_path(id),
            &json!({"from_email": "b@Example.COM"}),
            token,
        )
        .await;
    assert_status(&resp, 200);
    let resp = app
        .patch_json(
            &notifier_path(id),
            &json!({"from_email": "c@eu.news.example.com"}),
            token,
        )
        .await;
    assert_status(&resp, 200);
    // Without DKIM settings the address is free again.
    assert_status(&app.delete(&dkim_path(id), token).await, 204);
    let resp = app
        .patch_json(
            &notifier_path(id),
            &json!({"from_email": "a@other.org"}),
            token,
        )
        .await;
    assert_status(&resp, 200);
}

async fn permissions_are_2832_to_read_and_2833_to_change(backend: Backend) {
    let app = spawn_app(backend).await;
    let (id, _) = notifier(&app, "guarded", 25).await;
    let reader = app.user_with_codes("dkim-reader", true, &[2832]).await;
    let writer = app.user_with_codes("dkim-writer", true, &[2833]).await;
    let body = json!({"domain": "example.com", "selector": "s", "algorithm": "ed25519-sha256"});
    let path = dkim_path(id);

    // 401 and 403 come before 404 and 400.
    let resp = app
        .send(app.request(reqwest::Method::GET, &dkim_path(id + 99)))
        .await;
    assert_detail(&resp, 401, NOT_AUTHENTICATED);
    assert_detail(
        &app.put_json(&dkim_path(id + 99), &json!([]), &reader).await,
        403,
        FORBIDDEN,
    );
    assert_detail(&app.get(&dkim_path(id + 99), &writer).await, 403, FORBIDDEN);
    assert_detail(&app.delete(&path, &reader).await, 403, FORBIDDEN);
    assert_detail(&app.put_json(&path, &body, &reader).await, 403, FORBIDDEN);

    let resp = app.put_json(&path, &body, &writer).await;
    assert_status(&resp, 200);
    let resp = app.get(&path, &reader).await;
    assert_status(&resp, 200);
    assert_status(&app.delete(&path, &writer).await, 204);
    // Other methods: only an admin gets as far as the 405.
    let resp = app.post_json(&path, &json!({}), &writer).await;
    assert_detail(&resp, 403, FORBIDDEN);
}

async fn private_keys_are_sealed_at_rest(backend: Backend) {
    let sqlite = matches!(backend, Backend::Sqlite);
    let app = spawn_app(backend).await;
    let (id, _) = notifier(&app, "sealed", 25).await;
    let keys = python_keys().await;
    let resp = put_dkim(
        &app,
        id,
        json!({"domain": "example.com", "selector": "s", "algorithm": "rsa-sha256",
               "private_key": keys.rsa_pkcs1}),
    )
    .await;
    assert_status(&resp, 200);
    // A line of the key's base64 body past the modulus (which the public key repeats):
    // found anywhere, the private key would be in clear.
    let needle = keys
        .rsa_pkcs1
        .lines()
        .nth(15)
        .expect("a PEM body line")
        .to_owned();

    use sea_orm::{ConnectionTrait, Database, Statement};
    let db = Database::connect(&app.db_url).await.expect("connect");
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT private_key_sealed FROM notifier_dkim",
        ))
        .await
        .expect("read the DKIM row");
    assert_eq!(rows.len(), 1);
    let stored: String = rows[0].try_get("", "private_key_sealed").expect("a key");
    assert!(
        !stored.contains("PRIVATE") && !stored.contains(&needle),
        "{stored}"
    );
    db.close().await.ok();

    if sqlite {
        for name in ["notifier.db", "notifier.db-wal"] {
            if let Ok(bytes) = std::fs::read(app.dir_path().join(name)) {
                let found = bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
                assert!(!found, "the private key is in clear in {name}");
            }
        }
    }
    // Deleting the notifier deletes its DKIM row.
    assert_status(&app.delete(&notifier_path(id), &app.admin_token).await, 204);
    let db = Database::connect(&app.db_url).await.expect("connect");
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT notifier_id FROM notifier_dkim",
        ))
        .await
        .expect("read the DKIM rows");
    assert!(rows.is_empty(), "ON DELETE CASCADE");
}

backend_tests!(
    no_settings_and_unknown_notifiers_are_told_apart,
    generated_keys_publish_their_record_and_leave_the_notifier_alone,
    signed_messages_verify_with_dkimpy,
    given_pems_are_used_as_they_are,
    bodies_are_validated_with_drf_messages,
    from_email_stays_inside_the_dkim_domain,
    permissions_are_2832_to_read_and_2833_to_change,
    private_keys_are_sealed_at_rest,
);
