//! The `LanguageServer` implementation: protocol in, engine calls, protocol out.
//!
//! Open buffers are analysed by one worker each (`analysis_worker`); every other migration of the
//! workspace by the background worker in `background`, which yields to the open buffers.

mod background;
mod live;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use dashmap::DashMap;
use tokio::sync::{watch, Notify};
use tower_lsp::jsonrpc::Result;
use tower_lsp::lsp_types::*;
use tower_lsp::{Client, LanguageServer};

use crate::config::{Config, ConfigProblem};
use crate::text::{Document, PositionEncoding};

use super::actions::{self, EditSupport};
use super::convert::{self, line_col};
use super::documents::{is_config_file, path_of, AnalysisJob, DocState, Snapshot};
use super::guard::{catch_panic, run_blocking};
use super::navigation::{self, Context};
use super::settings::{ConfigProblems, ConfigSources, LoadedConfig};
use super::workspace::{self, ProjectState};
use super::{hover, symbols, watcher};

use background::PendingWork;

/// The registration id of our file watchers (`safemig.toml`, migrations, layout markers).
const FILE_WATCHER_ID: &str = "safemig-file-watcher";
/// `workspace/executeCommand`: load the dev database's catalog and ledgers again now.
pub(crate) const REFRESH_SCHEMA_COMMAND: &str = "safemig.server.refreshSchema";
/// The settings section we ask for when the client pulls configuration.
const SETTINGS_SECTION: &str = "safemig";

pub(crate) struct Backend {
    inner: Arc<Inner>,
}

impl Backend {
    pub fn new(client: Client, shutdown_requested: Arc<AtomicBool>) -> Self {
        let (workspace_wake, workspace_woken) = watch::channel(());
        Backend {
            inner: Arc::new(Inner {
                client,
                docs: DashMap::new(),
                encoding: OnceLock::new(),
                client_support: OnceLock::new(),
                config: Mutex::new(ConfigState::default()),
                revisions: AtomicU64::new(0),
                publishing: tokio::sync::Mutex::new(()),
                published: DashMap::new(),
                docs_published: Notify::new(),
                workspace: Mutex::new(PendingWork::default()),
                workspace_wake,
                workspace_woken: Mutex::new(Some(workspace_woken)),
                project: Mutex::new(None),
                live: Mutex::new(live::LiveShared::default()),
                live_wake: Notify::new(),
                shutdown_requested,
            }),
        }
    }
}

/// What the client said it can do, as far as we care.
#[derive(Debug, Default, Clone, Copy)]
struct ClientSupport {
    watch_files_dynamically: bool,
    pull_configuration: bool,
    work_done_progress: bool,
    refresh_code_lenses: bool,
    /// `window/showDocument`: the server may open a file it created for a fix.
    show_document: bool,
    edits: EditSupport,
}

#[derive(Default)]
struct ConfigState {
    sources: ConfigSources,
    current: Arc<Config>,
    /// Bumped on every reload, so an analysis made with an older config is not published.
    generation: u64,
    /// The first load's problems, kept for `initialized` (nothing may be published before it).
    initial_problems: Option<ConfigProblems>,
    /// Whether the last publication on `safemig.toml` had diagnostics (which must then be cleared).
    toml_diagnostics_shown: bool,
}

impl ConfigState {
    /// Reads every source afresh and makes the result current.
    fn reload(&mut self) -> ConfigProblems {
        let LoadedConfig { config, problems } = self.sources.load();
        self.current = Arc::new(config);
        self.generation += 1;
        problems
    }
}

