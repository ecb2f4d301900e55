//! Drizzle Kit / drizzle-orm migrator. Stable layout: `<out>/<prefix>_<tag>.sql` plus
//! `meta/_journal.json`; the migrator reads only the journal (`entries[]` of `{idx, when, tag}`),
//! so the order is journal order, `.sql` files missing from the journal are ignored and a journal
//! entry without its file stops the run. Statements are split on `--> statement-breakpoint`. Up only.
//! On PostgreSQL all pending migrations run inside one transaction, with no per-file opt-out.
//! The v1 beta layout (`<YYYYMMDDHHMMSS>_<name>/migration.sql` + `snapshot.json`, sorted by folder
//! name) is recognised too.

use std::ops::Range;
use std::path::Path;

use super::{
    file_name, leading_digits, numeric, numeric_key, parent_name, strip_sql, whole, wrapped, AppliedBy, ChecksumKind,
    Framework, LedgerKeys, LedgerSpec,
};
use crate::sql::Dialect;
use crate::workspace::listing::{read_text, Listing};
use crate::workspace::{Direction, FrameworkKind, Migration, Section, TransactionMode, VersionKey};

pub struct Drizzle;

const HOW: &str = "Drizzle has no per-migration opt-out: the migrator runs all pending migrations in one \
                   transaction; run this statement outside `drizzle-kit migrate`";

const BREAKPOINT: &str = "--> statement-breakpoint";

/// One journal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub idx: u64,
    pub when: u64,
    pub tag: String,
}

/// The entries of `meta/_journal.json`, in journal order.
pub fn parse_journal(text: &str) -> Result<Vec<JournalEntry>, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let entries = value.get("entries").and_then(|e| e.as_array()).ok_or("no `entries` array")?;
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let tag = e.get("tag").and_then(|t| t.as_str()).ok_or(format!("entry {i} has no `tag`"))?;
            Ok(JournalEntry {
                idx: e.get("idx").and_then(|v| v.as_u64()).unwrap_or(i as u64),
                when: e.get("when").and_then(|v| v.as_u64()).unwrap_or(0),
                tag: tag.to_string(),
            })
        })
        .collect()
}

/// The version of a tag: its numeric prefix (`0005_x` → 5, a 14-digit timestamp), else the journal idx.
fn tag_version(tag: &str, idx: u64) -> VersionKey {
    let (digits, rest) = leading_digits(tag);
    match numeric(digits) {
        Some(v) if rest.is_empty() || rest.starts_with('_') => v,
        _ => VersionKey::Numeric(vec![u128::from(idx)]),
    }
}

fn tag_name(tag: &str) -> String {
    let (digits, rest) = leading_digits(tag);
    if digits.is_empty() {
        tag.to_string()
    } else {
        rest.strip_prefix('_').unwrap_or(rest).to_string()
    }
}

fn is_beta_folder(s: &crate::workspace::listing::Subdir) -> bool {
    s.has("migration.sql") && s.has("snapshot.json")
}

impl Drizzle {
    fn has_journal(listing: &Listing) -> bool {
        listing.subdir("meta").is_some_and(|m| m.has("_journal.json"))
    }

    fn migration(&self, path: std::path::PathBuf, version: VersionKey, name: String, dialect: Dialect) -> Migration {
        Migration { version, name, transaction: self.transaction_in(&path, "", dialect), up: Some(path), down: None }
    }
}

impl Framework for Drizzle {
    fn kind(&self) -> FrameworkKind {
        FrameworkKind::Drizzle
    }

    fn detect_listing(&self, listing: &Listing) -> bool {
        let supabase_dir = listing.name() == Some("migrations") && listing.parent_name() == Some("supabase");
        Drizzle::has_journal(listing)
            || listing.subdirs.iter().any(is_beta_folder)
            || (!supabase_dir && listing.signals().statement_breakpoint)
    }

