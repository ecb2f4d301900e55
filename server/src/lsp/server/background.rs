//! Diagnostics for every migration of the workspace, not only the open ones.
//!
//! One worker per session. At start-up it opens the project (discovers the migration sets, reads
//! git) and analyses it; then it follows what changes: files on disk (reported by the client's
//! watcher or by ours), configuration reloads, closed buffers, and edits to open migrations (after
//! a pause in typing, since a migration's schema is every later one's starting point). A changed
//! layout (a marker file, a migration added or removed, a new directory) opens the project again;
//! a changed migration only re-analyses it, reusing the previous analysis.
//!
//! All work runs on the blocking pool. Open buffers come first: their own workers publish them as
//! they are typed, and a project pass publishes them before any other file, and only for the text
//! the buffer still has. Every other file is published only when its diagnostics differ from what
//! was last published for it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustc_hash::{FxHashMap, FxHashSet};
use tokio::sync::watch;
use tokio::time::Instant;
use tower_lsp::lsp_types::notification::Progress as ProgressNotification;
use tower_lsp::lsp_types::request::WorkDoneProgressCreate;
use tower_lsp::lsp_types::*;

use super::{lock, run_blocking, Inner};
use crate::lsp::documents::Snapshot;
use crate::lsp::workspace::{self, Overlay, PathRole, ProjectState, WorkspaceModel};
use crate::project::ProjectAnalysis;
use crate::text::LineIndex;

/// Files published between two looks at the open buffers.
const PUBLISH_CHUNK: usize = 256;
/// The longest the worker waits for open buffers before it goes on anyway.
const MAX_YIELD: Duration = Duration::from_millis(250);
/// After an edit to an open migration, the project is analysed again once typing paused this long…
const TYPING_PAUSE: Duration = Duration::from_millis(300);
/// …or, while typing goes on, this long after the first edit.
const TYPING_MAX_WAIT: Duration = Duration::from_secs(2);
/// Projects with fewer files than this are analysed without a progress report.
const PROGRESS_MIN_FILES: usize = 50;
/// Progress reports are sent at most this often.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// What the worker has been asked to do since it last looked.
#[derive(Debug, Default)]
pub(in crate::lsp) struct PendingWork {
    /// Open the project again: start-up, or directories or layout markers changed.
    pub rescan: bool,
    /// Analyse everything again: the configuration changed.
    pub everything: bool,
    /// Paths that changed on disk, or were closed in the editor.
    pub paths: FxHashSet<PathBuf>,
    /// An open migration was edited.
    pub buffers: bool,
    /// The dev database's facts changed: analyse again with them.
    pub live: bool,
}

impl PendingWork {
    fn merge(&mut self, other: PendingWork) {
        self.rescan |= other.rescan;
        self.everything |= other.everything;
        self.paths.extend(other.paths);
        self.buffers |= other.buffers;
        self.live |= other.live;
    }

    fn only_buffers(&self) -> bool {
        self.buffers && !self.rescan && !self.everything && self.paths.is_empty()
    }
}

impl Inner {
    /// Hands work to the background worker.
    pub(super) fn schedule(&self, add: impl FnOnce(&mut PendingWork)) {
        add(&mut lock(&self.workspace));
        self.workspace_wake.send_replace(());
    }

