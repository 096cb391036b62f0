//! The lines `user list` and `token list` print: tab-separated, one per user or token.

use chrono::{DateTime, SecondsFormat, Utc};
use notifier_domain::{Permission, User};
use notifier_persistence::tokens::TokenInfo;

/// `NAME  active|inactive  admin|staff|staff,admin|-  CODES|-`
pub fn user_line(user: &User, codes: &[Permission]) -> String {
    let active = if user.is_active { "active" } else { "inactive" };
    let roles = match (user.is_staff, user.is_admin) {
        (true, true) => "staff,admin",
        (true, false) => "staff",
        (false, true) => "admin",
        (false, false) => "-",
    };
    let codes: Vec<String> = codes.iter().map(|c| c.code().to_string()).collect();
    let codes = if codes.is_empty() {
        "-".to_owned()
    } else {
        codes.join(",")
    };
    format!("{}\t{active}\t{roles}\t{codes}", user.username)
}

/// `ID  USER  CREATED  LAST-USED|never  KEY-PREFIX|-  expires EXPIRY|never`; the prefix is
/// `-` for tokens made before prefixes were kept.
pub fn token_line(token: &TokenInfo) -> String {
    let last_used = token.last_used_at.map_or("never".to_owned(), time);
    let prefix = token.key_prefix.as_deref().unwrap_or("-");
    let expires = token.expires_at.map_or("never".to_owned(), time);
    format!(
        "{}\t{}\t{}\t{last_used}\t{prefix}\texpires {expires}",
        token.id,
        token.username,
        time(token.created_at)
    )
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_tab_separated_with_dashes_for_nothing() {
        let user = User {
            id: 1,
            username: "ops".into(),
            is_active: false,
            is_staff: true,
            is_admin: false,
        };
        let codes = [Permission::ListNotifiers, Permission::RetrieveNotifier];
        assert_eq!(user_line(&user, &codes), "ops\tinactive\tstaff\t2830,2832");
        assert_eq!(user_line(&user, &[]), "ops\tinactive\tstaff\t-");

        let at = DateTime::parse_from_rfc3339("2026-12-02T10:00:00.123Z")
            .expect("a time")
            .with_timezone(&Utc);
        let token = TokenInfo {
            id: 7,
            username: "ops".into(),
            created_at: at,
            last_used_at: None,
            expires_at: Some(at),
            key_prefix: Some("3f0c1a2b".into()),
        };
        assert_eq!(
            token_line(&token),
            "7\tops\t2026-12-02T10:00:00Z\tnever\t3f0c1a2b\texpires 2026-12-02T10:00:00Z"
        );
    }
}
