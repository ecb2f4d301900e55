//! sqlparser on one statement, and the verdict on what a parse failure means.

use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Token, TokenWithSpan};

use super::facts::{DropIndex, StatementFacts, StatementKind};
use super::lexer::{self, LexError, Tok};
use super::pg_grammar::{self, Verdict};
use super::recognize::{literal_token, recognize};
use super::Dialect;

/// How deep sqlparser may recurse; deeper input is reported as a parser limitation.
const RECURSION_LIMIT: usize = 64;

/// How long a chain of operators sqlparser is given. It reads `a AND b AND c …` (or `+`, `||`,
/// `::`…) in a loop but builds a tree one level deeper per operator, and dropping that tree
/// recurses once per level: ~32,500 operators overflowed a 2 MiB thread (the language server's),
/// ~130,000 the CLI's main thread. A longer chain is a parser limitation: a hint, and the rules
/// run on the statement's tokens (PostgreSQL's own parser still judges it valid or not).
const OPERATOR_CHAIN_LIMIT: usize = 5_000;

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

/// Commands that start a line after a statement whose `;` was forgotten.
const STARTERS: &[&str] =
    &["ALTER", "CREATE", "DROP", "INSERT", "UPDATE", "DELETE", "SELECT", "GRANT", "REVOKE", "COMMENT", "TRUNCATE"];

/// The verdict on one statement, and what sqlparser made of it.
#[derive(Debug, Clone)]
pub enum ParseOutcome {
    /// sqlparser read it. The AST itself is not kept: rules work on the facts, and keeping every
    /// statement's tree of a 10,000-migration workspace would cost more memory than it is worth.
    Parsed,
    /// Valid SQL that sqlparser cannot read: a parser limitation; the facts still come from the
    /// tokens. For PostgreSQL, PostgreSQL's own parser accepted it; for the other dialects this is
    /// a judgement on the tokens (a known command, balanced brackets, no stray characters).
    Unsupported { message: String, offset: u32 },
    /// A real syntax error: for PostgreSQL, PostgreSQL's own parser rejects the statement; for the
    /// other dialects, an unterminated literal, garbage, unknown command, unbalanced brackets.
    /// The message is complete (the rule shows it as it is).
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
        let lex_failure = lex_error.map(|err| SqlparserFailure {
            message: format!("the tokenizer stopped here: {}", strip_location(&err.message)),
            offset: err.offset.saturating_sub(base) as u32,
        });
        let outcome = match dialect {
            Dialect::Postgres => postgres_outcome(text, tokens, &facts, lex_failure),
            Dialect::Mysql | Dialect::Sqlite => match lex_failure {
                Some(SqlparserFailure { message, offset }) => {
                    ParseOutcome::Invalid { message: format!("syntax error: {message}"), offset }
                }
                None => match parse_tokens(dialect, tokens, &facts) {
                    Ok(()) => ParseOutcome::Parsed,
                    Err(err) => classify_failure(dialect, text, &facts, err),
                },
            },
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

/// Why sqlparser's tokenizer or parser stopped, and where (relative to the statement).
struct SqlparserFailure {
    message: String,
    offset: u32,
}

/// PostgreSQL's own parser decides valid or invalid; sqlparser only decides whether the
/// statement is `Parsed` or read from its tokens (`Unsupported`).
fn postgres_outcome(
    text: &str,
    tokens: Vec<Tok>,
    facts: &StatementFacts,
    lex_failure: Option<SqlparserFailure>,
) -> ParseOutcome {
    let sqlparser_verdict = |tokens: Vec<Tok>| match lex_failure {
        Some(SqlparserFailure { message, offset }) => ParseOutcome::Unsupported { message, offset },
        None => match parse_tokens(Dialect::Postgres, tokens, facts) {
            Ok(()) => ParseOutcome::Parsed,
            Err(err) => {
                let (SqlparserFailure { message, offset }, _) = sqlparser_failure(Dialect::Postgres, text, err);
                ParseOutcome::Unsupported { message, offset }
            }
        },
    };
    match pg_grammar::judge(text) {
        Verdict::Accepted => sqlparser_verdict(tokens),
        Verdict::Rejected { message, offset } => {
            // Placeholders become names of the same length: PostgreSQL's offsets still match `text`.
            match runner_placeholders(text, false).map(|t| pg_grammar::judge(&t)) {
                Some(Verdict::Accepted) => ParseOutcome::Unsupported {
                    message: "`${…}` placeholders, which the migration runner (Flyway) substitutes before \
                              PostgreSQL reads the statement; PostgreSQL's parser accepts it with each one read as a name"
                        .into(),
                    offset: text.find("${").unwrap_or(0) as u32,
                },
                Some(Verdict::Rejected { message, offset }) => rejected(text, message, offset),
                _ => rejected(text, message, offset),
            }
        }
        Verdict::Unjudged { message } => match sqlparser_verdict(tokens) {
            ParseOutcome::Parsed => ParseOutcome::Parsed,
            _ => ParseOutcome::Unsupported {
                message: format!("PostgreSQL's parser could not finish here: {message}"),
                offset: 0,
            },
        },
    }
}

/// PostgreSQL's parser on `text` once a runner that renders Go templates (gobuffalo pop:
/// `{{ index .Options "Namespace" }}`) has rendered it, each action read as a name: `None` when
/// it holds no action; else `Ok` when accepted, or the error and its offset (in `text`: the
/// rendered text keeps every offset).
pub(crate) fn judge_rendered(text: &str) -> Option<Result<(), (String, u32)>> {
    let rendered = runner_placeholders(text, true).filter(|_| text.contains("{{"))?;
    Some(match pg_grammar::judge(&rendered) {
        Verdict::Accepted | Verdict::Unjudged { .. } => Ok(()),
        Verdict::Rejected { message, offset } => match rejected(&rendered, message, offset) {
            ParseOutcome::Invalid { message, offset } => Err((message, offset)),
            _ => Ok(()),
        },
    })
}

/// `text` with each runner placeholder replaced by a name of the same byte length, if it holds
/// one: Flyway's `${name}`, and with `templates` a Go template action `{{ … }}` on one line.
/// Neither is ever valid PostgreSQL: `$` starts only parameters and dollar quotes, and `{` no
/// syntax at all.
fn runner_placeholders(text: &str, templates: bool) -> Option<String> {
    if !(text.contains("${") || templates && text.contains("{{")) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(['$', '{']) {
        out.push_str(&rest[..start]);
        let here = &rest[start..];
        let len = if let Some(after) = here.strip_prefix("${") {
            let name_len = after
                .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | ':')))
                .unwrap_or(after.len());
            (after[name_len..].starts_with('}') && name_len > 0).then_some(name_len + 3)
        } else if let Some(after) = here.strip_prefix("{{").filter(|_| templates) {
            let line = &after[..after.find('\n').unwrap_or(after.len())];
            line.find("}}").filter(|&end| end > 0).map(|end| end + 4)
        } else {
            None
        };
        match len {
            Some(len) => {
                out.push_str(&"_".repeat(len));
                rest = &here[len..];
            }
            None => {
                let c = here.chars().next().map_or(1, char::len_utf8);
                out.push_str(&here[..c]);
                rest = &here[c..];
            }
        }
    }
    out.push_str(rest);
    Some(out)
}

