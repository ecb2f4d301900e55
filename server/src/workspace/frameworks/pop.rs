//! gobuffalo pop (`soda migrate`) and ory/x `popx`: `<version>_<name>[.<dialect>][.autocommit].(up|down).(sql|fizz)`
//! (pop's regex `^(\d+)_([^.]+)(\.[a-z0-9]+)?\.(up|down)\.(sql|fizz)$`; popx adds
//! `(\.autocommit)?` and reads `.sql` only). One version may have one file per database dialect
//! (`.postgres.`, `.mysql.`, `.sqlite3.`, `.cockroach.`, …, synonyms canonicalised as pop does:
//! `postgresql`/`pg`/`pgx` → `postgres`, `sqlite` → `sqlite3`, `cockroachdb`/`crdb` → `cockroach`)
//! and untagged files that run on every dialect. A connection runs the files tagged with its
//! dialect and the untagged ones; of a version that has a file tagged with its dialect the
//! untagged file is skipped (popx's `sortAndFilter`; pop runs the tagged file first, records the
//! version, and then finds the untagged one applied). A file tagged with a dialect pop does not
//! know is ignored. Versions are compared as text. So a set is the files of one dialect: the
//! set's (`postgres` for PostgreSQL, `mysql` for MySQL — `mariadb` when the directory has only
//! those —, `sqlite3` for SQLite) plus the untagged ones; the other dialects' files are not
//! migrations of it. `.fizz` migrations (pop's DSL) are not SQL: they are left out of the set.
//!
//! Transactions: pop runs every migration in a transaction with its ledger row; popx too, except on
//! MySQL and CockroachDB, and except a file named `….autocommit.up.sql`, which popx sends as one
//! `Exec` outside any transaction. The ledger is `schema_migration(version)`.

use std::path::Path;

use super::{
    file_name, opted_out, pair, sql_literal, text_key, whole, wrapped, AppliedBy, Entry, Framework, LedgerKeys,
    LedgerSpec,
};
use crate::sql::Dialect;
use crate::workspace::listing::Listing;
use crate::workspace::{Direction, FrameworkKind, Migration, MigrationSet, Section, TransactionMode, VersionKey};

pub struct Pop;

const HOW: &str = "pop runs every migration in a transaction; with ory/x popx, name the file \
                   `<version>_<name>[.<dialect>].autocommit.up.sql` to run it outside one";
const AUTOCOMMIT: &str = "`.autocommit` in the file name (popx)";

/// A database dialect pop knows, as it canonicalises a file's tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Postgres,
    Cockroach,
    Mysql,
    Mariadb,
    Sqlite3,
}

impl Tag {
    /// pop's `CanonicalDialect` over its registered dialects and synonyms.
    pub fn parse(tag: &str) -> Option<Tag> {
        Some(match tag {
            "postgres" | "postgresql" | "pg" | "pgx" => Tag::Postgres,
            "cockroach" | "cockroachdb" | "crdb" => Tag::Cockroach,
            "mysql" => Tag::Mysql,
            "mariadb" => Tag::Mariadb,
            "sqlite3" | "sqlite" => Tag::Sqlite3,
            _ => return None,
        })
    }

    /// The tag of a connection of `dialect` (MySQL: `mysql`, not `mariadb`).
    pub fn of(dialect: Dialect) -> Tag {
        match dialect {
            Dialect::Postgres => Tag::Postgres,
            Dialect::Mysql => Tag::Mysql,
            Dialect::Sqlite => Tag::Sqlite3,
        }
    }

    /// The canonical name, as pop writes it in file names.
    pub fn name(self) -> &'static str {
        match self {
            Tag::Postgres => "postgres",
            Tag::Cockroach => "cockroach",
            Tag::Mysql => "mysql",
            Tag::Mariadb => "mariadb",
            Tag::Sqlite3 => "sqlite3",
        }
    }

    /// The dialect safemig checks a file of this tag in; `None` for CockroachDB, which it does
    /// not check.
    pub fn dialect(self) -> Option<Dialect> {
        match self {
            Tag::Postgres => Some(Dialect::Postgres),
            Tag::Mysql | Tag::Mariadb => Some(Dialect::Mysql),
            Tag::Sqlite3 => Some(Dialect::Sqlite),
            Tag::Cockroach => None,
        }
    }
}

