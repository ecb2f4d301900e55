//! The human format, in the style of rustc and ruff:
//!
//! ```text
//! warning[create-index-blocking]: building this index takes a SHARE lock on `orders`, …
//!  --> migrations/0003_orders.sql:4:1
//!   |
//! 4 | CREATE INDEX orders_customer_id_idx ON orders (customer_id);
//!   | ^^^^^^^^^^^^
//!   |
//!   = fix: Build the index CONCURRENTLY
//! ```

use std::io::{self, IsTerminal, Write};

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};

use crate::rules::{Finding, Severity};
use crate::text::LineIndex;

use super::check::{CheckedFile, Tally};
use super::database::DatabaseState;

/// Lines longer than this are not shown: rendering them costs more than they tell.
const MAX_SHOWN_LINE_BYTES: usize = 4096;

/// Colours only on a terminal, and never when `NO_COLOR` is set (https://no-color.org).
pub(crate) fn use_colour() -> bool {
    io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub(crate) fn write_file(out: &mut dyn Write, file: &CheckedFile, colour: bool) -> io::Result<()> {
    if file.analysis.findings.is_empty() {
        return Ok(());
    }
    let renderer = if colour { Renderer::styled() } else { Renderer::plain() };
    let text = file.text.as_deref().unwrap_or("");
    let index = LineIndex::for_file(text);
    for finding in &file.analysis.findings {
        let report = [group(&file.path, text, &index, finding)];
        writeln!(out, "{}\n", renderer.render(&report))?;
    }
    Ok(())
}

fn group<'a>(path: &'a str, text: &'a str, index: &LineIndex, f: &'a Finding) -> Group<'a> {
    let title = level(f.severity).primary_title(f.message.as_str()).id(f.rule);
    let start = index.char_position(text, f.range.start);
    let line = index.line_range(text, start.line as usize);
    let mut group = if line.len() > MAX_SHOWN_LINE_BYTES || (text.is_empty() && f.range.is_empty()) {
        // No source worth showing (a long line, or bytes that were never decoded): the location
        // alone.
        let origin = Origin::path(path).line(start.line as usize + 1).char_column(start.col as usize + 1);
        let group = title.element(origin);
        if line.len() > MAX_SHOWN_LINE_BYTES {
            group.element(Level::NOTE.message(format!(
                "line {} is {} bytes long and not shown",
                start.line + 1,
                line.len()
            )))
        } else {
            group
        }
    } else {
        // Multi-line ranges are underlined to the end of their first line.
        let from = f.range.start.clamp(line.start, line.end) - line.start;
        let to = f.range.end.clamp(line.start, line.end) - line.start;
        let snippet = Snippet::source(&text[line.clone()])
            .line_start(start.line as usize + 1)
            .path(path)
            .annotation(AnnotationKind::Primary.span(from..to.max(from)));
        title.element(snippet)
    };
    if let Some(fix) = &f.fix {
        group = group.element(Level::HELP.with_name("fix").message(fix.title.as_str()));
    }
    group
}

fn level(severity: Severity) -> Level<'static> {
    match severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
        Severity::Hint => Level::NOTE.with_name("hint"),
    }
}

/// `2 errors, 5 warnings, 1 info and 3 hints in 8 files (1 suppressed)`.
/// `3 warnings in 2 files; database: connected (postgres@127.0.0.1:5432/app)`.
pub(crate) fn write_summary(out: &mut dyn Write, tally: &Tally, database: &DatabaseState) -> io::Result<()> {
    writeln!(out, "{}; {}", summary(tally), database.summary())
}

pub(crate) fn summary(tally: &Tally) -> String {
    let parts: Vec<String> = [
        (Severity::Error, "error", "errors"),
        (Severity::Warning, "warning", "warnings"),
        (Severity::Info, "info", "info"),
        (Severity::Hint, "hint", "hints"),
    ]
    .into_iter()
    .filter_map(|(sev, one, many)| match tally.count(sev) {
        0 => None,
        1 => Some(format!("1 {one}")),
        n => Some(format!("{n} {many}")),
    })
    .collect();
    let found = match parts.as_slice() {
        [] => "no findings".to_string(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    let files = if tally.files == 1 { "1 file".to_string() } else { format!("{} files", tally.files) };
    let suppressed = if tally.suppressed > 0 { format!(" ({} suppressed)", tally.suppressed) } else { String::new() };
    format!("{found} in {files}{suppressed}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::FileAnalysis;
    use crate::rules::FixHint;

    fn render(text: &str, findings: Vec<Finding>) -> String {
        let file = CheckedFile {
            path: "m.sql".into(),
            text: Some(text.into()),
            analysis: FileAnalysis { findings, ..FileAnalysis::default() },
        };
        let mut out = Vec::new();
        write_file(&mut out, &file, false).expect("writes to a Vec");
        String::from_utf8(out).expect("utf-8")
    }

    fn finding(range: std::ops::Range<usize>, fix: Option<&str>) -> Finding {
        Finding {
            rule: "rename-column",
            severity: Severity::Warning,
            range,
            statement: 0,
            message: "renaming breaks running code".into(),
            fix: fix.map(|t| FixHint { title: t.into() }),
        }
    }

    #[test]
    fn caret_sits_under_the_range_counted_in_characters() {
        let text = "SELECT 1;\nALTER TABLE \"café\" RENAME a TO b;\n";
        let start = text.find("RENAME").expect("present");
        let out = render(text, vec![finding(start..start + 6, Some("Expand and contract"))]);
        let expected = "warning[rename-column]: renaming breaks running code\n --> m.sql:2:20\n  |\n2 | ALTER TABLE \"café\" RENAME a TO b;\n  |                    ^^^^^^\n  |\n  = fix: Expand and contract\n\n";
        assert_eq!(out, expected);
    }

    #[test]
    fn multi_line_ranges_underline_to_the_end_of_the_first_line() {
        let text = "ALTER TABLE t\n  RENAME a TO b;";
        let out = render(text, vec![finding(6..text.len(), None)]);
        assert!(out.contains("1 | ALTER TABLE t\n  |       ^^^^^^^\n"), "{out}");
    }

    #[test]
    fn undecoded_files_show_only_the_location() {
        let file = CheckedFile {
            path: "x.sql".into(),
            text: None,
            analysis: FileAnalysis { findings: vec![finding(0..0, None)], ..FileAnalysis::default() },
        };
        let mut out = Vec::new();
        write_file(&mut out, &file, false).expect("writes");
        let out = String::from_utf8(out).expect("utf-8");
        assert!(out.starts_with("warning[rename-column]: renaming breaks running code\n"), "{out}");
        assert!(out.contains("x.sql:1:1"), "{out}");
    }

    #[test]
    fn summary_counts_and_pluralises() {
        let tally = Tally { files: 3, by_severity: [2, 1, 0, 1], suppressed: 1 };
        assert_eq!(summary(&tally), "1 error, 1 info and 2 hints in 3 files (1 suppressed)");
        assert_eq!(summary(&Tally { files: 1, ..Tally::default() }), "no findings in 1 file");
    }
}
