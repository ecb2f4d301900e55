//! `prefer-jsonb`: `json` columns.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};

pub static RULE: Rule = Rule {
    id: "prefer-jsonb",
    category: Category::Types,
    default_severity: Severity::Hint,
    dialects: POSTGRES,
    summary: "json has no equality operator and cannot be indexed like jsonb; use jsonb",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
A new column (in `CREATE TABLE` or `ADD COLUMN`) of type `json`, arrays included. Tables that
migration frameworks create for themselves are left alone.

## Why it hurts
`json` stores the input text verbatim and re-parses it on every access. It has no equality
operator, so `SELECT DISTINCT`, `GROUP BY`, `UNION` and unique constraints over it fail with
"could not identify an equality operator for type json", and it supports neither GIN indexes nor
the containment (`@>`) and existence (`?`) operators. `jsonb` stores a parsed binary form that
supports all of these.

## Example
```sql
CREATE TABLE webhooks (payload json NOT NULL);
```

## Instead
```sql
CREATE TABLE webhooks (payload jsonb NOT NULL);
```
Keep `json` only when the exact input text matters: key order, duplicate keys, whitespace.

## Quick fix
Rewrite the type in place as `jsonb` (keeping array brackets). Only for a column of a table this migration creates (in its `CREATE TABLE`, or an `ADD COLUMN` to a
table created earlier in the file); a new column of an existing table keeps the hint without a fix.
The edit replaces exactly the type as written; the rest of the column definition stays.
**Unsafe**: `jsonb` stores parsed JSON: key order, duplicate keys and whitespace of the input go.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    for dc in ctx.defined_columns() {
        if dc.ty.canonical != "json" {
            continue;
        }
        let replacement = if dc.ty.array { "jsonb[]" } else { "jsonb" };
        out.report(
            dc.ty.span,
            format!(
                "`{}` is {}, which has no equality operator (DISTINCT, GROUP BY and UNION fail on it) and no GIN indexing or containment operators; use {replacement} unless the exact input text must be kept",
                dc.column.name,
                ctx.text(dc.ty.span),
            ),
        )
        .with_fix(format!("Use {replacement}"));
    }
}
