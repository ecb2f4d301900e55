//! sqlparser on one statement, and the verdict on what a parse failure means.

use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Token, TokenWithSpan};

use super::facts::{DropIndex, StatementFacts, StatementKind};
use super::lexer::{self, LexError, Tok};
use super::recognize::recognize;
use super::Dialect;

/// How deep sqlparser may recurse; deeper input is reported as a parser limitation.
const RECURSION_LIMIT: usize = 64;

/// PostgreSQL's top-level commands: a statement that starts with one of these, has balanced
/// brackets and no stray characters, is assumed valid when sqlparser cannot read it.
const POSTGRES_COMMANDS: &[&str] = &[
    "ABORT",
    "ALTER",
    "ANALYZE",
    "ANALYSE",
    "BEGIN",
    "CALL",
    "CHECKPOINT",
    "CLOSE",
    "CLUSTER",
    "COMMENT",
    "COMMIT",
    "COPY",
    "CREATE",
    "DEALLOCATE",
    "DECLARE",
    "DELETE",
    "DISCARD",
    "DO",
    "DROP",
    "END",
    "EXECUTE",
    "EXPLAIN",
    "FETCH",
    "GRANT",
    "IMPORT",
    "INSERT",
    "LISTEN",
    "LOAD",
    "LOCK",
    "MERGE",
    "MOVE",
    "NOTIFY",
    "PREPARE",
    "REASSIGN",
    "REFRESH",
    "REINDEX",
    "RELEASE",
    "RESET",
    "REVOKE",
    "ROLLBACK",
    "SAVEPOINT",
    "SECURITY",
    "SELECT",
    "SET",
    "SHOW",
    "START",
    "TABLE",
    "TRUNCATE",
    "UNLISTEN",
    "UPDATE",
    "VACUUM",
    "VALUES",
    "WITH",
    // MySQL / SQLite additions.
    "REPLACE",
    "PRAGMA",
    "ATTACH",
    "DETACH",
    "RENAME",
    "USE",
    "OPTIMIZE",
    "UNLOCK",
];

/// What sqlparser made of the statement.
#[derive(Debug, Clone)]
pub enum ParseOutcome {
    /// sqlparser read it. The AST itself is not kept: rules work on the facts, and keeping every
    /// statement's tree of a 10,000-migration workspace would cost more memory than it is worth.
    Parsed,
    /// sqlparser rejected text that looks like valid SQL of this dialect: a parser limitation.
    /// The facts still come from the tokens.
    Unsupported { message: String, offset: u32 },
    /// A real syntax error: unterminated literal, garbage, unknown command, unbalanced brackets.
    Invalid { message: String, offset: u32 },
}

/// One statement's text, tokens, parse and facts. Everything inside is relative to the
/// statement start, so the value can be shared wherever the same text appears.
#[derive(Debug, Clone)]
pub struct ParsedStatement {
    pub text: Box<str>,
    pub key: u64,
    pub dialect: Dialect,
    pub outcome: ParseOutcome,
    pub facts: StatementFacts,
}

impl ParsedStatement {
    pub(crate) fn build(
        dialect: Dialect,
        text: &str,
        key: u64,
        mut tokens: Vec<Tok>,
        base: usize,
        lex_error: Option<&LexError>,
    ) -> ParsedStatement {
        let base_loc = tokens.first().map(|t| t.loc.start).unwrap_or(Location { line: 1, column: 1 });
        lexer::rebase(&mut tokens, base, base_loc);
        let facts = recognize(&tokens);
        let outcome = match lex_error {
            Some(err) => ParseOutcome::Invalid {
                message: format!("the tokenizer stopped here: {}", strip_location(&err.message)),
                offset: err.offset.saturating_sub(base) as u32,
            },
            None => parse_tokens(dialect, text, tokens, &facts),
        };
        ParsedStatement { text: text.into(), key, dialect, outcome, facts }
    }

    /// The statement's significant tokens (no whitespace or comments), offsets relative to the
    /// statement. Tokenized again on demand: a workspace of 10,000 migrations keeps facts, not
    /// token streams.
    pub fn tokens(&self) -> Vec<Tok> {
        let lexed = lexer::tokenize(self.dialect.sqlparser(), &self.text);
        lexed.tokens.into_iter().filter(|t| !t.is_trivia()).collect()
    }

    pub fn is_parsed(&self) -> bool {
        matches!(self.outcome, ParseOutcome::Parsed)
    }
}

