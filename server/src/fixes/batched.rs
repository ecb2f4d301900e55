//! Batched data changes: the loop a backfill (or a purge) becomes so that no statement holds row
//! locks on the whole table, shared by the fixes that write one (`add-column-not-null-no-default`,
//! `add-column-rewrite`, `rename-column`, `column-type-rewrite`, `backfill-in-schema-migration`,
//! `unbatched-backfill`).
//!
//! The loop walks the primary key in key order (keyset pagination: any orderable single-column
//! key, not only integers) and changes at most `batch` rows per round. When the migration runs
//! outside a transaction, each round ends with `COMMIT` (PostgreSQL 11+: a `DO` block that is the
//! whole top-level statement may commit), so locks and the undo of a round end with it. Inside a
//! transaction the loop still bounds each statement, but every row lock lasts until the
//! migration commits; the comment says so.

use crate::rules::SchemaView;
use crate::sql::facts::QualifiedName;
use crate::sql::quote::ident;

/// Rows per round: small enough to keep each round's locks and WAL short, large enough that a
/// 10M-row table takes minutes, not hours.
pub(super) const BATCH_ROWS: u32 = 5_000;

/// What each round does to the rows of its key range.
pub(super) enum Change<'a> {
    /// `UPDATE table SET <assignments> WHERE <filter>` (SQL as written).
    Update { assignments: &'a str },
    /// `DELETE FROM table WHERE <filter>`.
    Delete,
}

/// A batched change of `table` (SQL as written, possibly qualified) over its single-column
/// primary key `key` (SQL as written).
pub(super) struct Batched<'a> {
    pub table: &'a str,
    pub key: &'a str,
    pub change: Change<'a>,
    /// The rows to change (SQL as written), e.g. `email IS NULL`; `None` for all rows.
    pub filter: Option<&'a str>,
    /// Whether each round commits: the migration runs outside a transaction, and this `DO` is a
    /// top-level statement of its own. A runner that sends the file as one query string runs it
    /// as one implicit transaction, where `COMMIT` fails ("invalid transaction termination")
    /// unless the `DO` is the file's only statement.
    pub commit: bool,
}

impl Batched<'_> {
    /// The `DO` block, lines joined with `\n` (callers convert to the file's line ending).
    pub fn sql(&self) -> String {
        let Batched { table, key, filter, .. } = self;
        let rows = BATCH_ROWS;
        let filter = filter.map_or_else(String::new, |f| format!(" AND ({f})"));
        let change = match self.change {
            Change::Update { assignments } => format!("UPDATE {table} SET {assignments}"),
            Change::Delete => format!("DELETE FROM {table}"),
        };
        let commit = if self.commit {
            "    COMMIT;  -- each round's locks end here\n"
        } else {
            "    -- No COMMIT: the migration runs in a transaction, so row locks last until it commits.\n"
        };
        format!(
            "DO $safemig$\n\
             DECLARE\n    \
             last_key {table}.{key}%TYPE;\n    \
             next_key {table}.{key}%TYPE;\n\
             BEGIN\n  \
             LOOP\n    \
             -- The last key of the next {rows} rows, in key order.\n    \
             SELECT max(b.{key}) INTO next_key FROM (\n      \
             SELECT {key} FROM {table}\n       \
             WHERE last_key IS NULL OR {key} > last_key\n       \
             ORDER BY {key} LIMIT {rows}\n    \
             ) b;\n    \
             EXIT WHEN next_key IS NULL;\n    \
             {change}\n     \
             WHERE (last_key IS NULL OR {key} > last_key) AND {key} <= next_key{filter};\n    \
             last_key := next_key;\n\
             {commit}  \
             END LOOP;\n\
             END\n\
             $safemig$;"
        )
    }
}

/// The single-column primary key of `table` before this migration (from the replayed schema),
/// as SQL; `None` when it has none, a composite one, or the schema is unknown.
pub(super) fn primary_key(schema: &dyn SchemaView, table: &QualifiedName) -> Option<String> {
    let key = schema.replayed()?.table(table)?.primary_key()?;
    match key.columns.as_slice() {
        [one] => Some(ident(one)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_committing_update_loop_over_the_key() {
        let sql = Batched {
            table: "public.orders",
            key: "id",
            change: Change::Update { assignments: "country = 'US'" },
            filter: Some("country IS NULL"),
            commit: true,
        }
        .sql();
        assert!(sql.starts_with("DO $safemig$\nDECLARE\n    last_key public.orders.id%TYPE;\n"), "{sql}");
        assert!(sql.contains("    UPDATE public.orders SET country = 'US'\n     WHERE (last_key IS NULL OR id > last_key) AND id <= next_key AND (country IS NULL);\n"), "{sql}");
        assert!(sql.contains("    COMMIT;"), "{sql}");
        assert!(sql.ends_with("END\n$safemig$;"), "{sql}");
    }

    #[test]
    fn a_delete_in_a_transaction_does_not_commit() {
        let sql = Batched { table: "t", key: "\"Id\"", change: Change::Delete, filter: None, commit: false }.sql();
        assert!(
            sql.contains(
                "    DELETE FROM t\n     WHERE (last_key IS NULL OR \"Id\" > last_key) AND \"Id\" <= next_key;\n"
            ),
            "{sql}"
        );
        assert!(!sql.contains("COMMIT;"), "{sql}");
        let file = crate::sql::SqlFile::parse(&sql, crate::sql::Dialect::Postgres, None);
        assert_eq!(file.statements.iter().filter(|s| !matches!(s.kind(), crate::sql::StatementKind::Empty)).count(), 1);
    }
}
