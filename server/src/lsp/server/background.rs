//! Diagnostics for every migration of the workspace, not only the open ones.
//!
//! One worker per session: it scans the workspace at start-up, then follows what changes on disk
//! (reported by the client's watcher or by ours), configuration reloads and closed buffers. It
//! analyses in chunks on the blocking pool, yields to open buffers before each chunk (their
//! diagnostics come first), and publishes a file only when its diagnostics differ from what was
//! last published for it. Open buffers are never analysed here: their own worker owns them, and
//! the buffer wins over the disk.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use rustc_hash::{FxHashMap, FxHashSet};
use tokio::sync::watch;
use tokio::time::Instant;
use tower_lsp::lsp_types::notification::Progress as ProgressNotification;
use tower_lsp::lsp_types::request::WorkDoneProgressCreate;
use tower_lsp::lsp_types::*;

use super::{lock, run_blocking, Inner};
use crate::lsp::workspace::{Fingerprint, Outcome, Overlay, PathRole, WorkspaceModel};

/// Files per blocking job; a chunk is one job per core. Small enough that an open buffer's
/// analysis never waits long behind a chunk.
const FILES_PER_JOB: usize = 32;
/// The longest the worker waits for open buffers before it goes on anyway.
const MAX_YIELD: Duration = Duration::from_millis(250);
/// Passes over fewer files than this run without a progress report.
const PROGRESS_MIN_FILES: usize = 50;
/// Progress reports are sent at most this often.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// What the worker has been asked to do since it last looked.
#[derive(Debug, Default)]
pub(in crate::lsp) struct PendingWork {
    /// Walk the workspace again: start-up, or directories or layout markers changed.
    pub rescan: bool,
    /// Analyse every migration again: the configuration changed.
    pub everything: bool,
    /// Paths that changed on disk, or were closed in the editor.
    pub paths: FxHashSet<PathBuf>,
}

impl Inner {
    /// Hands work to the background worker.
    pub(super) fn schedule(&self, add: impl FnOnce(&mut PendingWork)) {
        add(&mut lock(&self.workspace));
        self.workspace_wake.send_replace(());
    }

    /// Whether an open buffer waits for its analysis to be published.
    fn docs_pending(&self) -> bool {
        self.docs.iter().any(|doc| doc.published_revision != doc.revision)
    }

    /// Waits (at most [`MAX_YIELD`]) until no open buffer waits for its diagnostics.
    async fn yield_to_open_documents(&self) {
        let deadline = Instant::now() + MAX_YIELD;
        loop {
            let published = self.docs_published.notified();
            tokio::pin!(published);
            published.as_mut().enable();
            if !self.docs_pending() {
                return;
            }
            if tokio::time::timeout_at(deadline, published).await.is_err() {
                return;
            }
        }
    }

    /// Sends a workspace file's diagnostics unless they equal what was last sent for it. Call
    /// with `publishing` held.
    async fn publish_if_changed(&self, uri: Url, diagnostics: Vec<Diagnostic>) {
        let unchanged = match self.published.get(&uri) {
            Some(previous) => *previous == diagnostics,
            None => diagnostics.is_empty(),
        };
        if unchanged {
            return;
        }
        if diagnostics.is_empty() {
            self.published.remove(&uri);
        } else {
            self.published.insert(uri.clone(), diagnostics.clone());
        }
        self.client.publish_diagnostics(uri, diagnostics, None).await;
    }
}

/// Runs the background worker until the session ends.
pub(super) async fn workspace_worker(inner: Arc<Inner>, root: PathBuf, mut woken: watch::Receiver<()>) {
    let mut worker = Worker {
        inner: Arc::clone(&inner),
        root,
        model: None,
        generation: 0,
        members: FxHashMap::default(),
        queue: BTreeSet::new(),
        progress: None,
        done: 0,
    };
    loop {
        if worker.queue.is_empty() {
            worker.end_pass();
            if woken.changed().await.is_err() {
                return;
            }
        }
        woken.borrow_and_update();
        inner.guard("the workspace analysis", worker.step()).await;
    }
}

