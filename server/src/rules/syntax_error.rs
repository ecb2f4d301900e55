//! `syntax-error`: the tokenizer or parser rejects the statement.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::sql::{Dialect, ParseOutcome, Span};

pub static RULE: Rule = Rule {
    id: "syntax-error",
    category: Category::Transactions,
    default_severity: Severity::Error,
    dialects: ALL_DIALECTS,
    summary: "the database would reject the statement (PostgreSQL: its own parser says so); valid SQL safemig's parser does not read yet is only a hint",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
A statement that PostgreSQL would reject: a misspelt keyword (`ALTER TABL`, `DEFUALT`, `NOT NUL`,
`WHER`), a trailing comma in a column list, a missing `)`, `ADD COLUMN` with no column, an
unterminated string, `$$` body or quoted identifier, an unrendered template (`{{ … }}`). For
PostgreSQL migrations the verdict is PostgreSQL's own parser's (libpg_query, the server's scanner
and grammar): the message and the position are the ones PostgreSQL gives, with what they mean when
that is certain (a `;` missing before the next command). For MySQL and SQLite, safemig's SQL parser
(sqlparser) decides, and a statement it cannot read counts as an error only when it cannot be valid
(an unknown command, unbalanced brackets, a stray character).

When the statement is valid but safemig's SQL parser does not read that form yet (`DROP INDEX
CONCURRENTLY`, `ALTER SEQUENCE`, `CREATE STATISTICS`, `COMMENT ON FUNCTION f(int)`…), the finding
is a **hint** that says so, and every rule still runs on the facts read from the statement's
tokens. A `DO` block gets no hint: its body is PL/pgSQL in a string, which no SQL parser reads, so
the hint would tell nothing (and safemig's own quick fixes write batched loops as `DO` blocks).
Flyway placeholders (`${schema}`) are substituted by the runner: a statement that holds them is
judged with each one read as a name, and gets that hint at most. So are Go template actions
(`{{ index .Options "Namespace" }}`) in the migrations of a runner that renders them (gobuffalo
pop); anywhere else they are an error: no other runner renders them, and PostgreSQL rejects `{`.

## Why it hurts
A migration that does not parse fails on deploy, usually after the statements before it have run.

## Example
```sql
ALTER TABLE accounts ADD COLUMN note text DEFUALT '';
INSERT INTO countries (code) VALUES ('US);
```

## Instead
```sql
ALTER TABLE accounts ADD COLUMN note text DEFAULT '';
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
            // A runner that renders Go templates first sends PostgreSQL the rendered text.
            let rendered = (ctx.settings().renders_templates && parsed.dialect == Dialect::Postgres)
                .then(|| crate::sql::judge_rendered(&parsed.text))
                .flatten();
            match rendered {
                Some(Ok(())) => {
                    let at = parsed.text.find("{{").unwrap_or(0) as u32;
                    out.report_at(
                        Severity::Hint,
                        Span::new(at, (at + 2).min(len)),
                        "`{{ … }}` template actions, which the migration runner renders before PostgreSQL reads the \
                         statement; PostgreSQL's parser accepts it with each one read as a name, and safemig checked it \
                         from its tokens"
                            .to_string(),
                    );
                }
                Some(Err((message, offset))) => {
                    out.report(error_span(&parsed.text, offset, len), message);
                }
                None => {
                    out.report(error_span(&parsed.text, *offset, len), message.clone());
                }
            }
        }
        ParseOutcome::Unsupported { .. } if ctx.facts().label == "DO" => {}
        ParseOutcome::Unsupported { message, .. } => {
            let what = if ctx.facts().label.is_empty() { "this statement" } else { ctx.facts().label.as_str() };
            let verdict = match parsed.dialect {
                Dialect::Postgres => "PostgreSQL's parser accepts it",
                Dialect::Mysql | Dialect::Sqlite => "it is likely valid",
            };
            out.report_at(
                Severity::Hint,
                ctx.facts().head,
                format!(
                    "safemig's SQL parser does not support this form of {what} yet ({message}); {verdict}, and safemig checked it from its tokens"
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

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::engine::analyze;
    use crate::rules::{MigrationSettings, Severity};
    use crate::sql::syntax_cases::{TYPOS, VALID};

    #[test]
    fn a_typo_is_an_error_at_the_token_postgres_stops_at() {
        for (sql, tail) in TYPOS {
            let analysis = analyze(sql, &MigrationSettings::default(), &Config::default(), None);
            let found: Vec<_> = analysis.findings.iter().filter(|f| f.rule == super::RULE.id).collect();
            assert_eq!(found.len(), 1, "{sql}: {found:?}");
            let f = found[0];
            assert_eq!(f.severity, Severity::Error, "{sql}: {f:?}");
            assert_eq!(f.range.start, sql.len() - tail.len(), "{sql}: {f:?}");
            assert!(f.message.starts_with("syntax error at"), "{sql}: {}", f.message);
            assert!(!f.message.contains("likely valid"), "{sql}: {}", f.message);
        }
    }

    #[test]
    fn valid_postgres_is_never_an_error() {
        for sql in VALID {
            let analysis = analyze(sql, &MigrationSettings::default(), &Config::default(), None);
            let errors: Vec<_> = analysis.findings.iter().filter(|f| f.severity == Severity::Error).collect();
            assert!(errors.is_empty(), "{sql}: {errors:?}");
        }
    }

    #[test]
    fn template_actions_are_a_hint_only_where_the_runner_renders_them() {
        let sql = "ALTER TABLE {{ index .Options \"Namespace\" }}.users ADD COLUMN IF NOT EXISTS phone text;\n";
        let syntax = |settings: &MigrationSettings, sql: &str| {
            let analysis = analyze(sql, settings, &Config::default(), None);
            analysis.findings.into_iter().filter(|f| f.rule == super::RULE.id).collect::<Vec<_>>()
        };
        let pop = MigrationSettings { renders_templates: true, ..MigrationSettings::default() };
        let found = syntax(&pop, sql);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].severity, Severity::Hint);
        assert_eq!(found[0].range.start, sql.find("{{").unwrap());
        assert!(found[0].message.contains("renders"), "{}", found[0].message);
        // No runner renders it: PostgreSQL gets `{` and rejects the statement.
        let found = syntax(&MigrationSettings::default(), sql);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].severity, Severity::Error);
        // A real error in a rendered migration is still an error.
        let typo = "ALTER TABLE {{ .Schema }}.users ADD COLUMN phone text DEFUALT '';\n";
        let found = syntax(&pop, typo);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].severity, Severity::Error);
        assert_eq!(found[0].range.start, typo.find("DEFUALT").unwrap());
    }
}
