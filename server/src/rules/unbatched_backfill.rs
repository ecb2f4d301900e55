//! `unbatched-backfill`: an `UPDATE` or `DELETE` of a whole existing table in one statement.

use crate::rules::context::{is_framework_ledger, is_system_catalog};
use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::sql::StatementKind;

pub static RULE: Rule = Rule {
    id: "unbatched-backfill",
    category: Category::AppSafety,
    default_severity: Severity::Warning,
    dialects: ALL_DIALECTS,
    summary: "UPDATE or DELETE of a whole existing table in one statement",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
`UPDATE` with no `WHERE`, and `UPDATE`/`DELETE` whose `WHERE` bounds no key range or batch
(`WHERE col IS NULL`, `WHERE true`, a join condition such as `orders.customer_id = c.id`), on a
table that this migration did not create. A `LIMIT` counts as a batch. A `DELETE` with no `WHERE`
at all is `truncate-table`'s business. Left alone: system catalogs (`pg_catalog.*`,
`information_schema.*`, `pg_*` names), and a table an earlier migration of the set created and
seeded only with `INSERT … VALUES` (1 to 100 rows in all) (a lookup table: one statement is
instant). A table that existed before the migrations safemig sees, or got rows from `INSERT …
SELECT` or `COPY`, or that no migration put rows in (the application fills it), keeps the
finding.

## Why it hurts
One statement is one transaction, however many rows it touches. On a big table it runs for
minutes to hours, and meanwhile:
- every row it changed stays locked until it commits, so the application's writes to those rows
  wait (and time out);
- PostgreSQL keeps every old row version until commit (table bloat, vacuum cannot keep up), and
  replicas fall behind replaying one huge transaction;
- if it fails or is cancelled, all of the work is rolled back, which takes as long again.

## Example
```sql
UPDATE users SET email_normalized = lower(email);
DELETE FROM events WHERE processed;
```

## Instead
Run it in batches, each in its own short transaction, from a migration (or a job) of its own:
```sql
-- repeat, moving the range, until the whole key range is done
UPDATE users SET email_normalized = lower(email) WHERE id >= 1 AND id < 10001;
UPDATE users SET email_normalized = lower(email) WHERE id >= 10001 AND id < 20001;
```

## Quick fix
Rewrite the statement as a batched loop on the table's single-column primary key (known from the
earlier migrations): a `DO` block that walks the key in rounds of 5,000 rows (keyset pagination)
and runs the `UPDATE … SET` / `DELETE` of each round with the `WHERE` kept as written.
- Alone in its file (or its up part): in place; in the runner's transaction with the framework's
  opt-out so each round commits (goose `-- +goose NO TRANSACTION` and `StatementBegin`/
  `StatementEnd`, dbmate `transaction:false`, sqlx `-- no-transaction`, Atlas
  `-- atlas:txmode none`, Flyway `.sql.conf`, Diesel `metadata.toml`); golang-migrate and Prisma
  run a one-statement file outside a transaction already; Supabase, Drizzle and node-pg-migrate
  keep their transaction and the loop does not commit per round.
- With other statements: in place when the file runs statement by statement, after the `COMMIT`
  of an explicit block, else in a new migration right after this one, as for
  `backfill-in-schema-migration` (later statements that name the table move along with it).

**Unsafe**: rounds that commit cannot roll back together (a failure half-way leaves the earlier
rounds changed), and each round sees the rows as they are then. No fix for what the loop would not
reproduce exactly (`UPDATE … FROM`, `DELETE … USING`, `RETURNING`, an alias, `ONLY`, an update of
the key, a subquery over the same table), a table without a single-column primary key, or a
statement inside a goose `StatementBegin … StatementEnd` block.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let (d, verb) = match ctx.kind() {
        StatementKind::Update(d) => (d, "UPDATE"),
        // Without any WHERE, a DELETE empties the table: truncate-table reports that.
        StatementKind::Delete(d) if d.where_clause.is_some() => (d, "DELETE"),
        _ => return,
    };
    if !d.whole_table
        || ctx.is_new_table(&d.table)
        || is_framework_ledger(&d.table)
        || is_system_catalog(&d.table)
        || ctx.only_seeded(&d.table)
    {
        return;
    }
    let scope = if d.where_clause.is_some() {
        format!("can touch every row of `{}` in one statement (its WHERE bounds no key range or batch size)", d.table)
    } else {
        format!("touches every row of `{}` in one statement", d.table)
    };
    out.report(
        ctx.facts().head,
        format!(
            "this {verb} {scope}: one long transaction that keeps every changed row locked until it commits, so the application's writes to them wait, while the table bloats and replicas fall behind; run it in batches by primary-key range (`WHERE id >= … AND id < …`, each batch committed on its own) in a migration of its own"
        ),
    );
}
