//! The project: every migration set of a workspace, analysed as ordered histories. This is where
//! discovery (`workspace`), replay (`schema`), git (`history`) and the per-file engine meet; the
//! CLI and the language server both drive it.
//!
//! Texts come from a [`Sources`] (open editor buffers over the disk), and the previous
//! [`ProjectAnalysis`] is reused: a file whose text did not change is not parsed again, and an
//! edited file re-parses only the statements the edit touched. Rules of every later migration run
//! again, because the schema before them may have changed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::config::Config;
use crate::engine::{self, FileAnalysis};
use crate::history::{self, GitHistory};
use crate::rules::{Finding, MigrationSettings};
use crate::schema::{self, ReplayInput};
use crate::sql::SqlFile;
use crate::workspace::frameworks::framework;
use crate::workspace::{self, Direction, MigrationSet};

/// Where file texts come from: open buffers first, then the disk.
pub trait Sources: Sync {
    fn text(&self, path: &Path) -> Option<Arc<str>>;
}

/// Reads files from disk (lossily for invalid UTF-8: the engine reports those bytes).
pub struct Disk;

impl Sources for Disk {
    fn text(&self, path: &Path) -> Option<Arc<str>> {
        let bytes = std::fs::read(path).ok()?;
        let (text, _) = engine::decode(&bytes, engine::CLI_MAX_BYTES);
        text.map(|t| Arc::from(t.as_ref()))
    }
}

/// The workspace's migration sets and the git facts about them.
pub struct Project {
    pub root: PathBuf,
    pub config: Config,
    pub sets: Vec<MigrationSet>,
    pub git: Option<GitHistory>,
    /// Messages for the user (discovery problems, why history is off), shown once.
    pub messages: Vec<String>,
}

/// One analysed migration file.
#[derive(Debug, Clone)]
pub struct ProjectFile {
    pub set: usize,
    pub migration: usize,
    pub analysis: Arc<FileAnalysis>,
}

/// The analysis of every migration file of the project.
#[derive(Default)]
pub struct ProjectAnalysis {
    pub files: FxHashMap<PathBuf, ProjectFile>,
    /// Per set, in set order.
    pub replays: Vec<schema::Replay>,
}

impl Project {
    /// Discovers the migration sets under `root` and loads git history for them.
    pub fn open(root: &Path, config: Config) -> Project {
        let discovery = workspace::discover(root, &config);
        let mut messages = discovery.problems;
        let git = match GitHistory::load(root, &discovery.sets, config.shipped_ref.as_deref()) {
            Ok(git) => Some(git),
            Err(off) => {
                messages.push(off.to_string());
                None
            }
        };
        Project { root: root.to_path_buf(), config, sets: discovery.sets, git, messages }
    }

    /// The set and migration a file belongs to.
    pub fn locate(&self, path: &Path) -> Option<(usize, usize)> {
        let (set, migration) = workspace::set_of(&self.sets, path)?;
        let index = self.sets.iter().position(|s| std::ptr::eq(s, set))?;
        Some((index, migration))
    }

    /// The engine settings for a file: config, dialect of its set, and its runner's transaction
    /// behaviour (the file's own opt-out included).
    pub fn settings_for(&self, set: &MigrationSet, path: &Path, text: &str) -> MigrationSettings {
        let mut settings = self.config.settings(set.dialect);
        let mode = framework(set.framework).transaction_in(path, text, set.dialect);
        let opted_out = mode.opted_out_by.is_some();
        settings.wraps_in_transaction |= mode.wraps && !opted_out;
        settings.implicit_transaction = mode.implicit_batch && !opted_out;
        settings
    }

    /// Analyses every migration of every set.
    pub fn analyze(&self, sources: &dyn Sources, previous: Option<&ProjectAnalysis>) -> ProjectAnalysis {
        let mut out = ProjectAnalysis::default();
        // 1. Parse every file (reusing the previous parse of unchanged text).
        let mut parsed: FxHashMap<PathBuf, (Arc<str>, Arc<SqlFile>)> = FxHashMap::default();
        for set in &self.sets {
            for m in &set.migrations {
                for path in m.files() {
                    let Some(text) = sources.text(path) else { continue };
                    let prev = previous.and_then(|p| p.files.get(path)).map(|f| &f.analysis.file);
                    let file = match prev {
                        Some(p) if *p.text == *text && p.dialect == set.dialect => Arc::new(p.clone()),
                        _ => Arc::new(SqlFile::parse(&text, set.dialect, prev)),
                    };
                    parsed.insert(path.to_path_buf(), (text, file));
                }
            }
        }
        // 2. History findings across the sets (git, versions, ordering).
        let lookup = |path: &Path| parsed.get(path).cloned();
        let mut external: FxHashMap<PathBuf, Vec<Finding>> = FxHashMap::default();
        for (path, finding) in history::findings(&self.sets, self.git.as_ref(), &lookup) {
            external.entry(path).or_default().push(finding);
        }
        // 3. Replay each set, then run the rules of each file against the schema before it.
        for (si, set) in self.sets.iter().enumerate() {
            // Migration index → replay input index, for migrations whose up part we could read.
            let mut replayed = vec![None; set.migrations.len()];
            let mut inputs: Vec<ReplayInput> = Vec::with_capacity(set.migrations.len());
            for (mi, m) in set.migrations.iter().enumerate() {
                let Some(path) = m.up.as_deref() else { continue };
                let Some((text, file)) = parsed.get(path) else { continue };
                let up = framework(set.framework)
                    .sections(path, text)
                    .into_iter()
                    .filter(|s| s.direction == Direction::Up)
                    .map(|s| s.range)
                    .collect();
                replayed[mi] = Some(inputs.len());
                inputs.push(ReplayInput { path, file, up });
            }
            let replay = schema::replay(&inputs);
            for (mi, m) in set.migrations.iter().enumerate() {
                for path in m.files() {
                    let Some((text, file)) = parsed.get(path) else { continue };
                    let settings = self.settings_for(set, path, text);
                    // An up file (or one holding both directions) sees the schema before its
                    // migration; a separate down file sees the schema after it.
                    let schema = match (replayed[mi], m.up.as_deref() == Some(path)) {
                        (Some(i), true) => replay.before(i),
                        (Some(i), false) => replay.after(i),
                        (None, _) => replay.final_schema(),
                    };
                    let extra = external.remove(path).unwrap_or_default();
                    let analysis = engine::analyze_parsed((**file).clone(), &settings, &self.config, schema, extra);
                    out.files.insert(
                        path.to_path_buf(),
                        ProjectFile { set: si, migration: mi, analysis: Arc::new(analysis) },
                    );
                }
            }
            out.replays.push(replay);
        }
        out
    }
}
