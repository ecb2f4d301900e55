//! golang-migrate: `<version>_<title>.up.sql` and `<version>_<title>.down.sql` (source regex
//! `^([0-9]+)_(.*)\.(down|up)\.(.*)$`, version a uint64), separate up and down files, ordered by
//! version. It does not wrap migrations: on PostgreSQL the whole file goes out as one `Exec`,
//! which PostgreSQL runs as one implicit transaction when it holds several statements. On MySQL the
//! file runs in one `Exec` with no transaction; on SQLite each migration is wrapped unless the URL
//! says `x-no-tx-wrap=true`. The ledger holds only the current version, so a file whose version is
//! lower than the current one is never applied.

use std::path::Path;

use super::{
    batch, file_name, leading_digits, numeric, numeric_key, pair, whole, wrapped, AppliedBy, Entry, Framework,
    LedgerSpec, NoOptOut, OptOut,
};
use crate::sql::Dialect;
use crate::workspace::listing::Listing;
use crate::workspace::{Direction, FrameworkKind, Migration, Section, TransactionMode, VersionKey};

pub struct GolangMigrate;

const HOW_PG: &str = "golang-migrate has no per-file opt-out: put the statement alone in its own migration file, \
                      or run with `x-multi-statement=true` (splits on `;` and runs each statement without a transaction)";
const HOW_MYSQL: &str =
    "golang-migrate runs MySQL files without a transaction (add BEGIN/COMMIT yourself if you want one)";
const HOW_SQLITE: &str = "add `x-no-tx-wrap=true` to the database URL (golang-migrate wraps each SQLite migration)";

/// `<digits>_<title>.(up|down).sql` → (version digits, title, direction).
pub fn parse_name(file: &str) -> Option<(&str, &str, Direction)> {
    let stem = file.strip_suffix(".sql")?;
    let (rest, direction) = match (stem.strip_suffix(".up"), stem.strip_suffix(".down")) {
        (Some(r), _) => (r, Direction::Up),
        (_, Some(r)) => (r, Direction::Down),
        _ => return None,
    };
    let (digits, tail) = leading_digits(rest);
    let title = tail.strip_prefix('_')?;
    (!digits.is_empty()).then_some((digits, title, direction))
}

/// Whether a version fits golang-migrate's uint64.
fn fits_u64(digits: &str) -> bool {
    digits.parse::<u64>().is_ok()
}

impl Framework for GolangMigrate {
    fn kind(&self) -> FrameworkKind {
        FrameworkKind::GolangMigrate
    }

    fn detect_listing(&self, listing: &Listing) -> bool {
        listing.numbered_sql().any(|f| parse_name(f).is_some())
    }

    fn collect(&self, listing: &Listing, dialect: Dialect, problems: &mut Vec<String>) -> Vec<Migration> {
        let mut entries = Vec::new();
        let mut too_large: Vec<&str> = Vec::new();
        for file in listing.numbered_sql() {
            let Some((digits, title, direction)) = parse_name(file) else { continue };
            if !fits_u64(digits) {
                too_large.push(file);
            }
            let Some(version) = numeric(digits) else { continue };
            let suffix = if direction == Direction::Up { ".up.sql" } else { ".down.sql" };
            entries.push(Entry {
                version,
                name: title.to_string(),
                base: file[..file.len() - suffix.len()].to_string(),
                file: file.to_string(),
                direction,
            });
        }
        if let Some(first) = too_large.first() {
            problems.push(format!(
                "{}: golang-migrate reads versions as uint64 and cannot parse the version of {} (e.g. {first})",
                listing.dir.display(),
                match too_large.len() {
                    1 => "1 file".to_string(),
                    n => format!("{n} files"),
                }
            ));
        }
        entries.sort_by(|a, b| a.version.cmp(&b.version).then_with(|| a.file.cmp(&b.file)));
        pair(listing, entries, |path| self.transaction_in(path, "", dialect))
    }

    fn sections(&self, path: &Path, text: &str) -> Vec<Section> {
        whole(text, super::direction_by_name(path))
    }

    fn transaction(&self, path: &Path, text: &str) -> TransactionMode {
        self.transaction_in(path, text, Dialect::Postgres)
    }

    fn transaction_in(&self, _path: &Path, _text: &str, dialect: Dialect) -> TransactionMode {
        match dialect {
            Dialect::Postgres => batch(HOW_PG),
            Dialect::Mysql => TransactionMode { how_to_opt_out: Some(HOW_MYSQL), ..TransactionMode::default() },
            Dialect::Sqlite => wrapped(HOW_SQLITE),
        }
    }

