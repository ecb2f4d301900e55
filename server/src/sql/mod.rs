//! SQL text → statements → facts. Pure and synchronous: no IO, no LSP types.

pub mod facts;
pub mod lexer;
pub mod locks;
mod parse;
mod pg_grammar;
pub mod quote;
pub mod recognize;
pub mod sniff;
pub mod split;
#[cfg(test)]
pub(crate) mod syntax_cases;

use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHasher};

use crate::text::bom_len;
use serde::{Deserialize, Serialize};
use sqlparser::dialect::{Dialect as SqlDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};

pub use facts::{Span, StatementFacts, StatementKind};
pub use lexer::{LexError, Tok};
pub(crate) use parse::judge_rendered;
pub use parse::{ParseOutcome, ParsedStatement};

/// The SQL dialect a migration is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    #[default]
    Postgres,
    Mysql,
    Sqlite,
}

impl Dialect {
    pub fn parse_name(s: &str) -> Option<Dialect> {
        match s.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" | "pg" => Some(Dialect::Postgres),
            "mysql" | "mariadb" => Some(Dialect::Mysql),
            "sqlite" | "sqlite3" => Some(Dialect::Sqlite),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::Mysql => "mysql",
            Dialect::Sqlite => "sqlite",
        }
    }

    pub(crate) fn sqlparser(self) -> &'static dyn SqlDialect {
        static PG: PostgreSqlDialect = PostgreSqlDialect {};
        static MY: MySqlDialect = MySqlDialect {};
        static LITE: SQLiteDialect = SQLiteDialect {};
        match self {
            Dialect::Postgres => &PG,
            Dialect::Mysql => &MY,
            Dialect::Sqlite => &LITE,
        }
    }
}

/// A statement in a file: where it is, and its (shared, content-cached) parse.
#[derive(Debug, Clone)]
pub struct Statement {
    /// File-absolute byte range, from the first token to the terminating `;`.
    pub range: Range<usize>,
    pub parsed: Arc<ParsedStatement>,
}

impl Statement {
    pub fn facts(&self) -> &StatementFacts {
        &self.parsed.facts
    }
    pub fn kind(&self) -> &StatementKind {
        &self.parsed.facts.kind
    }
    /// A statement-relative span as a file-absolute byte range.
    pub fn abs(&self, span: Span) -> Range<usize> {
        let s = self.range.start + span.start as usize;
        let e = self.range.start + span.end as usize;
        s.min(self.range.end)..e.min(self.range.end).max(s.min(self.range.end))
    }
}

/// A comment in the file (suppressions, framework annotations): its file-absolute byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub range: Range<usize>,
}

/// A whole SQL file split, parsed and recognised.
#[derive(Debug, Clone, Default)]
pub struct SqlFile {
    pub dialect: Dialect,
    /// The text the statements were read from.
    pub text: Arc<str>,
    pub statements: Vec<Statement>,
    pub comments: Vec<Comment>,
}

impl SqlFile {
    /// Splits and parses `text`. A leading byte order mark is skipped: the statements and
    /// comments start after it, with offsets into `text`.
    ///
    /// With `previous` (the same document before an edit), only the region the edit touched is
    /// tokenized again: from the statement boundary before the first changed byte to the first
    /// old statement boundary after the last changed byte that the new token stream reaches too.
    /// Statements outside that region keep their parse and move by the edit's length; statements
    /// inside it reuse any parse whose text is unchanged.
    pub fn parse(text: &str, dialect: Dialect, previous: Option<&SqlFile>) -> SqlFile {
        #[cfg(test)]
        crate::engine::test_panic(text, "parse");
        let previous = previous.filter(|p| p.dialect == dialect);
        if let Some(prev) = previous {
            if let Some(file) = Self::reparse_edit(text, prev) {
                #[cfg(test)]
                tests::INCREMENTAL.with(|n| n.set(n.get() + 1));
                return file;
            }
        }
        let reuse = ReuseMap::new(previous);
        // A leading byte order mark says how the file is encoded; it is not SQL.
        let region = lex_region(text, bom_len(text)..text.len(), dialect, &reuse);
        SqlFile { dialect, text: text.into(), statements: region.statements, comments: region.comments }
    }

