//! `rename-column`: `RENAME COLUMN` (and MySQL's renaming `CHANGE`) on an existing table.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::sql::facts::AlterAction;

pub static RULE: Rule = Rule {
    id: "rename-column",
    category: Category::AppSafety,
    default_severity: Severity::Warning,
    dialects: ALL_DIALECTS,
    summary: "RENAME COLUMN breaks the running application the moment it commits",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
`ALTER TABLE … RENAME [COLUMN] old TO new` (and MySQL's `CHANGE old new …` when the names differ)
on a table that this migration did not create, for a column that this migration did not add.

## Why it hurts
Deploys are not atomic: the code that is running while the migration commits, and every instance
that has not restarted yet, still selects, inserts and updates `old`. From the commit on, each of
those queries fails with `column "old" does not exist` until the new release is everywhere, and a
rollback of the release cannot fix it because the old code needs the old name.

## Example
```sql
ALTER TABLE users RENAME COLUMN email TO email_address;
```

## Instead
Expand and contract over several releases:
```sql
-- migration 1: add the new column and keep both in sync
ALTER TABLE users ADD COLUMN email_address text;
-- a trigger that copies email <-> email_address on INSERT/UPDATE, then a batched backfill
-- release: the code reads and writes email_address
-- a later migration, once no running code uses it:
ALTER TABLE users DROP COLUMN email;
```
If the rename only matters to the code, map the new name in the ORM and leave the column alone.

## Quick fix
None: the safe pattern spans several migrations and releases.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let Some(at) = ctx.alter_of_existing_table() else { return };
    for action in &at.actions {
        let AlterAction::RenameColumn { from, to } = &action.action else { continue };
        if ctx.is_new_column(&at.table, &from.value) {
            continue;
        }
        out.report(
            action.keyword_span,
            format!(
                "renaming `{table}.{from}` to `{to}` breaks the code that is still running: it selects and writes `{table}.{from}` and fails the moment this commits; expand and contract instead: add `{to}`, keep both in sync with a trigger and backfill it, switch the code, and drop `{from}` in a later release",
                table = at.table,
            ),
        );
    }
}
