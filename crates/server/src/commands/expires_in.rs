//! `token create --expires-in`: a positive whole number and a unit, `s`, `m`, `h` or `d`.

use chrono::Duration;

pub fn parse(text: &str) -> anyhow::Result<Duration> {
    let invalid = || {
        anyhow::anyhow!(
            "invalid --expires-in {text:?}: expected a positive number and a unit s, m, h or d (e.g. 90d)"
        )
    };
    let split = text.len().checked_sub(1).ok_or_else(invalid)?;
    let (number, unit) = text.split_at_checked(split).ok_or_else(invalid)?;
    let number: i64 = match number.parse() {
        Ok(n) if n > 0 && number.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => return Err(invalid()),
    };
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(invalid()),
    };
    number
        .checked_mul(seconds_per_unit)
        .and_then(Duration::try_seconds)
        // Beyond any date the database can hold.
        .filter(|d| *d <= Duration::days(365 * 1000))
        .ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_four_units() {
        let cases = [
            ("45s", 45),
            ("15m", 900),
            ("12h", 43_200),
            ("90d", 7_776_000),
        ];
        for (text, seconds) in cases {
            assert_eq!(parse(text).ok(), Duration::try_seconds(seconds), "{text}");
        }
    }

    #[test]
    fn refuses_anything_else() {
        for text in [
            "",
            "d",
            "90",
            "90w",
            "0d",
            "-1d",
            "+1d",
            "1.5h",
            " 1d",
            "1 d",
            "1D",
            "90dd",
            "99999999999999999d",
            "1é",
        ] {
            let err = parse(text).expect_err(text).to_string();
            assert!(err.contains("s, m, h or d"), "{text}: {err}");
        }
    }
}
