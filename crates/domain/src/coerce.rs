//! JSON value coercion exactly as DRF's `CharField`, `IntegerField` and `BooleanField` do it,
//! so clients of the original product keep working unchanged.

use serde_json::Value;

use crate::messages;

/// DRF's `IntegerField.MAX_STRING_LENGTH`.
const MAX_INTEGER_STRING: usize = 1000;

/// `CharField` with `trim_whitespace`: numbers become their text, bools and containers fail.
/// Returns the trimmed text; the caller decides about blank.
pub(crate) fn text(value: &Value) -> Result<String, &'static str> {
    let raw = match value {
        Value::Null => return Err(messages::NULL),
        Value::String(s) => s.clone(),
        Value::Number(n) => number_as_python_text(n),
        Value::Bool(_) | Value::Array(_) | Value::Object(_) => {
            // DRF checks blank on str(data) before the type, but str() of these is never blank.
            return Err(messages::NOT_A_STRING);
        }
    };
    Ok(raw.trim().to_owned())
}

/// `IntegerField`: integers, integral floats and integer strings (Python `int()` rules).
pub(crate) fn integer(value: &Value) -> Result<i64, &'static str> {
    let text = match value {
        Value::Null => return Err(messages::NULL),
        Value::String(s) if s.chars().count() > MAX_INTEGER_STRING => {
            return Err(messages::STRING_TOO_LARGE);
        }
        Value::String(s) => s.clone(),
        Value::Number(n) => number_as_python_text(n),
        _ => return Err(messages::INVALID_INTEGER),
    };
    parse_python_int(strip_zero_decimals(&text)).ok_or(messages::INVALID_INTEGER)
}

/// `BooleanField`: DRF's TRUE_VALUES / FALSE_VALUES, nothing else (no trimming).
pub(crate) fn boolean(value: &Value) -> Result<bool, &'static str> {
    const TRUE: [&str; 14] = [
        "t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "1",
    ];
    const FALSE: [&str; 14] = [
        "f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "0",
    ];
    match value {
        Value::Null => Err(messages::NULL),
        Value::Bool(b) => Ok(*b),
        Value::String(s) if TRUE.contains(&s.as_str()) => Ok(true),
        Value::String(s) if FALSE.contains(&s.as_str()) => Ok(false),
        Value::Number(n) if n.as_f64() == Some(1.0) => Ok(true),
        Value::Number(n) if n.as_f64() == Some(0.0) => Ok(false),
        _ => Err(messages::INVALID_BOOLEAN),
    }
}

/// DRF's `re_decimal`: a trailing `.000` (and whitespace) is dropped before `int()`.
fn strip_zero_decimals(text: &str) -> &str {
    let trimmed = text.trim_end();
    let without_zeros = trimmed.trim_end_matches('0');
    match without_zeros.strip_suffix('.') {
        Some(head) => head,
        None => text,
    }
}

/// Python's `int(str)`: surrounding whitespace, a sign, digits with single underscores between.
fn parse_python_int(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    // Beyond i64 it is still an integer to Python: clamp, and the range check reports it.
    let magnitude: i64 = digits.replace('_', "").parse().unwrap_or(i64::MAX);
    Some(if negative { -magnitude } else { magnitude })
}

/// Python's `str()` of a parsed JSON value: strings as they are, `True`/`False`/`None`,
/// numbers as Python prints them, containers as their `repr()`.
pub(crate) fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => python_repr(other),
    }
}

/// Python's `repr()` of a parsed JSON value.
fn python_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => number_as_python_text(n),
        Value::String(s) => {
            // Single quotes unless the text holds one and no double quote.
            let quote = if s.contains('\'') && !s.contains('"') {
                '"'
            } else {
                '\''
            };
            let mut out = String::with_capacity(s.len() + 2);
            out.push(quote);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c == quote => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
            out.push(quote);
            out
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(python_repr).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}: {}",
                        python_repr(&Value::String(k.clone())),
                        python_repr(v)
                    )
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

/// `str()` of a JSON number as Python renders it (`1.5`, `100.0`, `1e+20`).
fn number_as_python_text(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let x = n.as_f64().unwrap_or(f64::NAN);
    let magnitude = x.abs();
    if magnitude != 0.0 && !(1e-4..1e16).contains(&magnitude) {
        let scientific = format!("{x:e}");
        let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
        let exponent: i32 = exponent.parse().unwrap_or(0);
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exponent.abs());
    }
    let plain = format!("{x}");
    if plain.contains('.') {
        plain
    } else {
        format!("{plain}.0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_takes_numbers_as_python_prints_them() {
        assert_eq!(text(&json!(12)), Ok("12".into()));
        assert_eq!(text(&json!(1.5)), Ok("1.5".into()));
        assert_eq!(text(&json!(100.0)), Ok("100.0".into()));
        assert_eq!(text(&json!(1e20)), Ok("1e+20".into()));
        assert_eq!(text(&json!("  padded ")), Ok("padded".into()));
        assert_eq!(text(&json!(true)), Err(messages::NOT_A_STRING));
        assert_eq!(text(&json!([])), Err(messages::NOT_A_STRING));
        assert_eq!(text(&json!(null)), Err(messages::NULL));
    }

    #[test]
    fn integer_follows_drf() {
        let cases = [
            (json!(587), Ok(587)),
            (json!("587"), Ok(587)),
            (json!(" 25 "), Ok(25)),
            (json!("587.0"), Ok(587)),
            (json!(587.0), Ok(587)),
            (json!("+1_000"), Ok(1000)),
            (json!(1.5), Err(messages::INVALID_INTEGER)),
            (json!("1.5"), Err(messages::INVALID_INTEGER)),
            (json!(true), Err(messages::INVALID_INTEGER)),
            (json!("abc"), Err(messages::INVALID_INTEGER)),
            (json!(""), Err(messages::INVALID_INTEGER)),
            (json!([1]), Err(messages::INVALID_INTEGER)),
            (json!(null), Err(messages::NULL)),
        ];
        for (input, expected) in cases {
            assert_eq!(integer(&input), expected, "input {input}");
        }
    }

    #[test]
    fn boolean_follows_drf() {
        for yes in [
            json!(true),
            json!("yes"),
            json!("ON"),
            json!("1"),
            json!(1),
            json!(1.0),
        ] {
            assert_eq!(boolean(&yes), Ok(true), "input {yes}");
        }
        for no in [
            json!(false),
            json!("no"),
            json!("Off"),
            json!("0"),
            json!(0),
            json!("F"),
        ] {
            assert_eq!(boolean(&no), Ok(false), "input {no}");
        }
        for bad in [
            json!("maybe"),
            json!("  true"),
            json!(2),
            json!([]),
            json!(""),
        ] {
            assert_eq!(boolean(&bad), Err(messages::INVALID_BOOLEAN), "input {bad}");
        }
    }
}
