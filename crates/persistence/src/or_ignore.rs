//! SQLite's `UPDATE OR IGNORE`: a row the update would make break a unique index is left
//! as it was instead of failing the statement, and with it the batch it is committed in.
//! The caller reads "no row returned" as the conflict.

use sea_orm::Statement;

const UPDATE: &str = "UPDATE";

/// Why a statement cannot be turned into `UPDATE OR IGNORE`.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a plain UPDATE statement: {0:.40}")]
pub(crate) struct NotAPlainUpdate(String);

/// Rewrites the statement's leading `UPDATE` keyword, and nothing else, into
/// `UPDATE OR IGNORE`. Refuses anything else, an `UPDATE OR …` included: SQLite takes one
/// conflict clause.
pub(crate) fn or_ignore(mut statement: Statement) -> Result<Statement, NotAPlainUpdate> {
    let sql = statement.sql.as_str();
    let keyword_start = sql.len() - sql.trim_start().len();
    let keyword_end = keyword_start + UPDATE.len();
    let keyword = sql.get(keyword_start..keyword_end);
    let rest = sql.get(keyword_end..).unwrap_or_default();
    let next_word = rest.split_whitespace().next().unwrap_or_default();
    let plain_update = keyword.is_some_and(|word| word.eq_ignore_ascii_case(UPDATE))
        && rest.starts_with(char::is_whitespace)
        && !next_word.eq_ignore_ascii_case("OR");
    if !plain_update {
        return Err(NotAPlainUpdate(statement.sql));
    }
    statement.sql.insert_str(keyword_end, " OR IGNORE");
    Ok(statement)
}

#[cfg(test)]
mod tests {
    use sea_orm::DbBackend;

    use super::*;

    fn rewritten(sql: &str) -> Result<String, NotAPlainUpdate> {
        or_ignore(Statement::from_string(DbBackend::Sqlite, sql)).map(|s| s.sql)
    }

    #[test]
    fn only_the_leading_keyword_is_rewritten() {
        assert_eq!(
            rewritten(r#"UPDATE "t" SET "note" = 'UPDATE me' WHERE "id" = ?"#),
            Ok(r#"UPDATE OR IGNORE "t" SET "note" = 'UPDATE me' WHERE "id" = ?"#.into())
        );
        assert_eq!(
            rewritten(r#"UPDATE "UPDATE " SET "a" = 1"#),
            Ok(r#"UPDATE OR IGNORE "UPDATE " SET "a" = 1"#.into())
        );
    }

    #[test]
    fn leading_whitespace_and_case_are_kept() {
        assert_eq!(
            rewritten("\n  update\tt SET a = 1"),
            Ok("\n  update OR IGNORE\tt SET a = 1".into())
        );
    }

    #[test]
    fn the_values_are_kept() {
        let statement = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "UPDATE t SET a = ?",
            [sea_orm::Value::from(7)],
        );
        let values = statement.values.clone();
        assert_eq!(or_ignore(statement).map(|s| s.values), Ok(values));
    }

    #[test]
    fn anything_but_a_plain_update_is_refused() {
        for sql in [
            "INSERT INTO t (a) VALUES ('UPDATE ')",
            "DELETE FROM t WHERE a = 'UPDATE '",
            "UPDATED t SET a = 1",
            "UPDATE",
            "",
            "UPDATE OR IGNORE t SET a = 1",
            "update or replace t SET a = 1",
            "WITH x AS (SELECT 1) UPDATE t SET a = 1",
        ] {
            assert_eq!(rewritten(sql), Err(NotAPlainUpdate(sql.into())), "{sql:?}");
        }
    }
}
