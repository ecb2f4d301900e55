//! `unique-constraint-blocking`: `ADD CONSTRAINT … UNIQUE` / `PRIMARY KEY` (or inline on
//! `ADD COLUMN`) on an existing table, without `USING INDEX`.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};
use crate::sql::facts::{AlterAction, ConstraintKind};
use crate::sql::locks::LockMode;

pub static RULE: Rule = Rule {
    id: "unique-constraint-blocking",
    category: Category::Locks,
    default_severity: Severity::Warning,
    dialects: POSTGRES,
    summary: "ADD UNIQUE / PRIMARY KEY builds its index while the existing table is locked against reads and writes",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
`ALTER TABLE … ADD [CONSTRAINT name] UNIQUE (…)` or `PRIMARY KEY (…)` without `USING INDEX`, and
`ADD COLUMN … UNIQUE` / `PRIMARY KEY`, on a table that this migration did not create.

## Why it hurts
PostgreSQL builds the constraint's unique index inside the `ALTER TABLE`, holding an ACCESS
EXCLUSIVE lock on the table the whole time: every read and write waits until the build (and, for a
primary key, the NOT NULL check of its columns) finishes. On a large table that is minutes of
outage.

`NOT VALID` does not help: PostgreSQL accepts it only for `CHECK` and `FOREIGN KEY` constraints and
rejects it for `UNIQUE` and `PRIMARY KEY`.

## Example
```sql
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
```

## Instead
```sql
-- 1. in a migration that runs outside a transaction
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);
-- 2. a catalog-only change: takes the lock only for an instant
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;
```
For a primary key, make sure the columns are already `NOT NULL` (on PostgreSQL 12+ via a validated
`CHECK (col IS NOT NULL)` and `SET NOT NULL`), otherwise `ADD PRIMARY KEY USING INDEX` scans the
table to set it. For a new column, add it without `UNIQUE` first, then follow the same two steps.
If a concurrent build fails it leaves an INVALID index: drop it and build again.

## Quick fix
For `ALTER TABLE t ADD [CONSTRAINT c] UNIQUE (cols)` or `PRIMARY KEY (cols)` (the only action of
the statement, no options after the column list):
```sql
CREATE UNIQUE INDEX CONCURRENTLY c ON t (cols);
ALTER TABLE t ADD CONSTRAINT c UNIQUE USING INDEX c;   -- or PRIMARY KEY USING INDEX c
```
An unnamed constraint gets the name PostgreSQL would have given it (`t_col_key`, `t_pkey`), so
the migration ends with the same catalog. For a primary key whose columns this migration does
not already make `NOT NULL` (the fix cannot see earlier migrations), the constraint's place gets
`ADD CONSTRAINT t_col_not_null CHECK (col IS NOT NULL) NOT VALID`, and after the index build come
`VALIDATE CONSTRAINT` (a scan that blocks no writes), the primary key (whose implicit `SET NOT
NULL` then uses the check instead of scanning under ACCESS EXCLUSIVE) and `DROP CONSTRAINT` of
the check. On a column that already was `NOT NULL` that costs one harmless scan. Before
PostgreSQL 12 the primary key still scans: the fix then has no check and is **unsafe**.

The index build must run outside a transaction; where the statement runs decides the rest:
- outside any transaction: both statements (and the check steps) in place;
- inside `BEGIN … COMMIT` in the file: they move after the `COMMIT` (the check's `NOT VALID` add
  stays in the block);
- in the runner's transaction, alone in its part of the file: the framework's opt-out (goose
  `-- +goose NO TRANSACTION`, Atlas `-- atlas:txmode none`, Flyway `executeInTransaction=false`)
  with everything in place. sqlx, dbmate and Diesel send an opted-out file as one query string,
  so the build stays alone in it, opted out, and the `USING INDEX` step goes to a new migration
  right after (a primary key with its check: as in the next case);
- with other statements, or in a file sent as one query string (golang-migrate, Prisma): the
  build moves into a new migration right after this one (opted out where the framework needs it)
  and the steps after it go with it where the runner then runs statement by statement, else into
  a second new migration;
- Supabase, Drizzle and node-pg-migrate SQL files, and pop migrations (but popx's `.autocommit`
  files), always run in a transaction: no fix.

**Safe** (same constraint, same name, no long lock) unless the statements move past a later one
that names the table or constraint, or the opt-out takes other statements out of their
transaction: then **unsafe**. `NOT VALID` is never used for the constraint itself.

Inline `UNIQUE` on `ADD COLUMN` (named `t_col_key`, or as its `CONSTRAINT name` says): the column
is added without it where the statement was, then come the same two steps. No fix for inline
`PRIMARY KEY`, `ADD COLUMN IF NOT EXISTS`, constraints with options (`INCLUDE`, `NULLS NOT
DISTINCT`, `DEFERRABLE`, …) or an `ALTER TABLE` with other actions.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let Some(at) = ctx.alter_of_existing_table() else { return };
    let mode = LockMode::AccessExclusive;
    for action in &at.actions {
        match &action.action {
            AlterAction::AddConstraint(tc) if tc.using_index.is_none() => {
                let what = match &tc.kind {
                    ConstraintKind::Unique { .. } => "UNIQUE",
                    ConstraintKind::PrimaryKey { .. } => "PRIMARY KEY",
                    _ => continue,
                };
                let constraint = tc.name.as_ref().map(|n| format!(" `{n}`")).unwrap_or_default();
                out.report(
                    tc.kind_span,
                    format!(
                        "adding the {what} constraint{constraint} builds its index under an {mode} lock on `{}`, which {} until the build finishes; build it first with CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT … {what} USING INDEX",
                        at.table,
                        mode.blocks(),
                    ),
                )
                .with_fix(format!("Build the index CONCURRENTLY, then add the {what} constraint USING INDEX"));
            }
            AlterAction::AddColumn { column, .. } => {
                let inline = [(column.primary_key, "PRIMARY KEY"), (column.unique, "UNIQUE")];
                for (span, what) in inline.into_iter().filter_map(|(s, w)| Some((s?, w))) {
                    out.report(
                        span,
                        format!(
                            "adding `{}` with {what} builds a unique index under an {mode} lock on `{}`, which {} until the build finishes; add the column without {what}, then CREATE UNIQUE INDEX CONCURRENTLY and ADD CONSTRAINT … {what} USING INDEX",
                            column.name,
                            at.table,
                            mode.blocks(),
                        ),
                    )
                    .with_fix(format!("Add the column, build the index CONCURRENTLY, then add {what} USING INDEX"));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::engine::analyze;
    use crate::rules::MigrationSettings;

    #[test]
    fn never_suggests_not_valid() {
        let sql = "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);\n\
                   ALTER TABLE events ADD PRIMARY KEY (id);\n\
                   ALTER TABLE users ADD COLUMN external_id uuid UNIQUE;";
        let analysis = analyze(sql, &MigrationSettings::default(), &Config::default(), None);
        let mine: Vec<_> = analysis.findings.iter().filter(|f| f.rule == super::RULE.id).collect();
        assert_eq!(mine.len(), 3);
        for f in mine {
            assert!(!f.message.contains("NOT VALID"), "{}", f.message);
            let fix = f.fix.as_ref().map(|x| x.title.as_str()).unwrap_or_default();
            assert!(!fix.contains("NOT VALID"), "{fix}");
        }
    }
}
