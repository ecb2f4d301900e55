//! Flyway: `V<version>__<description>.sql` (versioned), `U<version>__<description>.sql` (undo,
//! paid editions) and `R__<description>.sql` (repeatable). The prefix is case-sensitive, the
//! `.sql` suffix is not. Versions: `_` means `.`, each part compared as a number (`V1_10` after
//! `V1_9`); repeatables run after all versioned migrations, by description. Each migration runs in
//! its own transaction unless `<script>.sql.conf` says `executeInTransaction=false`; on PostgreSQL
//! a script made only of non-transactional statements (`CREATE INDEX CONCURRENTLY`, `VACUUM`, …)
//! runs outside a transaction by itself.

use std::path::Path;

use sqlparser::tokenizer::Token;

use super::{
    file_name, opted_out, pair, wrapped, AppliedBy, ChecksumKind, Entry, Framework, LedgerSpec, NoOptOut, OptOut,
};
use crate::sql::Dialect;
use crate::workspace::listing::{read_text, Listing};
use crate::workspace::{Direction, FrameworkKind, Migration, Section, TransactionMode, VersionKey};

pub struct Flyway;

const HOW: &str = "add `executeInTransaction=false` to the script's `.sql.conf` file (e.g. `V2__x.sql.conf`), \
                   or keep only non-transactional statements in the script: Flyway then runs it outside a transaction";

/// What a Flyway file name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlywayName {
    Versioned { version: Vec<u128>, description: String },
    Undo { version: Vec<u128>, description: String },
    Repeatable { description: String },
}

/// Parses `V1_10__x.sql`, `U2__x.sql`, `R__x.sql` (`None` for names Flyway ignores).
pub fn parse_name(file: &str) -> Option<FlywayName> {
    let stem = super::strip_sql(file)?;
    if let Some(description) = stem.strip_prefix("R__") {
        return (!description.is_empty()).then(|| FlywayName::Repeatable { description: description.to_string() });
    }
    let undo = stem.starts_with('U');
    let rest = stem.strip_prefix('V').or_else(|| stem.strip_prefix('U'))?;
    let (version, description) = rest.split_once("__")?;
    if description.is_empty() {
        return None;
    }
    let version = parse_version(version)?;
    let description = description.to_string();
    Some(if undo { FlywayName::Undo { version, description } } else { FlywayName::Versioned { version, description } })
}

/// `1_10` / `1.10` / `2026.01.07` → numeric parts; trailing zero parts dropped (Flyway compares a
/// missing part as 0, so `1.0` equals `1`).
pub fn parse_version(s: &str) -> Option<Vec<u128>> {
    let mut parts = Vec::new();
    for part in s.split(['.', '_']) {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        parts.push(part.parse::<u128>().ok()?);
    }
    while parts.len() > 1 && parts.last() == Some(&0) {
        parts.pop();
    }
    Some(parts)
}

/// `executeInTransaction` in a `.sql.conf` file.
pub fn conf_execute_in_transaction(conf: &str) -> Option<bool> {
    conf.lines().filter_map(|l| l.split_once('=')).find(|(k, _)| k.trim() == "executeInTransaction").and_then(
        |(_, v)| match v.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
    )
}

/// Whether every statement of `text` is one that Flyway's PostgreSQL parser marks
/// non-transactional (and there is at least one). `ALTER TYPE … ADD VALUE` (non-transactional
/// before PostgreSQL 12 only) is not counted.
pub fn only_non_transactional(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let hints = ["concurrently", "reindex", "vacuum", "discard", "system", "database", "tablespace", "subscription"];
    if !hints.iter().any(|h| lower.contains(h)) {
        return false;
    }
    let lexed = crate::sql::lexer::tokenize(Dialect::Postgres.sqlparser(), text);
    let statements = crate::sql::split::split(&lexed, text);
    !statements.is_empty()
        && statements.iter().all(|s| {
            let words: Vec<String> = lexed.tokens[s.tokens.clone()]
                .iter()
                .filter(|t| !t.is_trivia())
                .take(4)
                .map(|t| match &t.token {
                    Token::Word(w) => w.value.to_ascii_uppercase(),
                    _ => String::new(),
                })
                .collect();
            let w: Vec<&str> = words.iter().map(String::as_str).collect();
            matches!(
                w.as_slice(),
                ["CREATE", "INDEX", "CONCURRENTLY", ..]
                    | ["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY", ..]
                    | ["DROP", "INDEX", "CONCURRENTLY", ..]
                    | ["REINDEX", ..]
                    | ["VACUUM", ..]
                    | ["DISCARD", "ALL", ..]
                    | ["ALTER", "SYSTEM", ..]
                    | ["CREATE", "DATABASE" | "TABLESPACE" | "SUBSCRIPTION", ..]
            )
        })
}

