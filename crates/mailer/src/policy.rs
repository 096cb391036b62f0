//! Where the mailer may connect (docs/API.md §11): the operator's networks and ports,
//! checked against the resolved addresses themselves. The addresses checked are the ones
//! connected to, so a name that resolves differently a moment later (DNS rebinding)
//! gains nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::error::{MailError, Result};

/// `smtp.denied_networks` by default: addresses no mail server should have. Link-local
/// (cloud metadata services answer on 169.254.169.254), unspecified (`0.0.0.0` reaches
/// the local host on Linux), multicast and broadcast. Loopback stays allowed: local
/// relays, and the tests' servers, live there.
pub const DEFAULT_DENIED_NETWORKS: [IpNet; 7] = [
    IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::new(169, 254, 0, 0), 16)),
    IpNet::V6(Ipv6Net::new_assert(
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0),
        10,
    )),
    IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::UNSPECIFIED, 8)),
    IpNet::V6(Ipv6Net::new_assert(Ipv6Addr::UNSPECIFIED, 128)),
    IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::new(224, 0, 0, 0), 4)),
    IpNet::V6(Ipv6Net::new_assert(
        Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0),
        8,
    )),
    IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::BROADCAST, 32)),
];

/// The checks of `smtp.denied_networks`, `smtp.allowed_networks` and `smtp.allowed_ports`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Policy {
    denied: Vec<IpNet>,
    allowed: Vec<IpNet>,
    ports: Vec<u16>,
}

impl Policy {
    pub(crate) fn new(denied: &[IpNet], allowed: &[IpNet], ports: &[u16]) -> Self {
        Self {
            denied: denied.iter().map(|net| canonical_net(*net)).collect(),
            allowed: allowed.iter().map(|net| canonical_net(*net)).collect(),
            ports: ports.to_vec(),
        }
    }

    /// Refuses a port outside a non-empty `allowed_ports`; needs no DNS, so it comes first.
    pub(crate) fn check_port(&self, port: u16) -> Result<()> {
        if self.ports.is_empty() || self.ports.contains(&port) {
            Ok(())
        } else {
            Err(MailError::PortNotAllowed(port))
        }
    }

    /// Why `ip` (canonical) may not be connected to, if it may not.
    pub(crate) fn check_ip(&self, ip: IpAddr) -> Result<()> {
        if self.denied.iter().any(|net| net.contains(&ip)) {
            return Err(MailError::DestinationDenied(ip));
        }
        if !self.allowed.is_empty() && !self.allowed.iter().any(|net| net.contains(&ip)) {
            return Err(MailError::DestinationNotAllowed(ip));
        }
        Ok(())
    }

    /// The candidates that may be connected to, in order, each canonical; when none may,
    /// the refusal of the first one.
    pub(crate) fn admit(
        &self,
        candidates: impl IntoIterator<Item = IpAddr>,
    ) -> Result<Vec<IpAddr>> {
        let mut admitted = Vec::new();
        let mut first_refusal = None;
        for ip in candidates.into_iter().map(|ip| ip.to_canonical()) {
            match self.check_ip(ip) {
                Ok(()) if !admitted.contains(&ip) => admitted.push(ip),
                Ok(()) => {}
                Err(refusal) => {
                    first_refusal.get_or_insert(refusal);
                }
            }
        }
        match (admitted.is_empty(), first_refusal) {
            (true, Some(refusal)) => Err(refusal),
            (true, None) => Err(MailError::Network(
                "could not resolve to any address".into(),
            )),
            (false, _) => Ok(admitted),
        }
    }
}

/// The addresses `host` stands for: an IP literal as it is (no DNS), a name through the
/// resolver. Not yet canonical or checked; the caller bounds the wait.
pub(crate) async fn resolve(host: &str, port: u16) -> Result<Vec<IpAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    match tokio::net::lookup_host((host, port)).await {
        // The resolver's own words ("failed to lookup address information: …").
        Err(e) => Err(MailError::Network(e.to_string())),
        Ok(addresses) => Ok(addresses.map(|a| a.ip()).collect()),
    }
}

