//! dbmate: `db/migrations/<version>….sql` (regex `^(\d+).*\.sql$`, the version is the leading
//! digits), applied in lexicographic file-name order. One file per migration with `-- migrate:up`
//! and `-- migrate:down` blocks (newer versions allow several); options follow the directive, e.g.
//! `-- migrate:up transaction:false`. Each block runs in a transaction by default.

use std::path::Path;

use super::{
    file_name, leading_digits, lines, opted_out, sections_between, sql_literal, strip_sql, text_key, wrapped,
    AppliedBy, Framework, LedgerSpec, NoOptOut, OptOut, OptOutEdit,
};
use crate::sql::Dialect;
use crate::workspace::listing::{read_text, Listing};
use crate::workspace::{Direction, FrameworkKind, Migration, Section, TransactionMode, VersionKey};

pub struct Dbmate;

const HOW: &str = "write the directive as `-- migrate:up transaction:false`";

/// A `-- migrate:up` / `-- migrate:down` directive and whether it keeps the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Directive {
    pub direction: Direction,
    /// `false` with `transaction:false`.
    pub transaction: bool,
}

/// The directive on a line (dbmate's regex `^--\s*migrate:up(\s*$|\s+\S+)`).
pub fn directive(line: &str) -> Option<Directive> {
    let rest = line.strip_prefix("--")?.trim_start().strip_prefix("migrate:")?;
    let (direction, options) = if let Some(o) = rest.strip_prefix("up") {
        (Direction::Up, o)
    } else if let Some(o) = rest.strip_prefix("down") {
        (Direction::Down, o)
    } else {
        return None;
    };
    if !(options.is_empty() || options.starts_with(char::is_whitespace)) {
        return None;
    }
    let transaction = !options.split_whitespace().any(|o| o == "transaction:false");
    Some(Directive { direction, transaction })
}

fn directives(text: &str) -> impl Iterator<Item = (usize, usize, Directive)> + '_ {
    lines(text).filter_map(|(start, line, next)| directive(line).map(|d| (start, next, d)))
}

impl Framework for Dbmate {
    fn kind(&self) -> FrameworkKind {
        FrameworkKind::Dbmate
    }

    fn detect_listing(&self, listing: &Listing) -> bool {
        listing.signals().dbmate
    }

    fn collect(&self, listing: &Listing, dialect: Dialect, _problems: &mut Vec<String>) -> Vec<Migration> {
        // Listing order is the byte-wise file-name sort dbmate uses.
        listing
            .numbered_sql()
            .filter_map(|file| {
                let stem = strip_sql(file)?;
                let (digits, rest) = leading_digits(stem);
                let path = listing.path(file);
                let text = read_text(&path).unwrap_or_default();
                Some(Migration {
                    version: VersionKey::Text(digits.to_string()),
                    name: rest.trim_start_matches(['_', '-', '.']).to_string(),
                    transaction: self.transaction_in(&path, &text, dialect),
                    up: Some(path),
                    down: None,
                })
            })
            .collect()
    }

    fn sections(&self, _path: &Path, text: &str) -> Vec<Section> {
        let markers: Vec<_> = directives(text).map(|(start, next, d)| (start, next, d.direction)).collect();
        sections_between(text, &markers)
    }

    /// Opted out when the (first) up block says `transaction:false`; a down block's option only
    /// changes how the rollback runs.
    fn transaction(&self, _path: &Path, text: &str) -> TransactionMode {
        match directives(text).find(|(_, _, d)| d.direction == Direction::Up) {
            Some((_, _, d)) if !d.transaction => opted_out(wrapped(HOW), "-- migrate:up transaction:false"),
            _ => wrapped(HOW),
        }
    }

    /// ` transaction:false` on the directive of the block around byte `at`. dbmate still sends
    /// the block as one query string.
    fn opt_out(
        &self,
        _path: &Path,
        text: &str,
        at: usize,
        _newline: &str,
        _read: &dyn Fn(&Path) -> Option<String>,
    ) -> Result<OptOut, NoOptOut> {
        let (start, _, d) =
            directives(text).take_while(|(start, _, _)| *start <= at).last().ok_or(NoOptOut::AlwaysInTransaction)?;
        let line = lines(text).find(|(s, _, _)| *s == start).map_or("", |(_, l, _)| l);
        let end = start + line.trim_end().len();
        let block = if d.direction == Direction::Up { "up" } else { "down" };
        let how = format!("write the directive as `-- migrate:{block} transaction:false`");
        if !d.transaction {
            // Already out, and still refused: the block is one query string of several statements.
            return Err(NoOptOut::OwnFile);
        }
        Ok(OptOut { how, edit: OptOutEdit::InFile { range: end..end, text: " transaction:false".into() } })
    }

