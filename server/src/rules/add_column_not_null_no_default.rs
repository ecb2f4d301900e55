//! `add-column-not-null-no-default`: `ADD COLUMN … NOT NULL` without a default on an existing table.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::sql::facts::{AlterAction, ColumnDef, QualifiedName};
use crate::sql::{Dialect};

pub static RULE: Rule = Rule {
    id: "add-column-not-null-no-default",
    category: Category::Locks,
    default_severity: Severity::Warning,
    dialects: ALL_DIALECTS,
    summary: "ADD COLUMN … NOT NULL without a default fails on the first existing row",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
`ALTER TABLE … ADD COLUMN … NOT NULL` (or `PRIMARY KEY`, which implies NOT NULL) with no default,
or with `DEFAULT NULL`, on a table this migration did not create. Columns that compute their own
values (serial, identity, generated) are fine.

## Why it hurts
The existing rows have no value for the new column, so the statement fails:
- PostgreSQL: `ERROR: column "country" of relation "users" contains null values` on the first
  existing row, after queueing for an ACCESS EXCLUSIVE lock. It passes in development, where the
  table is empty, and fails in production. Where it does pass (an empty table), the code that is
  still running and does not know the column fails on every insert:
  `null value in column "country" of relation "users" violates not-null constraint`.
- SQLite: `Cannot add a NOT NULL column with default value NULL` as soon as the table has a row.
- MySQL (reported as info): no error; every existing row silently gets the type's implicit default
  (`0`, `''`, the zero date), which is rarely the value you mean.

Severity: **warning** while safemig cannot see whether the table has rows (the statement only fails
when it does: every such statement in the real-world corpus ran on an empty table); **error** once a
live database or the replayed schema says the table has rows.

## Example
```sql
ALTER TABLE users ADD COLUMN country text NOT NULL;
```

## Instead
```sql
-- a constant default: instant on PostgreSQL 11+
ALTER TABLE users ADD COLUMN country text NOT NULL DEFAULT 'US';
```
or, when there is no sensible constant:
```sql
ALTER TABLE users ADD COLUMN country text;  -- nullable
-- backfill in batches, in its own migration; then enforce NOT NULL without a long lock:
ALTER TABLE users ADD CONSTRAINT users_country_not_null CHECK (country IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_country_not_null;  -- separate transaction
ALTER TABLE users ALTER COLUMN country SET NOT NULL;           -- PostgreSQL 12+: no scan
ALTER TABLE users DROP CONSTRAINT users_country_not_null;
```
A PRIMARY KEY or UNIQUE column cannot take a constant default (every row would get the same key):
take the nullable route, then build the key from a unique index created `CONCURRENTLY`
(`ADD CONSTRAINT … PRIMARY KEY USING INDEX …`). Before PostgreSQL 11 any default rewrites the
table: use the nullable route. SQLite cannot add
NOT NULL to an existing column: give a constant default, or fill a nullable column and rebuild the
table.

## Quick fix
PostgreSQL only, none for a PRIMARY KEY or UNIQUE column. Two fixes, both **unsafe** (you choose
the value for the existing rows) and neither preferred: whether a constant suits the existing rows
is yours to judge.
- **Add a constant default** (PostgreSQL 11+, where a constant default is stored in the catalog and
  nothing is rewritten): `ADD COLUMN country text NOT NULL DEFAULT '' /* safemig: choose the
  default */`, replacing a `DEFAULT NULL`. The constant comes from the type: `0` for numbers, `''`
  for text and bytea, `false`, `'{}'` for json, jsonb and arrays, the nil uuid
  `'00000000-0000-0000-0000-000000000000'` (`gen_random_uuid()` is volatile and would rewrite the
  table), `'1970-01-01 00:00:00+00'` / `'1970-01-01'` / `'00:00:00'` for timestamps, dates and
  times, `'0 seconds'` for intervals. No fix for other types (enums, domains…), nor for a column
  with its own CHECK or REFERENCES, which the constant could break. The default stays on the
  column; drop it once every writer sets the column if new rows must give a value.
- **Add it nullable, backfill in batches, then enforce NOT NULL** (PostgreSQL 12+, a table with a
  single-column primary key): the `NOT NULL` goes from the `ADD COLUMN`, and these steps follow,
  each in a transaction after the previous one's:
  1. a batched backfill: a `DO` loop over the primary key, 5,000 rows a round, `UPDATE users SET
     country = '' /* safemig: choose the value for existing rows */ WHERE … AND (country IS NULL)`,
     with a `COMMIT` per round where the loop runs outside a transaction;
  2. `ALTER TABLE users ADD CONSTRAINT users_country_not_null CHECK (country IS NOT NULL) NOT VALID`;
  3. `VALIDATE CONSTRAINT users_country_not_null` (reads and writes continue), `ALTER COLUMN
     country SET NOT NULL` (no scan: PostgreSQL 12+ trusts the validated check) and `DROP
     CONSTRAINT users_country_not_null`.

  The end state is the original's: the column NOT NULL, no default, no extra constraint. Where
  the steps go:
  - a file run statement by statement (plain files; goose, Atlas and Flyway after their opt-out):
    right after the statement, each statement its own transaction;
  - an explicit `BEGIN … COMMIT`: after the `COMMIT` (unless the runner sends the file as one
    query string, which would make one transaction of them);
  - otherwise three new migrations right after this one, with consecutive version keys in the
    framework's naming (`…_backfill_users_country`, `…_check_users_country_not_null`,
    `…_set_users_country_not_null`). The backfill's migration holds only the loop and leaves the
    transaction so that each round commits: goose `-- +goose NO TRANSACTION` (with the loop
    between `StatementBegin`/`StatementEnd`), sqlx `-- no-transaction`, Atlas `-- atlas:txmode
    none`, dbmate `transaction:false`, Flyway's `.sql.conf`, Diesel's `metadata.toml`;
    golang-migrate and Prisma send the lone loop outside any transaction block. Supabase and
    node-pg-migrate always wrap a migration: there the loop has no `COMMIT` and its row locks last
    until the migration commits. Drizzle applies only the migrations drizzle-kit journaled, and a
    file outside a migration set has no next migration: no fix there, nor when the version keys
    do not fit before the next migration.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let Some(at) = ctx.alter_of_existing_table() else { return };
    for action in &at.actions {
        let AlterAction::AddColumn { column, .. } = &action.action else { continue };
        let Some(not_null) = column.not_null else { continue };
        let has_default = column.default.as_ref().is_some_and(|d| !d.is_null);
        let fills_itself = column.generated.is_some() || column.ty.as_ref().is_some_and(|t| t.is_serial());
        if has_default || fills_itself {
            continue;
        }
        // It fails only if the table has rows: certain once a schema source knows the size.
        let severity = match ctx.table_size(&at.table) {
            Some(size) if size.rows > 0.0 => Severity::Error,
            _ => RULE.default_severity,
        };
        match ctx.dialect() {
            Dialect::Postgres => {
                let f = out.report_at(severity, not_null, postgres_message(ctx, column, &at.table));
                // What `fixes::columns` offers: nothing for a key, (a) from PG 11, (b) from PG 12.
                let keyed = column.primary_key.is_some() || column.unique.is_some();
                if !keyed && ctx.pg_at_least(12) {
                    f.with_fix("Add a constant default, or add the column nullable, backfill it and enforce NOT NULL through a validated CHECK");
                } else if !keyed && ctx.pg_at_least(11) {
                    f.with_fix("Add a constant default (instant on PostgreSQL 11+)");
                }
            }
            Dialect::Sqlite => {
                let message = format!(
                    "{} without a default: SQLite stops with `Cannot add a NOT NULL column with default value NULL` as soon as `{}` has a row. Give it a constant DEFAULT, or add it nullable and rebuild the table with NOT NULL once it is filled (SQLite cannot add NOT NULL to an existing column).",
                    added_not_null(column),
                    at.table,
                );
                out.report_at(severity, not_null, message);
            }
            Dialect::Mysql => {
                // MySQL fills existing rows with the type's implicit default instead of failing:
                // not an error, but rarely the value anyone means.
                let message = format!(
                    "{} without a default: MySQL does not fail but fills every existing row of `{}` with the type's implicit default (0, '' or the zero date). Give it an explicit DEFAULT, or add it nullable and backfill it before making it NOT NULL.",
                    added_not_null(column),
                    at.table,
                );
                out.report_at(Severity::Info, not_null, message);
            }
        }
    }
}

