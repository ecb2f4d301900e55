//! `--format github`: one GitHub Actions workflow command per finding, which the runner turns into
//! an annotation on the pull request's diff, then the summary line:
//!
//! ```text
//! ::warning file=db/0003.sql,line=2,col=1,endLine=2,endColumn=13,title=safemig(create-index-blocking)::building this index …
//! 1 warning in 1 file
//! ```
//!
//! Errors are `::error`, warnings `::warning`, info and hints `::notice`. Paths are relative to the
//! repository root (see [`RepoRoot`]); lines and columns are 1-based, columns count UTF-16 code
//! units (as in the SARIF output) and `endColumn` is the column just past the end. Properties and
//! messages are escaped the way the runner unescapes them, so a message or a path can neither end
//! the command early nor start another one.

use std::io::{self, Write};

use crate::rules::Severity;
use crate::text::{LineIndex, PositionEncoding};

use super::check::{CheckedFile, Tally};
use super::database::DatabaseState;
use super::human;
use super::sarif::RepoRoot;

pub(crate) fn write_file(out: &mut dyn Write, file: &CheckedFile, root: &RepoRoot) -> io::Result<()> {
    if file.analysis.findings.is_empty() {
        return Ok(());
    }
    let text = file.text.as_deref().unwrap_or("");
    let index = LineIndex::for_file(text);
    let path = root.display(&file.path);
    for f in &file.analysis.findings {
        let start = index.position(text, f.range.start, PositionEncoding::Utf16);
        let end = index.position(text, f.range.end, PositionEncoding::Utf16);
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info | Severity::Hint => "notice",
        };
        let mut message = f.message.clone();
        if let Some(fix) = &f.fix {
            message.push_str("\nfix: ");
            message.push_str(&fix.title);
        }
        writeln!(
            out,
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            escape_property(&path),
            start.line + 1,
            start.col + 1,
            end.line + 1,
            end.col + 1,
            escape_property(&format!("safemig({})", f.rule)),
            escape_data(&message),
        )?;
    }
    Ok(())
}

/// The summary line, as in the human format; it is not a command, so the log shows it as is.
pub(crate) fn write_summary(out: &mut dyn Write, tally: &Tally, database: &DatabaseState) -> io::Result<()> {
    writeln!(out, "safemig: {}; {}", human::summary(tally), database.summary())
}

/// A command's message: `%`, CR and LF are percent-encoded.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A property value: as data, and `:` and `,` too (they end a property).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_runner() {
        assert_eq!(escape_data("100% done,\r\nnext: a"), "100%25 done,%0D%0Anext: a");
        assert_eq!(escape_property("a,b:c%d\ne"), "a%2Cb%3Ac%25d%0Ae");
        // Escaping `%` first: an already escaped-looking sequence survives the round trip.
        assert_eq!(escape_data("%0A"), "%250A");
    }
}
