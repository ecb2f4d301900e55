//! goose: `<version>_<name>.sql` (regex `^(\d+)_.*\.(sql|go)$`, version an int64 ≥ 1), ordered by
//! version; one file per migration with `-- +goose Up` and `-- +goose Down` annotations,
//! `-- +goose StatementBegin` / `StatementEnd` around statements that contain `;`, and
//! `-- +goose NO TRANSACTION`, which runs both directions outside a transaction. Annotations start
//! at column 0; goose lower-cases the command, so `-- +goose up` works too. Each migration runs in
//! its own transaction by default.

use std::ops::Range;
use std::path::Path;

use super::{
    file_name, header_line, leading_digits, lines, numeric, numeric_key, opted_out, pair, sections_between, wrapped,
    AppliedBy, Entry, Framework, LedgerSpec, NoOptOut, OptOut,
};
use crate::sql::Dialect;
use crate::workspace::listing::{read_text, Listing};
use crate::workspace::{Direction, FrameworkKind, Migration, Section, TransactionMode, VersionKey};

pub struct Goose;

const HOW: &str = "add `-- +goose NO TRANSACTION` at the top of the file";

/// A goose annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Annotation {
    Up,
    Down,
    StatementBegin,
    StatementEnd,
    NoTransaction,
    EnvsubOn,
    EnvsubOff,
}

/// The annotation on a line (`-- +goose Up`), if any. Leading whitespace is not an annotation.
pub fn annotation(line: &str) -> Option<Annotation> {
    let rest = line.strip_prefix("--")?.trim_start();
    let head = rest.get(..6)?;
    if !head.eq_ignore_ascii_case("+goose") {
        return None;
    }
    let command = rest[6..].split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase();
    Some(match command.as_str() {
        "up" => Annotation::Up,
        "down" => Annotation::Down,
        "statementbegin" => Annotation::StatementBegin,
        "statementend" => Annotation::StatementEnd,
        "no transaction" => Annotation::NoTransaction,
        "envsub on" => Annotation::EnvsubOn,
        "envsub off" => Annotation::EnvsubOff,
        _ => return None,
    })
}

/// (line start, next line start, annotation) for every annotated line.
fn annotations(text: &str) -> impl Iterator<Item = (usize, usize, Annotation)> + '_ {
    lines(text).filter_map(|(start, line, next)| annotation(line).map(|a| (start, next, a)))
}

/// `<digits>_….sql` → version digits.
fn version_digits(file: &str) -> Option<&str> {
    let stem = file.strip_suffix(".sql")?;
    let (digits, rest) = leading_digits(stem);
    (!digits.is_empty() && rest.starts_with('_')).then_some(digits)
}

impl Framework for Goose {
    fn kind(&self) -> FrameworkKind {
        FrameworkKind::Goose
    }

    fn detect_listing(&self, listing: &Listing) -> bool {
        listing.signals().goose
    }

    fn collect(&self, listing: &Listing, dialect: Dialect, problems: &mut Vec<String>) -> Vec<Migration> {
        let mut entries = Vec::new();
        for file in listing.numbered_sql() {
            let Some(digits) = version_digits(file) else { continue };
            match digits.parse::<i64>() {
                Ok(v) if v >= 1 => {}
                _ => {
                    problems.push(format!(
                        "{}: goose needs a version that is an int64 of at least 1, found `{digits}`",
                        listing.path(file).display()
                    ));
                    continue;
                }
            }
            let Some(version) = numeric(digits) else { continue };
            let name = file[digits.len() + 1..file.len() - 4].to_string();
            entries.push(Entry {
                version,
                name,
                base: file.to_string(),
                file: file.to_string(),
                direction: Direction::Up,
            });
        }
        entries.sort_by(|a, b| a.version.cmp(&b.version).then_with(|| a.file.cmp(&b.file)));
        pair(listing, entries, |path| {
            let text = read_text(path).unwrap_or_default();
            self.transaction_in(path, &text, dialect)
        })
    }

    fn sections(&self, _path: &Path, text: &str) -> Vec<Section> {
        let mut markers: Vec<(usize, usize, Direction)> = annotations(text)
            .filter_map(|(start, next, a)| match a {
                Annotation::Up => Some((start, next, Direction::Up)),
                Annotation::Down => Some((start, next, Direction::Down)),
                _ => None,
            })
            .collect();
        // goose rejects a file without `-- +goose Up`; its SQL still runs up as far as we can tell.
        if !markers.is_empty() && !markers.iter().any(|m| m.2 == Direction::Up) {
            markers.insert(0, (0, 0, Direction::Up));
        }
        sections_between(text, &markers)
    }

    fn transaction(&self, _path: &Path, text: &str) -> TransactionMode {
        if annotations(text).any(|(_, _, a)| a == Annotation::NoTransaction) {
            opted_out(wrapped(HOW), "-- +goose NO TRANSACTION")
        } else {
            wrapped(HOW)
        }
    }

    /// `-- +goose NO TRANSACTION` as the first line; goose runs each statement on its own then.
    fn opt_out(
        &self,
        _path: &Path,
        _text: &str,
        _at: usize,
        newline: &str,
        _read: &dyn Fn(&Path) -> Option<String>,
    ) -> Result<OptOut, NoOptOut> {
        Ok(header_line("add `-- +goose NO TRANSACTION`", &format!("-- +goose NO TRANSACTION{newline}")))
    }