fn mode(text: &str, conf: Option<&str>, dialect: Dialect) -> TransactionMode {
    match conf.and_then(conf_execute_in_transaction) {
        Some(false) => opted_out(wrapped(HOW), "`executeInTransaction=false` in the script's .sql.conf"),
        Some(true) => wrapped(HOW),
        None if dialect == Dialect::Postgres && only_non_transactional(text) => opted_out(
            wrapped(HOW),
            "Flyway runs a script made only of non-transactional statements outside a transaction",
        ),
        None => wrapped(HOW),
    }
}

impl Framework for Flyway {
    fn kind(&self) -> FrameworkKind {
        FrameworkKind::Flyway
    }

    fn detect_listing(&self, listing: &Listing) -> bool {
        listing.sql_files().any(|f| parse_name(f).is_some())
    }

    fn collect(&self, listing: &Listing, dialect: Dialect, _problems: &mut Vec<String>) -> Vec<Migration> {
        let mut entries: Vec<Entry> = listing
            .sql_files()
            .filter_map(|file| {
                let (version, description, direction) = match parse_name(file)? {
                    FlywayName::Versioned { version, description } => {
                        (VersionKey::Numeric(version), description, Direction::Up)
                    }
                    FlywayName::Undo { version, description } => {
                        (VersionKey::Numeric(version), description, Direction::Down)
                    }
                    FlywayName::Repeatable { description } => {
                        (VersionKey::Text(description.replace('_', " ")), description, Direction::Up)
                    }
                };
                Some(Entry { base: description.clone(), version, name: description, file: file.to_string(), direction })
            })
            .collect();
        // Versioned by version (numeric parts < text), undo after its versioned; then repeatables by
        // description.
        entries.sort_by(|a, b| {
            a.version
                .cmp(&b.version)
                .then((a.direction == Direction::Down).cmp(&(b.direction == Direction::Down)))
                .then(a.file.cmp(&b.file))
        });
        pair(listing, entries, |path| {
            let conf_name = format!("{}.conf", file_name(path).unwrap_or_default());
            let conf = listing.has_file(&conf_name).then(|| read_text(&listing.path(&conf_name))).flatten();
            let text = read_text(path).unwrap_or_default();
            mode(&text, conf.as_deref(), dialect)
        })
    }

    fn sections(&self, path: &Path, text: &str) -> Vec<Section> {
        let direction = match file_name(path).and_then(parse_name) {
            Some(FlywayName::Undo { .. }) => Direction::Down,
            _ => Direction::Up,
        };
        super::whole(text, direction)
    }

    fn transaction(&self, path: &Path, text: &str) -> TransactionMode {
        self.transaction_in(path, text, Dialect::Postgres)
    }

    fn transaction_in(&self, path: &Path, text: &str, dialect: Dialect) -> TransactionMode {
        self.transaction_with(path, text, dialect, &|p| read_text(p))
    }

    fn transaction_with(
        &self,
        path: &Path,
        text: &str,
        dialect: Dialect,
        read: &dyn Fn(&Path) -> Option<String>,
    ) -> TransactionMode {
        let mut conf_path = path.as_os_str().to_owned();
        conf_path.push(".conf");
        let conf = read(Path::new(&conf_path));
        mode(text, conf.as_deref(), dialect)
    }

