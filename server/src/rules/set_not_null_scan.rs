//! `set-not-null-scan`: `ALTER COLUMN … SET NOT NULL` that scans an existing table under
//! ACCESS EXCLUSIVE.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};
use crate::sql::facts::AlterAction;
use crate::sql::locks::LockMode;

pub static RULE: Rule = Rule {
    id: "set-not-null-scan",
    category: Category::Locks,
    default_severity: Severity::Warning,
    dialects: POSTGRES,
    summary: "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock unless a validated CHECK (col IS NOT NULL) exists (PostgreSQL 12+)",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
`ALTER TABLE … ALTER COLUMN … SET NOT NULL` on a table this migration did not create, unless a
validated `CHECK (col IS NOT NULL)` on that column is already in place (added without `NOT VALID`,
or added `NOT VALID` and validated since) and the PostgreSQL version is 12 or later.

## Why it hurts
PostgreSQL reads every row to prove there is no NULL, holding an ACCESS EXCLUSIVE lock that blocks
all reads and writes for the whole scan. From PostgreSQL 12 on it skips the scan when a validated
check constraint already proves the column is not null; before 12 it scans regardless.

## Example
```sql
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
```

## Instead
```sql
ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;
-- in a separate transaction (or the next migration): scans under SHARE UPDATE EXCLUSIVE only
ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;
-- PostgreSQL 12+: uses the validated check instead of scanning
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_email_not_null;
```
Before PostgreSQL 12 there is no scan-free `SET NOT NULL`: keep the validated check as the
constraint, or accept the scan in a quiet window.

## Quick fix
PostgreSQL 12+, an `ALTER TABLE` whose only action is the `SET NOT NULL`: the statement becomes
`ADD CONSTRAINT <table>_<column>_not_null CHECK (<column> IS NOT NULL) NOT VALID`, and the
`VALIDATE CONSTRAINT`, the original `SET NOT NULL` and the `DROP CONSTRAINT` follow in a later
transaction: right after it when the migration runs statement by statement outside a transaction,
after the `COMMIT` of its explicit block, else in a new migration right after this one. **Safe**:
the column ends NOT NULL with no extra constraint; the scan runs under SHARE UPDATE EXCLUSIVE and
the `SET NOT NULL` uses the validated check instead of scanning. No fix before PostgreSQL 12, for
an `ALTER TABLE` with other actions, or when the check is already there.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let Some(at) = ctx.alter_of_existing_table() else { return };
    let mode = LockMode::AccessExclusive;
    for action in &at.actions {
        let AlterAction::SetNotNull { column } = &action.action else { continue };
        let has_check = ctx.has_validated_not_null_check(&at.table, &column.value);
        // As it would be written in SQL.
        let sql_column = if column.quoted { format!("\"{}\"", column.value) } else { column.value.clone() };
        let scan = format!(
            "SET NOT NULL scans all of `{}` for NULLs in `{column}` under an {mode} lock, which {} for the whole scan",
            at.table,
            mode.blocks()
        );
        let check = format!("`CHECK ({sql_column} IS NOT NULL)`");
        match (has_check, ctx.pg_at_least(12)) {
            (true, true) => {}
            (false, true) => {
                let message = format!(
                    "{scan}; add {check} NOT VALID, VALIDATE it in a separate transaction, then SET NOT NULL, which skips the scan, and drop the check"
                );
                out.report(action.keyword_span, message)
                    .with_fix("Enforce NOT NULL through a validated CHECK constraint first");
            }
            (false, false) => {
                let message = format!(
                    "{scan}; before PostgreSQL 12 (configured: {}) it scans even with a validated check, so enforce the rule with {check} instead: add it NOT VALID and VALIDATE it in a separate transaction",
                    ctx.settings().postgres_version
                );
                out.report(action.keyword_span, message)
                    .with_fix("Enforce NOT NULL through a validated CHECK constraint instead");
            }
            (true, false) => {
                let message = format!(
                    "{scan}: before PostgreSQL 12 (configured: {}) the validated {check} does not spare the scan; keep the check as the constraint instead, or run this in a quiet window",
                    ctx.settings().postgres_version
                );
                out.report(action.keyword_span, message);
            }
        }
    }
}
