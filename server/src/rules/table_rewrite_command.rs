//! `table-rewrite-command`: `VACUUM FULL`, `CLUSTER` and `ALTER TABLE … SET TABLESPACE`, which
//! rewrite whole tables under an ACCESS EXCLUSIVE lock.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};
use crate::sql::facts::{AlterAction, QualifiedName};
use crate::sql::locks::LockMode;
use crate::sql::StatementKind;

pub static RULE: Rule = Rule {
    id: "table-rewrite-command",
    category: Category::Locks,
    default_severity: Severity::Warning,
    dialects: POSTGRES,
    summary: "VACUUM FULL, CLUSTER and SET TABLESPACE rewrite the table under an ACCESS EXCLUSIVE lock",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
`VACUUM FULL`, `CLUSTER` and `ALTER TABLE … SET TABLESPACE`, except on tables this migration
created.

## Why it hurts
Each of them copies the whole table into new files (`VACUUM FULL` and `CLUSTER` also rebuild its
indexes) while holding an ACCESS EXCLUSIVE lock: nothing can read or write the table until the copy finishes, which on a
large table takes minutes to hours, and needs disk space for a second copy. `VACUUM FULL` and
`CLUSTER` without a table name process every table they apply to in the database.

## Example
```sql
VACUUM FULL events;
CLUSTER orders USING orders_created_at_idx;
ALTER TABLE measurements SET TABLESPACE fast_ssd;
```

## Instead
- Reclaim space or re-order rows online with the `pg_repack` extension
  (`pg_repack --table events`, `--order-by` for `CLUSTER`, `--tablespace` to move a table); it
  holds the strong lock only for a moment at the start and the end.
- On PostgreSQL 19+, `REPACK (CONCURRENTLY)` does the same in core.
- Often plain `VACUUM` (no lock on reads or writes) is enough: it makes the space reusable without
  returning it to the operating system.
- Run maintenance like this outside schema migrations, where its duration cannot block a deploy.

## Quick fix
None: the online alternatives run outside the migration.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let mode = LockMode::AccessExclusive;
    let all_new = |tables: &[QualifiedName]| !tables.is_empty() && tables.iter().all(|t| ctx.is_new_table(t));
    let online = if ctx.pg_at_least(19) {
        "use REPACK (CONCURRENTLY) or pg_repack instead, which hold the lock only briefly"
    } else {
        "use the pg_repack extension instead (or REPACK (CONCURRENTLY) on PostgreSQL 19+), which holds the lock only briefly"
    };
    match ctx.kind() {
        StatementKind::Vacuum { full: true, tables } if !all_new(tables) => {
            out.report(
                ctx.facts().head,
                format!(
                    "VACUUM FULL rewrites {} under an {mode} lock, which {} until the rewrite finishes; {online}, or plain VACUUM to make the space reusable",
                    targets(tables, "every table in the database"),
                    mode.blocks(),
                ),
            );
        }
        StatementKind::Cluster { table } if !table.as_ref().is_some_and(|t| ctx.is_new_table(t)) => {
            let tables: Vec<QualifiedName> = table.iter().cloned().collect();
            out.report(
                ctx.facts().head,
                format!(
                    "CLUSTER rewrites {} in index order under an {mode} lock, which {} until the rewrite finishes; {online}",
                    targets(&tables, "every previously clustered table in the database"),
                    mode.blocks(),
                ),
            );
        }
        StatementKind::AlterTable(at) if !ctx.is_new_table(&at.table) => {
            for action in at.actions.iter().filter(|a| matches!(a.action, AlterAction::SetTablespace)) {
                out.report(
                    action.keyword_span,
                    format!(
                        "SET TABLESPACE copies every data file of `{}` under an {mode} lock, which {} until the copy finishes; move it online with pg_repack --tablespace instead",
                        at.table,
                        mode.blocks(),
                    ),
                );
            }
        }
        _ => {}
    }
}

/// "`a`", "`a` and `b`", or what an unqualified command processes.
fn targets(tables: &[QualifiedName], everything: &str) -> String {
    match tables {
        [] => everything.to_string(),
        [one] => format!("`{one}`"),
        _ => {
            let names: Vec<String> = tables.iter().map(|t| format!("`{t}`")).collect();
            names.join(", ")
        }
    }
}