    /// The latest project analysis, if one was made.
    pub(super) fn project(&self) -> Option<Arc<ProjectState>> {
        lock(&self.project).clone()
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

    /// Sends a file's diagnostics unless they equal what was last sent for it. Call with
    /// `publishing` held.
    async fn publish_if_changed(&self, uri: Url, diagnostics: Vec<Diagnostic>, version: Option<i32>) {
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
        self.client.publish_diagnostics(uri, diagnostics, version).await;
    }
}

/// Runs the background worker until the session ends.
pub(super) async fn workspace_worker(inner: Arc<Inner>, root: PathBuf, mut woken: watch::Receiver<()>) {
    let mut worker = Worker {
        inner: Arc::clone(&inner),
        root,
        model: None,
        generation: 0,
        shown: FxHashSet::default(),
        messages: FxHashSet::default(),
    };
    while woken.changed().await.is_ok() {
        woken.borrow_and_update();
        inner.guard("the workspace analysis", worker.step(&mut woken)).await;
    }
}

struct Worker {
    inner: Arc<Inner>,
    root: PathBuf,
    /// The project, discovered with the config of `generation`.
    model: Option<Arc<WorkspaceModel>>,
    generation: u64,
    /// The files the last pass published for (as workspace files).
    shown: FxHashSet<PathBuf>,
    /// Project messages already shown to the user.
    messages: FxHashSet<String>,
}

/// What changed paths ask for.
#[derive(Debug, Default)]
struct Classified {
    reopen: bool,
    reanalyse: bool,
    /// Not migrations and gone: whatever was shown for them goes.
    cleared: Vec<PathBuf>,
}

impl Worker {
    async fn step(&mut self, woken: &mut watch::Receiver<()>) {
        let mut work = std::mem::take(&mut *lock(&self.inner.workspace));
        if work.only_buffers() {
            // Wait for a pause in typing; whatever else arrives meanwhile joins this pass.
            let give_up = Instant::now() + TYPING_MAX_WAIT;
            loop {
                let until = (Instant::now() + TYPING_PAUSE).min(give_up);
                if tokio::time::timeout_at(until, woken.changed()).await.is_err() || Instant::now() >= give_up {
                    break;
                }
                woken.borrow_and_update();
                work.merge(std::mem::take(&mut *lock(&self.inner.workspace)));
            }
            woken.borrow_and_update();
            work.merge(std::mem::take(&mut *lock(&self.inner.workspace)));
        }
        let (config, generation) = self.inner.config();
        let mut reopen = work.rescan || work.everything || self.model.is_none() || generation != self.generation;
        let mut reanalyse = work.buffers || work.live;
        let mut cleared = Vec::new();
        if let (false, Some(model)) = (reopen, self.model.clone()) {
            if !work.paths.is_empty() {
                let changed: Vec<PathBuf> = work.paths.into_iter().collect();
                match run_blocking(move || classify(&model, changed)).await {
                    Ok(c) => {
                        reopen |= c.reopen;
                        reanalyse |= c.reanalyse;
                        cleared = c.cleared;
                    }
                    Err(message) => return self.inner.log_panic("sorting changed files", &message).await,
                }
            }
        }
        if !reopen && !reanalyse {
            return self.clear(cleared).await;
        }
        // A commit, checkout or fetch moved HEAD or the shipped ref: the history is read again.
        if let (false, Some(model)) = (reopen, self.model.clone()) {
            reopen = run_blocking(move || model.git_moved()).await.unwrap_or(false);
        }

        let progress = self.start_progress(reopen);
        if reopen {
            progress.send_replace(("discovering migrations".into(), 0));
            let root = self.root.clone();
            let opened = run_blocking(move || WorkspaceModel::open(&root, config)).await;
            match opened {
                Ok(model) => {
                    self.model = Some(Arc::new(model));
                    self.generation = generation;
                }
                Err(message) => return self.inner.log_panic("discovering the migration sets", &message).await,
            }
        }
        let Some(model) = self.model.clone() else { return };
        self.show_messages(&model).await;

        // The open buffers, as they are now: they win over the disk.
        let mut revisions = FxHashMap::default();
        let mut overlay = Overlay::default();
        for doc in self.inner.docs.iter() {
            if model.is_member(&doc.path) && !workspace::too_large_doc(doc.document.len_bytes()) {
                overlay.buffers.insert(doc.path.clone(), Arc::from(doc.document.text()));
                revisions.insert(doc.path.clone(), doc.revision);
            }
        }
        let files = model.file_count();
        progress.send_replace((format!("checking {files} migrations"), 10));
        let previous = self.inner.project().map(|state| Arc::clone(&state.analysis));
        let encoding = self.inner.encoding();
        let analyser = Arc::clone(&model);
        let live = self.inner.live_facts();
        let analysed = run_blocking(move || {
            let analysis = analyser.analyze(&overlay, previous.as_deref(), live);
            // Freeing the previous analysis is not the user's wait either.
            drop(previous);
            let diagnostics = workspace::all_diagnostics(&analysis, encoding);
            (Arc::new(analysis), diagnostics, overlay)
        })
        .await;
        let (analysis, diagnostics, overlay) = match analysed {
            Ok(done) => done,
            Err(message) => return self.inner.log_panic("analysing the migrations", &message).await,
        };
        if self.inner.config().1 != generation {
            // A reload queued everything again with the new config.
            return;
        }
        progress.send_replace(("publishing".into(), 90));
        let state = Arc::new(ProjectState { model: Arc::clone(&model), analysis: Arc::clone(&analysis) });
        *lock(&self.inner.project) = Some(state);
        self.publish(diagnostics, overlay, revisions, &analysis).await;
        if reopen {
            // New or changed migration sets: their ledgers are read afresh.
            self.inner.refresh_live();
        }
        if reopen && self.inner.client_support().refresh_code_lenses {
            let inner = Arc::clone(&self.inner);
            tokio::spawn(async move {
                let _ = inner.client.code_lens_refresh().await;
            });
        }
        self.clear(cleared).await;
    }