    fn collect(&self, listing: &Listing, dialect: Dialect, problems: &mut Vec<String>) -> Vec<Migration> {
        let journal_path = listing.dir.join("meta").join("_journal.json");
        if Drizzle::has_journal(listing) {
            let parsed =
                read_text(&journal_path).ok_or_else(|| "cannot be read".to_string()).and_then(|t| parse_journal(&t));
            match parsed {
                Ok(entries) => {
                    let mut out = Vec::with_capacity(entries.len());
                    let mut listed = rustc_hash::FxHashSet::default();
                    for e in &entries {
                        let file = format!("{}.sql", e.tag);
                        if !listing.has_file(&file) {
                            problems.push(format!(
                                "{}: the journal lists `{}` but {} is missing; the drizzle migrator stops with \"No file … found\"",
                                journal_path.display(),
                                e.tag,
                                listing.path(&file).display()
                            ));
                            continue;
                        }
                        out.push(self.migration(
                            listing.path(&file),
                            tag_version(&e.tag, e.idx),
                            tag_name(&e.tag),
                            dialect,
                        ));
                        listed.insert(file);
                    }
                    for file in listing.sql_files().filter(|f| !listed.contains(*f)) {
                        problems.push(format!(
                            "{}: not in meta/_journal.json; the drizzle migrator never applies it",
                            listing.path(file).display()
                        ));
                    }
                    return out;
                }
                Err(e) => problems.push(format!(
                    "{}: {e}; ordering the Drizzle migrations by file name instead",
                    journal_path.display()
                )),
            }
        } else if listing.subdirs.iter().any(is_beta_folder) {
            return listing
                .subdirs
                .iter()
                .filter(|s| s.has("migration.sql"))
                .map(|s| {
                    let name = s.name.split_once('_').map_or("", |(_, n)| n).to_string();
                    self.migration(
                        listing.dir.join(&s.name).join("migration.sql"),
                        VersionKey::Text(s.name.clone()),
                        name,
                        dialect,
                    )
                })
                .collect();
        } else {
            problems.push(format!(
                "{}: Drizzle migrations without meta/_journal.json (the migrator reads only the journal); ordered by file name",
                listing.dir.display()
            ));
        }
        let mut out = Vec::new();
        for (i, file) in listing.numbered_sql().enumerate() {
            let Some(tag) = strip_sql(file) else { continue };
            out.push(self.migration(listing.path(file), tag_version(tag, i as u64), tag_name(tag), dialect));
        }
        out
    }

    fn sections(&self, _path: &Path, text: &str) -> Vec<Section> {
        whole(text, Direction::Up)
    }

    fn transaction(&self, _path: &Path, _text: &str) -> TransactionMode {
        wrapped(HOW)
    }

    fn out_of_order(&self) -> &'static str {
        "the drizzle migrator silently skips it: it applies only journal entries whose `when` is newer than the \
         last applied migration (the unreleased v1 beta folder layout applies it)"
    }

    fn version_of(&self, path: &Path) -> Option<VersionKey> {
        let file = file_name(path)?;
        if file == "migration.sql" {
            return parent_name(path).map(|n| VersionKey::Text(n.to_string()));
        }
        let tag = strip_sql(file)?;
        let (digits, rest) = leading_digits(tag);
        if rest.is_empty() || rest.starts_with('_') {
            numeric(digits)
        } else {
            None
        }
    }

    fn statement_blocks(&self, _path: &Path, text: &str) -> Vec<Range<usize>> {
        chunks(text)
    }

    /// `drizzle.__drizzle_migrations(id, hash, created_at)`: `created_at` is the journal entry's
    /// `when`, `hash` the SHA-256 of the file (never compared by Drizzle). The migrator applies
    /// only entries newer than the newest row. The v1 beta adds `name` (the folder) and
    /// `applied_at`. On PostgreSQL a failure rolls the whole batch back: no row.
    fn ledger(&self) -> Option<LedgerSpec> {
        Some(LedgerSpec {
            table: "drizzle.__drizzle_migrations",
            required_columns: &["hash", "created_at"],
            optional_columns: &[("name", "NULL::text"), ("applied_at", "NULL::timestamptz")],
            query: "SELECT created_at::text, {name}::text, {applied_at}::timestamptz, 'applied', hash::text, \
                    NULL::text, NULL::bigint, NULL::bigint, NULL::text[] FROM {table} ORDER BY created_at, id",
            checksum: Some(ChecksumKind::Drizzle),
            applied: AppliedBy::EachRowNewerOnly,
            key: |version, name| match name.filter(|n| !n.is_empty()) {
                Some(folder) => Some(VersionKey::Text(folder.to_string())),
                None => numeric_key(version),
            },
            on_checksum_mismatch: |_, _, _| {
                "Drizzle never compares this hash, so `drizzle-kit migrate` will not notice: the dev database keeps \
                 the version it ran, fresh databases get the edited one"
                    .to_string()
            },
            resolve_failed: |_| {
                "the drizzle migrator rolls the whole batch back on PostgreSQL; fix the migration and run it again"
                    .to_string()
            },
            resolve_missing: |t| {
                format!(
                    "the drizzle migrator ignores it, but every journal entry older than it counts as applied; \
                     restore the migration and its journal entry, or delete the row by hand: DELETE FROM {} WHERE \
                     created_at = {};",
                    t.table, t.version
                )
            },
            shared_version: super::SharedVersion::Refused,
            records_failures: true,
            baseline: |t| {
                super::record_by_hand(
                    "drizzle-kit",
                    t,
                    "",
                    "INSERT INTO drizzle.__drizzle_migrations (hash, created_at)",
                    |m| {
                        let created_at = match m.ledger_version {
                            Some(VersionKey::Numeric(parts)) => parts.first().map_or_else(String::new, u128::to_string),
                            _ => "<the entry's `when` in meta/_journal.json>".to_string(),
                        };
                        format!("'{}', {created_at}", crate::live::checksum::drizzle(m.text))
                    },
                )
            },
        })
    }

    /// Journal layout: the entry's `when` (what `created_at` stores); v1 beta folders: the
    /// folder name.
    fn ledger_keys(&self, set: &crate::workspace::MigrationSet) -> LedgerKeys {
        let journal = read_text(&set.dir.join("meta").join("_journal.json")).and_then(|t| parse_journal(&t).ok());
        let migrations = set
            .migrations
            .iter()
            .map(|m| {
                let path = m.up.as_deref()?;
                if file_name(path)? == "migration.sql" {
                    return parent_name(path).map(|n| VersionKey::Text(n.to_string()));
                }
                let tag = strip_sql(file_name(path)?)?;
                let entry = journal.as_ref()?.iter().find(|e| e.tag == tag)?;
                Some(VersionKey::Numeric(vec![u128::from(entry.when)]))
            })
            .collect();
        LedgerKeys { migrations, elsewhere: Vec::new() }
    }
}

