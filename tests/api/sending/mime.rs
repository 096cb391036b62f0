//! Just enough RFC 5322 / MIME reading to check a message the test SMTP server recorded:
//! unfolded headers, RFC 2047 encoded words, transfer encodings and multipart bodies.

/// A message or a MIME part: its headers in order (unfolded) and its raw body.
#[derive(Debug)]
pub struct Message {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Splits at the first empty line. Lines are CRLF-terminated, as on the wire.
#[track_caller]
pub fn parse(data: &str) -> Message {
    let (head, body) = if let Some(body) = data.strip_prefix("\r\n") {
        ("", body)
    } else {
        data.split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no empty line after the headers: {data:?}"))
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        if line.starts_with([' ', '\t']) {
            let (_, value) = headers
                .last_mut()
                .unwrap_or_else(|| panic!("a continuation line comes first: {data:?}"));
            value.push_str(line);
        } else {
            let (name, value) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("not a header line: {line:?} in {data:?}"));
            headers.push((name.to_owned(), value.trim_start().to_owned()));
        }
    }
    Message {
        headers,
        body: body.to_owned(),
    }
}

impl Message {
    /// Every value of the header `name` (case-insensitive).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The one value of the header `name`; panics when it is absent or repeated.
    #[track_caller]
    pub fn header(&self, name: &str) -> &str {
        match self.all(name).as_slice() {
            [value] => value,
            other => panic!(
                "expected exactly one {name} header, found {}: {:?}",
                other.len(),
                self.headers
            ),
        }
    }

    /// The comma-separated addresses of an address header, each without angle brackets.
    #[track_caller]
    pub fn addresses(&self, name: &str) -> Vec<String> {
        self.header(name)
            .split(',')
            .map(|a| a.trim().trim_start_matches('<').trim_end_matches('>'))
            .map(str::to_owned)
            .collect()
    }

    /// The media type of Content-Type, lowercased (`text/plain` when the header is absent).
    pub fn media_type(&self) -> String {
        match self.all("Content-Type").first() {
            Some(value) => value.split(';').next().unwrap_or("").trim().to_lowercase(),
            None => "text/plain".into(),
        }
    }

    /// A parameter of the header `name` (e.g. `charset`, `boundary`), unquoted.
    pub fn param(&self, header: &str, param: &str) -> Option<String> {
        let value = self.all(header).first().copied()?;
        value.split(';').skip(1).find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case(param)
                .then(|| value.trim().trim_matches('"').to_owned())
        })
    }

    /// The body with its Content-Transfer-Encoding undone, as UTF-8 text with LF line ends
    /// and no trailing line end.
    #[track_caller]
    pub fn text(&self) -> String {
        let encoding = self
            .all("Content-Transfer-Encoding")
            .first()
            .map_or("7bit".to_owned(), |e| e.trim().to_lowercase());
        let bytes = match encoding.as_str() {
            "base64" => base64(&self.body),
            "quoted-printable" => quoted_printable(&self.body),
            "7bit" | "8bit" | "binary" => self.body.as_bytes().to_vec(),
            other => panic!("unknown Content-Transfer-Encoding {other:?}"),
        };
        let text = String::from_utf8(bytes).expect("a UTF-8 body");
        text.replace("\r\n", "\n").trim_end_matches('\n').to_owned()
    }

    /// The parts of a multipart body, in order.
    #[track_caller]
    pub fn parts(&self) -> Vec<Message> {
        let boundary = self
            .param("Content-Type", "boundary")
            .unwrap_or_else(|| panic!("a multipart without a boundary: {:?}", self.headers));
        let delimiter = format!("--{boundary}");
        let mut parts = Vec::new();
        let mut closed = false;
        for section in self.body.split(delimiter.as_str()).skip(1) {
            if section.starts_with("--") {
                closed = true;
                break;
            }
            let section = section
                .strip_prefix("\r\n")
                .unwrap_or_else(|| panic!("a delimiter not followed by CRLF: {section:?}"));
            // The CRLF before the next delimiter belongs to that delimiter.
            parts.push(parse(section.strip_suffix("\r\n").unwrap_or(section)));
        }
        assert!(
            closed,
            "the multipart body is never closed: {:?}",
            self.body
        );
        parts
    }
}

