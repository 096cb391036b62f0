//! Parsing `Authorization: Token <key>` exactly as DRF's TokenAuthentication does.

/// The outcome of reading the header, before any lookup.
#[derive(Debug, PartialEq, Eq)]
pub enum Credentials<'a> {
    None,
    Malformed(&'static str),
    Key(&'a str),
}

pub const NO_CREDENTIALS: &str = "Invalid token header. No credentials provided.";
pub const SPACES: &str = "Invalid token header. Token string should not contain spaces.";
pub const INVALID_CHARACTERS: &str =
    "Invalid token header. Token string should not contain invalid characters.";

/// `Token` (DRF's keyword) or `Bearer`, case-insensitive; other schemes are not ours.
pub fn parse(header: Option<&[u8]>) -> Credentials<'_> {
    let Some(header) = header else {
        return Credentials::None;
    };
    let mut parts = header
        .split(|b| b.is_ascii_whitespace())
        .filter(|p| !p.is_empty());
    let Some(keyword) = parts.next() else {
        return Credentials::None;
    };
    if !keyword.eq_ignore_ascii_case(b"token") && !keyword.eq_ignore_ascii_case(b"bearer") {
        return Credentials::None;
    }
    let Some(key) = parts.next() else {
        return Credentials::Malformed(NO_CREDENTIALS);
    };
    if parts.next().is_some() {
        return Credentials::Malformed(SPACES);
    }
    match std::str::from_utf8(key) {
        Ok(key) => Credentials::Key(key),
        Err(_) => Credentials::Malformed(INVALID_CHARACTERS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_drf_token_header_rules() {
        let cases: [(Option<&[u8]>, Credentials<'_>); 9] = [
            (None, Credentials::None),
            (Some(b""), Credentials::None),
            (Some(b"Basic abc"), Credentials::None),
            (Some(b"Token"), Credentials::Malformed(NO_CREDENTIALS)),
            (Some(b"Token a b"), Credentials::Malformed(SPACES)),
            (Some(b"token  abc  "), Credentials::Key("abc")),
            (Some(b"Bearer abc"), Credentials::Key("abc")),
            (Some(b"TOKEN abc"), Credentials::Key("abc")),
            (
                Some(b"Token \xff"),
                Credentials::Malformed(INVALID_CHARACTERS),
            ),
        ];
        for (header, expected) in cases {
            assert_eq!(parse(header), expected, "{header:?}");
        }
    }
}
