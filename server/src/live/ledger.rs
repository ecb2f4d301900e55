//! The ledgers: each framework's applied-migrations table in the dev database, read into one
//! shape, and what it says about each migration of a set.
//!
//! # API
//!
//! - [`read`]`(client, set)` reads the ledger of `set`'s framework (table, query, columns:
//!   [`crate::workspace::frameworks::LedgerSpec`]) with the caller's client, inside the caller's
//!   read-only transaction. `Ok(None)`: the framework keeps no ledger, the table does not exist
//!   (nothing applied yet, or another framework's database), or it lacks the framework's columns.
//!   [`read_from`] reads a table named by configuration instead of the default.
//! - [`statuses`]`(set, ledger)` → one [`MigrationStatus`] per migration in runner order, then one
//!   per ledger row that no file provides. Pure: the LSP recomputes it from a cached ledger after
//!   an edit (Drizzle and node-pg-migrate read their journal or directory listing for the keys).
//! - [`failed`]`(set, ledger)` → the failed migrations with what the ledger recorded about them
//!   (error text, applied statement counts), for recovery.
//! - [`live_findings`]`(sets, ledgers, files)` → the findings of `applied-migration-edited`,
//!   `applied-migration-missing` and `migration-failed`, file-absolute, for
//!   `engine::analyze_parsed`'s `external` findings (like `history::findings`).
//!
//! How a row matches a migration is the framework's: both sides are turned into a
//! [`VersionKey`] ([`crate::workspace::frameworks::Framework::ledger_keys`] for the migrations,
//! `LedgerSpec::key` for the rows). Several rows for one key (a Prisma failure rolled back and
//! retried, a goose down, a Flyway repeatable re-run): the last row in apply order counts.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use tokio_postgres::GenericClient;

use crate::history::{self, FileSource};
use crate::live::connect::{LiveClient, LiveError};
use crate::rules::{self, Finding};
use crate::workspace::frameworks::{framework, AppliedBy, LedgerSpec, LedgerTarget, SharedVersion};
use crate::workspace::{FrameworkKind, MigrationSet, VersionKey};

/// A framework's ledger as read from the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger {
    pub framework: FrameworkKind,
    /// The table, as PostgreSQL prints it (quoted and schema-qualified where needed).
    pub table: String,
    /// In the order the runner applied them.
    pub entries: Vec<LedgerEntry>,
}

/// What a ledger row says about its migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryState {
    Applied,
    /// Failed, dirty or partially applied.
    Failed,
    /// Undone (Prisma `resolve --rolled-back`, a goose down, a Flyway undo): the runner runs it
    /// again.
    RolledBack,
    /// A baseline: this version and every one before it count as applied (Flyway, Atlas).
    Baseline,
}

/// One ledger row, in the common shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// The version as the ledger stores it (`None` for a Flyway repeatable).
    pub version: Option<String>,
    pub name: Option<String>,
    pub applied_at: Option<DateTime<Utc>>,
    pub state: EntryState,
    /// The stored checksum as text (Prisma hex, Flyway signed int, sqlx hex, Atlas base64,
    /// Drizzle hex).
    pub checksum: Option<String>,
    /// The error or log the runner recorded (Prisma `logs`, Atlas `error` and `error_stmt`).
    pub detail: Option<String>,
    /// Statements applied and in total (Atlas).
    pub applied_statements: Option<i64>,
    pub total_statements: Option<i64>,
    /// The statements that ran (Supabase).
    pub statements: Option<Vec<String>>,
}

impl LedgerEntry {
    /// The version (or, without one, the name) for messages.
    pub fn label(&self) -> &str {
        self.version.as_deref().or(self.name.as_deref()).unwrap_or("?")
    }
}

/// Reads `set`'s ledger from the framework's default table; see the module docs.
pub async fn read(client: &impl GenericClient, set: &MigrationSet) -> Result<Option<Ledger>, tokio_postgres::Error> {
    match framework(set.framework).ledger() {
        Some(spec) => read_spec(client, set.framework, &spec, spec.table).await,
        None => Ok(None),
    }
}