struct Inner {
    client: Client,
    docs: DashMap<Url, DocState>,
    encoding: OnceLock<PositionEncoding>,
    client_support: OnceLock<ClientSupport>,
    config: Mutex<ConfigState>,
    revisions: AtomicU64,
    /// Held while checking that a result is current and sending it, so that results leave in
    /// the order of the state they describe (and none arrives after `didClose` cleared a file).
    publishing: tokio::sync::Mutex<()>,
    /// What was last published for each file (written under `publishing`), so that workspace
    /// files whose diagnostics did not change are not sent again.
    published: DashMap<Url, Vec<Diagnostic>>,
    /// Notified whenever an open buffer's analysis was published or failed.
    docs_published: Notify,
    /// Work for the background worker, and its wake-up call.
    workspace: Mutex<PendingWork>,
    workspace_wake: watch::Sender<()>,
    /// Taken by the background worker when it starts (at `initialized`, with a workspace root).
    workspace_woken: Mutex<Option<watch::Receiver<()>>>,
    /// The latest analysis of the whole project (`None` until the first one is done).
    project: Mutex<Option<Arc<ProjectState>>>,
    /// The dev database's facts and status (see `live`).
    live: Mutex<live::LiveShared>,
    live_wake: Notify,
    shutdown_requested: Arc<AtomicBool>,
}

