//! `unbatched-backfill`: an `UPDATE` or `DELETE` of a whole existing table in one statement.

use crate::rules::context::is_framework_ledger;
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
at all is `truncate-table`'s business.

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
None: batching needs a loop outside a single SQL statement.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let (d, verb) = match ctx.kind() {
        StatementKind::Update(d) => (d, "UPDATE"),
        // Without any WHERE, a DELETE empties the table: truncate-table reports that.
        StatementKind::Delete(d) if d.where_clause.is_some() => (d, "DELETE"),
        _ => return,
    };
    if !d.whole_table || ctx.is_new_table(&d.table) || is_framework_ledger(&d.table) {
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