    fn reparse_edit(text: &str, prev: &SqlFile) -> Option<SqlFile> {
        let old: &str = &prev.text;
        let dialect = prev.dialect;
        if old == text {
            return Some(SqlFile { text: prev.text.clone(), ..prev.clone() });
        }
        let edit = ChangedRange::between(old, text);
        let shift = |at: usize| (at as isize + edit.delta()) as usize;
        // Statements that end before the first changed byte stay as they are.
        let mut keep = prev.statements.partition_point(|s| s.range.end < edit.start);
        // Only a `;` ends a statement for good: an unterminated last statement continues into
        // whatever the edit appends after it.
        while keep > 0 && old.as_bytes().get(prev.statements[keep - 1].range.end.wrapping_sub(1)) != Some(&b';') {
            keep -= 1;
        }
        let restart = keep.checked_sub(1).map(|i| prev.statements[i].range.end).unwrap_or_else(|| bom_len(text));
        let reuse = ReuseMap::new(Some(prev));
        // Try to resynchronise at the end of the first few `;`-terminated old statements after
        // the edit; an edit that opens a string or a `$$` body reaches further.
        let mut k = prev.statements.partition_point(|s| s.range.end <= edit.old_end);
        for _ in 0..4 {
            let Some(sync) = prev.statements.get(k) else {
                let region = lex_region(text, restart..text.len(), dialect, &reuse);
                return Some(prev.splice(text, keep, restart, region, None, &shift));
            };
            if old.as_bytes().get(sync.range.end.wrapping_sub(1)) != Some(&b';') {
                k += 1;
                continue;
            }
            let sync_new = shift(sync.range.end);
            if sync_new > text.len() || sync_new < restart {
                return None;
            }
            let region = lex_region(text, restart..sync_new, dialect, &reuse);
            if region.ends_cleanly {
                return Some(prev.splice(text, keep, restart, region, Some(k), &shift));
            }
            k += 1;
        }
        None
    }

    /// `self[..keep]` + `region` + `self[after + 1..]` shifted by the edit.
    fn splice(
        &self,
        text: &str,
        keep: usize,
        restart: usize,
        region: Region,
        after: Option<usize>,
        shift: &dyn Fn(usize) -> usize,
    ) -> SqlFile {
        let mut statements = Vec::with_capacity(self.statements.len() + region.statements.len());
        statements.extend_from_slice(&self.statements[..keep]);
        statements.extend(region.statements);
        let mut comments: Vec<Comment> = self.comments.iter().filter(|c| c.range.end <= restart).cloned().collect();
        comments.extend(region.comments);
        if let Some(k) = after {
            let old_sync = self.statements[k].range.end;
            statements.extend(
                self.statements[k + 1..].iter().map(|s| Statement {
                    range: shift(s.range.start)..shift(s.range.end),
                    parsed: Arc::clone(&s.parsed),
                }),
            );
            comments.extend(
                self.comments
                    .iter()
                    .filter(|c| c.range.start >= old_sync)
                    .map(|c| Comment { range: shift(c.range.start)..shift(c.range.end) }),
            );
        }
        SqlFile { dialect: self.dialect, text: text.into(), statements, comments }
    }
}

/// The bytes that differ between two versions of a text: `old[start..old_end]` became
/// `new[start..new_end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ChangedRange {
    start: usize,
    old_end: usize,
    new_end: usize,
}

impl ChangedRange {
    fn between(old: &str, new: &str) -> ChangedRange {
        let (a, b) = (old.as_bytes(), new.as_bytes());
        let mut start = a.iter().zip(b).take_while(|(x, y)| x == y).count();
        while !(old.is_char_boundary(start) && new.is_char_boundary(start)) {
            start -= 1;
        }
        let max_suffix = (a.len() - start).min(b.len() - start);
        let mut suffix = a.iter().rev().zip(b.iter().rev()).take(max_suffix).take_while(|(x, y)| x == y).count();
        while !(old.is_char_boundary(a.len() - suffix) && new.is_char_boundary(b.len() - suffix)) {
            suffix -= 1;
        }
        ChangedRange { start, old_end: a.len() - suffix, new_end: b.len() - suffix }
    }

    fn delta(&self) -> isize {
        self.new_end as isize - self.old_end as isize
    }
}