    /// Publishes a pass: open buffers first (for the text they still have), then the other files
    /// in chunks, then clears files that left the project.
    async fn publish(
        &mut self,
        diagnostics: Vec<(PathBuf, Arc<crate::engine::FileAnalysis>, Vec<Diagnostic>)>,
        overlay: Overlay,
        revisions: FxHashMap<PathBuf, u64>,
        analysis: &ProjectAnalysis,
    ) {
        let (open, rest): (Vec<_>, Vec<_>) =
            diagnostics.into_iter().partition(|(path, ..)| revisions.contains_key(path));
        {
            let _order = self.inner.publishing.lock().await;
            for (path, file, diagnostics) in open {
                let (Some(text), Some(&revision)) = (overlay.buffers.get(&path), revisions.get(&path)) else {
                    continue;
                };
                let Some(uri) = self.uri_of_open(&path) else { continue };
                let version = {
                    let Some(mut doc) = self.inner.docs.get_mut(&uri) else { continue };
                    if doc.revision != revision {
                        continue;
                    }
                    let version = doc.document.version;
                    let snapshot =
                        Snapshot { text: text.to_string(), version, index: LineIndex::new(text), analysis: Some(file) };
                    doc.snapshot = Some(Arc::new(snapshot));
                    version
                };
                self.inner.publish_if_changed(uri, diagnostics, Some(version)).await;
            }
        }
        let mut now_shown = FxHashSet::default();
        for chunk in rest.chunks(PUBLISH_CHUNK) {
            self.inner.yield_to_open_documents().await;
            let _order = self.inner.publishing.lock().await;
            for (path, _, diagnostics) in chunk {
                now_shown.insert(path.clone());
                if let Some(doc) = self.inner.docs.iter().find(|doc| doc.path == *path) {
                    // Opened while this pass ran: its buffer was analysed over the project
                    // before this pass (a file created with others, which it reads, is opened
                    // right away), so it is analysed again over this one.
                    if !workspace::too_large_doc(doc.document.len_bytes()) {
                        doc.wake.send_replace(());
                    }
                    continue;
                }
                let Ok(uri) = Url::from_file_path(path) else { continue };
                self.inner.publish_if_changed(uri, diagnostics.clone(), None).await;
            }
        }
        let gone: Vec<PathBuf> = self
            .shown
            .iter()
            .filter(|p| !now_shown.contains(*p) && !analysis.files.contains_key(*p))
            .cloned()
            .collect();
        self.shown = now_shown;
        self.clear(gone).await;
    }

    /// Clears what was published for files that are no migrations (any more) and not open.
    async fn clear(&mut self, paths: Vec<PathBuf>) {
        if paths.is_empty() {
            return;
        }
        let _order = self.inner.publishing.lock().await;
        for path in paths {
            if self.is_open(&path) {
                continue;
            }
            self.shown.remove(&path);
            let Ok(uri) = Url::from_file_path(&path) else { continue };
            self.inner.publish_if_changed(uri, Vec::new(), None).await;
        }
    }

    fn is_open(&self, path: &std::path::Path) -> bool {
        self.inner.docs.iter().any(|doc| doc.path == path)
    }

    fn uri_of_open(&self, path: &std::path::Path) -> Option<Url> {
        self.inner.docs.iter().find(|doc| doc.path == path).map(|doc| doc.key().clone())
    }

    /// Shows the project's messages (discovery problems, why history is off) once each.
    async fn show_messages(&mut self, model: &WorkspaceModel) {
        for message in &model.project.messages {
            if self.messages.insert(message.clone()) {
                self.inner.client.log_message(MessageType::INFO, format!("safemig: {message}")).await;
            }
        }
    }

    /// A progress report for a pass that opens the project or covers many files; a sender that
    /// reports nowhere otherwise. Dropping it ends the report.
    fn start_progress(&self, reopen: bool) -> watch::Sender<(String, u32)> {
        let large = self.model.as_ref().map_or(reopen, |m| reopen && m.file_count() >= PROGRESS_MIN_FILES)
            || self.model.is_none();
        if large && self.inner.client_support().work_done_progress {
            start_progress(Arc::clone(&self.inner))
        } else {
            watch::channel((String::new(), 0)).0
        }
    }
}

/// What changed paths ask for. Blocking (looks at the disk).
fn classify(model: &WorkspaceModel, changed: Vec<PathBuf>) -> Classified {
    let mut out = Classified::default();
    for path in changed {
        match model.role(&path) {
            PathRole::Migration => match (model.is_member(&path), path.is_file()) {
                (true, true) => out.reanalyse = true,
                // Removed, or a new file that may be a migration: discovery decides.
                (true, false) | (false, true) => out.reopen = true,
                (false, false) => out.cleared.push(path),
            },
            PathRole::LayoutMarker => out.reopen = true,
            // A directory appeared, or something vanished (maybe a directory).
            PathRole::Other => out.reopen |= !path.is_file(),
            PathRole::Config | PathRole::Ignored => {}
        }
    }
    out
}

/// Starts a `$/progress` report; dropping the sender ends it. The task throttles the reports.
fn start_progress(inner: Arc<Inner>) -> watch::Sender<(String, u32)> {
    static PASSES: AtomicU64 = AtomicU64::new(0);
    let (state, mut updates) = watch::channel((String::new(), 0u32));
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
            let (message, percentage) = updates.borrow_and_update().clone();
            send(WorkDoneProgress::Report(WorkDoneProgressReport {
                message: Some(message),
                percentage: Some(percentage.min(100)),
                cancellable: Some(false),
            }))
            .await;
            tokio::time::sleep(PROGRESS_INTERVAL).await;
        }
        send(WorkDoneProgress::End(WorkDoneProgressEnd { message: Some("migrations checked".into()) })).await;
    });
    state
}