/// Hands the tokens to sqlparser (moved, not copied). A failure, rare, is judged on the
/// statement's tokens read again from its text.
fn parse_tokens(dialect: Dialect, text: &str, tokens: Vec<Tok>, facts: &StatementFacts) -> ParseOutcome {
    if matches!(facts.kind, StatementKind::Empty) || is_do_block(dialect, &tokens) {
        return ParseOutcome::Parsed;
    }
    // sqlparser lacks `DROP INDEX CONCURRENTLY`: the statement is read again without the
    // keyword, so that the concurrent drop (what `drop-index-blocking` asks for) is not flagged.
    let without_concurrently: Option<Vec<Tok>> = match &facts.kind {
        StatementKind::DropIndex(DropIndex { concurrently: Some(c), .. }) => {
            Some(tokens.iter().filter(|t| t.start != c.start).cloned().collect())
        }
        _ => None,
    };
    let parse = |tokens: Vec<Tok>| {
        let with_spans: Vec<TokenWithSpan> =
            tokens.into_iter().map(|t| TokenWithSpan { token: t.token, span: t.loc }).collect();
        Parser::new(dialect.sqlparser())
            .with_recursion_limit(RECURSION_LIMIT)
            .with_tokens_with_locations(with_spans)
            .parse_statements()
    };
    let result = parse(tokens);
    let retried = result.is_err() && without_concurrently.is_some_and(|t| parse(t).is_ok());
    match result {
        _ if retried => ParseOutcome::Parsed,
        Ok(_) => ParseOutcome::Parsed,
        Err(err) => {
            let lexed = lexer::tokenize(dialect.sqlparser(), text);
            let tokens: Vec<Tok> = lexed.tokens.into_iter().filter(|t| !t.is_trivia()).collect();
            classify_failure(dialect, text, &tokens, facts, err)
        }
    }
}

/// `DO [LANGUAGE name] 'body' [LANGUAGE name]` (PostgreSQL), which sqlparser does not know:
/// the body is a string that the language handler reads when the block runs, so the statement
/// around it is complete (safemig's own batched loops are such blocks).
fn is_do_block(dialect: Dialect, tokens: &[Tok]) -> bool {
    let word = |t: &Tok, w: &str| matches!(&t.token, Token::Word(x) if x.quote_style.is_none() && x.value.eq_ignore_ascii_case(w));
    let is_name = |t: &Tok| matches!(&t.token, Token::Word(_) | Token::SingleQuotedString(_));
    let is_body = |t: &Tok| matches!(&t.token, Token::DollarQuotedString(_) | Token::SingleQuotedString(_));
    let rest = match tokens {
        [first, rest @ ..] if dialect == Dialect::Postgres && word(first, "DO") => rest,
        _ => return false,
    };
    let rest = match rest {
        [rest @ .., last] if matches!(last.token, Token::SemiColon) => rest,
        _ => rest,
    };
    match rest {
        [body] => is_body(body),
        [a, b, c] => {
            (word(a, "LANGUAGE") && is_name(b) && is_body(c)) || (is_body(a) && word(b, "LANGUAGE") && is_name(c))
        }
        _ => false,
    }
}

fn classify_failure(
    dialect: Dialect,
    text: &str,
    tokens: &[Tok],
    facts: &StatementFacts,
    err: ParserError,
) -> ParseOutcome {
    let (message, loc) = match &err {
        ParserError::RecursionLimitExceeded => {
            (format!("the statement nests deeper than safemig's parser follows ({RECURSION_LIMIT} levels)"), None)
        }
        ParserError::ParserError(m) | ParserError::TokenizerError(m) => {
            let (msg, loc) = split_location(m);
            (msg.to_string(), loc)
        }
    };
    let offset = loc.and_then(|l| offset_of_location(tokens, l)).unwrap_or(0);
    if let Some(command) = missing_semicolon_before(text, tokens, &message, offset) {
        return ParseOutcome::Invalid {
            message: format!(
                "missing `;` before this `{command}`: it is read as part of the statement above ({message})"
            ),
            offset,
        };
    }
    if let Some(problem) = structural_problem(dialect, tokens, facts) {
        return ParseOutcome::Invalid {
            message: format!("{problem} ({message})"),
            offset: problem_offset(tokens).unwrap_or(offset),
        };
    }
    ParseOutcome::Unsupported { message, offset }
}

/// The parser considered the statement complete and then met a command keyword at the start of a
/// line: two statements with no `;` between them.
fn missing_semicolon_before(text: &str, tokens: &[Tok], message: &str, offset: u32) -> Option<String> {
    const STARTERS: &[&str] =
        &["ALTER", "CREATE", "DROP", "INSERT", "UPDATE", "DELETE", "SELECT", "GRANT", "REVOKE", "COMMENT", "TRUNCATE"];
    if !message.starts_with("Expected: end of statement") {
        return None;
    }
    let at = tokens.iter().position(|t| t.start == offset)?;
    let Token::Word(w) = &tokens[at].token else { return None };
    let upper = w.value.to_ascii_uppercase();
    if w.quote_style.is_some() || !STARTERS.contains(&upper.as_str()) || at == 0 {
        return None;
    }
    let gap = text.get(tokens[at - 1].end as usize..tokens[at].start as usize)?;
    gap.contains('\n').then_some(upper)
}

