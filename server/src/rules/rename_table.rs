//! `rename-table`: `ALTER TABLE … RENAME TO` (and MySQL's `RENAME TABLE`) on an existing table.

use crate::rules::context::renamed_key;
use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::sql::facts::{AlterAction, Name, ObjectKind, QualifiedName};
use crate::sql::{Dialect, StatementKind};
use sqlparser::tokenizer::Token;

pub static RULE: Rule = Rule {
    id: "rename-table",
    category: Category::AppSafety,
    default_severity: Severity::Warning,
    dialects: ALL_DIALECTS,
    summary: "Renaming a table breaks the running application the moment it commits",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
`ALTER TABLE old RENAME TO new` (MySQL also `RENAME TABLE old TO new`) on a table that this
migration did not create. A swap, where another table takes the old name in the same transaction
(or in the same MySQL `RENAME TABLE`), is fine; a swap split over two transactions is reported,
because between the two renames the old name does not exist.

## Why it hurts
The code that is running while the migration commits, and every instance that has not restarted
yet, still queries `old`. From the commit on, each of those queries fails with
`relation "old" does not exist` until the new release is everywhere.

## Example
```sql
ALTER TABLE customers RENAME TO clients;
```

## Instead
Rename, and leave a view with the old name in the same transaction (MySQL cannot put DDL in a
transaction: create it right after the rename). A view over a single table with no aggregates is
automatically updatable in PostgreSQL and MySQL, so old code keeps reading and writing through it:
```sql
BEGIN;
ALTER TABLE customers RENAME TO clients;
CREATE VIEW customers AS SELECT * FROM clients;
COMMIT;
-- a later migration, once no running code uses the old name:
DROP VIEW customers;
```
SQLite views are read-only: there, have the code switch names first (or map the new name in the
ORM) and rename afterwards.

## Quick fix
On PostgreSQL: the rename followed by `CREATE VIEW old AS SELECT * FROM new` in the same
transaction (`BEGIN … COMMIT` around both when the statement runs in none; in the runner's or the
file's transaction otherwise), the view named as the table was written (`sales.customers` →
`sales.customers` over `sales.clients`), and a comment dated today naming the contract step for a
later release (`DROP VIEW old`, with a suggested date two weeks on). It says that `SELECT *` is
expanded when the view is created: columns added to the table later do not appear in the view.
The rename holds ACCESS EXCLUSIVE for a moment and nothing scans the table. **Unsafe**: the end
state has an extra view, to drop in a later release. No fix for `IF EXISTS`, a view, a swap, a
migration that uses the old name again later, or on MySQL and SQLite. A rename followed by such a view in the same transaction is not reported.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let Some(at) = ctx.alter_of_existing_table() else { return };
    for action in &at.actions {
        let AlterAction::RenameTable { to } = &action.action else { continue };
        let (old, short) = (&at.table, at.table.name());
        if name_vacated_earlier(ctx, old, to) {
            // The second half of a swap: the first half is where the old name disappears.
            continue;
        }
        if ctx.dialect() == Dialect::Postgres && view_left_behind(ctx, old, to) {
            // Expand/contract: old code keeps reading and writing through the view.
            continue;
        }
        if let Some((j, replacement)) = ctx.later_renamed_into(old) {
            // A swap: another table takes the old name, so old code keeps finding one.
            if ctx.dialect() != Dialect::Mysql && ctx.same_transaction_as(j) {
                continue;
            }
            let atomic = match ctx.dialect() {
                Dialect::Mysql => {
                    format!("swap them atomically with one `RENAME TABLE {old} TO {to}, {replacement} TO {short}`")
                }
                _ => "run both renames in one transaction".to_string(),
            };
            out.report(
                action.keyword_span,
                format!(
                    "until `{replacement}` takes the name `{short}`, the code that is still running finds no `{short}` and fails; {atomic}"
                ),
            );
            continue;
        }
        let instead = match ctx.dialect() {
            Dialect::Postgres => format!(
                "create a view `{old}` over `{to}` in the same transaction (a simple view is updatable, so old code keeps reading and writing through it) and drop it in a later release"
            ),
            Dialect::Mysql => format!(
                "create a view `{old}` over `{to}` right after it (a simple view is updatable, so old code keeps reading and writing through it; MySQL cannot put the two in one transaction) and drop it in a later release"
            ),
            Dialect::Sqlite => format!(
                "SQLite views are read-only, so switch the code to `{to}` first (or map the name in the ORM) and rename afterwards"
            ),
        };
        let f = out.report(
            action.keyword_span,
            format!(
                "renaming `{old}` to `{to}` breaks the code that is still running: it queries `{short}` and fails the moment this commits; {instead}"
            ),
        );
        if ctx.dialect() == Dialect::Postgres && !at.if_exists {
            f.with_fix(format!("Leave an updatable view `{old}` over `{to}` (drop it in a later release)"));
        }
    }
}

/// A later statement in the same transaction creates a view with the old name over the renamed
/// table: the code that still uses the old name keeps working.
fn view_left_behind(ctx: &StatementContext, old: &QualifiedName, to: &Name) -> bool {
    let key = old.key();
    ctx.later().any(|(j, s)| match s.kind() {
        StatementKind::CreateObject(o) => {
            o.object == ObjectKind::View
                && o.name.key() == key
                && ctx.same_transaction_as(j)
                && s.parsed.tokens().iter().any(|t| match &t.token {
                    Token::Word(w) if w.quote_style.is_some() => w.value == to.value,
                    Token::Word(w) => w.value.to_lowercase() == to.value,
                    _ => false,
                })
        }
        _ => false,
    })
}

/// An earlier statement of this migration renamed away the table whose name `table` now takes
/// (the second half of a swap).
fn name_vacated_earlier(ctx: &StatementContext, table: &QualifiedName, to: &Name) -> bool {
    let target = renamed_key(table, to);
    ctx.earlier().any(|(_, s)| match s.kind() {
        StatementKind::AlterTable(at) => {
            at.table.key() == target && at.actions.iter().any(|a| matches!(a.action, AlterAction::RenameTable { .. }))
        }
        _ => false,
    })
}
