//! Loading [`LiveFacts`] from a connected dev database: the catalog snapshot, the ledger of each
//! migration set, and the `existing-rows-violate` probes of the migrations that may still run.
//!
//! The language server's live worker runs these steps again and again in the background (keeping
//! probe outcomes between refreshes and bounding the probes per round); `safemig check` runs them
//! once (facts, its analysis, then the probes that analysis plans). Both read the database the same
//! way, so both report the same live findings. Every step is bounded in time even when the server
//! stops answering mid-way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustc_hash::FxHashSet;

use super::connect::{LiveClient, LiveError};
use super::ledger::{self, MigrationState};
use super::probe::{self, ProbeKey, ProbeOutcome};
use super::{catalog, LiveFacts, LiveSnapshot};
use crate::sql::SqlFile;
use crate::workspace::MigrationSet;

/// Probe outcomes by statement text.
pub type ProbeOutcomes = BTreeMap<ProbeKey, ProbeOutcome>;

/// The snapshot and the ledgers of `sets`, with `probes` (outcomes kept from an earlier load) as
/// they are.
pub async fn read_facts(
    client: &LiveClient,
    sets: &[MigrationSet],
    small_table_rows: u64,
    probes: Arc<ProbeOutcomes>,
) -> Result<LiveFacts, LiveError> {
    let snapshot = read_snapshot(client).await?;
    let ledgers = ledger::read_all(client, sets).await?;
    Ok(LiveFacts { snapshot: Arc::new(snapshot), ledgers, small_table_rows, probes })
}

/// The catalog snapshot, within a bound even if the server stops answering mid-way.
async fn read_snapshot(client: &LiveClient) -> Result<LiveSnapshot, LiveError> {
    let bound = client.statement_timeout() * 4 + Duration::from_secs(2);
    match tokio::time::timeout(bound, catalog::load_snapshot(client)).await {
        Ok(loaded) => loaded,
        Err(_) => Err(stopped_answering(client)),
    }
}

fn stopped_answering(client: &LiveClient) -> LiveError {
    LiveError::Unreachable { target: client.target().to_string(), reason: "the server stopped answering".into() }
}

/// The parsed files whose statements may still run against this database, so their probes are
/// worth running: of `candidates` (the open buffers, the checked files), those the ledger does not
/// list as applied; and every migration the ledger lists as pending or failed (`file_of` reads it).
pub fn probe_targets(
    sets: &[MigrationSet],
    facts: &LiveFacts,
    candidates: &[(PathBuf, Arc<SqlFile>)],
    file_of: &dyn Fn(&Path) -> Option<Arc<SqlFile>>,
) -> Vec<Arc<SqlFile>> {
    let mut applied = FxHashSet::default();
    let mut pending = Vec::new();
    for set in sets {
        let Some(ledger) = facts.ledger_of(&set.dir) else { continue };
        for status in ledger::statuses(set, ledger) {
            let Some(m) = status.migration.and_then(|i| set.migrations.get(i)) else { continue };
            let Some(up) = m.up.clone() else { continue };
            match status.state {
                MigrationState::Pending | MigrationState::Failed { .. } => pending.push(up),
                _ => {
                    applied.insert(up);
                }
            }
        }
    }
    let mut files: Vec<Arc<SqlFile>> =
        candidates.iter().filter(|(path, _)| !applied.contains(path)).map(|(_, file)| Arc::clone(file)).collect();
    for path in pending {
        if candidates.iter().any(|(p, _)| *p == path) {
            continue;
        }
        if let Some(file) = file_of(&path) {
            files.push(file);
        }
    }
    files
}

/// Runs the probes `files` plan on `facts`' snapshot: those without an outcome yet, or all of them
/// with `rerun` (the rows may have changed), at most `limit` of them and none started after
/// `budget` (each has its own timeout too). Returns every outcome known afterwards, or `None` when
/// there was nothing to run.
pub async fn run_probes(
    client: &LiveClient,
    facts: &LiveFacts,
    files: &[Arc<SqlFile>],
    rerun: bool,
    limit: usize,
    budget: Duration,
) -> Result<Option<ProbeOutcomes>, LiveError> {
    let started = tokio::time::Instant::now();
    let mut requests = Vec::new();
    for file in files {
        requests.extend(probe::plan(file, &facts.snapshot));
    }
    requests.retain(|r| rerun || !facts.probes.contains_key(&r.key));
    requests.sort_by(|a, b| a.key.cmp(&b.key));
    requests.dedup_by(|a, b| a.key == b.key);
    if requests.is_empty() {
        return Ok(None);
    }
    let mut outcomes = (*facts.probes).clone();
    for request in requests.iter().take(limit) {
        if started.elapsed() >= budget {
            break;
        }
        let outcome = probe::run(client, request, probe::DEFAULT_TIMEOUT).await;
        if client.is_closed() {
            return Err(LiveError::Closed);
        }
        outcomes.insert(request.key.clone(), outcome);
    }
    Ok(Some(outcomes))
}
