//! `truncate-table`: `TRUNCATE`, and `DELETE` without `WHERE`, on an existing table.

use crate::rules::context::is_framework_ledger;
use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::sql::facts::QualifiedName;
use crate::sql::{Dialect, StatementKind};

pub static RULE: Rule = Rule {
    id: "truncate-table",
    category: Category::AppSafety,
    default_severity: Severity::Warning,
    dialects: ALL_DIALECTS,
    summary: "TRUNCATE or DELETE without WHERE deletes every row of the table",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
`TRUNCATE` of a table that this migration did not create, and `DELETE FROM` such a table with no
`WHERE` (and no `LIMIT`) at all.

## Why it hurts
Every row is gone once the migration commits, and only a restore from backup brings them back.
A migration runs against every environment, production included, so a statement written to clean
up a development database empties the production table too. `TRUNCATE … CASCADE` also empties
every table with a foreign key to it, and in PostgreSQL `TRUNCATE` holds an ACCESS EXCLUSIVE lock
(no reads, no writes) until commit; MySQL commits a `TRUNCATE` implicitly, so it cannot be rolled
back at all.

The default severity is **warning**, not error: a drop is usually intended and reviewed, and the
real-world corpus is full of deliberate ones. It still fails CI at the default `--fail-on warning`;
set it to `"error"` under `[rules]` in `safemig.toml` to make every drop need a suppression with a reason.

## Example
```sql
TRUNCATE sessions;
DELETE FROM cart_items;
```

## Instead
If only some rows should go, say which with a `WHERE`, and delete in batches
(see `unbatched-backfill`). If emptying the table in every environment is really intended, keep the
statement and record why with a suppression comment:
```sql
-- safemig: ignore truncate-table — sessions are recreated on the next login
TRUNCATE sessions;
```

## Quick fix
None: whether the data may go is a decision, not an edit.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let keep = |t: &&QualifiedName| !ctx.is_new_table(t) && !is_framework_ledger(t);
    match ctx.kind() {
        StatementKind::Truncate { tables, cascade } => {
            let existing: Vec<&QualifiedName> = tables.iter().filter(keep).collect();
            if existing.is_empty() {
                return;
            }
            let names = existing.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
            let it = if existing.len() == 1 { "it" } else { "them" };
            let mut notes = Vec::new();
            if *cascade {
                notes.push(format!("CASCADE also empties every table with a foreign key to {it}"));
            }
            match ctx.dialect() {
                Dialect::Postgres => {
                    notes.push("the ACCESS EXCLUSIVE lock it takes blocks reads and writes until commit".to_string())
                }
                Dialect::Mysql => {
                    notes.push("MySQL commits a TRUNCATE implicitly, so it cannot be rolled back".to_string())
                }
                Dialect::Sqlite => {}
            }
            let notes = if notes.is_empty() { String::new() } else { format!(" ({})", notes.join("; ")) };
            out.report(
                ctx.facts().head,
                format!(
                    "TRUNCATE deletes every row of {names} for good, in every environment this migration runs in{notes}; if only some rows should go, DELETE them with a WHERE in batches, and if emptying the table is intended, say why in a suppression comment"
                ),
            );
        }
        StatementKind::Delete(d) if d.where_clause.is_none() && d.whole_table && keep(&&d.table) => {
            out.report(
                ctx.facts().head,
                format!(
                    "DELETE without WHERE deletes every row of `{}` for good, in every environment this migration runs in; if only some rows should go, add the WHERE that selects them and delete in batches, and if emptying the table is intended, say why in a suppression comment",
                    d.table
                ),
            );
        }
        _ => {}
    }
}