struct Worker {
    inner: Arc<Inner>,
    root: PathBuf,
    /// What the workspace is, for the config of `generation`.
    model: Option<Arc<WorkspaceModel>>,
    generation: u64,
    /// The migrations seen on disk, with their fingerprints when last analysed or scanned.
    members: FxHashMap<PathBuf, Fingerprint>,
    /// Paths to analyse, in path order.
    queue: BTreeSet<PathBuf>,
    /// The progress report of the current pass, if it is large enough to have one.
    progress: Option<watch::Sender<(usize, usize)>>,
    /// Files analysed in the current pass.
    done: usize,
}

impl Worker {
    /// Takes the pending work into the queue, then analyses and publishes one chunk.
    async fn step(&mut self) {
        let work = std::mem::take(&mut *lock(&self.inner.workspace));
        let (config, generation) = self.inner.config();
        let mut rescan = work.rescan;
        let mut everything = work.everything;
        if self.model.is_none() || generation != self.generation {
            everything |= self.model.is_some();
            rescan |= self.model.is_none();
            self.model = Some(Arc::new(WorkspaceModel::open(&self.root, config)));
            self.generation = generation;
        }
        let Some(model) = self.model.clone() else { return };

        if !work.paths.is_empty() {
            let changed: Vec<PathBuf> = work.paths.into_iter().collect();
            let classifier = Arc::clone(&model);
            let classified = run_blocking(move || {
                let mut migrations = Vec::new();
                let mut rescan = false;
                for path in changed {
                    match classifier.role(&path) {
                        PathRole::Migration => migrations.push(path),
                        PathRole::LayoutMarker => rescan = true,
                        // A directory appeared, or something vanished (maybe a directory).
                        PathRole::Other => rescan |= !path.is_file(),
                        PathRole::Config | PathRole::Ignored => {}
                    }
                }
                (migrations, rescan)
            })
            .await;
            match classified {
                Ok((migrations, more)) => {
                    self.queue.extend(migrations);
                    rescan |= more;
                }
                Err(message) => self.inner.log_panic("sorting changed files", &message).await,
            }
        }
        if rescan {
            let scanner = Arc::clone(&model);
            match run_blocking(move || scanner.members()).await {
                Ok(found) => {
                    for (path, fingerprint) in &found {
                        if self.members.get(path) != Some(fingerprint) {
                            self.queue.insert(path.clone());
                        }
                    }
                    // Gone: they read as missing, which clears their diagnostics.
                    self.queue.extend(self.members.keys().filter(|p| !found.contains_key(*p)).cloned());
                    self.members = found;
                }
                Err(message) => self.inner.log_panic("scanning the workspace", &message).await,
            }
        }
        if everything {
            self.queue.extend(self.members.keys().cloned());
        }
        if !self.queue.is_empty() {
            self.analyse_chunk(&model, generation).await;
        }
    }