/// Parses from an earlier version of the file, by content.
struct ReuseMap<'p> {
    map: FxHashMap<u64, &'p Arc<ParsedStatement>>,
}

impl<'p> ReuseMap<'p> {
    fn new(previous: Option<&'p SqlFile>) -> Self {
        let map =
            previous.map(|p| p.statements.iter().map(|s| (s.parsed.key, &s.parsed)).collect()).unwrap_or_default();
        ReuseMap { map }
    }
}

/// Statements and comments of `text[range]`, with file-absolute ranges.
struct Region {
    statements: Vec<Statement>,
    comments: Vec<Comment>,
    /// The region's last statement ends with a top-level `;` exactly at the region's end, and the
    /// tokenizer read all of it: the text after it is lexed the same as before.
    ends_cleanly: bool,
}

fn lex_region(text: &str, range: Range<usize>, dialect: Dialect, reuse: &ReuseMap) -> Region {
    let base = range.start;
    let sub = &text[range];
    let lexed = lexer::tokenize(dialect.sqlparser(), sub);
    let raw = split::split(&lexed, sub);
    let ends_cleanly = lexed.error.is_none() && raw.last().is_some_and(|r| r.terminated && r.range.end == sub.len());
    let comments = lexed
        .tokens
        .iter()
        .filter(|t| t.is_comment())
        .map(|t| Comment { range: base + t.start as usize..base + t.end as usize })
        .collect();
    let mut tokens = lexed.tokens;
    let statements = raw
        .into_iter()
        .map(|r| {
            let stmt_text = &sub[r.range.clone()];
            let key = content_key(dialect, stmt_text);
            let parsed = match reuse.map.get(&key) {
                Some(p) if &*p.text == stmt_text && r.lex_error.is_none() => Arc::clone(p),
                _ => {
                    // Each token belongs to one statement: move it out instead of cloning.
                    let own: Vec<Tok> = tokens[r.tokens.clone()]
                        .iter_mut()
                        .filter(|t| !t.is_trivia())
                        .map(|t| std::mem::replace(t, Tok::placeholder()))
                        .collect();
                    Arc::new(ParsedStatement::build(dialect, stmt_text, key, own, r.range.start, r.lex_error.as_ref()))
                }
            };
            Statement { range: base + r.range.start..base + r.range.end, parsed }
        })
        .collect();
    Region { statements, comments, ends_cleanly }
}

