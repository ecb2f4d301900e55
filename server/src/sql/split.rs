//! Statement splitting on the token stream. Strings, `$$`/`$tag$` bodies and comments are single
//! tokens, so a `;` inside them never splits. Routine and trigger bodies written with
//! `BEGIN … END` (SQLite and MySQL triggers, PostgreSQL `BEGIN ATOMIC`) keep their inner `;`.

use std::ops::Range;

use sqlparser::tokenizer::Token;

use super::lexer::{LexError, Lexed, Tok};

/// One statement's place in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawStatement {
    /// Bytes from the first significant token to the end of the terminating `;` (or of the last
    /// token when the statement is not terminated).
    pub range: Range<usize>,
    /// Indices into the file's token vector: first significant token up to and including `;`.
    pub tokens: Range<usize>,
    /// The tokenizer gave up inside this statement; the range then runs to the end of the text.
    pub lex_error: Option<LexError>,
    /// Ended by a top-level `;` (not by the end of the text).
    pub terminated: bool,
}

pub fn split(lexed: &Lexed, text: &str) -> Vec<RawStatement> {
    let toks = &lexed.tokens;
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut body = BodyTracker::default();
    for (i, tok) in toks.iter().enumerate() {
        if tok.is_trivia() {
            continue;
        }
        let first = *start.get_or_insert(i);
        if first == i {
            body = BodyTracker::default();
        }
        body.observe(toks, first, i);
        if matches!(tok.token, Token::SemiColon) && body.depth == 0 {
            out.push(RawStatement {
                range: toks[first].start as usize..tok.end as usize,
                tokens: first..i + 1,
                lex_error: None,
                terminated: true,
            });
            start = None;
        }
    }
    match (&lexed.error, start) {
        (Some(err), Some(first)) => out.push(RawStatement {
            range: toks[first].start as usize..text.len(),
            tokens: first..toks.len(),
            lex_error: Some(err.clone()),
            terminated: false,
        }),
        (Some(err), None) => {
            let tail = &text[err.offset..];
            let skip = tail.len() - tail.trim_start().len();
            out.push(RawStatement {
                range: err.offset + skip..text.len(),
                tokens: toks.len()..toks.len(),
                lex_error: Some(err.clone()),
                terminated: false,
            });
        }
        (None, Some(first)) => {
            let last = toks[first..].iter().rposition(|t| !t.is_trivia()).map(|p| first + p).unwrap_or(first);
            out.push(RawStatement {
                range: toks[first].start as usize..toks[last].end as usize,
                tokens: first..last + 1,
                lex_error: None,
                terminated: false,
            });
        }
        (None, None) => {}
    }
    out
}

/// Tracks `BEGIN … END` nesting inside statements that define a routine or trigger body.
#[derive(Default)]
struct BodyTracker {
    /// The statement was recognised as CREATE … TRIGGER/FUNCTION/PROCEDURE/EVENT.
    routine: Option<bool>,
    depth: u32,
    prev_word_end: bool,
}

impl BodyTracker {
    fn observe(&mut self, toks: &[Tok], first: usize, i: usize) {
        let routine = *self.routine.get_or_insert_with(|| defines_routine(toks, first));
        if !routine {
            return;
        }
        let Token::Word(w) = &toks[i].token else {
            self.prev_word_end = false;
            return;
        };
        if w.quote_style.is_some() {
            self.prev_word_end = false;
            return;
        }
        let v = w.value.as_str();
        let opens_block = v.eq_ignore_ascii_case("BEGIN") || (v.eq_ignore_ascii_case("CASE") && !self.prev_word_end);
        if opens_block {
            self.depth += 1;
        } else if v.eq_ignore_ascii_case("END") {
            let closes_block = !next_word_is(toks, i, &["IF", "LOOP", "WHILE", "REPEAT"]);
            if closes_block {
                self.depth = self.depth.saturating_sub(1);
            }
        }
        self.prev_word_end = v.eq_ignore_ascii_case("END");
    }
}

fn defines_routine(toks: &[Tok], first: usize) -> bool {
    let mut words = toks[first..].iter().filter(|t| !t.is_trivia()).take(8).map_while(|t| match &t.token {
        Token::Word(w) => Some(w.value.to_ascii_uppercase()),
        Token::Eq | Token::Period | Token::AtSign => Some(String::new()),
        _ => None,
    });
    if words.next().as_deref() != Some("CREATE") {
        return false;
    }
    words.any(|w| matches!(w.as_str(), "TRIGGER" | "FUNCTION" | "PROCEDURE" | "EVENT"))
}

fn next_word_is(toks: &[Tok], i: usize, options: &[&str]) -> bool {
    toks[i + 1..]
        .iter()
        .find(|t| !t.is_trivia())
        .is_some_and(|t| matches!(&t.token, Token::Word(w) if options.iter().any(|o| w.value.eq_ignore_ascii_case(o))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::lexer::tokenize;
    use sqlparser::dialect::{PostgreSqlDialect, SQLiteDialect};

    fn pieces(dialect: &dyn sqlparser::dialect::Dialect, text: &str) -> Vec<String> {
        let lexed = tokenize(dialect, text);
        split(&lexed, text).into_iter().map(|s| text[s.range].to_string()).collect()
    }

    #[test]
    fn dollar_bodies_strings_and_comments_do_not_split() {
        let text = "CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN x := 'a;b'; RETURN NEW; END $body$ LANGUAGE plpgsql;\n\
                    -- a comment; with a semicolon\nSELECT ';' /* ; */ ;\nDO $$ BEGIN PERFORM 1; END $$";
        assert_eq!(
            pieces(&PostgreSqlDialect {}, text),
            [
                "CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN x := 'a;b'; RETURN NEW; END $body$ LANGUAGE plpgsql;",
                "SELECT ';' /* ; */ ;",
                "DO $$ BEGIN PERFORM 1; END $$",
            ]
        );
    }

    #[test]
    fn sqlite_trigger_body_stays_whole() {
        let text = "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET n = CASE WHEN 1 THEN 2 END; DELETE FROM c; END;\nSELECT 1;";
        let got = pieces(&SQLiteDialect {}, text);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].ends_with("END;"));
    }

    #[test]
    fn postgres_begin_atomic_body_stays_whole() {
        let text =
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\nBEGIN;\nCOMMIT;";
        assert_eq!(pieces(&PostgreSqlDialect {}, text).len(), 3);
    }

    #[test]
    fn unterminated_string_swallows_the_rest() {
        let text = "SELECT 1;\nINSERT INTO t VALUES ('oops);\nSELECT 2;";
        let lexed = tokenize(&PostgreSqlDialect {}, text);
        let stmts = split(&lexed, text);
        assert_eq!(stmts.len(), 2);
        assert!(stmts[1].lex_error.is_some());
        assert_eq!(&text[stmts[1].range.clone()], "INSERT INTO t VALUES ('oops);\nSELECT 2;");
    }
}