/// PostgreSQL rejected the statement at `offset`: its message, and what it most likely means when
/// that can be told for certain.
fn rejected(text: &str, message: String, offset: usize) -> ParseOutcome {
    // PostgreSQL quotes the rest of the input after an unterminated literal: one line of it is enough.
    let message = match message.split_once('\n') {
        Some((first, _)) => format!("{first}…\""),
        None => message,
    };
    let at = &text[offset.min(text.len())..];
    let message = if at.starts_with('{') || at.starts_with('}') {
        format!("{message}: `{{` and `}}` are not PostgreSQL syntax (an unrendered template?)")
    } else if let Some(command) = missing_semicolon_before(text, offset) {
        format!("{message}: `;` missing before this `{command}`, so it is read as part of the statement above")
    } else {
        message
    };
    ParseOutcome::Invalid { message, offset: offset as u32 }
}

/// The command keyword at `offset`, if it starts a line and the text before it is a complete
/// statement for PostgreSQL: two statements with no `;` between them.
fn missing_semicolon_before(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?;
    let word: String = text[offset..].chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    let upper = word.to_ascii_uppercase();
    let line_start = before.trim_end_matches([' ', '\t', '\r']).ends_with('\n');
    let complete = || !before.trim().is_empty() && pg_grammar::judge(before) == Verdict::Accepted;
    (STARTERS.contains(&upper.as_str()) && line_start && complete()).then_some(upper)
}

