//! E-mail address syntax exactly as Django's `EmailValidator` judges it, which is what the
//! original product's clients were told: a bounded length, a dot-atom or quoted local part
//! of any length, and a domain that is `localhost`, a bracketed IP literal, or dotted labels
//! ending in a top-level label of at least two characters (bounds in [`crate::limits`]).

use std::net::{Ipv4Addr, Ipv6Addr};

use validator::ValidateIp;

use crate::limits::{MAX_DNS_LABEL_LENGTH, MAX_EMAIL_ADDRESS_LENGTH, MIN_TOP_LEVEL_LABEL_LENGTH};

pub(crate) fn is_valid(address: &str) -> bool {
    if address.chars().count() > MAX_EMAIL_ADDRESS_LENGTH {
        return false;
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    is_local_part(local) && is_domain(domain)
}

fn is_local_part(local: &str) -> bool {
    const ATOM_EXTRA: &str = "-!#$%&'*+/=?^_`{}|~";
    let atom = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ATOM_EXTRA.contains(c))
    };
    if local.split('.').all(atom) {
        return true;
    }
    // A quoted string: printable ASCII except `"` and `\`, or backslash escapes.
    let Some(inner) = local.strip_prefix('"').and_then(|l| l.strip_suffix('"')) else {
        return false;
    };
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        let allowed = match c {
            '\\' => chars
                .next()
                .is_some_and(|e| e.is_ascii() && !matches!(e, '\n' | '\r' | '\0')),
            '"' => false,
            c => c.is_ascii() && !matches!(c, '\0' | '\t' | '\n' | '\r'),
        };
        if !allowed {
            return false;
        }
    }
    true
}

fn is_domain(domain: &str) -> bool {
    if domain.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Some(literal) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        return match literal.strip_prefix("IPv6:") {
            Some(v6) => v6.parse::<Ipv6Addr>().is_ok(),
            None => literal.parse::<Ipv4Addr>().is_ok() && literal.validate_ipv4(),
        };
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let Some((tld, names)) = labels.split_last() else {
        return false;
    };
    let label_ok = |label: &str, max: usize| {
        let length = label.chars().count();
        (1..=max).contains(&length)
            && !label.starts_with('-')
            && !label.ends_with('-')
            // Non-ASCII letters stand for IDNA labels, which Django accepts once encoded.
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    !names.is_empty()
        && names
            .iter()
            .all(|label| label_ok(label, MAX_DNS_LABEL_LENGTH))
        && tld.chars().count() >= MIN_TOP_LEVEL_LABEL_LENGTH
        && label_ok(tld, MAX_DNS_LABEL_LENGTH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_django_accepts() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_address = format!("{}@example.com", "a".repeat(243));
        for ok in [
            "info@hamgam.online",
            "root@localhost",
            "first.last+tag@sub.example.co",
            "\"quoted name\"@example.com",
            "x@[127.0.0.1]",
            "x@[IPv6:::1]",
            "user@exämple.com",
            &long_local,
            &long_address,
        ] {
            assert!(is_valid(ok), "{ok}");
        }
    }

    #[test]
    fn rejects_what_django_rejects() {
        let too_long = format!("{}@example.com", "a".repeat(320));
        for bad in [
            "a@b",
            "a@b.c",
            "no-at-sign",
            "a..b@x.com",
            ".a@x.com",
            "a@-x.com",
            "a@x-.com",
            "a b@x.com",
            "a@x.com-",
            &too_long,
        ] {
            assert!(!is_valid(bad), "{bad}");
        }
    }
}
