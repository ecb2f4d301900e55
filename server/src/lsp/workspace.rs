//! Which files of the workspace the server keeps diagnostics for, and how it analyses them.
//!
//! This is the one place that decides it: today every `*.sql` file under the workspace root
//! (outside `.git`, `target` and `node_modules`), each analysed on its own with
//! [`engine::analyze_bytes`]. The scheduling around it (`background`) only asks for the members,
//! whether a changed path concerns them, and the diagnostics of a batch of paths.
//!
//! Synchronous and free of tokio: the background worker calls it on the blocking pool.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use rustc_hash::FxHashMap;
use tower_lsp::lsp_types::Diagnostic;

use crate::config::{Config, FILE_NAME};
use crate::engine::{self, LSP_MAX_BYTES};
use crate::text::{LineIndex, PositionEncoding};

use super::convert::{self, Positions};

/// Directories never searched for migrations (as `safemig check` skips them).
pub(crate) const SKIPPED_DIRS: &[&str] = &[".git", "target", "node_modules"];

/// Files whose appearance, change or removal changes which migration sets the workspace has
/// (Prisma's lock file, Atlas' checksum file, Drizzle's journal).
pub(crate) const LAYOUT_MARKERS: &[&str] = &["migration_lock.toml", "atlas.sum", "_journal.json"];

/// The glob patterns a client watches for us (`workspace/didChangeWatchedFiles`). The config
/// file comes first.
pub(crate) fn watched_globs() -> Vec<String> {
    let mut globs = vec![format!("**/{FILE_NAME}"), "**/*.sql".to_string()];
    globs.extend(LAYOUT_MARKERS.iter().map(|marker| format!("**/{marker}")));
    globs
}

/// What a changed path means to the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathRole {
    /// `safemig.toml`: reload the configuration (and everything analysed with it).
    Config,
    /// A file that says which migration sets exist: look at the workspace again.
    LayoutMarker,
    /// A migration (or a file that would be one): analyse it again.
    Migration,
    /// Something else under the root (a directory, most likely): members may have come or gone.
    Other,
    /// Outside the root, or inside a skipped directory.
    Ignored,
}

/// Size and modification time: enough to tell that a file changed since it was analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    pub len: u64,
    pub modified: Option<SystemTime>,
}

impl Fingerprint {
    fn of(meta: &std::fs::Metadata) -> Fingerprint {
        Fingerprint { len: meta.len(), modified: meta.modified().ok() }
    }
}

/// The result for one path.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The file is gone (or unreadable): its diagnostics are to be cleared.
    Missing,
    Analysed {
        fingerprint: Option<Fingerprint>,
        diagnostics: Vec<Diagnostic>,
    },
    /// The analysis panicked; the message is for the log.
    Failed(String),
}

/// Texts of open editor buffers, which win over the disk.
#[derive(Debug, Default)]
pub(crate) struct Overlay {
    pub buffers: FxHashMap<PathBuf, Arc<str>>,
}

/// The workspace: its root and the configuration files are analysed with.
#[derive(Debug, Clone)]
pub(crate) struct WorkspaceModel {
    pub root: PathBuf,
    pub config: Arc<Config>,
}

impl WorkspaceModel {
    pub fn open(root: &Path, config: Arc<Config>) -> WorkspaceModel {
        WorkspaceModel { root: root.to_path_buf(), config }
    }

    /// What a change at `path` means.
    pub fn role(&self, path: &Path) -> PathRole {
        role(&self.root, path)
    }

    /// Every migration in the workspace, with its fingerprint, found by a walk of the root.
    pub fn members(&self) -> FxHashMap<PathBuf, Fingerprint> {
        let mut found = FxHashMap::default();
        let mut dirs = vec![self.root.clone()];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                let Ok(kind) = entry.file_type() else { continue };
                let path = entry.path();
                if kind.is_dir() {
                    if !entry.file_name().to_str().is_some_and(|n| SKIPPED_DIRS.contains(&n)) {
                        dirs.push(path);
                    }
                } else if is_sql(&path) {
                    // Symlinked files are followed; symlinked directories are not, so a link
                    // cycle cannot trap the walk.
                    if let Ok(meta) = std::fs::metadata(&path) {
                        if meta.is_file() {
                            found.insert(path, Fingerprint::of(&meta));
                        }
                    }
                }
            }
        }
        found
    }

    /// The diagnostics of each path, read from the overlay or else the disk. A panic while
    /// analysing one file costs that file's diagnostics only.
    pub fn analyze(&self, paths: &[PathBuf], overlay: &Overlay, encoding: PositionEncoding) -> Vec<Outcome> {
        paths
            .iter()
            .map(|path| {
                catch_unwind(AssertUnwindSafe(|| self.analyze_one(path, overlay, encoding)))
                    .unwrap_or_else(|payload| Outcome::Failed(super::guard::panic_message(payload)))
            })
            .collect()
    }

    fn analyze_one(&self, path: &Path, overlay: &Overlay, encoding: PositionEncoding) -> Outcome {
        let settings = self.config.settings(engine::dialect_for_path(path, &self.config));
        let (analysis, text, fingerprint) = match overlay.buffers.get(path) {
            Some(text) => {
                let (analysis, text) = engine::analyze_bytes(text.as_bytes(), LSP_MAX_BYTES, &settings, &self.config);
                (analysis, text, None)
            }
            None => {
                let Ok(bytes) = std::fs::read(path) else { return Outcome::Missing };
                let fingerprint = std::fs::metadata(path).ok().map(|m| Fingerprint::of(&m));
                let (analysis, text) = engine::analyze_bytes(&bytes, LSP_MAX_BYTES, &settings, &self.config);
                (analysis, text, fingerprint)
            }
        };
        let text = text.unwrap_or_default();
        let index = LineIndex::new(&text);
        let positions = Positions { text: &text, index: &index, encoding };
        let diagnostics = analysis.findings.iter().map(|f| convert::diagnostic(f, &positions)).collect();
        Outcome::Analysed { fingerprint, diagnostics }
    }
}

