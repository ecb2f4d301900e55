//! node-pg-migrate SQL migrations: `migrations/<prefix>_<name>.sql` (prefix `Date.now()` ms, a
//! 17-digit UTC stamp, or a sequence number), ordered by numeric prefix then by name (numeric-aware).
//! Up and down parts are separated by comment markers matching `^\s*--[\s-]*up\s+migration` and
//! `…down\s+migration` (`-- Up Migration`, `-- Down Migration`). Each migration runs in `BEGIN … COMMIT`
//! with its ledger insert; `pgm.noTransaction()` opts out, which only a JS/TS migration can call.
//! Only the `.sql` migrations are part of the set; JS/TS migrations in the same directory are not read.

use std::path::Path;

use super::{
    file_name, leading_digits, lines, natural_cmp, numeric, sql_literal, strip_sql, text_key, wrapped, AppliedBy,
    Framework, LedgerKeys, LedgerSpec,
};
use crate::sql::Dialect;
use crate::workspace::listing::Listing;
use crate::workspace::{Direction, FrameworkKind, Migration, Section, TransactionMode, VersionKey};

pub struct NodePgMigrate;

const HOW: &str = "SQL migration files cannot opt out (unconfirmed); write the migration in JS/TS and call \
                   `pgm.noTransaction()`";

/// The marker on a line (`-- Up Migration`, `-- Down Migration`, any case, extra dashes allowed).
pub fn marker(line: &str) -> Option<Direction> {
    let rest = line.trim_start().strip_prefix("--")?;
    let rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '-');
    let (direction, rest) = if rest.get(..2).is_some_and(|w| w.eq_ignore_ascii_case("up")) {
        (Direction::Up, &rest[2..])
    } else if rest.get(..4).is_some_and(|w| w.eq_ignore_ascii_case("down")) {
        (Direction::Down, &rest[4..])
    } else {
        return None;
    };
    let after = rest.trim_start();
    (after.len() < rest.len() && after.get(..9).is_some_and(|w| w.eq_ignore_ascii_case("migration")))
        .then_some(direction)
}

/// `<digits>_<name>.sql` → (prefix digits, name).
fn parse_name(file: &str) -> Option<(&str, &str)> {
    let (digits, rest) = leading_digits(strip_sql(file)?);
    let name = rest.strip_prefix('_')?;
    (!digits.is_empty()).then_some((digits, name))
}

impl Framework for NodePgMigrate {
    fn kind(&self) -> FrameworkKind {
        FrameworkKind::NodePgMigrate
    }

    fn detect_listing(&self, listing: &Listing) -> bool {
        listing.signals().node_pg_migrate
    }

    fn collect(&self, listing: &Listing, dialect: Dialect, _problems: &mut Vec<String>) -> Vec<Migration> {
        let mut out: Vec<(u128, &str, Migration)> = listing
            .numbered_sql()
            .filter_map(|file| {
                let (digits, name) = parse_name(file)?;
                let version = numeric(digits)?;
                let n = match &version {
                    VersionKey::Numeric(p) => p[0],
                    VersionKey::Text(_) => 0,
                };
                let path = listing.path(file);
                let m = Migration {
                    version,
                    name: name.to_string(),
                    transaction: self.transaction_in(&path, "", dialect),
                    up: Some(path),
                    down: None,
                };
                Some((n, file, m))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| natural_cmp(a.1, b.1)));
        out.into_iter().map(|(_, _, m)| m).collect()
    }

    /// As node-pg-migrate's `getActions`: up runs from the up marker to the down marker (or the
    /// end); without an up marker the whole file runs up (that the down part then runs up too is
    /// from its source, not from the reference). Down runs from the down marker to the up marker
    /// (or the end).
    fn sections(&self, _path: &Path, text: &str) -> Vec<Section> {
        let mut up = None;
        let mut down = None;
        for (start, line, _) in lines(text) {
            match marker(line) {
                Some(Direction::Up) if up.is_none() => up = Some(start),
                Some(Direction::Down) if down.is_none() => down = Some(start),
                _ => {}
            }
        }
        let end_after = |start: usize, other: Option<usize>| match other {
            Some(o) if o > start => o,
            _ => text.len(),
        };
        let mut out = vec![Section {
            direction: Direction::Up,
            range: match up {
                Some(u) => u..end_after(u, down),
                None => 0..text.len(),
            },
        }];
        if let Some(d) = down {
            out.push(Section { direction: Direction::Down, range: d..end_after(d, up) });
        }
        out.sort_by_key(|s| s.range.start);
        out
    }

    fn transaction(&self, _path: &Path, _text: &str) -> TransactionMode {
        wrapped(HOW)
    }

