//! sqlx: `migrations/<VERSION>_<DESCRIPTION>.sql` (simple) or `<VERSION>_<DESCRIPTION>.up.sql` /
//! `.down.sql` (reversible); split on the first `_`, the version an i64, ordered by version; files
//! without `_` or a `.sql` ending are ignored. On PostgreSQL and SQLite each migration runs in a
//! transaction with its ledger row, unless the file *starts with* `-- no-transaction`. On MySQL there
//! is no transaction (a `success=false` row is written first).

use std::path::Path;

use super::{
    file_name, header_line, numeric_key, opted_out, pair, whole, wrapped, AppliedBy, ChecksumKind, Entry, Framework,
    LedgerSpec, NoOptOut, OptOut,
};
use crate::sql::Dialect;
use crate::workspace::listing::{read_head, Ecosystem, Listing};
use crate::workspace::{Direction, FrameworkKind, Migration, Section, TransactionMode, VersionKey};

pub struct Sqlx;

const HOW: &str = "start the file with `-- no-transaction`";
const MARKER: &str = "-- no-transaction";

/// `<version>_<description>[.up|.down].sql` → (version text, description, direction, base name).
pub fn parse_name(file: &str) -> Option<(&str, &str, Direction, &str)> {
    let stem = file.strip_suffix(".sql")?;
    let (base, direction) = match (stem.strip_suffix(".up"), stem.strip_suffix(".down")) {
        (Some(b), _) => (b, Direction::Up),
        (_, Some(b)) => (b, Direction::Down),
        _ => (stem, Direction::Up),
    };
    let (version, description) = base.split_once('_')?;
    Some((version, description, direction, base))
}

impl Framework for Sqlx {
    fn kind(&self) -> FrameworkKind {
        FrameworkKind::Sqlx
    }

    /// A numbered directory in a Rust project, or one whose files start with `-- no-transaction`,
    /// or one mixing simple and reversible migrations (golang-migrate would ignore the simple ones).
    fn detect_listing(&self, listing: &Listing) -> bool {
        if listing.numbered_sql().all(|f| parse_name(f).is_none()) {
            return false;
        }
        if listing.ecosystem == Ecosystem::Rust {
            return true;
        }
        let (simple, reversible) = listing.numbered_sql().fold((false, false), |(s, r), f| {
            let rev = f.ends_with(".up.sql") || f.ends_with(".down.sql");
            (s || (!rev && f.contains('_')), r || rev)
        });
        (simple && reversible) || listing.signals().no_transaction
    }

    fn collect(&self, listing: &Listing, dialect: Dialect, problems: &mut Vec<String>) -> Vec<Migration> {
        let mut entries = Vec::new();
        for file in listing.sql_files() {
            let Some((version, description, direction, base)) = parse_name(file) else { continue };
            let Some(v) = version.parse::<i64>().ok().and_then(|v| u128::try_from(v).ok()) else {
                problems.push(format!(
                    "{}: sqlx stops here: \"error parsing migration filename; expected integer version prefix (e.g. `01_foo.sql`)\"",
                    listing.path(file).display()
                ));
                continue;
            };
            entries.push(Entry {
                version: VersionKey::Numeric(vec![v]),
                name: description.to_string(),
                base: base.to_string(),
                file: file.to_string(),
                direction,
            });
        }
        entries.sort_by(|a, b| a.version.cmp(&b.version).then_with(|| a.file.cmp(&b.file)));
        pair(listing, entries, |path| {
            let head = read_head(path, MARKER.len() as u64).unwrap_or_default();
            self.transaction_in(path, &head, dialect)
        })
    }

    fn sections(&self, path: &Path, text: &str) -> Vec<Section> {
        whole(text, super::direction_by_name(path))
    }

    fn transaction(&self, path: &Path, text: &str) -> TransactionMode {
        self.transaction_in(path, text, Dialect::Postgres)
    }

    fn transaction_in(&self, _path: &Path, text: &str, dialect: Dialect) -> TransactionMode {
        if text.starts_with(MARKER) {
            opted_out(wrapped(HOW), MARKER)
        } else if dialect == Dialect::Mysql {
            TransactionMode { how_to_opt_out: Some(HOW), ..TransactionMode::default() }
        } else {
            wrapped(HOW)
        }
    }

