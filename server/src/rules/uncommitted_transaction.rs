//! `uncommitted-transaction`: a `BEGIN` that nothing later in the file commits or rolls back.

use crate::rules::context::TxnOrigin;
use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::sql::facts::TransactionControl;
use crate::sql::StatementKind;

pub static RULE: Rule = Rule {
    id: "uncommitted-transaction",
    category: Category::Transactions,
    default_severity: Severity::Warning,
    dialects: ALL_DIALECTS,
    summary: "BEGIN with no COMMIT or ROLLBACK after it",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
`BEGIN` / `START TRANSACTION` that opens a transaction which no later `COMMIT` (`END`) or
`ROLLBACK` in the file closes. When the migration runner wraps the migration in a transaction,
its own `COMMIT` closes what is open at the end (a stray `BEGIN` or `COMMIT` there is
`transaction-nesting`'s business), and of nested `BEGIN`s only the one that opened the
transaction is reported.

## Why it hurts
The migration's changes stay uncommitted, and their locks stay held, until something else ends the
transaction: a disconnect rolls everything back (the migration silently did nothing), and whatever
the runner executes next (recording the migration as applied, the next migration) joins the open
transaction. Usually the `COMMIT` was simply forgotten, or lost in a merge.

## Example
```sql
BEGIN;
ALTER TABLE users ADD COLUMN plan text;
```

## Instead
```sql
BEGIN;
ALTER TABLE users ADD COLUMN plan text;
COMMIT;
```

## Quick fix
None.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    if !matches!(ctx.kind(), StatementKind::Transaction(TransactionControl::Begin)) {
        return;
    }
    // Only the BEGIN that opens a transaction: not one nested in the runner's or in another BEGIN's.
    let opens = match ctx.transaction() {
        None => true,
        Some(TxnOrigin::ImplicitBatch) => !ctx.explicit_block_open(),
        Some(TxnOrigin::Runner | TxnOrigin::Explicit(_)) => false,
    };
    if !opens {
        return;
    }
    let closed = ctx.later().any(|(_, s)| {
        matches!(s.kind(), StatementKind::Transaction(TransactionControl::Commit | TransactionControl::Rollback))
    });
    // The runner's own COMMIT at the end closes it (the re-opening BEGIN after a hand-written
    // COMMIT; transaction-nesting reports that COMMIT).
    if closed || ctx.settings().wraps_in_transaction {
        return;
    }
    out.report(
        ctx.facts().head,
        "this BEGIN opens a transaction that nothing in the file commits: the migration's changes and locks stay pending until something else ends it (a disconnect rolls everything back, and whatever the runner executes next joins the open transaction); add COMMIT after the last statement",
    );
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::engine::analyze;
    use crate::rules::MigrationSettings;

    fn implicit_batch(sql: &str) -> usize {
        let settings = MigrationSettings { implicit_transaction: true, ..MigrationSettings::default() };
        analyze(sql, &settings, &Config::default(), None).findings.iter().filter(|f| f.rule == super::RULE.id).count()
    }

    #[test]
    fn a_begin_in_an_implicit_batch_still_needs_its_commit() {
        // BEGIN turns the batch's implicit transaction into an explicit one that stays open.
        assert_eq!(implicit_batch("BEGIN;\nALTER TABLE t ADD COLUMN c int;\nSELECT 1;"), 1);
        assert_eq!(implicit_batch("BEGIN;\nALTER TABLE t ADD COLUMN c int;\nCOMMIT;"), 0);
    }
}