    /// `executeInTransaction=false` in `<script>.sql.conf` (created, or the key set in it).
    /// Flyway runs each statement on its own then.
    fn opt_out(
        &self,
        path: &Path,
        _text: &str,
        _at: usize,
        newline: &str,
        read: &dyn Fn(&Path) -> Option<String>,
    ) -> Result<OptOut, NoOptOut> {
        let name = file_name(path).ok_or(NoOptOut::AlwaysInTransaction)?;
        let conf = path.with_file_name(format!("{name}.conf"));
        let line = "executeInTransaction=false";
        let edit =
            super::set_config_key(conf.clone(), read(&conf), "executeInTransaction", line, "false", newline, false);
        Ok(OptOut { how: format!("set `{line}` in {name}.conf"), edit })
    }

    fn out_of_order(&self) -> &'static str {
        "Flyway refuses to migrate (\"Detected resolved migration not applied to database\") unless `outOfOrder=true` \
         is set, which applies it"
    }

    fn version_of(&self, path: &Path) -> Option<VersionKey> {
        Some(match parse_name(file_name(path)?)? {
            FlywayName::Versioned { version, .. } | FlywayName::Undo { version, .. } => VersionKey::Numeric(version),
            FlywayName::Repeatable { description } => VersionKey::Text(description.replace('_', " ")),
        })
    }

    /// `flyway_schema_history`: one row per run (repeatables re-run and add rows; the latest
    /// counts). `success = false` is a failed migration (only where it ran outside a
    /// transaction). `BASELINE` rows cover every version up to theirs; `DELETE` rows (written
    /// by `repair` for a missing migration) cancel the rows before them; `SCHEMA` rows are not
    /// migrations; `UNDO_*` rows undo their version. Repeatables are re-run when their checksum
    /// changes, so their checksum is not compared (and is computed after placeholder
    /// replacement, which safemig cannot reproduce).
    fn ledger(&self) -> Option<LedgerSpec> {
        Some(LedgerSpec {
            table: "flyway_schema_history",
            required_columns: &[
                "installed_rank",
                "version",
                "description",
                "type",
                "checksum",
                "installed_on",
                "success",
            ],
            optional_columns: &[],
            query: "SELECT h.version::text, h.description::text, h.installed_on::timestamptz, \
                    CASE WHEN h.type = 'BASELINE' THEN 'baseline' WHEN h.type LIKE 'UNDO%' THEN 'rolled_back' \
                    WHEN h.success THEN 'applied' ELSE 'failed' END, \
                    CASE WHEN h.version IS NULL THEN NULL ELSE h.checksum::text END, \
                    NULL::text, NULL::bigint, NULL::bigint, NULL::text[] \
                    FROM {table} h WHERE h.type NOT IN ('SCHEMA', 'DELETE') AND NOT EXISTS (\
                    SELECT 1 FROM {table} d WHERE d.type = 'DELETE' AND d.installed_rank > h.installed_rank \
                    AND d.version IS NOT DISTINCT FROM h.version \
                    AND (h.version IS NOT NULL OR d.description = h.description)) \
                    ORDER BY h.installed_rank",
            checksum: Some(ChecksumKind::Flyway),
            applied: AppliedBy::EachRow,
            key: |version, name| match version {
                Some(v) => parse_version(v.trim()).map(VersionKey::Numeric),
                None => name.map(|n| VersionKey::Text(n.to_string())),
            },
            on_checksum_mismatch: |version, stored, computed| {
                format!(
                    "Flyway's validate (run before every migrate) fails: \"Migration checksum mismatch for migration \
                     version {version} -> Applied to database : {stored} -> Resolved locally : {computed}. Either \
                     revert the changes to the migration, or run repair to update the schema history.\""
                )
            },
            resolve_failed: |_| {
                "Flyway stops at it (\"Detected failed migration … Please remove any half-completed changes then run \
                 repair to fix the schema history\"): undo what it half-did, then `flyway repair` (removes the failed \
                 row) and migrate again"
                    .to_string()
            },
            resolve_missing: |t| {
                format!(
                    "Flyway's validate fails: \"Detected applied migration not resolved locally: {}. If you removed \
                     this migration intentionally, run repair to mark the migration as deleted.\"; restore the file, \
                     or run `flyway repair`",
                    t.version
                )
            },
            shared_version: super::SharedVersion::Named(super::description_names),
            records_failures: true,
            baseline: |t| {
                let version = t.last().map(|m| m.version()).unwrap_or_default();
                format!("flyway -baselineVersion={version} baseline")
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(file: &str) -> VersionKey {
        Flyway.version_of(Path::new(file)).expect("a Flyway name")
    }

    #[test]
    fn versions_compare_part_by_part_numerically() {
        assert!(key("V1_9__a.sql") < key("V1_10__b.sql"));
        assert!(key("V1.9__a.sql") < key("V1.10__b.sql"));
        assert!(key("V2__a.sql") > key("V1_10__b.sql"));
        assert_eq!(key("V1_10__b.sql"), VersionKey::Numeric(vec![1, 10]));
        assert_eq!(key("V1.0__a.sql"), key("V1__b.sql"));
        assert_eq!(key("V10.0_2026.01.07__x.sql"), VersionKey::Numeric(vec![10, 0, 2026, 1, 7]));
        // Repeatables come after every versioned migration.
        assert!(key("R__views.sql") > key("V999__x.sql"));
        assert_eq!(key("R__refresh_views.sql"), VersionKey::Text("refresh views".into()));
    }

    #[test]
    fn names_flyway_ignores() {
        for name in [
            "v1__lowercase_prefix.sql",
            "V1_x.sql",
            "V__x.sql",
            "V1__.sql",
            "update-sequences.sql",
            "V1a__x.sql",
            "V1__x.txt",
        ] {
            assert_eq!(parse_name(name), None, "{name}");
        }
        assert_eq!(parse_name("V3__x.SQL"), Some(FlywayName::Versioned { version: vec![3], description: "x".into() }));
        assert_eq!(parse_name("U3__x.sql"), Some(FlywayName::Undo { version: vec![3], description: "x".into() }));
    }

    #[test]
    fn conf_files_and_non_transactional_scripts_opt_out() {
        assert_eq!(conf_execute_in_transaction("executeInTransaction=false\n"), Some(false));
        assert_eq!(conf_execute_in_transaction("# c\nexecuteInTransaction = true"), Some(true));
        assert_eq!(conf_execute_in_transaction("mixed=true"), None);

        let alone = "CREATE INDEX CONCURRENTLY i ON t (c);\n";
        let mixed = "ALTER TABLE t ADD COLUMN c int;\nCREATE INDEX CONCURRENTLY i ON t (c);\n";
        assert!(only_non_transactional(alone));
        assert!(only_non_transactional("VACUUM t;\nCREATE UNIQUE INDEX CONCURRENTLY i ON t (c);"));
        assert!(!only_non_transactional(mixed));
        assert!(!only_non_transactional("CREATE INDEX i ON t (c);"));

        let m = mode(alone, None, Dialect::Postgres);
        assert!(!m.wraps && m.opted_out_by.is_some());
        let m = mode(mixed, None, Dialect::Postgres);
        assert!(m.wraps && m.opted_out_by.is_none());
        let m = mode(mixed, Some("executeInTransaction=false"), Dialect::Postgres);
        assert!(!m.wraps && m.opted_out_by.as_deref().is_some_and(|b| b.contains("executeInTransaction=false")));
        let m = mode(alone, Some("executeInTransaction=true"), Dialect::Postgres);
        assert!(m.wraps && m.opted_out_by.is_none());
        // The detection is the PostgreSQL parser's.
        assert!(mode(alone, None, Dialect::Mysql).wraps);
    }

    #[test]
    fn undo_files_run_down() {
        let s = Flyway.sections(Path::new("U2__x.sql"), "DROP TABLE t;");
        assert_eq!(s, [Section { direction: Direction::Down, range: 0..13 }]);
        let s = Flyway.sections(Path::new("V2__x.sql"), "CREATE TABLE t ();");
        assert_eq!(s[0].direction, Direction::Up);
    }
}
