//! SMTP host syntax: an RFC 1123 DNS name or an IP literal.

use std::net::IpAddr;

pub(crate) fn is_valid_host(host: &str) -> bool {
    host.parse::<IpAddr>().is_ok() || is_dns_name(host)
}

fn is_dns_name(host: &str) -> bool {
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = name.split('.').collect();
    let well_formed = labels.iter().all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    // All-numeric dotted names are malformed IPv4 addresses, not host names.
    let looks_numeric = labels.iter().all(|l| l.bytes().all(|b| b.is_ascii_digit()));
    well_formed && !(looks_numeric && labels.len() > 1)
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
            &too_long_label,
        ] {
            assert!(!is_valid_host(bad), "{bad}");
        }
    }
}