/// The ledger of every set that has one in the database, in one read-only transaction, within a
/// bound even if the server stops answering mid-way.
pub async fn read_all(client: &LiveClient, sets: &[MigrationSet]) -> Result<Vec<(PathBuf, Ledger)>, LiveError> {
    let bound = client.statement_timeout() * 2 + std::time::Duration::from_secs(2);
    match tokio::time::timeout(bound, read_all_now(client, sets)).await {
        Ok(result) => result,
        Err(_) => Err(LiveError::Unreachable {
            target: client.target().to_string(),
            reason: "the server stopped answering".into(),
        }),
    }
}

async fn read_all_now(client: &LiveClient, sets: &[MigrationSet]) -> Result<Vec<(PathBuf, Ledger)>, LiveError> {
    let txn = client.read().await?;
    let mut out = Vec::new();
    for set in sets {
        let Some(session) = txn.client() else { return Err(LiveError::Closed) };
        match read(session, set).await {
            Ok(Some(ledger)) => out.push((set.dir.clone(), ledger)),
            Ok(None) => {}
            Err(e) => {
                let closed = e.is_closed();
                drop(txn);
                return Err(if closed {
                    LiveError::Closed
                } else {
                    LiveError::QueryFailed { code: String::new(), message: format!("reading the ledger: {e}") }
                });
            }
        }
    }
    txn.finish().await?;
    Ok(out)
}

/// [`read`] from `table` (a configured name, e.g. a Flyway `table` setting or a Prisma schema:
/// `app._prisma_migrations`), resolved like `to_regclass` resolves it.
pub async fn read_from(
    client: &impl GenericClient,
    set: &MigrationSet,
    table: &str,
) -> Result<Option<Ledger>, tokio_postgres::Error> {
    match framework(set.framework).ledger() {
        Some(spec) => read_spec(client, set.framework, &spec, table).await,
        None => Ok(None),
    }
}

async fn read_spec(
    client: &impl GenericClient,
    kind: FrameworkKind,
    spec: &LedgerSpec,
    table: &str,
) -> Result<Option<Ledger>, tokio_postgres::Error> {
    let found = client
        .query_opt(
            "SELECT c::text, ARRAY(SELECT attname::text FROM pg_attribute \
             WHERE attrelid = c AND attnum > 0 AND NOT attisdropped) \
             FROM (SELECT to_regclass($1) AS c) r WHERE c IS NOT NULL",
            &[&table],
        )
        .await?;
    let Some(found) = found else { return Ok(None) };
    let regclass: String = found.try_get(0)?;
    let columns: Vec<String> = found.try_get(1)?;
    if !spec.required_columns.iter().all(|c| columns.iter().any(|have| have == c)) {
        return Ok(None);
    }
    let sql = query_for(spec, &regclass, &columns);
    let rows = client.query(sql.as_str(), &[]).await?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let state: Option<String> = row.try_get(3)?;
        let statements: Option<Vec<Option<String>>> = row.try_get(8)?;
        entries.push(LedgerEntry {
            version: row.try_get(0)?,
            name: row.try_get(1)?,
            applied_at: row.try_get(2)?,
            state: match state.as_deref() {
                Some("failed") => EntryState::Failed,
                Some("rolled_back") => EntryState::RolledBack,
                Some("baseline") => EntryState::Baseline,
                _ => EntryState::Applied,
            },
            checksum: row.try_get(4)?,
            detail: row.try_get(5)?,
            applied_statements: row.try_get(6)?,
            total_statements: row.try_get(7)?,
            statements: statements.map(|s| s.into_iter().map(Option::unwrap_or_default).collect()),
        });
    }
    Ok(Some(Ledger { framework: kind, table: regclass, entries }))
}

/// The spec's query with `{table}` and its optional columns filled in.
fn query_for(spec: &LedgerSpec, table: &str, columns: &[String]) -> String {
    let mut sql = spec.query.replace("{table}", table);
    for (column, fallback) in spec.optional_columns {
        let value = if columns.iter().any(|c| c == column) {
            format!("\"{}\"", column.replace('"', "\"\""))
        } else {
            fallback.to_string()
        };
        sql = sql.replace(&format!("{{{column}}}"), &value);
    }
    sql
}

