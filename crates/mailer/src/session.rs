//! One SMTP conversation: check the destination, connect, secure, authenticate, then mail
//! transactions.
//!
//! Driven step by step on lettre's `AsyncSmtpConnection` rather than through
//! `AsyncSmtpTransport`: lettre's async client applies its timeout to the TCP connect only,
//! so every step here gets its own limit (and the exchange an overall one, see
//! [`Deadline`]), and a failure names the step it happened in.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use tokio::net::TcpStream;

use crate::deadline::Deadline;
use crate::error::{MailError, Result, Step, leading_code, refusals, reply_text};
use crate::policy::{self, Policy};
use crate::settings::{SmtpAuth, SmtpSettings, TlsMode};
use crate::tls;

const MECHANISMS: [Mechanism; 2] = [Mechanism::Plain, Mechanism::Login];

/// What every conversation shares: the EHLO name, the trusted roots, the outbound policy.
pub(crate) struct Dialer {
    pub hello: ClientId,
    pub extra_roots: Vec<Certificate>,
    pub policy: Policy,
    pub allow_plaintext_auth: bool,
}

impl Dialer {
    /// Checks where `settings` lead, then connects, secures the channel per `settings.tls`
    /// and authenticates. Every refusal of the policy comes before the first packet.
    /// `token` is the XOAUTH2 access token, for [`SmtpAuth::XOAuth2`].
    pub(crate) async fn open(
        &self,
        settings: &SmtpSettings,
        token: Option<&str>,
        deadline: &Deadline,
    ) -> Result<AsyncSmtpConnection> {
        let addresses = self.destinations(settings, deadline).await?;
        self.connect(&addresses, settings, token, deadline).await
    }

    /// [`Dialer::open`] to addresses [`Dialer::destinations`] admitted.
    pub(crate) async fn connect(
        &self,
        addresses: &[SocketAddr],
        settings: &SmtpSettings,
        token: Option<&str>,
        deadline: &Deadline,
    ) -> Result<AsyncSmtpConnection> {
        let implicit = match settings.tls {
            TlsMode::Implicit => Some(tls::parameters(&settings.host, &self.extra_roots)?),
            TlsMode::None | TlsMode::StartTls => None,
        };
        // The checked addresses, tried in order: lettre resolves nothing more. TLS still
        // verifies the certificate against the host name given to `tls::parameters`.
        let mut conn = match implicit {
            Some(implicit) => {
                let connect = AsyncSmtpConnection::connect_tokio1(
                    addresses,
                    Some(deadline.step()),
                    &self.hello,
                    Some(implicit),
                    None,
                );
                self.step(deadline, Step::Connect, connect).await?
            }
            None => {
                let stream = deadline
                    .run(connect_without_delay(addresses, deadline.step()))
                    .await?
                    .map_err(|e| MailError::from_io(&e, deadline.step()))?;
                let greet =
                    AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello);
                self.step(deadline, Step::Connect, greet).await?
            }
        };

        if settings.tls == TlsMode::StartTls {
            // Never fall back to plain text: the notifier asked for TLS.
            if !conn.server_info().supports_feature(Extension::StartTls) {
                let err = MailError::StartTlsUnavailable;
                self.close(conn, &err, deadline).await;
                return Err(err);
            }
            let parameters = tls::parameters(&settings.host, &self.extra_roots)?;
            // On failure the connection is dropped without QUIT: once lettre has begun the
            // handshake it has taken the socket, and any later write on it panics.
            self.step(
                deadline,
                Step::StartTls,
                conn.starttls(parameters, &self.hello),
            )
            .await?;
        }

