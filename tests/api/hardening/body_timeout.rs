//! A request body must arrive within `server.body_timeout_secs`: a client that trickles
//! one cannot hold a connection (and a worker's attention) open for as long as it likes.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// Generous: the server must answer after one second; this only stops a hung test.
const ANSWER_WITHIN: Duration = Duration::from_secs(20);

async fn a_trickled_body_gets_408_and_the_connection_closes(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.server.body_timeout_secs = 1).await;
    let body = serde_json::to_string(&notifier_body("slow")).expect("a body");
    let mut socket = TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connect");
    let head = format!(
        "POST {NOTIFIERS} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        app.admin_token,
        body.len()
    );
    socket
        .write_all(head.as_bytes())
        .await
        .expect("send the head");
    // A first few bytes, then nothing more.
    socket
        .write_all(&body.as_bytes()[..10])
        .await
        .expect("send part of the body");

    let mut answer = Vec::new();
    tokio::time::timeout(ANSWER_WITHIN, socket.read_to_end(&mut answer))
        .await
        .expect("the server should answer and close the connection")
        .expect("read the answer");

    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.ends_with("\r\n\r\n{\"detail\":\"Request body timed out.\"}"),
        "{answer}"
    );
    // Nothing was created from the partial body.
    let listed = app.get(NOTIFIERS, &app.admin_token).await.json();
    assert_eq!(listed["count"], 0);
}

async fn a_body_sent_in_time_is_read_as_usual(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.server.body_timeout_secs = 1).await;

    let resp = app
        .post_json(NOTIFIERS, &notifier_body("prompt"), &app.admin_token)
        .await;

    assert_status(&resp, 201);
}

backend_tests!(
    a_trickled_body_gets_408_and_the_connection_closes,
    a_body_sent_in_time_is_read_as_usual,
);
