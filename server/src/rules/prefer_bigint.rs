//! `prefer-bigint`: 32- and 16-bit integer key columns.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};
use crate::sql::facts::{AlterAction, ConstraintKind, TableConstraint};
use crate::sql::StatementKind;

pub static RULE: Rule = Rule {
    id: "prefer-bigint",
    category: Category::Types,
    default_severity: Severity::Hint,
    dialects: POSTGRES,
    summary: "integer and smallint keys run out of values; use bigint",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
A new column (in `CREATE TABLE` or `ADD COLUMN`) of type `integer`/`int4`, `smallint`/`int2`,
`serial` or `smallserial` that is a key: a primary key (inline or in a table-level
`PRIMARY KEY (…)`) or a foreign-key column. Tables that migration frameworks create for themselves
are left alone.

## Why it hurts
An `integer` key runs out at 2,147,483,647 (a `smallint` at 32,767), and busy tables get there:
inserts start failing with "integer out of range" or "nextval: reached maximum value of sequence".
Widening the key then means rewriting the table and every table that references it under an ACCESS
EXCLUSIVE lock, at the moment the table is at its largest. `bigint` costs 4 bytes more per row.

## Example
```sql
CREATE TABLE accounts (id serial PRIMARY KEY, owner_id integer REFERENCES users (id));
```

## Instead
```sql
CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id bigint REFERENCES users (id)
);
```

## Quick fix
Rewrite the type in place: `integer`/`smallint` → `bigint`, `serial`/`smallserial` → `bigserial`.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let constraints: Vec<&TableConstraint> = match ctx.kind() {
        StatementKind::CreateTable(ct) => ct.constraints.iter().collect(),
        StatementKind::AlterTable(at) => at
            .actions
            .iter()
            .filter_map(|a| match &a.action {
                AlterAction::AddConstraint(tc) => Some(tc),
                _ => None,
            })
            .collect(),
        _ => return,
    };
    let named_by = |column: &str, primary: bool| {
        constraints.iter().any(|tc| {
            let columns = match &tc.kind {
                ConstraintKind::PrimaryKey { columns } if primary => columns,
                ConstraintKind::ForeignKey(fk) if !primary => &fk.columns,
                _ => return false,
            };
            columns.iter().any(|c| c.value == column)
        })
    };
    for dc in ctx.defined_columns() {
        let (limit, replacement) = match dc.ty.canonical.as_str() {
            "int4" => ("2,147,483,647", "bigint"),
            "int2" => ("32,767", "bigint"),
            "serial4" => ("2,147,483,647", "bigserial"),
            "serial2" => ("32,767", "bigserial"),
            _ => continue,
        };
        let col = dc.column;
        let (role, rewrites) = if dc.ty.array {
            continue;
        } else if col.primary_key.is_some() || named_by(&col.name.value, true) {
            ("primary key", " and every table that references it")
        } else if col.references.is_some() || named_by(&col.name.value, false) {
            ("foreign key", "")
        } else {
            continue;
        };
        out.report(
            dc.ty.span,
            format!(
                "`{}` is a {role} stored as {}, which runs out at {limit}; widening it later rewrites `{}`{rewrites} under an ACCESS EXCLUSIVE lock, so use {replacement} now",
                col.name,
                ctx.text(dc.ty.span),
                dc.table,
            ),
        )
        .with_fix(format!("Use {replacement}"));
    }
}
