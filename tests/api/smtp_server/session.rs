//! One client connection: mailin's state machine fed line by line, TLS when asked.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use mailin::{Action, AuthMechanism, Handler, Response, Session, SessionBuilder};
use std::sync::atomic::Ordering;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::{ReceivedMail, Security, Shared};

/// Per-connection facts that both the mailin handler and the I/O loop need.
#[derive(Default)]
struct ConnState {
    auth_user: Option<String>,
    /// One synthetic AUTH is accepted, to let MAIL through when auth is optional.
    bypass_auth: bool,
    tls: bool,
}

struct Recorder {
    shared: Arc<Shared>,
    state: Arc<Mutex<ConnState>>,
    mail_from: String,
    rcpt_to: Vec<String>,
    data: Vec<u8>,
}

impl Recorder {
    fn check_credentials(&mut self, user: &str, password: &str) -> Response {
        let mut state = self.state.lock().unwrap();
        if std::mem::take(&mut state.bypass_auth) {
            return mailin::response::AUTH_OK;
        }
        let options = &self.shared.options;
        if user == options.username && password == options.password {
            state.auth_user = Some(user.to_owned());
            mailin::response::AUTH_OK
        } else {
            Response::custom(535, "5.7.8 Authentication credentials invalid".into())
        }
    }
}

impl Handler for Recorder {
    fn rcpt(&mut self, to: &str) -> Response {
        if to.trim_start_matches('<').starts_with("reject") {
            let text = match &self.shared.quirks.reject_text {
                Some(text) => text.clone(),
                None => format!("5.1.1 <{to}>: Recipient address rejected"),
            };
            return Response::custom(550, text);
        }
        mailin::response::OK
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.mail_from = from.to_owned();
        self.rcpt_to = to.to_vec();
        self.data.clear();
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if self.shared.defers_next() {
            return Response::custom(451, "4.7.1 Greylisted, try again later".into());
        }
        let state = self.state.lock().unwrap();
        let mail = ReceivedMail {
            mail_from: std::mem::take(&mut self.mail_from),
            rcpt_to: std::mem::take(&mut self.rcpt_to),
            data: String::from_utf8_lossy(&std::mem::take(&mut self.data)).into_owned(),
            auth_user: state.auth_user.clone(),
            tls: state.tls,
        };
        self.shared.mails.lock().unwrap().push(mail);
        self.shared.arrived.notify_waiters();
        mailin::response::OK
    }

    fn auth_plain(&mut self, _authz: &str, user: &str, password: &str) -> Response {
        self.check_credentials(user, password)
    }

    fn auth_login(&mut self, user: &str, password: &str) -> Response {
        self.check_credentials(user, password)
    }
}

pub(super) async fn serve(socket: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let ip = socket.peer_addr()?.ip();
    let options = &shared.options;
    let acceptor = options.tls.clone().map(TlsAcceptor::from);
    let state = Arc::new(Mutex::new(ConnState::default()));
    let mut session = build_session(&shared, Arc::clone(&state), ip);

    if options.security == Security::ImplicitTls {
        let acceptor = acceptor.expect("checked at start");
        let stream = acceptor.accept(socket).await?;
        tls_started(&mut session, &state);
        converse(stream, &mut session, &shared, &state).await?;
        return Ok(());
    }
    if let Some(Upgrade(plain)) = converse(socket, &mut session, &shared, &state).await? {
        let acceptor = acceptor.expect("STARTTLS is offered only with a TLS config");
        let stream = acceptor.accept(plain).await?;
        tls_started(&mut session, &state);
        // Session restarts: the client says EHLO again; no second greeting.
        let mut stream = BufReader::new(stream);
        serve_lines(&mut stream, &mut session, &shared, &state).await?;
    }
    Ok(())
}

