//! `prefer-timestamptz`: `timestamp` without time zone.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};

pub static RULE: Rule = Rule {
    id: "prefer-timestamptz",
    category: Category::Types,
    default_severity: Severity::Hint,
    dialects: POSTGRES,
    summary: "timestamp without time zone stores wall-clock readings, not instants; use timestamptz",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
A new column (in `CREATE TABLE` or `ADD COLUMN`) of type `timestamp` / `timestamp without time
zone`, arrays included. Tables that migration frameworks create for themselves are left alone.

## Why it hurts
`timestamp` stores a wall-clock reading with no offset. Which instant it means depends on the time
zone of whoever wrote it: `now()` is silently converted to the session's local time, values
written from servers or clients in different zones cannot be compared, and readings around a DST
change are ambiguous. `timestamptz` stores an absolute instant (as UTC) in the same 8 bytes and
converts to the session's time zone on output.

## Example
```sql
CREATE TABLE events (occurred_at timestamp NOT NULL);
```

## Instead
```sql
CREATE TABLE events (occurred_at timestamptz NOT NULL);
```
Keep `timestamp` only for readings that are deliberately zone-less, such as a local opening time.

## Quick fix
Rewrite the type in place as `timestamptz`, keeping any precision and array brackets
(`timestamp(3) without time zone` → `timestamptz(3)`). Only for a column of a table this migration creates (in its `CREATE TABLE`, or an `ADD COLUMN` to a
table created earlier in the file); a new column of an existing table keeps the hint without a fix.
The edit replaces exactly the type as written; the rest of the column definition stays.
**Unsafe**: values are then read and written as instants in the session's time zone.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    for dc in ctx.defined_columns() {
        if dc.ty.canonical != "timestamp" {
            continue;
        }
        let precision = dc.ty.modifiers.first().map(|p| format!("({p})")).unwrap_or_default();
        let replacement = format!("timestamptz{precision}{}", if dc.ty.array { "[]" } else { "" });
        out.report(
            dc.ty.span,
            format!(
                "`{}` is {}, which stores a wall-clock reading without an offset: the same instant reads differently across time zones and DST changes; use {replacement}, which stores an absolute instant at the same size",
                dc.column.name,
                ctx.text(dc.ty.span),
            ),
        )
        .with_fix(format!("Use {replacement}"));
    }
}
