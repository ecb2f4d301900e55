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
    /// Characters and UTF-16 units before every [`CHECKPOINT`]-th byte (floored to a character
    /// boundary), so that a column costs at most that many bytes of counting however long its
    /// line is; `None` for ASCII text, where a column is a byte difference.
    counts: Option<Vec<Counted>>,
}

/// Bytes between two column checkpoints of a non-ASCII text.
const CHECKPOINT: usize = 1024;

/// What lies before a checkpoint: characters and UTF-16 code units.
#[derive(Debug, Clone, Copy, Default)]
struct Counted {
    chars: usize,
    utf16: usize,
}

impl Counted {
    fn of(text: &str) -> Counted {
        text.chars().fold(Counted::default(), |c, ch| Counted { chars: c.chars + 1, utf16: c.utf16 + ch.len_utf16() })
    }
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut line_starts = Vec::with_capacity(text.len() / 32 + 1);
        line_starts.push(0);
        line_starts.extend(memchr_newlines(text.as_bytes()).map(|i| i + 1));
        let counts = (!text.is_ascii()).then(|| {
            let mut counts = Vec::with_capacity(text.len() / CHECKPOINT + 1);
            let (mut at, mut so_far) = (0, Counted::default());
            for k in 0..=text.len() / CHECKPOINT {
                let next = floor_char_boundary(text, k * CHECKPOINT);
                let step = Counted::of(&text[at..next]);
                so_far = Counted { chars: so_far.chars + step.chars, utf16: so_far.utf16 + step.utf16 };
                counts.push(so_far);
                at = next;
            }
            counts
        });
        LineIndex { line_starts, len: text.len(), counts }
    }

    /// Characters and UTF-16 units in `text[..offset]` (`offset` on a character boundary), in
    /// O([`CHECKPOINT`]).
    fn counted(&self, text: &str, offset: usize) -> Counted {
        let Some(counts) = &self.counts else { return Counted { chars: offset, utf16: offset } };
        let k = (offset / CHECKPOINT).min(counts.len().saturating_sub(1));
        let base = counts.get(k).copied().unwrap_or_default();
        let from = floor_char_boundary(text, k * CHECKPOINT).min(offset);
        let rest = Counted::of(&text[from..offset]);
        Counted { chars: base.chars + rest.chars, utf16: base.utf16 + rest.utf16 }
    }

    /// The units of `encoding` (or characters) between a line start and `offset` on that line.
    fn column(&self, text: &str, line_start: usize, offset: usize, unit: fn(Counted) -> usize) -> usize {
        unit(self.counted(text, offset)) - unit(self.counted(text, line_start))
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
        let col = match encoding {
            PositionEncoding::Utf8 => offset - start,
            PositionEncoding::Utf16 => self.column(text, start, offset, |c| c.utf16),
        };
        LineCol { line: line as u32, col: col as u32 }
    }

    /// Byte offset to a zero-based line and a column counted in characters (for people and JSON).
    pub fn char_position(&self, text: &str, offset: usize) -> LineCol {
        let offset = floor_char_boundary(text, offset.min(self.len));
        let line = self.line_of(offset);
        let col = self.column(text, self.line_starts[line], offset, |c| c.chars);
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

    /// Columns read from the checkpoints equal a count from the line start, at every offset of
    /// long lines mixing 1- to 4-byte characters (checkpoints fall inside characters and lines).
    #[test]
    fn checkpointed_columns_equal_counting_from_the_line_start() {
        let pieces = ["a", "é", "€", "😀", "\n", "bc", "\r\n"];
        let mut text = String::new();
        let mut seed = 7u64;
        while text.len() < 6 * CHECKPOINT {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            // Mostly long lines: a newline is one draw in 40.
            let pick = (seed >> 33) as usize % 40;
            text.push_str(if pick < 2 { pieces[4 + pick] } else { pieces[pick % 4] });
        }
        let idx = LineIndex::new(&text);
        for offset in (0..=text.len()).filter(|o| text.is_char_boundary(*o)) {
            let line = idx.line_of(offset);
            let prefix = &text[idx.line_starts[line]..offset];
            let utf16 = idx.position(&text, offset, PositionEncoding::Utf16);
            assert_eq!(
                utf16,
                LineCol { line: line as u32, col: prefix.chars().map(char::len_utf16).sum::<usize>() as u32 }
            );
            assert_eq!(idx.char_position(&text, offset).col as usize, prefix.chars().count());
            assert_eq!(idx.position(&text, offset, PositionEncoding::Utf8).col as usize, prefix.len());
        }
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
