//! `migration-partially-applied`: a pending migration some of whose statements already show in
//! the dev database, in a runner that records nothing when a migration fails outside a
//! transaction (goose `-- +goose NO TRANSACTION`, statement-by-statement runners).
//!
//! A fact about the database, not about a statement: `Project::analyze_live` finds these
//! (`live::pending`, and `live::effects` for the statements) and calls [`message`]; the
//! statement-level check has nothing to do.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};

pub static RULE: Rule = Rule {
    id: "migration-partially-applied",
    category: Category::Live,
    default_severity: Severity::Error,
    dialects: POSTGRES,
    summary: "a pending migration that runs outside a transaction already shows in part in the dev database",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
A migration that the connected database's ledger does not list as applied (no row, or a row
rolled back), whose statements do not all run in one transaction — goose
`-- +goose NO TRANSACTION`, a runner that sends statements one by one — and some of whose
statements already show in the live schema while others do not. The message lists which
statements took effect and which did not.

Runners that write a failed, dirty or partial row when a migration stops half-way (Prisma,
golang-migrate, Flyway, Atlas) are `migration-failed`'s; so are migrations whose runner wraps
them in a transaction or sends them as one query string (PostgreSQL then runs them as one
implicit transaction): those cannot stop half-way, and objects of theirs that exist already
are `migration-will-fail`'s.

## Why it hurts
goose, dbmate, sqlx and Diesel write their ledger row only after a migration succeeds. When a
migration outside a transaction fails on its third statement, the first two stay applied and
the ledger says nothing: the next run starts the migration from the top and fails on the first
statement (`column "email" of relation "users" already exists`), and marking it applied by hand
leaves the rest missing.

## Example
```sql
-- +goose NO TRANSACTION
-- +goose Up
ALTER TABLE users ADD COLUMN email text;                 -- took effect
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);  -- failed: duplicate key
-- goose_db_version has no row for this migration
```

## Instead
```sql
-- A recovery migration completes what is left, guarded so that it can run again:
ALTER TABLE users ADD COLUMN IF NOT EXISTS email text;
DROP INDEX CONCURRENTLY IF EXISTS users_email_key;  -- the INVALID leftover, if any
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_key ON users (email);
```
then record the half-applied migration as applied with the runner's ledger.

## Quick fix
The same as `migration-failed`'s: a new migration in the framework's naming that completes the
statements that did not take effect (guarded: `IF NOT EXISTS`, `DO` blocks over the catalog,
`ON CONFLICT DO NOTHING` where a key allows it; data statements before the constraints that
check their rows), and the command that records the half-applied migration in the ledger.
Unsafe: review the statements the catalog cannot judge (data changes) before applying it.
"#;

fn check(_ctx: &StatementContext, _out: &mut Emitter) {}

/// The message, before the statement list: `runner` is the framework, `database` the database
/// name, `opted_out` the file's opt-out when it has one, `record` the ledger command.
pub fn message(runner: &str, database: &str, opted_out: Option<&str>, record: &str) -> String {
    let how = opted_out.map(|o| format!(" (`{o}`)")).unwrap_or_default();
    format!(
        "partly applied in the dev database `{database}`, with no ledger row: {runner} records a migration only \
         after it succeeds, and this one runs outside a transaction{how}, so a failure part-way left its first \
         statements applied. Running it again fails on what already exists: complete it with a recovery migration, \
         then record it: {record}."
    )
}