/// Where a migration stands in the dev database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationState {
    /// Applied (`at` when the ledger records it; golang-migrate records only the current
    /// version, Drizzle and dbmate no time).
    Applied { at: Option<DateTime<Utc>> },
    /// Not applied yet: the runner will apply it.
    Pending,
    /// Failed, dirty or partially applied; `detail` is the error the runner recorded.
    Failed { at: Option<DateTime<Utc>>, detail: Option<String> },
    /// Covered by the ledger's baseline: the runner treats it as applied.
    Baseline,
    /// Not applied, and the runner will never apply it: older than the newest applied
    /// migration of a runner that only moves forward (Drizzle's journal).
    Skipped,
}

impl MigrationState {
    /// The code lens title: `applied 2026-03-02 14:10 UTC`, `pending`, `FAILED`, …
    pub fn lens(&self) -> String {
        match self {
            MigrationState::Applied { at: Some(at) } => format!("applied {}", at.format("%Y-%m-%d %H:%M UTC")),
            MigrationState::Applied { at: None } => "applied".to_string(),
            MigrationState::Pending => "pending".to_string(),
            MigrationState::Failed { .. } => "FAILED".to_string(),
            MigrationState::Baseline => "applied (baseline)".to_string(),
            MigrationState::Skipped => "skipped: never applied".to_string(),
        }
    }
}

/// The state of one migration, or of one ledger row that no file provides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// Index into `set.migrations`; `None` for a ledger row without a file.
    pub migration: Option<usize>,
    /// Index into `ledger.entries` of the row that decided the state.
    pub entry: Option<usize>,
    pub state: MigrationState,
}

fn state_of(entry: &LedgerEntry) -> MigrationState {
    match entry.state {
        EntryState::Applied => MigrationState::Applied { at: entry.applied_at },
        EntryState::Failed => MigrationState::Failed { at: entry.applied_at, detail: entry.detail.clone() },
        EntryState::RolledBack => MigrationState::Pending,
        EntryState::Baseline => MigrationState::Baseline,
    }
}

/// Where each migration of `set` stands according to `ledger`: one status per migration in
/// runner order, then one per ledger row no file provides (in ledger order). Rolled-back rows,
/// baseline rows and rows of migrations that are in the directory but not in the set
/// (node-pg-migrate JS files) are not "without a file".
pub fn statuses(set: &MigrationSet, ledger: &Ledger) -> Vec<MigrationStatus> {
    let fw = framework(set.framework);
    let Some(spec) = fw.ledger() else {
        return (0..set.migrations.len())
            .map(|i| MigrationStatus { migration: Some(i), entry: None, state: MigrationState::Pending })
            .collect();
    };
    let keys = fw.ledger_keys(set);
    let entry_keys: Vec<Option<VersionKey>> =
        ledger.entries.iter().map(|e| (spec.key)(e.version.as_deref(), e.name.as_deref())).collect();
    let mut last: FxHashMap<&VersionKey, usize> = FxHashMap::default();
    for (i, key) in entry_keys.iter().enumerate() {
        if let Some(key) = key {
            last.insert(key, i);
        }
    }
    let baseline = ledger
        .entries
        .iter()
        .zip(&entry_keys)
        .filter(|(e, _)| e.state == EntryState::Baseline)
        .filter_map(|(_, k)| k.as_ref())
        .max();
    let newest_applied = ledger
        .entries
        .iter()
        .zip(&entry_keys)
        .filter(|(e, _)| e.state == EntryState::Applied)
        .filter_map(|(_, k)| k.as_ref())
        .filter(|k| matches!(k, VersionKey::Numeric(_)))
        .max();
    let current = ledger.entries.len().checked_sub(1).and_then(|i| Some((i, entry_keys[i].as_ref()?)));
    let owners = key_owners(set, &spec, &keys.migrations, |key| match spec.applied {
        AppliedBy::CurrentVersion => current.filter(|(_, k)| *k == key).map(|(i, _)| &ledger.entries[i]),
        _ => last.get(key).map(|&i| &ledger.entries[i]),
    });

    let mut out = Vec::with_capacity(set.migrations.len());
    for (m, key) in keys.migrations.iter().enumerate().take(set.migrations.len()) {
        let (entry, state) = match (spec.applied, key) {
            (_, None) => (None, MigrationState::Pending),
            // Another file with this version is the one the row is about: this one never ran.
            (_, Some(key)) if owners.get(key).is_some_and(|&owner| owner != m) => match spec.shared_version {
                SharedVersion::AppliedForAll if last.contains_key(key) || spec.applied == AppliedBy::CurrentVersion => {
                    (None, MigrationState::Skipped)
                }
                _ => (None, MigrationState::Pending),
            },
            (AppliedBy::CurrentVersion, Some(key)) => match current {
                Some((_, current_key)) if key < current_key => (None, MigrationState::Applied { at: None }),
                Some((i, current_key)) if key == current_key => (Some(i), state_of(&ledger.entries[i])),
                _ => (None, MigrationState::Pending),
            },
            (applied, Some(key)) => match last.get(key) {
                Some(&i) => (Some(i), state_of(&ledger.entries[i])),
                None if baseline.is_some_and(|b| key <= b) => (None, MigrationState::Baseline),
                None if applied == AppliedBy::EachRowNewerOnly
                    && matches!(key, VersionKey::Numeric(_))
                    && newest_applied.is_some_and(|n| key <= n) =>
                {
                    (None, MigrationState::Skipped)
                }
                None => (None, MigrationState::Pending),
            },
        };
        out.push(MigrationStatus { migration: Some(m), entry, state });
    }
    // Keys missing from the framework's list (should not happen) count as pending.
    for m in out.len()..set.migrations.len() {
        out.push(MigrationStatus { migration: Some(m), entry: None, state: MigrationState::Pending });
    }

    let known: Vec<&VersionKey> = keys.migrations.iter().flatten().chain(keys.elsewhere.iter()).collect();
    let candidates: Vec<usize> = match spec.applied {
        AppliedBy::CurrentVersion => current.map(|(i, _)| i).into_iter().collect(),
        _ => (0..ledger.entries.len())
            .filter(|&i| entry_keys[i].as_ref().is_none_or(|k| last.get(k) == Some(&i)))
            .collect(),
    };
    for i in candidates {
        let entry = &ledger.entries[i];
        if matches!(entry.state, EntryState::RolledBack | EntryState::Baseline) {
            continue;
        }
        if entry_keys[i].as_ref().is_some_and(|k| known.contains(&k)) {
            continue;
        }
        out.push(MigrationStatus { migration: None, entry: Some(i), state: state_of(entry) });
    }
    out
}

