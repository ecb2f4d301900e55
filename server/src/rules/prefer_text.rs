//! `prefer-text`: `varchar(n)` with a length limit.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};

pub static RULE: Rule = Rule {
    id: "prefer-text",
    category: Category::Types,
    default_severity: Severity::Hint,
    dialects: POSTGRES,
    summary: "varchar(n) buys nothing over text and its limit is costly to change; use text",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
A new column (in `CREATE TABLE` or `ADD COLUMN`) of type `varchar(n)` / `character varying(n)`,
arrays included. Plain `varchar` without a length is fine. Tables that migration frameworks create
for themselves (e.g. Alembic's `alembic_version (version_num VARCHAR(32))`) are left alone.

## Why it hurts
In PostgreSQL `varchar(n)` is stored exactly like `text`: the limit saves no space and no time. It is
usually an arbitrary number (255) rather than a real rule, and when real data outgrows it, changing
it is an `ALTER COLUMN … TYPE` under an ACCESS EXCLUSIVE lock (a full rewrite if the limit goes
down).

## Example
```sql
CREATE TABLE users (email varchar(255) NOT NULL);
```

## Instead
```sql
CREATE TABLE users (email text NOT NULL CHECK (length(email) <= 320));
```
A `CHECK` constraint states a real limit and can be replaced online (`NOT VALID`, then
`VALIDATE CONSTRAINT`).

## Quick fix
Rewrite the type in place as `text` (keeping array brackets). The length limit goes: the fix's
title names the `CHECK (char_length(col) <= n)` to add when the limit is a real rule. Only for a column of a table this migration creates (in its `CREATE TABLE`, or an `ADD COLUMN` to a
table created earlier in the file); a new column of an existing table keeps the hint without a fix.
The edit replaces exactly the type as written; the rest of the column definition stays.
**Unsafe**: the column no longer rejects longer values.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    for dc in ctx.defined_columns() {
        let Some(limit) = dc.ty.modifiers.first() else { continue };
        if dc.ty.canonical != "varchar" {
            continue;
        }
        let (replacement, check) = if dc.ty.array {
            ("text[]", String::new())
        } else {
            (
                "text",
                format!(
                    ", with a CHECK (length({}) <= {limit}) if the limit is a real rule",
                    ctx.text(dc.column.name.span)
                ),
            )
        };
        out.report(
            dc.ty.span,
            format!(
                "`{}` is {}: PostgreSQL stores it exactly like text, and changing the limit later takes an ACCESS EXCLUSIVE lock; use {replacement}{check}",
                dc.column.name,
                ctx.text(dc.ty.span),
            ),
        )
        .with_fix(format!("Use {replacement}"));
    }
}