        if let SmtpAuth::XOAuth2(_) = settings.auth {
            if !conn
                .server_info()
                .supports_auth_mechanism(Mechanism::Xoauth2)
            {
                let err = MailError::XOAuth2Unsupported;
                self.close(conn, &err, deadline).await;
                return Err(err);
            }
            let credentials = Credentials::new(
                settings.username.clone(),
                token.unwrap_or_default().to_owned(),
            );
            let authenticated = self
                .step(
                    deadline,
                    Step::Auth,
                    conn.auth(&[Mechanism::Xoauth2], &credentials),
                )
                .await;
            if let Err(e) = authenticated {
                self.close(conn, &e, deadline).await;
                return Err(e);
            }
        } else if sends_password(settings) {
            if conn.server_info().get_auth_mechanism(&MECHANISMS).is_none() {
                let err = if self.offers_auth(&mut conn, deadline).await {
                    MailError::AuthUnsupported
                } else {
                    MailError::AuthNotOffered
                };
                self.close(conn, &err, deadline).await;
                return Err(err);
            }
            let credentials =
                Credentials::new(settings.username.clone(), settings.password.clone());
            let authenticated = self
                .step(deadline, Step::Auth, conn.auth(&MECHANISMS, &credentials))
                .await;
            if let Err(e) = authenticated {
                self.close(conn, &e, deadline).await;
                return Err(e);
            }
        }
        Ok(conn)
    }

    /// Whether the server offers AUTH with any mechanism. lettre's `ServerInfo` keeps only
    /// the mechanisms it knows, so an `AUTH CRAM-MD5` line is not in it: ask again with a
    /// second EHLO (only on the way to an error) and read the keywords. When that fails,
    /// assume AUTH is offered: the older, more cautious wording.
    async fn offers_auth(&self, conn: &mut AsyncSmtpConnection, deadline: &Deadline) -> bool {
        if conn
            .server_info()
            .supports_auth_mechanism(Mechanism::Xoauth2)
        {
            return true;
        }
        let ehlo = conn.command(Ehlo::new(self.hello.clone()));
        match deadline.run(ehlo).await {
            Ok(Ok(reply)) => reply.message().skip(1).any(is_auth_keyword),
            _ => true,
        }
    }

    /// The socket addresses `open` may connect to: port allowed, host resolved within the
    /// limits, each address canonical and allowed, and only loopback ones when the password
    /// would travel in plain text.
    pub(crate) async fn destinations(
        &self,
        settings: &SmtpSettings,
        deadline: &Deadline,
    ) -> Result<Vec<SocketAddr>> {
        self.policy.check_port(settings.port)?;
        let resolved = deadline
            .run(policy::resolve(&settings.host, settings.port))
            .await??;
        let mut admitted = self.policy.admit(resolved)?;
        let plaintext_auth = settings.tls == TlsMode::None && sends_password(settings);
        if plaintext_auth && !self.allow_plaintext_auth {
            // Loopback traffic never leaves the host; elsewhere anyone on the path reads it.
            let first = admitted.first().copied();
            admitted.retain(|ip| ip.is_loopback());
            if let (true, Some(first)) = (admitted.is_empty(), first) {
                return Err(MailError::PlaintextAuth(first));
            }
        }
        Ok(admitted
            .into_iter()
            .map(|ip| SocketAddr::new(ip, settings.port))
            .collect())
    }

    /// One mail transaction. As Python's smtplib (and so the original product), refused
    /// recipients are skipped and the message still goes to the others; it fails only when
    /// every recipient is refused. The caller closes the connection after an error.
    pub(crate) async fn transact(
        &self,
        conn: &mut AsyncSmtpConnection,
        envelope: &Envelope,
        bytes: &[u8],
        deadline: &Deadline,
    ) -> Result<()> {
        let mut parameters = Vec::new();
        let non_ascii_address = envelope
            .from()
            .into_iter()
            .chain(envelope.to())
            .any(|a| !a.to_string().is_ascii());
        if non_ascii_address {
            if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
                return Err(MailError::InvalidAddress(
                    "non-ASCII addresses need a server that offers SMTPUTF8".into(),
                ));
            }
            parameters.push(MailParameter::SmtpUtfEight);
        }
        // Bodies are transfer-encoded to ASCII, so this only guards future changes.
        if !bytes.is_ascii() {
            parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let mail = conn.command(Mail::new(envelope.from().cloned(), parameters));
        self.step(deadline, Step::MailFrom, mail).await?;

        let mut refused = Vec::new();
        for recipient in envelope.to() {
            let rcpt = conn.command(Rcpt::new(recipient.clone(), Vec::new()));
            match deadline.run(rcpt).await? {
                Ok(_) => {}
                Err(e) if e.status().is_some() => {
                    refused.push((recipient.to_string(), reply_text(&e)));
                }
                Err(e) => return Err(MailError::from_smtp(&e, Step::Data, deadline.step())),
            }
        }
        if refused.len() == envelope.to().len() {
            return Err(MailError::RecipientRejected {
                text: refusals(&refused),
                code: refused.first().and_then(|(_, reply)| leading_code(reply)),
                all_transient: refused
                    .iter()
                    .all(|(_, reply)| leading_code(reply).is_some_and(|c| (400..500).contains(&c))),
            });
        }

        self.step(deadline, Step::Data, conn.command(Data)).await?;
        self.step(deadline, Step::Data, conn.message(bytes)).await?;
        Ok(())
    }

    /// Ends a conversation that failed with `err`. QUIT only when the server is still
    /// talking (it refused something); after a timeout or a broken link a QUIT would only
    /// wait out another full timeout, so the socket is just dropped.
    pub(crate) async fn close(
        &self,
        mut conn: AsyncSmtpConnection,
        err: &MailError,
        deadline: &Deadline,
    ) {
        let server_still_talking = matches!(
            err,
            MailError::StartTlsUnavailable
                | MailError::AuthUnsupported
                | MailError::AuthNotOffered
                | MailError::XOAuth2Unsupported
                | MailError::AuthenticationRejected(_)
                | MailError::RecipientRejected { .. }
                | MailError::Rejected { .. }
                | MailError::InvalidAddress(_)
        );
        if server_still_talking {
            let _ = deadline.run(conn.abort()).await;
        }
    }

    /// A polite QUIT that still reports nothing: the check already succeeded.
    pub(crate) async fn quit(&self, mut conn: AsyncSmtpConnection, deadline: &Deadline) {
        let _ = deadline.run(conn.quit()).await;
    }

    /// Is a parked connection still usable? A NOOP, within the limit.
    pub(crate) async fn alive(&self, conn: &mut AsyncSmtpConnection, deadline: &Deadline) -> bool {
        !conn.has_broken() && deadline.run(conn.test_connected()).await.unwrap_or(false)
    }

    async fn step<T>(
        &self,
        deadline: &Deadline,
        step: Step,
        work: impl Future<Output = Result<T, lettre::transport::smtp::Error>>,
    ) -> Result<T> {
        deadline
            .run(work)
            .await?
            .map_err(|e| MailError::from_smtp(&e, step, deadline.step()))
    }
}

