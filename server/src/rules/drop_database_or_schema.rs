//! `drop-database-or-schema`: `DROP DATABASE`, `DROP SCHEMA`.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::sql::facts::ObjectKind;
use crate::sql::{Dialect, StatementKind};

pub static RULE: Rule = Rule {
    id: "drop-database-or-schema",
    category: Category::AppSafety,
    default_severity: Severity::Warning,
    dialects: ALL_DIALECTS,
    summary: "DROP DATABASE / DROP SCHEMA destroys every object and row in it",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
`DROP DATABASE` and `DROP SCHEMA` (in MySQL the two are the same statement).

## Why it hurts
A migration runs in every environment, production included: dropping a database or a schema
there deletes every table, view, function and row in it for good, and only a restore from backup
brings them back. In PostgreSQL `DROP SCHEMA … CASCADE` drops everything in the schema, and
without `CASCADE` the statement fails unless the schema is already empty. `DROP DATABASE` cannot
run inside a transaction block and fails while anyone is connected to that database.

The default severity is **warning**, not error: a drop is usually intended and reviewed, and the
real-world corpus is full of deliberate ones. It still fails CI at the default `--fail-on warning`;
set it to `"error"` under `[rules]` in `safemig.toml` to make every drop need a suppression with a reason.

## Example
```sql
DROP SCHEMA analytics CASCADE;
```

## Instead
Drop the tables you mean to drop, one by one, each after the code stopped using it (see
`drop-table`). Databases and whole schemas are provisioning, not migrations: remove them by hand,
after a backup, outside the migration history.

## Quick fix
None.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let StatementKind::Drop(d) = ctx.kind() else { return };
    let names = d.names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
    let message = match (d.object, ctx.dialect()) {
        (ObjectKind::Database, Dialect::Postgres) => format!(
            "dropping database {names} deletes every table and row in it for good, in every environment this migration runs in (and PostgreSQL refuses it inside a transaction block or while anyone is connected to it); drop databases by hand, after a backup, not in a migration"
        ),
        (ObjectKind::Schema, Dialect::Postgres) if d.cascade => format!(
            "dropping schema {names} with CASCADE deletes every table, view, function and row in it for good, in every environment this migration runs in; drop the tables you mean to drop one by one, after the code stopped using them"
        ),
        (ObjectKind::Schema, Dialect::Postgres) => format!(
            "dropping schema {names} fails unless it is already empty, and with CASCADE it would delete every table and row in it for good; drop the objects you mean to drop one by one, after the code stopped using them"
        ),
        (ObjectKind::Database | ObjectKind::Schema, _) => format!(
            "dropping database {names} deletes every table and row in it for good, in every environment this migration runs in; drop the tables you mean to drop one by one, after the code stopped using them, and drop databases by hand, after a backup"
        ),
        _ => return,
    };
    out.report(ctx.facts().head, message);
}
