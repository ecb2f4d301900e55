//! Which files of the workspace the server keeps diagnostics for, and how it analyses them.
//!
//! This is the one place that decides it: the migrations of the sets [`Project::open`] discovers,
//! analysed together by [`Project::analyze`] (schema replay, git history), open buffers over the
//! disk. The scheduling around it (`server/background.rs`) only asks what a changed path means,
//! for the analysis of the whole project, and for one buffer's analysis between two of those.
//!
//! Synchronous and free of tokio: the background worker calls it on the blocking pool.

use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashMap;
use tower_lsp::lsp_types::Diagnostic;

use crate::config::{Config, FILE_NAME};
use crate::engine::{self, FileAnalysis, LSP_MAX_BYTES};
use crate::project::{Disk, Project, ProjectAnalysis, ProjectFile, Sources};
use crate::rules::{self, Finding};
use crate::schema::Schema;
use crate::sql::SqlFile;
use crate::text::{LineIndex, PositionEncoding};

use super::convert::{self, Positions};

/// Directories never searched for migrations (as discovery skips them), besides hidden ones.
const SKIPPED_DIRS: &[&str] = &["target", "node_modules", "vendor", "dist", "build"];

/// Whether a directory of this name is never searched for migrations.
pub(crate) fn skipped_dir(name: &str) -> bool {
    name.starts_with('.') || SKIPPED_DIRS.contains(&name)
}

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

/// Texts of open editor buffers, which win over the disk.
#[derive(Debug, Default)]
pub(crate) struct Overlay {
    pub buffers: FxHashMap<PathBuf, Arc<str>>,
}

impl Sources for Overlay {
    fn text(&self, path: &Path) -> Option<Arc<str>> {
        match self.buffers.get(path) {
            Some(text) => Some(Arc::clone(text)),
            None => Disk.text(path),
        }
    }
}

/// The latest project analysis with the project it was made for: what the buffers' analyses,
/// hovers, navigation and code lenses read.
pub(crate) struct ProjectState {
    pub model: Arc<WorkspaceModel>,
    pub analysis: Arc<ProjectAnalysis>,
}

/// The workspace: its migration sets (with git history) and the configuration they were found
/// and are analysed with.
pub(crate) struct WorkspaceModel {
    pub root: PathBuf,
    pub config: Arc<Config>,
    pub project: Project,
}

impl WorkspaceModel {
    /// HEAD or the shipped ref moved since the history was read (a commit, checkout or fetch).
    /// Blocking: two `git rev-parse`.
    pub fn git_moved(&self) -> bool {
        self.project.git.as_ref().is_some_and(|g| g.moved())
    }

    /// Discovers the migration sets and reads their history. Blocking.
    pub fn open(root: &Path, config: Arc<Config>) -> WorkspaceModel {
        let project = Project::open(root, (*config).clone());
        WorkspaceModel { root: root.to_path_buf(), config, project }
    }

    /// What a change at `path` means.
    pub fn role(&self, path: &Path) -> PathRole {
        role(&self.root, path)
    }

    /// Whether `path` is a migration file of one of the sets.
    pub fn is_member(&self, path: &Path) -> bool {
        self.project.locate(path).is_some()
    }

    /// How many migration files the sets hold.
    pub fn file_count(&self) -> usize {
        self.project.sets.iter().flat_map(|s| &s.migrations).map(|m| m.files().count()).sum()
    }

    /// Analyses every migration, reusing `previous` for what did not change. Blocking.
    pub fn analyze(
        &self,
        overlay: &Overlay,
        previous: Option<&ProjectAnalysis>,
        live: Option<Arc<crate::live::LiveFacts>>,
    ) -> ProjectAnalysis {
        self.project.analyze_live(overlay, previous, live)
    }