fn build_session(
    shared: &Arc<Shared>,
    state: Arc<Mutex<ConnState>>,
    ip: IpAddr,
) -> Session<Recorder> {
    let options = &shared.options;
    let mut builder = SessionBuilder::new("localhost");
    if !shared.quirks.no_auth {
        builder
            .enable_auth(AuthMechanism::Plain)
            .enable_auth(AuthMechanism::Login);
    }
    let offers_starttls = match options.security {
        Security::StartTls => true,
        Security::Plain => options.tls.is_some(),
        Security::ImplicitTls | Security::PlainNoStartTls => false,
    };
    if offers_starttls {
        builder.enable_start_tls();
    }
    if options.security != Security::StartTls {
        builder.insecure_enable_plaintext_auth();
    }
    let recorder = Recorder {
        shared: Arc::clone(shared),
        state,
        mail_from: String::new(),
        rcpt_to: Vec::new(),
        data: Vec::new(),
    };
    builder.build(ip, recorder)
}

fn tls_started(session: &mut Session<Recorder>, state: &Mutex<ConnState>) {
    session.tls_active();
    state.lock().unwrap().tls = true;
}

/// The plain-text stream handed back when the client asked for STARTTLS.
struct Upgrade<S>(S);

/// Greets, then serves lines until QUIT, EOF or STARTTLS.
async fn converse<S>(
    stream: S,
    session: &mut Session<Recorder>,
    shared: &Shared,
    state: &Mutex<ConnState>,
) -> std::io::Result<Option<Upgrade<S>>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut stream = BufReader::new(stream);
    stream.write_all(&session.greeting().buffer()?).await?;
    stream.flush().await?;
    let upgrade = serve_lines(&mut stream, session, shared, state).await?;
    // Nothing is buffered: the client waits for the 220 before its TLS hello.
    Ok(upgrade.then(|| Upgrade(stream.into_inner())))
}

/// Returns true when the client asked for STARTTLS and got its 220.
async fn serve_lines<S>(
    stream: &mut BufReader<S>,
    session: &mut Session<Recorder>,
    shared: &Shared,
    state: &Mutex<ConnState>,
) -> std::io::Result<bool>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut line = Vec::new();
    let mut in_data = false;
    let mut in_auth = false;
    loop {
        line.clear();
        if stream.read_until(b'\n', &mut line).await? == 0 {
            return Ok(false);
        }
        let ends_message = in_data && line == b".\r\n";
        if ends_message && !held_until_release(stream, shared).await? {
            return Ok(false);
        }
        let is_command = !in_data && !in_auth;
        let xoauth2 = is_command
            .then(|| xoauth2_reply(&line, session, shared, state))
            .flatten();
        let response = match xoauth2 {
            Some(reply) => reply,
            None => match is_command.then(|| early_mail_reply(&line, session, shared, state)) {
                Some(Some(refusal)) => refusal,
                _ => session.process(&line),
            },
        };
        if in_data && line == b".\r\n" {
            in_data = false;
        }
        in_data |= response.code == 354;
        in_auth = response.code == 334;
        match response.action {
            Action::NoReply => {}
            Action::Reply => write(stream, &response, shared).await?,
            Action::Close => {
                write(stream, &response, shared).await?;
                return Ok(false);
            }
            Action::UpgradeTls => {
                write(stream, &response, shared).await?;
                return Ok(true);
            }
        }
    }
}

/// Waits while the server holds messages; false when the client went away meanwhile.
async fn held_until_release<S>(stream: &mut BufReader<S>, shared: &Shared) -> std::io::Result<bool>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut waited = false;
    let gone = loop {
        let released = shared.released.notified();
        tokio::pin!(released);
        released.as_mut().enable();
        if !shared.holding() {
            break false;
        }
        if !waited {
            waited = true;
            shared.held.fetch_add(1, Ordering::SeqCst);
        }
        let mut byte = [0u8; 1];
        // A hang-up seen together with the release wins: that message was never accepted.
        tokio::select! {
            biased;
            read = stream.read(&mut byte) => {
                // The client sends nothing before the reply: any end of the read is a hang-up.
                let _ = read;
                break true;
            }
            _ = released => {}
        }
    };
    if waited {
        shared.held.fetch_sub(1, Ordering::SeqCst);
    }
    Ok(!gone)
}

