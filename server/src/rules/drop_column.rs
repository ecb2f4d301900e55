//! `drop-column`: `DROP COLUMN` on an existing table.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::sql::facts::AlterAction;

pub static RULE: Rule = Rule {
    id: "drop-column",
    category: Category::AppSafety,
    default_severity: Severity::Warning,
    dialects: ALL_DIALECTS,
    summary: "DROP COLUMN destroys the column's data and breaks code that still uses it",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
`ALTER TABLE … DROP [COLUMN] col` on a table that this migration did not create, for a column that
this migration did not add.

## Why it hurts
The column's data is gone for good once the migration commits: a rollback of the release cannot
bring it back, only a restore from backup can. And the code that is running while the migration
commits still selects and writes the column (an ORM often lists every column it knows in its
`SELECT` and `INSERT`), so those queries fail with `column "col" does not exist` until the new
release is everywhere.

The default severity is **warning**, not error: a drop is usually intended and reviewed, and the
real-world corpus is full of deliberate ones. It still fails CI at the default `--fail-on warning`;
set it to `"error"` under `[rules]` in `safemig.toml` to make every drop need a suppression with a reason.

## Example
```sql
ALTER TABLE users DROP COLUMN legacy_id;
```

## Instead
Two releases:
1. Stop reading and writing the column in the code (and tell the ORM to ignore it, e.g. Rails
   `ignored_columns`, Django `SeparateDatabaseAndState`), and release that.
2. In a later migration, once no running code knows the column, drop it, after checking that no
   report, view or job needs its data.

## Quick fix
None: the drop has to move to a later release.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let Some(at) = ctx.alter_of_existing_table() else { return };
    for action in &at.actions {
        let AlterAction::DropColumn { name, .. } = &action.action else { continue };
        if ctx.is_new_column(&at.table, &name.value) {
            continue;
        }
        let column = ctx.replayed_table(&at.table).and_then(|t| t.column(&name.value));
        if column.is_some_and(|c| ctx.undoes_own_creation(&c.history)) {
            // A down file taking back the column its own up file added.
            continue;
        }
        out.report(
            action.keyword_span,
            format!(
                "dropping `{table}.{name}` deletes its data for good, and the code that is still running selects or writes `{name}` and fails the moment this commits; stop reading and writing it in one release, then drop it in a later migration",
                table = at.table,
            ),
        );
    }
}
