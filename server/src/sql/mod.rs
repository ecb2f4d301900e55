//! SQL text → statements → facts. Pure and synchronous: no IO, no LSP types.

pub mod facts;
pub mod lexer;
pub mod locks;
mod parse;
pub mod recognize;
pub mod split;

use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHasher};
use serde::{Deserialize, Serialize};
use sqlparser::dialect::{Dialect as SqlDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};

pub use facts::{Span, StatementFacts, StatementKind};
pub use lexer::{LexError, Tok};
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
    pub statements: Vec<Statement>,
    pub comments: Vec<Comment>,
}

impl SqlFile {
    /// Splits and parses `text`. Statements whose text also appears in `previous` reuse its parse,
    /// so an edit re-parses only the statements it touched.
    pub fn parse(text: &str, dialect: Dialect, previous: Option<&SqlFile>) -> SqlFile {
        let lexed = lexer::tokenize(dialect.sqlparser(), text);
        let raw = split::split(&lexed, text);
        let reuse: FxHashMap<u64, &Arc<ParsedStatement>> = previous
            .filter(|p| p.dialect == dialect)
            .map(|p| p.statements.iter().map(|s| (s.parsed.key, &s.parsed)).collect())
            .unwrap_or_default();
        let comments = lexed
            .tokens
            .iter()
            .filter(|t| t.is_comment())
            .map(|t| Comment { range: t.range() })
            .collect();
        let mut tokens = lexed.tokens;
        let statements = raw
            .into_iter()
            .map(|r| {
                let stmt_text = &text[r.range.clone()];
                let key = content_key(dialect, stmt_text);
                let parsed = match reuse.get(&key) {
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
                Statement { range: r.range, parsed }
            })
            .collect();
        SqlFile { dialect, statements, comments }
    }
}

fn content_key(dialect: Dialect, text: &str) -> u64 {
    let mut h = FxHasher::default();
    dialect.hash(&mut h);
    text.hash(&mut h);
    h.finish()
}
