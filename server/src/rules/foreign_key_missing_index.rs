//! `foreign-key-missing-index`: a foreign key whose referencing columns lead no index.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};
use crate::sql::facts::{AlterAction, ConstraintKind, ForeignKey, QualifiedName, Span};
use crate::sql::StatementKind;

pub static RULE: Rule = Rule {
    id: "foreign-key-missing-index",
    category: Category::Locks,
    default_severity: Severity::Info,
    dialects: POSTGRES,
    summary:
        "a foreign key without an index on its referencing columns makes every delete on the parent scan the child",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
A foreign key (inline `REFERENCES` or `FOREIGN KEY (…)` in `CREATE TABLE`, `ADD CONSTRAINT …
FOREIGN KEY`, `ADD COLUMN … REFERENCES`) whose referencing columns are not the leading columns of
any index on the referencing table. Indexes count wherever they are known to exist: created or
declared (`PRIMARY KEY`, `UNIQUE`) in this migration, or known from earlier migrations or the live
database. When nothing is known about an existing table's indexes the rule stays quiet.

## Why it hurts
PostgreSQL indexes the referenced (parent) key, but not the referencing (child) columns. Every
`DELETE` of a parent row, and every `UPDATE` of its key, must find the child rows that point at it:
without an index that is a sequential scan of the child table, once per parent row, while holding
row locks. `ON DELETE CASCADE` and bulk deletes on the parent become very slow, and joins from
parent to child cannot use an index either.

## Example
```sql
CREATE TABLE order_lines (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id)
);
```

## Instead
```sql
CREATE TABLE order_lines (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id)
);
CREATE INDEX order_lines_order_id_idx ON order_lines (order_id);
```
On an existing table, build the index with `CREATE INDEX CONCURRENTLY` (outside a transaction)
before adding the foreign key. An index whose leading columns are the foreign key's columns also
counts, e.g. a composite primary key `(order_id, line_no)`.

## Quick fix
An index on the referencing columns, named as PostgreSQL names an unnamed one
(`orders_customer_id_idx`, cut to 63 bytes):
- on a table this migration creates: `CREATE INDEX` right after the statement (the table is empty:
  no `CONCURRENTLY` needed);
- on an existing table, `CREATE INDEX CONCURRENTLY`, placed so that it runs before the foreign
  key:
  - outside any transaction: right before the statement;
  - inside `BEGIN … COMMIT` in the file: right before the `BEGIN`;
  - in the runner's transaction, or in a file sent as one query string: a new migration that sorts
    between the previous migration and this one (`00004_index_….sql` before `00005_….sql`, with
    the framework's opt-out: goose, sqlx, Atlas, dbmate, Flyway `.sql.conf`, Diesel
    `metadata.toml`; golang-migrate and Prisma run a file of one statement outside a
    transaction). When no version fits in between (consecutive numbers) and the foreign key is
    the migration's only statement, the index goes right before it and the migration opts out
    (goose, Atlas, Flyway, whose runners then run statement by statement);
  - Supabase, Drizzle and node-pg-migrate SQL files, and pop migrations (but popx's `.autocommit`
    files), always run in a transaction: no fix;
- on a column the statement (or this migration) adds: the index cannot come first, so
  `CREATE INDEX CONCURRENTLY` goes after the statement, placed as `create-index-blocking`'s fix
  places it.

**Safe**: the migration adds one index and nothing else changes (**unsafe** only when the index
moves before a statement of the same `BEGIN … COMMIT` block that names the table).
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    // (referencing table, foreign key, range to report)
    let mut fks: Vec<(&QualifiedName, &ForeignKey, Span)> = Vec::new();
    let creates_table = match ctx.kind() {
        StatementKind::CreateTable(ct) => {
            for col in &ct.columns {
                if let Some(fk) = &col.references {
                    fks.push((&ct.name, fk, fk.span));
                }
            }
            for tc in &ct.constraints {
                if let ConstraintKind::ForeignKey(fk) = &tc.kind {
                    fks.push((&ct.name, fk, tc.kind_span.to(fk.span)));
                }
            }
            true
        }
        StatementKind::AlterTable(at) => {
            for action in &at.actions {
                match &action.action {
                    AlterAction::AddConstraint(tc) => {
                        if let ConstraintKind::ForeignKey(fk) = &tc.kind {
                            fks.push((&at.table, fk, tc.kind_span.to(fk.span)));
                        }
                    }
                    AlterAction::AddColumn { column, .. } => {
                        if let Some(fk) = &column.references {
                            fks.push((&at.table, fk, fk.span));
                        }
                    }
                    _ => {}
                }
            }
            false
        }
        _ => return,
    };
    for (table, fk, span) in fks {
        let columns: Vec<String> = fk.columns.iter().map(|n| n.value.clone()).collect();
        if columns.is_empty() || ctx.has_index_leading(table, &columns) != Some(false) {
            continue;
        }
        let cols = columns.join(", ");
        // The SQL in the advice is quoted as PostgreSQL needs it (Prisma's "Order" ("userId")).
        let (table_sql, cols_sql) =
            (table.sql(), columns.iter().map(|c| crate::sql::quote::ident(c)).collect::<Vec<_>>().join(", "));
        let advice = if creates_table || ctx.is_new_table(table) {
            format!("add CREATE INDEX ON {table_sql} ({cols_sql}) to this migration (the table is new, so no CONCURRENTLY)")
        } else {
            format!("create it with CREATE INDEX CONCURRENTLY ON {table_sql} ({cols_sql}) before adding the foreign key")
        };
        out.report(
            span,
            format!(
                "no index on `{table}` starts with ({cols}), so every DELETE or key UPDATE on `{}` scans `{table}` to check this foreign key; {advice}",
                fk.ref_table,
            ),
        )
        .with_fix(format!("Create an index on `{table_sql} ({cols_sql})`"));
    }
}
