//! `object-does-not-exist`: altering, dropping, indexing or referencing a table or column that no
//! earlier migration creates, or that one dropped or renamed.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::schema::{Baseline, Gone, Missing, ObjectRef, ReplayEvent};

pub static RULE: Rule = Rule {
    id: "object-does-not-exist",
    category: Category::History,
    default_severity: Severity::Warning,
    dialects: ALL_DIALECTS,
    summary: "alters, drops, indexes or references a table or column that no earlier migration creates",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
`ALTER TABLE`, `DROP TABLE` (without `IF EXISTS`), `CREATE INDEX`, `REFERENCES` and column changes
(`DROP COLUMN`, `ALTER COLUMN`, `RENAME COLUMN`, the columns of a key or index) naming a table or
column that does not exist at that point: no earlier migration of the set creates it, or one dropped
or renamed it since. A column counts as missing only on a table whose full column list safemig
has seen. `IF EXISTS` keeps the statement quiet.

When the set does not start from an empty database — it uses several tables that no migration
creates, or its first migration alters tables nobody created — the set starts from a baseline
safemig cannot see: a table missing from the replay is then assumed to exist there, and reported
once, at **info**, saying so. Tables in schemas the set never creates anything in (Supabase's
`auth.users`, extensions) are assumed to exist. A file checked on its own only knows what it does
itself: it is flagged when it uses what it dropped or renamed, or a column its own `CREATE TABLE`
does not have.

## Why it hurts
PostgreSQL rejects the statement with `relation "…" does not exist` or `column "…" does not
exist`, the migration fails and the deploy stops. Typical causes: a typo, a migration written
against a local database that has a table no migration creates, a rename the rest of the code base
has not caught up with, or two branches that each assume the other's migration.

## Example
```sql
-- 0004_rename.sql
ALTER TABLE customers RENAME TO clients;
-- 0007_index.sql
CREATE INDEX customers_email_idx ON customers (email);  -- 0004_rename.sql:2 renamed it to clients
```

## Instead
Use the name the schema has at that point (`clients`), create the object in an earlier migration,
or guard a drop that may find nothing with `IF EXISTS`.

## Quick fix
None: which name was meant is for a person to decide (the message suggests the closest column).

The default severity is **warning**: replay cannot see DDL that functions, `DO` blocks or the
application run.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let events = ctx.replay_events();
    for event in events.of(ctx.index) {
        let ReplayEvent::DoesNotExist { object, span, missing } = event else { continue };
        match missing {
            Missing::NeverCreated => match ctx.migration.schema.baseline() {
                // A file on its own: tables it does not create are assumed to exist.
                Baseline::Unseen => {}
                Baseline::Empty => {
                    out.report(
                        *span,
                        format!("{object} does not exist: no earlier migration creates it — this fails on deploy"),
                    );
                }
                Baseline::Unknown { missing } => {
                    let tables = if missing == 1 { "table" } else { "tables" };
                    out.report_at(
                        Severity::Info,
                        *span,
                        format!(
                            "{object} is not created by any earlier migration: this set starts from a baseline safemig cannot see (it uses {missing} {tables} no migration creates), so it is assumed to exist there"
                        ),
                    );
                }
            },
            Missing::NotInTable { table, closest } => {
                let ObjectRef::Column { table: name, .. } = object else { continue };
                let hint = closest.as_ref().map(|c| format!(" (did you mean `{c}`?)")).unwrap_or_default();
                out.report(
                    *span,
                    format!(
                        "{object} does not exist: table {name} ({}) has no such column{hint} — this fails on deploy",
                        table.created_phrase()
                    ),
                );
            }
            Missing::Gone(gone) => {
                let why = match gone {
                    Gone::Dropped { by } => format!("{by} drops it"),
                    Gone::Renamed { to, by } => format!("{by} renames it to {to}"),
                    Gone::Moved { by } => format!("{by} moves it to another schema"),
                };
                out.report(*span, format!("{object} does not exist: {why} — this fails on deploy"));
            }
        }
    }
}
