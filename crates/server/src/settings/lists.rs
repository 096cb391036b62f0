//! The list settings: CIDR networks and ports, from a TOML list or a comma-separated
//! environment variable, written back as the TOML list they came from.

use std::fmt::Display;
use std::net::IpAddr;

use notifier_mailer::IpNet;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};

/// CIDR networks (`10.0.0.0/8`, `fe80::/10`) or single addresses. Blank entries are
/// skipped, so an empty environment variable empties the list. The config crate adds the
/// key to the error.
pub(super) fn networks<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|entry| entry.trim())
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let parsed = entry
                .parse::<IpNet>()
                .ok()
                .or_else(|| entry.parse::<IpAddr>().ok().map(IpNet::from));
            parsed.ok_or_else(|| {
                D::Error::custom(format!(
                    "{entry:?} is not a network in CIDR notation (e.g. 10.0.0.0/8)"
                ))
            })
        })
        .collect()
}

/// Each item as its text: networks in CIDR notation, which [`networks`] reads back.
pub(super) fn as_text<T: Display, S: Serializer>(
    items: &[T],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(items.iter().map(ToString::to_string))
}

/// Port numbers, from a TOML list or a comma-separated environment variable. The config
/// crate reads a variable holding one number (`587`) as that number, not as a list, and
/// the list's entries as text.
pub(super) fn ports<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u16>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Entry {
        Number(i64),
        Text(String),
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Ports {
        One(i64),
        Many(Vec<Entry>),
    }
    let entries = match Ports::deserialize(d)? {
        Ports::One(port) => vec![Entry::Number(port)],
        Ports::Many(entries) => entries,
    };
    let mut ports = Vec::with_capacity(entries.len());
    for entry in entries {
        let text = match entry {
            Entry::Number(n) => n.to_string(),
            Entry::Text(text) if text.trim().is_empty() => continue,
            Entry::Text(text) => text.trim().to_owned(),
        };
        match text.parse::<u16>() {
            Ok(port) if port > 0 => ports.push(port),
            _ => {
                return Err(D::Error::custom(format!(
                    "{text:?} is not a port (1 to 65535)"
                )));
            }
        }
    }
    Ok(ports)
}