/// Which connections run a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbType {
    /// No tag: every dialect.
    All,
    Tagged(Tag),
    /// A tag pop does not know: pop and popx ignore the file.
    Unsupported,
}

/// A pop migration file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PopName<'a> {
    pub version: &'a str,
    pub name: &'a str,
    pub db_type: DbType,
    /// popx's `.autocommit`: run outside a transaction.
    pub autocommit: bool,
    pub direction: Direction,
    /// A `.fizz` migration (pop's DSL), not SQL.
    pub fizz: bool,
}

/// Parses `<digits>_<name>[.<tag>][.autocommit].(up|down).(sql|fizz)` as popx's regex does
/// (case-sensitive; the name holds no `.`; a lone `.autocommit` is the flag, not a tag).
pub fn parse_name(file: &str) -> Option<PopName<'_>> {
    let (stem, fizz) = match (file.strip_suffix(".sql"), file.strip_suffix(".fizz")) {
        (Some(s), _) => (s, false),
        (_, Some(s)) => (s, true),
        _ => return None,
    };
    let (rest, direction) = match (stem.strip_suffix(".up"), stem.strip_suffix(".down")) {
        (Some(r), _) => (r, Direction::Up),
        (_, Some(r)) => (r, Direction::Down),
        _ => return None,
    };
    let mut parts = rest.split('.');
    let head = parts.next()?;
    let (version, name) = head.split_once('_')?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) || name.is_empty() {
        return None;
    }
    let extra: Vec<&str> = parts.collect();
    let word = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !extra.iter().all(|s| word(s)) {
        return None;
    }
    let (tag, autocommit) = match extra.as_slice() {
        [] => (None, false),
        ["autocommit"] => (None, true),
        [tag] => (Some(*tag), false),
        [tag, "autocommit"] => (Some(*tag), true),
        _ => return None,
    };
    if fizz && autocommit {
        // popx reads `.sql` only; pop's regex has no `.autocommit`.
        return None;
    }
    let db_type = match tag {
        None | Some("autocommit") => DbType::All,
        Some(tag) => Tag::parse(tag).map_or(DbType::Unsupported, DbType::Tagged),
    };
    Some(PopName { version, name, db_type, autocommit, direction, fizz })
}

/// The dialect tag in a pop file name (`….cockroach.up.sql` → CockroachDB), `None` when the name
/// is not a pop migration's or carries no known tag.
pub fn tag_of(path: &Path) -> Option<Tag> {
    match parse_name(file_name(path)?)?.db_type {
        DbType::Tagged(tag) => Some(tag),
        DbType::All | DbType::Unsupported => None,
    }
}

/// The tag a new migration written after `base` carries: the base file's, else the one a set of
/// `dialect` runs.
pub fn new_file_tag(dialect: Dialect, base: Option<&Path>) -> &'static str {
    base.and_then(tag_of).unwrap_or(Tag::of(dialect)).name()
}