/// For each version key that several migrations share, the one migration its ledger row is
/// about: the one the row's name names where the ledger records a name
/// ([`SharedVersion::Named`]), else the first of them in runner order (see [`SharedVersion`] for
/// what each runner does with the others). `row` gives the row that decides a key's state.
fn key_owners<'k, 'l>(
    set: &MigrationSet,
    spec: &LedgerSpec,
    keys: &'k [Option<VersionKey>],
    row: impl Fn(&VersionKey) -> Option<&'l LedgerEntry>,
) -> FxHashMap<&'k VersionKey, usize> {
    let mut sharing: FxHashMap<&VersionKey, Vec<usize>> = FxHashMap::default();
    for (m, key) in keys.iter().enumerate().take(set.migrations.len()) {
        if let Some(key) = key {
            sharing.entry(key).or_default().push(m);
        }
    }
    sharing
        .into_iter()
        .filter(|(_, ms)| ms.len() > 1)
        .map(|(key, ms)| {
            let named = match spec.shared_version {
                SharedVersion::Named(names) => row(key).and_then(|r| {
                    let name = r.name.as_deref()?;
                    ms.iter().copied().find(|&m| names(name, &set.migrations[m]))
                }),
                SharedVersion::Refused | SharedVersion::AppliedForAll => None,
            };
            (key, named.unwrap_or(ms[0]))
        })
        .collect()
}

/// What the dev database has run of one set, as its ledger says: what drift and the pending
/// rules start from.
#[derive(Debug, Clone)]
pub struct Ran {
    /// Per migration (set order): the runner ran it (applied, or covered by a baseline). Without
    /// ledger rows every migration counts as run: the database is compared with all of them.
    pub migrations: Vec<bool>,
    /// Per migration: the runner will run it on its next run (no ledger row, or one rolled back).
    /// Without ledger rows, every migration of a runner that keeps a ledger; none for a runner
    /// without one (nothing is known).
    pub will_run: Vec<bool>,
    /// The ledger's statuses; `None` without ledger rows.
    pub statuses: Option<Vec<MigrationStatus>>,
    pub basis: crate::live::drift::Basis,
}