/// Locks a std mutex, recovering from poisoning: every handler's panic is caught, and the state
/// behind these locks is replaced whole, never left half-written.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Inner {
    fn encoding(&self) -> PositionEncoding {
        self.encoding.get().copied().unwrap_or_default()
    }

    fn client_support(&self) -> ClientSupport {
        self.client_support.get().copied().unwrap_or_default()
    }

    fn next_revision(&self) -> u64 {
        self.revisions.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn config(&self) -> (Arc<Config>, u64) {
        let state = lock(&self.config);
        (Arc::clone(&state.current), state.generation)
    }

    fn root(&self) -> Option<PathBuf> {
        lock(&self.config).sources.root.clone()
    }

    /// Whether the background worker keeps `path`'s diagnostics (once it is not open): whether it
    /// is a migration of the project.
    fn in_workspace(&self, path: &Path) -> bool {
        self.project().is_some_and(|state| state.model.is_member(path))
    }

    /// Runs a handler body, turning a panic into a logged error and `T::default()`.
    async fn guard<T: Default>(&self, what: &str, body: impl Future<Output = T>) -> T {
        match catch_panic(body).await {
            Ok(value) => value,
            Err(message) => {
                self.log_panic(what, &message).await;
                T::default()
            }
        }
    }

    async fn log_panic(&self, what: &str, message: &str) {
        self.client
            .log_message(
                MessageType::ERROR,
                format!(
                    "safemig: internal error in {what}: {message}. The server keeps running; \
                     please report this with the file that caused it."
                ),
            )
            .await;
    }

    fn snapshot(&self, uri: &Url) -> Option<Arc<Snapshot>> {
        self.docs.get(uri)?.snapshot.clone()
    }

    /// The texts of the open buffers of migrations, which win over the disk when a fix is
    /// verified.
    fn migration_buffers(&self, project: Option<&ProjectState>) -> workspace::Overlay {
        let mut buffers = workspace::Overlay::default();
        if let Some(state) = project {
            for doc in self.docs.iter() {
                if state.model.is_member(&doc.path) && !workspace::too_large_doc(doc.document.len_bytes()) {
                    buffers.buffers.insert(doc.path.clone(), Arc::from(doc.document.text()));
                }
            }
        }
        buffers
    }

    /// [`actions::APPLY_FIX_COMMAND`]: the fix planned and verified again, its new, edited and
    /// renamed files written (never over anything), then the buffer's own edits applied through
    /// `workspace/applyEdit` (when the editor refuses them, the files are taken back), and the
    /// new files shown. Every outcome is told to the user.
    async fn apply_fix(&self, args: actions::ApplyFix) {
        let warn = |message: String| self.client.show_message(MessageType::WARNING, message);
        let Some(snapshot) = self.snapshot(&args.uri) else {
            return warn(format!("safemig: open {} to apply the fix", args.uri)).await;
        };
        let project = self.project();
        let live = self.live_facts();
        let config = self.config().0;
        let path = path_of(&args.uri);
        let buffers = self.migration_buffers(project.as_deref());
        let planned = {
            let (snapshot, args) = (Arc::clone(&snapshot), args.clone());
            run_blocking(move || {
                let whole = project.as_deref().map(|project| actions::ProjectFixes {
                    project,
                    live: live.as_ref(),
                    path: &path,
                    buffers: &buffers,
                });
                actions::fix_for_command(&snapshot, &args, &config, whole)
            })
            .await
        };
        let Ok(Some(fix)) = planned else {
            return warn(format!(
                "safemig: `{}` is no longer offered for this text (the file or the project changed); ask for the quick fix again",
                args.title
            ))
            .await;
        };
        let renames = fix.edits.iter().any(|e| matches!(e, crate::fixes::FileEdit::Rename { .. }));
        let saved = || std::fs::read_to_string(path_of(&args.uri)).is_ok_and(|disk| disk == snapshot.text);
        if renames && !saved() {
            return warn(format!("safemig: save {} first: `{}` renames it on disk", args.uri, args.title)).await;
        }
        let positions = snapshot.positions(self.encoding());
        let text_edits: Vec<TextEdit> = fix
            .edits
            .iter()
            .filter_map(|e| match e {
                crate::fixes::FileEdit::Replace { range, text } => {
                    Some(TextEdit { range: positions.range(range.clone()), new_text: text.clone() })
                }
                _ => None,
            })
            .collect();
        let (beside, root, file) = (fix.clone(), self.root(), path_of(&args.uri));
        let write = move || {
            // Nothing outside the workspace: not the files beside, not the buffer's own file.
            if let Some(root) = &root {
                crate::fixes::write::check_inside(root, &file, &beside)?;
            }
            crate::fixes::write::write_beside(&beside)
        };
        match run_blocking(write).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return warn(format!("safemig: `{}` was not applied: {e}", fix.title)).await,
            Err(message) => return self.log_panic("applying a fix", &message).await,
        }
        if !text_edits.is_empty() {
            let edit = WorkspaceEdit {
                changes: Some(std::collections::HashMap::from([(args.uri.clone(), text_edits)])),
                ..WorkspaceEdit::default()
            };
            let applied = matches!(self.client.apply_edit(edit).await, Ok(r) if r.applied);
            if !applied {
                let undo = fix.clone();
                let undone = run_blocking(move || crate::fixes::write::undo_beside(&undo)).await;
                let tail = match undone {
                    Ok(Ok(())) => "the files it wrote were taken back".to_string(),
                    Ok(Err(e)) => format!("taking back the files it wrote failed: {e}"),
                    Err(message) => format!("taking back the files it wrote failed: {message}"),
                };
                return warn(format!("safemig: the editor did not apply `{}`; {tail}", fix.title)).await;
            }
        }
        let shown: Vec<PathBuf> = fix
            .edits
            .iter()
            .filter_map(|e| match e {
                crate::fixes::FileEdit::Create { path, .. } if path.extension().is_some_and(|x| x == "sql") => {
                    Some(path.clone())
                }
                crate::fixes::FileEdit::Rename { to, .. } => Some(to.clone()),
                _ => None,
            })
            .collect();
        let names: Vec<String> = shown.iter().map(|p| p.display().to_string()).collect();
        if !names.is_empty() {
            self.client
                .show_message(MessageType::INFO, format!("safemig: {} — wrote {}", fix.title, names.join(", ")))
                .await;
        }
        if self.client_support().show_document {
            for path in shown {
                if let Ok(uri) = Url::from_file_path(&path) {
                    let params = ShowDocumentParams { uri, external: None, take_focus: Some(false), selection: None };
                    let _ = self.client.show_document(params).await;
                }
            }
        }
    }

    /// Answers a navigation request on the blocking pool from the buffer's last snapshot and
    /// the project's last analysis (never waiting for either).
    async fn navigate<T: Send + 'static>(
        &self,
        uri: &Url,
        answer: impl FnOnce(&Context) -> Option<T> + Send + 'static,
    ) -> Option<T> {
        let (snapshot, path) = {
            let doc = self.docs.get(uri)?;
            (doc.snapshot.clone()?, doc.path.clone())
        };
        let project = self.project();
        let live = self.live_facts();
        let encoding = self.encoding();
        let work = move || {
            let ctx = Context {
                snapshot: &snapshot,
                path: &path,
                project: project.as_deref(),
                live: live.as_deref(),
                encoding,
            };
            answer(&ctx)
        };
        match run_blocking(work).await {
            Ok(answer) => answer,
            Err(message) => {
                self.log_panic(&format!("a request on {uri}"), &message).await;
                None
            }
        }
    }

    /// Analyses the buffer's current text and publishes the result, unless the buffer or the
    /// config changed meanwhile (then another analysis is already queued).
    async fn analyse_and_publish(&self, uri: &Url) {
        let (config, generation) = self.config();
        let (job, revision) = {
            let Some(doc) = self.docs.get(uri) else { return };
            let job = AnalysisJob {
                document: doc.document.clone(),
                path: doc.path.clone(),
                previous: doc.snapshot.as_ref().and_then(|s| s.analysis.clone()),
                config,
                encoding: self.encoding(),
                project: self.project(),
            };
            (job, doc.revision)
        };
        let (snapshot, diagnostics) = match run_blocking(move || job.run()).await {
            Ok(result) => result,
            Err(message) => {
                if let Some(mut doc) = self.docs.get_mut(uri) {
                    if doc.revision == revision {
                        doc.published_revision = revision;
                    }
                }
                self.docs_published.notify_waiters();
                self.log_panic(&format!("the analysis of {uri}"), &message).await;
                return;
            }
        };
        let _order = self.publishing.lock().await;
        if self.config().1 != generation {
            return;
        }
        let (version, replaced) = {
            let Some(mut doc) = self.docs.get_mut(uri) else { return };
            if doc.revision != revision {
                return;
            }
            doc.published_revision = revision;
            (doc.document.version, doc.snapshot.replace(Arc::new(snapshot)))
        };
        self.published.insert(uri.clone(), diagnostics.clone());
        self.client.publish_diagnostics(uri.clone(), diagnostics, Some(version)).await;
        self.docs_published.notify_waiters();
        // Freeing the previous analysis is not the user's wait.
        drop(replaced);
    }

    /// Reloads the configuration from all sources, reports its problems and re-analyses every
    /// open buffer and every migration of the workspace.
    async fn reload_config(&self, show_settings_problems: bool) {
        let problems = lock(&self.config).reload();
        self.publish_toml_problems(&problems.in_file).await;
        if show_settings_problems {
            self.show_settings_problems(&problems.in_settings).await;
        }
        for doc in self.docs.iter() {
            doc.wake.send_replace(());
        }
        self.schedule(|work| work.everything = true);
        // The database URL or its timeouts may have changed.
        self.refresh_live();
    }

    /// Files changed on disk (reported by the client or by our own watcher).
    async fn files_changed(&self, paths: Vec<PathBuf>) {
        if paths.iter().any(|p| is_config_file(p)) {
            self.reload_config(false).await;
        }
        let changed: Vec<PathBuf> = paths.into_iter().filter(|p| !is_config_file(p)).collect();
        if !changed.is_empty() {
            self.schedule(|work| work.paths.extend(changed));
        }
    }

    /// Publishes `safemig.toml`'s problems on that file, or clears what an earlier load put there.
    async fn publish_toml_problems(&self, problems: &[ConfigProblem]) {
        let (path, shown_before) = {
            let mut state = lock(&self.config);
            let shown = std::mem::replace(&mut state.toml_diagnostics_shown, !problems.is_empty());
            (state.sources.toml_path(), shown)
        };
        let Some(path) = path else { return };
        if problems.is_empty() && !shown_before {
            return;
        }
        let Ok(uri) = Url::from_file_path(&path) else { return };
        // The problems carry line numbers; the text gives those lines their extent.
        let text = crate::config::read_config_file(&path).unwrap_or_default();
        let encoding = self.encoding();
        let diagnostics = convert::config_diagnostics(problems, &text, encoding);
        let _order = self.publishing.lock().await;
        self.client.publish_diagnostics(uri, diagnostics, None).await;
    }

    async fn show_settings_problems(&self, problems: &[ConfigProblem]) {
        if problems.is_empty() {
            return;
        }
        let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let message = format!(
            "safemig ignored {} setting{} (the defaults stay in force): {}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            listed.join("; ")
        );
        self.client.show_message(MessageType::WARNING, message).await;
    }

    /// Asks the client to watch `safemig.toml`, the migrations and the migration-layout markers.
    async fn register_file_watchers(&self) {
        let watchers = workspace::watched_globs()
            .into_iter()
            .map(|glob| FileSystemWatcher { glob_pattern: GlobPattern::String(glob), kind: None })
            .collect();
        let options = DidChangeWatchedFilesRegistrationOptions { watchers };
        let registration = Registration {
            id: FILE_WATCHER_ID.into(),
            method: "workspace/didChangeWatchedFiles".into(),
            register_options: serde_json::to_value(options).ok(),
        };
        if let Err(e) = self.client.register_capability(vec![registration]).await {
            self.client
                .log_message(
                    MessageType::WARNING,
                    format!(
                        "safemig: could not watch files ({e}); files changed outside the editor are checked when \
                         opened, and safemig.toml is reloaded when saved in the editor"
                    ),
                )
                .await;
        }
    }

    /// Watches the workspace ourselves, for clients that cannot watch files for us.
    async fn watch_files(self: Arc<Self>, root: PathBuf) {
        let watched = root.clone();
        let (files, mut events) = match run_blocking(move || watcher::start(&watched)).await {
            Ok(Ok(started)) => started,
            Ok(Err(e)) => {
                let message = format!(
                    "safemig: could not watch {} ({e}); files changed outside the editor are checked when opened",
                    root.display()
                );
                self.client.log_message(MessageType::WARNING, message).await;
                return;
            }
            Err(message) => return self.log_panic("starting the file watcher", &message).await,
        };
        // Files created between the first scan and the watch being in place.
        self.schedule(|work| work.rescan = true);
        let files = Arc::new(files);
        while let Some(batch) = watcher::next_batch(&mut events).await {
            let follower = Arc::clone(&files);
            let followed = batch.clone();
            if let Err(message) = run_blocking(move || follower.follow(&followed)).await {
                self.log_panic("following new directories", &message).await;
            }
            self.guard("following file changes", self.files_changed(batch)).await;
        }
    }

    /// Asks the client for our settings section (clients that pull configuration send
    /// `didChangeConfiguration` with null settings).
    async fn pull_settings(&self) -> Option<serde_json::Value> {
        let item = ConfigurationItem { scope_uri: None, section: Some(SETTINGS_SECTION.into()) };
        match self.client.configuration(vec![item]).await {
            Ok(mut values) => values.pop().filter(|v| !v.is_null()),
            Err(e) => {
                self.client
                    .log_message(MessageType::WARNING, format!("safemig: could not read the client's settings: {e}"))
                    .await;
                None
            }
        }
    }

    fn open(self: &Arc<Self>, params: DidOpenTextDocumentParams) {
        let uri = params.text_document.uri;
        let path = path_of(&uri);
        if is_config_file(&path) {
            return;
        }
        let (wake, mut woken) = watch::channel(());
        woken.mark_changed();
        let doc = DocState {
            document: Document::new(&params.text_document.text, params.text_document.version),
            path,
            revision: self.next_revision(),
            published_revision: 0,
            snapshot: None,
            wake,
        };
        // Replacing a buffer opened twice drops its old `wake`, which ends its old worker.
        self.docs.insert(uri.clone(), doc);
        tokio::spawn(analysis_worker(Arc::clone(self), uri, woken));
    }

    /// Applies the edits in order. Runs before the handler's first await, so edits are applied
    /// in the order the client sent them.
    fn change(&self, params: DidChangeTextDocumentParams) -> Vec<String> {
        let uri = params.text_document.uri;
        let encoding = self.encoding();
        let revision = self.next_revision();
        let Some(mut doc) = self.docs.get_mut(&uri) else {
            return if is_config_file(&path_of(&uri)) {
                Vec::new()
            } else {
                vec![format!("safemig: ignored an edit to {uri}, which is not open")]
            };
        };
        let mut problems = Vec::new();
        for change in params.content_changes {
            let range = change.range.map(|r| (line_col(r.start), line_col(r.end)));
            if let Err(e) = doc.document.apply_change(range, &change.text, encoding) {
                problems.push(format!("safemig: ignored an edit to {uri}: {e}"));
            }
        }
        doc.document.version = params.text_document.version;
        doc.revision = revision;
        doc.wake.send_replace(());
        if self.in_workspace(&doc.path) {
            // Later migrations start from this one's schema.
            self.schedule(|work| work.buffers = true);
        }
        problems
    }
}