/// Hands the tokens to sqlparser (moved, not copied).
fn parse_tokens(dialect: Dialect, tokens: Vec<Tok>, facts: &StatementFacts) -> Result<(), ParserError> {
    if matches!(facts.kind, StatementKind::Empty) || is_do_block(dialect, &tokens) {
        return Ok(());
    }
    // sqlparser lacks `DROP INDEX CONCURRENTLY`: the statement is read again without the
    // keyword, so that the concurrent drop (what `drop-index-blocking` asks for) is not flagged.
    let without_concurrently: Option<Vec<Tok>> = match &facts.kind {
        StatementKind::DropIndex(DropIndex { concurrently: Some(c), .. }) => {
            Some(tokens.iter().filter(|t| t.start != c.start).cloned().collect())
        }
        _ => None,
    };
    let chain = operator_chain(&tokens);
    if chain > OPERATOR_CHAIN_LIMIT {
        return Err(ParserError::ParserError(format!(
            "the statement chains {chain} operators in one expression, more than safemig's parser follows \
             ({OPERATOR_CHAIN_LIMIT})"
        )));
    }
    let parse = |tokens: Vec<Tok>| {
        let with_spans: Vec<TokenWithSpan> =
            tokens.into_iter().map(|t| TokenWithSpan { token: t.token, span: t.loc }).collect();
        Parser::new(dialect.sqlparser())
            .with_recursion_limit(RECURSION_LIMIT)
            .with_tokens_with_locations(with_spans)
            .parse_statements()
            .map(drop)
    };
    match parse(tokens) {
        Err(_) if without_concurrently.is_some_and(|t| parse(t).is_ok()) => Ok(()),
        result => result,
    }
}

/// How deep sqlparser's tree for `tokens` can grow from chains of operators: the most operators
/// on any path from the statement down to one expression, counting each list item (between
/// commas) of each bracket level separately, and the levels around it together. One pass over the
/// tokens, no recursion.
fn operator_chain(tokens: &[Tok]) -> usize {
    let operator_word = |t: &Tok| match &t.token {
        Token::Word(w) if w.quote_style.is_none() => {
            ["AND", "OR", "NOT", "IS", "LIKE", "ILIKE", "SIMILAR", "BETWEEN", "IN", "COLLATE", "AT"]
                .iter()
                .any(|k| w.value.eq_ignore_ascii_case(k))
        }
        _ => false,
    };
    // Per open bracket level: the operators of its current list item.
    let mut levels: Vec<usize> = vec![0];
    let (mut open, mut longest) = (0usize, 0usize);
    for t in tokens {
        match &t.token {
            Token::LParen | Token::LBracket => {
                // A subscript or call is one more level of the tree too.
                if let Some(top) = levels.last_mut() {
                    *top += 1;
                    open += 1;
                }
                levels.push(0);
            }
            Token::RParen | Token::RBracket => {
                if levels.len() > 1 {
                    open -= levels.pop().unwrap_or(0);
                }
            }
            Token::Comma | Token::SemiColon => {
                if let Some(top) = levels.last_mut() {
                    open -= *top;
                    *top = 0;
                }
            }
            Token::Word(_) if !operator_word(t) => {}
            Token::Period | Token::Whitespace(_) => {}
            _ if literal_token(t) => {}
            _ => {
                if let Some(top) = levels.last_mut() {
                    *top += 1;
                    open += 1;
                }
            }
        }
        longest = longest.max(open);
    }
    longest
}

