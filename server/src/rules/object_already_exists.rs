//! `object-already-exists`: creating a table, column, index, constraint, view, sequence, type or
//! enum value that an earlier migration (or an earlier statement of this one) already created.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::schema::{ObjectRef, ReplayEvent};

pub static RULE: Rule = Rule {
    id: "object-already-exists",
    category: Category::History,
    default_severity: Severity::Error,
    dialects: ALL_DIALECTS,
    summary: "creates a table, column, index or constraint that an earlier migration already created: fails on deploy",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
`CREATE TABLE`, `ADD COLUMN`, `CREATE INDEX`, `ADD CONSTRAINT` (a name the table already uses, or
a second primary key), `CREATE VIEW`, `CREATE SEQUENCE`, `CREATE TYPE`, `ALTER TYPE … ADD VALUE`
and `CREATE TRIGGER` (a name its table already uses) for an object that already exists at that
point: created by an earlier migration of the set, or earlier in the same migration, and not
dropped or renamed since. Drops count with what PostgreSQL drops along: a `DROP TABLE` its
indexes, triggers and owned sequences, a `DROP COLUMN` the indexes and constraints that use the
column, a `… CASCADE` the views that depend on the dropped object. The schema comes from replaying
the migrations in the order the framework runs them; a file checked on its own is compared with
itself only. Statements guarded with `IF NOT EXISTS` (or `CREATE OR REPLACE VIEW`) are left alone:
they are no-ops when the object is there.

## Why it hurts
PostgreSQL rejects the statement with `relation "…" already exists` (or `column … already
exists`, `constraint … already exists`, `multiple primary keys … are not allowed`), the migration
fails and the deploy stops. It works on the developer's fresh database only when the earlier
migration did not run there. The usual cause is a regenerated schema: an assistant or a generator
writes the whole table again instead of the change.

## Example
```sql
-- 0003_add_email.sql
ALTER TABLE users ADD COLUMN email text;
-- 0010_profile.sql
ALTER TABLE users ADD COLUMN email text;          -- already added by 0003_add_email.sql:2
```

## Instead
Write only the change the schema still needs: drop the repeated statement, or alter what exists
(`ALTER COLUMN email SET NOT NULL`). When the migration must run against databases in different
states, guard it: `ADD COLUMN IF NOT EXISTS`, `CREATE TABLE IF NOT EXISTS`, `CREATE INDEX IF NOT
EXISTS`. Constraints and types have no `IF NOT EXISTS`: drop the statement, or check the catalog in
a `DO` block.

## Quick fix
- **Guard with `IF NOT EXISTS`**: `CREATE TABLE`, `ADD COLUMN`, `CREATE INDEX` (a named one),
  `CREATE SEQUENCE`, `CREATE MATERIALIZED VIEW`, `ALTER TYPE … ADD VALUE`; for a view, **Use
  `CREATE OR REPLACE VIEW`**.
- **Remove this statement (migration X already creates it)**: the title names the migration (or
  line) that created the object. Offered when the statement does nothing else (an `ALTER TABLE`
  with one action). `ADD CONSTRAINT`, a second primary key, `CREATE TYPE` and `CREATE TRIGGER`
  have no `IF NOT EXISTS`: removal only.

Both are **safe** only when the earlier statement defined the object the same way (the same
tokens, case, layout and the guard aside) and nothing altered it since. Otherwise they are
**unsafe** and the title says so: `IF NOT EXISTS` silently keeps the earlier definition (the
column keeps its old type), and `OR REPLACE` replaces the earlier view with this one. The removal
is preferred when safe.

- **Replace the CREATE TABLE with ALTER TABLE (keeps the new column x)**: for a `CREATE TABLE` of
  a table that exists with another definition (a migration that re-creates a table with one more
  column), the statement becomes the `ALTER TABLE` statements that take the table as the earlier
  migrations left it to this definition: `DROP CONSTRAINT` of the constraints it no longer has or
  changes, `ADD COLUMN` with the column's whole definition as written, `ALTER COLUMN … DROP
  DEFAULT / TYPE / SET DEFAULT / SET|DROP NOT NULL`, `DROP COLUMN`, then `ADD` of the new
  constraints (keys before foreign keys), after a `SET [LOCAL] lock_timeout` when none is in
  effect. **Safe** and preferred when they drop no column and change no type; otherwise
  **unsafe**, and the title says what they drop ("drops the column `email` and its data") or
  change. A column missing from the new definition is dropped, never taken for a rename. Not
  offered when the definitions are the same, or when the change cannot be derived exactly: an
  old column of unknown type, a column that becomes or stops being identity or serial, a type
  PostgreSQL converts only `USING` an expression, a collation or generation expression, check,
  foreign key or exclusion constraint that cannot be compared with the earlier one (added by a
  later `ALTER TABLE`), an inline constraint carrying a name or options on a kept column, a key
  to drop that a foreign key references, table options that differ (`UNLOGGED`, `PARTITION BY`,
  `INHERITS`, `WITH (…)`). The
  statements are checked like any fix: an `ADD COLUMN … NOT NULL` without a default or a `SET
  NOT NULL` on a table with rows makes the fix pipeline refuse it (no default is invented).

A second primary key is reported as a **warning**: the first one is often dropped where replay
cannot look (a Java or application migration, a `DO` block that builds the constraint name).
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let events = ctx.replay_events();
    for event in events.of(ctx.index) {
        let ReplayEvent::AlreadyExists { object, span, existing, guard } = event else { continue };
        let message = format!("{object} already exists ({}) — this fails on deploy", existing.created_phrase());
        let fix = match guard {
            Some("OR REPLACE") => "Use CREATE OR REPLACE".to_string(),
            Some(clause) => format!("Guard with {clause}"),
            None => "Remove the statement".to_string(),
        };
        // The first primary key is often dropped where replay cannot look (a Java or code
        // migration, a DO block building the name): a second one is less certain than a name.
        let finding = match object {
            ObjectRef::PrimaryKey { .. } => out.report_at(Severity::Warning, *span, message),
            _ => out.report(*span, message),
        };
        finding.with_fix(fix);
    }
}
