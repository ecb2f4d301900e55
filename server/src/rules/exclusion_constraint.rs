//! `exclusion-constraint`: `ADD CONSTRAINT … EXCLUDE` on an existing table.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};
use crate::sql::facts::{AlterAction, ConstraintKind};
use crate::sql::locks::LockMode;

pub static RULE: Rule = Rule {
    id: "exclusion-constraint",
    category: Category::Locks,
    default_severity: Severity::Warning,
    dialects: POSTGRES,
    summary:
        "ADD EXCLUDE builds its index and checks every row while the existing table is locked; there is no online way",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
`ALTER TABLE … ADD [CONSTRAINT name] EXCLUDE USING …` on a table that this migration did not
create.

## Why it hurts
Adding an exclusion constraint builds its index and checks every existing row against every other
under an ACCESS EXCLUSIVE lock: all reads and writes of the table wait until it finishes. Unlike
the other constraint kinds there is no online path: exclusion constraints accept neither
`NOT VALID` nor `USING INDEX`, and no index built `CONCURRENTLY` can be attached to one.

## Example
```sql
ALTER TABLE reservations
    ADD CONSTRAINT reservations_no_overlap
    EXCLUDE USING gist (room_id WITH =, during WITH &&);
```

## Instead
- Declare the constraint when the table is created, while it is still empty.
- On a small table, accept the lock: run it in a low-traffic window with `SET lock_timeout`, after
  checking that no existing rows conflict.
- On a large busy table, create a new table with the constraint, copy and sync the rows
  (trigger + batched backfill), then swap the tables.

## Quick fix
None: the right approach depends on the table's size and traffic.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let Some(at) = ctx.alter_of_existing_table() else { return };
    let mode = LockMode::AccessExclusive;
    for action in &at.actions {
        let AlterAction::AddConstraint(tc) = &action.action else { continue };
        if tc.kind != ConstraintKind::Exclude {
            continue;
        }
        out.report(
            tc.kind_span,
            format!(
                "adding an exclusion constraint builds its index and checks every row under an {mode} lock on `{}`, which {} until it finishes; PostgreSQL has no online way to add one (no NOT VALID, no USING INDEX), so declare it when the table is created or run it in a maintenance window",
                at.table,
                mode.blocks(),
            ),
        );
    }
}