/// sqlparser's message and the offset it points at, from the statement's tokens read again
/// (a failure is rare: the tokens were moved into the parser).
fn sqlparser_failure(dialect: Dialect, text: &str, err: ParserError) -> (SqlparserFailure, Vec<Tok>) {
    let lexed = lexer::tokenize(dialect.sqlparser(), text);
    let tokens: Vec<Tok> = lexed.tokens.into_iter().filter(|t| !t.is_trivia()).collect();
    let (message, loc) = match &err {
        ParserError::RecursionLimitExceeded => {
            (format!("the statement nests deeper than safemig's parser follows ({RECURSION_LIMIT} levels)"), None)
        }
        ParserError::ParserError(m) | ParserError::TokenizerError(m) => {
            let (msg, loc) = split_location(m);
            (msg.to_string(), loc)
        }
    };
    let offset = loc.and_then(|l| offset_of_location(&tokens, l)).unwrap_or(0);
    (SqlparserFailure { message, offset }, tokens)
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

/// For the dialects without their own parser here (MySQL, SQLite): whether sqlparser's failure
/// is a real syntax error, judged on the tokens, or a parser limitation.
fn classify_failure(dialect: Dialect, text: &str, facts: &StatementFacts, err: ParserError) -> ParseOutcome {
    let (SqlparserFailure { message, offset }, tokens) = sqlparser_failure(dialect, text, err);
    if let Some(command) = semicolon_missing_by_tokens(text, &tokens, &message, offset) {
        return ParseOutcome::Invalid {
            message: format!(
                "syntax error: missing `;` before this `{command}`: it is read as part of the statement above ({message})"
            ),
            offset,
        };
    }
    if let Some(problem) = structural_problem(dialect, &tokens, facts) {
        return ParseOutcome::Invalid {
            message: format!("syntax error: {problem} ({message})"),
            offset: problem_offset(&tokens).unwrap_or(offset),
        };
    }
    ParseOutcome::Unsupported { message, offset }
}

/// The parser considered the statement complete and then met a command keyword at the start of a
/// line: two statements with no `;` between them.
fn semicolon_missing_by_tokens(text: &str, tokens: &[Tok], message: &str, offset: u32) -> Option<String> {
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
    use super::{operator_chain, OPERATOR_CHAIN_LIMIT};
    use crate::sql::lexer::{self, Tok};
    use crate::sql::syntax_cases::{TYPOS, VALID};
    use crate::sql::{Dialect, ParseOutcome, SqlFile, StatementKind};

    fn outcomes(sql: &str) -> Vec<ParseOutcome> {
        SqlFile::parse(sql, Dialect::Postgres, None).statements.iter().map(|s| s.parsed.outcome.clone()).collect()
    }

    fn chain_of(sql: &str) -> usize {
        let lexed = lexer::tokenize(Dialect::Postgres.sqlparser(), sql);
        let tokens: Vec<Tok> = lexed.tokens.into_iter().filter(|t| !t.is_trivia()).collect();
        operator_chain(&tokens)
    }

    #[test]
    fn operator_chains_count_one_path_not_the_whole_statement() {
        assert_eq!(chain_of("SELECT a AND b AND c;"), 2);
        assert_eq!(chain_of("SELECT 1::int::bigint || 'x';"), 3);
        // Levels add up along a path; list items and rows do not.
        assert_eq!(chain_of("SELECT a + (b + (c + d));"), 5);
        assert_eq!(chain_of("SELECT a + b, c + d, e + f;"), 1);
        let rows = vec!["(-1, 'a' || 'b')"; 50_000].join(", ");
        assert!(chain_of(&format!("INSERT INTO t VALUES {rows};")) <= 2);
        // A stray closer does not underflow.
        assert_eq!(chain_of("SELECT a + b) + c];"), 2);
    }

    /// A chain past the limit is a parser limitation (a hint; the tokens' facts stand), and one
    /// below it is read on a test thread's 2 MiB stack, as the language server's threads have.
    #[test]
    fn long_operator_chains_are_a_parser_limitation_not_a_stack_overflow() {
        let chain = |n: usize| format!("UPDATE t SET a = 1 WHERE {};", vec!["b = 1"; n].join(" AND "));
        let long = SqlFile::parse(&chain(OPERATOR_CHAIN_LIMIT), Dialect::Postgres, None);
        let ParseOutcome::Unsupported { message, .. } = &long.statements[0].parsed.outcome else {
            panic!("{:?}", long.statements[0].parsed.outcome)
        };
        assert!(message.contains("chains") && message.contains("operators"), "{message}");
        assert!(matches!(long.statements[0].kind(), StatementKind::Update(_)));
        // Negative: below the limit the statement is parsed as before.
        let short = SqlFile::parse(&chain(OPERATOR_CHAIN_LIMIT / 4), Dialect::Postgres, None);
        assert!(short.statements[0].parsed.is_parsed(), "{:?}", short.statements[0].parsed.outcome);
        // MySQL: the same limitation, not a syntax error.
        let mysql = SqlFile::parse(&chain(OPERATOR_CHAIN_LIMIT), Dialect::Mysql, None);
        assert!(matches!(mysql.statements[0].parsed.outcome, ParseOutcome::Unsupported { .. }));
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
    fn typos_are_invalid_at_the_token_postgres_stops_at() {
        for (sql, tail) in TYPOS {
            let o = outcomes(sql);
            let ParseOutcome::Invalid { message, offset } = &o[0] else { panic!("{sql}: {o:?}") };
            assert!(sql.ends_with(tail));
            assert_eq!(*offset as usize, sql.len() - tail.len(), "{sql}: {message}");
            assert!(message.starts_with("syntax error at"), "{sql}: {message}");
        }
    }

    #[test]
    fn valid_postgres_is_never_invalid() {
        for sql in VALID {
            let o = outcomes(sql);
            assert!(matches!(o[0], ParseOutcome::Parsed | ParseOutcome::Unsupported { .. }), "{sql}: {o:?}");
        }
    }

    fn invalid(sql: &str) -> (String, usize) {
        match &outcomes(sql)[0] {
            ParseOutcome::Invalid { message, offset } => (message.clone(), *offset as usize),
            o => panic!("{sql}: {o:?}"),
        }
    }

    #[test]
    fn a_forgotten_semicolon_is_named_only_when_the_text_above_is_complete() {
        let sql = "ALTER TABLE a DROP CONSTRAINT a_pkey\nALTER TABLE a ALTER COLUMN d TYPE timestamp;";
        let (message, offset) = invalid(sql);
        assert_eq!(offset, sql.rfind("ALTER TABLE").unwrap());
        assert!(message.contains("`;` missing before this `ALTER`"), "{message}");
        // The text above is not a statement of its own: no `;` would help.
        let sql = "CREATE TABLE a (\nALTER TABLE a ADD COLUMN b int;";
        let (message, _) = invalid(sql);
        assert!(!message.contains("missing"), "{message}");
    }

    #[test]
    fn flyway_placeholders_are_substituted_not_errors() {
        let o = outcomes("CREATE TABLE ${schema}.users (id int, owner ${owner_type});");
        assert!(
            matches!(&o[0], ParseOutcome::Unsupported { message, .. } if message.contains("placeholders")),
            "{o:?}"
        );
        // A real error next to a placeholder is still reported, where it is.
        let sql = "CREATE TABLE ${schema}.users (id int DEFUALT 0);";
        assert_eq!(invalid(sql).1, sql.find("DEFUALT").unwrap());
        // `${` with no closing brace is no placeholder.
        assert!(invalid("SELECT ${schema;").0.starts_with("syntax error"));
    }

    #[test]
    fn go_template_actions_read_as_names_once_rendered() {
        use super::judge_rendered;
        // supabase/auth's pop migrations: the runner renders the schema's name.
        for sql in [
            "ALTER TABLE {{ index .Options \"Namespace\" }}.users ADD COLUMN IF NOT EXISTS phone text;",
            "ALTER TABLE \"{{ index .Options \"Namespace\" }}\".\"users\" RENAME COLUMN \"a\" TO \"b\";",
            "CREATE INDEX IF NOT EXISTS i ON {{ index .Options \"Namespace\" }}.users (phone);",
        ] {
            // Unrendered, PostgreSQL rejects it: an error wherever no runner renders it.
            assert!(matches!(outcomes(sql)[0], ParseOutcome::Invalid { .. }), "{sql}");
            assert_eq!(judge_rendered(sql), Some(Ok(())), "{sql}");
        }
        // A real error next to a template action is still one, where it is.
        let sql = "ALTER TABLE {{ .Schema }}.users ADD COLUMN phone text DEFUALT '';";
        assert!(matches!(judge_rendered(sql), Some(Err((_, at))) if at as usize == sql.find("DEFUALT").unwrap()));
        // Braces that are no template action stay errors.
        assert!(matches!(judge_rendered("SELECT {{ 1;"), Some(Err(_))));
        assert!(matches!(judge_rendered("SELECT 1 {{\n}};"), Some(Err(_))));
        // A multi-byte character inside the action keeps the byte length.
        assert_eq!(judge_rendered("ALTER TABLE {{ .Schéma }}.users ADD COLUMN é text;"), Some(Ok(())));
        // Without any template action, nothing to render.
        assert_eq!(judge_rendered("CREAT TABLE t (a int);"), None);
        assert_eq!(judge_rendered("SELECT ${x} FROM t;"), None);
    }

    #[test]
    fn edits_reuse_unchanged_statements() {
        let v1 = SqlFile::parse("SELECT 1;\nSELECT 2;\n", Dialect::Postgres, None);
        let v2 = SqlFile::parse("SELECT 1;\nSELECT 3;\n", Dialect::Postgres, Some(&v1));
        assert!(std::sync::Arc::ptr_eq(&v1.statements[0].parsed, &v2.statements[0].parsed));
        assert!(!std::sync::Arc::ptr_eq(&v1.statements[1].parsed, &v2.statements[1].parsed));
    }
}
