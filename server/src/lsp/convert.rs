//! Engine values to LSP values. Byte offsets become positions here and only here, through
//! [`LineIndex`] in the negotiated [`PositionEncoding`].

use std::ops::Range;

use tower_lsp::lsp_types::{
    CodeDescription, Diagnostic, DiagnosticSeverity, NumberOrString, Position, PositionEncodingKind, Url,
};

use crate::config::ConfigProblem;
use crate::rules::{Finding, Severity};
use crate::text::{LineCol, LineIndex, PositionEncoding};

/// The `source` of every diagnostic we publish.
pub(crate) const SOURCE: &str = "safemig";

/// Picks UTF-8 when the client offers it (byte columns need no recounting), else LSP's UTF-16.
pub(crate) fn negotiate_encoding(offered: Option<&[PositionEncodingKind]>) -> PositionEncoding {
    match offered {
        Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => PositionEncoding::Utf8,
        _ => PositionEncoding::Utf16,
    }
}

pub(crate) fn encoding_kind(encoding: PositionEncoding) -> PositionEncodingKind {
    match encoding {
        PositionEncoding::Utf8 => PositionEncodingKind::UTF8,
        PositionEncoding::Utf16 => PositionEncodingKind::UTF16,
    }
}

pub(crate) fn line_col(pos: Position) -> LineCol {
    LineCol { line: pos.line, col: pos.character }
}

/// A text with its line index: everything needed to convert between bytes and positions.
pub(crate) struct Positions<'t> {
    pub text: &'t str,
    pub index: &'t LineIndex,
    pub encoding: PositionEncoding,
}

impl Positions<'_> {
    pub fn position(&self, offset: usize) -> Position {
        let lc = self.index.position(self.text, offset, self.encoding);
        Position { line: lc.line, character: lc.col }
    }

    pub fn range(&self, bytes: Range<usize>) -> tower_lsp::lsp_types::Range {
        tower_lsp::lsp_types::Range { start: self.position(bytes.start), end: self.position(bytes.end) }
    }

    /// The byte offset of a client position, or `None` when its line lies past the end of the
    /// text. Columns past a line's end clamp to the line end, as the LSP specification asks.
    pub fn offset(&self, pos: Position) -> Option<usize> {
        if pos.line as usize >= self.index.line_count() {
            return None;
        }
        Some(self.index.offset(self.text, line_col(pos), self.encoding))
    }
}

pub(crate) fn severity(severity: Severity) -> DiagnosticSeverity {
    match severity {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
        Severity::Hint => DiagnosticSeverity::HINT,
    }
}

pub(crate) fn rule_docs_url(rule: &str) -> Option<Url> {
    Url::parse(&crate::rules::docs_url(rule)).ok()
}

pub(crate) fn diagnostic(finding: &Finding, positions: &Positions) -> Diagnostic {
    Diagnostic {
        range: positions.range(finding.range.clone()),
        severity: Some(severity(finding.severity)),
        code: Some(NumberOrString::String(finding.rule.to_string())),
        code_description: rule_docs_url(finding.rule).map(|href| CodeDescription { href }),
        source: Some(SOURCE.to_string()),
        message: finding.message.clone(),
        ..Diagnostic::default()
    }
}

/// A diagnostic at the start of a file, for problems with the file as a whole.
pub(crate) fn file_diagnostic(severity: DiagnosticSeverity, message: String) -> Diagnostic {
    Diagnostic { severity: Some(severity), source: Some(SOURCE.to_string()), message, ..Diagnostic::default() }
}

/// The problems in `safemig.toml`, each on the line it names (`toml_text` is the file as read from
/// disk; its line index is built once for all of them).
pub(crate) fn config_diagnostics(
    problems: &[ConfigProblem],
    toml_text: &str,
    encoding: PositionEncoding,
) -> Vec<Diagnostic> {
    let index = LineIndex::for_file(toml_text);
    let positions = Positions { text: toml_text, index: &index, encoding };
    problems
        .iter()
        .map(|problem| {
            let message = if problem.key.is_empty() {
                problem.message.clone()
            } else {
                format!("`{}`: {}", problem.key, problem.message)
            };
            // ConfigProblem lines are 1-based; a line past the end (the file changed since) clamps.
            let range = match problem.line {
                Some(line) if line >= 1 && line <= index.line_count() => {
                    positions.range(index.line_range(toml_text, line - 1))
                }
                _ => tower_lsp::lsp_types::Range::default(),
            };
            Diagnostic { range, ..file_diagnostic(DiagnosticSeverity::WARNING, message) }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_count_utf16_units_or_bytes() {
        let text = "-- 😀\n/* é */ CREATE INDEX i ON t (a);";
        let index = LineIndex::new(text);
        let start = text.find("CREATE").unwrap_or_default();
        let bytes = start..start + "CREATE INDEX".len();
        let utf16 = Positions { text, index: &index, encoding: PositionEncoding::Utf16 }.range(bytes.clone());
        assert_eq!((utf16.start, utf16.end), (Position::new(1, 8), Position::new(1, 20)));
        let utf8 = Positions { text, index: &index, encoding: PositionEncoding::Utf8 }.range(bytes);
        assert_eq!((utf8.start, utf8.end), (Position::new(1, 9), Position::new(1, 21)));
    }

    #[test]
    fn positions_past_the_last_line_have_no_offset() {
        let text = "SELECT 1;\n";
        let index = LineIndex::new(text);
        let positions = Positions { text, index: &index, encoding: PositionEncoding::Utf16 };
        assert_eq!(positions.offset(Position::new(0, 400)), Some(9));
        assert_eq!(positions.offset(Position::new(1, 0)), Some(10));
        assert_eq!(positions.offset(Position::new(2, 0)), None);
        assert_eq!(positions.offset(Position::new(u32::MAX, u32::MAX)), None);
    }

    #[test]
    fn utf8_is_chosen_only_when_offered() {
        assert_eq!(negotiate_encoding(None), PositionEncoding::Utf16);
        assert_eq!(negotiate_encoding(Some(&[PositionEncodingKind::UTF16])), PositionEncoding::Utf16);
        let both = [PositionEncodingKind::UTF16, PositionEncodingKind::UTF8];
        assert_eq!(negotiate_encoding(Some(&both)), PositionEncoding::Utf8);
    }

    #[test]
    fn config_problems_sit_on_their_line() {
        let toml = "[rules]\ncreate-index-blockin = \"off\"\n";
        let problem = ConfigProblem {
            source: "safemig.toml".into(),
            line: Some(2),
            key: "rules.create-index-blockin".into(),
            message: "unknown rule id".into(),
        };
        let [d] = &config_diagnostics(&[problem], toml, PositionEncoding::Utf16)[..] else { panic!("one diagnostic") };
        assert_eq!((d.range.start, d.range.end), (Position::new(1, 0), Position::new(1, 28)));
        assert!(d.message.starts_with("`rules.create-index-blockin`"));
    }
}
