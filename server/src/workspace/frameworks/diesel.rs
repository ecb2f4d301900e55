//! Diesel: `migrations/<version>_<name>/up.sql` (+ optional `down.sql` and `metadata.toml`).
//! `diesel migration generate` writes `%Y-%m-%d-%H%M%S` (`2015-12-19-180527_create_users`); the
//! version is the text before the first `_` with `-` removed, and versions are compared as text. A
//! directory counts when it contains `up.sql`. Each migration runs in a transaction unless its
//! `metadata.toml` says `run_in_transaction = false`.

use std::path::Path;

use super::{
    file_name, opted_out, parent_name, sql_literal, text_key, whole, wrapped, AppliedBy, Framework, LedgerSpec,
    NoOptOut, OptOut,
};
use crate::sql::Dialect;
use crate::workspace::listing::{read_text, Listing};
use crate::workspace::{FrameworkKind, Migration, Section, TransactionMode, VersionKey};

pub struct Diesel;

const HOW: &str = "add `run_in_transaction = false` to the migration's metadata.toml";

/// `2015-12-19-180527_create_users` → (`20151219180527`, `create_users`).
pub fn parse_dir(name: &str) -> (String, &str) {
    let (version, rest) = name.split_once('_').unwrap_or((name, ""));
    (version.replace('-', ""), rest)
}

/// `run_in_transaction` in a `metadata.toml`.
pub fn run_in_transaction(metadata: &str) -> Option<bool> {
    toml_edit::Document::parse(metadata).ok()?.get("run_in_transaction")?.as_bool()
}

fn mode(metadata: Option<&str>) -> TransactionMode {
    match metadata.and_then(run_in_transaction) {
        Some(false) => opted_out(wrapped(HOW), "`run_in_transaction = false` in metadata.toml"),
        _ => wrapped(HOW),
    }
}

impl Framework for Diesel {
    fn kind(&self) -> FrameworkKind {
        FrameworkKind::Diesel
    }

    fn detect_listing(&self, listing: &Listing) -> bool {
        listing.subdirs.iter().any(|s| s.has("up.sql"))
    }

    fn collect(&self, listing: &Listing, _dialect: Dialect, _problems: &mut Vec<String>) -> Vec<Migration> {
        let mut out: Vec<(String, Migration)> = listing
            .subdirs
            .iter()
            .filter(|s| s.has("up.sql") && !s.name.starts_with('.'))
            .map(|s| {
                let dir = listing.dir.join(&s.name);
                let (version, name) = parse_dir(&s.name);
                let metadata = s.has("metadata.toml").then(|| read_text(&dir.join("metadata.toml"))).flatten();
                let migration = Migration {
                    version: VersionKey::Text(version),
                    name: name.to_string(),
                    up: Some(dir.join("up.sql")),
                    down: s.has("down.sql").then(|| dir.join("down.sql")),
                    transaction: mode(metadata.as_deref()),
                };
                (s.name.clone(), migration)
            })
            .collect();
        out.sort_by(|a, b| a.1.version.cmp(&b.1.version).then_with(|| a.0.cmp(&b.0)));
        out.into_iter().map(|(_, m)| m).collect()
    }

    fn sections(&self, path: &Path, text: &str) -> Vec<Section> {
        whole(text, super::direction_by_name(path))
    }

    fn transaction(&self, path: &Path, _text: &str) -> TransactionMode {
        let metadata = path.parent().and_then(|d| read_text(&d.join("metadata.toml")));
        mode(metadata.as_deref())
    }

    fn transaction_with(
        &self,
        path: &Path,
        _text: &str,
        _dialect: Dialect,
        read: &dyn Fn(&Path) -> Option<String>,
    ) -> TransactionMode {
        mode(path.parent().and_then(|d| read(&d.join("metadata.toml"))).as_deref())
    }

