//! Who is asking and under which name: the client address (for throttling), the base of
//! absolute links (`Location`, pagination) and the `Host` check (§11).
//!
//! Forwarding headers (`Forwarded`, `X-Forwarded-For`/`-Host`/`-Proto`) are believed only
//! from `server.trusted_proxies`; from anyone else they are attacker-controlled text.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::dev::ServiceRequest;
use actix_web::http::header::{self, HeaderMap};
use ipnet::IpNet;

/// The `server.public_url`, `server.trusted_proxies` and `server.allowed_hosts` settings.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    /// `https://notifier.example.com` (no trailing slash): the base of every link.
    pub public_url: Option<String>,
    pub trusted_proxies: Vec<IpNet>,
    /// Django's `ALLOWED_HOSTS` patterns: `*`, `.example.com` (and its subdomains), or an
    /// exact name; empty allows any host.
    pub allowed_hosts: Vec<String>,
}

impl OriginPolicy {
    pub fn new(public_url: &str, trusted_proxies: Vec<IpNet>, allowed_hosts: Vec<String>) -> Self {
        let public_url = public_url.trim().trim_end_matches('/');
        Self {
            public_url: (!public_url.is_empty()).then(|| public_url.to_owned()),
            trusted_proxies,
            allowed_hosts: allowed_hosts
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
        }
    }

    fn trusts(&self, peer: Option<IpAddr>) -> bool {
        peer.is_some_and(|ip| self.trusted_proxies.iter().any(|net| net.contains(&ip)))
    }

    /// The client's address: the peer's, or, behind trusted proxies, the nearest address
    /// in the forwarding chain that is not itself a trusted proxy.
    pub fn client_ip(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        if !self.trusts(peer) {
            return peer;
        }
        let chain = forwarded_for(headers);
        chain
            .iter()
            .rev()
            .find(|ip| !self.trusted_proxies.iter().any(|net| net.contains(*ip)))
            .copied()
            .or(peer)
    }

    /// `scheme://host` that links to this service start with.
    pub fn base_url(&self, req: &HttpRequest) -> String {
        if let Some(public) = &self.public_url {
            return public.clone();
        }
        let peer = req.peer_addr().map(|a| a.ip());
        if self.trusts(peer) {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        } else {
            format!("http://{}", direct_host(req.headers(), req.uri()))
        }
    }

    /// Is the name this request was sent to one of `allowed_hosts`? Always, when empty.
    pub fn host_allowed(&self, req: &ServiceRequest) -> bool {
        if self.allowed_hosts.is_empty() {
            return true;
        }
        let peer = req.peer_addr().map(|a| a.ip());
        let host = if self.trusts(peer) {
            req.connection_info().host().to_owned()
        } else {
            direct_host(req.headers(), req.uri()).to_owned()
        };
        let name = strip_port(&host).to_ascii_lowercase();
        !name.is_empty()
            && self
                .allowed_hosts
                .iter()
                .any(|pattern| matches_host(pattern, &name))
    }
}

/// The `Host` header (HTTP/1.1) or the URI's authority (HTTP/2), ignoring forwarding.
fn direct_host<'a>(headers: &'a HeaderMap, uri: &'a actix_web::http::Uri) -> &'a str {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .unwrap_or_default()
}

/// `example.com:8080` → `example.com`; `[::1]:8080` → `[::1]` (as Django splits it).
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// Django's `validate_host` pattern rule.
fn matches_host(pattern: &str, name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    if pattern == "*" {
        return true;
    }
    match pattern.strip_prefix('.') {
        Some(parent) => name == parent || name.ends_with(pattern),
        None => name == pattern,
    }
}

/// Addresses named by `Forwarded: for=` or, without it, `X-Forwarded-For`, nearest last.
fn forwarded_for(headers: &HeaderMap) -> Vec<IpAddr> {
    let forwarded: Vec<IpAddr> = headers
        .get_all(header::FORWARDED)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([',', ';']))
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case("for")
                .then(|| parse_node(value))?
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    headers
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(parse_node)
        .collect()
}

/// `192.0.2.1`, `"[2001:db8::1]:443"`, `192.0.2.1:80`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Ok(ip) = node.parse() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    node.rsplit_once(':')?.0.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    fn ip(text: &str) -> Option<IpAddr> {
        text.parse().ok()
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let policy = OriginPolicy::new("", vec!["10.0.0.0/8".parse().unwrap()], Vec::new());
        let spoofed = headers(&[("x-forwarded-for", "203.0.113.9, 10.0.0.2")]);
        assert_eq!(
            policy.client_ip(ip("198.51.100.7"), &spoofed),
            ip("198.51.100.7")
        );
        assert_eq!(
            policy.client_ip(ip("10.0.0.1"), &spoofed),
            ip("203.0.113.9")
        );
        let forwarded = headers(&[("forwarded", "for=\"[2001:db8::1]:443\";proto=https")]);
        assert_eq!(
            policy.client_ip(ip("10.0.0.1"), &forwarded),
            ip("2001:db8::1")
        );
        // A chain of trusted proxies only: the nearest peer it is.
        let internal = headers(&[("x-forwarded-for", "10.1.1.1")]);
        assert_eq!(policy.client_ip(ip("10.0.0.1"), &internal), ip("10.0.0.1"));
    }

    #[test]
    fn host_patterns_follow_django() {
        let cases = [
            ("*", "anything.example", true),
            ("api.example.com", "api.example.com", true),
            ("api.example.com", "evil.example.com", false),
            (".example.com", "example.com", true),
            (".example.com", "a.b.example.com", true),
            (".example.com", "badexample.com", false),
            ("api.example.com", "api.example.com.", true),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(matches_host(pattern, name), expected, "{pattern} vs {name}");
        }
        assert_eq!(strip_port("example.com:8080"), "example.com");
        assert_eq!(strip_port("[::1]:8080"), "[::1]");
        assert_eq!(strip_port("example.com"), "example.com");
    }
}