/// Why the statement cannot be valid SQL whatever the parser's limits, if it cannot.
fn structural_problem(dialect: Dialect, tokens: &[Tok], facts: &StatementFacts) -> Option<String> {
    let first = tokens.iter().find(|t| !t.is_trivia())?;
    let Token::Word(w) = &first.token else {
        return Some("a statement must start with a command keyword".into());
    };
    let upper = w.value.to_ascii_uppercase();
    if w.quote_style.is_some() || !POSTGRES_COMMANDS.contains(&upper.as_str()) {
        return Some(format!("`{}` is not a SQL command", w.value));
    }
    let mut depth = 0i64;
    for t in tokens {
        match &t.token {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket => {
                depth -= 1;
                if depth < 0 {
                    return Some("unbalanced `)`".into());
                }
            }
            Token::LBrace | Token::RBrace if dialect == Dialect::Postgres => {
                return Some("`{` and `}` are not PostgreSQL syntax (an unrendered template?)".into());
            }
            Token::Char(ch) if !ch.is_whitespace() => return Some(format!("unexpected character `{ch}`")),
            _ => {}
        }
    }
    if depth != 0 {
        return Some("unbalanced `(`".into());
    }
    let _ = facts;
    None
}

fn problem_offset(tokens: &[Tok]) -> Option<u32> {
    tokens.iter().find(|t| matches!(t.token, Token::LBrace | Token::Char(_))).map(|t| t.start)
}

/// sqlparser appends " at Line: L, Column: C" to its messages.
fn split_location(message: &str) -> (&str, Option<Location>) {
    let Some(idx) = message.rfind(" at Line: ") else { return (message, None) };
    let tail = &message[idx + " at Line: ".len()..];
    let mut parts = tail.split(", Column: ");
    let line = parts.next().and_then(|l| l.trim().parse().ok());
    let column = parts.next().and_then(|c| c.trim().parse().ok());
    match (line, column) {
        (Some(line), Some(column)) => (&message[..idx], Some(Location { line, column })),
        _ => (message, None),
    }
}

fn strip_location(message: &str) -> &str {
    split_location(message).0
}

fn offset_of_location(tokens: &[Tok], loc: Location) -> Option<u32> {
    tokens.iter().find(|t| (t.loc.start.line, t.loc.start.column) >= (loc.line, loc.column)).map(|t| t.start)
}

#[cfg(test)]
mod tests {
    use crate::sql::{Dialect, ParseOutcome, SqlFile};

    fn outcomes(sql: &str) -> Vec<ParseOutcome> {
        SqlFile::parse(sql, Dialect::Postgres, None).statements.iter().map(|s| s.parsed.outcome.clone()).collect()
    }

    #[test]
    fn valid_postgres_sqlparser_lacks_is_unsupported_not_invalid() {
        for sql in [
            "DROP INDEX CONCURRENTLY idx;",
            "ALTER SEQUENCE s RESTART WITH 10;",
            "COMMENT ON FUNCTION auth.uid() IS 'x';",
            "DO $$ BEGIN PERFORM 1; END $$;",
        ] {
            let o = outcomes(sql);
            assert!(matches!(o[0], ParseOutcome::Parsed | ParseOutcome::Unsupported { .. }), "{sql}: {o:?}");
        }
    }

    #[test]
    fn do_blocks_are_read_as_complete() {
        for sql in [
            "DO $$ BEGIN PERFORM 1; END $$;",
            "DO $x$ BEGIN COMMIT; END\n$x$;",
            "DO LANGUAGE plpgsql $$ BEGIN NULL; END $$;",
            "DO 'BEGIN NULL; END' LANGUAGE plpgsql;",
        ] {
            let o = outcomes(sql);
            assert!(matches!(o[0], ParseOutcome::Parsed), "{sql}: {o:?}");
        }
        // Anything else after DO is still judged by the parser.
        assert!(!matches!(outcomes("DO $$ x $$ $$ y $$;")[0], ParseOutcome::Parsed));
        assert!(!matches!(outcomes("DO nothing;")[0], ParseOutcome::Parsed));
    }

    #[test]
    fn garbage_and_templates_are_invalid() {
        for sql in [
            "CREAT TABLE t (a int);",
            "CREATE TABLE {{ index .Options \"Namespace\" }}.users (id int);",
            "SELECT (1;",
            "ALTER TABLE a DROP CONSTRAINT a_pkey\nALTER TABLE a ALTER COLUMN d TYPE timestamp;",
            "INSERT INTO t VALUES ('unterminated);",
        ] {
            let o = outcomes(sql);
            assert!(matches!(o[0], ParseOutcome::Invalid { .. }), "{sql}: {o:?}");
        }
    }

    #[test]
    fn edits_reuse_unchanged_statements() {
        let v1 = SqlFile::parse("SELECT 1;\nSELECT 2;\n", Dialect::Postgres, None);
        let v2 = SqlFile::parse("SELECT 1;\nSELECT 3;\n", Dialect::Postgres, Some(&v1));
        assert!(std::sync::Arc::ptr_eq(&v1.statements[0].parsed, &v2.statements[0].parsed));
        assert!(!std::sync::Arc::ptr_eq(&v1.statements[1].parsed, &v2.statements[1].parsed));
    }
}
