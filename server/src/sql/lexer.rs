//! Tokens with byte ranges. sqlparser's tokenizer reports line/column locations (columns count
//! characters); the engine works in byte offsets, so we walk the text once to translate.

use sqlparser::dialect::Dialect as SqlDialect;
use sqlparser::tokenizer::{Location, Span as SqlSpan, Token, TokenWithSpan, Tokenizer, Whitespace};

/// A token and where it sits, as a byte range. Inside a cached statement the range is relative to
/// the statement start; in a file token stream it is file-absolute.
#[derive(Debug, Clone, PartialEq)]
pub struct Tok {
    pub token: Token,
    pub start: u32,
    pub end: u32,
    /// sqlparser's own location (1-based line, character column), kept so the parser can be fed
    /// these tokens without tokenizing the text a second time.
    pub loc: SqlSpan,
}

impl Tok {
    pub fn is_trivia(&self) -> bool {
        matches!(self.token, Token::Whitespace(_))
    }

    pub fn is_comment(&self) -> bool {
        matches!(self.token, Token::Whitespace(Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_)))
    }

    /// What a token leaves behind when it is moved out of a token stream.
    pub(crate) fn placeholder() -> Tok {
        Tok { token: Token::EOF, start: 0, end: 0, loc: SqlSpan::empty() }
    }

    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// The tokenizer stopped: the text from `offset` on could not be read (unterminated string, `$$`
/// body or quoted identifier, or a character no SQL dialect allows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    pub message: String,
    /// Byte offset where the unreadable part starts (the end of the last good token).
    pub offset: usize,
}

/// Result of tokenizing a whole file.
#[derive(Debug, Default)]
pub struct Lexed {
    pub tokens: Vec<Tok>,
    pub error: Option<LexError>,
}

pub fn tokenize(dialect: &dyn SqlDialect, text: &str) -> Lexed {
    let mut buf: Vec<TokenWithSpan> = Vec::with_capacity(text.len() / 4);
    let result = Tokenizer::new(dialect, text).tokenize_with_location_into_buf(&mut buf);
    let mut walker = LocationWalker::new(text);
    let mut tokens = Vec::with_capacity(buf.len());
    for TokenWithSpan { token, span } in buf {
        let start = walker.offset_of(span.start);
        let end = walker.offset_of(span.end).max(start);
        tokens.push(Tok { token, start: start as u32, end: end as u32, loc: span });
    }
    let error = result.err().map(|e| {
        let offset = tokens.last().map(|t| t.end as usize).unwrap_or(0);
        let message = e.message.trim().to_string();
        LexError { message, offset }
    });
    Lexed { tokens, error }
}

/// Translates sqlparser (line, char column) locations into byte offsets. Locations arrive in
/// increasing order, so one forward walk over the text serves the whole token stream.
struct LocationWalker<'t> {
    text: &'t str,
    byte: usize,
    line: u64,
    col: u64,
}

impl<'t> LocationWalker<'t> {
    fn new(text: &'t str) -> Self {
        LocationWalker { text, byte: 0, line: 1, col: 1 }
    }

    fn offset_of(&mut self, loc: Location) -> usize {
        if (loc.line, loc.column) < (self.line, self.col) {
            // Out-of-order locations (re-tokenized comment hints) keep the current position.
            return self.byte;
        }
        let bytes = self.text.as_bytes();
        // Fast path: same line, and the columns to skip are ASCII, so one column is one byte.
        if loc.line == self.line {
            let want = (loc.column - self.col) as usize;
            if let Some(seg) = bytes.get(self.byte..self.byte + want) {
                if seg.iter().all(|b| b.is_ascii() && *b != b'\n') {
                    self.byte += want;
                    self.col = loc.column;
                    return self.byte;
                }
            }
        }
        while (self.line, self.col) < (loc.line, loc.column) && self.byte < bytes.len() {
            let b = bytes[self.byte];
            if b == b'\n' {
                self.line += 1;
                self.col = 1;
                self.byte += 1;
            } else if b < 0x80 {
                self.col += 1;
                self.byte += 1;
            } else {
                let ch_len = utf8_len(b);
                self.col += 1;
                self.byte = (self.byte + ch_len).min(bytes.len());
            }
        }
        self.byte
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Rebases file-absolute tokens, in place, to a statement that starts at `base` (byte) / `base_loc`.
pub fn rebase(tokens: &mut [Tok], base: usize, base_loc: Location) {
    let shift = |l: Location| -> Location {
        if l.line == 0 {
            return l;
        }
        let line = l.line.saturating_sub(base_loc.line) + 1;
        let column = if l.line == base_loc.line { l.column.saturating_sub(base_loc.column) + 1 } else { l.column };
        Location { line, column }
    };
    for t in tokens {
        t.start -= base as u32;
        t.end -= base as u32;
        t.loc = SqlSpan { start: shift(t.loc.start), end: shift(t.loc.end) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::PostgreSqlDialect;

    #[test]
    fn byte_ranges_slice_the_token_text() {
        let text = "-- héllo\nCREATE TABLE \"tä\" (b text DEFAULT $x$ ; $x$);";
        let lexed = tokenize(&PostgreSqlDialect {}, text);
        assert!(lexed.error.is_none());
        let words: Vec<&str> = lexed.tokens.iter().filter(|t| !t.is_trivia()).map(|t| &text[t.range()]).collect();
        assert_eq!(words, ["CREATE", "TABLE", "\"tä\"", "(", "b", "text", "DEFAULT", "$x$ ; $x$", ")", ";"]);
    }

    #[test]
    fn unterminated_dollar_body_reports_where_it_starts() {
        let text = "SELECT 1;\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1;";
        let lexed = tokenize(&PostgreSqlDialect {}, text);
        let err = lexed.error.expect("unterminated $$ must fail");
        assert!(text[err.offset..].starts_with("$$ SELECT 1;"), "{:?}", &text[err.offset..]);
    }
}