/// The tag a set of `dialect` runs, given the tags its directory holds.
fn set_tag(dialect: Dialect, listing: &Listing) -> Tag {
    let has = |t: Tag| listing.files.iter().filter_map(|f| parse_name(f)).any(|n| n.db_type == DbType::Tagged(t));
    match Tag::of(dialect) {
        Tag::Mysql if !has(Tag::Mysql) && has(Tag::Mariadb) => Tag::Mariadb,
        tag => tag,
    }
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

impl Framework for Pop {
    fn kind(&self) -> FrameworkKind {
        FrameworkKind::Pop
    }

    /// pop and popx read each migration as a Go `text/template` before sending it
    /// (`{{ index .Options "Namespace" }}` in supabase/auth's).
    fn renders_templates(&self) -> bool {
        true
    }

    /// pop-shaped names with at least one dialect-tagged file or a `.fizz` migration: a
    /// golang-migrate directory has the same `<digits>_<name>.(up|down).sql` names, so the tag or
    /// the fizz file decides.
    fn detect_listing(&self, listing: &Listing) -> bool {
        listing.files.iter().filter_map(|f| parse_name(f)).any(|n| n.fizz || matches!(n.db_type, DbType::Tagged(_)))
    }

    fn collect(&self, listing: &Listing, dialect: Dialect, problems: &mut Vec<String>) -> Vec<Migration> {
        let tag = set_tag(dialect, listing);
        let names: Vec<(&str, PopName)> =
            listing.files.iter().filter_map(|f| Some((f.as_str(), parse_name(f)?))).collect();
        // (version, direction) that have a file tagged with the set's dialect.
        let tagged: rustc_hash::FxHashSet<(&str, Direction)> = names
            .iter()
            .filter(|(_, n)| !n.fizz && n.db_type == DbType::Tagged(tag))
            .map(|(_, n)| (n.version, n.direction))
            .collect();
        let mut entries = Vec::new();
        let (mut fizz, mut unsupported) = (0, Vec::new());
        for (file, n) in &names {
            if n.fizz {
                fizz += 1;
                continue;
            }
            let runs = match n.db_type {
                DbType::Tagged(t) => t == tag,
                DbType::All => !tagged.contains(&(n.version, n.direction)),
                DbType::Unsupported => {
                    unsupported.push(*file);
                    false
                }
            };
            if !runs {
                continue;
            }
            let suffix = if n.direction == Direction::Up { ".up.sql" } else { ".down.sql" };
            let base = file[..file.len() - suffix.len()].to_string();
            entries.push(Entry {
                version: VersionKey::Text(n.version.to_string()),
                name: n.name.to_string(),
                base,
                file: file.to_string(),
                direction: n.direction,
            });
        }
        if fizz > 0 {
            problems.push(format!(
                "{}: {} not checked: safemig reads SQL only, and the schema replay does not see what they do",
                listing.dir.display(),
                count(fizz, "pop `.fizz` migration")
            ));
        }
        if let Some(first) = unsupported.first() {
            problems.push(format!(
                "{}: pop ignores {} tagged with a dialect it does not know (e.g. {first})",
                listing.dir.display(),
                count(unsupported.len(), "file")
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

    /// Wrapped, with the ledger row; popx runs MySQL migrations without a transaction (pop wraps
    /// them, but MySQL commits DDL implicitly either way), and `.autocommit` files outside one.
    fn transaction_in(&self, path: &Path, _text: &str, dialect: Dialect) -> TransactionMode {
        let autocommit = file_name(path).and_then(parse_name).is_some_and(|n| n.autocommit);
        if autocommit {
            opted_out(wrapped(HOW), AUTOCOMMIT)
        } else if dialect == Dialect::Mysql {
            TransactionMode { how_to_opt_out: Some(HOW), ..TransactionMode::default() }
        } else {
            wrapped(HOW)
        }
    }

    /// popx sends an `.autocommit` file as one `Exec`.
    fn opted_out_sends_one_query(&self) -> bool {
        true
    }

    fn out_of_order(&self) -> &'static str {
        "pop and popx apply it silently: every version missing from `schema_migration` runs"
    }

    fn version_of(&self, path: &Path) -> Option<VersionKey> {
        parse_name(file_name(path)?).map(|n| VersionKey::Text(n.version.to_string()))
    }

    /// `schema_migration(version)`: one row per applied version, written in the migration's
    /// transaction (popx: after an `.autocommit` file ran). A version counts as applied for every
    /// file that has it.
    fn ledger(&self) -> Option<LedgerSpec> {
        Some(LedgerSpec {
            table: "schema_migration",
            required_columns: &["version"],
            optional_columns: &[],
            query: super::VERSION_ROWS_QUERY,
            checksum: None,
            applied: AppliedBy::EachRow,
            key: |version, _| text_key(version),
            on_checksum_mismatch: |_, _, _| String::new(),
            resolve_failed: |t| super::insert_version_by_hand("pop", t),
            resolve_missing: |t| {
                super::delete_version_by_hand(
                    "`soda migrate down` cannot undo it without its file; restore the file",
                    t,
                )
            },
            shared_version: super::SharedVersion::AppliedForAll,
            records_failures: false,
            baseline: |t| {
                super::record_by_hand(
                    "pop",
                    t,
                    "CREATE TABLE IF NOT EXISTS schema_migration (version varchar(48) NOT NULL, version_self int NOT \
                     NULL DEFAULT 0); CREATE UNIQUE INDEX IF NOT EXISTS schema_migration_version_idx ON \
                     schema_migration (version); ",
                    "INSERT INTO schema_migration (version)",
                    |m| sql_literal(&m.version()),
                )
            },
        })
    }

    /// `.fizz` migrations are not part of the set but have rows too.
    fn ledger_keys(&self, set: &MigrationSet) -> LedgerKeys {
        let migrations = set.migrations.iter().map(|m| Some(m.version.clone())).collect();
        let (files, _) = crate::workspace::listing::read_names(&set.dir).unwrap_or_default();
        let fizz = files.iter().filter_map(|f| parse_name(f)).filter(|n| n.fizz && n.direction == Direction::Up);
        let elsewhere = fizz.map(|n| VersionKey::Text(n.version.to_string())).collect();
        LedgerKeys { migrations, elsewhere }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_version_dialect_autocommit_and_direction() {
        let n = parse_name("20150100000001000000_networks.postgres.up.sql").expect("a pop name");
        assert_eq!((n.version, n.name, n.db_type), ("20150100000001000000", "networks", DbType::Tagged(Tag::Postgres)));
        assert_eq!((n.direction, n.autocommit, n.fizz), (Direction::Up, false, false));
        let all = parse_name("1_x.down.sql").expect("untagged");
        assert_eq!((all.db_type, all.direction), (DbType::All, Direction::Down));
        assert_eq!(parse_name("1_x.sqlite.up.sql").map(|n| n.db_type), Some(DbType::Tagged(Tag::Sqlite3)));
        assert_eq!(parse_name("1_x.crdb.up.sql").map(|n| n.db_type), Some(DbType::Tagged(Tag::Cockroach)));
        assert_eq!(parse_name("1_x.pgx.up.sql").map(|n| n.db_type), Some(DbType::Tagged(Tag::Postgres)));
        assert_eq!(parse_name("1_x.oracle.up.sql").map(|n| n.db_type), Some(DbType::Unsupported));
        let auto = parse_name("1_x.autocommit.up.sql").expect("popx autocommit");
        assert_eq!((auto.db_type, auto.autocommit), (DbType::All, true));
        let tagged_auto = parse_name("1_x.postgres.autocommit.down.sql").expect("tagged autocommit");
        assert_eq!((tagged_auto.db_type, tagged_auto.autocommit), (DbType::Tagged(Tag::Postgres), true));
        assert!(parse_name("1_x.up.fizz").is_some_and(|n| n.fizz));
        // Not pop names.
        for name in ["1_x.sql", "x_1.up.sql", "1x.up.sql", "1_.up.sql", "1_x.Postgres.up.sql", "1_x.a.b.up.sql"] {
            assert_eq!(parse_name(name), None, "{name}");
        }
    }

    #[test]
    fn transactions_follow_the_dialect_and_the_autocommit_name() {
        let wrapped = Pop.transaction(Path::new("1_x.postgres.up.sql"), "");
        assert!(wrapped.wraps && wrapped.opted_out_by.is_none());
        let auto = Pop.transaction(Path::new("1_x.postgres.autocommit.up.sql"), "");
        assert!(!auto.wraps && auto.opted_out_by.is_some());
        assert!(!Pop.transaction_in(Path::new("1_x.mysql.up.sql"), "", Dialect::Mysql).wraps);
        assert!(Pop.transaction_in(Path::new("1_x.sqlite3.up.sql"), "", Dialect::Sqlite).wraps);
    }

    #[test]
    fn versions_compare_as_text() {
        let v = |f: &str| Pop.version_of(Path::new(f));
        assert_eq!(v("0010_a.up.sql"), Some(VersionKey::Text("0010".into())));
        // pop compares the strings: "9" sorts after "10".
        assert!(v("9_a.up.sql") > v("10_b.postgres.up.sql"));
        assert_eq!(tag_of(Path::new("d/1_a.cockroach.up.sql")), Some(Tag::Cockroach));
        assert_eq!(tag_of(Path::new("d/1_a.up.sql")), None);
    }
}