    async fn analyse_chunk(&mut self, model: &Arc<WorkspaceModel>, generation: u64) {
        self.inner.yield_to_open_documents().await;
        let open: FxHashSet<PathBuf> = self.inner.docs.iter().map(|doc| doc.path.clone()).collect();
        let jobs = parallelism();
        let mut chunk = Vec::with_capacity(jobs * FILES_PER_JOB);
        while chunk.len() < jobs * FILES_PER_JOB {
            let Some(path) = self.queue.pop_first() else { break };
            if !open.contains(&path) {
                chunk.push(path);
            }
        }
        if chunk.is_empty() {
            return;
        }
        self.report_progress(chunk.len());

        let encoding = self.inner.encoding();
        let per_job = chunk.len().div_ceil(jobs);
        let mut parts = Vec::with_capacity(jobs);
        while !chunk.is_empty() {
            let rest = chunk.split_off(per_job.min(chunk.len()));
            parts.push(std::mem::replace(&mut chunk, rest));
        }
        let results = join_all(parts.into_iter().map(|part| {
            let model = Arc::clone(model);
            run_blocking(move || {
                let outcomes = model.analyze(&part, &Overlay::default(), encoding);
                part.into_iter().zip(outcomes).collect::<Vec<_>>()
            })
        }))
        .await;

        let _order = self.inner.publishing.lock().await;
        if self.inner.config().1 != generation {
            // A reload queued everything again with the new config.
            return;
        }
        for result in results {
            let outcomes = match result {
                Ok(outcomes) => outcomes,
                Err(message) => {
                    self.inner.log_panic("analysing workspace files", &message).await;
                    continue;
                }
            };
            for (path, outcome) in outcomes {
                // Opened meanwhile: the buffer wins.
                if self.inner.docs.iter().any(|doc| doc.path == path) {
                    continue;
                }
                let Ok(uri) = Url::from_file_path(&path) else { continue };
                match outcome {
                    Outcome::Missing => {
                        self.members.remove(&path);
                        self.inner.publish_if_changed(uri, Vec::new()).await;
                    }
                    Outcome::Analysed { fingerprint, diagnostics } => {
                        if let Some(fingerprint) = fingerprint {
                            self.members.insert(path, fingerprint);
                        }
                        self.inner.publish_if_changed(uri, diagnostics).await;
                    }
                    Outcome::Failed(message) => {
                        self.inner.log_panic(&format!("the analysis of {}", path.display()), &message).await;
                    }
                }
            }
        }
    }

    /// Counts a chunk into the current pass, starting a progress report when the pass is large.
    fn report_progress(&mut self, chunk: usize) {
        let total = self.done + chunk + self.queue.len();
        let large_pass = self.done == 0 && total >= PROGRESS_MIN_FILES;
        if self.progress.is_none() && large_pass && self.inner.client_support().work_done_progress {
            self.progress = Some(start_progress(Arc::clone(&self.inner)));
        }
        if let Some(progress) = &self.progress {
            progress.send_replace((self.done, total));
        }
        self.done += chunk;
    }

    /// The queue ran dry: the pass is over.
    fn end_pass(&mut self) {
        if let Some(progress) = self.progress.take() {
            progress.send_replace((self.done, self.done));
        }
        self.done = 0;
    }
}

fn parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8)
}

/// Starts a `$/progress` report; dropping the sender ends it. (done, total) go through the
/// channel; the task throttles the reports.
fn start_progress(inner: Arc<Inner>) -> watch::Sender<(usize, usize)> {
    static PASSES: AtomicU64 = AtomicU64::new(0);
    let (state, mut updates) = watch::channel((0usize, 0usize));
    let token = NumberOrString::String(format!("safemig-workspace-{}", PASSES.fetch_add(1, Ordering::Relaxed)));
    tokio::spawn(async move {
        let create =
            inner.client.send_request::<WorkDoneProgressCreate>(WorkDoneProgressCreateParams { token: token.clone() });
        if !matches!(tokio::time::timeout(Duration::from_secs(5), create).await, Ok(Ok(()))) {
            return;
        }
        let send = |value: WorkDoneProgress| {
            let params = ProgressParams { token: token.clone(), value: ProgressParamsValue::WorkDone(value) };
            inner.client.send_notification::<ProgressNotification>(params)
        };
        send(WorkDoneProgress::Begin(WorkDoneProgressBegin {
            title: "safemig".into(),
            message: Some("checking the workspace's migrations".into()),
            percentage: Some(0),
            cancellable: Some(false),
        }))
        .await;
        while updates.changed().await.is_ok() {
            let (done, total) = *updates.borrow_and_update();
            let percentage = (done * 100).checked_div(total).unwrap_or(100) as u32;
            send(WorkDoneProgress::Report(WorkDoneProgressReport {
                message: Some(format!("{done}/{total} migrations")),
                percentage: Some(percentage.min(100)),
                cancellable: Some(false),
            }))
            .await;
            tokio::time::sleep(PROGRESS_INTERVAL).await;
        }
        let (done, _) = *updates.borrow();
        send(WorkDoneProgress::End(WorkDoneProgressEnd { message: Some(format!("{done} migrations checked")) })).await;
    });
    state
}
