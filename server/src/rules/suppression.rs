//! `-- safemig: ignore <id>[, <id>] — reason` (for the statement it precedes, or ends the line of)
//! and `-- safemig: ignore-file <id>…` (before the first statement, for the whole file).

use std::ops::Range;

use crate::sql::SqlFile;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub ids: Vec<String>,
    pub reason: Option<String>,
    /// The comment's byte range.
    pub range: Range<usize>,
    /// The statement it silences; `None` for `ignore-file`.
    pub statement: Option<usize>,
    pub file_wide: bool,
    /// An `ignore-file` after the first statement (reported, not applied).
    pub misplaced: bool,
}

pub fn collect(file: &SqlFile, text: &str) -> Vec<Suppression> {
    let mut out = Vec::new();
    let first_statement_start = file.statements.first().map(|s| s.range.start).unwrap_or(usize::MAX);
    for comment in &file.comments {
        let Some((directive, rest)) = parse_directive(&text[comment.range.clone()]) else { continue };
        let (ids_part, reason) = split_reason(rest);
        let ids: Vec<String> = ids_part
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let file_wide = directive == "ignore-file";
        let statement = if file_wide { None } else { target_statement(file, text, comment.range.clone()) };
        out.push(Suppression {
            ids,
            reason,
            range: comment.range.clone(),
            statement,
            file_wide,
            misplaced: file_wide && comment.range.start > first_statement_start,
        });
    }
    out
}

/// `-- safemig: ignore a, b — why` → ("ignore", "a, b — why").
fn parse_directive(comment: &str) -> Option<(&str, &str)> {
    let body = comment.trim_start_matches("--").trim_start_matches("/*").trim_end().trim_end_matches("*/").trim();
    let rest = body.strip_prefix("safemig:")?.trim_start();
    for directive in ["ignore-file", "ignore"] {
        if let Some(after) = rest.strip_prefix(directive) {
            if after.is_empty() || after.starts_with(char::is_whitespace) {
                return Some((directive, after.trim()));
            }
        }
    }
    None
}

fn split_reason(rest: &str) -> (&str, Option<String>) {
    for sep in [" — ", " – ", " -- ", " - ", ": ", "—", " because "] {
        if let Some(idx) = rest.find(sep) {
            let reason = rest[idx + sep.len()..].trim();
            return (&rest[..idx], (!reason.is_empty()).then(|| reason.to_string()));
        }
    }
    (rest, None)
}

fn target_statement(file: &SqlFile, text: &str, comment: Range<usize>) -> Option<usize> {
    // Statements are sorted and disjoint: the first one starting after the comment, and the
    // one before it, are the only candidates.
    let next = file.statements.partition_point(|s| s.range.start < comment.end);
    if let Some(prev) = next.checked_sub(1) {
        let s = &file.statements[prev];
        // Inside the statement, or trailing it on the line where it ends.
        if comment.start < s.range.end || !text[s.range.end..comment.start].contains('\n') {
            return Some(prev);
        }
    }
    (next < file.statements.len()).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Dialect;

    #[test]
    fn finds_targets_and_reasons() {
        let text = "-- safemig: ignore-file drop-table\nCREATE TABLE a (id int);\n-- safemig: ignore create-index-blocking, lock-timeout-missing — table is empty\nCREATE INDEX i ON a (id);\nDROP TABLE b; -- safemig: ignore drop-table\n";
        let file = SqlFile::parse(text, Dialect::Postgres, None);
        let s = collect(&file, text);
        assert_eq!(s.len(), 3);
        assert!(s[0].file_wide && !s[0].misplaced);
        assert_eq!(s[1].statement, Some(1));
        assert_eq!(s[1].ids, ["create-index-blocking", "lock-timeout-missing"]);
        assert_eq!(s[1].reason.as_deref(), Some("table is empty"));
        assert_eq!(s[2].statement, Some(2));
        assert_eq!(s[2].ids, ["drop-table"]);
    }
}
