//! `drop-index-blocking`: `DROP INDEX` without `CONCURRENTLY`.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};
use crate::sql::facts::QualifiedName;
use crate::sql::locks::LockMode;
use crate::sql::StatementKind;

pub static RULE: Rule = Rule {
    id: "drop-index-blocking",
    category: Category::Locks,
    default_severity: Severity::Warning,
    dialects: POSTGRES,
    summary: "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock that blocks reads and writes of the table",
    docs: DOCS,
    check,
};

const DOCS: &str = concat!(
    r#"## What it flags
`DROP INDEX` without `CONCURRENTLY`, unless the index belongs to a table this migration created.

## Why it hurts
A plain `DROP INDEX` takes an ACCESS EXCLUSIVE lock on the index's table. The drop itself is quick,
but the lock has to wait for every running query on the table, and while it waits every new read
and write queues behind it: one slow report turns a millisecond drop into an outage. Inside a
transaction the lock is then held until commit.

## Example
```sql
DROP INDEX orders_customer_id_idx;
```

## Instead
```sql
-- in a migration that runs outside a transaction
DROP INDEX CONCURRENTLY orders_customer_id_idx;
```
`DROP INDEX CONCURRENTLY` waits for running transactions without blocking new ones. It cannot run
inside a transaction block (use your framework's opt-out or a migration of its own), it drops one
index per statement, and it does not accept `CASCADE`: drop the dependent objects first.

## Quick fix
Insert `CONCURRENTLY` after `INDEX`; not offered for `CASCADE` or several indexes in one
statement. Where the statement runs decides the rest:
"#,
    crate::rules::concurrently_fix_docs!()
);

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let StatementKind::DropIndex(di) = ctx.kind() else { return };
    if di.concurrently.is_some() {
        return;
    }
    // Each index with the table it was built on, when this migration built it.
    let targets: Vec<(&QualifiedName, Option<&QualifiedName>)> = di
        .names
        .iter()
        .map(|name| (name, ctx.table_of_index_built_earlier(name)))
        .filter(|(_, table)| !table.is_some_and(|t| ctx.is_new_table(t)))
        .collect();
    if targets.is_empty() {
        return;
    }
    let mode = LockMode::AccessExclusive;
    let names = backticked(targets.iter().map(|(n, _)| *n));
    let on = match targets.as_slice() {
        [(_, Some(table))] => format!("`{table}`"),
        [_] => "its table".to_string(),
        _ => "their tables".to_string(),
    };
    let instead = if di.cascade {
        "DROP INDEX CONCURRENTLY rejects CASCADE, so drop the dependent objects first, then use DROP INDEX CONCURRENTLY in a migration that runs outside a transaction"
    } else if di.names.len() > 1 {
        "use one DROP INDEX CONCURRENTLY per index (it drops a single index) in a migration that runs outside a transaction"
    } else {
        "use DROP INDEX CONCURRENTLY in a migration that runs outside a transaction"
    };
    let f = out.report(
        ctx.facts().head,
        format!("dropping {names} takes an {mode} lock on {on}, which {} until commit; {instead}", mode.blocks()),
    );
    if !di.cascade {
        f.with_fix(if di.names.len() > 1 {
            "Drop each index CONCURRENTLY in a statement of its own"
        } else {
            "Drop the index CONCURRENTLY"
        });
    }
}

/// "`a`", "`a` and `b`", "`a`, `b` and `c`".
fn backticked<'n>(names: impl Iterator<Item = &'n QualifiedName>) -> String {
    let names: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}