    /// A buffer of a migration, analysed between two project analyses: with its set's settings
    /// and the schema before it from `last`, and the cross-file (history) findings of `last`
    /// carried over where the edit did not touch them. `None` when the file is not a migration.
    pub fn analyze_buffer(
        &self,
        last: &ProjectAnalysis,
        path: &Path,
        text: &str,
        previous: Option<&SqlFile>,
    ) -> Option<FileAnalysis> {
        let (si, _) = self.project.locate(path)?;
        let set = &self.project.sets[si];
        let settings = self.project.settings_for(set, path, text);
        let schema = self.schema_before(last, path)?;
        let schema = &schema;
        let replayed = last.files.get(path);
        let carried = replayed.map(|f| carry_over(&f.analysis, text)).unwrap_or_default();
        let previous = previous.filter(|p| p.dialect == set.dialect);
        let file = Arc::new(SqlFile::parse(text, set.dialect, previous));
        let view = crate::live::LiveView { replayed: schema, live: last.live.as_deref() };
        Some(engine::analyze_parsed(file, &settings, &self.config, &view, carried))
    }
}

impl WorkspaceModel {
    /// The schema a migration file is analysed against, from `analysis`.
    pub fn schema_before(&self, analysis: &ProjectAnalysis, path: &Path) -> Option<Schema> {
        analysis.schema_for(path)
    }
}

/// The schema a migration file starts from in the project's last analysis.
pub(crate) fn schema_of_file(state: &ProjectState, path: &Path) -> Option<Schema> {
    state.model.schema_before(&state.analysis, path)
}

/// The ids of the rules whose findings come from the whole project, not from one file.
fn is_project_rule(rule: &str) -> bool {
    [
        rules::shipped_migration_edited::RULE.id,
        rules::shipped_migration_removed::RULE.id,
        rules::duplicate_migration_version::RULE.id,
        rules::migration_out_of_order::RULE.id,
        rules::conflicting_migrations::RULE.id,
        rules::applied_migration_edited::RULE.id,
        rules::applied_migration_missing::RULE.id,
        rules::migration_failed::RULE.id,
        rules::schema_drift::RULE.id,
        rules::migration_partially_applied::RULE.id,
        rules::migration_will_fail::RULE.id,
        rules::baseline_needed::RULE.id,
    ]
    .contains(&rule)
}

/// The project findings of an earlier analysis of a file, moved to where they are in `text`:
/// findings before the edited region stay, those after it shift with it, those in it are dropped
/// (the next project analysis finds them again).
fn carry_over(analysis: &FileAnalysis, text: &str) -> Vec<Finding> {
    let old = &*analysis.file.text;
    let edited = changed_region(old, text);
    analysis
        .findings
        .iter()
        .filter(|f| is_project_rule(f.rule))
        .filter_map(|f| {
            let mut f = f.clone();
            match &edited {
                None => Some(f),
                Some((old_range, _)) if f.range.end <= old_range.start => Some(f),
                Some((old_range, new_range)) if f.range.start >= old_range.end => {
                    let shift = |at: usize| at - old_range.end + new_range.end;
                    f.range = shift(f.range.start)..shift(f.range.end);
                    Some(f)
                }
                Some(_) => None,
            }
        })
        .collect()
}

/// The byte range that differs between two texts, in each: `None` when they are equal.
fn changed_region(old: &str, new: &str) -> Option<(Range<usize>, Range<usize>)> {
    if old == new {
        return None;
    }
    let prefix = old.bytes().zip(new.bytes()).take_while(|(a, b)| a == b).count();
    let max_suffix = old.len().min(new.len()) - prefix;
    let suffix = old.bytes().rev().zip(new.bytes().rev()).take(max_suffix).take_while(|(a, b)| a == b).count();
    Some((prefix..old.len() - suffix, prefix..new.len() - suffix))
}

