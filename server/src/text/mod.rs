//! Text positions. The engine speaks byte offsets; this module is the one place that converts them
//! to and from the line/column forms that the LSP (UTF-16 or UTF-8 code units) and the CLI (1-based
//! character columns) show to people.

mod document;

pub use document::{Document, EditError};

/// How a client counts columns. LSP defaults to UTF-16; a client may negotiate UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PositionEncoding {
    #[default]
    Utf16,
    Utf8,
}

/// A zero-based line and a column in the units of some [`PositionEncoding`] (or characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct LineCol {
    pub line: u32,
    pub col: u32,
}

/// Line starts of one text, for converting byte offsets to line/column and back.
#[derive(Debug, Clone)]
pub struct LineIndex {
    /// Byte offset at which each line starts; `line_starts[0] == 0`.
    line_starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut line_starts = Vec::with_capacity(text.len() / 32 + 1);
        line_starts.push(0);
        line_starts.extend(memchr_newlines(text.as_bytes()).map(|i| i + 1));
        LineIndex { line_starts, len: text.len() }
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Byte range of a zero-based line, without its terminator.
    pub fn line_range(&self, text: &str, line: usize) -> std::ops::Range<usize> {
        let start = self.line_starts.get(line).copied().unwrap_or(self.len);
        let mut end = self.line_starts.get(line + 1).map(|n| n - 1).unwrap_or(self.len);
        if end > start && text.as_bytes().get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        start..end
    }

    /// Zero-based line containing `offset` (clamped to the text).
    pub fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.len);
        match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    /// Byte offset to a position whose column counts code units of `encoding`.
    pub fn position(&self, text: &str, offset: usize, encoding: PositionEncoding) -> LineCol {
        let offset = floor_char_boundary(text, offset.min(self.len));
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        let prefix = &text[start..offset];
        let col = match encoding {
            PositionEncoding::Utf8 => prefix.len(),
            PositionEncoding::Utf16 => prefix.chars().map(char::len_utf16).sum(),
        };
        LineCol { line: line as u32, col: col as u32 }
    }

    /// Byte offset to a zero-based line and a column counted in characters (for people and JSON).
    pub fn char_position(&self, text: &str, offset: usize) -> LineCol {
        let offset = floor_char_boundary(text, offset.min(self.len));
        let line = self.line_of(offset);
        let col = text[self.line_starts[line]..offset].chars().count();
        LineCol { line: line as u32, col: col as u32 }
    }

    /// A client position to a byte offset. Positions past the end of a line clamp to the line end,
    /// lines past the end clamp to the end of the text, and a column inside a surrogate pair or a
    /// multi-byte character snaps to the character's start, as the LSP specification asks.
    pub fn offset(&self, text: &str, pos: LineCol, encoding: PositionEncoding) -> usize {
        let Some(&start) = self.line_starts.get(pos.line as usize) else {
            return self.len;
        };
        let end = self.line_starts.get(pos.line as usize + 1).map(|n| n - 1).unwrap_or(self.len);
        let line = &text[start..end];
        let want = pos.col as usize;
        match encoding {
            PositionEncoding::Utf8 => start + floor_char_boundary(line, want.min(line.len())),
            PositionEncoding::Utf16 => {
                let mut units = 0;
                for (i, ch) in line.char_indices() {
                    if units >= want {
                        return start + i;
                    }
                    units += ch.len_utf16();
                    if units > want {
                        return start + i;
                    }
                }
                end
            }
        }
    }
}

fn memchr_newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i)
}

/// The closest of `candidates` to a mistyped `word`, for "did you mean" hints: only near misses
/// (an edit distance of at most a third of the word, and at least 3).
pub fn closest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let (best, distance) = candidates.into_iter().map(|c| (c, strsim::levenshtein(word, c))).min_by_key(|(_, d)| *d)?;
    (distance <= (word.chars().count() / 3).max(3)).then_some(best)
}

/// The largest char boundary at or below `offset`.
pub fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    if offset >= text.len() {
        return text.len();
    }
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_and_utf8_columns_differ_after_non_ascii() {
        let text = "ALTER TABLE \"café😀\" ADD x int;\nSELECT 1;";
        let idx = LineIndex::new(text);
        let add = text.find("ADD").unwrap();
        let u16 = idx.position(text, add, PositionEncoding::Utf16);
        let u8 = idx.position(text, add, PositionEncoding::Utf8);
        assert_eq!(u16, LineCol { line: 0, col: 21 });
        assert_eq!(u8, LineCol { line: 0, col: 24 });
        assert_eq!(idx.char_position(text, add).col, 20);
        assert_eq!(idx.offset(text, u16, PositionEncoding::Utf16), add);
        assert_eq!(idx.offset(text, u8, PositionEncoding::Utf8), add);
    }

    #[test]
    fn offsets_clamp_and_snap() {
        let text = "a😀b\nxy";
        let idx = LineIndex::new(text);
        // col 2 is inside the surrogate pair of 😀: snap to its start.
        assert_eq!(idx.offset(text, LineCol { line: 0, col: 2 }, PositionEncoding::Utf16), 1);
        assert_eq!(idx.offset(text, LineCol { line: 0, col: 99 }, PositionEncoding::Utf16), 6);
        assert_eq!(idx.offset(text, LineCol { line: 9, col: 0 }, PositionEncoding::Utf16), text.len());
        assert_eq!(idx.line_of(7), 1);
    }

    #[test]
    fn closest_suggests_only_near_misses() {
        let ids = ["create-index-blocking", "drop-index-blocking", "drop-table"];
        assert_eq!(closest("create-index-blockin", ids), Some("create-index-blocking"));
        assert_eq!(closest("drop-tabel", ids), Some("drop-table"));
        assert_eq!(closest("vacuum", ids), None);
    }

    #[test]
    fn line_range_strips_crlf() {
        let text = "one\r\ntwo";
        let idx = LineIndex::new(text);
        assert_eq!(&text[idx.line_range(text, 0)], "one");
        assert_eq!(&text[idx.line_range(text, 1)], "two");
    }
}