/// What a change at `path` means to the workspace at `root`.
pub(crate) fn role(root: &Path, path: &Path) -> PathRole {
    let Ok(relative) = path.strip_prefix(root) else { return PathRole::Ignored };
    let skipped = relative.components().any(|c| match c {
        Component::Normal(name) => name.to_str().is_some_and(|n| SKIPPED_DIRS.contains(&n)),
        _ => false,
    });
    if skipped {
        return PathRole::Ignored;
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if name == FILE_NAME {
        PathRole::Config
    } else if LAYOUT_MARKERS.contains(&name) {
        PathRole::LayoutMarker
    } else if is_sql(path) {
        PathRole::Migration
    } else {
        PathRole::Other
    }
}

pub(crate) fn is_sql(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("sql"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace(files: &[(&str, &str)]) -> (tempfile::TempDir, WorkspaceModel) {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, text) in files {
            let path = dir.path().join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("create dirs");
            }
            std::fs::write(&path, text).expect("write a file");
        }
        let model = WorkspaceModel::open(dir.path(), Arc::new(Config::default()));
        (dir, model)
    }

    #[test]
    fn members_are_sql_files_outside_build_dirs() {
        let (dir, model) = workspace(&[
            ("db/migrations/001_a.sql", "SELECT 1;"),
            ("db/migrations/002_b.SQL", "SELECT 1;"),
            ("db/migrations/notes.md", "x"),
            ("node_modules/pkg/x.sql", "SELECT 1;"),
            ("target/debug/y.sql", "SELECT 1;"),
            (".git/z.sql", "SELECT 1;"),
        ]);
        let mut members: Vec<_> = model.members().into_keys().collect();
        members.sort();
        let root = dir.path();
        assert_eq!(members, [root.join("db/migrations/001_a.sql"), root.join("db/migrations/002_b.SQL")]);
        assert_eq!(model.role(&root.join("node_modules/pkg/new.sql")), PathRole::Ignored);
        assert_eq!(model.role(&root.join("db/safemig.toml")), PathRole::Config);
        assert_eq!(model.role(&root.join("prisma/migrations/migration_lock.toml")), PathRole::LayoutMarker);
        assert_eq!(model.role(&root.join("db")), PathRole::Other);
        assert_eq!(model.role(Path::new("/elsewhere/a.sql")), PathRole::Ignored);
    }

    #[test]
    fn the_overlay_wins_over_the_disk_and_missing_files_are_missing() {
        let (dir, model) = workspace(&[("m/001.sql", "CREATE INDEX i ON t (a);\n")]);
        let path = dir.path().join("m/001.sql");
        let gone = dir.path().join("m/002.sql");
        let on_disk = model.analyze(&[path.clone(), gone], &Overlay::default(), PositionEncoding::Utf16);
        match &on_disk[..] {
            [Outcome::Analysed { diagnostics, fingerprint: Some(_) }, Outcome::Missing] => {
                assert!(diagnostics.iter().any(|d| d.message.contains("lock")), "{diagnostics:?}");
            }
            other => panic!("unexpected outcomes: {other:?}"),
        }
        let mut overlay = Overlay::default();
        overlay.buffers.insert(path.clone(), Arc::from("SELECT 1;\n"));
        match &model.analyze(&[path], &overlay, PositionEncoding::Utf16)[..] {
            [Outcome::Analysed { diagnostics, fingerprint: None }] => {
                assert!(diagnostics.is_empty(), "{diagnostics:?}")
            }
            other => panic!("unexpected outcomes: {other:?}"),
        }
    }
}
