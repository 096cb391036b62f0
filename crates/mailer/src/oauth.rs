//! XOAUTH2 access tokens: fetched from the notifier's OAuth2 token endpoint (RFC 6749
//! §4.4 client credentials, §6 refresh), kept in memory per notifier until 60 s before
//! they expire, never written anywhere.
//!
//! The endpoint gets the client secret and the refresh token, so it is treated like an
//! SMTP destination: `https` only (the API refuses other URLs), certificates verified
//! against the SMTP roots (webpki plus `smtp.extra_ca_file`), the resolved addresses
//! checked against `smtp.denied_networks` / `smtp.allowed_networks`, and redirects never
//! followed (a 307 would replay the secrets elsewhere). Its answers are quoted only as
//! `error: error_description`, cleaned and cut like SMTP replies.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use prometheus::{IntCounterVec, Opts};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::deadline::Deadline;
use crate::error::{MailError, Result, clean};
use crate::policy::{self, Policy};
use crate::settings::XOAuth2;
use crate::tls::Trust;

/// A token is fetched again this long before the endpoint said it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(60);
/// The most of an endpoint's answer that is read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// A refresh token the endpoint replaced: the caller stores it instead of `previous`.
#[derive(Clone, PartialEq, Eq)]
pub struct RotatedRefreshToken {
    pub notifier_id: i64,
    pub previous: String,
    pub refresh_token: String,
}

impl std::fmt::Debug for RotatedRefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatedRefreshToken")
            .field("notifier_id", &self.notifier_id)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Tokens {
    client: reqwest::Client,
    policy: Policy,
    cache: Mutex<HashMap<i64, Cached>>,
    /// One fetch at a time per notifier: concurrent sends that find no token wait for the
    /// one being fetched (an endpoint that rotates refresh tokens may refuse the second
    /// use of one).
    fetching: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
    /// Keyed per process, so the fingerprint of a secret is no stable hash of it.
    hasher: RandomState,
    fetches: IntCounterVec,
    rotated: mpsc::UnboundedSender<RotatedRefreshToken>,
}

struct Cached {
    /// The settings the token was fetched with: other settings fetch another.
    fingerprint: u64,
    token: String,
    renew_at: Instant,
}

#[derive(Deserialize)]
struct Answer {
    access_token: Option<String>,
    /// A number in the RFC; some endpoints send a string.
    expires_in: Option<serde_json::Value>,
    refresh_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

impl Tokens {
    pub(crate) fn new(
        trust: &Trust,
        policy: Policy,
        timeout: Duration,
    ) -> Result<(Self, mpsc::UnboundedReceiver<RotatedRefreshToken>)> {
        // The SMTP trust (webpki roots and `smtp.extra_ca_file`), as §10 asks.
        let tls = (*trust.config()).clone();
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(PolicedResolver(policy.clone())))
            .connect_timeout(timeout)
            .build()
            .map_err(|e| MailError::Protocol(format!("cannot build the OAuth2 client: {e}")))?;
        let fetches = IntCounterVec::new(
            Opts::new(
                "notifier_oauth_token_fetch_total",
                "XOAUTH2 access tokens asked of token endpoints, by outcome",
            ),
            &["outcome"],
        )
        .map_err(|e| MailError::Protocol(e.to_string()))?;
        let (rotated, rotations) = mpsc::unbounded_channel();
        Ok((
            Self {
                client,
                policy,
                cache: Mutex::default(),
                fetching: Mutex::default(),
                hasher: RandomState::new(),
                fetches,
                rotated,
            },
            rotations,
        ))
    }

    pub(crate) fn counter(&self) -> IntCounterVec {
        self.fetches.clone()
    }

    /// An access token for this notifier: the cached one while it is good, else a new one.
    /// Without a notifier id (a check of settings not stored), always a new one, kept
    /// nowhere.
    pub(crate) async fn token(
        &self,
        notifier_id: Option<i64>,
        settings: &XOAuth2,
        deadline: &Deadline,
    ) -> Result<String> {
        let fingerprint = self.hasher.hash_one(settings);
        if let Some(token) = self.cached(notifier_id, fingerprint) {
            return Ok(token);
        }
        let lock = notifier_id.map(|id| {
            let mut fetching = self.fetching.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(fetching.entry(id).or_default())
        });
        let _fetching = match &lock {
            Some(lock) => Some(deadline.within_total(lock.lock()).await?),
            None => None,
        };
        // Another send may have fetched one while this one waited.
        if let Some(token) = self.cached(notifier_id, fingerprint) {
            return Ok(token);
        }
        let fetched = self.fetch(settings, deadline).await;
        let outcome = match &fetched {
            Ok(_) => "ok",
            Err(_) => "error",
        };
        self.fetches.with_label_values(&[outcome]).inc();
        let answer = fetched?;
        let stored = (notifier_id, &settings.refresh_token, &answer.refresh_token);
        if let (Some(notifier_id), Some(previous), Some(rotated)) = stored
            && previous != rotated
            && !rotated.is_empty()
        {
            // Nobody listening only means nobody stores it; the send goes on.
            let _ = self.rotated.send(RotatedRefreshToken {
                notifier_id,
                previous: previous.clone(),
                refresh_token: rotated.clone(),
            });
        }
        let token = answer.token;
        let lifetime = answer.expires_in.and_then(|s| s.checked_sub(RENEW_BEFORE));
        if let (Some(notifier_id), Some(lifetime)) = (notifier_id, lifetime) {
            self.cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(
                    notifier_id,
                    Cached {
                        fingerprint,
                        token: token.clone(),
                        renew_at: Instant::now() + lifetime,
                    },
                );
        }
        Ok(token)
    }