fn content_key(dialect: Dialect, text: &str) -> u64 {
    let mut h = FxHasher::default();
    dialect.hash(&mut h);
    text.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// How many parses took the incremental path (on this test thread).
        pub(super) static INCREMENTAL: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    const BASE: &str = "-- safemig: ignore create-index-blocking\nCREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n\
CREATE INDEX users_email_idx ON users (email);\n\
CREATE FUNCTION touch() RETURNS trigger AS $body$ BEGIN NEW.updated_at = now(); RETURN NEW; END $body$ LANGUAGE plpgsql;\n\
/* block ; comment */ ALTER TABLE users ADD COLUMN country text NOT NULL DEFAULT 'US';\n\
INSERT INTO users (email) VALUES ('a;b'), ('c''d');\n\
DO $$ BEGIN PERFORM 1; END $$;\n\
UPDATE users SET email = lower(email) WHERE id > 10; -- trailing\n\
DROP INDEX CONCURRENTLY users_email_idx;\n";

    const SNIPPETS: &[&str] =
        &[";", "'", "$$", "--", "/*", "*/", "\n", " ", "x", "CREATE INDEX i ON t (a);", "é", "BEGIN", "END;", "(", ")"];

    /// A tiny deterministic generator (xorshift), so the test needs no extra crates.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n.max(1) as u64) as usize
        }
    }

    fn summary(f: &SqlFile) -> Vec<String> {
        let mut out: Vec<String> = f
            .statements
            .iter()
            .map(|s| {
                let outcome = match &s.parsed.outcome {
                    ParseOutcome::Parsed => "parsed".to_string(),
                    ParseOutcome::Unsupported { message, offset } => format!("unsupported {offset} {message}"),
                    ParseOutcome::Invalid { message, offset } => format!("invalid {offset} {message}"),
                };
                format!("{:?} {:?} {outcome}", s.range, s.facts())
            })
            .collect();
        out.extend(f.comments.iter().map(|c| format!("comment {:?}", c.range)));
        out
    }

    fn char_boundary(text: &str, rng: &mut Rng) -> usize {
        let mut at = rng.next(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    }

    #[test]
    fn incremental_reparse_equals_a_full_parse_after_random_edits() {
        for dialect in [Dialect::Postgres, Dialect::Sqlite] {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
            let mut text = BASE.repeat(3);
            let mut prev = SqlFile::parse(&text, dialect, None);
            for step in 0..600 {
                // Every fifth edit types at the very end, after a possibly unterminated statement.
                let at = if step % 5 == 0 { text.len() } else { char_boundary(&text, &mut rng) };
                if rng.next(3) == 0 && at < text.len() {
                    let mut end = (at + 1 + rng.next(12)).min(text.len());
                    while !text.is_char_boundary(end) {
                        end += 1;
                    }
                    text.replace_range(at..end, "");
                } else {
                    text.insert_str(at, SNIPPETS[rng.next(SNIPPETS.len())]);
                }
                let incremental = SqlFile::parse(&text, dialect, Some(&prev));
                let full = SqlFile::parse(&text, dialect, None);
                assert_eq!(summary(&incremental), summary(&full), "step {step}, text:\n{text}");
                prev = incremental;
            }
        }
        // Most edits must take the incremental path (a few open a `$$` or string and re-lex all).
        let incremental = INCREMENTAL.with(|n| n.get());
        assert!(incremental > 900, "only {incremental} of 1200 edits were re-lexed incrementally");
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_edits_around_it_reparse_the_same() {
        let bom = crate::text::BOM;
        let v1 = SqlFile::parse(&format!("{bom}{BASE}"), Dialect::Postgres, None);
        assert_eq!(v1.statements[0].range.start, BASE.find("CREATE").map_or(0, |at| at + 3));
        assert_eq!(v1.comments[0].range, 3..BASE.find('\n').map_or(0, |at| at + 3));
        assert!(v1.statements.iter().all(|s| !matches!(s.parsed.outcome, ParseOutcome::Invalid { .. })));
        // Typing after the mark, removing it, putting it back: each equals a parse from scratch.
        let edits =
            [format!("{bom}SELECT 1;\n{BASE}"), BASE.to_string(), format!("{bom}{BASE}"), format!("{bom} {BASE}")];
        let mut prev = v1;
        for text in edits {
            let incremental = SqlFile::parse(&text, Dialect::Postgres, Some(&prev));
            assert_eq!(summary(&incremental), summary(&SqlFile::parse(&text, Dialect::Postgres, None)), "{text}");
            prev = incremental;
        }
    }

    #[test]
    fn typing_after_an_unterminated_last_statement_continues_it() {
        let v1 = SqlFile::parse("SELECT 1;\nCREATE INDEX i ON ", Dialect::Postgres, None);
        let text = "SELECT 1;\nCREATE INDEX i ON orders (a);\n";
        let v2 = SqlFile::parse(text, Dialect::Postgres, Some(&v1));
        let ranges: Vec<_> = v2.statements.iter().map(|s| s.range.clone()).collect();
        let full: Vec<_> =
            SqlFile::parse(text, Dialect::Postgres, None).statements.iter().map(|s| s.range.clone()).collect();
        assert_eq!(ranges, full);
        assert_eq!(ranges, [0..9, 10..39]);
    }

    #[test]
    fn an_edit_reuses_the_parses_outside_the_edited_statement() {
        let v1 = SqlFile::parse(BASE, Dialect::Postgres, None);
        let at = BASE.find("users (email);").expect("fixture text");
        let mut text = BASE.to_string();
        text.insert_str(at, "public.");
        let v2 = SqlFile::parse(&text, Dialect::Postgres, Some(&v1));
        assert_eq!(v1.statements.len(), v2.statements.len());
        let shared =
            v1.statements.iter().zip(&v2.statements).filter(|(a, b)| Arc::ptr_eq(&a.parsed, &b.parsed)).count();
        assert_eq!(shared, v1.statements.len() - 1, "only the edited statement is parsed again");
    }
}
