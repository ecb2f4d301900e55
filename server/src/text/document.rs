//! An open editor buffer: a rope, so that incremental edits cost O(log n) instead of a copy.
//!
//! Its lines are the LSP's: ropey is built without `unicode_lines` (server/Cargo.toml), so a line
//! ends at `\n`, `\r\n` or `\r` only, exactly as in [`super::LineIndex`].

use ropey::Rope;

use super::{LineCol, PositionEncoding};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EditError {
    #[error("edit range {start:?}..{end:?} is reversed")]
    Reversed { start: LineCol, end: LineCol },
}

#[derive(Debug, Clone)]
pub struct Document {
    rope: Rope,
    pub version: i32,
}

impl Document {
    pub fn new(text: &str, version: i32) -> Self {
        Document { rope: Rope::from_str(text), version }
    }

    pub fn text(&self) -> String {
        self.rope.to_string()
    }

    pub fn len_bytes(&self) -> usize {
        self.rope.len_bytes()
    }

    /// Applies one `didChange` content change. `range == None` replaces the whole text.
    /// Positions beyond the text clamp to its end, so a confused client cannot make us lose text.
    pub fn apply_change(
        &mut self,
        range: Option<(LineCol, LineCol)>,
        new_text: &str,
        encoding: PositionEncoding,
    ) -> Result<(), EditError> {
        let Some((start, end)) = range else {
            self.rope = Rope::from_str(new_text);
            return Ok(());
        };
        if end < start {
            return Err(EditError::Reversed { start, end });
        }
        let from = self.char_index(start, encoding);
        let to = self.char_index(end, encoding).max(from);
        self.rope.remove(from..to);
        self.rope.insert(from, new_text);
        Ok(())
    }

    /// The number of lines, as the LSP counts them (a text ending in a line break has an empty
    /// last line).
    pub fn line_count(&self) -> usize {
        self.rope.len_lines()
    }

    /// A client position to a byte offset, clamped like [`super::LineIndex::offset`].
    pub fn offset(&self, pos: LineCol, encoding: PositionEncoding) -> usize {
        self.rope.char_to_byte(self.char_index(pos, encoding))
    }

    fn char_index(&self, pos: LineCol, encoding: PositionEncoding) -> usize {
        let line = pos.line as usize;
        if line >= self.rope.len_lines() {
            return self.rope.len_chars();
        }
        let line_start = self.rope.line_to_char(line);
        let slice = self.rope.line(line);
        // The line slice includes its terminator; a column may not step past it.
        let mut content_chars = slice.len_chars();
        while content_chars > 0 {
            let c = slice.char(content_chars - 1);
            if c == '\n' || c == '\r' {
                content_chars -= 1;
            } else {
                break;
            }
        }
        let content = slice.slice(..content_chars);
        let col = pos.col as usize;
        let chars = match encoding {
            PositionEncoding::Utf16 => {
                let max = content.len_utf16_cu();
                content.utf16_cu_to_char(col.min(max))
            }
            PositionEncoding::Utf8 => {
                let max = content.len_bytes();
                content.byte_to_char(col.min(max))
            }
        };
        line_start + chars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lc(line: u32, col: u32) -> LineCol {
        LineCol { line, col }
    }

    #[test]
    fn incremental_edits_in_utf16_units() {
        let mut doc = Document::new("SELECT '😀';\nCREATE INDEX i ON t (a);\n", 1);
        // Insert CONCURRENTLY after "CREATE INDEX " on line 1.
        doc.apply_change(Some((lc(1, 13), lc(1, 13))), "CONCURRENTLY ", PositionEncoding::Utf16).unwrap();
        assert_eq!(doc.text(), "SELECT '😀';\nCREATE INDEX CONCURRENTLY i ON t (a);\n");
        // Replace the emoji (2 UTF-16 units at col 8..10) with x.
        doc.apply_change(Some((lc(0, 8), lc(0, 10))), "x", PositionEncoding::Utf16).unwrap();
        assert_eq!(doc.text(), "SELECT 'x';\nCREATE INDEX CONCURRENTLY i ON t (a);\n");
    }

    #[test]
    fn a_line_separator_in_a_comment_does_not_move_later_edits() {
        for separator in ["\u{2028}", "\u{2029}", "\u{85}", "\u{b}", "\u{c}"] {
            let text = format!("-- note{separator}more\nCREATE INDEX i ON t (a);\n");
            let mut doc = Document::new(&text, 1);
            assert_eq!(doc.line_count(), 3);
            doc.apply_change(Some((lc(1, 13), lc(1, 13))), "CONCURRENTLY ", PositionEncoding::Utf16).unwrap();
            assert_eq!(doc.text(), format!("-- note{separator}more\nCREATE INDEX CONCURRENTLY i ON t (a);\n"));
        }
    }

    #[test]
    fn a_cr_only_buffer_has_its_lines() {
        let mut doc = Document::new("SELECT 1;\rCREATE INDEX i ON t (a);\r", 1);
        doc.apply_change(Some((lc(1, 13), lc(1, 13))), "CONCURRENTLY ", PositionEncoding::Utf16).unwrap();
        assert_eq!(doc.text(), "SELECT 1;\rCREATE INDEX CONCURRENTLY i ON t (a);\r");
        // A column past the end of line 0 stops before its `\r`.
        assert_eq!(doc.offset(lc(0, 40), PositionEncoding::Utf16), 9);
    }

    #[test]
    fn utf8_columns_and_clamping() {
        let mut doc = Document::new("é=1\n", 1);
        doc.apply_change(Some((lc(0, 2), lc(0, 3))), "==", PositionEncoding::Utf8).unwrap();
        assert_eq!(doc.text(), "é==1\n");
        // Past the end of the text: appends instead of panicking.
        doc.apply_change(Some((lc(40, 0), lc(41, 3))), "tail", PositionEncoding::Utf16).unwrap();
        assert_eq!(doc.text(), "é==1\ntail");
        assert!(doc.apply_change(Some((lc(0, 3), lc(0, 1))), "", PositionEncoding::Utf16).is_err());
        assert_eq!(doc.text(), "é==1\ntail");
    }
}
