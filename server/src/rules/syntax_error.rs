//! `syntax-error`: the tokenizer or parser rejects the statement.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::sql::{ParseOutcome, Span};

pub static RULE: Rule = Rule {
    id: "syntax-error",
    category: Category::Transactions,
    default_severity: Severity::Error,
    dialects: ALL_DIALECTS,
    summary: "the statement cannot be read; valid SQL the parser does not know yet is only a hint",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
A statement that the tokenizer or parser rejects: an unterminated string, `$$` body or quoted
identifier, an unknown command, unbalanced parentheses, an unrendered template (`{{ … }}`).

When the statement is valid PostgreSQL that safemig's parser (sqlparser) does not support yet, such
as `DROP INDEX CONCURRENTLY`, `ALTER SEQUENCE` or `REINDEX`, the finding is a **hint** that says
so, and every rule still runs on the facts read from the statement's tokens. A `DO` block gets no
hint: its body is PL/pgSQL in a string, which no SQL parser reads, so the hint would tell nothing
(and safemig's own quick fixes write batched loops as `DO` blocks).

## Why it hurts
A migration that does not parse fails on deploy, usually after the statements before it have run.

## Example
```sql
INSERT INTO countries (code) VALUES ('US);
```

## Instead
```sql
INSERT INTO countries (code) VALUES ('US');
```

## Quick fix
None.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let parsed = &ctx.stmt.parsed;
    let len = parsed.text.len() as u32;
    match &parsed.outcome {
        ParseOutcome::Parsed => {}
        ParseOutcome::Invalid { message, offset } => {
            let span = error_span(&parsed.text, *offset, len);
            out.report(span, format!("syntax error: {message}"));
        }
        // The body of a DO block is a string of PL/pgSQL: nothing an SQL parser could check.
        ParseOutcome::Unsupported { .. } if ctx.facts().label == "DO" => {}
        ParseOutcome::Unsupported { message, .. } => {
            let what = if ctx.facts().label.is_empty() { "this statement" } else { ctx.facts().label.as_str() };
            out.report_at(
                Severity::Hint,
                ctx.facts().head,
                format!(
                    "safemig's SQL parser does not support this form of {what} yet ({message}); it is likely valid, and safemig checked it from its tokens"
                ),
            );
        }
    }
}

/// From the error position to the end of its line (at least one character).
fn error_span(text: &str, offset: u32, len: u32) -> Span {
    let start = offset.min(len);
    let line_end = text[start as usize..].find('\n').map(|i| start + i as u32).unwrap_or(len);
    let end = if line_end > start { line_end } else { (start + 1).min(len) };
    Span::new(start, end)
}
