//! Supabase CLI: `supabase/migrations/<digits>_<name>.sql` (`supabase migration new` writes a
//! 14-digit UTC timestamp). Versions are the digits, compared as text; files are applied in sorted
//! name order; up only. Each file goes out as one pipelined `ExecBatch` together with the ledger
//! `INSERT`, which PostgreSQL runs as one implicit transaction — so even a file holding a single
//! statement runs inside it. No opt-out directive is known (unconfirmed).

use std::path::Path;

use super::{file_name, leading_digits, text_key, whole, AppliedBy, ChecksumKind, Framework, LedgerSpec};
use crate::sql::Dialect;
use crate::workspace::listing::Listing;
use crate::workspace::{Direction, FrameworkKind, Migration, Section, TransactionMode, VersionKey};

pub struct Supabase;

const HOW: &str = "Supabase has no known opt-out (unconfirmed): each file is sent as one batch together with \
                   its ledger INSERT, so even a file holding only this statement runs in that implicit transaction";

/// `^([0-9]+)_(.*)\.sql$`: (version, name).
pub fn parse_name(file: &str) -> Option<(&str, &str)> {
    let stem = file.strip_suffix(".sql")?;
    let (digits, rest) = leading_digits(stem);
    let name = rest.strip_prefix('_')?;
    (!digits.is_empty()).then_some((digits, name))
}

/// `([0-9]{14})_init\.sql`: skipped on purpose by the CLI.
fn is_skipped_init(file: &str) -> bool {
    parse_name(file).is_some_and(|(v, n)| v.len() == 14 && n == "init")
}

impl Framework for Supabase {
    fn kind(&self) -> FrameworkKind {
        FrameworkKind::Supabase
    }

    fn detect_listing(&self, listing: &Listing) -> bool {
        listing.name() == Some("migrations")
            && listing.parent_name() == Some("supabase")
            && listing.sql_files().next().is_some()
    }

    fn collect(&self, listing: &Listing, dialect: Dialect, problems: &mut Vec<String>) -> Vec<Migration> {
        let mut out = Vec::new();
        for file in listing.sql_files() {
            let path = listing.path(file);
            if is_skipped_init(file) {
                problems.push(format!(
                    "{}: the Supabase CLI skips `<timestamp>_init.sql` files on purpose; replace \"init\" with a different file name",
                    path.display()
                ));
                continue;
            }
            let Some((version, name)) = parse_name(file) else {
                problems.push(format!(
                    "{}: the Supabase CLI skips this file: file name must match pattern \"<timestamp>_name.sql\"",
                    path.display()
                ));
                continue;
            };
            out.push(Migration {
                version: VersionKey::Text(version.to_string()),
                name: name.to_string(),
                transaction: self.transaction_in(&path, "", dialect),
                up: Some(path),
                down: None,
            });
        }
        // Listing order is sorted file names: the CLI's order.
        out
    }

    fn sections(&self, _path: &Path, text: &str) -> Vec<Section> {
        whole(text, Direction::Up)
    }

    fn transaction(&self, _path: &Path, _text: &str) -> TransactionMode {
        // The batch (file + ledger INSERT) is implicitly transactional: it behaves as a wrapper.
        TransactionMode { wraps: true, implicit_batch: true, opted_out_by: None, how_to_opt_out: Some(HOW) }
    }

    fn out_of_order(&self) -> &'static str {
        "`supabase db push` and `supabase migration up` refuse to run (\"Found local migration files to be inserted \
         before the last migration on remote database.\") unless rerun with `--include-all`"
    }

    fn dialect_hint(&self, _dir: &Path) -> Option<Dialect> {
        Some(Dialect::Postgres)
    }

    fn version_of(&self, path: &Path) -> Option<VersionKey> {
        parse_name(file_name(path)?).map(|(v, _)| VersionKey::Text(v.to_string()))
    }

    /// What a new Supabase database has before any migration: `uuid-ossp`, `pgcrypto`,
    /// `pg_stat_statements` (and on older projects `pgjwt`) in the `extensions` schema,
    /// `pg_graphql`, `supabase_vault`, `pgsodium`, and `plpgsql`.
    fn preinstalled_extensions(&self) -> &'static [&'static str] {
        &["uuid-ossp", "pgcrypto", "pg_stat_statements", "pgjwt", "pg_graphql", "supabase_vault", "pgsodium", "plpgsql"]
    }

    /// `supabase_migrations.schema_migrations(version, statements, name)`: one row per applied
    /// file with the statements the CLI ran (`statements` and `name` were added later, so older
    /// databases lack them). A failure leaves no row.
    fn ledger(&self) -> Option<LedgerSpec> {
        Some(LedgerSpec {
            table: "supabase_migrations.schema_migrations",
            required_columns: &["version"],
            optional_columns: &[("name", "NULL::text"), ("statements", "NULL::text[]")],
            query: "SELECT version::text, {name}::text, NULL::timestamptz, 'applied', NULL::text, NULL::text, \
                    NULL::bigint, NULL::bigint, {statements}::text[] FROM {table} ORDER BY version",
            checksum: Some(ChecksumKind::Statements),
            applied: AppliedBy::EachRow,
            key: |version, _| text_key(version),
            on_checksum_mismatch: |_, _, _| {
                "Supabase never compares them, so `supabase db push` will not run the file again: the dev database \
                 keeps what it ran"
                    .to_string()
            },
            resolve_failed: |t| {
                format!(
                    "undo what it half-did and push again; or, if you completed it by hand, `supabase migration repair \
                     --status applied {}`",
                    t.version
                )
            },
            resolve_missing: |t| {
                format!(
                    "`supabase db push` fails: \"Remote migration versions not found in local migrations directory.\"; \
                     restore the file (`supabase db pull`), or `supabase migration repair --status reverted {}`",
                    t.version
                )
            },
            shared_version: super::SharedVersion::Named(super::description_names),
            records_failures: true,
            baseline: |t| {
                super::per_migration(t, 20, |m| format!("supabase migration repair --status applied {}", m.version()))
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions() {
        assert_eq!(parse_name("20240101120000_add_email.sql"), Some(("20240101120000", "add_email")));
        assert_eq!(parse_name("1_x.sql"), Some(("1", "x")));
        assert_eq!(parse_name("seed.sql"), None);
        assert_eq!(parse_name("20240101_x.SQL"), None);
        assert!(is_skipped_init("20240101120000_init.sql"));
        assert!(!is_skipped_init("2024_init.sql"));
        // Versions compare as text.
        assert!(VersionKey::Text("10".into()) < VersionKey::Text("9".into()));
    }

    #[test]
    fn even_one_statement_runs_inside_the_batch() {
        let mode = Supabase.transaction(Path::new("x.sql"), "CREATE INDEX CONCURRENTLY i ON t (c);");
        assert!(mode.wraps && mode.implicit_batch && mode.opted_out_by.is_none());
    }
}