/// Analyses one buffer whenever it is woken, until the buffer closes. One worker per buffer
/// means its analyses never overlap, and edits that arrive during an analysis are taken together
/// by the next one.
async fn analysis_worker(inner: Arc<Inner>, uri: Url, mut woken: watch::Receiver<()>) {
    while woken.changed().await.is_ok() {
        inner.guard("the analysis worker", inner.analyse_and_publish(&uri)).await;
    }
}

fn workspace_root(params: &InitializeParams) -> Option<PathBuf> {
    let folder = params.workspace_folders.as_ref().and_then(|folders| folders.first()).map(|f| &f.uri);
    #[allow(deprecated)] // `root_path` is how old clients say it.
    let from_path = params.root_path.as_ref().map(PathBuf::from);
    folder.or(params.root_uri.as_ref()).and_then(|uri| uri.to_file_path().ok()).or(from_path)
}

impl Backend {
    /// `safemig/migrationStatus`: every migration and its state in the dev database.
    pub(crate) async fn migration_status(&self, _params: serde_json::Value) -> Result<live::MigrationStatusResult> {
        let inner = &self.inner;
        Ok(inner
            .guard("safemig/migrationStatus", async {
                let project = inner.project();
                let facts = inner.live_facts();
                let work = move || {
                    let sets = project.as_ref().map_or(&[][..], |p| &p.model.project.sets[..]);
                    live::migration_status(sets, facts.as_deref())
                };
                match run_blocking(work).await {
                    Ok(result) => result,
                    Err(message) => {
                        inner.log_panic("safemig/migrationStatus", &message).await;
                        live::MigrationStatusResult::default()
                    }
                }
            })
            .await)
    }
}

