//! `rename-column`: `RENAME COLUMN` (and MySQL's renaming `CHANGE`) on an existing table.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::sql::facts::AlterAction;
use crate::sql::Dialect;

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
On PostgreSQL, when the replayed migrations tell the column's type: the expand step, in place of the
rename. **Unsafe**: it needs the contract step in a later release and the code switched to the new
name in between.
- `ADD COLUMN new <type of old>`, without a default (no rewrite). The default moves in the contract
  step: with one, the trigger could not tell an insert by old code (which leaves `new` to its
  default) from one by new code.
- When `old` is NOT NULL: `CHECK (new IS NOT NULL) NOT VALID`, enforced on every write from now on
  and validated (without blocking writes) in the contract step, which then sets NOT NULL.
- A trigger function and a `BEFORE INSERT OR UPDATE` trigger (`<table>_<old>_<new>_sync`, at most
  63 bytes): on insert, `new` wins when it is set, else it takes `old`'s value; on update, the
  column that changed (`IS DISTINCT FROM OLD`) is copied to the other (`new` first), and an update
  of other columns copies `old` into `new`.
- A batched backfill (`SET new = old WHERE new IS DISTINCT FROM old`, keyset over the primary key)
  in a transaction of its own: right after the rename when the file runs statement by statement,
  after the `COMMIT` of an explicit block (each round commits in both cases), else in a new
  migration right after this one — with the framework's opt-out (goose `NO TRANSACTION`, dbmate
  `transaction:false`, sqlx, Atlas, Flyway, Diesel), or alone in its file for golang-migrate and
  Prisma, so that each round commits; Supabase and node-pg-migrate run it in one transaction.
  goose gets `StatementBegin`/`StatementEnd` around the function and the loop.
- A comment dated today naming the contract step, with a suggested date two weeks on: the exact
  statements of a later migration, in one transaction (with `BEGIN`/`COMMIT` where the runner
  gives none), under `SET LOCAL lock_timeout`: `VALIDATE` the check, drop the trigger and the function, `SET NOT NULL` and drop
  the check, `SET DEFAULT` to `old`'s default, `DROP COLUMN old`. It lists what the contract has to
  re-create on `new` first: indexes and constraints on `old`, and foreign keys that reference it.

No fix when the type is unknown, for an identity/serial or primary-key column, when the table
has no single-column primary key for the backfill to walk, or when a later statement of the
migration names the old column (it was written for the state after the rename).
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let Some(at) = ctx.alter_of_existing_table() else { return };
    for action in &at.actions {
        let AlterAction::RenameColumn { from, to } = &action.action else { continue };
        if ctx.is_new_column(&at.table, &from.value) {
            continue;
        }
        let f = out.report(
            action.keyword_span,
            format!(
                "renaming `{table}.{from}` to `{to}` breaks the code that is still running: it selects and writes `{table}.{from}` and fails the moment this commits; expand and contract instead: add `{to}`, keep both in sync with a trigger and backfill it, switch the code, and drop `{from}` in a later release",
                table = at.table,
            ),
        );
        // The fix needs the column's type from the replayed migrations.
        if ctx.dialect() == Dialect::Postgres && ctx.migration.schema.column_type(&at.table, &from.value).is_some() {
            f.with_fix(format!("Expand/contract: add `{to}` kept in sync with `{from}` by a trigger"));
        }
    }
}
