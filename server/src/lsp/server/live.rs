//! The dev database, from the server's side: one worker connects (with backoff), loads the
//! catalog snapshot and the ledgers in the background, replaces [`LiveFacts`] whole, and tells the
//! client how it stands (`safemig/status`, and a `window/showMessage` once per outage).
//!
//! Requests never wait on it: hovers, code lenses and analyses read the last facts, and when the
//! database goes away the facts go with it, so everything falls back to the replayed schema.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tower_lsp::lsp_types::notification::Notification;
use tower_lsp::lsp_types::MessageType;

use super::{lock, Inner};
use crate::config::Config;
use crate::live::connect::{self, Backoff, LiveClient, LiveError};
use crate::live::ledger::{self, MigrationState};
use crate::live::{load, LiveFacts};
use crate::workspace::frameworks::framework;
use crate::workspace::MigrationSet;

/// How often the ledgers are read between two full refreshes: a migration run elsewhere (the
/// terminal, a teammate's script) shows up within this.
const LEDGER_POLL: Duration = Duration::from_secs(5);

/// `safemig/status`: the database connection and the migration counts, for status bars.
pub(crate) enum StatusNotification {}

impl Notification for StatusNotification {
    type Params = StatusParams;
    const METHOD: &'static str = "safemig/status";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StatusParams {
    pub database: DatabaseStatus,
    /// Over every set whose ledger safemig can read; `None` without a database or a ledger.
    pub migrations: Option<Counts>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DatabaseStatus {
    /// `off`, `connecting`, `connected` or `unreachable`.
    pub state: String,
    /// For people; never holds a credential.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Counts {
    pub applied: usize,
    pub pending: usize,
    pub failed: usize,
}

/// What the live worker shares with the handlers.
#[derive(Default)]
pub(in crate::lsp) struct LiveShared {
    pub facts: Option<Arc<LiveFacts>>,
    pub status: Option<StatusParams>,
    /// The config generation under which the database was last found unreachable, until it is
    /// reached (or turned off).
    pub outage: Option<u64>,
}

impl Inner {
    /// The dev database's facts as last loaded (`None`: not connected).
    pub(in crate::lsp) fn live_facts(&self) -> Option<Arc<LiveFacts>> {
        lock(&self.live).facts.clone()
    }

    /// Asks the live worker to refresh now (a saved migration, the refresh command, a config
    /// change).
    pub(in crate::lsp) fn refresh_live(&self) {
        self.live_wake.notify_one();
    }

    /// Replaces the facts; a change re-analyses the project with them.
    fn set_facts(&self, facts: Option<Arc<LiveFacts>>) {
        let changed = {
            let mut shared = lock(&self.live);
            let same = match (&shared.facts, &facts) {
                (None, None) => true,
                (Some(a), Some(b)) => {
                    a.snapshot.tables == b.snapshot.tables && a.ledgers == b.ledgers && a.probes == b.probes
                }
                _ => false,
            };
            shared.facts = facts;
            !same
        };
        if changed {
            self.schedule(|work| work.live = true);
            for doc in self.docs.iter() {
                doc.wake.send_replace(());
            }
        }
    }

    /// Sends `safemig/status` when it changed. Retrying a database that stays unreachable under
    /// the same config (`generation`) is no change: neither each retry's `connecting` nor the
    /// wording of its failure is sent, so the status does not flap during an outage.
    async fn set_status(&self, status: StatusParams, generation: u64) {
        {
            let mut shared = lock(&self.live);
            let state = status.database.state.as_str();
            let retrying = shared.outage == Some(generation) && matches!(state, "connecting" | "unreachable");
            if retrying || shared.status.as_ref() == Some(&status) {
                return;
            }
            shared.outage = (state == "unreachable").then_some(generation);
            shared.status = Some(status.clone());
        }
        self.client.send_notification::<StatusNotification>(status).await;
    }
}

fn status(
    state: &'static str,
    message: String,
    server_version: Option<String>,
    counts: Option<Counts>,
) -> StatusParams {
    StatusParams { database: DatabaseStatus { state: state.into(), message, server_version }, migrations: counts }
}

/// Applied, pending and failed migrations over the sets, from their ledgers.
pub(crate) fn counts(sets: &[MigrationSet], facts: &LiveFacts) -> Option<Counts> {
    let mut counts = Counts::default();
    let mut any = false;
    for set in sets {
        match facts.ledger_of(&set.dir) {
            Some(ledger) => {
                any = true;
                for status in ledger::statuses(set, ledger) {
                    if status.migration.is_none() {
                        continue;
                    }
                    match status.state {
                        MigrationState::Applied { .. } | MigrationState::Baseline => counts.applied += 1,
                        MigrationState::Failed { .. } => counts.failed += 1,
                        MigrationState::Pending => counts.pending += 1,
                        MigrationState::Skipped => {}
                    }
                }
            }
            // A framework with a ledger whose table does not exist yet: nothing applied.
            None if framework(set.framework).ledger().is_some() => {
                any = true;
                counts.pending += set.migrations.len();
            }
            None => {}
        }
    }
    any.then_some(counts)
}

/// Runs until the session ends.
pub(super) async fn live_worker(inner: Arc<Inner>, root: Option<PathBuf>) {
    let mut backoff = Backoff::default();
    // A failure is shown once, until the database is back.
    let mut failure_shown = false;
    loop {
        let (config, generation) = inner.config();
        let url = match connect::resolve_url(&config.database, root.as_deref()) {
            Ok(Some(url)) => url,
            Ok(None) => {
                inner.set_facts(None);
                let message = "no dev database: set DATABASE_URL (or [database] url_env), [database] url in \
                               safemig.toml, or the safemig.databaseUrlEnv setting";
                inner.set_status(status("off", message.into(), None, None), generation).await;
                inner.live_wake.notified().await;
                continue;
            }
            Err(e) => {
                inner.set_facts(None);
                inner.set_status(status("off", e.to_string(), None, None), generation).await;
                inner.live_wake.notified().await;
                continue;
            }
        };
        inner.set_status(status("connecting", "connecting to the dev database".into(), None, None), generation).await;
        let client = match connect::connect(&url, &config.database).await {
            Ok(client) => client,
            Err(e) => {
                inner.set_facts(None);
                inner.unreachable(&e, generation, &mut failure_shown).await;
                let delay = backoff.next_delay();
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = inner.live_wake.notified() => {}
                }
                continue;
            }
        };
        backoff.reset();
        if std::mem::take(&mut failure_shown) {
            let message = format!("safemig: connected to the dev database at {}", client.target());
            inner.client.show_message(MessageType::INFO, message).await;
        }
        inner.session(&client, &config, generation, &mut failure_shown).await;
        inner.set_facts(None);
    }
}