#[tower_lsp::async_trait]
impl LanguageServer for Backend {
    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<serde_json::Value>> {
        let inner = &self.inner;
        if params.command == actions::APPLY_FIX_COMMAND {
            let args = params.arguments.into_iter().next().and_then(|v| serde_json::from_value(v).ok());
            let Some(args) = args else {
                return Err(tower_lsp::jsonrpc::Error::invalid_params(format!(
                    "`{}` takes one argument: the fix the code action names",
                    actions::APPLY_FIX_COMMAND
                )));
            };
            inner.guard("executeCommand", inner.apply_fix(args)).await;
            return Ok(None);
        }
        if params.command != REFRESH_SCHEMA_COMMAND {
            return Err(tower_lsp::jsonrpc::Error::invalid_params(format!("unknown command `{}`", params.command)));
        }
        inner.guard("executeCommand", async { inner.refresh_live() }).await;
        Ok(None)
    }

    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let inner = &self.inner;
        let encoding = convert::negotiate_encoding(
            params.capabilities.general.as_ref().and_then(|g| g.position_encodings.as_deref()),
        );
        let _ = inner.encoding.set(encoding);
        let workspace = params.capabilities.workspace.as_ref();
        let _ = inner.client_support.set(ClientSupport {
            watch_files_dynamically: workspace
                .and_then(|w| w.did_change_watched_files.as_ref())
                .and_then(|d| d.dynamic_registration)
                .unwrap_or(false),
            pull_configuration: workspace.and_then(|w| w.configuration).unwrap_or(false),
            work_done_progress: params.capabilities.window.as_ref().and_then(|w| w.work_done_progress).unwrap_or(false),
            refresh_code_lenses: workspace
                .and_then(|w| w.code_lens.as_ref())
                .and_then(|c| c.refresh_support)
                .unwrap_or(false),
            show_document: params
                .capabilities
                .window
                .as_ref()
                .and_then(|w| w.show_document.as_ref())
                .is_some_and(|d| d.support),
            edits: EditSupport::from_capabilities(&params.capabilities),
        });
        let root = workspace_root(&params);
        let init_options = params.initialization_options;
        inner
            .guard("loading the configuration", async {
                let mut state = lock(&inner.config);
                state.sources = ConfigSources { root, init_options, settings: None };
                state.initial_problems = Some(state.reload());
            })
            .await;

        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(convert::encoding_kind(encoding)),
                text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
                    open_close: Some(true),
                    change: Some(TextDocumentSyncKind::INCREMENTAL),
                    save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions { include_text: Some(false) })),
                    ..TextDocumentSyncOptions::default()
                })),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                document_symbol_provider: Some(OneOf::Left(true)),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec![" ".into(), "(".into(), ",".into(), ".".into()]),
                    ..CompletionOptions::default()
                }),
                code_lens_provider: Some(CodeLensOptions { resolve_provider: Some(false) }),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: vec![REFRESH_SCHEMA_COMMAND.into(), actions::APPLY_FIX_COMMAND.into()],
                    work_done_progress_options: WorkDoneProgressOptions::default(),
                }),
                code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                    code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                    resolve_provider: Some(false),
                    work_done_progress_options: WorkDoneProgressOptions::default(),
                })),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo { name: "safemig".into(), version: Some(env!("CARGO_PKG_VERSION").into()) }),
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let inner = &self.inner;
        inner
            .guard("initialized", async {
                let problems = lock(&inner.config).initial_problems.take().unwrap_or_default();
                inner.publish_toml_problems(&problems.in_file).await;
                inner.show_settings_problems(&problems.in_settings).await;
                let dynamic = inner.client_support().watch_files_dynamically;
                if dynamic {
                    // Not awaited here: the handler must not wait on the client's answer.
                    let watcher = Arc::clone(inner);
                    tokio::spawn(async move {
                        watcher.guard("registering the file watchers", watcher.register_file_watchers()).await
                    });
                }
                tokio::spawn(live::live_worker(Arc::clone(inner), inner.root()));
                let woken = lock(&inner.workspace_woken).take();
                if let (Some(root), Some(woken)) = (inner.root(), woken) {
                    inner.schedule(|work| work.rescan = true);
                    tokio::spawn(background::workspace_worker(Arc::clone(inner), root.clone(), woken));
                    if !dynamic {
                        tokio::spawn(Arc::clone(inner).watch_files(root));
                    }
                }
            })
            .await;
    }

    async fn shutdown(&self) -> Result<()> {
        self.inner.shutdown_requested.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let inner = &self.inner;
        inner.guard("didOpen", async { inner.open(params) }).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let inner = &self.inner;
        inner
            .guard("didChange", async {
                for problem in inner.change(params) {
                    inner.client.log_message(MessageType::WARNING, problem).await;
                }
            })
            .await;
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        let inner = &self.inner;
        inner
            .guard("didSave", async {
                // Migrations are analysed as they are typed; a saved config file changes the rules,
                // and a saved migration may just have been applied to the dev database.
                let path = path_of(&params.text_document.uri);
                if is_config_file(&path) {
                    inner.reload_config(false).await;
                } else if live::refreshes_live(&path) {
                    inner.refresh_live();
                }
            })
            .await;
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let inner = &self.inner;
        inner
            .guard("didClose", async {
                let uri = params.text_document.uri;
                let Some((_, doc)) = inner.docs.remove(&uri) else { return };
                if inner.in_workspace(&doc.path) {
                    // The file on disk (if any) takes the buffer's place.
                    inner.schedule(|work| {
                        work.paths.insert(doc.path);
                    });
                } else {
                    let _order = inner.publishing.lock().await;
                    inner.published.remove(&uri);
                    inner.client.publish_diagnostics(uri, Vec::new(), None).await;
                }
            })
            .await;
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let inner = &self.inner;
        inner
            .guard("didChangeConfiguration", async {
                let mut settings = Some(params.settings).filter(|s| !s.is_null());
                if settings.is_none() && inner.client_support().pull_configuration {
                    settings = inner.pull_settings().await;
                }
                lock(&inner.config).sources.settings = settings;
                inner.reload_config(true).await;
            })
            .await;
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let inner = &self.inner;
        inner
            .guard("didChangeWatchedFiles", async {
                let paths = params.changes.iter().filter_map(|c| c.uri.to_file_path().ok()).collect();
                inner.files_changed(paths).await;
            })
            .await;
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let inner = &self.inner;
        let at = params.text_document_position_params;
        Ok(inner
            .guard("hover", async {
                let uri = at.text_document.uri;
                let position = at.position;
                let encoding = inner.encoding();
                // The name under the cursor (its definition), then the statement (its locks).
                let named = inner.navigate(&uri, move |ctx| navigation::hover(ctx, position)).await;
                let live = inner.live_facts();
                let statement = inner
                    .snapshot(&uri)
                    .and_then(|snapshot| hover::hover(&snapshot, position, encoding, live.as_deref()));
                let statement_md = statement.as_ref().and_then(|h| match &h.contents {
                    HoverContents::Markup(m) => Some(m.value.clone()),
                    _ => None,
                });
                match (named, statement) {
                    (Some((md, range)), _) => {
                        let value = match statement_md {
                            Some(locks) => format!("{md}\n---\n\n{locks}"),
                            None => md,
                        };
                        Some(Hover { contents: HoverContents::Markup(navigation::markup(value)), range: Some(range) })
                    }
                    (None, statement) => statement,
                }
            })
            .await)
    }

    async fn goto_definition(&self, params: GotoDefinitionParams) -> Result<Option<GotoDefinitionResponse>> {
        let inner = &self.inner;
        let at = params.text_document_position_params;
        Ok(inner
            .guard("definition", async {
                let position = at.position;
                let location =
                    inner.navigate(&at.text_document.uri, move |ctx| navigation::definition(ctx, position)).await;
                location.map(GotoDefinitionResponse::Scalar)
            })
            .await)
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let inner = &self.inner;
        let at = params.text_document_position;
        Ok(inner
            .guard("references", async {
                let position = at.position;
                inner.navigate(&at.text_document.uri, move |ctx| navigation::references(ctx, position)).await
            })
            .await)
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let inner = &self.inner;
        let at = params.text_document_position;
        Ok(inner
            .guard("completion", async {
                let position = at.position;
                let items =
                    inner.navigate(&at.text_document.uri, move |ctx| navigation::completion(ctx, position)).await;
                items.map(CompletionResponse::Array)
            })
            .await)
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let inner = &self.inner;
        Ok(inner
            .guard("codeLens", async {
                let project = inner.project()?;
                let path = path_of(&params.text_document.uri);
                let live = inner.live_facts();
                match run_blocking(move || navigation::code_lens(&project, &path, live.as_deref())).await {
                    Ok(lens) => lens.map(|lens| vec![lens]),
                    Err(message) => {
                        inner.log_panic("a code lens", &message).await;
                        None
                    }
                }
            })
            .await)
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let inner = &self.inner;
        Ok(inner
            .guard("codeAction", async {
                let uri = params.text_document.uri;
                let snapshot = inner.snapshot(&uri)?;
                let encoding = inner.encoding();
                let support = inner.client_support().edits;
                let only = params.context.only;
                let diagnostics = params.context.diagnostics;
                let project = inner.project();
                let readiness = match (&project, inner.root()) {
                    (None, Some(_)) => actions::Readiness::WorkspacePending,
                    _ => actions::Readiness::Ready,
                };
                let live = inner.live_facts();
                let config = inner.config().0;
                let path = path_of(&uri);
                let buffers = inner.migration_buffers(project.as_deref());
                let work = move || {
                    let whole = project.as_deref().map(|project| actions::ProjectFixes {
                        project,
                        live: live.as_ref(),
                        path: &path,
                        buffers: &buffers,
                    });
                    let request = actions::ActionRequest {
                        range: params.range,
                        diagnostics: &diagnostics,
                        only: only.as_deref(),
                    };
                    actions::code_actions(&snapshot, &uri, &request, encoding, support, readiness, &config, whole)
                };
                match run_blocking(work).await {
                    Ok(actions) => Some(actions),
                    Err(message) => {
                        inner.log_panic("a code action", &message).await;
                        None
                    }
                }
            })
            .await)
    }

    async fn document_symbol(&self, params: DocumentSymbolParams) -> Result<Option<DocumentSymbolResponse>> {
        let inner = &self.inner;
        Ok(inner
            .guard("documentSymbol", async {
                let snapshot = inner.snapshot(&params.text_document.uri)?;
                Some(DocumentSymbolResponse::Nested(symbols::document_symbols(&snapshot, inner.encoding())))
            })
            .await)
    }
}
