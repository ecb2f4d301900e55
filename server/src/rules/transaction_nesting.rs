//! `transaction-nesting`: `BEGIN` inside a transaction (an explicit one or the migration
//! runner's), `COMMIT`/`ROLLBACK` with no transaction open, and `COMMIT`/`ROLLBACK` that ends the
//! runner's transaction.

use crate::rules::context::TxnOrigin;
use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::sql::facts::TransactionControl;
use crate::sql::{Dialect, StatementKind};

pub static RULE: Rule = Rule {
    id: "transaction-nesting",
    category: Category::Transactions,
    default_severity: Severity::Warning,
    dialects: ALL_DIALECTS,
    summary: "BEGIN inside a transaction, or COMMIT/ROLLBACK without one of its own",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
- `BEGIN` / `START TRANSACTION` while a transaction is already open: an earlier `BEGIN` in the
  file, or the transaction the migration runner wraps every migration in
  (`assume_in_transaction`, or what the framework is known to do).
- `COMMIT` / `ROLLBACK` when no transaction is open.
- `COMMIT` / `ROLLBACK` inside the runner's transaction: it ends the runner's transaction, not a
  block of the file's own.

## Why it hurts
Transactions do not nest. PostgreSQL ignores the inner `BEGIN` with a warning ("there is already
a transaction in progress"), so the `COMMIT` meant for the inner block commits the outer
transaction, and everything after it runs without one: a failure there leaves the migration half
applied. MySQL commits the open transaction implicitly when a new one begins. SQLite rejects the
inner `BEGIN` and the migration fails (so on SQLite this is reported as an error).

A `COMMIT` with no transaction open does nothing (PostgreSQL warns "there is no transaction in
progress"; SQLite fails): the statements before it already committed one by one, and a `ROLLBACK`
there undoes nothing. Inside the runner's transaction, `COMMIT` ends it early: the statements after
it run unprotected, and the runner's own `COMMIT` finds no transaction.

## Example
```sql
-- the runner already wraps the migration in a transaction
BEGIN;
ALTER TABLE users ADD COLUMN plan text;
COMMIT;
```

## Instead
Let exactly one party manage the transaction. When the runner wraps migrations, remove
`BEGIN`/`COMMIT` from the file; when a statement must run outside a transaction
(`CREATE INDEX CONCURRENTLY`), use the framework's opt-out (goose `-- +goose NO TRANSACTION`,
Rails `disable_ddl_transaction!`, Django `atomic = False`, …) instead of committing the runner's
transaction by hand. In a file that manages its own transactions, close each `BEGIN` before the
next one.

## Quick fix
None.
"#;

const OPT_OUT: &str = "remove it, or opt this migration out of the runner's transaction";

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let StatementKind::Transaction(tc) = ctx.kind() else { return };
    let dialect = ctx.dialect();
    let head = ctx.facts().head;
    // A SQLite migration with a stray BEGIN/COMMIT fails outright: that is an error.
    let fails = |out: &mut Emitter, message: String| {
        if dialect == Dialect::Sqlite {
            out.report_at(Severity::Error, head, message);
        } else {
            out.report(head, message);
        }
    };
    match tc {
        TransactionControl::Begin => match (ctx.transaction(), ctx.explicit_block_open()) {
            (Some(TxnOrigin::Runner), _) => fails(out, runner_begin(dialect)),
            (Some(TxnOrigin::Explicit(_)), _) | (Some(TxnOrigin::ImplicitBatch), true) => {
                fails(out, nested_begin(dialect))
            }
            // In a batch sent as one query, BEGIN turns the implicit transaction into an explicit one.
            (Some(TxnOrigin::ImplicitBatch), false) | (None, _) => {}
        },
        TransactionControl::Commit | TransactionControl::Rollback => {
            let rollback = *tc == TransactionControl::Rollback;
            match (ctx.transaction(), ctx.explicit_block_open()) {
                (None, _) => fails(out, no_transaction(dialect, rollback)),
                (Some(TxnOrigin::Runner), _) => {
                    out.report(head, ends_runner_transaction(dialect, rollback));
                }
                (Some(TxnOrigin::ImplicitBatch), false) => {
                    out.report(head, ends_implicit_batch(rollback));
                }
                (Some(TxnOrigin::Explicit(_)), _) | (Some(TxnOrigin::ImplicitBatch), true) => {}
            }
        }
        _ => {}
    }
}

fn nested_begin(dialect: Dialect) -> String {
    match dialect {
        Dialect::Postgres => "a transaction is already open here (the BEGIN before it was not committed): PostgreSQL ignores this BEGIN with a warning (\"there is already a transaction in progress\"), so the COMMIT meant for this block commits the outer transaction and the statements after it run without one; COMMIT the first transaction before beginning the next".into(),
        Dialect::Mysql => "a transaction is already open here (the BEGIN before it was not committed): MySQL commits it implicitly when this one begins, so the statements before this BEGIN can no longer be rolled back with the ones after it; COMMIT the first transaction before beginning the next".into(),
        Dialect::Sqlite => "a transaction is already open here (the BEGIN before it was not committed), and SQLite rejects this BEGIN (\"cannot start a transaction within a transaction\"): the migration fails; COMMIT the first transaction before beginning the next".into(),
    }
}

fn runner_begin(dialect: Dialect) -> String {
    let effect = match dialect {
        Dialect::Postgres => "PostgreSQL ignores this BEGIN with a warning (\"there is already a transaction in progress\"), and the COMMIT meant for it ends the runner's transaction early, so what follows runs unprotected",
        Dialect::Mysql => "MySQL commits the runner's transaction implicitly when this one begins, so the statements before it can no longer be rolled back with the ones after it",
        Dialect::Sqlite => "SQLite rejects this BEGIN (\"cannot start a transaction within a transaction\") and the migration fails",
    };
    format!("the migration runner already wraps this migration in a transaction: {effect}; remove BEGIN and COMMIT from the file, or opt this migration out of the runner's transaction")
}

fn no_transaction(dialect: Dialect, rollback: bool) -> String {
    let (verb, lost) = if rollback {
        ("ROLLBACK", "undoes nothing: everything before it has already been committed")
    } else {
        ("COMMIT", "does nothing: everything before it has already been committed")
    };
    match dialect {
        Dialect::Postgres => format!("no transaction is open here, so this {verb} only warns \"there is no transaction in progress\" and {lost}; remove it, or add the BEGIN it was meant to close"),
        Dialect::Mysql => format!("no transaction is open here, so this {verb} {lost}; remove it, or add the BEGIN it was meant to close"),
        Dialect::Sqlite => format!(
            "no transaction is open here, and SQLite rejects this {verb} (\"cannot {} - no transaction is active\"): the migration fails; remove it, or add the BEGIN it was meant to close",
            verb.to_lowercase()
        ),
    }
}

fn ends_runner_transaction(dialect: Dialect, rollback: bool) -> String {
    let first = if rollback {
        "this ROLLBACK undoes everything the migration did before it, in the transaction the migration runner opened, yet the runner may still record the migration as applied"
    } else {
        "this COMMIT ends the transaction the migration runner opened"
    };
    let after = match dialect {
        Dialect::Postgres => "the statements after it run outside any transaction (a failure there leaves the migration half applied), and the runner's own COMMIT warns \"there is no transaction in progress\"",
        _ => "the statements after it run outside any transaction (a failure there leaves the migration half applied), and the runner's own COMMIT finds no transaction",
    };
    format!("{first}: {after}; {OPT_OUT}")
}

fn ends_implicit_batch(rollback: bool) -> String {
    let first = if rollback {
        "this ROLLBACK undoes the statements before it"
    } else {
        "this COMMIT commits the statements before it early"
    };
    format!(
        "the runner sends this file as one implicit transaction and no BEGIN opened a block here: {first} (PostgreSQL warns \"there is no transaction in progress\"), and the statements after it run in a separate transaction, so a failure there leaves the migration half applied; remove it, or add the BEGIN it was meant to close"
    )
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::engine::analyze;
    use crate::rules::MigrationSettings;

    /// Findings of this rule for a file sent as one implicit transaction (golang-migrate style).
    fn implicit_batch(sql: &str) -> Vec<String> {
        let settings = MigrationSettings { implicit_transaction: true, ..MigrationSettings::default() };
        let analysis = analyze(sql, &settings, &Config::default(), None);
        analysis
            .findings
            .iter()
            .filter(|f| f.rule == super::RULE.id)
            .map(|f| sql[f.range.clone()].to_string())
            .collect()
    }

    #[test]
    fn an_implicit_batch_may_open_its_own_block() {
        assert!(
            implicit_batch("BEGIN;\nALTER TABLE t ADD COLUMN c int;\nCOMMIT;\nBEGIN;\nSELECT 1;\nCOMMIT;").is_empty()
        );
    }

    #[test]
    fn an_implicit_batch_flags_stray_commits_and_nested_begins() {
        assert_eq!(implicit_batch("ALTER TABLE t ADD COLUMN c int;\nCOMMIT;\nSELECT 1;"), ["COMMIT"]);
        assert_eq!(implicit_batch("BEGIN;\nSELECT 1;\nBEGIN;\nSELECT 2;\nCOMMIT;"), ["BEGIN"]);
    }
}