impl Ran {
    /// What `ledger` (the set's ledger as read, if any) says `set`'s database has run.
    pub fn of(set: &MigrationSet, ledger: Option<&Ledger>) -> Ran {
        use crate::live::drift::Basis;
        let spec = framework(set.framework).ledger();
        let Some(ledger) = ledger.filter(|l| !l.entries.is_empty() && spec.is_some()) else {
            return Ran {
                migrations: vec![true; set.migrations.len()],
                will_run: vec![spec.is_some(); set.migrations.len()],
                statuses: None,
                basis: Basis::NoLedger { ledger: spec.map(|s| s.table.to_string()) },
            };
        };
        let statuses = statuses(set, ledger);
        let mut migrations = vec![false; set.migrations.len()];
        let mut will_run = vec![false; set.migrations.len()];
        let (mut pending, mut failed) = (0, 0);
        for status in &statuses {
            let Some(m) = status.migration else { continue };
            match status.state {
                MigrationState::Applied { .. } | MigrationState::Baseline => migrations[m] = true,
                MigrationState::Pending => {
                    will_run[m] = true;
                    pending += 1;
                }
                MigrationState::Failed { .. } => failed += 1,
                MigrationState::Skipped => {}
            }
        }
        let applied = migrations.iter().filter(|r| **r).count();
        Ran { migrations, will_run, statuses: Some(statuses), basis: Basis::Ledger { applied, pending, failed } }
    }
}

/// A migration the ledger marks failed, dirty or partial, with what the ledger recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedMigration {
    /// Index into `set.migrations`.
    pub migration: usize,
    /// Index into `ledger.entries`.
    pub entry: usize,
    pub at: Option<DateTime<Utc>>,
    /// The runner's error text, when it records one (Prisma `logs`, Atlas `error`).
    pub detail: Option<String>,
    /// How many of its statements ran, and how many it has (Atlas).
    pub applied_statements: Option<i64>,
    pub total_statements: Option<i64>,
}

/// The failed migrations of `set` that have a file.
pub fn failed(set: &MigrationSet, ledger: &Ledger) -> Vec<FailedMigration> {
    statuses(set, ledger)
        .into_iter()
        .filter_map(|s| match (s.migration, s.entry, s.state) {
            (Some(migration), Some(entry), MigrationState::Failed { at, detail }) => {
                let e = &ledger.entries[entry];
                Some(FailedMigration {
                    migration,
                    entry,
                    at,
                    detail,
                    applied_statements: e.applied_statements,
                    total_statements: e.total_statements,
                })
            }
            _ => None,
        })
        .collect()
}

/// The findings of the three ledger rules for the sets that have a ledger (`ledgers` pairs an
/// index into `sets` with its ledger). The statuses are worked out once for the three.
pub fn live_findings(
    sets: &[MigrationSet],
    ledgers: &[(usize, &Ledger)],
    files: &FileSource<'_>,
) -> Vec<(PathBuf, Finding)> {
    let checked: Vec<Checked> = Checked::all(sets, ledgers).collect();
    let mut out = Vec::new();
    rules::applied_migration_edited::findings(&checked, files, &mut out);
    rules::applied_migration_missing::findings(&checked, files, &mut out);
    rules::migration_failed::findings(&checked, files, &mut out);
    out
}

/// A set with its ledger, its framework's spec and the statuses, for the rules.
pub(crate) struct Checked<'a> {
    pub set: &'a MigrationSet,
    pub ledger: &'a Ledger,
    pub spec: LedgerSpec,
    pub statuses: Vec<MigrationStatus>,
}