    /// `-- no-transaction` as the first line. sqlx still sends the file as one query string.
    fn opt_out(
        &self,
        _path: &Path,
        _text: &str,
        _at: usize,
        newline: &str,
        _read: &dyn Fn(&Path) -> Option<String>,
    ) -> Result<OptOut, NoOptOut> {
        Ok(header_line("start the file with `-- no-transaction`", &format!("{MARKER}{newline}")))
    }

    fn opted_out_sends_one_query(&self) -> bool {
        true
    }

    fn out_of_order(&self) -> &'static str {
        "sqlx applies it silently: every version missing from `_sqlx_migrations` runs"
    }

    fn version_of(&self, path: &Path) -> Option<VersionKey> {
        let (version, ..) = parse_name(file_name(path)?)?;
        let v = u128::try_from(version.parse::<i64>().ok()?).ok()?;
        Some(VersionKey::Numeric(vec![v]))
    }

    /// `_sqlx_migrations`: one row per applied version with the SHA-384 of the (up) file;
    /// `success = false` is a partially applied migration (MySQL, or where the ledger insert
    /// ran outside the migration's transaction).
    fn ledger(&self) -> Option<LedgerSpec> {
        Some(LedgerSpec {
            table: "_sqlx_migrations",
            required_columns: &["version", "description", "installed_on", "success", "checksum"],
            optional_columns: &[],
            query: "SELECT version::text, description::text, installed_on::timestamptz, \
                    CASE WHEN success THEN 'applied' ELSE 'failed' END, encode(checksum, 'hex'), NULL::text, \
                    NULL::bigint, NULL::bigint, NULL::text[] FROM {table} ORDER BY version",
            checksum: Some(ChecksumKind::Sqlx),
            applied: AppliedBy::EachRow,
            key: |version, _| numeric_key(version),
            on_checksum_mismatch: |version, _, _| {
                format!(
                    "`sqlx migrate run` fails: \"migration {version} was previously applied but has been modified\""
                )
            },
            resolve_failed: |t| {
                format!(
                    "sqlx stops at it (\"migration {v} is partially applied; fix and remove row from `_sqlx_migrations` \
                     table\"): undo what it half-did, then DELETE FROM {table} WHERE version = {v}; and run it again",
                    v = t.version,
                    table = t.table
                )
            },
            resolve_missing: |t| {
                format!(
                    "`sqlx migrate run` fails: \"migration {v} was previously applied but is missing in the resolved \
                     migrations\"; restore the file, or delete the row: DELETE FROM {table} WHERE version = {v};",
                    v = t.version,
                    table = t.table
                )
            },
            shared_version: super::SharedVersion::Named(super::description_names),
            records_failures: false,
            baseline: |t| {
                super::record_by_hand(
                    "sqlx",
                    t,
                    "",
                    "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)",
                    |m| {
                        format!(
                            "{}, {}, true, decode('{}', 'hex'), -1",
                            m.version(),
                            super::sql_literal(&m.migration.name.replace('_', " ")),
                            crate::live::checksum::sqlx_hex(m.text)
                        )
                    },
                )
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_and_reversible_names() {
        assert_eq!(
            parse_name("20210422143411_create_history.sql"),
            Some(("20210422143411", "create_history", Direction::Up, "20210422143411_create_history"))
        );
        assert_eq!(parse_name("1_x.down.sql"), Some(("1", "x", Direction::Down, "1_x")));
        assert_eq!(parse_name("1_x.sql.up.sql"), Some(("1", "x.sql", Direction::Up, "1_x.sql")));
        assert_eq!(parse_name("init.sql"), None);
        let v = |f: &str| Sqlx.version_of(Path::new(f));
        assert!(v("9_a.sql") < v("10_b.sql"));
        assert_eq!(v("x_b.sql"), None);
    }

    #[test]
    fn no_transaction_must_start_the_file() {
        let p = Path::new("1_x.sql");
        let mode = Sqlx.transaction(p, "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (c);");
        assert!(!mode.wraps && mode.opted_out_by.as_deref() == Some("-- no-transaction"));
        let mode = Sqlx.transaction(p, "\n-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (c);");
        assert!(mode.wraps && mode.opted_out_by.is_none());
        assert!(!Sqlx.transaction_in(p, "SELECT 1;", Dialect::Mysql).wraps);
        assert!(Sqlx.transaction_in(p, "SELECT 1;", Dialect::Sqlite).wraps);
    }
}
