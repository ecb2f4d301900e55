//! `create-index-blocking`: `CREATE INDEX` without `CONCURRENTLY` on an existing table.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};
use crate::sql::locks::LockMode;
use crate::sql::StatementKind;

pub static RULE: Rule = Rule {
    id: "create-index-blocking",
    category: Category::Locks,
    default_severity: Severity::Warning,
    dialects: POSTGRES,
    summary: "CREATE INDEX without CONCURRENTLY blocks writes to an existing table for the whole build",
    docs: DOCS,
    check,
};

const DOCS: &str = concat!(
    r#"## What it flags
`CREATE INDEX` (or `CREATE UNIQUE INDEX`) without `CONCURRENTLY` on a table that this migration did
not create.

## Why it hurts
A plain index build takes a SHARE lock on the table: reads continue, but every `INSERT`, `UPDATE`
and `DELETE` waits until the build finishes, which on a large table means minutes of failed or
queued writes.

## Example
```sql
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
```

## Instead
```sql
-- in a migration that runs outside a transaction
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
```
`CONCURRENTLY` cannot run inside a transaction block: use your framework's opt-out (goose
`-- +goose NO TRANSACTION`, Rails `disable_ddl_transaction!`, Django `atomic = False`, …) or give the
statement a migration of its own. Do not add `IF NOT EXISTS` to a concurrent build: a failed build
leaves an INVALID index behind that `IF NOT EXISTS` would silently keep.

## Quick fix
Insert `CONCURRENTLY` after `INDEX`. Where the statement runs decides the rest:
"#,
    crate::rules::concurrently_fix_docs!()
);

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let StatementKind::CreateIndex(ci) = ctx.kind() else { return };
    if ci.concurrently.is_some() || ctx.is_new_table(&ci.table) {
        return;
    }
    let mode = LockMode::Share;
    let f = out.report(
        ctx.facts().head,
        format!(
            "building this index takes a {mode} lock on `{}`, which {} until the build finishes; use CREATE {}INDEX CONCURRENTLY in a migration that runs outside a transaction",
            ci.table,
            mode.blocks(),
            if ci.unique { "UNIQUE " } else { "" },
        ),
    );
    f.with_fix("Build the index CONCURRENTLY");
}