/// A file's findings as diagnostics, at the positions an editor shows for the file as read from
/// disk (a byte order mark is before line 0: editors strip it on load).
pub(crate) fn diagnostics(analysis: &FileAnalysis, encoding: PositionEncoding) -> Vec<Diagnostic> {
    let text = &*analysis.file.text;
    let index = LineIndex::for_file(text);
    let positions = Positions { text, index: &index, encoding };
    analysis.findings.iter().map(|f| convert::diagnostic(f, &positions)).collect()
}

/// The diagnostics of every file of a project analysis. Blocking.
pub(crate) fn all_diagnostics(
    analysis: &ProjectAnalysis,
    encoding: PositionEncoding,
) -> Vec<(PathBuf, Arc<FileAnalysis>, Vec<Diagnostic>)> {
    let files: Vec<(&PathBuf, &ProjectFile)> = analysis.files.iter().collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let per_thread = files.len().div_ceil(threads).max(1);
    let convert = |part: &[(&PathBuf, &ProjectFile)]| -> Vec<_> {
        part.iter()
            .map(|(path, file)| ((*path).clone(), Arc::clone(&file.analysis), diagnostics(&file.analysis, encoding)))
            .collect()
    };
    let mut out: Vec<_> = std::thread::scope(|scope| {
        let jobs: Vec<_> = files.chunks(per_thread).map(|part| scope.spawn(move || convert(part))).collect();
        // A panicking conversion loses its part's diagnostics, not the pass.
        jobs.into_iter().flat_map(|job| job.join().unwrap_or_default()).collect()
    });
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A buffer too large to analyse in the editor: the project reads the file from disk instead.
pub(crate) fn too_large_doc(bytes: usize) -> bool {
    bytes > LSP_MAX_BYTES
}

/// What a change at `path` means to the workspace at `root`.
pub(crate) fn role(root: &Path, path: &Path) -> PathRole {
    let Ok(relative) = path.strip_prefix(root) else { return PathRole::Ignored };
    let skipped = relative.components().any(|c| match c {
        Component::Normal(name) => name.to_str().is_some_and(skipped_dir),
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

    #[test]
    fn roles_of_changed_paths() {
        let root = Path::new("/w");
        assert_eq!(role(root, Path::new("/w/db/001.sql")), PathRole::Migration);
        assert_eq!(role(root, Path::new("/w/db/001.SQL")), PathRole::Migration);
        assert_eq!(role(root, Path::new("/w/node_modules/pkg/new.sql")), PathRole::Ignored);
        assert_eq!(role(root, Path::new("/w/db/safemig.toml")), PathRole::Config);
        assert_eq!(role(root, Path::new("/w/prisma/migrations/migration_lock.toml")), PathRole::LayoutMarker);
        assert_eq!(role(root, Path::new("/w/db")), PathRole::Other);
        assert_eq!(role(root, Path::new("/elsewhere/a.sql")), PathRole::Ignored);
    }

    #[test]
    fn changed_regions_and_carried_findings() {
        assert_eq!(changed_region("abc", "abc"), None);
        assert_eq!(changed_region("abXc", "abYYc"), Some((2..3, 2..4)));
        assert_eq!(changed_region("aaa", "aaaa"), Some((3..3, 3..4)));
        let text = "SELECT 1;\nSELECT 2;\nSELECT 3;\n";
        let config = Config::default();
        let mut analysis = engine::analyze(text, &config.settings(crate::sql::Dialect::Postgres), &config, None);
        let finding = |range: Range<usize>| Finding {
            rule: rules::shipped_migration_edited::RULE.id,
            severity: rules::shipped_migration_edited::RULE.default_severity,
            range,
            statement: 0,
            message: String::new(),
            fix: None,
        };
        analysis.findings = vec![finding(0..9), finding(10..19), finding(20..29)];
        // Edit the second statement: the first stays, the second goes, the third shifts by 2.
        let carried = carry_over(&analysis, "SELECT 1;\nSELECT 222;\nSELECT 3;\n");
        let ranges: Vec<_> = carried.iter().map(|f| f.range.clone()).collect();
        assert_eq!(ranges, [0..9, 22..31]);
    }
}
