//! Prisma Migrate (≤ 7): `prisma/migrations/<YYYYMMDDHHMMSS>_<name>/migration.sql` plus a top-level
//! `migration_lock.toml` (`provider = "postgresql"`). Ordered by directory name (a plain sort, the
//! ledger keys on the directory name). Up only. The PostgreSQL flavour sends the whole script as one
//! command, so PostgreSQL runs a multi-statement file as one implicit transaction; there is no
//! opt-out directive.

use std::path::Path;

use super::{
    file_name, parent_name, sql_literal, text_key, whole, AppliedBy, ChecksumKind, Framework, LedgerSpec, NoOptOut,
    OptOut,
};
use crate::sql::Dialect;
use crate::workspace::listing::{read_text, Listing};
use crate::workspace::{Direction, FrameworkKind, Migration, Section, TransactionMode, VersionKey};

pub struct Prisma;

const HOW: &str = "Prisma has no opt-out directive: put the statement alone in its own migration \
                   (a one-statement migration.sql runs outside any transaction block)";

const FILE: &str = "migration.sql";

impl Framework for Prisma {
    fn kind(&self) -> FrameworkKind {
        FrameworkKind::Prisma
    }

    fn detect_listing(&self, listing: &Listing) -> bool {
        listing.has_file("migration_lock.toml")
            || listing.subdirs.iter().any(|s| s.has(FILE) && !s.has("snapshot.json"))
    }

    fn collect(&self, listing: &Listing, dialect: Dialect, _problems: &mut Vec<String>) -> Vec<Migration> {
        // Subdirectories are sorted by name: that is the runner's order.
        listing
            .subdirs
            .iter()
            .filter(|s| s.has(FILE) && !s.name.starts_with('.'))
            .map(|s| {
                let path = listing.dir.join(&s.name).join(FILE);
                Migration {
                    version: VersionKey::Text(s.name.clone()),
                    name: s.name.split_once('_').map_or("", |(_, n)| n).to_string(),
                    transaction: self.transaction_in(&path, "", dialect),
                    up: Some(path),
                    down: None,
                }
            })
            .collect()
    }

    fn sections(&self, _path: &Path, text: &str) -> Vec<Section> {
        whole(text, Direction::Up)
    }

    fn transaction(&self, _path: &Path, _text: &str) -> TransactionMode {
        TransactionMode { wraps: false, implicit_batch: true, opted_out_by: None, how_to_opt_out: Some(HOW) }
    }

    /// No opt-out directive; a `migration.sql` holding one statement runs outside any
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
        "`prisma migrate deploy` applies it: every migration directory without a ledger row runs, \
         whatever its timestamp (what `prisma migrate dev` does with it is unconfirmed)"
    }

    fn dialect_hint(&self, dir: &Path) -> Option<Dialect> {
        read_text(&dir.join("migration_lock.toml")).and_then(|t| lock_provider(&t)).or_else(|| super::name_hint(dir))
    }

    fn version_of(&self, path: &Path) -> Option<VersionKey> {
        (file_name(path)? == FILE).then(|| parent_name(path).map(|n| VersionKey::Text(n.to_string())))?
    }

    /// `_prisma_migrations` in the connection's schema: one row per attempt, keyed by the
    /// directory name; `finished_at IS NULL AND rolled_back_at IS NULL` is a failed migration
    /// (P3009), `logs` its error.
    fn ledger(&self) -> Option<LedgerSpec> {
        Some(LedgerSpec {
            table: "_prisma_migrations",
            required_columns: &["migration_name", "checksum", "started_at", "finished_at", "rolled_back_at", "logs"],
            optional_columns: &[],
            query:
                "SELECT migration_name::text, migration_name::text, COALESCE(finished_at, started_at)::timestamptz, \
                    CASE WHEN rolled_back_at IS NOT NULL THEN 'rolled_back' WHEN finished_at IS NULL THEN 'failed' \
                    ELSE 'applied' END, checksum::text, logs::text, NULL::bigint, NULL::bigint, NULL::text[] \
                    FROM {table} ORDER BY started_at, finished_at NULLS LAST",
            checksum: Some(ChecksumKind::Prisma),
            applied: AppliedBy::EachRow,
            key: |version, _| text_key(version),
            on_checksum_mismatch: |version, _, _| {
                format!(
                    "`prisma migrate dev` reports \"The migration `{version}` was modified after it was applied.\" and asks \
                     to reset the database"
                )
            },
            resolve_failed: |t| {
                format!(
                    "undo what it changed, then `prisma migrate resolve --rolled-back {name}` (the next `prisma migrate \
                     deploy` runs it again); or, if you completed it by hand, `prisma migrate resolve --applied {name}`",
                    name = t.version
                )
            },
            resolve_missing: |t| {
                format!(
                    "`prisma migrate dev` finds it applied but missing from the migrations directory and asks to reset \
                     the database; restore the directory from git, or delete the row: DELETE FROM {} WHERE \
                     migration_name = {};",
                    t.table,
                    sql_literal(t.version)
                )
            },
            shared_version: super::SharedVersion::Refused,
            records_failures: true,
            baseline: |t| super::per_migration(t, 20, |m| format!("npx prisma migrate resolve --applied {}", m.stem())),
        })
    }
}

/// The dialect of `provider = "…"` in `migration_lock.toml`.
pub fn lock_provider(text: &str) -> Option<Dialect> {
    let doc = toml_edit::Document::parse(text).ok()?;
    match doc.get("provider")?.as_str()?.to_ascii_lowercase().as_str() {
        "postgresql" | "postgres" | "cockroachdb" => Some(Dialect::Postgres),
        "mysql" => Some(Dialect::Mysql),
        "sqlite" => Some(Dialect::Sqlite),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_file_names_the_dialect() {
        let lock = "# Please do not edit this file manually\nprovider = \"postgresql\"\n";
        assert_eq!(lock_provider(lock), Some(Dialect::Postgres));
        assert_eq!(lock_provider("provider = \"mysql\""), Some(Dialect::Mysql));
        assert_eq!(lock_provider("provider = \"sqlite\""), Some(Dialect::Sqlite));
        assert_eq!(lock_provider("provider = \"sqlserver\""), None);
        assert_eq!(lock_provider("provider = "), None);
    }

    #[test]
    fn the_version_is_the_directory_name() {
        let p = Path::new("prisma/migrations/20240101120000_add_email/migration.sql");
        assert_eq!(Prisma.version_of(p), Some(VersionKey::Text("20240101120000_add_email".into())));
        assert_eq!(Prisma.version_of(Path::new("prisma/migrations/x/other.sql")), None);
        // Ordered by directory name as text.
        assert!(VersionKey::Text("20240101120000_b".into()) < VersionKey::Text("20240102000000_a".into()));
    }

    #[test]
    fn a_script_is_one_implicit_transaction_without_an_opt_out() {
        let mode = Prisma.transaction(Path::new("m/migration.sql"), "CREATE INDEX CONCURRENTLY i ON t (c);");
        assert!(!mode.wraps && mode.implicit_batch && mode.opted_out_by.is_none());
        assert!(mode.how_to_opt_out.is_some_and(|h| h.contains("own migration")));
    }
}
