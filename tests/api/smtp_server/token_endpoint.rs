//! An OAuth2 token endpoint for tests: HTTPS on 127.0.0.1 with a certificate of the
//! test's [`super::TestCa`], answering every POST with a new access token (`tok-1`,
//! `tok-2`, …), or with the error it was told to give. The token it issued last is the
//! one [`super::Quirks::xoauth2`] servers accept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rustls::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// The bearer token an XOAUTH2 server accepts now; `None`: none.
pub type CurrentToken = Arc<Mutex<Option<String>>>;

#[derive(Default)]
struct Behaviour {
    issued: usize,
    /// Seconds sent as `expires_in`.
    expires_in: u64,
    /// Answer `refresh_token: rt-<n>` with each token.
    rotate: bool,
    /// Answer 400 with this `(error, error_description)` instead of a token.
    error: Option<(String, String)>,
}

pub struct TokenEndpoint {
    pub port: u16,
    /// What the SMTP server accepts: the token issued last.
    pub current: CurrentToken,
    behaviour: Arc<Mutex<Behaviour>>,
    requests: Arc<Mutex<Vec<HashMap<String, String>>>>,
    task: JoinHandle<()>,
}

impl Drop for TokenEndpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TokenEndpoint {
    pub async fn start(tls: Arc<ServerConfig>) -> TokenEndpoint {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("local addr").port();
        let current: CurrentToken = Arc::default();
        let behaviour = Arc::new(Mutex::new(Behaviour {
            expires_in: 3600,
            ..Behaviour::default()
        }));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let acceptor = TlsAcceptor::from(tls);
        let task = {
            let (current, behaviour, requests) = (
                Arc::clone(&current),
                Arc::clone(&behaviour),
                Arc::clone(&requests),
            );
            tokio::spawn(async move {
                while let Ok((socket, _)) = listener.accept().await {
                    let (acceptor, current, behaviour, requests) = (
                        acceptor.clone(),
                        Arc::clone(&current),
                        Arc::clone(&behaviour),
                        Arc::clone(&requests),
                    );
                    tokio::spawn(async move {
                        let Ok(mut stream) = acceptor.accept(socket).await else {
                            return;
                        };
                        let Some(form) = read_form(&mut stream).await else {
                            return;
                        };
                        requests.lock().unwrap().push(form);
                        let (status, body) = answer(&behaviour, &current);
                        let response = format!(
                            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n\
                             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = stream.write_all(response.as_bytes()).await;
                        let _ = stream.shutdown().await;
                    });
                }
            })
        };
        TokenEndpoint {
            port,
            current,
            behaviour,
            requests,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}/oauth2/token", self.port)
    }

    /// The form fields of every request so far.
    pub fn requests(&self) -> Vec<HashMap<String, String>> {
        self.requests.lock().unwrap().clone()
    }

    pub fn set_expires_in(&self, seconds: u64) {
        self.behaviour.lock().unwrap().expires_in = seconds;
    }

    pub fn rotate_refresh_tokens(&self) {
        self.behaviour.lock().unwrap().rotate = true;
    }

    pub fn fail_with(&self, error: &str, description: &str) {
        self.behaviour.lock().unwrap().error = Some((error.into(), description.into()));
    }

    /// The token issued last stops working at the SMTP server (revoked early).
    pub fn revoke(&self) {
        *self.current.lock().unwrap() = None;
    }
}

fn answer(behaviour: &Mutex<Behaviour>, current: &CurrentToken) -> (&'static str, String) {
    let mut behaviour = behaviour.lock().unwrap();
    if let Some((error, description)) = &behaviour.error {
        let body = serde_json::json!({"error": error, "error_description": description});
        return ("400 Bad Request", body.to_string());
    }
    behaviour.issued += 1;
    let token = format!("tok-{}", behaviour.issued);
    *current.lock().unwrap() = Some(token.clone());
    let mut body = serde_json::json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": behaviour.expires_in,
    });
    if behaviour.rotate {
        body["refresh_token"] = serde_json::json!(format!("rt-{}", behaviour.issued));
    }
    ("200 OK", body.to_string())
}

/// One request's form body, decoded; `None` when the client went away.
async fn read_form<S: AsyncReadExt + Unpin>(stream: &mut S) -> Option<HashMap<String, String>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buffer.len() < header_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buffer[header_end..header_end + length]).into_owned();
    Some(
        body.split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (decode(k), decode(v)))
            .collect(),
    )
}

/// `application/x-www-form-urlencoded` decoding.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
