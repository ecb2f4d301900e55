//! Text positions. The engine speaks byte offsets; this module is the one place that converts them
//! to and from the line/column forms that the LSP (UTF-16 or UTF-8 code units) and the CLI (1-based
//! character columns) show to people.

mod document;
#[cfg(test)]
mod edit_properties;

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

/// A UTF-8 byte order mark. At the start of a file it says how the file is encoded; it is not part
/// of the file's first line.
pub const BOM: &str = "\u{feff}";

/// The length of the byte order mark `text` starts with (0 or 3).
pub fn bom_len(text: &str) -> usize {
    if text.starts_with(BOM) {
        BOM.len()
    } else {
        0
    }
}

/// Line starts of one text, for converting byte offsets to line/column and back.
///
/// Lines end where the LSP says they end: at `\n`, `\r\n` and `\r`, and nowhere else (not at
/// U+2028, U+2029, NEL, VT or FF, which are ordinary characters of their line).
#[derive(Debug, Clone)]
pub struct LineIndex {
    /// Byte offset at which each line starts; `line_starts[0]` is 0, or 3 after a byte order mark
    /// of a file ([`LineIndex::for_file`]).
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
    /// The lines of `text` exactly as given: an editor buffer, where every character the client
    /// sent is content (a U+FEFF at its start is a character of line 0).
    pub fn new(text: &str) -> Self {
        Self::from(text, 0)
    }

    /// The lines of a file's decoded bytes: a leading byte order mark is the file's encoding mark,
    /// before line 0, as editors show it (they strip it on load and write it back on save), so
    /// columns on line 0 start after it.
    pub fn for_file(text: &str) -> Self {
        Self::from(text, bom_len(text))
    }

    fn from(text: &str, first: usize) -> Self {
        let mut line_starts = Vec::with_capacity(text.len() / 32 + 1);
        line_starts.push(first);
        line_starts.extend(line_breaks(text.as_bytes()));
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
        start..self.content_end(text, line).max(start)
    }

    /// Where the content of `line` ends: before its `\n`, `\r\n` or `\r`, or at the end of the text.
    fn content_end(&self, text: &str, line: usize) -> usize {
        let Some(&next) = self.line_starts.get(line + 1) else {
            return self.len;
        };
        let bytes = text.as_bytes();
        if next >= 2 && bytes.get(next - 2..next) == Some(b"\r\n".as_slice()) {
            next - 2
        } else {
            next - 1
        }
    }

