//! `drop-table`: `DROP TABLE` of a table this migration did not create.

use crate::rules::context::is_framework_ledger;
use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::sql::facts::{ObjectKind, QualifiedName};
use crate::sql::StatementKind;

pub static RULE: Rule = Rule {
    id: "drop-table",
    category: Category::AppSafety,
    default_severity: Severity::Warning,
    dialects: ALL_DIALECTS,
    summary: "DROP TABLE destroys the table's data and breaks code that still uses it",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
`DROP TABLE` naming a table that this migration did not create (tables created earlier in the
same migration, and migration frameworks' own ledger tables, are left alone). When a later
statement takes the name back, the message says what the new table holds: nothing after a plain
`CREATE TABLE` (or `… AS … WITH NO DATA`), only its query's rows after `CREATE TABLE … AS
SELECT` or `SELECT … INTO`. Neither is the
table rebuild SQLite documents for changes its `ALTER TABLE` cannot make: build the new table,
copy the rows with `INSERT … SELECT`, drop the old table, rename the new one into its place.

## Why it hurts
Every row is gone once the migration commits: a rollback of the release cannot bring them back,
only a restore from backup can. The code that is running while the migration commits still
queries the table and fails with `relation "…" does not exist` until the new release is
everywhere. With `CASCADE`, PostgreSQL also drops the views and foreign keys that depend on it.

The default severity is **warning**, not error: a drop is usually intended and reviewed, and the
real-world corpus is full of deliberate ones. It still fails CI at the default `--fail-on warning`;
set it to `"error"` under `[rules]` in `safemig.toml` to make every drop need a suppression with a reason.

## Example
```sql
DROP TABLE legacy_sessions;
```

## Instead
Two releases:
1. Stop reading and writing the table in the code, and release that.
2. In a later migration, once no running code uses it, drop it, after checking that no report,
   view or job needs its data (or rename it to `…_deprecated` first and drop that later).

## Quick fix
None: the drop has to move to a later release.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let StatementKind::Drop(d) = ctx.kind() else { return };
    if d.object != ObjectKind::Table {
        return;
    }
    let existing: Vec<&QualifiedName> = d
        .names
        .iter()
        .filter(|n| !ctx.is_new_table(n) && !is_framework_ledger(n) && !replaced_by_copy(ctx, n))
        .filter(|n| !ctx.replayed_table(n).is_some_and(|t| ctx.undoes_own_creation(&t.history)))
        .collect();
    if existing.is_empty() {
        return;
    }
    let names = existing.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
    let (it, its) = if existing.len() == 1 { ("it", "its") } else { ("them", "their") };
    let cascade = if d.cascade {
        format!(" (CASCADE also drops the views and foreign keys that depend on {it})")
    } else {
        String::new()
    };
    let recreated: Vec<Option<Recreated>> = existing.iter().map(|n| recreated_later(ctx, n)).collect();
    let message = if recreated.iter().all(|r| *r == Some(Recreated::FromQuery)) {
        // `CREATE TABLE … AS SELECT` / `SELECT … INTO` after the drop: the new table has rows,
        // but only what its query selects (the dropped table cannot be among its sources).
        format!(
            "dropping {names} deletes every row for good{cascade}: the table that takes the name later in this migration holds only what its query selects, not the dropped rows; make sure nothing needs them, or build the new table under another name and drop the old one once it is no longer needed"
        )
    } else if recreated.iter().all(Option::is_some) {
        // A rebuild that forgot the copy: the name comes back, the rows do not.
        format!(
            "dropping {names} deletes every row for good{cascade}: the table that takes the name later in this migration starts empty; build the new table under another name, copy the rows into it with INSERT … SELECT, then drop the old one and rename the new one into its place"
        )
    } else {
        format!(
            "dropping {names} deletes every row for good{cascade}, and the code that is still running queries {it} and fails the moment this commits; stop using {it} in one release, then drop {it} in a later migration once nothing needs {its} data"
        )
    };
    out.report(ctx.facts().head, message);
}

/// How a later statement of this migration brings the dropped name back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recreated {
    /// `CREATE TABLE` with columns (or `… AS … WITH NO DATA`), or a rename of a table built here.
    Empty,
    /// `CREATE TABLE … AS <query>` / `SELECT … INTO`: with the query's rows.
    FromQuery,
}

/// A later statement of this migration creates a table with this name again, or renames one into it.
fn recreated_later(ctx: &StatementContext, dropped: &QualifiedName) -> Option<Recreated> {
    if ctx.later_renamed_into(dropped).is_some() {
        return Some(Recreated::Empty);
    }
    ctx.later().find_map(|(_, s)| match s.kind() {
        StatementKind::CreateTable(ct) if ct.name.key() == dropped.key() => {
            Some(if ct.filled_by_query { Recreated::FromQuery } else { Recreated::Empty })
        }
        _ => None,
    })
}

/// The table rebuild SQLite documents for every change its `ALTER TABLE` cannot make (and the
/// copy-and-swap elsewhere): the rows were copied (`INSERT … SELECT`) into a table built in this
/// migration, which then takes the dropped table's name.
fn replaced_by_copy(ctx: &StatementContext, dropped: &QualifiedName) -> bool {
    let Some((_, replacement)) = ctx.later_renamed_into(dropped) else { return false };
    ctx.is_new_table(replacement)
        && ctx.earlier().any(
            |(_, s)| matches!(s.kind(), StatementKind::Insert(i) if i.from_select && i.table.key() == replacement.key()),
        )
}