    fn out_of_order(&self) -> &'static str {
        "node-pg-migrate refuses to run (\"Not run migration … is preceding already run migration …\") unless run \
         with `--no-check-order`, which applies it"
    }

    fn version_of(&self, path: &Path) -> Option<VersionKey> {
        numeric(parse_name(file_name(path)?)?.0)
    }

    /// `pgmigrations(id, name, run_on)`: the file name without its extension of each applied
    /// migration. A failure leaves no row.
    fn ledger(&self) -> Option<LedgerSpec> {
        Some(LedgerSpec {
            table: "pgmigrations",
            required_columns: &["name", "run_on"],
            optional_columns: &[],
            query: "SELECT name::text, name::text, run_on::timestamptz, 'applied', NULL::text, NULL::text, \
                    NULL::bigint, NULL::bigint, NULL::text[] FROM {table} ORDER BY run_on, name",
            checksum: None,
            applied: AppliedBy::EachRow,
            key: |version, _| text_key(version),
            on_checksum_mismatch: |_, _, _| String::new(),
            resolve_failed: |t| {
                format!(
                    "undo what it half-did and run it again; or, if you completed it by hand, record it with \
                     `node-pg-migrate up --fake` or INSERT INTO {} (name, run_on) VALUES ({}, now());",
                    t.table,
                    sql_literal(t.version)
                )
            },
            resolve_missing: |t| {
                format!(
                    "node-pg-migrate cannot run it down without its file; restore the file, or delete the row by hand: \
                     DELETE FROM {} WHERE name = {};",
                    t.table,
                    sql_literal(t.version)
                )
            },
            shared_version: super::SharedVersion::Refused,
            records_failures: false,
            baseline: |t| format!("npx node-pg-migrate up {} --fake", t.migrations.len()),
        })
    }

    /// The file name without extension; JS/TS migrations in the directory are not part of the set
    /// but have rows too.
    fn ledger_keys(&self, set: &crate::workspace::MigrationSet) -> LedgerKeys {
        let stem = |path: &Path| {
            let name = file_name(path)?;
            Some(VersionKey::Text(name.rsplit_once('.').map_or(name, |(stem, _)| stem).to_string()))
        };
        let migrations = set.migrations.iter().map(|m| m.up.as_deref().and_then(stem)).collect();
        let elsewhere = match crate::workspace::listing::read_names(&set.dir) {
            Ok((files, _)) => files
                .iter()
                .filter(|f| !crate::workspace::listing::is_sql(f))
                .filter(|f| {
                    let (digits, rest) = leading_digits(f);
                    !digits.is_empty() && rest.starts_with('_')
                })
                .filter_map(|f| stem(Path::new(f)))
                .collect(),
            Err(_) => Vec::new(),
        };
        LedgerKeys { migrations, elsewhere }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers() {
        assert_eq!(marker("-- Up Migration"), Some(Direction::Up));
        assert_eq!(marker("  ---- down   migration"), Some(Direction::Down));
        assert_eq!(marker("-- up migrations"), Some(Direction::Up));
        assert_eq!(marker("-- Upmigration"), None);
        assert_eq!(marker("-- update migration"), None);
        assert_eq!(marker("SELECT 1; -- Up Migration"), None);
    }

    #[test]
    fn sections_between_markers() {
        let text = "-- Up Migration\nCREATE TABLE t (id int);\n\n-- Down Migration\nDROP TABLE t;\n";
        let s = NodePgMigrate.sections(Path::new("1_x.sql"), text);
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].direction, &text[s[0].range.clone()]),
            (Direction::Up, "-- Up Migration\nCREATE TABLE t (id int);\n\n")
        );
        assert_eq!(
            (s[1].direction, &text[s[1].range.clone()]),
            (Direction::Down, "-- Down Migration\nDROP TABLE t;\n")
        );
        // Down first, then up.
        let rev = "-- Down Migration\nDROP TABLE t;\n-- Up Migration\nCREATE TABLE t ();\n";
        let s = NodePgMigrate.sections(Path::new("1_x.sql"), rev);
        assert_eq!((s[0].direction, &rev[s[0].range.clone()]), (Direction::Down, "-- Down Migration\nDROP TABLE t;\n"));
        assert_eq!(
            (s[1].direction, &rev[s[1].range.clone()]),
            (Direction::Up, "-- Up Migration\nCREATE TABLE t ();\n")
        );
        // No marker: the whole file runs up.
        assert_eq!(
            NodePgMigrate.sections(Path::new("1_x.sql"), "SELECT 1;"),
            [Section { direction: Direction::Up, range: 0..9 }]
        );
    }

    #[test]
    fn wraps_each_migration() {
        let mode = NodePgMigrate.transaction(Path::new("1_x.sql"), "CREATE INDEX CONCURRENTLY i ON t (c);");
        assert!(mode.wraps && mode.opted_out_by.is_none());
        assert!(
            NodePgMigrate.version_of(Path::new("1700000000000_a.sql"))
                < NodePgMigrate.version_of(Path::new("1800000000000_a.sql"))
        );
    }
}