/// The chunks between `--> statement-breakpoint` markers (none when the file has no marker).
pub fn chunks(text: &str) -> Vec<Range<usize>> {
    if !text.contains(BREAKPOINT) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut start = 0;
    for (at, _) in text.match_indices(BREAKPOINT) {
        out.push(start..at);
        start = at + BREAKPOINT.len();
    }
    out.push(start..text.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_order_and_tags() {
        let journal = r#"{"version":"7","dialect":"postgresql","entries":[
            {"idx":0,"version":"7","when":1700000000000,"tag":"0000_magenta_lilandra","breakpoints":true},
            {"idx":1,"version":"7","when":1700000100000,"tag":"0001_slimy_living_tribunal","breakpoints":true}]}"#;
        let entries = parse_journal(journal).expect("valid journal");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1], JournalEntry { idx: 1, when: 1700000100000, tag: "0001_slimy_living_tribunal".into() });
        assert_eq!(tag_version("0001_slimy", 1), VersionKey::Numeric(vec![1]));
        assert_eq!(tag_version("20240101120000_x", 3), VersionKey::Numeric(vec![20240101120000]));
        assert_eq!(tag_version("magenta_lilandra", 7), VersionKey::Numeric(vec![7]));
        assert_eq!(tag_name("0001_slimy_living_tribunal"), "slimy_living_tribunal");
        assert!(parse_journal("{}").is_err());
        assert!(parse_journal("not json").is_err());
    }

    #[test]
    fn breakpoints_split_chunks() {
        let text = "CREATE TABLE a (x int);\n--> statement-breakpoint\nCREATE INDEX i ON a (x);";
        let got = chunks(text);
        assert_eq!(got.len(), 2);
        assert_eq!(&text[got[0].clone()], "CREATE TABLE a (x int);\n");
        assert_eq!(&text[got[1].clone()], "\nCREATE INDEX i ON a (x);");
        assert!(chunks("SELECT 1;").is_empty());
    }

    #[test]
    fn all_pending_migrations_share_one_transaction() {
        let mode = Drizzle.transaction(Path::new("0000_x.sql"), "CREATE INDEX CONCURRENTLY i ON t (c);");
        assert!(mode.wraps && mode.opted_out_by.is_none());
        assert!(Drizzle.out_of_order().contains("silently skips"));
    }
}
