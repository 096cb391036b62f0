//! A batch as one SQLite script, `BEGIN IMMEDIATE; epoch; w1; epoch; [then1;] w2; epoch; …;
//! COMMIT`, and its results split back per write. Building and splitting only; running it
//! is the batch's business.

use sea_orm::Statement;
use sea_orm::sea_query::Values;

/// Reads the data epoch inside the batch's transaction (a trigger moves it per row).
const READ_EPOCH: &str =
    "SELECT CAST(value AS INTEGER) FROM server_meta WHERE name = 'data_epoch';\n";

/// One write of a batch: its statement, and the one that follows it in its transaction.
/// What follows (an audit record) writes no notifier, so the epoch is not read after it:
/// one statement less per write, and two results less to hand over.
pub(super) type Write<'a> = (&'a Statement, Option<&'a Statement>);

/// The script's text and its parameters, the statements' own in their order.
pub(super) struct Script {
    pub sql: String,
    pub values: Values,
    /// For each write of the batch, whether a statement follows it.
    pub followed: Vec<bool>,
}

impl Script {
    /// Parameters are positional (`?`), so the statements' values, concatenated in
    /// order, bind the script.
    pub(super) fn new<'a>(writes: impl IntoIterator<Item = Write<'a>>) -> Self {
        let mut sql = String::from("BEGIN IMMEDIATE;\n");
        sql.push_str(READ_EPOCH);
        let mut values = Vec::new();
        let mut followed = Vec::new();
        let mut append = |statement: &Statement, sql: &mut String| {
            sql.push_str(&statement.sql);
            sql.push_str(";\n");
            if let Some(Values(bound)) = &statement.values {
                values.extend(bound.iter().cloned());
            }
        };
        for (statement, then) in writes {
            append(statement, &mut sql);
            sql.push_str(READ_EPOCH);
            if let Some(then) = then {
                append(then, &mut sql);
            }
            followed.push(then.is_some());
        }
        sql.push_str("COMMIT;");
        Self {
            sql,
            values: Values(values),
            followed,
        }
    }
}

/// One result per statement the script runs: BEGIN, the first epoch read, a statement
/// and an epoch read per write, the statement following a write if any, COMMIT.
fn results_of(followed: &[bool]) -> usize {
    3 + 2 * followed.len() + followed.iter().filter(|f| **f).count()
}

/// A script's results as they arrive: each statement's rows, then its "done".
pub(super) struct Results<R> {
    finished: Vec<Vec<R>>,
    rows: Vec<R>,
}

impl<R> Default for Results<R> {
    fn default() -> Self {
        Self {
            finished: Vec::new(),
            rows: Vec::new(),
        }
    }
}

/// A committed script, split per write.
#[derive(Debug, PartialEq)]
pub(super) struct Committed<R> {
    /// In script order: each write's rows and the data epoch read right after it.
    pub statements: Vec<(Vec<R>, i64)>,
    /// The data epochs `(before, after]` the script wrote.
    pub range: (i64, i64),
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(super) enum SplitError {
    #[error("a script of {expected} statements reported {reported} results")]
    Miscounted { expected: usize, reported: usize },
    #[error("the script's last statement returned rows but did not finish")]
    Unfinished,
    #[error("the data epoch could not be read")]
    NoEpoch,
}

impl<R> Results<R> {
    pub(super) fn row(&mut self, row: R) {
        self.rows.push(row);
    }

    /// The current statement has returned all its rows.
    pub(super) fn done(&mut self) {
        self.finished.push(std::mem::take(&mut self.rows));
    }