/// An IPv6 network inside `::ffff:0:0/96` as the IPv4 network it maps, since addresses are
/// compared in canonical form: `::ffff:127.0.0.0/104` then still covers `127.0.0.1`.
fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => Ipv4Net::new(v4, v6.prefix_len() - 96).map_or(net, IpNet::V4),
            None => net,
        },
        _ => net,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn defaults() -> Policy {
        Policy::new(&DEFAULT_DENIED_NETWORKS, &[], &[])
    }

    #[test]
    fn default_list_is_the_documented_one() {
        let printed: Vec<String> = DEFAULT_DENIED_NETWORKS
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            printed,
            [
                "169.254.0.0/16",
                "fe80::/10",
                "0.0.0.0/8",
                "::/128",
                "224.0.0.0/4",
                "ff00::/8",
                "255.255.255.255/32",
            ]
        );
    }

    #[test]
    fn defaults_refuse_link_local_unspecified_multicast_and_broadcast() {
        let policy = defaults();
        for refused in [
            "169.254.169.254",
            "fe80::1",
            "0.0.0.0",
            "0.1.2.3",
            "::",
            "224.0.0.1",
            "239.255.255.250",
            "ff02::1",
            "255.255.255.255",
        ] {
            assert!(
                matches!(
                    policy.check_ip(ip(refused)),
                    Err(MailError::DestinationDenied(_))
                ),
                "{refused} should be refused"
            );
        }
    }

    #[test]
    fn defaults_allow_loopback_private_and_public_addresses() {
        let policy = defaults();
        for allowed in [
            "127.0.0.1",
            "::1",
            "10.1.2.3",
            "192.168.1.1",
            "203.0.113.5",
            "2001:db8::1",
        ] {
            assert!(policy.check_ip(ip(allowed)).is_ok(), "{allowed}");
        }
    }

    #[test]
    fn refusals_name_the_address_and_the_key() {
        let denied = Policy::new(&nets(&["127.0.0.0/8"]), &[], &[]);
        let allowed = Policy::new(&[], &nets(&["10.0.0.0/8"]), &[]);
        let ports = Policy::new(&[], &[], &[587]);
        let cases = [
            (
                denied.admit([ip("127.0.0.1")]).map(|_| ()),
                "destination 127.0.0.1 is not allowed by smtp.denied_networks",
            ),
            (
                allowed.admit([ip("127.0.0.1")]).map(|_| ()),
                "destination 127.0.0.1 is not allowed by smtp.allowed_networks",
            ),
            (
                ports.check_port(25),
                "destination port 25 is not allowed by smtp.allowed_ports",
            ),
        ];
        for (outcome, expected) in cases {
            assert_eq!(outcome.unwrap_err().to_string(), expected);
        }
        assert!(ports.check_port(587).is_ok());
        assert!(defaults().check_port(2525).is_ok(), "no list, any port");
    }

    #[test]
    fn denied_wins_over_allowed() {
        let policy = Policy::new(&nets(&["10.0.0.5/32"]), &nets(&["10.0.0.0/8"]), &[]);
        assert!(policy.check_ip(ip("10.0.0.4")).is_ok());
        assert!(matches!(
            policy.check_ip(ip("10.0.0.5")),
            Err(MailError::DestinationDenied(_))
        ));
    }

    #[test]
    fn mapped_ipv6_addresses_are_checked_as_ipv4() {
        let policy = Policy::new(&nets(&["127.0.0.0/8"]), &[], &[]);
        let err = policy.admit([ip("::ffff:127.0.0.1")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "destination 127.0.0.1 is not allowed by smtp.denied_networks"
        );
        let admitted = defaults().admit([ip("::ffff:10.0.0.1")]).unwrap();
        assert_eq!(admitted, [ip("10.0.0.1")], "connect to what was checked");
        let metadata = defaults().admit([ip("::ffff:169.254.169.254")]);
        assert!(matches!(metadata, Err(MailError::DestinationDenied(_))));
    }

    #[test]
    fn mapped_ipv6_networks_cover_their_ipv4_addresses() {
        let policy = Policy::new(&nets(&["::ffff:127.0.0.0/104"]), &[], &[]);
        assert!(matches!(
            policy.check_ip(ip("127.0.0.1")),
            Err(MailError::DestinationDenied(_))
        ));
        assert!(policy.check_ip(ip("::1")).is_ok());
    }

    #[test]
    fn admit_keeps_allowed_addresses_in_order_without_duplicates() {
        let policy = Policy::new(&nets(&["192.0.2.0/24"]), &[], &[]);
        let admitted = policy
            .admit([
                ip("192.0.2.1"),
                ip("::1"),
                ip("127.0.0.1"),
                ip("::ffff:127.0.0.1"),
            ])
            .unwrap();
        assert_eq!(admitted, [ip("::1"), ip("127.0.0.1")]);
    }

    #[test]
    fn when_every_address_is_refused_the_first_refusal_is_reported() {
        let policy = Policy::new(&nets(&["192.0.2.0/24"]), &nets(&["10.0.0.0/8"]), &[]);
        let err = policy
            .admit([ip("192.0.3.1"), ip("192.0.2.1")])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "destination 192.0.3.1 is not allowed by smtp.allowed_networks"
        );
    }
}
