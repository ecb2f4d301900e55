//! `ban-char`: blank-padded `char(n)` / `character` / `bpchar` columns.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};

pub static RULE: Rule = Rule {
    id: "ban-char",
    category: Category::Types,
    default_severity: Severity::Hint,
    dialects: POSTGRES,
    summary: "char(n) pads values with blanks and is no faster than text; use text",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
A new column (in `CREATE TABLE` or `ADD COLUMN`) of type `char`, `char(n)`, `character(n)` or
`bpchar`, arrays included. PostgreSQL's internal one-byte `"char"` type (quoted) is not flagged.
Tables that migration frameworks create for themselves are left alone.

## Why it hurts
`char(n)` pads every value with spaces to `n` characters. The padding is ignored when comparing two
`char` values but not in `LIKE` or regular expressions, it is stripped when the value is cast to
`text`, and values longer than `n` are an error. Plain `char` means `char(1)`. It is stored like
`text` plus the padding, so it is never faster, and codes that look fixed-length (country, currency)
are better stated as a `CHECK`.

## Example
```sql
CREATE TABLE countries (code char(2) PRIMARY KEY);
```

## Instead
```sql
CREATE TABLE countries (code text PRIMARY KEY CHECK (length(code) = 2));
```

## Quick fix
Rewrite the type in place as `text` (keeping array brackets). The blank padding and the length
limit go (`char` alone is `char(1)`): the fix's title names the `CHECK (char_length(col) <= n)` to
add when the length is a rule. Only for a column of a table this migration creates (in its `CREATE TABLE`, or an `ADD COLUMN` to a
table created earlier in the file); a new column of an existing table keeps the hint without a fix.
The edit replaces exactly the type as written; the rest of the column definition stays.
**Unsafe**: values are no longer padded, and longer ones are accepted.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    for dc in ctx.defined_columns() {
        if dc.ty.canonical != "bpchar" {
            continue;
        }
        let replacement = if dc.ty.array { "text[]" } else { "text" };
        out.report(
            dc.ty.span,
            format!(
                "`{}` is {}, which pads values with blanks, compares and casts them inconsistently, and is no faster than text; use {replacement}, with a CHECK on length() if the length is a rule",
                dc.column.name,
                ctx.text(dc.ty.span),
            ),
        )
        .with_fix(format!("Use {replacement}"));
    }
}