    fn opted_out_sends_one_query(&self) -> bool {
        true
    }

    fn out_of_order(&self) -> &'static str {
        "dbmate applies it (only `--strict` makes it an error: \"migration … is out of order with already applied \
         migrations\")"
    }

    fn version_of(&self, path: &Path) -> Option<VersionKey> {
        let (digits, _) = leading_digits(strip_sql(file_name(path)?)?);
        (!digits.is_empty()).then(|| VersionKey::Text(digits.to_string()))
    }

    /// `schema_migrations(version)`: the leading digits of each applied file, nothing else.
    fn ledger(&self) -> Option<LedgerSpec> {
        Some(LedgerSpec {
            table: "schema_migrations",
            required_columns: &["version"],
            optional_columns: &[],
            query: super::VERSION_ROWS_QUERY,
            checksum: None,
            applied: AppliedBy::EachRow,
            key: |version, _| text_key(version),
            on_checksum_mismatch: |_, _, _| String::new(),
            resolve_failed: |t| super::insert_version_by_hand("dbmate", t),
            resolve_missing: |t| {
                super::delete_version_by_hand("`dbmate rollback` cannot undo it without its file; restore the file", t)
            },
            shared_version: super::SharedVersion::AppliedForAll,
            records_failures: false,
            baseline: |t| {
                super::record_by_hand(
                    "dbmate",
                    t,
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version varchar PRIMARY KEY); ",
                    "INSERT INTO schema_migrations (version)",
                    |m| sql_literal(&m.version()),
                )
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_and_options() {
        assert_eq!(directive("-- migrate:up"), Some(Directive { direction: Direction::Up, transaction: true }));
        assert_eq!(directive("--migrate:down"), Some(Directive { direction: Direction::Down, transaction: true }));
        assert_eq!(
            directive("-- migrate:up transaction:false"),
            Some(Directive { direction: Direction::Up, transaction: false })
        );
        assert_eq!(directive("-- migrate:upgrade"), None);
        assert_eq!(directive(" -- migrate:up"), None);
        assert_eq!(directive("-- migrate:sideways"), None);
    }

    #[test]
    fn sections_follow_the_blocks() {
        let text = "-- migrate:up\nCREATE TABLE t (id int);\n\n-- migrate:down\nDROP TABLE t;\n";
        let s = Dbmate.sections(Path::new("1_x.sql"), text);
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].direction, &text[s[0].range.clone()]), (Direction::Up, "CREATE TABLE t (id int);\n\n"));
        assert_eq!((s[1].direction, &text[s[1].range.clone()]), (Direction::Down, "DROP TABLE t;\n"));
        // Several blocks (newer dbmate).
        let many = "-- migrate:up\nA;\n-- migrate:down\nB;\n-- migrate:up\nC;\n-- migrate:down\nD;\n";
        let dirs: Vec<_> =
            Dbmate.sections(Path::new("1_x.sql"), many).iter().map(|s| (s.direction, &many[s.range.clone()])).collect();
        assert_eq!(
            dirs,
            [(Direction::Up, "A;\n"), (Direction::Down, "B;\n"), (Direction::Up, "C;\n"), (Direction::Down, "D;\n")]
        );
    }

    #[test]
    fn transaction_false_opts_the_up_block_out() {
        let out =
            "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (c);\n-- migrate:down\nDROP INDEX i;\n";
        let mode = Dbmate.transaction(Path::new("1_x.sql"), out);
        assert!(!mode.wraps && mode.opted_out_by.is_some());
        let down_only = "-- migrate:up\nSELECT 1;\n-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY i;\n";
        assert!(Dbmate.transaction(Path::new("1_x.sql"), down_only).wraps);
    }

    #[test]
    fn versions_are_the_leading_digits_as_text() {
        assert_eq!(
            Dbmate.version_of(Path::new("20240101120000_add.sql")),
            Some(VersionKey::Text("20240101120000".into()))
        );
        assert_eq!(Dbmate.version_of(Path::new("x.sql")), None);
    }
}