impl<'a> Checked<'a> {
    /// Every (set, ledger) pair whose framework keeps a ledger.
    pub fn all(sets: &'a [MigrationSet], ledgers: &'a [(usize, &'a Ledger)]) -> impl Iterator<Item = Checked<'a>> + 'a {
        ledgers.iter().filter_map(move |(i, ledger)| {
            let set = sets.get(*i)?;
            let spec = framework(set.framework).ledger()?;
            Some(Checked { set, ledger, spec, statuses: statuses(set, ledger) })
        })
    }

    /// Facts for the framework's repair commands about ledger row `entry` (and its migration).
    pub fn target(&self, entry: usize, previous: Option<&'a str>) -> LedgerTarget<'_> {
        let e = &self.ledger.entries[entry];
        LedgerTarget {
            table: &self.ledger.table,
            dir: &self.set.dir,
            version: e.label(),
            name: e.name.as_deref().unwrap_or(""),
            previous,
            applied_statements: e.applied_statements,
        }
    }
}

/// ` (2026-03-02 14:10 UTC)` or nothing.
pub(crate) fn when(at: Option<DateTime<Utc>>) -> String {
    at.map(|at| format!(" ({})", at.format("%Y-%m-%d %H:%M UTC"))).unwrap_or_default()
}

/// ` at 2026-03-02 14:10 UTC` or nothing.
pub(crate) fn at_time(at: Option<DateTime<Utc>>) -> String {
    at.map(|at| format!(" at {}", at.format("%Y-%m-%d %H:%M UTC"))).unwrap_or_default()
}

/// `text` on one line, at most `max` characters.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= max {
        joined
    } else {
        let cut: String = joined.chars().take(max).collect();
        format!("{}…", cut.trim_end())
    }
}

/// The file a finding about migration `m` of `set` goes on: its up file, else its down file.
pub(crate) fn anchor_file(set: &MigrationSet, m: usize) -> Option<&std::path::Path> {
    set.migrations.get(m).and_then(history::main_file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Dialect;
    use crate::workspace::{Migration, TransactionMode};
    use chrono::TimeZone;

    fn set(kind: FrameworkKind, versions: &[VersionKey]) -> MigrationSet {
        MigrationSet {
            dir: PathBuf::from("/nowhere"),
            framework: kind,
            dialect: Dialect::Postgres,
            migrations: versions
                .iter()
                .map(|v| Migration {
                    version: v.clone(),
                    name: String::new(),
                    up: Some(PathBuf::from(format!("/nowhere/{}.sql", v.display()))),
                    down: None,
                    transaction: TransactionMode::default(),
                })
                .collect(),
        }
    }

    fn entry(version: &str, state: EntryState) -> LedgerEntry {
        LedgerEntry {
            version: Some(version.to_string()),
            name: None,
            applied_at: None,
            state,
            checksum: None,
            detail: None,
            applied_statements: None,
            total_statements: None,
            statements: None,
        }
    }

    fn num(n: u128) -> VersionKey {
        VersionKey::Numeric(vec![n])
    }

    fn states(set: &MigrationSet, ledger: &Ledger) -> Vec<(Option<usize>, MigrationState)> {
        statuses(set, ledger).into_iter().map(|s| (s.migration, s.state)).collect()
    }

    #[test]
    fn the_last_row_per_version_decides() {
        let s = set(FrameworkKind::Goose, &[num(1), num(2), num(3)]);
        let ledger = Ledger {
            framework: FrameworkKind::Goose,
            table: "goose_db_version".into(),
            entries: vec![
                entry("1", EntryState::Applied),
                entry("2", EntryState::Applied),
                entry("2", EntryState::RolledBack),
                entry("7", EntryState::Applied),
                entry("8", EntryState::Applied),
                entry("8", EntryState::RolledBack),
            ],
        };
        assert_eq!(
            states(&s, &ledger),
            [
                (Some(0), MigrationState::Applied { at: None }),
                (Some(1), MigrationState::Pending),
                (Some(2), MigrationState::Pending),
                // 7 has no file; 8 was rolled back, so nothing is missing there.
                (None, MigrationState::Applied { at: None }),
            ]
        );
    }

    #[test]
    fn a_single_current_version_covers_everything_before_it() {
        let s = set(FrameworkKind::GolangMigrate, &[num(1), num(2), num(3)]);
        let mut ledger = Ledger {
            framework: FrameworkKind::GolangMigrate,
            table: "schema_migrations".into(),
            entries: vec![entry("2", EntryState::Failed)],
        };
        let got = states(&s, &ledger);
        assert_eq!(got[0].1, MigrationState::Applied { at: None });
        assert_eq!(got[1].1, MigrationState::Failed { at: None, detail: None });
        assert_eq!(got[2].1, MigrationState::Pending);
        assert_eq!(got.len(), 3);
        ledger.entries = vec![entry("9", EntryState::Applied)];
        let got = states(&s, &ledger);
        assert!(got[..3].iter().all(|(_, s)| *s == MigrationState::Applied { at: None }));
        assert_eq!(got[3], (None, MigrationState::Applied { at: None }));
    }

    #[test]
    fn baselines_cover_older_versions() {
        let s = set(FrameworkKind::Flyway, &[num(1), num(2), num(3)]);
        let ledger = Ledger {
            framework: FrameworkKind::Flyway,
            table: "flyway_schema_history".into(),
            entries: vec![entry("2", EntryState::Baseline), entry("3", EntryState::Applied)],
        };
        let got = states(&s, &ledger);
        assert_eq!(
            got,
            [
                (Some(0), MigrationState::Baseline),
                (Some(1), MigrationState::Baseline),
                (Some(2), MigrationState::Applied { at: None })
            ]
        );
    }

    #[test]
    fn of_two_files_sharing_a_version_only_the_one_that_ran_is_applied() {
        // A version-only ledger (goose): the row goes to the first file in runner order.
        let mut s = set(FrameworkKind::Goose, &[num(1), num(2), num(2)]);
        let ledger = Ledger {
            framework: FrameworkKind::Goose,
            table: "goose_db_version".into(),
            entries: vec![entry("1", EntryState::Applied), entry("2", EntryState::Applied)],
        };
        let got = states(&s, &ledger);
        assert_eq!(
            got,
            [
                (Some(0), MigrationState::Applied { at: None }),
                (Some(1), MigrationState::Applied { at: None }),
                (Some(2), MigrationState::Pending),
            ]
        );
        // golang-migrate's single current version covers one file per version, not both.
        s.framework = FrameworkKind::GolangMigrate;
        let ledger = Ledger {
            framework: FrameworkKind::GolangMigrate,
            table: "schema_migrations".into(),
            entries: vec![entry("3", EntryState::Applied)],
        };
        let got = states(&s, &ledger);
        assert_eq!(got[1].1, MigrationState::Applied { at: None });
        assert_eq!(got[2].1, MigrationState::Pending);

        // A ledger that records the file's description (Flyway): the row names the file that ran.
        let mut s = set(FrameworkKind::Flyway, &[num(1), num(2), num(2)]);
        for (m, name) in s.migrations.iter_mut().zip(["init", "add_email", "add_phone"]) {
            m.name = name.to_string();
        }
        let named = |version: &str, name: &str| LedgerEntry {
            name: Some(name.to_string()),
            ..entry(version, EntryState::Applied)
        };
        let ledger = Ledger {
            framework: FrameworkKind::Flyway,
            table: "flyway_schema_history".into(),
            entries: vec![named("1", "init"), named("2", "add phone")],
        };
        let got = states(&s, &ledger);
        assert_eq!(
            got,
            [
                (Some(0), MigrationState::Applied { at: None }),
                (Some(1), MigrationState::Pending),
                (Some(2), MigrationState::Applied { at: None }),
            ]
        );
    }

    #[test]
    fn lens_titles() {
        let at = Utc.with_ymd_and_hms(2026, 3, 2, 14, 10, 59).single();
        assert_eq!(MigrationState::Applied { at }.lens(), "applied 2026-03-02 14:10 UTC");
        assert_eq!(MigrationState::Pending.lens(), "pending");
        assert_eq!(MigrationState::Failed { at, detail: None }.lens(), "FAILED");
        assert_eq!(one_line("a\n  b\tc", 10), "a b c");
        assert_eq!(one_line("abcdefghijkl", 5), "abcde…");
    }

    #[test]
    fn optional_columns_fall_back_when_absent() {
        let spec = framework(FrameworkKind::Supabase).ledger().expect("supabase keeps a ledger");
        let old = query_for(&spec, "supabase_migrations.schema_migrations", &["version".to_string()]);
        assert!(old.contains("NULL::text[]::text[]") && old.contains("FROM supabase_migrations.schema_migrations"));
        let new = query_for(
            &spec,
            "supabase_migrations.schema_migrations",
            &["version".to_string(), "statements".to_string(), "name".to_string()],
        );
        assert!(new.contains("\"statements\"::text[]") && new.contains("\"name\"::text"));
        assert!(!new.contains('{'));
    }
}