    fn cached(&self, notifier_id: Option<i64>, fingerprint: u64) -> Option<String> {
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let cached = cache.get(&notifier_id?)?;
        (cached.fingerprint == fingerprint && Instant::now() < cached.renew_at)
            .then(|| cached.token.clone())
    }

    /// Drops this notifier's token: the server refused it, or the notifier changed.
    pub(crate) fn forget(&self, notifier_id: i64) {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&notifier_id);
    }

    async fn fetch(&self, settings: &XOAuth2, deadline: &Deadline) -> Result<Fetched> {
        let endpoint = reqwest::Url::parse(&settings.token_url)
            .map_err(|_| oauth_error("not a valid URL", false))?;
        // IP literals never reach the resolver: check them here.
        let literal = endpoint.host_str().and_then(|host| {
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .ok()
        });
        if let Some(ip) = literal {
            self.policy.admit([ip])?;
        }
        let mut form: Vec<(&str, &str)> = Vec::with_capacity(5);
        match &settings.refresh_token {
            Some(refresh_token) => {
                form.push(("grant_type", "refresh_token"));
                form.push(("refresh_token", refresh_token));
            }
            None => form.push(("grant_type", "client_credentials")),
        }
        form.push(("client_id", &settings.client_id));
        form.push(("client_secret", &settings.client_secret));
        form.push(("scope", &settings.scope));
        let request = self
            .client
            .post(endpoint)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send();
        let response = deadline
            .run(request)
            .await?
            .map_err(|e| oauth_error(&request_failure(&e), true))?;
        let status = response.status();
        let body = deadline
            .run(read_limited(response))
            .await?
            .map_err(|e| oauth_error(&request_failure(&e), true))?;
        let answer: Option<Answer> = serde_json::from_slice(&body).ok();
        if let Some(Answer {
            error: Some(error), ..
        }) = &answer
        {
            let text = match answer.as_ref().and_then(|a| a.error_description.as_deref()) {
                Some(description) => format!("{error}: {description}"),
                None => error.clone(),
            };
            let transient = status.is_server_error() || error == "temporarily_unavailable";
            return Err(oauth_error(&text, transient));
        }
        if !status.is_success() {
            let transient = status.is_server_error() || status.as_u16() == 429;
            return Err(oauth_error(&format!("HTTP {}", status.as_u16()), transient));
        }
        let Some(answer) = answer else {
            return Err(oauth_error("the answer is not JSON", false));
        };
        let Some(token) = answer.access_token.filter(|t| !t.is_empty()) else {
            return Err(oauth_error("the answer has no access_token", false));
        };
        let expires_in = match answer.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        Ok(Fetched {
            token,
            expires_in: expires_in.map(Duration::from_secs),
            refresh_token: answer.refresh_token,
        })
    }
}

struct Fetched {
    token: String,
    expires_in: Option<Duration>,
    refresh_token: Option<String>,
}

fn oauth_error(text: &str, transient: bool) -> MailError {
    MailError::OAuthToken {
        text: clean(text),
        transient,
    }
}

/// What went wrong with the request, without the URL's query or anything the peer sent.
fn request_failure(err: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    if err.is_timeout() {
        "timed out".to_owned()
    } else if err.is_connect() {
        format!("cannot connect: {cause}")
    } else {
        format!("request failed: {cause}")
    }
}

/// The body, at most [`MAX_ANSWER_BYTES`] of it.
async fn read_limited(mut response: reqwest::Response) -> reqwest::Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_ANSWER_BYTES.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_ANSWER_BYTES {
            break;
        }
    }
    Ok(body)
}

/// Resolves token endpoint names and keeps only the addresses the outbound policy admits.
struct PolicedResolver(Policy);

impl Resolve for PolicedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved = policy::resolve(&host, 0).await?;
            let admitted = policy.admit(resolved)?;
            let addrs: Addrs = Box::new(
                admitted
                    .into_iter()
                    .map(|ip| SocketAddr::new(ip, 0))
                    .collect::<Vec<_>>()
                    .into_iter(),
            );
            Ok(addrs)
        })
    }
}
