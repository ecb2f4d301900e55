//! Atlas versioned migrations: the `*.sql` files of the directory (not recursive) with an
//! `atlas.sum` integrity file, sorted lexicographically; the version is the text before the first
//! `_`. Up only. `--tx-mode file` (the default) runs each file in its own transaction; a file opts
//! out with the header directive `-- atlas:txmode none`.

use std::path::Path;

use super::{
    file_name, header_line, lines, opted_out, strip_sql, text_key, whole, wrapped, AppliedBy, ChecksumKind, Framework,
    LedgerSpec, NoOptOut, OptOut, OptOutEdit,
};
use crate::sql::Dialect;
use crate::workspace::listing::{read_text, Listing};
use crate::workspace::{Direction, FrameworkKind, Migration, Section, TransactionMode, VersionKey};

pub struct Atlas;

const HOW: &str = "add `-- atlas:txmode none` to the file header";

fn version(stem: &str) -> (&str, &str) {
    stem.split_once('_').unwrap_or((stem, ""))
}

/// The `-- atlas:txmode` value among the file's leading comment lines.
pub fn header_txmode(text: &str) -> Option<String> {
    header_directive(text, "txmode").map(|mode| mode.to_ascii_lowercase())
}

/// The value of the header directive `-- atlas:<name> <value>` among the file's leading comment
/// lines (`txmode`, `sum`), trimmed.
pub fn header_directive<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    for (_, line, _) in lines(text) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let comment = line.strip_prefix("--")?.trim();
        if let Some(value) = comment.strip_prefix("atlas:").and_then(|d| d.strip_prefix(name)) {
            if value.is_empty() || value.starts_with(char::is_whitespace) {
                return Some(value.trim());
            }
        }
    }
    None
}

impl Framework for Atlas {
    fn kind(&self) -> FrameworkKind {
        FrameworkKind::Atlas
    }

    fn detect_listing(&self, listing: &Listing) -> bool {
        listing.has_file("atlas.sum")
    }

    fn collect(&self, listing: &Listing, dialect: Dialect, _problems: &mut Vec<String>) -> Vec<Migration> {
        // Listing order is the lexicographic order Atlas uses.
        listing
            .sql_files()
            .filter_map(|file| {
                let (v, name) = version(strip_sql(file)?);
                let path = listing.path(file);
                let text = read_text(&path).unwrap_or_default();
                Some(Migration {
                    version: VersionKey::Text(v.to_string()),
                    name: name.to_string(),
                    transaction: self.transaction_in(&path, &text, dialect),
                    up: Some(path),
                    down: None,
                })
            })
            .collect()
    }

    fn sections(&self, _path: &Path, text: &str) -> Vec<Section> {
        whole(text, Direction::Up)
    }

    fn transaction(&self, _path: &Path, text: &str) -> TransactionMode {
        match header_txmode(text).as_deref() {
            Some("none") => opted_out(wrapped(HOW), "-- atlas:txmode none"),
            _ => wrapped(HOW),
        }
    }

    /// `-- atlas:txmode none` in the file header (a `-- atlas:txmode` already there gets the
    /// value `none`); the header is separated from the statements by a blank line. Atlas runs
    /// each statement on its own then; `atlas.sum` needs `atlas migrate hash` afterwards.
    fn opt_out(
        &self,
        _path: &Path,
        text: &str,
        _at: usize,
        newline: &str,
        _read: &dyn Fn(&Path) -> Option<String>,
    ) -> Result<OptOut, NoOptOut> {
        let how = "add `-- atlas:txmode none` (then run `atlas migrate hash`)";
        for (start, line, _) in lines(text) {
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            let Some(comment) = trimmed.strip_prefix("--") else { break };
            if let Some(value) = comment.trim().strip_prefix("atlas:txmode") {
                let v = value.trim();
                if let Some(offset) = line.rfind(v).filter(|_| !v.is_empty()) {
                    let at = start + offset;
                    let edit = OptOutEdit::InFile { range: at..at + v.len(), text: "none".into() };
                    return Ok(OptOut { how: how.into(), edit });
                }
            }
        }
        Ok(header_line(how, &format!("-- atlas:txmode none{newline}{newline}")))
    }