/// `AUTH XOAUTH2 <base64>`, which mailin does not know: accepted with the current token
/// (mailin is then told of a login through the synthetic AUTH), else 535.
fn xoauth2_reply(
    line: &[u8],
    session: &mut Session<Recorder>,
    shared: &Shared,
    state: &Mutex<ConnState>,
) -> Option<Response> {
    use base64::Engine as _;

    let current = shared.quirks.xoauth2.as_ref()?;
    let text = std::str::from_utf8(line).ok()?.trim_end();
    let (verb, argument) = text.split_at(text.len().min(13));
    if !verb.eq_ignore_ascii_case("AUTH XOAUTH2 ") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(argument.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default();
    // user=<user>\x01auth=Bearer <token>\x01\x01
    let mut user = None;
    let mut token = None;
    for part in decoded.split('\x01') {
        if let Some(u) = part.strip_prefix("user=") {
            user = Some(u.to_owned());
        } else if let Some(t) = part.strip_prefix("auth=Bearer ") {
            token = Some(t.to_owned());
        }
    }
    let valid = token.is_some() && *current.lock().unwrap() == token;
    if !valid || user.is_none() {
        return Some(Response::custom(
            535,
            "5.7.8 Authentication credentials invalid".into(),
        ));
    }
    state.lock().unwrap().bypass_auth = true;
    session.process(b"AUTH PLAIN AAA=\r\n");
    let mut state = state.lock().unwrap();
    state.bypass_auth = false;
    state.auth_user = user;
    Some(mailin::response::AUTH_OK)
}

/// mailin answers MAIL before AUTH with a bare 503. Real servers say 530, and some let
/// unauthenticated clients send: both are handled here, before mailin sees the line.
fn early_mail_reply(
    line: &[u8],
    session: &mut Session<Recorder>,
    shared: &Shared,
    state: &Mutex<ConnState>,
) -> Option<Response> {
    let is_mail = line.len() >= 5 && line[..5].eq_ignore_ascii_case(b"MAIL ");
    let (authenticated, tls) = {
        let state = state.lock().unwrap();
        (state.auth_user.is_some(), state.tls)
    };
    if !is_mail || authenticated {
        return None;
    }
    let options = &shared.options;
    if options.security == Security::StartTls && !tls {
        return Some(Response::custom(
            530,
            "5.7.0 Must issue a STARTTLS command first".into(),
        ));
    }
    if shared.quirks.no_auth {
        // mailin takes MAIL without AUTH when it offers none.
        return None;
    }
    if options.require_auth {
        return Some(Response::custom(
            530,
            "5.7.0 Authentication required".into(),
        ));
    }
    // mailin only takes MAIL once authenticated: satisfy it with an empty AUTH PLAIN
    // ("\0\0" in base64) that the handler accepts without recording a user.
    state.lock().unwrap().bypass_auth = true;
    session.process(b"AUTH PLAIN AAA=\r\n");
    state.lock().unwrap().bypass_auth = false;
    None
}

/// Answers a command, after the configured delay if any.
async fn write<S: AsyncWrite + Unpin>(
    stream: &mut S,
    response: &Response,
    shared: &Shared,
) -> std::io::Result<()> {
    if let Some(delay) = shared.quirks.reply_delay {
        tokio::time::sleep(delay).await;
    }
    let mut bytes = response.buffer()?;
    if shared.quirks.xoauth2.is_some() {
        // The EHLO reply lists mailin's mechanisms; XOAUTH2 is handled here.
        let text =
            String::from_utf8_lossy(&bytes).replace("AUTH PLAIN LOGIN", "AUTH PLAIN LOGIN XOAUTH2");
        bytes = text.into_bytes();
    }
    stream.write_all(&bytes).await?;
    stream.flush().await
}
