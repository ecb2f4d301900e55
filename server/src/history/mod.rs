//! Shipped-migration history from git: which migrations are already at the shipped ref (and since
//! which commit), which were added on this branch or are still uncommitted, and the history rules
//! computed across a migration set.
//!
//! # API
//!
//! - [`GitHistory::load`]`(workspace, sets, shipped_ref)` reads the repository once: the shipped
//!   ref is `shipped_ref` (config or `--shipped-ref`), else the upstream of the default branch
//!   (`origin/HEAD`, the upstream of `main`/`master`, `origin/main`, `origin/master`), else the
//!   local `main` or `master`, else the current branch's upstream. Not a git work tree, git not
//!   installed or no such ref → `Err(`[`HistoryOff`]`)` carrying the one info message to show;
//!   nothing is printed.
//! - [`GitHistory::refresh_if_moved`] re-reads only when the ref's commit or HEAD moved (the
//!   ref side only when the ref moved); [`GitHistory::refresh_worktree`] re-reads `git status`
//!   alone, for a save or a new file.
//! - [`GitHistory::status`]`(path)` → [`MigrationStatus`] for code lenses.
//! - [`findings`]`(sets, git, files)` → `(file, Finding)` pairs for the history rules
//!   (`duplicate-migration-version` needs no git; the others need `Some(git)`). `files` gives a
//!   migration's current text and parse (open buffer or disk), `None` when the file is gone.
//!   Findings carry the rule's default severity, file-absolute byte ranges and the statement the
//!   range falls in: hand them to `engine::analyze_parsed` as `external` findings, which applies
//!   configured levels and suppressions.
//!
//! # Cost
//!
//! A load is a fixed number of git processes whatever the number of migrations: `rev-parse` for
//! the ref and HEAD, one `ls-tree` of the migration directories at the ref, one
//! `git log <ref>..HEAD` for what this branch added, one `git status`; on a branch that is behind
//! the ref, one `git merge-base` and one `ls-tree` of the merge base (files shipped after the
//! branch forked are not "removed"). No walk of the whole history: `git log -- <dir>` costs
//! (commits touching the directory) × (directory size), seconds on a 10,000-file directory.
//!
//! `findings` hashes each migration's current text as a git blob and compares it with the ref's
//! blob id; only the blobs of files that differ are read, in one `git cat-file --batch`, and kept.
//!
//! The commit that shipped a file (for messages and [`GitHistory::status`]) is looked up only
//! for the files that need it, all at once, and cached per ref: a binary search along the ref's
//! first-parent line (`git rev-list --first-parent`, once per ref) for the first commit whose
//! `<commit>:<path>` is the shipped blob — one `cat-file --batch-check` per step, about
//! log2(commits) steps. On the first-parent line, a file that arrived through a merge is
//! attributed to the merge: the moment it shipped.
//!
//! Git is only read: every command runs with optional locks off, no pager, no prompt and a
//! timeout ([`git::TIMEOUT`]).

mod git;

use std::fmt;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rustc_hash::{FxHashMap, FxHashSet};

pub use git::CommitInfo;
use git::{FirstParentLine, GitError, LogEntry, WorktreeState};

use crate::rules::{self, Finding, Rule};
use crate::sql::SqlFile;
use crate::workspace::{Migration, MigrationSet};

/// A migration's current text and parse (open buffer or disk), `None` when the file is gone.
pub type FileSource<'a> = dyn Fn(&Path) -> Option<(Arc<str>, Arc<SqlFile>)> + 'a;

/// Per file: the text last compared with the ref, and the ref's text when they differ.
type Compared = FxHashMap<String, (Arc<str>, Option<Arc<str>>)>;

/// History is off, and why: the one info message to show (once) instead of history findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryOff {
    pub message: String,
    /// Set when the cause is a configured shipped ref (`shipped_ref`, `--shipped-ref`) that names
    /// no commit: a mistake to report as an error, not a reason to check without history.
    pub unresolved_ref: Option<UnresolvedRef>,
}

