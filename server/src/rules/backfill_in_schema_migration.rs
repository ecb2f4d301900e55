//! `backfill-in-schema-migration`: a data change of an existing table in a migration that also
//! changes the schema.

use crate::rules::context::{is_framework_ledger, is_system_catalog};
use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::sql::facts::QualifiedName;
use crate::sql::locks::{locks_taken, TableLock};
use crate::sql::{Dialect, StatementKind};

pub static RULE: Rule = Rule {
    id: "backfill-in-schema-migration",
    category: Category::AppSafety,
    default_severity: Severity::Warning,
    dialects: ALL_DIALECTS,
    summary: "UPDATE/DELETE/INSERT … SELECT of an existing table in a migration that also changes the schema",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
`UPDATE`, `DELETE` and `INSERT … SELECT` that change a table this migration did not create, in a
migration that also changes the schema (`CREATE TABLE`, `CREATE INDEX`, `ALTER TABLE`, `DROP …`,
`CREATE TRIGGER`).
`INSERT … VALUES` (seed rows) is fine, and so is filling a table created in the same migration.
Left alone as well: system catalogs (`pg_catalog.*`, `information_schema.*`, `pg_*` names), and a
table an earlier migration of the set created and seeded only with `INSERT … VALUES` (1 to 100
rows in all) (a lookup table such as plans or roles: the change is instant). A table that
existed before the migrations safemig sees, or got rows from `INSERT … SELECT` or `COPY`, or that no migration put rows in (the application fills it), keeps
the finding.

## Why it hurts
A schema change is quick; a data change takes as long as the table is big. Together they go wrong
in two ways:
- **Long locks.** In one transaction, the locks the schema change took (ACCESS EXCLUSIVE for most
  of `ALTER TABLE`: no reads, no writes) stay held until the backfill is done and the migration
  commits, and the backfill's own row locks are held just as long.
- **Hard recovery.** Without a transaction (MySQL commits every DDL statement implicitly), a
  backfill that fails or times out leaves the schema change applied and the migration marked
  failed: the data has to be repaired by hand before it can be retried. With one, the failure
  rolls back the schema change too, and every deploy retries the whole thing.

## Example
```sql
ALTER TABLE users ADD COLUMN email_normalized text;
UPDATE users SET email_normalized = lower(email);
```

## Instead
Keep the schema change, and move the data change to a migration of its own that runs in batches
(see `unbatched-backfill`):
```sql
-- migration 1
ALTER TABLE users ADD COLUMN email_normalized text;
-- migration 2, repeated until it changes no rows
UPDATE users SET email_normalized = lower(email)
WHERE id IN (SELECT id FROM users WHERE email_normalized IS NULL ORDER BY id LIMIT 10000);
```

## Quick fix
Rewrite the data change as a batched loop on the table's single-column primary key (known from
the earlier migrations): a `DO` block that walks the key in rounds of 5,000 rows (keyset
pagination) and runs the `UPDATE … SET` / `DELETE` of each round with the statement's `WHERE`
kept as written. Where it goes:
- a file run statement by statement, outside a transaction (plain files, goose `NO TRANSACTION`):
  in place, each round committed;
- an explicit `BEGIN … COMMIT`: after the `COMMIT`, each round committed (not offered when a later
  statement of the block names the table);
- the runner's transaction (goose, dbmate, sqlx, Atlas, Flyway, Diesel) or one query string
  (golang-migrate, Prisma): into a new migration right after this one, in the framework's naming,
  outside a transaction so that each round commits: the framework's opt-out (goose
  `-- +goose NO TRANSACTION` with `StatementBegin`/`StatementEnd` around the block, dbmate
  `transaction:false`, sqlx `-- no-transaction`, Atlas `-- atlas:txmode none`, a Flyway
  `.sql.conf`, Diesel `metadata.toml`), or for golang-migrate and Prisma a file that holds only
  the loop. Supabase and node-pg-migrate have no way out of the transaction: the loop there does
  not commit per round (its row locks last until the migration commits). Drizzle gets no new
  migration (only `drizzle-kit` writes its journal).

When a later statement of the migration names the table (a `SET NOT NULL` after the backfill),
it depends on the data change: it moves into the new migration after the loop, with every
statement after it, and that migration keeps its transaction (the loop then does not commit per
round); not offered when another data change is among them. **Unsafe**: rounds that commit
cannot roll back together (a failure half-way leaves the earlier rounds changed), each round sees
the rows as they are then, and `now()` differs between rounds.

Not batched (the loop would not reproduce it exactly): `UPDATE … FROM`, `DELETE … USING`,
`RETURNING`, a table alias, `ONLY`, an `UPDATE` of the key itself, a subquery that reads the same
table, `INSERT … SELECT`, a table without a single-column primary key, non-PostgreSQL dialects.
Those are moved unchanged instead, into a new migration right after this one (after a `COMMIT`
it would still run in a schema migration); this is offered as well for a batchable statement. **Safe** (same statements, same order; the schema change
commits first) when no later statement names the table; otherwise not offered. A statement inside
a goose `StatementBegin … StatementEnd` block gets no fix.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    if !ctx.migration.changes_schema() {
        return;
    }
    let (table, what) = match ctx.kind() {
        StatementKind::Update(d) => (&d.table, "UPDATE of"),
        StatementKind::Delete(d) => (&d.table, "DELETE from"),
        StatementKind::Insert(i) if i.from_select => (&i.table, "INSERT … SELECT into"),
        _ => return,
    };
    if ctx.is_new_table(table) || is_framework_ledger(table) || is_system_catalog(table) || ctx.only_seeded(table) {
        return;
    }
    // MySQL commits every DDL statement implicitly: no transaction spans schema and data.
    let in_transaction = ctx.transaction().is_some() && ctx.dialect() != Dialect::Mysql;
    let verb = ctx.facts().label.as_str();
    let why = match (in_transaction, held_lock(ctx, table)) {
        (true, Some(lock)) => format!(
            "the {mode} lock an earlier statement of this transaction took on `{locked}` ({blocks}) stays held until this {verb} finishes and the migration commits, and a failure in it rolls back the schema change too",
            mode = lock.mode,
            locked = lock.table,
            blocks = lock.mode.blocks(),
        ),
        (true, None) => "in one transaction with the schema change, it keeps every row it changes locked until the whole migration commits, and a failure in it rolls back the schema change too".to_string(),
        (false, _) => "outside a transaction, a failure or timeout partway leaves the migration half applied, with schema and data to repair by hand before it can be retried".to_string(),
    };
    out.report(
        ctx.facts().head,
        format!(
            "this {what} `{table}` runs in a migration that also changes the schema: {why}; move the data change to a migration of its own and run it in batches"
        ),
    );
}

/// A disruptive PostgreSQL lock on an existing table taken earlier in this statement's
/// transaction, preferring one on the table being backfilled.
fn held_lock(ctx: &StatementContext, table: &QualifiedName) -> Option<TableLock> {
    if ctx.dialect() != Dialect::Postgres {
        return None;
    }
    let locks: Vec<TableLock> = ctx
        .earlier()
        .filter(|(i, _)| ctx.same_transaction_as(*i))
        .flat_map(|(_, s)| locks_taken(s.kind()))
        .filter(|l| l.mode.is_disruptive() && !ctx.is_new_table(&l.table))
        .collect();
    let same_table = locks.iter().filter(|l| l.table.key() == table.key()).max_by_key(|l| l.mode).cloned();
    same_table.or_else(|| locks.into_iter().max_by_key(|l| l.mode))
}