impl Inner {
    async fn unreachable(&self, error: &LiveError, generation: u64, failure_shown: &mut bool) {
        let message = error.to_string();
        self.set_status(status("unreachable", message.clone(), None, None), generation).await;
        if !std::mem::replace(failure_shown, true) {
            let shown = format!(
                "safemig: cannot use the dev database: {message}. Hovers and checks use the schema the \
                 migrations build; safemig keeps retrying in the background."
            );
            self.client.show_message(MessageType::WARNING, shown).await;
        }
    }

    /// Refreshes while connected; returns when the connection is lost or the config changed.
    async fn session(&self, client: &LiveClient, config: &Config, generation: u64, failure_shown: &mut bool) {
        let refresh_every = Duration::from_secs(config.database.refresh_seconds.max(1));
        let mut full = true;
        let mut last_full = tokio::time::Instant::now();
        loop {
            if self.config().1 != generation {
                return;
            }
            // The migration sets of the last project analysis (shared, not copied).
            let project = self.project();
            let sets = project.as_ref().map_or(&[][..], |p| &p.model.project.sets[..]);
            let result = if full {
                self.refresh(client, config, generation, sets).await
            } else {
                // Only the ledgers: a full refresh when they moved.
                match ledger::read_all(client, sets).await {
                    Ok(ledgers) if self.live_facts().is_some_and(|f| f.ledgers == ledgers) => Ok(()),
                    Ok(_) => self.refresh(client, config, generation, sets).await,
                    Err(e) => Err(e),
                }
            };
            let result = match result {
                Ok(()) => self.probe(client, full).await,
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                if e.needs_reconnect() || client.is_closed() {
                    self.set_facts(None);
                    self.unreachable(&e, generation, failure_shown).await;
                    return;
                }
                let message = format!("safemig: reading the dev database failed: {e}");
                self.client.log_message(MessageType::WARNING, message).await;
            }
            let woken = tokio::select! {
                () = tokio::time::sleep(LEDGER_POLL) => false,
                () = self.live_wake.notified() => true,
            };
            full = woken || last_full.elapsed() >= refresh_every;
            if full {
                last_full = tokio::time::Instant::now();
            }
        }
    }

    /// Loads the snapshot and the ledgers, and publishes them.
    async fn refresh(
        &self,
        client: &LiveClient,
        config: &Config,
        generation: u64,
        sets: &[MigrationSet],
    ) -> Result<(), LiveError> {
        // Probe outcomes stay until the probes run again on this snapshot.
        let probes = self.live_facts().map(|f| Arc::clone(&f.probes)).unwrap_or_default();
        let facts = load::read_facts(client, sets, config.small_table_rows, probes).await?;
        let counts = counts(sets, &facts);
        let version = Some(facts.snapshot.server_version.clone()).filter(|v| !v.is_empty());
        let message = format!(
            "connected to {} ({} tables{})",
            client.target(),
            facts.snapshot.tables.len(),
            counts.map_or(String::new(), |c| format!(
                "; {} applied, {} pending{}",
                c.applied,
                c.pending,
                if c.failed > 0 { format!(", {} FAILED", c.failed) } else { String::new() }
            ))
        );
        self.set_facts(Some(Arc::new(facts)));
        self.set_status(status("connected", message, version, counts), generation).await;
        Ok(())
    }
}

