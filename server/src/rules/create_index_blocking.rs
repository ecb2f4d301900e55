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

const DOCS: &str = r#"## What it flags
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
- outside any transaction: only the keyword;
- inside `BEGIN … COMMIT` in the file: the statement moves after the `COMMIT`;
- in the runner's transaction, alone in its part of the file: the framework's opt-out — goose
  `-- +goose NO TRANSACTION`, sqlx `-- no-transaction`, Atlas `-- atlas:txmode none` (then run
  `atlas migrate hash`), dbmate `transaction:false` on the block's directive, Flyway
  `executeInTransaction=false` in the script's `.sql.conf`, Diesel `run_in_transaction = false` in
  `metadata.toml` (created, or the key set in the existing file);
- in the runner's transaction with other statements, or in a file the runner sends as one query
  string (golang-migrate, Prisma): the statement moves into a new migration right after this one,
  named in the framework's way (`0004_….up.sql`, `20240102120001_…/migration.sql`, `V3__….sql` with
  its `.sql.conf`, …) and opted out where the framework needs it. For goose, Atlas and Flyway,
  which run statements one by one, the opt-out for the whole file is offered too;
- Supabase, Drizzle and node-pg-migrate SQL files always run in a transaction: no fix.

**Safe** when the statement only gains the keyword, or moves without passing a later statement
that names its table or index, and no other statement loses its transaction. **Unsafe** when it
moves past such a statement (what that statement does may change), or when the opt-out takes the
migration's other statements out of their transaction (they no longer roll back together).
`check --fix` applies the safe ones; `--fix --unsafe` and the editor apply both.
"#;

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
