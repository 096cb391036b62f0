//! The socket under lettre's SMTP client, which we keep a hand on.
//!
//! lettre reads and writes through a [`Link`]; for STARTTLS we take the TCP stream back
//! after the server's `220`, secure it ourselves (see `tls.rs`) and give lettre a new
//! connection over the TLS stream. lettre expects every new connection to start with a
//! greeting, and after STARTTLS the server sends none, so that link starts with one of ours;
//! lettre then sends EHLO and learns what the server offers over TLS. Whatever plain text
//! lettre had buffered beyond the `220` stays with the old connection and is dropped, as
//! RFC 3207 asks (no command injection from before the handshake).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use lettre::transport::smtp::client::AsyncTokioStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// The greeting a link over a fresh STARTTLS channel begins with; lettre only checks its code.
const AFTER_STARTTLS: &[u8] = b"220 TLS established\r\n";

/// What carries the bytes.
pub(crate) enum Wire {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// A [`Wire`] lettre can own while we can still take it back. The lock is never contended:
/// lettre uses the wire only inside a command, and we take it only between commands.
pub(crate) struct Link {
    wire: Arc<Mutex<Option<Wire>>>,
    greeting: &'static [u8],
}

/// Our hand on a [`Link`] given to lettre.
pub(crate) struct Handle(Arc<Mutex<Option<Wire>>>);

impl Link {
    /// A link over a fresh connection: the server greets first.
    pub(crate) fn new(wire: Wire) -> (Self, Handle) {
        Self::with_greeting(wire, b"")
    }

    /// A link over a channel just secured with STARTTLS.
    pub(crate) fn after_starttls(wire: Wire) -> Self {
        Self::with_greeting(wire, AFTER_STARTTLS).0
    }

    fn with_greeting(wire: Wire, greeting: &'static [u8]) -> (Self, Handle) {
        let wire = Arc::new(Mutex::new(Some(wire)));
        let handle = Handle(Arc::clone(&wire));
        (Self { wire, greeting }, handle)
    }

    fn wire(&self) -> MutexGuard<'_, Option<Wire>> {
        self.wire.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Handle {
    /// Takes the TCP stream back from lettre; `None` once taken or when it is already TLS.
    pub(crate) fn take_tcp(&self) -> Option<TcpStream> {
        let mut wire = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match wire.take() {
            Some(Wire::Tcp(tcp)) => Some(tcp),
            other => {
                *wire = other;
                None
            }
        }
    }
}

fn taken() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "the connection was handed over",
    )
}

/// Runs `op` on the wire, or fails when it was taken.
fn on_wire<T>(
    link: &Link,
    op: impl FnOnce(Pin<&mut dyn AsyncReadWrite>) -> Poll<io::Result<T>>,
) -> Poll<io::Result<T>> {
    match link.wire().as_mut() {
        Some(Wire::Tcp(tcp)) => op(Pin::new(tcp as &mut dyn AsyncReadWrite)),
        Some(Wire::Tls(tls)) => op(Pin::new(tls.as_mut() as &mut dyn AsyncReadWrite)),
        None => Poll::Ready(Err(taken())),
    }
}

trait AsyncReadWrite: AsyncRead + AsyncWrite + Unpin {}
impl<T: AsyncRead + AsyncWrite + Unpin> AsyncReadWrite for T {}

impl AsyncRead for Link {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.greeting.is_empty() {
            let n = self.greeting.len().min(buf.remaining());
            buf.put_slice(&self.greeting[..n]);
            self.greeting = &self.greeting[n..];
            return Poll::Ready(Ok(()));
        }
        on_wire(&self, |wire| wire.poll_read(cx, buf))
    }
}

impl AsyncWrite for Link {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        on_wire(&self, |wire| wire.poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        on_wire(&self, |wire| wire.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        on_wire(&self, |wire| wire.poll_shutdown(cx))
    }
}

impl AsyncTokioStream for Link {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        match self.wire().as_ref() {
            Some(Wire::Tcp(tcp)) => tcp.peer_addr(),
            Some(Wire::Tls(tls)) => tls.get_ref().0.peer_addr(),
            None => Err(taken()),
        }
    }
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Link")
    }
}
