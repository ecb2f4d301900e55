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
Add the column as nullable (enforce NOT NULL after the backfill).
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
                out.report_at(severity, not_null, postgres_message(ctx, column, &at.table))
                    .with_fix("Add the column as nullable (enforce NOT NULL after the backfill)");
            }
            Dialect::Sqlite => {
                let message = format!(
                    "{} without a default: SQLite stops with `Cannot add a NOT NULL column with default value NULL` as soon as `{}` has a row. Give it a constant DEFAULT, or add it nullable and rebuild the table with NOT NULL once it is filled (SQLite cannot add NOT NULL to an existing column).",
                    added_not_null(column),
                    at.table,
                );
                out.report_at(severity, not_null, message)
                    .with_fix("Add the column as nullable (enforce NOT NULL after the backfill)");
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
