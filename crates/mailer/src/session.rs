//! One SMTP conversation: check the destination, connect, secure, authenticate, then mail
//! transactions.
//!
//! Driven step by step on lettre's `AsyncSmtpConnection` rather than through
//! `AsyncSmtpTransport`: lettre's async client applies its timeout to the TCP connect only,
//! so every step here gets its own limit (and the exchange an overall one, see
//! [`Deadline`]), and a failure names the step it happened in.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::PoisonError;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt, Starttls};
use lettre::transport::smtp::extension::{
    ClientId, Extension, MailBodyParameter, MailParameter, ServerInfo,
};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::certificate;
use crate::deadline::Deadline;
use crate::error::{MailError, Result, Step, leading_code, refusals, reply_text};
use crate::link::{Link, Wire};
use crate::policy::{self, Policy};
use crate::settings::{SmtpAuth, SmtpSettings, TlsMode};
use crate::tls::{Presented, Trust};
use crate::trace::{StepName, Trace};

const MECHANISMS: [Mechanism; 2] = [Mechanism::Plain, Mechanism::Login];

/// What every conversation shares: the EHLO name, the trusted roots, the outbound policy.
pub(crate) struct Dialer {
    pub hello: ClientId,
    pub trust: Trust,
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
        trace: &mut Trace,
    ) -> Result<AsyncSmtpConnection> {
        let addresses = self.destinations(settings, deadline, trace).await?;
        self.connect(&addresses, settings, token, deadline, trace)
            .await
    }

    /// [`Dialer::open`] to addresses [`Dialer::destinations`] admitted.
    pub(crate) async fn connect(
        &self,
        addresses: &[SocketAddr],
        settings: &SmtpSettings,
        token: Option<&str>,
        deadline: &Deadline,
        trace: &mut Trace,
    ) -> Result<AsyncSmtpConnection> {
        // The checked addresses, tried in order: nothing is resolved again. TLS still
        // verifies the certificate against the notifier's host name.
        let connect = async {
            deadline
                .run(connect_without_delay(addresses, deadline.step()))
                .await?
                .map_err(|e| MailError::from_io(&e, deadline.step()))
        };
        let tcp = trace
            .step(StepName::Connect, connect, |tcp| match tcp.peer_addr() {
                Ok(peer) => format!("connected to {peer}"),
                Err(_) => "connected".to_owned(),
            })
            .await?;

        let wire = match settings.tls {
            TlsMode::Implicit => {
                let tls = self
                    .secure(async { Ok(tcp) }, settings, deadline, trace)
                    .await?;
                Wire::Tls(Box::new(tls))
            }
            TlsMode::None | TlsMode::StartTls => Wire::Tcp(tcp),
        };
        let (link, handle) = Link::new(wire);
        let mut conn = self.greet(link, deadline, trace).await?;

        if settings.tls == TlsMode::StartTls {
            // Never fall back to plain text: the notifier asked for TLS.
            if !conn.server_info().supports_feature(Extension::StartTls) {
                let err = MailError::StartTlsUnavailable;
                trace.refuse(StepName::Tls, &err);
                self.close(conn, &err, deadline).await;
                return Err(err);
            }
            let starttls = async {
                self.step(deadline, Step::StartTls, conn.command(Starttls))
                    .await?;
                handle.take_tcp().ok_or(MailError::Disconnected)
            };
            // On failure the connection is dropped without QUIT: the handshake may have
            // begun, and the server would read a QUIT as TLS.
            let tls = self.secure(starttls, settings, deadline, trace).await?;
            conn = self
                .greet(
                    Link::after_starttls(Wire::Tls(Box::new(tls))),
                    deadline,
                    trace,
                )
                .await?;
        }

        let authenticated = self
            .authenticate(&mut conn, settings, token, deadline, trace)
            .await;
        match authenticated {
            Ok(()) => Ok(conn),
            Err(e) => {
                self.close(conn, &e, deadline).await;
                Err(e)
            }
        }
    }

    /// The `tls` step: `tcp` (a ready stream, or STARTTLS and its `220`), then the
    /// handshake. `/test` names the certificate the server showed, even one refused.
    async fn secure(
        &self,
        tcp: impl Future<Output = Result<TcpStream>>,
        settings: &SmtpSettings,
        deadline: &Deadline,
        trace: &mut Trace,
    ) -> Result<TlsStream<TcpStream>> {
        let presented = trace.is_on().then(Presented::default);
        let handshake = async {
            let tcp = tcp.await?;
            deadline
                .run(
                    self.trust
                        .handshake(tcp, &settings.host, presented.as_ref()),
                )
                .await?
        };
        let secured = trace.step(StepName::Tls, handshake, describe_tls).await;
        if secured.is_err() {
            let shown = presented
                .as_ref()
                .and_then(|slot| slot.lock().unwrap_or_else(PoisonError::into_inner).take());
            if let Some(cert) = shown {
                trace.amend_last(&format!("; {}", certificate::describe(&cert)));
            }
        }
        secured
    }

    /// The `ehlo` step: lettre reads the greeting, sends EHLO and keeps what the server offers.
    async fn greet(
        &self,
        link: Link,
        deadline: &Deadline,
        trace: &mut Trace,
    ) -> Result<AsyncSmtpConnection> {
        let greet = AsyncSmtpConnection::connect_with_transport(Box::new(link), &self.hello);
        let greeted = self.step(deadline, Step::Connect, greet);
        let conn = trace
            .step(StepName::Ehlo, greeted, |conn| {
                describe_offer(conn.server_info())
            })
            .await?;
        trace.starttls_offered = conn.server_info().supports_feature(Extension::StartTls);
        Ok(conn)
    }

    /// The `auth` step, when the notifier's method logs in at all.
    async fn authenticate(
        &self,
        conn: &mut AsyncSmtpConnection,
        settings: &SmtpSettings,
        token: Option<&str>,
        deadline: &Deadline,
        trace: &mut Trace,
    ) -> Result<()> {
        let (mechanisms, credentials): (&[Mechanism], Credentials) = match settings.auth {
            SmtpAuth::XOAuth2(_) => {
                if !conn
                    .server_info()
                    .supports_auth_mechanism(Mechanism::Xoauth2)
                {
                    let err = MailError::XOAuth2Unsupported;
                    trace.refuse(StepName::Auth, &err);
                    return Err(err);
                }
                let token = token.unwrap_or_default().to_owned();
                (
                    &[Mechanism::Xoauth2],
                    Credentials::new(settings.username.clone(), token),
                )
            }
            _ if sends_password(settings) => {
                if conn.server_info().get_auth_mechanism(&MECHANISMS).is_none() {
                    let err = if self.offers_auth(conn, deadline).await {
                        MailError::AuthUnsupported
                    } else {
                        MailError::AuthNotOffered
                    };
                    trace.refuse(StepName::Auth, &err);
                    return Err(err);
                }
                let credentials =
                    Credentials::new(settings.username.clone(), settings.password.clone());
                (&MECHANISMS, credentials)
            }
            _ => return Ok(()),
        };
        let mechanism = conn.server_info().get_auth_mechanism(mechanisms);
        let auth = self.step(deadline, Step::Auth, conn.auth(mechanisms, &credentials));
        trace
            .step(StepName::Auth, auth, |_| match mechanism {
                Some(mechanism) => format!("accepted AUTH {mechanism}"),
                None => "accepted".to_owned(),
            })
            .await?;
        Ok(())
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

    /// The `resolve` step: the socket addresses `open` may connect to. Port allowed, host
    /// resolved within the limits, each address canonical and allowed, and only loopback
    /// ones when the password would travel in plain text.
    pub(crate) async fn destinations(
        &self,
        settings: &SmtpSettings,
        deadline: &Deadline,
        trace: &mut Trace,
    ) -> Result<Vec<SocketAddr>> {
        let admitted = self.admitted(settings, deadline);
        trace
            .step(StepName::Resolve, admitted, |addresses| {
                let listed: Vec<String> = addresses.iter().map(|a| a.ip().to_string()).collect();
                format!("{} resolves to {}", settings.host, listed.join(", "))
            })
            .await
    }

    async fn admitted(
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

    /// One mail transaction: the `mail_from`, `rcpt_to` and `data` steps. As Python's
    /// smtplib (and so the original product), refused recipients are skipped and the
    /// message still goes to the others; it fails only when every recipient is refused.
    /// The caller closes the connection after an error.
    pub(crate) async fn transact(
        &self,
        conn: &mut AsyncSmtpConnection,
        envelope: &Envelope,
        bytes: &[u8],
        deadline: &Deadline,
        trace: &mut Trace,
    ) -> Result<()> {
        let mut parameters = Vec::new();
        let non_ascii_address = envelope
            .from()
            .into_iter()
            .chain(envelope.to())
            .any(|a| !a.to_string().is_ascii());
        if non_ascii_address {
            if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
                let err = MailError::InvalidAddress(
                    "non-ASCII addresses need a server that offers SMTPUTF8".into(),
                );
                trace.refuse(StepName::MailFrom, &err);
                return Err(err);
            }
            parameters.push(MailParameter::SmtpUtfEight);
        }
        // Bodies are transfer-encoded to ASCII, so this only guards future changes.
        if !bytes.is_ascii() {
            parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let mail = conn.command(Mail::new(envelope.from().cloned(), parameters));
        let mail = self.step(deadline, Step::MailFrom, mail);
        trace.step(StepName::MailFrom, mail, reply_line).await?;

        let recipients = self.recipients(conn, envelope, deadline);
        trace
            .step(StepName::RcptTo, recipients, |refused| {
                let accepted = envelope.to().len() - refused.len();
                match refused.is_empty() {
                    true => format!("{accepted} accepted"),
                    false => format!("{accepted} accepted; refused {}", refusals(refused)),
                }
            })
            .await?;

        let data = async {
            self.step(deadline, Step::Data, conn.command(Data)).await?;
            self.step(deadline, Step::Data, conn.message(bytes)).await
        };
        trace.step(StepName::Data, data, reply_line).await?;
        Ok(())
    }

    /// RCPT TO for each recipient; the refused ones with their replies, or an error when
    /// every one was refused.
    async fn recipients(
        &self,
        conn: &mut AsyncSmtpConnection,
        envelope: &Envelope,
        deadline: &Deadline,
    ) -> Result<Vec<(String, String)>> {
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
        Ok(refused)
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

/// `TLS 1.3; certificate …` for a finished handshake.
fn describe_tls(tls: &TlsStream<TcpStream>) -> String {
    let session = tls.get_ref().1;
    let version = match session.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3",
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2",
        _ => "TLS",
    };
    match session.peer_certificates().and_then(<[_]>::first) {
        Some(cert) => format!("{version}; {}", certificate::describe(cert)),
        None => version.to_owned(),
    }
}

/// `offers STARTTLS, AUTH PLAIN LOGIN, 8BITMIME`: the extensions lettre understood.
fn describe_offer(info: &ServerInfo) -> String {
    let mechanisms: Vec<String> = [Mechanism::Plain, Mechanism::Login, Mechanism::Xoauth2]
        .into_iter()
        .filter(|m| info.supports_auth_mechanism(*m))
        .map(|m| m.to_string())
        .collect();
    let auth = (!mechanisms.is_empty()).then(|| format!("AUTH {}", mechanisms.join(" ")));
    let offered: Vec<String> = [
        info.supports_feature(Extension::StartTls)
            .then(|| "STARTTLS".to_owned()),
        auth,
        info.supports_feature(Extension::EightBitMime)
            .then(|| "8BITMIME".to_owned()),
        info.supports_feature(Extension::SmtpUtfEight)
            .then(|| "SMTPUTF8".to_owned()),
    ]
    .into_iter()
    .flatten()
    .collect();
    if offered.is_empty() {
        "offers no extensions".to_owned()
    } else {
        format!("offers {}", offered.join(", "))
    }
}

/// The first line of a positive reply, cleaned: `250 2.1.0 Ok`.
fn reply_line(reply: &lettre::transport::smtp::response::Response) -> String {
    let first = reply.first_line().unwrap_or_default();
    crate::error::clean(&format!("{} {first}", reply.code()))
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
            trust: Trust::new(None).unwrap(),
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
                .destinations(&settings(host, tls, password), &deadline, &mut Trace::off())
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
        let addresses = dialer(false)
            .destinations(&relay, &deadline, &mut Trace::off())
            .await
            .unwrap();
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