/// A header value with its RFC 2047 encoded words decoded (whitespace between two encoded
/// words dropped, as the RFC says).
#[track_caller]
pub fn decode_words(value: &str) -> String {
    let mut out: Vec<u8> = Vec::new();
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let before = &rest[..start];
        match encoded_word(&rest[start..]) {
            Some((bytes, len)) => {
                if !(after_word && before.chars().all(char::is_whitespace)) {
                    out.extend_from_slice(before.as_bytes());
                }
                out.extend_from_slice(&bytes);
                rest = &rest[start + len..];
                after_word = true;
            }
            None => {
                out.extend_from_slice(&rest.as_bytes()[..start + 2]);
                rest = &rest[start + 2..];
                after_word = false;
            }
        }
    }
    out.extend_from_slice(rest.as_bytes());
    String::from_utf8(out).unwrap_or_else(|e| panic!("{value:?} does not decode to UTF-8: {e}"))
}

/// `=?charset?B|Q?text?=` at the start of `s`: its bytes and its length.
fn encoded_word(s: &str) -> Option<(Vec<u8>, usize)> {
    let inner = s.strip_prefix("=?")?;
    let (charset, after) = inner.split_once('?')?;
    let (encoding, after) = after.split_once('?')?;
    let end = after.find("?=")?;
    let text = &after[..end];
    if text.contains(char::is_whitespace) {
        return None;
    }
    assert!(
        charset.eq_ignore_ascii_case("utf-8") || charset.eq_ignore_ascii_case("us-ascii"),
        "unexpected charset in {s:?}"
    );
    let bytes = match encoding {
        "B" | "b" => base64(text),
        "Q" | "q" => q_encoding(text),
        _ => return None,
    };
    let len = 2 + charset.len() + 1 + encoding.len() + 1 + end + 2;
    Some((bytes, len))
}

#[track_caller]
fn base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        if c == b'=' {
            break;
        }
        let value = ALPHABET
            .iter()
            .position(|&a| a == c)
            .unwrap_or_else(|| panic!("{:?} is not base64 in {text:?}", c as char));
        acc = (acc << 6) | value as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[track_caller]
fn hex_byte(text: &str, at: usize) -> u8 {
    text.get(at..at + 2)
        .and_then(|h| u8::from_str_radix(h, 16).ok())
        .unwrap_or_else(|| panic!("a bad =XX escape at {at} in {text:?}"))
}

#[track_caller]
fn quoted_printable(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'=' {
            out.push(bytes[i]);
            i += 1;
        } else if bytes[i + 1..].starts_with(b"\r\n") {
            i += 3; // a soft line break
        } else {
            out.push(hex_byte(text, i + 1));
            i += 3;
        }
    }
    out
}

/// RFC 2047's Q: quoted-printable with `_` for a space.
#[track_caller]
fn q_encoding(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'_' => out.push(b' '),
            b'=' => {
                out.push(hex_byte(text, i + 1));
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    out
}

#[test]
fn decoders_read_what_mail_clients_write() {
    assert_eq!(decode_words("=?utf-8?b?R3LDvMOfZSDinJM=?="), "Grüße ✓");
    assert_eq!(
        decode_words("=?utf-8?q?Gr=C3=BC=C3=9Fe_?= \r\n =?UTF-8?Q?=E2=9C=93?="),
        "Grüße ✓"
    );
    assert_eq!(decode_words("plain =?x"), "plain =?x");
    assert_eq!(quoted_printable("a=3Db=\r\nc"), b"a=bc");
    let part = parse("Content-Transfer-Encoding: base64\r\n\r\nSGFs\r\nbG8=\r\n");
    assert_eq!(part.text(), "Hallo");
}
