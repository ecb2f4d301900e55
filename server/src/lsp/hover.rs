//! `textDocument/hover`: what the statement under the cursor locks, and what safemig found in it.

use std::fmt::Write as _;

use tower_lsp::lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind, Position};

use crate::sql::locks::locks_taken;
use crate::sql::{Dialect, SqlFile, Statement, StatementKind};
use crate::text::PositionEncoding;

use super::convert;
use super::documents::Snapshot;

/// The statement whose range contains `offset` (its end included, so a cursor right after the
/// `;` still counts), with its index. Comment-only "statements" are not statements here.
pub(crate) fn statement_at(file: &SqlFile, offset: usize) -> Option<(usize, &Statement)> {
    let after = file.statements.partition_point(|s| s.range.start <= offset);
    let index = after.checked_sub(1)?;
    let stmt = &file.statements[index];
    (offset <= stmt.range.end && !matches!(stmt.kind(), StatementKind::Empty)).then_some((index, stmt))
}

/// The hover for `pos`, or `None` when there is nothing to say there.
pub(crate) fn hover(
    snapshot: &Snapshot,
    pos: Position,
    encoding: PositionEncoding,
    live: Option<&crate::live::LiveFacts>,
) -> Option<Hover> {
    let analysis = snapshot.analysis.as_ref()?;
    let positions = snapshot.positions(encoding);
    let offset = positions.offset(pos)?;
    let (index, stmt) = statement_at(&analysis.file, offset)?;

    // Lock modes are PostgreSQL's; other dialects lock differently.
    let locks = if analysis.file.dialect == Dialect::Postgres { locks_taken(stmt.kind()) } else { Vec::new() };
    let findings: Vec<_> = analysis.findings.iter().filter(|f| f.statement == index).collect();
    if locks.is_empty() && findings.is_empty() {
        return None;
    }

    let mut md = String::new();
    let label = &stmt.facts().label;
    if !label.is_empty() {
        let _ = writeln!(md, "**{label}**\n");
    }
    if !locks.is_empty() {
        md.push_str("Locks taken:\n");
        for lock in &locks {
            // "ACCESS EXCLUSIVE on `users` (~8.2M rows · 3.1 GB): blocks …" with a database.
            let described = lock.describe();
            let size = live.and_then(|l| l.snapshot.table(&lock.table.key())).map(super::live_hover::size_line);
            match (size, described.split_once(':')) {
                (Some(size), Some((head, rest))) => {
                    let _ = writeln!(md, "- {head} ({size}):{rest}");
                }
                _ => {
                    let _ = writeln!(md, "- {described}");
                }
            }
        }
    }
    if !findings.is_empty() {
        if !locks.is_empty() {
            md.push('\n');
        }
        md.push_str("Findings:\n");
        for f in &findings {
            let id = match convert::rule_docs_url(f.rule) {
                Some(url) => format!("[`{}`]({url})", f.rule),
                None => format!("`{}`", f.rule),
            };
            let _ = writeln!(md, "- {id} ({}): {}", f.severity.name(), f.message);
        }
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: md }),
        range: Some(positions.range(stmt.range.clone())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn markdown(h: Hover) -> String {
        match h.contents {
            HoverContents::Markup(m) => m.value,
            other => panic!("expected markup, got {other:?}"),
        }
    }

    #[test]
    fn shows_locks_and_findings_of_the_statement_under_the_cursor() {
        let snap = Snapshot::analysed("CREATE TABLE notes (id bigint);\nCREATE INDEX i ON orders (customer_id);\n");
        let h = hover(&snap, Position::new(1, 3), PositionEncoding::Utf16, None).expect("a hover on CREATE INDEX");
        let md = markdown(h);
        assert!(md.contains("SHARE on `orders`: blocks writes"), "{md}");
        assert!(md.contains("create-index-blocking"), "{md}");
    }

    #[test]
    fn nothing_to_say_is_none() {
        let snap = Snapshot::analysed("CREATE TABLE notes (id bigint);\n\n\nSELECT 1;");
        assert!(hover(&snap, Position::new(0, 3), PositionEncoding::Utf16, None).is_none());
        assert!(hover(&snap, Position::new(1, 0), PositionEncoding::Utf16, None).is_none());
        assert!(hover(&snap, Position::new(90, 0), PositionEncoding::Utf16, None).is_none());
    }
}