/// A configured shipped ref that does not resolve, and the refs that do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnresolvedRef {
    pub name: String,
    /// Local branches, remote-tracking branches and tags, the most similar to `name` first; at
    /// most [`CANDIDATES`].
    pub candidates: Vec<String>,
}

/// How many existing refs an unresolved ref's message lists.
pub const CANDIDATES: usize = 8;

impl fmt::Display for HistoryOff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl HistoryOff {
    fn new(reason: impl fmt::Display) -> Self {
        HistoryOff {
            message: format!(
                "history checks (shipped-migration-edited, shipped-migration-removed, migration-out-of-order, \
                 conflicting-migrations) are off: {reason}"
            ),
            unresolved_ref: None,
        }
    }

    fn git(e: &GitError) -> Self {
        HistoryOff::new(e.describe())
    }
}

/// Where a migration file stands, for code lenses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationStatus {
    /// Present at the shipped ref; `commit` brought its content there (`None` when it cannot be
    /// told, e.g. in a shallow clone).
    Shipped { commit: Option<CommitInfo> },
    /// Committed on this branch (the commit that added it), not at the shipped ref yet.
    Committed { commit: CommitInfo },
    /// Added to the index but not committed.
    Uncommitted,
    /// Not known to git (a new file).
    Untracked,
}

/// A file at the shipped ref.
#[derive(Debug, Clone)]
pub(crate) struct ShippedFile {
    pub oid: String,
}

/// Where an unshipped migration file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Added by this commit of `<ref>..HEAD` (an index into the branch's commits).
    Commit(usize),
    /// Not committed: it sits on top of HEAD.
    WorkTree,
}

/// The repository's migration history as of one shipped ref and one HEAD.
pub struct GitHistory {
    root: PathBuf,
    /// Directories callers may spell paths with, and their repository-relative prefix.
    aliases: Vec<(PathBuf, String)>,
    configured_ref: Option<String>,
    ref_name: String,
    ref_commit: String,
    head_commit: Option<String>,
    /// The migration directories, repository-relative (pathspecs).
    dirs: Vec<String>,
    shipped: FxHashMap<String, ShippedFile>,
    /// Files at the ref that this branch does not have yet: shipped after it forked (not at the
    /// merge base). Their absence from the work tree is not a removal.
    unmerged: FxHashSet<String>,
    /// `<ref>..HEAD`, newest first, without their file lists.
    branch_commits: Vec<LogEntry>,
    /// Unshipped files committed on this branch → the commit that added them.
    branch_files: FxHashMap<String, usize>,
    worktree: FxHashMap<String, WorktreeState>,
    /// The ref's first-parent line and whether the clone is shallow, read on first need.
    first_parent: Mutex<Option<Arc<FirstParentLine>>>,
    /// Shipped file → the commit that brought its content to the ref (looked up on demand).
    shipped_by: Mutex<FxHashMap<String, Option<CommitInfo>>>,
    blobs: Mutex<FxHashMap<String, Arc<str>>>,
    compared: Mutex<Compared>,
}

impl fmt::Debug for GitHistory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHistory")
            .field("root", &self.root)
            .field("ref", &self.ref_name)
            .field("ref_commit", &self.ref_commit)
            .field("head", &self.head_commit)
            .field("shipped", &self.shipped.len())
            .finish()
    }
}