    /// `run_in_transaction = false` in the migration's `metadata.toml` (created, or the key set
    /// in it). Diesel still sends `up.sql` as one query string.
    fn opt_out(
        &self,
        path: &Path,
        _text: &str,
        _at: usize,
        newline: &str,
        read: &dyn Fn(&Path) -> Option<String>,
    ) -> Result<OptOut, NoOptOut> {
        let metadata = path.parent().ok_or(NoOptOut::AlwaysInTransaction)?.join("metadata.toml");
        let line = "run_in_transaction = false";
        let edit = super::set_config_key(
            metadata.clone(),
            read(&metadata),
            "run_in_transaction",
            line,
            "false",
            newline,
            true,
        );
        Ok(OptOut { how: format!("set `{line}` in metadata.toml"), edit })
    }

    fn opted_out_sends_one_query(&self) -> bool {
        true
    }

    fn out_of_order(&self) -> &'static str {
        "Diesel applies it silently: every migration missing from `__diesel_schema_migrations` runs"
    }

    fn version_of(&self, path: &Path) -> Option<VersionKey> {
        if !matches!(file_name(path)?, "up.sql" | "down.sql") {
            return None;
        }
        Some(VersionKey::Text(parse_dir(parent_name(path)?).0))
    }

    /// `__diesel_schema_migrations(version, run_on)`: the version (dashes removed) of each
    /// applied migration.
    fn ledger(&self) -> Option<LedgerSpec> {
        Some(LedgerSpec {
            table: "__diesel_schema_migrations",
            required_columns: &["version", "run_on"],
            optional_columns: &[],
            query: "SELECT version::text, NULL::text, run_on::timestamptz, 'applied', NULL::text, NULL::text, \
                    NULL::bigint, NULL::bigint, NULL::text[] FROM {table} ORDER BY version",
            checksum: None,
            applied: AppliedBy::EachRow,
            key: |version, _| text_key(version),
            on_checksum_mismatch: |_, _, _| String::new(),
            resolve_failed: |t| super::insert_version_by_hand("Diesel", t),
            resolve_missing: |t| {
                super::delete_version_by_hand(
                    "`diesel migration revert` cannot undo it without its directory; restore it",
                    t,
                )
            },
            shared_version: super::SharedVersion::AppliedForAll,
            records_failures: false,
            baseline: |t| {
                super::record_by_hand("Diesel", t, "", "INSERT INTO __diesel_schema_migrations (version)", |m| {
                    sql_literal(&m.ledger_version.map_or_else(|| m.version(), |k| k.display()))
                })
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::Direction;

    #[test]
    fn versions_drop_the_dashes_and_compare_as_text() {
        assert_eq!(parse_dir("2015-12-19-180527_create_users"), ("20151219180527".to_string(), "create_users"));
        assert_eq!(parse_dir("00000000000000_diesel_initial_setup").0, "00000000000000");
        assert_eq!(parse_dir("2026-06-26-100902-0000_x").0, "202606261009020000");
        let v = |p: &str| Diesel.version_of(Path::new(p));
        assert!(v("m/20140924113530_a/up.sql") < v("m/2015-12-19-180527_b/up.sql"));
        assert_eq!(v("m/2015-12-19-180527_b/down.sql"), Some(VersionKey::Text("20151219180527".into())));
        assert_eq!(v("m/2015-12-19-180527_b/notes.sql"), None);
    }

    #[test]
    fn metadata_opts_out() {
        assert_eq!(run_in_transaction("run_in_transaction = false\n"), Some(false));
        assert_eq!(run_in_transaction("run_in_transaction = true"), Some(true));
        assert_eq!(run_in_transaction("not toml ="), None);
        assert!(!mode(Some("run_in_transaction = false")).wraps);
        assert!(mode(Some("run_in_transaction = false")).opted_out_by.is_some());
        assert!(mode(None).wraps);
        assert_eq!(Diesel.sections(Path::new("m/x/down.sql"), "DROP TABLE t;")[0].direction, Direction::Down);
    }
}