impl Inner {
    /// Runs the data probes of the open migrations and the pending ones: those not run yet, or
    /// all of them after a full refresh (the rows may have changed). Bounded per round, so a
    /// migration with hundreds of constraints does not keep the database busy.
    async fn probe(&self, client: &LiveClient, rerun: bool) -> Result<(), LiveError> {
        const PER_ROUND: usize = 24;
        let Some(facts) = self.live_facts() else { return Ok(()) };
        let files = self.probed_files(&facts);
        let Some(outcomes) = load::run_probes(client, &facts, &files, rerun, PER_ROUND, Duration::MAX).await? else {
            return Ok(());
        };
        let mut updated = (*facts).clone();
        updated.probes = Arc::new(outcomes);
        self.set_facts(Some(Arc::new(updated)));
        Ok(())
    }

    /// The parsed files whose statements may still run against the dev database: open buffers
    /// of migrations the ledger does not list as applied, and pending migrations.
    fn probed_files(&self, facts: &LiveFacts) -> Vec<Arc<crate::sql::SqlFile>> {
        let Some(project) = self.project() else { return Vec::new() };
        let open: Vec<(PathBuf, Arc<crate::sql::SqlFile>)> = self
            .docs
            .iter()
            .filter_map(|doc| {
                let file = &doc.snapshot.as_ref()?.analysis.as_ref()?.file;
                Some((doc.path.clone(), Arc::clone(file)))
            })
            .collect();
        let file_of = |path: &Path| project.analysis.files.get(path).map(|f| Arc::clone(&f.analysis.file));
        load::probe_targets(&project.model.project.sets, facts, &open, &file_of)
    }
}

/// Whether a saved or changed file should refresh the database facts.
pub(in crate::lsp) fn refreshes_live(path: &Path) -> bool {
    super::super::workspace::is_sql(path)
}

/// The answer to `safemig/migrationStatus`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct MigrationStatusResult {
    pub sets: Vec<SetStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SetStatus {
    /// The set's directory, as a file URI.
    pub dir: String,
    pub framework: String,
    pub migrations: Vec<MigrationEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MigrationEntry {
    pub version: String,
    pub name: String,
    /// The migration's up file; `None` for a ledger row without a file.
    pub uri: Option<String>,
    /// `applied`, `pending`, `failed` or `unknown` (no ledger to read).
    pub state: String,
    pub applied_at: Option<String>,
    pub detail: Option<String>,
}

fn file_uri(path: &Path) -> Option<String> {
    tower_lsp::lsp_types::Url::from_file_path(path).ok().map(|u| u.to_string())
}

/// Every migration of every set with its state in the dev database (`unknown` without one).
pub(crate) fn migration_status(sets: &[MigrationSet], facts: Option<&LiveFacts>) -> MigrationStatusResult {
    let mut out = MigrationStatusResult::default();
    for set in sets {
        let ledger = facts.and_then(|f| f.ledger_of(&set.dir));
        let has_ledger_table = framework(set.framework).ledger().is_some();
        let mut migrations: Vec<MigrationEntry> = set
            .migrations
            .iter()
            .map(|m| MigrationEntry {
                version: m.version.display(),
                name: m.name.clone(),
                uri: m.files().next().and_then(file_uri),
                // No ledger read: with a database and a ledger-keeping framework, nothing ran yet.
                state: if facts.is_some() && has_ledger_table { "pending" } else { "unknown" }.into(),
                applied_at: None,
                detail: None,
            })
            .collect();
        if let Some(ledger) = ledger {
            for status in ledger::statuses(set, ledger) {
                let entry = status.entry.map(|e| &ledger.entries[e]);
                let (state, at, detail) = match &status.state {
                    MigrationState::Applied { at } => ("applied", *at, None),
                    MigrationState::Baseline => ("applied", None, Some("baseline".to_string())),
                    MigrationState::Pending => ("pending", None, None),
                    MigrationState::Skipped => ("pending", None, Some("older than the newest applied".into())),
                    MigrationState::Failed { at, detail } => ("failed", *at, detail.clone()),
                };
                let applied_at = at.map(|t| t.to_rfc3339());
                match status.migration {
                    Some(i) => {
                        if let Some(m) = migrations.get_mut(i) {
                            m.state = state.into();
                            m.applied_at = applied_at;
                            m.detail = detail;
                        }
                    }
                    None => migrations.push(MigrationEntry {
                        version: entry.map(|e| e.label().to_string()).unwrap_or_default(),
                        name: entry.and_then(|e| e.name.clone()).unwrap_or_default(),
                        uri: None,
                        state: state.into(),
                        applied_at,
                        detail: Some("in the ledger, but no file provides it".into()),
                    }),
                }
            }
        }
        out.sets.push(SetStatus {
            dir: file_uri(&set.dir).unwrap_or_else(|| set.dir.display().to_string()),
            framework: set.framework.name().to_string(),
            migrations,
        });
    }
    out
}
