//! Open documents and their analyses.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::watch;
use tower_lsp::lsp_types::{Diagnostic, DiagnosticSeverity, Url};

use crate::config::Config;
use crate::engine::{self, FileAnalysis, InputProblem, LSP_MAX_BYTES};
use crate::text::{Document, LineIndex, PositionEncoding};

use super::convert::{self, Positions};
use super::workspace::ProjectState;

/// One open editor buffer.
pub(crate) struct DocState {
    /// The client's text. Kept even when the file is too large to analyse.
    pub document: Document,
    /// The path the dialect is chosen from.
    pub path: PathBuf,
    /// Changes on every open and edit (from one server-wide counter), so a result computed for
    /// older text is recognised even when a reopened buffer reuses version numbers.
    pub revision: u64,
    /// The revision whose analysis was published last (or failed): while it trails `revision`,
    /// an analysis of this buffer is due, and the workspace's background work waits for it.
    pub published_revision: u64,
    /// The last analysis published for this buffer.
    pub snapshot: Option<Arc<Snapshot>>,
    /// Wakes this buffer's analysis worker; dropping it (on close) ends the worker.
    pub wake: watch::Sender<()>,
}

/// A text as analysed, with what the analysis found. Hovers and symbols read this, so they
/// always convert positions against the exact text the byte ranges refer to.
pub(crate) struct Snapshot {
    pub text: String,
    /// The client's version of `text`.
    pub version: i32,
    pub index: LineIndex,
    /// `None` when the text was not analysed (too large).
    pub analysis: Option<Arc<FileAnalysis>>,
}

impl Snapshot {
    pub fn positions(&self, encoding: PositionEncoding) -> Positions<'_> {
        Positions { text: &self.text, index: &self.index, encoding }
    }

    /// `text` analysed as a PostgreSQL migration with the default config.
    #[cfg(test)]
    pub fn analysed(text: &str) -> Snapshot {
        let config = Config::default();
        let analysis = engine::analyze(text, &config.settings(crate::sql::Dialect::Postgres), &config, None);
        Snapshot { text: text.to_string(), version: 0, index: LineIndex::new(text), analysis: Some(Arc::new(analysis)) }
    }
}

/// The path a URI names, for dialect detection (`untitled:` buffers have none and read as
/// PostgreSQL unless config says otherwise).
pub(crate) fn path_of(uri: &Url) -> PathBuf {
    uri.to_file_path().unwrap_or_else(|()| PathBuf::from(uri.path()))
}

/// Whether a path is a safemig config file rather than a migration.
pub(crate) fn is_config_file(path: &Path) -> bool {
    path.file_name().is_some_and(|name| name == crate::config::FILE_NAME)
}

/// Everything one analysis needs, taken from the shared state so the work runs without locks.
pub(crate) struct AnalysisJob {
    /// A cheap clone of the buffer's rope.
    pub document: Document,
    pub path: PathBuf,
    pub previous: Option<Arc<FileAnalysis>>,
    pub config: Arc<Config>,
    pub encoding: PositionEncoding,
    /// The latest project analysis: a migration's buffer is analysed against its set.
    pub project: Option<Arc<ProjectState>>,
}

impl AnalysisJob {
    /// Analyses the buffer and converts the findings. Synchronous: runs on the blocking pool.
    pub fn run(self) -> (Snapshot, Vec<Diagnostic>) {
        let bytes = self.document.len_bytes();
        if bytes > LSP_MAX_BYTES {
            let problem = InputProblem::TooLarge { bytes, limit: LSP_MAX_BYTES };
            let version = self.document.version;
            let snapshot = Snapshot { text: String::new(), version, index: LineIndex::new(""), analysis: None };
            return (snapshot, vec![convert::file_diagnostic(DiagnosticSeverity::WARNING, problem.message())]);
        }
        let text = self.document.text();
        let previous = self.previous.as_deref().map(|a| &*a.file);
        // A bug in safemig on this text becomes an `internal-error` diagnostic, not silence.
        let dialect = engine::dialect_for_path(&self.path, &self.config);
        let analysis = engine::contained(&text, dialect, || {
            let in_project =
                self.project.as_ref().and_then(|p| p.model.analyze_buffer(&p.analysis, &self.path, &text, previous));
            in_project.unwrap_or_else(|| {
                let database = match &self.project {
                    Some(p) => p.model.project.database_for(&self.path, &text),
                    None => engine::database_for(&self.path, &text, &self.config),
                };
                engine::analyze_in(database, &text, &self.config, previous)
            })
        });
        let index = LineIndex::new(&text);
        let positions = Positions { text: &text, index: &index, encoding: self.encoding };
        let diagnostics = analysis.findings.iter().map(|f| convert::diagnostic(f, &positions)).collect();
        let version = self.document.version;
        (Snapshot { text, version, index, analysis: Some(Arc::new(analysis)) }, diagnostics)
    }
}
