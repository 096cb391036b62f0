//! SMTP host syntax: an RFC 1123 DNS name or an IP literal.

use std::net::IpAddr;

use crate::limits::{MAX_DNS_LABEL_LENGTH, MAX_DNS_NAME_LENGTH};

pub(crate) fn is_valid_host(host: &str) -> bool {
    host.parse::<IpAddr>().is_ok() || is_dns_name(host)
}

pub(crate) fn is_dns_name(host: &str) -> bool {
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.is_empty() || name.len() > MAX_DNS_NAME_LENGTH {
        return false;
    }
    let labels: Vec<&str> = name.split('.').collect();
    let well_formed = labels.iter().all(|label| {
        !label.is_empty()
            && label.len() <= MAX_DNS_LABEL_LENGTH
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    // A numeric last label makes resolvers read the name as an IPv4 address in one of
    // inet_aton's spellings (`2130706433`, `0x7f000001`, `127.1`, `0`): those would
    // reach addresses the dotted-quad form shows plainly, so only that form is accepted.
    let last = labels.last().copied().unwrap_or_default();
    well_formed && !is_numeric_label(last)
}

/// Decimal digits, or `0x` followed by hex digits: inet_aton's number forms.
fn is_numeric_label(label: &str) -> bool {
    let hex = label
        .strip_prefix("0x")
        .or_else(|| label.strip_prefix("0X"));
    match hex {
        Some(digits) => digits.bytes().all(|b| b.is_ascii_hexdigit()),
        None => label.bytes().all(|b| b.is_ascii_digit()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_names_and_ip_literals() {
        for ok in [
            "mail.hamgam.online",
            "localhost",
            "smtp-1.example.com.",
            "127.0.0.1",
            "::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "1password.com",
            "0x.example.com",
            "mail.example.0xyz",
        ] {
            assert!(is_valid_host(ok), "{ok}");
        }
    }

    #[test]
    fn rejects_malformed_hosts() {
        let too_long_label = "a".repeat(64);
        for bad in [
            "-bad.com",
            "bad-.com",
            "a..b",
            "has space",
            "under_score.com",
            "999.1.1.1",
            "x/y",
            "2130706433",
            "0x7f000001",
            "0X7F000001",
            "0",
            "127.1",
            "0177.0.0.1",
            "0x7f.0.0.1",
            "mail.0x10",
            &too_long_label,
        ] {
            assert!(!is_valid_host(bad), "{bad}");
        }
    }
}
