//! `reindex-blocking`: `REINDEX` without `CONCURRENTLY` where PostgreSQL offers it (12+).

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};
use crate::sql::locks::LockMode;
use crate::sql::StatementKind;

pub static RULE: Rule = Rule {
    id: "reindex-blocking",
    category: Category::Locks,
    default_severity: Severity::Warning,
    dialects: POSTGRES,
    summary:
        "REINDEX without CONCURRENTLY blocks writes to the table and every query that uses the index being rebuilt",
    docs: DOCS,
    check,
};

const DOCS: &str = concat!(
    r#"## What it flags
`REINDEX INDEX`, `REINDEX TABLE`, `REINDEX SCHEMA` or `REINDEX DATABASE` without `CONCURRENTLY`,
when the configured PostgreSQL version is 12 or later (earlier versions have no concurrent
rebuild). `REINDEX SYSTEM` is left alone: system catalogs cannot be reindexed concurrently. So are
indexes and tables this migration created.

## Why it hurts
A plain `REINDEX` holds a SHARE lock on the table, which blocks every `INSERT`, `UPDATE` and
`DELETE` for the whole rebuild, and an ACCESS EXCLUSIVE lock on the index being rebuilt, which
blocks every query that would use it. In practice that is most reads too: planning any query on
the table opens all of its indexes. On a large table the rebuild takes minutes.

## Example
```sql
REINDEX INDEX orders_customer_id_idx;
```

## Instead
```sql
-- PostgreSQL 12+, in a migration that runs outside a transaction
REINDEX INDEX CONCURRENTLY orders_customer_id_idx;
```
The concurrent rebuild builds a new index next to the old one and swaps them, taking only SHARE
UPDATE EXCLUSIVE locks. It cannot run inside a transaction block. If it fails it leaves an INVALID
`…_ccnew` index behind: drop it and run the rebuild again.

## Quick fix
Insert `CONCURRENTLY` after `INDEX`, `TABLE`, `SCHEMA` or `DATABASE`. Where the statement runs decides the rest:
"#,
    crate::rules::concurrently_fix_docs!()
);

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let StatementKind::Reindex(r) = ctx.kind() else { return };
    if r.concurrently.is_some() || !ctx.pg_at_least(12) {
        return;
    }
    let target = r.target.as_str();
    let new_object = match (target, &r.name) {
        ("TABLE", Some(table)) => ctx.is_new_table(table),
        ("INDEX", Some(index)) => ctx.table_of_index_built_earlier(index).is_some_and(|t| ctx.is_new_table(t)),
        _ => false,
    };
    // Only `REINDEX DATABASE` may leave out the name (PostgreSQL 15+: the current database).
    let complete = r.name.is_some() || target == "DATABASE";
    if new_object || !complete || !matches!(target, "INDEX" | "TABLE" | "SCHEMA" | "DATABASE") {
        return;
    }
    let table_lock = LockMode::Share;
    let index_lock = LockMode::AccessExclusive;
    let name = r.name.as_ref().map(|n| format!("`{n}`"));
    let what = match (target, name) {
        ("INDEX", Some(n)) => format!("a {table_lock} lock on the table of {n}"),
        ("TABLE", Some(n)) => format!("a {table_lock} lock on {n}"),
        ("SCHEMA", Some(n)) => format!("a {table_lock} lock on each table of schema {n} in turn"),
        ("DATABASE", Some(n)) => format!("a {table_lock} lock on each table of database {n} in turn"),
        _ => format!("a {table_lock} lock on each table of the current database in turn"),
    };
    let uses = if target == "INDEX" {
        "any query that would use the index waits on its"
    } else {
        "queries that would use an index wait on its"
    };
    let f = out.report(
        ctx.facts().head,
        format!(
            "REINDEX {target} holds {what}, which {}, but {uses} {index_lock} lock until the rebuild finishes. Use REINDEX {target} CONCURRENTLY in a migration that runs outside a transaction.",
            table_lock.blocks(),
        ),
    );
    f.with_fix("Rebuild CONCURRENTLY");
}
