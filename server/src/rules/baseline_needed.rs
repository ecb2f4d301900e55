//! `baseline-needed`: a dev database that already holds every object of the set's first
//! migration(s) but has no ledger rows for them.
//!
//! A fact about the database, not about a statement: `Project::analyze_live` checks it
//! (`live::pending::holds_created`) and calls [`message`] with the framework's baseline command
//! (`LedgerSpec::baseline`); the statement-level check has nothing to do.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};

pub static RULE: Rule = Rule {
    id: "baseline-needed",
    category: Category::Live,
    default_severity: Severity::Error,
    dialects: POSTGRES,
    summary: "the dev database holds the first migrations' objects but its ledger does not list them",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
A connected database whose schema already holds every table, view and column that the set's
first migration creates (and those of the migrations after it, as far as that holds), but whose
ledger has no rows: no ledger table, or an empty one. The schema was built by `prisma db push`,
by hand, by a dump, or by another tool. The message names the framework's baseline command:

| framework | command |
|---|---|
| Prisma | `prisma migrate resolve --applied <migration>` for each (what P3005 asks for) |
| Flyway | `flyway -baselineVersion=<version> baseline` |
| golang-migrate | `migrate -path <dir> -database "$DATABASE_URL" force <version>` |
| Atlas | `atlas migrate set <version> --url "$DATABASE_URL" --dir "file://<dir>"` |
| Supabase | `supabase migration repair --status applied <version>` for each |
| node-pg-migrate | `node-pg-migrate up <count> --fake` |
| goose | no command: `goose … version` creates `goose_db_version`, then an `INSERT` (labelled SQL) |
| dbmate, sqlx, Diesel, Drizzle, pop | no command: the `INSERT` into the ledger table (labelled SQL, with sqlx's and Drizzle's checksums) |

## Why it hurts
The runner sees an empty ledger and starts from the first migration: `CREATE TABLE users` fails
with `relation "users" already exists`, and Prisma refuses to deploy at all (P3005, "The
database schema is not empty"). Deleting the data to let the migrations run is the wrong fix.

## Example
```sql
-- 0001_init.up.sql
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
-- the dev database has `users (id, email)`, made by `db push`, and no schema_migrations table
```

## Instead
Record the migrations the database already reflects as applied, without running them (the
command above), and let the runner apply the rest.

## Quick fix
None: the message gives the command; it changes the ledger, so run it yourself.
"#;

fn check(_ctx: &StatementContext, _out: &mut Emitter) {}

/// The message: the database `database` holds the objects of `covered` (file labels of the
/// first migrations); `runner` and its `ledger` table have no rows; `command` records them.
pub fn message(database: &str, covered: &[String], runner: &str, ledger: &str, command: &str) -> String {
    const SHOWN: usize = 5;
    let mut names = covered.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if covered.len() > SHOWN {
        names.push_str(&format!(" and {} more", covered.len() - SHOWN));
    }
    let first = match covered.len() {
        1 => "the first migration".to_string(),
        n => format!("the first {n} migrations"),
    };
    format!(
        "the dev database `{database}` already holds every table, view and column of {first} ({names}), but has no \
         {runner} ledger rows (`{ledger}` is missing or empty): {runner} would run them again and fail on what \
         exists. Record them as applied without running them: {command}"
    )
}