fn postgres_message(ctx: &StatementContext, column: &ColumnDef, table: &QualifiedName) -> String {
    let (col, rel) = (&column.name.value, table.name());
    let keyed = column.primary_key.is_some() || column.unique.is_some();
    let instead = if keyed {
        "A constant default would repeat one value in every row of a key: add it nullable, backfill distinct values in batches, enforce NOT NULL with a validated CHECK and build the key from a unique index created CONCURRENTLY."
    } else if ctx.pg_at_least(11) {
        "Give it a constant DEFAULT (instant on PostgreSQL 11+), or add it nullable, backfill in batches and enforce NOT NULL with a validated CHECK."
    } else {
        "Add it nullable, backfill in batches and enforce NOT NULL with a validated CHECK (before PostgreSQL 11 a default would rewrite the table)."
    };
    format!(
        "{} without a default: PostgreSQL stops on the first existing row of `{table}` with `column \"{col}\" of relation \"{rel}\" contains null values`, and where the table is empty the running code's inserts fail with `null value in column \"{col}\" of relation \"{rel}\" violates not-null constraint`. {instead}",
        added_not_null(column),
    )
}

/// "`country` is added NOT NULL", or the PRIMARY KEY variant.
fn added_not_null(column: &ColumnDef) -> String {
    if column.primary_key.is_some() && column.primary_key == column.not_null {
        format!("`{}` is added as a PRIMARY KEY (so NOT NULL)", column.name)
    } else {
        format!("`{}` is added NOT NULL", column.name)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::engine::analyze_with_schema;
    use crate::rules::context::NoSchema;
    use crate::rules::{MigrationSettings, SchemaView, Severity, TableSize};
    use crate::sql::facts::QualifiedName;

    /// A schema source that knows `users` has rows.
    struct UsersHaveRows;
    impl SchemaView for UsersHaveRows {
        fn table_size(&self, table: &QualifiedName) -> Option<TableSize> {
            (table.key() == "users").then_some(TableSize { rows: 1200.0, bytes: None })
        }
    }

    fn severity(schema: &dyn SchemaView) -> Vec<Severity> {
        let sql = "ALTER TABLE users ADD COLUMN country text NOT NULL;";
        analyze_with_schema(sql, &MigrationSettings::default(), &Config::default(), schema, None)
            .findings
            .iter()
            .filter(|f| f.rule == super::RULE.id)
            .map(|f| f.severity)
            .collect()
    }

    #[test]
    fn warning_while_rows_are_unknown_error_once_known() {
        assert_eq!(severity(&NoSchema), [Severity::Warning]);
        assert_eq!(severity(&UsersHaveRows), [Severity::Error]);
    }
}