    /// Zero-based line containing `offset` (clamped to the text).
    pub fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.len);
        self.line_starts.partition_point(|&start| start <= offset).saturating_sub(1)
    }

    /// The byte offset `offset` stands for on its line: inside a `\r\n` it is before the pair,
    /// before the start of line 0 (a byte order mark) it is the start.
    fn on_line(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(text, offset.min(self.len));
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        (line, offset.clamp(start, self.content_end(text, line).max(start)))
    }

    /// Byte offset to a position whose column counts code units of `encoding`.
    pub fn position(&self, text: &str, offset: usize, encoding: PositionEncoding) -> LineCol {
        let (line, offset) = self.on_line(text, offset);
        let start = self.line_starts[line];
        let col = match encoding {
            PositionEncoding::Utf8 => offset - start,
            PositionEncoding::Utf16 => self.column(text, start, offset, |c| c.utf16),
        };
        LineCol { line: line as u32, col: col as u32 }
    }

    /// Byte offset to a zero-based line and a column counted in characters (for people and JSON).
    pub fn char_position(&self, text: &str, offset: usize) -> LineCol {
        let (line, offset) = self.on_line(text, offset);
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
        let end = self.content_end(text, pos.line as usize).max(start);
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

/// The byte offsets at which a new line starts: after each `\n`, `\r\n` and lone `\r`.
fn line_breaks(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes.iter().enumerate().filter_map(|(i, b)| match b {
        b'\n' => Some(i + 1),
        b'\r' if bytes.get(i + 1) != Some(&b'\n') => Some(i + 1),
        _ => None,
    })
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
    fn lines_end_at_lf_crlf_and_cr_only() {
        // U+2028, U+2029, NEL, VT and FF are characters of their line, not line breaks.
        let text = "-- a\u{2028}b\u{2029}c\u{85}d\u{b}e\u{c}f\rg\r\nh\ni";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_count(), 4);
        let lines: Vec<&str> = (0..4).map(|n| &text[idx.line_range(text, n)]).collect();
        assert_eq!(lines, ["-- a\u{2028}b\u{2029}c\u{85}d\u{b}e\u{c}f", "g", "h", "i"]);
        let g = text.find('g').unwrap_or_default();
        assert_eq!(idx.position(text, g, PositionEncoding::Utf16), LineCol { line: 1, col: 0 });
        assert_eq!(idx.offset(text, LineCol { line: 1, col: 9 }, PositionEncoding::Utf16), g + 1);
        let f = text.find('f').unwrap_or_default();
        assert_eq!(idx.position(text, f, PositionEncoding::Utf16), LineCol { line: 0, col: 13 });
    }

    #[test]
    fn a_cr_only_file_has_its_lines() {
        let text = "-- one\rSELECT 1;\rCREATE INDEX i ON t (a);\r";
        let idx = LineIndex::new(text);
        let create = text.find("CREATE").unwrap_or_default();
        assert_eq!(idx.char_position(text, create), LineCol { line: 2, col: 0 });
        assert_eq!(idx.line_count(), 4);
        assert_eq!(&text[idx.line_range(text, 1)], "SELECT 1;");
        // A column past the end of a line stops before its `\r`.
        assert_eq!(idx.offset(text, LineCol { line: 0, col: 40 }, PositionEncoding::Utf16), 6);
    }

    #[test]
    fn a_crlf_line_ends_before_its_cr() {
        let text = "ab\r\ncd";
        let idx = LineIndex::new(text);
        assert_eq!(idx.offset(text, LineCol { line: 0, col: 9 }, PositionEncoding::Utf16), 2);
        assert_eq!(idx.position(text, 3, PositionEncoding::Utf16), LineCol { line: 0, col: 2 });
        assert_eq!(idx.position(text, 4, PositionEncoding::Utf16), LineCol { line: 1, col: 0 });
    }

    #[test]
    fn a_files_byte_order_mark_is_before_its_first_line() {
        let text = "\u{feff}CREATE INDEX i ON t (a);\nSELECT 1;";
        let file = LineIndex::for_file(text);
        assert_eq!(file.position(text, 3, PositionEncoding::Utf16), LineCol { line: 0, col: 0 });
        assert_eq!(file.position(text, 0, PositionEncoding::Utf16), LineCol { line: 0, col: 0 });
        assert_eq!(file.char_position(text, 3 + "CREATE ".len()), LineCol { line: 0, col: 7 });
        assert_eq!(file.offset(text, LineCol { line: 0, col: 0 }, PositionEncoding::Utf16), 3);
        assert_eq!(&text[file.line_range(text, 0)], "CREATE INDEX i ON t (a);");
        assert_eq!(file.line_of(0), 0);
        // In a buffer the client sent, a U+FEFF is a character like any other.
        let buffer = LineIndex::new(text);
        assert_eq!(buffer.position(text, 3, PositionEncoding::Utf16), LineCol { line: 0, col: 1 });
        // Not a BOM: a U+FEFF anywhere else, or a text without one.
        let later = "SELECT 1;\n\u{feff}x";
        assert_eq!(
            LineIndex::for_file(later).position(later, 13, PositionEncoding::Utf16),
            LineCol { line: 1, col: 1 }
        );
        assert_eq!(LineIndex::for_file("ab").offset("ab", LineCol { line: 0, col: 1 }, PositionEncoding::Utf8), 1);
    }

    #[test]
    fn line_range_strips_crlf() {
        let text = "one\r\ntwo";
        let idx = LineIndex::new(text);
        assert_eq!(&text[idx.line_range(text, 0)], "one");
        assert_eq!(&text[idx.line_range(text, 1)], "two");
    }
}
