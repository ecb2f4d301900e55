//! `--format json`: one object with `files`, `diagnostics` and `suppressed`. Lines and columns are
//! 1-based; columns count characters.

use std::io::{self, Write};
use std::ops::Range as ByteRange;

use serde::Serialize;

use crate::rules::{FixHint, Severity};
use crate::sql::StatementKind;
use crate::text::LineIndex;

use super::check::CheckedFile;
use super::database::DatabaseState;

#[derive(Debug, Default, Serialize)]
pub(crate) struct Report {
    files: Vec<FileEntry>,
    diagnostics: Vec<Diagnostic>,
    suppressed: Vec<SuppressedEntry>,
    /// The dev database's connection state: `{"state": "connected", "target": …}`.
    database: Option<DatabaseState>,
}

#[derive(Debug, Serialize)]
struct FileEntry {
    path: String,
    statements: usize,
    parse_errors: usize,
}

#[derive(Debug, Serialize)]
struct Diagnostic {
    path: String,
    rule: &'static str,
    severity: Severity,
    message: String,
    range: Range,
    fix: Option<FixHint>,
}

#[derive(Debug, Serialize)]
struct SuppressedEntry {
    path: String,
    rule: &'static str,
    message: String,
    reason: Option<String>,
    range: Range,
}

#[derive(Debug, Serialize)]
struct Range {
    start: Position,
    end: Position,
}

#[derive(Debug, Serialize)]
struct Position {
    line: u32,
    column: u32,
}

impl Report {
    pub(crate) fn add(&mut self, file: &CheckedFile) {
        let text = file.text.as_deref().unwrap_or("");
        let index = LineIndex::for_file(text);
        let range =
            |r: &ByteRange<usize>| Range { start: position(&index, text, r.start), end: position(&index, text, r.end) };
        self.files.push(FileEntry {
            path: file.path.clone(),
            statements: file
                .analysis
                .file
                .statements
                .iter()
                .filter(|s| !matches!(s.kind(), StatementKind::Empty))
                .count(),
            parse_errors: file.analysis.parse_errors(),
        });
        self.diagnostics.extend(file.analysis.findings.iter().map(|f| Diagnostic {
            path: file.path.clone(),
            rule: f.rule,
            severity: f.severity,
            message: f.message.clone(),
            range: range(&f.range),
            fix: f.fix.clone(),
        }));
        self.suppressed.extend(file.analysis.suppressed.iter().map(|s| SuppressedEntry {
            path: file.path.clone(),
            rule: s.finding.rule,
            message: s.finding.message.clone(),
            reason: s.reason.clone(),
            range: range(&s.finding.range),
        }));
    }

    pub(crate) fn write(&mut self, out: &mut dyn Write, database: &DatabaseState) -> io::Result<()> {
        self.database = Some(database.clone());
        serde_json::to_writer_pretty(&mut *out, self)?;
        writeln!(out)
    }
}

fn position(index: &LineIndex, text: &str, offset: usize) -> Position {
    let p = index.char_position(text, offset);
    Position { line: p.line + 1, column: p.col + 1 }
}