    fn out_of_order(&self) -> &'static str {
        "goose refuses to run (\"detected N missing (out-of-order) migrations lower than current version\") unless \
         run with `-allow-missing`, which applies it"
    }

    fn version_of(&self, path: &Path) -> Option<VersionKey> {
        numeric(version_digits(file_name(path)?)?)
    }

    /// The bodies of `-- +goose StatementBegin … StatementEnd` blocks.
    fn statement_blocks(&self, _path: &Path, text: &str) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut open = None;
        for (start, next, a) in annotations(text) {
            match a {
                Annotation::StatementBegin => open = Some(next),
                Annotation::StatementEnd => {
                    if let Some(begin) = open.take() {
                        out.push(begin..start.max(begin));
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// `goose_db_version`: a row per up (`is_applied = true`); older goose wrote
    /// `is_applied = false` rows for a down, so the latest row per version counts. The
    /// `version_id = 0` row is written when the table is created. A failure leaves no row.
    fn ledger(&self) -> Option<LedgerSpec> {
        Some(LedgerSpec {
            table: "goose_db_version",
            required_columns: &["id", "version_id", "is_applied", "tstamp"],
            optional_columns: &[],
            query: "SELECT version_id::text, NULL::text, tstamp::timestamptz, \
                    CASE WHEN is_applied THEN 'applied' ELSE 'rolled_back' END, NULL::text, NULL::text, NULL::bigint, \
                    NULL::bigint, NULL::text[] FROM {table} WHERE version_id <> 0 ORDER BY id",
            checksum: None,
            applied: AppliedBy::EachRow,
            key: |version, _| numeric_key(version),
            on_checksum_mismatch: |_, _, _| String::new(),
            resolve_failed: |t| {
                format!(
                    "goose has no repair command: undo what it half-did and run it again, or record it by hand: INSERT \
                     INTO {} (version_id, is_applied) VALUES ({}, true);",
                    t.table, t.version
                )
            },
            resolve_missing: |t| {
                format!(
                    "`goose down` cannot undo it without its file; restore the file, or delete the row by hand: DELETE \
                     FROM {} WHERE version_id = {};",
                    t.table, t.version
                )
            },
            shared_version: super::SharedVersion::Refused,
            records_failures: false,
            baseline: |t| {
                let versions: Vec<String> = t.migrations.iter().map(|m| format!("({}, true)", m.version())).collect();
                format!(
                    "goose has no baseline command: `goose -dir {dir} postgres \"$DATABASE_URL\" version` creates the \
                     goose_db_version table, then record the migrations by hand (SQL): INSERT INTO goose_db_version \
                     (version_id, is_applied) VALUES {};",
                    versions.join(", "),
                    dir = t.dir.display()
                )
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS 'SELECT 1; SELECT 2' LANGUAGE sql;\n-- +goose StatementEnd\nCREATE TABLE t (id int);\n\n-- +goose Down\nDROP TABLE t;\n";

    #[test]
    fn annotations_are_case_insensitive_and_start_at_column_zero() {
        assert_eq!(annotation("-- +goose Up"), Some(Annotation::Up));
        assert_eq!(annotation("-- +goose up"), Some(Annotation::Up));
        assert_eq!(annotation("--+goose DOWN"), Some(Annotation::Down));
        assert_eq!(annotation("-- +goose NO TRANSACTION"), Some(Annotation::NoTransaction));
        assert_eq!(annotation("-- +goose StatementBegin"), Some(Annotation::StatementBegin));
        assert_eq!(annotation("  -- +goose Up"), None);
        assert_eq!(annotation("-- goose Up"), None);
        assert_eq!(annotation("-- +goose Sideways"), None);
    }

    #[test]
    fn up_and_down_sections() {
        let s = Goose.sections(Path::new("1_x.sql"), FILE);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].direction, Direction::Up);
        assert!(FILE[s[0].range.clone()].starts_with("-- +goose StatementBegin\nCREATE FUNCTION"));
        assert!(FILE[s[0].range.clone()].ends_with("CREATE TABLE t (id int);\n\n"));
        assert_eq!(s[1].direction, Direction::Down);
        assert_eq!(&FILE[s[1].range.clone()], "DROP TABLE t;\n");
        // Lower-case annotations (as in real repositories) work too.
        let lower = "-- +goose up\n\nCREATE DATABASE x;\n\n-- +goose down\nDROP DATABASE x;\n";
        let s = Goose.sections(Path::new("1_x.sql"), lower);
        assert_eq!(&lower[s[1].range.clone()], "DROP DATABASE x;\n");
        assert_eq!(&lower[s[0].range.clone()], "\nCREATE DATABASE x;\n\n");
    }

    #[test]
    fn statement_blocks_and_no_transaction() {
        let blocks = Goose.statement_blocks(Path::new("1_x.sql"), FILE);
        assert_eq!(blocks.len(), 1);
        assert_eq!(&FILE[blocks[0].clone()], "CREATE FUNCTION f() RETURNS int AS 'SELECT 1; SELECT 2' LANGUAGE sql;\n");
        let plain = Goose.transaction(Path::new("1_x.sql"), FILE);
        assert!(plain.wraps && plain.opted_out_by.is_none());
        let nt = "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (c);\n";
        let mode = Goose.transaction(Path::new("2_x.sql"), nt);
        assert!(!mode.wraps && mode.opted_out_by.as_deref() == Some("-- +goose NO TRANSACTION"));
        assert_eq!(mode.how_to_opt_out, Some(HOW));
    }

    #[test]
    fn versions_are_numeric() {
        let v = |f: &str| Goose.version_of(Path::new(f));
        assert!(v("9_a.sql") < v("10_b.sql"));
        assert_eq!(v("00010_b.sql"), Some(VersionKey::Numeric(vec![10])));
        assert_eq!(v("abc.sql"), None);
        assert_eq!(v("10.sql"), None);
    }
}