/// A TCP connection to the first of `addresses` that answers, each tried within `limit`,
/// with Nagle's algorithm off. lettre writes a message and its closing dot in two writes;
/// with Nagle on, the dot waits for the server to acknowledge the message, and servers
/// delay that acknowledgement (40 ms on Linux) while they wait for the dot: every send
/// over a reused connection would take at least that long. lettre sets no socket options,
/// so the socket is made here (except for implicit TLS, which lettre opens itself).
async fn connect_without_delay(
    addresses: &[SocketAddr],
    limit: Duration,
) -> std::io::Result<TcpStream> {
    let mut last_error = None;
    for address in addresses {
        match tokio::time::timeout(limit, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => {
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Ok(Err(e)) => last_error = Some(e),
            Err(_) => last_error = Some(std::io::ErrorKind::TimedOut.into()),
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no address to connect to")))
}

/// Whether the conversation sends AUTH. With a password, as Django's backend: only when
/// both a username and a password are stored. `none` sends no secret at all.
fn sends_password(settings: &SmtpSettings) -> bool {
    match settings.auth {
        SmtpAuth::Password => !settings.username.is_empty() && !settings.password.is_empty(),
        SmtpAuth::None => false,
        // A bearer token is a secret too.
        SmtpAuth::XOAuth2(_) => true,
    }
}

/// An EHLO keyword line that announces AUTH (`AUTH PLAIN`, or the old `AUTH=LOGIN`).
fn is_auth_keyword(line: &str) -> bool {
    let keyword = line.split([' ', '=']).next().unwrap_or_default();
    keyword.eq_ignore_ascii_case("AUTH")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::policy::DEFAULT_DENIED_NETWORKS;

    fn dialer(allow_plaintext_auth: bool) -> Dialer {
        Dialer {
            hello: ClientId::Domain("localhost".into()),
            extra_roots: Vec::new(),
            policy: Policy::new(&DEFAULT_DENIED_NETWORKS, &[], &[]),
            allow_plaintext_auth,
        }
    }

    fn settings(host: &str, tls: TlsMode, password: &str) -> SmtpSettings {
        SmtpSettings {
            host: host.into(),
            port: 25,
            username: "user".into(),
            password: password.into(),
            auth: SmtpAuth::Password,
            from_email: "a@example.com".into(),
            tls,
            dkim: None,
        }
    }

    #[test]
    fn auth_keywords_are_recognised_in_either_spelling() {
        assert!(is_auth_keyword("AUTH PLAIN LOGIN"));
        assert!(is_auth_keyword("auth CRAM-MD5"));
        assert!(is_auth_keyword("AUTH=LOGIN"));
        assert!(is_auth_keyword("AUTH"));
        assert!(!is_auth_keyword("AUTHX"));
        assert!(!is_auth_keyword("8BITMIME"));
        assert!(!is_auth_keyword("STARTTLS"));
    }

    // IP literals only: no DNS, and `destinations` never connects.
    #[tokio::test]
    async fn the_password_goes_in_plain_text_only_to_loopback_or_when_allowed() {
        let refused = "refusing to send the password without TLS to 192.0.2.10; turn on \
                       use_tls or use_ssl, or set smtp.allow_plaintext_auth = true";
        let cases = [
            ("192.0.2.10", TlsMode::None, "pw", false, Err(refused)),
            ("192.0.2.10", TlsMode::None, "pw", true, Ok("192.0.2.10:25")),
            (
                "192.0.2.10",
                TlsMode::StartTls,
                "pw",
                false,
                Ok("192.0.2.10:25"),
            ),
            (
                "192.0.2.10",
                TlsMode::Implicit,
                "pw",
                false,
                Ok("192.0.2.10:25"),
            ),
            ("192.0.2.10", TlsMode::None, "", false, Ok("192.0.2.10:25")),
            ("127.0.0.1", TlsMode::None, "pw", false, Ok("127.0.0.1:25")),
            ("127.3.4.5", TlsMode::None, "pw", false, Ok("127.3.4.5:25")),
            ("::1", TlsMode::None, "pw", false, Ok("[::1]:25")),
            (
                "::ffff:127.0.0.1",
                TlsMode::None,
                "pw",
                false,
                Ok("127.0.0.1:25"),
            ),
            (
                "169.254.169.254",
                TlsMode::None,
                "pw",
                true,
                Err("destination 169.254.169.254 is not allowed by smtp.denied_networks"),
            ),
        ];
        let deadline = Deadline::start(Duration::from_secs(1), Duration::from_secs(1));
        for (host, tls, password, allow, expected) in cases {
            let outcome = dialer(allow)
                .destinations(&settings(host, tls, password), &deadline)
                .await
                .map(|addresses| {
                    addresses
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .map_err(|e| e.to_string());
            let expected = expected.map(str::to_owned).map_err(str::to_owned);
            assert_eq!(outcome, expected, "{host} {tls:?} allow={allow}");
        }
    }

    #[tokio::test]
    async fn without_authentication_plain_text_goes_anywhere_the_policy_allows() {
        let deadline = Deadline::start(Duration::from_secs(1), Duration::from_secs(1));
        let mut relay = settings("192.0.2.10", TlsMode::None, "pw");
        relay.auth = SmtpAuth::None;
        let addresses = dialer(false).destinations(&relay, &deadline).await.unwrap();
        assert_eq!(addresses, ["192.0.2.10:25".parse().unwrap()]);
    }

    #[tokio::test]
    async fn connections_are_made_without_nagles_delay() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open = listener.local_addr().unwrap();
        let closed = {
            let unused = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            unused.local_addr().unwrap()
        };

        let stream = connect_without_delay(&[closed, open], Duration::from_secs(2))
            .await
            .unwrap();
        assert!(stream.nodelay().unwrap());
        assert_eq!(
            stream.peer_addr().unwrap(),
            open,
            "the refused address is skipped"
        );

        let refused = connect_without_delay(&[closed], Duration::from_secs(2))
            .await
            .unwrap_err();
        assert!(matches!(
            MailError::from_io(&refused, Duration::from_secs(2)),
            MailError::ConnectionRefused
        ));
    }
}