    fn out_of_order(&self) -> &'static str {
        "`atlas migrate apply` fails by default (`--exec-order linear`); `--exec-order linear-skip` skips it and \
         `non-linear` executes it"
    }

    fn version_of(&self, path: &Path) -> Option<VersionKey> {
        Some(VersionKey::Text(version(strip_sql(file_name(path)?)?).0.to_string()))
    }

    /// `atlas_schema_revisions`: one revision per file with the file's `atlas.sum` hash;
    /// `applied < total` or an `error` is a partially applied file (the next apply resumes at
    /// statement `applied`); `type` bit 1 alone is a baseline. Versions starting with `.` are
    /// Atlas's own bookkeeping rows, not migrations.
    fn ledger(&self) -> Option<LedgerSpec> {
        Some(LedgerSpec {
            table: "atlas_schema_revisions.atlas_schema_revisions",
            required_columns: &["version", "description", "type", "applied", "total", "executed_at", "error", "hash"],
            optional_columns: &[("error_stmt", "NULL::text")],
            query: "SELECT version::text, description::text, executed_at::timestamptz, \
                    CASE WHEN type & 2 = 0 AND type & 1 <> 0 THEN 'baseline' \
                    WHEN type & 4 = 0 AND (error IS NOT NULL OR applied < total) THEN 'failed' ELSE 'applied' END, \
                    NULLIF(hash::text, ''), \
                    CASE WHEN error IS NOT NULL THEN error::text || COALESCE(E'\n(statement: ' || {error_stmt}::text || ')', '') END, \
                    applied::bigint, total::bigint, NULL::text[] \
                    FROM {table} WHERE version NOT LIKE '.%' ORDER BY executed_at, version",
            checksum: Some(ChecksumKind::Atlas),
            applied: AppliedBy::EachRow,
            key: |version, _| text_key(version),
            on_checksum_mismatch: |_, _, _| {
                "Atlas recorded the file's atlas.sum hash when it ran it: the dev database ran another version of \
                 this file, or a file before it was added, removed or edited since (the hash runs through every \
                 file, so every later hash changes too and `atlas migrate hash` rewrites atlas.sum)"
                    .to_string()
            },
            resolve_failed: |t| {
                let resume = match t.applied_statements {
                    Some(n) => format!(" resumes at statement {}", n + 1),
                    None => " resumes where it stopped".to_string(),
                };
                format!(
                    "fix the file, run `atlas migrate hash`, and `atlas migrate apply`{resume}; or, if you completed \
                     it by hand, `atlas migrate set {}`",
                    t.version
                )
            },
            resolve_missing: |t| {
                format!(
                    "`atlas migrate apply` finds a revision without its file; restore the file, or realign the \
                     revisions with `atlas migrate set {}`",
                    t.previous.unwrap_or("<the last version you have>")
                )
            },
            shared_version: super::SharedVersion::Named(super::description_names),
            records_failures: true,
            baseline: |t| {
                let version = t.last().map(|m| m.version()).unwrap_or_default();
                format!("atlas migrate set {version} --url \"$DATABASE_URL\" --dir \"file://{}\"", t.dir.display())
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txmode_in_the_header() {
        assert_eq!(header_txmode("-- atlas:txmode none\n\nCREATE INDEX CONCURRENTLY i ON t (c);"), Some("none".into()));
        assert_eq!(header_txmode("-- generated\n-- atlas:txmode file\nSELECT 1;"), Some("file".into()));
        assert_eq!(header_txmode("SELECT 1;\n-- atlas:txmode none\n"), None);
        let mode =
            Atlas.transaction(Path::new("1_x.sql"), "-- atlas:txmode none\nCREATE INDEX CONCURRENTLY i ON t (c);\n");
        assert!(!mode.wraps && mode.opted_out_by.as_deref() == Some("-- atlas:txmode none"));
        assert!(Atlas.transaction(Path::new("1_x.sql"), "SELECT 1;").wraps);
    }

    #[test]
    fn versions_are_text_before_the_first_underscore() {
        assert_eq!(
            Atlas.version_of(Path::new("20240101120000_init.sql")),
            Some(VersionKey::Text("20240101120000".into()))
        );
        assert_eq!(Atlas.version_of(Path::new("baseline.sql")), Some(VersionKey::Text("baseline".into())));
    }
}
