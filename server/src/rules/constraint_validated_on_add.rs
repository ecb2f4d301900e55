//! `constraint-validated-on-add`: a CHECK or FOREIGN KEY added to an existing table without
//! `NOT VALID`, so PostgreSQL validates every row while holding the lock of the `ALTER TABLE`.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};
use crate::sql::facts::{AlterAction, ConstraintKind, QualifiedName};
use crate::sql::locks::{locks_taken, TableLock};

pub static RULE: Rule = Rule {
    id: "constraint-validated-on-add",
    category: Category::Locks,
    default_severity: Severity::Warning,
    dialects: POSTGRES,
    summary: "ADD CONSTRAINT … CHECK / FOREIGN KEY without NOT VALID scans the existing table under a blocking lock",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
On a table this migration did not create:
- `ADD CONSTRAINT … CHECK (…)` or `ADD CONSTRAINT … FOREIGN KEY … REFERENCES …` without `NOT VALID`;
- `ADD COLUMN … REFERENCES …` and `ADD COLUMN … CHECK (…)`: inline constraints are always validated
  on add, and cannot be `NOT VALID`.

`UNIQUE`, `PRIMARY KEY` and `EXCLUDE` are other rules' business (`NOT VALID` does not exist for
them).

## Why it hurts
PostgreSQL checks every existing row before the `ALTER TABLE` finishes, holding its lock for the
whole scan: ACCESS EXCLUSIVE for a CHECK (blocks reads and writes), SHARE ROW EXCLUSIVE on both the
table and the referenced table for a foreign key (blocks writes to both).

## Example
```sql
ALTER TABLE orders
    ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id);
```

## Instead
```sql
-- instant: only new and updated rows are checked from now on
ALTER TABLE orders
    ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
-- in a separate transaction (or the next migration): scans under SHARE UPDATE EXCLUSIVE, so reads
-- and writes continue
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;
```
For an inline constraint, add the column without it and add the constraint as above.

## Quick fix
For a named `ADD CONSTRAINT … CHECK` or `FOREIGN KEY`: append `NOT VALID` to the constraint, and
write `ALTER TABLE … VALIDATE CONSTRAINT …` in a later transaction — right after the statement when
the migration runs statement by statement outside a transaction, after the `COMMIT` of the
explicit block it is in, else in a new migration right after this one, in the framework's naming
(carrying the `lock_timeout` set before the statement). **Safe**: the same constraints in the end,
validated; only the scan moves to a lock that lets reads and writes continue. If existing rows
break the constraint, the failure moves from the `ADD` to the `VALIDATE`. No fix for unnamed and
inline constraints (the `VALIDATE` needs a name), nor for Drizzle, which only runs the migrations
its journal lists.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let Some(at) = ctx.alter_of_existing_table() else { return };
    let locks = locks_taken(ctx.kind());
    const VALIDATE_LATER: &str = "VALIDATE CONSTRAINT in a separate transaction (its SHARE UPDATE EXCLUSIVE lock lets reads and writes continue)";
    for action in &at.actions {
        match &action.action {
            AlterAction::AddConstraint(tc) if tc.not_valid.is_none() => {
                let named = |kind: &str| match &tc.name {
                    Some(n) => format!("adding {kind} `{n}`"),
                    None => format!("adding this {kind}"),
                };
                let (what, parent) = match &tc.kind {
                    ConstraintKind::Check { .. } => (named("CHECK constraint"), None),
                    ConstraintKind::ForeignKey(fk) => (named("foreign key"), Some(&fk.ref_table)),
                    _ => continue,
                };
                let message =
                    format!("{}. Add it NOT VALID, then {VALIDATE_LATER}.", scan(&what, &at.table, parent, &locks));
                out.report(action.keyword_span, message)
                    .with_fix("Add the constraint NOT VALID and validate it in a separate transaction");
            }
            AlterAction::AddColumn { column, .. } => {
                if let Some(fk) = &column.references {
                    let what = format!("the inline REFERENCES on `{}`", column.name);
                    let message = format!(
                        "{}. Add the column without REFERENCES, then ADD CONSTRAINT … FOREIGN KEY … NOT VALID and {VALIDATE_LATER}.",
                        scan(&what, &at.table, Some(&fk.ref_table), &locks)
                    );
                    out.report(fk.span, message).with_fix("Move the foreign key to an ADD CONSTRAINT … NOT VALID");
                }
                if let Some(check_span) = column.check {
                    let what = format!("the inline CHECK on `{}`", column.name);
                    let message = format!(
                        "{}. Add the column without the CHECK, then ADD CONSTRAINT … CHECK … NOT VALID and {VALIDATE_LATER}.",
                        scan(&what, &at.table, None, &locks)
                    );
                    out.report(check_span, message).with_fix("Move the CHECK to an ADD CONSTRAINT … NOT VALID");
                }
            }
            _ => {}
        }
    }
}

/// "{what} checks every row of `t` [against `p`] and … holds …"; `references` is the table a
/// foreign key points at.
fn scan(what: &str, table: &QualifiedName, references: Option<&QualifiedName>, locks: &[TableLock]) -> String {
    let parent = references.filter(|p| p.key() != table.key());
    let against = match (references, parent) {
        (_, Some(p)) => format!(" against `{p}`"),
        (Some(_), None) => " against the table itself".into(),
        (None, None) => String::new(),
    };
    let mode_of = |t: &QualifiedName| locks.iter().find(|l| l.table.key() == t.key()).map(|l| l.mode);
    let held = match (mode_of(table), parent.map(|p| (p, mode_of(p)))) {
        (Some(m), Some((p, Some(pm)))) if m == pm => {
            format!("{m} on `{table}` and `{p}`, which {}", m.blocks())
        }
        (Some(m), Some((p, Some(pm)))) => {
            format!("{m} on `{table}`, which {}, and {pm} on `{p}`, which {}", m.blocks(), pm.blocks())
        }
        (Some(m), _) => format!("{m} on `{table}`, which {}", m.blocks()),
        (None, _) => format!("a lock on `{table}`"),
    };
    format!("{what} checks every row of `{table}`{against} and for the whole scan holds {held}")
}