    /// Pairs each write (`followed` says which have a statement after them) with the
    /// epoch read after it; `epoch` reads one from an epoch read's row. The following
    /// statements' results are dropped: they return nothing a caller reads.
    pub(super) fn split(
        self,
        followed: &[bool],
        epoch: impl Fn(&R) -> Option<i64>,
    ) -> Result<Committed<R>, SplitError> {
        if !self.rows.is_empty() {
            return Err(SplitError::Unfinished);
        }
        let reported = self.finished.len();
        let expected = results_of(followed);
        if reported != expected {
            return Err(SplitError::Miscounted { expected, reported });
        }
        let epoch_in = |rows: Vec<R>| rows.first().and_then(&epoch).ok_or(SplitError::NoEpoch);
        let mut results = self.finished.into_iter().skip(1); // BEGIN
        let before = epoch_in(results.next().unwrap_or_default())?;
        let mut after = before;
        let mut committed = Vec::with_capacity(followed.len());
        for &then in followed {
            let rows = results.next().unwrap_or_default();
            after = epoch_in(results.next().unwrap_or_default())?;
            if then {
                results.next();
            }
            committed.push((rows, after));
        }
        Ok(Committed {
            statements: committed,
            range: (before, after),
        })
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, Value};

    use super::*;

    #[test]
    fn a_script_reads_the_epoch_after_each_write_and_binds_their_values_in_order() {
        let first = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "UPDATE t SET a = ? WHERE id = ?",
            [Value::from(1), Value::from(2)],
        );
        let second = Statement::from_string(DbBackend::Sqlite, "DELETE FROM t WHERE id = 3");
        let third = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO t (a) VALUES (?)",
            [Value::from("x")],
        );

        let script = Script::new([(&first, Some(&second)), (&third, None)]);

        let epoch = READ_EPOCH;
        assert_eq!(
            script.sql,
            format!(
                "BEGIN IMMEDIATE;\n{epoch}\
                 UPDATE t SET a = ? WHERE id = ?;\n{epoch}\
                 DELETE FROM t WHERE id = 3;\n\
                 INSERT INTO t (a) VALUES (?);\n{epoch}\
                 COMMIT;"
            )
        );
        assert_eq!(
            script.values,
            Values(vec![Value::from(1), Value::from(2), Value::from("x")])
        );
        assert_eq!(script.followed, [true, false]);
    }

    /// A script's results, given each statement's rows.
    fn results(per_statement: &[&[i64]]) -> Results<i64> {
        let mut results = Results::default();
        for rows in per_statement {
            for &row in *rows {
                results.row(row);
            }
            results.done();
        }
        results
    }

    fn epoch(row: &i64) -> Option<i64> {
        Some(*row)
    }

    #[test]
    fn each_write_gets_its_rows_and_the_epoch_after_it() {
        let split = results(&[
            &[],     // BEGIN
            &[10],   // the epoch before
            &[7, 8], // two rows written: the epoch moves by two
            &[12],
            &[], // nothing written
            &[12],
            &[], // the statement following it
            &[9],
            &[13],
            &[], // COMMIT
        ])
        .split(&[false, true, false], epoch);
        assert_eq!(
            split,
            Ok(Committed {
                statements: vec![(vec![7, 8], 12), (vec![], 12), (vec![9], 13)],
                range: (10, 13),
            })
        );
    }

    #[test]
    fn a_script_that_stopped_part_way_is_not_split() {
        let stopped = results(&[&[], &[10], &[7]]);
        assert_eq!(
            stopped.split(&[false], epoch),
            Err(SplitError::Miscounted {
                expected: 5,
                reported: 3
            })
        );
        assert_eq!(
            results(&[&[], &[10], &[7], &[11], &[]]).split(&[true], epoch),
            Err(SplitError::Miscounted {
                expected: 6,
                reported: 5
            }),
            "a write followed by a statement has one more result"
        );

        let mut unfinished = results(&[&[], &[10], &[7], &[11]]);
        unfinished.row(1);
        assert_eq!(
            unfinished.split(&[false], epoch),
            Err(SplitError::Unfinished)
        );
    }

    #[test]
    fn a_missing_epoch_fails_the_split() {
        let empty_read = results(&[&[], &[10], &[7], &[], &[]]);
        assert_eq!(empty_read.split(&[false], epoch), Err(SplitError::NoEpoch));
        let unreadable = results(&[&[], &[10], &[7], &[11], &[]]);
        assert_eq!(
            unreadable.split(&[false], |_| None),
            Err(SplitError::NoEpoch)
        );
    }
}