    /// No per-file opt-out; on PostgreSQL a file holding one statement runs outside any
    /// transaction block.
    fn opt_out(
        &self,
        _path: &Path,
        _text: &str,
        _at: usize,
        _newline: &str,
        _read: &dyn Fn(&Path) -> Option<String>,
    ) -> Result<OptOut, NoOptOut> {
        Err(NoOptOut::OwnFile)
    }

    fn out_of_order(&self) -> &'static str {
        "golang-migrate never applies it, silently: its ledger holds only the current version, and it only moves \
         forward from there"
    }

    fn version_of(&self, path: &Path) -> Option<VersionKey> {
        parse_name(file_name(path)?).and_then(|(v, _, _)| numeric(v))
    }

    /// `schema_migrations`: a single row, the current version; every migration up to it counts
    /// as applied. `dirty = true`: the current version failed (or is still running).
    fn ledger(&self) -> Option<LedgerSpec> {
        Some(LedgerSpec {
            table: "schema_migrations",
            required_columns: &["version", "dirty"],
            optional_columns: &[],
            query: "SELECT version::text, NULL::text, NULL::timestamptz, \
                    CASE WHEN dirty THEN 'failed' ELSE 'applied' END, NULL::text, NULL::text, NULL::bigint, \
                    NULL::bigint, NULL::text[] FROM {table}",
            checksum: None,
            applied: AppliedBy::CurrentVersion,
            key: |version, _| numeric_key(version),
            on_checksum_mismatch: |_, _, _| String::new(),
            resolve_failed: |t| {
                format!(
                    "golang-migrate refuses to run (\"Dirty database version {v}. Fix and force version.\"): undo what \
                     it half-did, then `migrate -path {dir} -database \"$DATABASE_URL\" force {previous}` and run it \
                     again; or, if you completed it by hand, `migrate -path {dir} -database \"$DATABASE_URL\" force {v}`",
                    v = t.version,
                    dir = t.dir.display(),
                    previous = t.previous.unwrap_or("-1"),
                )
            },
            resolve_missing: |t| {
                format!(
                    "golang-migrate cannot find the file of the current version, so it can neither go up nor down from \
                     it; restore the file, or set the version to the last migration you have: `migrate -path {dir} \
                     -database \"$DATABASE_URL\" force {previous}`",
                    dir = t.dir.display(),
                    previous = t.previous.unwrap_or("-1"),
                )
            },
            shared_version: super::SharedVersion::Refused,
            records_failures: true,
            baseline: |t| {
                let version = t.last().map(|m| m.version()).unwrap_or_default();
                format!("migrate -path {} -database \"$DATABASE_URL\" force {version}", t.dir.display())
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_version_title_and_direction() {
        assert_eq!(parse_name("0001_traces.up.sql"), Some(("0001", "traces", Direction::Up)));
        assert_eq!(
            parse_name("20240309082057_view.sql.down.sql"),
            Some(("20240309082057", "view.sql", Direction::Down))
        );
        assert_eq!(parse_name("0001_traces.sql"), None);
        assert_eq!(parse_name("0001traces.up.sql"), None);
        assert_eq!(parse_name("x_traces.up.sql"), None);
        let v = |f: &str| GolangMigrate.version_of(Path::new(f));
        assert!(v("9_a.up.sql") < v("10_b.up.sql"));
        assert_eq!(v("0010_b.down.sql"), Some(VersionKey::Numeric(vec![10])));
    }

    #[test]
    fn postgres_runs_the_file_as_one_implicit_transaction() {
        let p = Path::new("1_x.up.sql");
        let pg = GolangMigrate.transaction(p, "");
        assert!(!pg.wraps && pg.implicit_batch && pg.opted_out_by.is_none());
        assert!(GolangMigrate.transaction_in(p, "", Dialect::Sqlite).wraps);
        let my = GolangMigrate.transaction_in(p, "", Dialect::Mysql);
        assert!(!my.wraps && !my.implicit_batch);
        assert!(GolangMigrate.out_of_order().contains("never applies"));
    }

    #[test]
    fn down_files_run_down() {
        assert_eq!(GolangMigrate.sections(Path::new("1_x.down.sql"), "x")[0].direction, Direction::Down);
        assert_eq!(GolangMigrate.sections(Path::new("1_x.up.sql"), "x")[0].direction, Direction::Up);
    }
}