/// The [`CANDIDATES`] refs most like `name` (by edit distance, then name), for a ref that does
/// not resolve.
fn closest_refs(name: &str, mut refs: Vec<String>) -> Vec<String> {
    refs.sort_by_cached_key(|r| (strsim::levenshtein(name, r), r.clone()));
    refs.dedup();
    refs.truncate(CANDIDATES);
    refs
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl GitHistory {
    /// Reads the history of the migration directories of `sets` in the repository that contains
    /// `workspace`. `shipped_ref`: the configured ref, or `None` for the default.
    pub fn load(workspace: &Path, sets: &[MigrationSet], shipped_ref: Option<&str>) -> Result<GitHistory, HistoryOff> {
        let root = match git::toplevel(workspace) {
            Ok(root) => root,
            Err(GitError::Failed(why)) => {
                return Err(HistoryOff::new(format!("{} is not inside a git work tree ({why})", workspace.display())))
            }
            Err(e) => return Err(HistoryOff::git(&e)),
        };
        let aliases = aliases(&root, workspace);
        let mut history = GitHistory {
            root,
            aliases,
            configured_ref: shipped_ref.map(str::trim).filter(|r| !r.is_empty()).map(str::to_string),
            ref_name: String::new(),
            ref_commit: String::new(),
            head_commit: None,
            dirs: Vec::new(),
            shipped: FxHashMap::default(),
            unmerged: FxHashSet::default(),
            branch_commits: Vec::new(),
            branch_files: FxHashMap::default(),
            worktree: FxHashMap::default(),
            first_parent: Mutex::new(None),
            shipped_by: Mutex::new(FxHashMap::default()),
            blobs: Mutex::new(FxHashMap::default()),
            compared: Mutex::new(FxHashMap::default()),
        };
        let mut dirs: Vec<String> = sets
            .iter()
            .filter_map(|s| history.rel(&s.dir))
            .map(|d| if d.is_empty() { ".".to_string() } else { d })
            .collect();
        dirs.sort();
        dirs.dedup();
        history.dirs = dirs;
        let (name, commit) = history.resolve_ref()?;
        history.ref_name = name;
        history.ref_commit = commit;
        history.head_commit = git::resolve_commit(&history.root, "HEAD").map_err(|e| HistoryOff::git(&e))?;
        history.read_ref_side()?;
        history.read_branch_side()?;
        Ok(history)
    }

    /// Whether the shipped ref or HEAD points at another commit than at the last read (two
    /// `rev-parse`s; nothing is re-read). For holders that share the history read-only and
    /// rebuild it when it moved.
    pub fn moved(&self) -> bool {
        let ref_now = git::resolve_commit(&self.root, &self.ref_name).ok().flatten();
        let head_now = git::resolve_commit(&self.root, "HEAD").ok().flatten();
        ref_now.as_ref() != Some(&self.ref_commit) || head_now != self.head_commit
    }

    /// Re-reads the history when the shipped ref or HEAD points at another commit than at the
    /// last read; `Ok(true)` when it did. The ref side (tree listing, shipping commits) is
    /// re-read only when the ref moved. `Err`: history is off now (the ref is gone, git failed);
    /// drop this value and show the message.
    pub fn refresh_if_moved(&mut self) -> Result<bool, HistoryOff> {
        let current = match git::resolve_commit(&self.root, &self.ref_name).map_err(|e| HistoryOff::git(&e))? {
            Some(commit) => (self.ref_name.clone(), commit),
            None => self.resolve_ref()?,
        };
        let head = git::resolve_commit(&self.root, "HEAD").map_err(|e| HistoryOff::git(&e))?;
        let ref_moved = current.0 != self.ref_name || current.1 != self.ref_commit;
        if !ref_moved && head == self.head_commit {
            return Ok(false);
        }
        (self.ref_name, self.ref_commit) = current;
        self.head_commit = head;
        if ref_moved {
            self.read_ref_side()?;
        }
        self.read_branch_side()?;
        Ok(true)
    }

    /// Re-reads `git status` of the migration directories (a file was saved, created or staged).
    pub fn refresh_worktree(&mut self) -> Result<(), HistoryOff> {
        self.worktree = git::status(&self.root, &self.dirs).map_err(|e| HistoryOff::git(&e))?;
        Ok(())
    }

    /// The shipped ref as it is shown in messages (`origin/main`).
    pub fn shipped_ref(&self) -> &str {
        &self.ref_name
    }

    /// The top-level directory of the work tree.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a migration file stands: shipped, committed on this branch, staged or untracked.
    /// The first call for a shipped file looks up its shipping commit (a few milliseconds).
    pub fn status(&self, path: &Path) -> MigrationStatus {
        let Some(rel) = self.rel(path) else { return MigrationStatus::Untracked };
        if self.shipped.contains_key(&rel) {
            return MigrationStatus::Shipped { commit: self.shipped_commits(&[path]).pop().flatten() };
        }
        if let Some(&i) = self.branch_files.get(&rel) {
            return MigrationStatus::Committed { commit: self.branch_commits[i].info.clone() };
        }
        match self.worktree.get(&rel) {
            Some(WorktreeState::Added | WorktreeState::Modified | WorktreeState::Deleted) => {
                MigrationStatus::Uncommitted
            }
            Some(WorktreeState::Untracked) | None => MigrationStatus::Untracked,
        }
    }

    fn resolve_ref(&self) -> Result<(String, String), HistoryOff> {
        let root = &self.root;
        let err = |e: GitError| HistoryOff::git(&e);
        if let Some(name) = &self.configured_ref {
            if let Some(commit) = git::resolve_commit(root, name).map_err(err)? {
                return Ok((name.clone(), commit));
            }
            let candidates = closest_refs(name, git::ref_names(root).map_err(err)?);
            let listed = if candidates.is_empty() {
                "the repository has no branches or tags".to_string()
            } else {
                format!("refs that exist: {}", candidates.join(", "))
            };
            let mut off = HistoryOff::new(format!(
                "the shipped ref `{name}` names no commit in this repository ({listed}); fetch it, or fix \
                 `shipped_ref` (safemig.toml) / `--shipped-ref`"
            ));
            off.unresolved_ref = Some(UnresolvedRef { name: name.clone(), candidates });
            return Err(off);
        }
        // The upstream of the default branch first: what has been merged there has shipped.
        for upstream in ["origin/HEAD", "main@{upstream}", "master@{upstream}"] {
            if let Some(name) = git::abbrev_name(root, upstream).map_err(err)? {
                if let Some(commit) = git::resolve_commit(root, &name).map_err(err)? {
                    return Ok((name, commit));
                }
            }
        }
        for name in ["origin/main", "origin/master", "main", "master"] {
            if let Some(commit) = git::resolve_commit(root, name).map_err(err)? {
                return Ok((name.to_string(), commit));
            }
        }
        // Last resort: the current branch's upstream (on a pushed feature branch this counts the
        // branch's own pushed commits as shipped, so it comes after every default-branch name).
        if let Some(name) = git::abbrev_name(root, "@{upstream}").map_err(err)? {
            if let Some(commit) = git::resolve_commit(root, &name).map_err(err)? {
                return Ok((name, commit));
            }
        }
        Err(HistoryOff::new(
            "no shipped ref found (no origin/HEAD, no upstream of main or master, no main or master branch); set \
             `shipped_ref` in safemig.toml or pass --shipped-ref",
        ))
    }

    /// The migration files at the ref.
    fn read_ref_side(&mut self) -> Result<(), HistoryOff> {
        let entries = git::ls_tree(&self.root, &self.ref_commit, &self.dirs).map_err(|e| HistoryOff::git(&e))?;
        self.shipped = entries.into_iter().map(|e| (e.path, ShippedFile { oid: e.oid })).collect();
        lock(&self.compared).clear();
        lock(&self.shipped_by).clear();
        *lock(&self.first_parent) = None;
        Ok(())
    }

    /// The commits of `<ref>..HEAD`, which of them added each unshipped migration file, which
    /// shipped files the branch does not have yet, and `git status`.
    fn read_branch_side(&mut self) -> Result<(), HistoryOff> {
        let err = |e: GitError| HistoryOff::git(&e);
        self.branch_commits.clear();
        self.branch_files.clear();
        self.unmerged.clear();
        let base = match self.head_commit.as_deref() {
            Some(head) if head == self.ref_commit => Some(head.to_string()),
            Some(head) => git::merge_base(&self.root, &self.ref_commit, head).map_err(err)?,
            None => None,
        };
        if base.as_deref() != Some(self.ref_commit.as_str()) {
            let at_base: FxHashSet<String> = match &base {
                Some(b) => git::ls_tree(&self.root, b, &self.dirs).map_err(err)?.into_iter().map(|e| e.path).collect(),
                None => FxHashSet::default(),
            };
            self.unmerged = self.shipped.keys().filter(|p| !at_base.contains(*p)).cloned().collect();
        }
        if let Some(head) = self.head_commit.as_deref().filter(|h| *h != self.ref_commit) {
            let range = format!("{}..{head}", self.ref_commit);
            // No pathspec: with one, git would simplify the graph and hide the ancestry between
            // commits that `conflicting-migrations` needs. `<ref>..HEAD` is a branch, not history.
            let log = git::log(&self.root, &[range.as_str()]).map_err(err)?;
            for (i, entry) in log.iter().enumerate() {
                for file in &entry.files {
                    if !self.shipped.contains_key(file) && self.under_dirs(file) {
                        // Newest first: the last commit seen is the one that added the file.
                        self.branch_files.insert(file.clone(), i);
                    }
                }
            }
            self.branch_commits = log.into_iter().map(|e| LogEntry { files: Vec::new(), ..e }).collect();
        }
        self.worktree = git::status(&self.root, &self.dirs).map_err(err)?;
        Ok(())
    }

    fn under_dirs(&self, path: &str) -> bool {
        self.dirs.iter().any(|d| d == "." || path.strip_prefix(d.as_str()).is_some_and(|rest| rest.starts_with('/')))
    }

    /// `path` relative to the repository root, `/`-separated.
    pub(crate) fn rel(&self, path: &Path) -> Option<String> {
        let joined;
        let path = if path.is_relative() {
            joined = self.aliases.last().map(|(ws, _)| ws.join(path))?;
            &joined
        } else {
            path
        };
        self.aliases.iter().find_map(|(base, prefix)| {
            let rest = path.strip_prefix(base).ok()?;
            let mut parts: Vec<String> = if prefix.is_empty() { Vec::new() } else { vec![prefix.clone()] };
            for c in rest.components() {
                match c {
                    Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
                    Component::CurDir => {}
                    _ => return None,
                }
            }
            Some(parts.join("/"))
        })
    }

    /// The file at the shipped ref, if `path` is there.
    pub(crate) fn shipped_file(&self, path: &Path) -> Option<&ShippedFile> {
        self.shipped.get(&self.rel(path)?)
    }

    /// The commit that brought each file's content to the shipped ref (`None` for a file not
    /// there, or when it cannot be told). Looked up together for all files not cached yet.
    pub(crate) fn shipped_commits(&self, paths: &[&Path]) -> Vec<Option<CommitInfo>> {
        let rels: Vec<Option<String>> = paths.iter().map(|p| self.rel(p)).collect();
        let mut cache = lock(&self.shipped_by);
        let mut todo: Vec<(&str, &str)> = rels
            .iter()
            .flatten()
            .filter(|r| !cache.contains_key(r.as_str()) && !r.contains('\n'))
            .filter_map(|r| self.shipped.get(r).map(|f| (r.as_str(), f.oid.as_str())))
            .collect();
        todo.sort_unstable();
        todo.dedup();
        if !todo.is_empty() {
            let found = self.find_shipping_commits(&todo);
            for ((rel, _), commit) in todo.iter().zip(found) {
                cache.insert(rel.to_string(), commit);
            }
        }
        rels.iter().map(|r| r.as_ref().and_then(|r| cache.get(r).cloned().flatten())).collect()
    }

    /// Binary search along the ref's first-parent line, all files in step: the oldest commit
    /// whose `<commit>:<path>` is still the shipped blob (migrations are added once and rarely
    /// changed, so "has this content" holds from that commit up to the ref).
    fn find_shipping_commits(&self, todo: &[(&str, &str)]) -> Vec<Option<CommitInfo>> {
        let none = || vec![None; todo.len()];
        let line = {
            let mut cached = lock(&self.first_parent);
            match cached.as_ref() {
                Some(line) => Arc::clone(line),
                None => match git::first_parent_line(&self.root, &self.ref_commit) {
                    Ok(line) => Arc::clone(cached.insert(Arc::new(line))),
                    Err(_) => return none(),
                },
            }
        };
        let (commits, shallow) = (&line.commits, line.shallow);
        if commits.is_empty() {
            return none();
        }
        // commits[lo] has the blob; commits[hi..] are taken not to.
        let mut lo = vec![0usize; todo.len()];
        let mut hi = vec![commits.len(); todo.len()];
        loop {
            let active: Vec<usize> = (0..todo.len()).filter(|&k| hi[k] - lo[k] > 1).collect();
            if active.is_empty() {
                break;
            }
            let names: Vec<String> =
                active.iter().map(|&k| format!("{}:{}", commits[(lo[k] + hi[k]) / 2], todo[k].0)).collect();
            let Ok(ids) = git::object_ids(&self.root, &names) else { return none() };
            for (&k, id) in active.iter().zip(ids) {
                let mid = (lo[k] + hi[k]) / 2;
                if id.as_deref() == Some(todo[k].1) {
                    lo[k] = mid;
                } else {
                    hi[k] = mid;
                }
            }
        }
        // In a shallow clone the oldest commit is a cut: the file may be older than it.
        let known = |i: usize| !(shallow && i + 1 == commits.len());
        let mut wanted: Vec<&str> = lo.iter().filter(|&&i| known(i)).map(|&i| commits[i].as_str()).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let Ok(infos) = git::commit_infos(&self.root, &wanted) else { return none() };
        lo.iter().map(|&i| if known(i) { infos.get(&commits[i]).cloned() } else { None }).collect()
    }

    /// The file's text at HEAD (the last commit), `None` when it is not committed or git fails.
    /// Read on demand, for a quick fix (the text a dev database applied, when its checksum says
    /// so); the blob is cached.
    pub(crate) fn head_text(&self, path: &Path) -> Option<Arc<str>> {
        let rel = self.rel(path)?;
        let oid = git::object_ids(&self.root, &[format!("HEAD:{rel}")]).ok()?.pop()??;
        let mut blobs = lock(&self.blobs);
        if let Some(text) = blobs.get(&oid) {
            return Some(Arc::clone(text));
        }
        let text: Arc<str> = Arc::from(git::cat_blobs(&self.root, std::slice::from_ref(&oid)).ok()?.remove(&oid)?);
        blobs.insert(oid, Arc::clone(&text));
        Some(text)
    }

    /// Whether any file of the migration is at the shipped ref.
    pub(crate) fn is_shipped(&self, migration: &Migration) -> bool {
        migration.files().any(|f| self.shipped_file(f).is_some())
    }

    /// The files at the ref under `dir`, as (path relative to `dir`, file, whether this branch
    /// has it: `false` when it shipped after the branch forked).
    pub(crate) fn shipped_under(&self, dir: &Path) -> Vec<(String, &ShippedFile, bool)> {
        let Some(rel_dir) = self.rel(dir) else { return Vec::new() };
        let mut found: Vec<(String, &ShippedFile, bool)> = self
            .shipped
            .iter()
            .filter_map(|(p, f)| {
                let rest =
                    if rel_dir.is_empty() { Some(p.as_str()) } else { p.strip_prefix(&rel_dir)?.strip_prefix('/') };
                rest.map(|r| (r.to_string(), f, !self.unmerged.contains(p)))
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found
    }

    /// Where an unshipped file came from: the branch commit that added it, or the work tree.
    pub(crate) fn origin(&self, path: &Path) -> Origin {
        match self.rel(path).and_then(|r| self.branch_files.get(&r).copied()) {
            Some(i) => Origin::Commit(i),
            None => Origin::WorkTree,
        }
    }

    pub(crate) fn commit(&self, index: usize) -> &CommitInfo {
        &self.branch_commits[index].info
    }

    /// Whether branch commit `a` is an ancestor of branch commit `b` (walking `<ref>..HEAD` only).
    pub(crate) fn is_ancestor(&self, a: usize, b: usize) -> bool {
        if a == b {
            return true;
        }
        let index: FxHashMap<&str, usize> =
            self.branch_commits.iter().enumerate().map(|(i, c)| (c.full.as_str(), i)).collect();
        let mut seen = FxHashSet::default();
        let mut stack = vec![b];
        while let Some(c) = stack.pop() {
            for p in &self.branch_commits[c].parents {
                let Some(&pi) = index.get(p.as_str()) else { continue };
                if pi == a {
                    return true;
                }
                if seen.insert(pi) {
                    stack.push(pi);
                }
            }
        }
        false
    }

    /// For each `(path, current text)`: the text at the shipped ref when the file is there and its
    /// content differs (line endings aside), else `None`. Blobs are read in one `cat-file`.
    pub(crate) fn shipped_text_if_changed(&self, files: &[(&Path, &Arc<str>)]) -> Vec<Option<Arc<str>>> {
        let mut compared = lock(&self.compared);
        let mut verdicts: Vec<Option<Option<Arc<str>>>> = Vec::with_capacity(files.len());
        let mut wanted: Vec<(usize, String, String)> = Vec::new();
        for (i, (path, text)) in files.iter().enumerate() {
            let Some(rel) = self.rel(path) else {
                verdicts.push(Some(None));
                continue;
            };
            let Some(shipped) = self.shipped.get(&rel) else {
                verdicts.push(Some(None));
                continue;
            };
            if let Some((seen, verdict)) = compared.get(&rel) {
                if Arc::ptr_eq(seen, text) || **seen == ***text {
                    verdicts.push(Some(verdict.clone()));
                    continue;
                }
            }
            // SHA-1 ids can be computed here; other object formats are compared by content.
            if shipped.oid.len() == 40 && git::blob_id(text.as_bytes()) == shipped.oid {
                compared.insert(rel, (Arc::clone(text), None));
                verdicts.push(Some(None));
                continue;
            }
            verdicts.push(None);
            wanted.push((i, rel, shipped.oid.clone()));
        }
        if !wanted.is_empty() {
            let mut blobs = lock(&self.blobs);
            let missing: Vec<String> = {
                let mut m: Vec<String> =
                    wanted.iter().filter(|(_, _, oid)| !blobs.contains_key(oid)).map(|w| w.2.clone()).collect();
                m.sort();
                m.dedup();
                m
            };
            // A failed read leaves the verdict open: no finding rather than a false one.
            if let Ok(read) = git::cat_blobs(&self.root, &missing) {
                blobs.extend(read.into_iter().map(|(oid, text)| (oid, Arc::from(text))));
            }
            for (i, rel, oid) in wanted {
                let Some(old) = blobs.get(&oid) else {
                    verdicts[i] = Some(None);
                    continue;
                };
                let text = files[i].1;
                let verdict = (!same_ignoring_line_endings(old, text)).then(|| Arc::clone(old));
                compared.insert(rel, (Arc::clone(text), verdict.clone()));
                verdicts[i] = Some(verdict);
            }
        }
        verdicts.into_iter().map(Option::flatten).collect()
    }
}

/// Whether a file is in the work tree, for a file `files` has no text for (one the runner skips
/// is not a migration of the set, but it is not gone either).
pub(crate) fn in_work_tree(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

/// The id git gives a blob with this content (SHA-1 repositories).
pub(crate) fn blob_id_of(text: &str) -> String {
    git::blob_id(text.as_bytes())
}

/// The directories callers may spell paths with: the work-tree root, and the workspace as given
/// and canonicalised (with its prefix inside the work tree). The workspace as given is last: it
/// resolves relative paths.
fn aliases(root: &Path, workspace: &Path) -> Vec<(PathBuf, String)> {
    let mut out = vec![(root.to_path_buf(), String::new())];
    if let Ok(canon) = root.canonicalize() {
        if canon != root {
            out.push((canon, String::new()));
        }
    }
    let canon_ws = workspace.canonicalize().unwrap_or_else(|_| workspace.to_path_buf());
    let canon_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    if let Ok(rest) = canon_ws.strip_prefix(&canon_root) {
        let prefix = rest
            .components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("/");
        if canon_ws != workspace {
            out.push((canon_ws, prefix.clone()));
        }
        out.push((workspace.to_path_buf(), prefix));
    }
    out
}

fn same_ignoring_line_endings(a: &str, b: &str) -> bool {
    a == b || a.lines().eq(b.lines()) && a.ends_with('\n') == b.ends_with('\n')
}

/// The history findings for `sets`; see the module docs.
pub fn findings(sets: &[MigrationSet], git: Option<&GitHistory>, files: &FileSource<'_>) -> Vec<(PathBuf, Finding)> {
    let mut out = Vec::new();
    rules::duplicate_migration_version::findings(sets, git, files, &mut out);
    if let Some(git) = git {
        rules::shipped_migration_edited::findings(sets, git, files, &mut out);
        rules::shipped_migration_removed::findings(sets, git, files, &mut out);
        rules::migration_out_of_order::findings(sets, git, files, &mut out);
        rules::conflicting_migrations::findings(sets, git, files, &mut out);
    }
    out
}

/// The index of the statement a file-absolute offset belongs to: the statement that contains it,
/// else the next one (a comment line before a statement is where its suppression goes), else
/// the last.
pub(crate) fn statement_at(file: &SqlFile, offset: usize) -> usize {
    let i = file.statements.partition_point(|s| s.range.end <= offset);
    i.min(file.statements.len().saturating_sub(1))
}

/// A finding of `rule` at `range` of `file`, at the rule's default severity.
pub(crate) fn finding(rule: &Rule, file: &SqlFile, range: Range<usize>, message: String, fix: Option<&str>) -> Finding {
    Finding {
        rule: rule.id,
        severity: rule.default_severity,
        statement: statement_at(file, range.start),
        range,
        message,
        fix: fix.map(|title| rules::FixHint { title: title.into() }),
    }
}

/// Where a finding about a whole migration goes: the first line of its first statement (or of
/// the file), so it shows in the editor and in CI output, and a suppression above the first
/// statement (or `ignore-file`) silences it.
pub(crate) fn file_anchor(file: &SqlFile) -> Range<usize> {
    let text: &str = &file.text;
    let start = file.statements.iter().map(|s| s.range.start).find(|&s| s < text.len()).unwrap_or(0);
    let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
    let end = if text[start..end].ends_with('\r') { end - 1 } else { end };
    start..end
}

/// The file a finding about a whole migration is reported on: its up file, else its down file.
pub(crate) fn main_file(migration: &Migration) -> Option<&Path> {
    migration.up.as_deref().or(migration.down.as_deref())
}

/// A migration file's name as people know it: relative to the set directory.
pub(crate) fn display_name(set: &MigrationSet, path: &Path) -> String {
    let rest = path.strip_prefix(&set.dir).unwrap_or(path);
    rest.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// "commit abc1234, 2026-03-02" or nothing.
pub(crate) fn commit_clause(commit: Option<&CommitInfo>) -> String {
    match commit {
        Some(c) => format!(" (commit {}, {})", c.hash, c.date),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_can_be_shared_across_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<GitHistory>();
    }

    #[test]
    fn statements_and_anchors() {
        let file =
            SqlFile::parse("-- note\nCREATE TABLE a (id int);\n\nDROP TABLE b;\n", crate::sql::Dialect::Postgres, None);
        assert_eq!(statement_at(&file, 0), 0);
        assert_eq!(statement_at(&file, 31), 0);
        assert_eq!(statement_at(&file, 33), 1);
        assert_eq!(statement_at(&file, 1000), 1);
        assert_eq!(&file.text[file_anchor(&file)], "CREATE TABLE a (id int);");
        assert!(same_ignoring_line_endings("a\r\nb\r\n", "a\nb\n"));
        assert!(!same_ignoring_line_endings("a\nb", "a\nb\n"));
    }
}
