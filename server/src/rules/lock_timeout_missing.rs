//! `lock-timeout-missing`: the first statement that takes a disruptive lock on an existing table
//! while no `lock_timeout` is in effect.

use std::cmp::Reverse;

use crate::rules::{Category, Emitter, MigrationContext, Rule, Severity, StatementContext, POSTGRES};
use crate::sql::locks::{locks_taken, LockMode, TableLock};
use crate::sql::StatementKind;

pub static RULE: Rule = Rule {
    id: "lock-timeout-missing",
    category: Category::Locks,
    default_severity: Severity::Warning,
    dialects: POSTGRES,
    summary: "a strong lock taken without SET lock_timeout queues every later query on the table while it waits",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
The first statement in a migration that takes an ACCESS EXCLUSIVE or SHARE ROW EXCLUSIVE lock on a
table this migration did not create (most `ALTER TABLE`s, `DROP TABLE`, `TRUNCATE`, a foreign key
to an existing parent, …) when no `SET [LOCAL] lock_timeout` is in effect: none precedes it, it was
set to `0`, or a `SET LOCAL` ended with its transaction. Only the first such statement is
reported: one `SET` before it covers the rest. Off when the config says the runner sets timeouts
(`runner_sets_timeouts = true`).

## Why it hurts
Even an instant schema change must first get its lock, and it cannot while any other transaction
(a long report, a stuck worker, an idle-in-transaction session) holds a conflicting lock on the
table. While it waits, PostgreSQL queues every later query on that table behind it, reads included:
a one-millisecond `ALTER TABLE` turns into an outage as long as the slowest transaction. A
`lock_timeout` makes the migration give up quickly instead, so it can be retried.

## Example
```sql
ALTER TABLE users ADD COLUMN nickname text;
```

## Instead
```sql
SET lock_timeout = '5s';
ALTER TABLE users ADD COLUMN nickname text;
```
Retry the migration when it times out (some runners do this for you). Use `SET LOCAL` inside a
transaction to scope the setting to it.

## Quick fix
Insert `SET lock_timeout = '<lock_timeout from config, default 5s>';` on a line of its own before
the statement, with its indentation. Inside a transaction (an explicit block, the runner's, or a
file the runner sends as one query string) it is `SET LOCAL`, which ends with the transaction.
**Safe**: the schema ends the same; the migration fails fast instead of queueing the table's
queries while it waits, so it may need a retry.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    if ctx.settings().runner_sets_timeouts {
        return;
    }
    let Some(lock) = disruptive_lock(ctx) else { return };
    let first = ctx.migration.memo(RULE.id, |m| first_unprotected(m, m.file.statements.len()));
    let Some((first, why)) = *first else { return };
    if first != ctx.index {
        return;
    }
    let table = &lock.table;
    let mode = lock.mode;
    let why = why.map(|w| format!(" ({w})")).unwrap_or_default();
    // A waiting request queues everything that conflicts with it: reads too for ACCESS EXCLUSIVE.
    let queued = if mode == LockMode::AccessExclusive { "query on" } else { "write to" };
    out.report(
        ctx.facts().head,
        format!(
            "this statement waits for {} {mode} lock on `{table}` with no lock_timeout in effect{why}: until it gets the lock, every later {queued} `{table}` queues behind it, and the lock itself {}; SET lock_timeout first so the migration fails fast and can be retried",
            article(mode),
            mode.blocks(),
        ),
    )
    .with_fix(format!("Insert `SET lock_timeout = '{}'` before this statement", ctx.settings().lock_timeout));
}

fn article(mode: LockMode) -> &'static str {
    if mode.name().starts_with(['A', 'E']) {
        "an"
    } else {
        "a"
    }
}

/// The strongest disruptive lock the statement takes on a table that already existed.
fn disruptive_lock(ctx: &StatementContext) -> Option<TableLock> {
    locks_taken(ctx.kind())
        .into_iter()
        .filter(|l| l.mode.is_disruptive() && !ctx.is_new_table(&l.table))
        .min_by_key(|l| Reverse(l.mode))
}

/// Whether a statement at `index` that took a disruptive lock (a fix's rewrite of it) would add
/// no finding of this rule: a `lock_timeout` is in effect there, an earlier statement is the one
/// reported already, or the runner sets timeouts.
pub fn covered_at(migration: &MigrationContext, index: usize) -> bool {
    migration.settings.runner_sets_timeouts
        || first_unprotected_as(migration, index, Some(index)).is_none_or(|(first, _)| first != index)
}

/// The first statement up to `until` that takes a disruptive lock on an existing table with no
/// `lock_timeout` in effect, and why an earlier `SET lock_timeout` does not cover it.
fn first_unprotected(migration: &MigrationContext, until: usize) -> Option<(usize, Option<&'static str>)> {
    first_unprotected_as(migration, until, None)
}

/// [`first_unprotected`], as if statement `locking` took a disruptive lock.
fn first_unprotected_as(
    migration: &MigrationContext,
    until: usize,
    locking: Option<usize>,
) -> Option<(usize, Option<&'static str>)> {
    // (statement index of the SET, SET LOCAL)
    let mut timeout: Option<(usize, bool)> = None;
    let mut why = None;
    for index in 0..(until + 1).min(migration.file.statements.len()) {
        let ctx = migration.statement(index);
        if let StatementKind::Set(p) = ctx.kind() {
            if p.name == "lock_timeout" {
                let disables = waits_forever(&p.value);
                timeout = (!disables).then_some((index, p.local));
                why = disables.then_some("lock_timeout is set to wait forever");
            }
            continue;
        }
        let protected = match timeout {
            Some((at, true)) if !ctx.same_transaction_as(at) => {
                why = Some("the SET LOCAL lock_timeout ended with its transaction");
                false
            }
            Some(_) => true,
            None => false,
        };
        if !protected && (locking == Some(index) || disruptive_lock(&ctx).is_some()) {
            return Some((index, why));
        }
    }
    None
}

/// `0` (in any unit) and `DEFAULT` mean no timeout.
fn waits_forever(value: &str) -> bool {
    let v = value.trim().trim_matches('\'').trim();
    if v.eq_ignore_ascii_case("default") {
        return true;
    }
    let digits: String = v.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    !digits.is_empty() && digits.parse::<f64>().is_ok_and(|n| n == 0.0)
}

#[cfg(test)]
mod tests {
    use super::waits_forever;

    #[test]
    fn zero_and_default_wait_forever() {
        for v in ["0", "0ms", "'0s'", "DEFAULT", "0.0"] {
            assert!(waits_forever(v), "{v}");
        }
        for v in ["5s", "100", "'2s'", "1min", ""] {
            assert!(!waits_forever(v), "{v}");
        }
    }
}
