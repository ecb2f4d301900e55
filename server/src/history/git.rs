//! The `git` command line, read-only: each call is one process with a timeout, optional locks off,
//! no pager, no prompts, and paths printed verbatim (`core.quotepath=off`, `-z` output).
//!
//! Everything here parses plumbing output; nothing here knows about migrations.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use rustc_hash::FxHashMap;

/// How long one git command may take before it is killed.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(30);

/// Why a git command gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GitError {
    /// The `git` program could not be started.
    NotInstalled(String),
    /// It ran and failed; the first line of its stderr.
    Failed(String),
    /// It ran longer than [`TIMEOUT`] and was killed.
    TimedOut(String),
}

impl GitError {
    pub(crate) fn describe(&self) -> String {
        match self {
            GitError::NotInstalled(e) => format!("`git` could not be run ({e})"),
            GitError::Failed(e) => format!("git failed: {e}"),
            GitError::TimedOut(cmd) => format!("`git {cmd}` took longer than {} s", TIMEOUT.as_secs()),
        }
    }
}

/// Runs `git -C dir <args>` and returns its stdout; `input` is written to its stdin.
pub(crate) fn run(dir: &Path, args: &[&str], input: Option<Vec<u8>>) -> Result<Vec<u8>, GitError> {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args([
            "--no-pager",
            "--literal-pathspecs",
            "-c",
            "core.quotepath=off",
            "-c",
            "color.ui=false",
            "-c",
            "log.showSignature=false",
        ])
        .args(args)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_PAGER", "cat")
        .env("LC_ALL", "C")
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| GitError::NotInstalled(e.to_string()))?;
    let label = args.iter().take(2).copied().collect::<Vec<_>>().join(" ");

    // Feed stdin and drain stdout/stderr on threads, so a large answer never blocks the writer.
    let writer = match (input, child.stdin.take()) {
        (Some(bytes), Some(mut stdin)) => Some(thread::spawn(move || {
            let _ = stdin.write_all(&bytes);
        })),
        _ => None,
    };
    let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(GitError::Failed("no pipes to git".into()));
    };
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = Vec::new();
        let res = stdout.read_to_end(&mut buf).map(|_| buf);
        let _ = tx.send(res);
    });
    let out = match rx.recv_timeout(TIMEOUT) {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(GitError::Failed(format!("reading `git {label}`: {e}")));
        }
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(GitError::TimedOut(label));
        }
    };
    let status = child.wait().map_err(|e| GitError::Failed(e.to_string()))?;
    if let Some(w) = writer {
        let _ = w.join();
    }
    let err = err_reader.join().unwrap_or_default();
    if status.success() {
        Ok(out)
    } else {
        let text = String::from_utf8_lossy(&err);
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
        Err(GitError::Failed(if first.is_empty() {
            format!("`git {label}` exited with {status}")
        } else {
            first.into()
        }))
    }
}

/// One line of output, trimmed, as text.
pub(crate) fn line(out: &[u8]) -> String {
    String::from_utf8_lossy(out).trim().to_string()
}

/// The top-level directory of the work tree that contains `dir`.
pub(crate) fn toplevel(dir: &Path) -> Result<PathBuf, GitError> {
    let out = run(dir, &["rev-parse", "--show-toplevel"], None)?;
    let top = line(&out);
    if top.is_empty() {
        return Err(GitError::Failed("not inside a work tree".into()));
    }
    Ok(PathBuf::from(top))
}

/// The commit `rev` names, or `None` when it names none.
pub(crate) fn resolve_commit(dir: &Path, rev: &str) -> Result<Option<String>, GitError> {
    if rev.starts_with('-') {
        return Ok(None);
    }
    let spec = format!("{rev}^{{commit}}");
    match run(dir, &["rev-parse", "--verify", "--quiet", &spec], None) {
        Ok(out) => {
            let hash = line(&out);
            Ok((!hash.is_empty()).then_some(hash))
        }
        Err(GitError::Failed(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `rev` as a short symbolic name (`origin/HEAD` → `origin/main`, `main@{upstream}` →
/// `origin/main`), or `None`.
pub(crate) fn abbrev_name(dir: &Path, rev: &str) -> Result<Option<String>, GitError> {
    if rev.starts_with('-') {
        return Ok(None);
    }
    match run(dir, &["rev-parse", "--abbrev-ref", "--verify", "--quiet", rev], None) {
        Ok(out) => {
            let name = line(&out);
            Ok((!name.is_empty() && name != "HEAD").then_some(name))
        }
        Err(GitError::Failed(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The short names of the local branches, remote-tracking branches and tags (not the symbolic
/// `origin/HEAD`).
pub(crate) fn ref_names(dir: &Path) -> Result<Vec<String>, GitError> {
    let out = run(
        dir,
        &["for-each-ref", "--format=%(refname:short)%00%(symref)", "refs/heads", "refs/remotes", "refs/tags"],
        None,
    )?;
    Ok(String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| {
            let (name, symref) = l.split_once('\0').unwrap_or((l, ""));
            (symref.is_empty() && !name.is_empty()).then(|| name.to_string())
        })
        .collect())
}

/// The best common ancestor of two commits; `None` for unrelated histories.
pub(crate) fn merge_base(dir: &Path, a: &str, b: &str) -> Result<Option<String>, GitError> {
    match run(dir, &["merge-base", a, b], None) {
        Ok(out) => {
            let hash = line(&out);
            Ok((!hash.is_empty()).then_some(hash))
        }
        Err(GitError::Failed(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A blob in a tree listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TreeEntry {
    /// Relative to the repository root, `/`-separated.
    pub path: String,
    pub oid: String,
}

/// `git ls-tree -r -z --full-tree <commit> -- <dirs>`: every blob under `dirs` at `commit`.
pub(crate) fn ls_tree(dir: &Path, commit: &str, dirs: &[String]) -> Result<Vec<TreeEntry>, GitError> {
    if dirs.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = vec!["ls-tree", "-r", "-z", "--full-tree", commit, "--"];
    args.extend(dirs.iter().map(String::as_str));
    let out = run(dir, &args, None)?;
    Ok(parse_ls_tree(&out))
}

fn parse_ls_tree(out: &[u8]) -> Vec<TreeEntry> {
    let mut entries = Vec::new();
    for record in out.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        // `<mode> SP <type> SP <oid> TAB <path>`
        let Some(tab) = record.iter().position(|&b| b == b'\t') else { continue };
        let meta = String::from_utf8_lossy(&record[..tab]);
        let mut parts = meta.split(' ');
        let (_mode, kind, oid) = (parts.next(), parts.next(), parts.next());
        if kind != Some("blob") {
            continue;
        }
        let Some(oid) = oid else { continue };
        entries
            .push(TreeEntry { path: String::from_utf8_lossy(&record[tab + 1..]).into_owned(), oid: oid.to_string() });
    }
    entries
}

/// A commit as people see it in messages.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CommitInfo {
    /// Abbreviated hash (`abc1234`).
    pub hash: String,
    /// Committer date, `YYYY-MM-DD`.
    pub date: String,
}

/// One commit of a `git log` walk with the files it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogEntry {
    pub full: String,
    pub info: CommitInfo,
    pub parents: Vec<String>,
    pub files: Vec<String>,
}

/// `git log` over `range` (revision arguments built from commit hashes) with the files each
/// commit changed. Newest first.
pub(crate) fn log(dir: &Path, range: &[&str]) -> Result<Vec<LogEntry>, GitError> {
    let mut args =
        vec!["log", "-z", "--no-renames", "--date=short", "--format=%x01%H%x00%h%x00%cd%x00%P", "--name-only"];
    args.extend_from_slice(range);
    args.push("--");
    let out = run(dir, &args, None)?;
    Ok(parse_log(&out))
}

fn parse_log(out: &[u8]) -> Vec<LogEntry> {
    let mut entries = Vec::new();
    for record in out.split(|&b| b == 1).filter(|r| !r.is_empty()) {
        let mut fields = record.split(|&b| b == 0);
        let (Some(full), Some(short), Some(date), Some(parents)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let files = fields.map(|f| f.strip_prefix(b"\n").unwrap_or(f)).filter(|f| !f.is_empty()).map(text).collect();
        entries.push(LogEntry {
            full: text(full),
            info: CommitInfo { hash: text(short), date: text(date) },
            parents: text(parents).split_whitespace().map(str::to_string).collect(),
            files,
        });
    }
    entries
}

/// The commits on the first-parent line of `commit` (the line a branch's own history runs
/// along, merges included), newest first, and whether the repository is shallow (the oldest one
/// is then a cut, not a root).
pub(crate) fn first_parent_line(dir: &Path, commit: &str) -> Result<FirstParentLine, GitError> {
    let out = run(dir, &["rev-list", "--first-parent", commit], None)?;
    let commits = String::from_utf8_lossy(&out).split_whitespace().map(str::to_string).collect();
    let shallow = run(dir, &["rev-parse", "--is-shallow-repository"], None).map(|o| line(&o) == "true")?;
    Ok(FirstParentLine { commits, shallow })
}

/// See [`first_parent_line`].
#[derive(Debug)]
pub(crate) struct FirstParentLine {
    pub commits: Vec<String>,
    pub shallow: bool,
}

/// `git cat-file --batch-check` for `<rev>:<path>` names: the object id each resolves to, in
/// order (`None` for a missing one). One process for all.
pub(crate) fn object_ids(dir: &Path, names: &[String]) -> Result<Vec<Option<String>>, GitError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut input = Vec::new();
    for name in names {
        input.extend_from_slice(name.as_bytes());
        input.push(b'\n');
    }
    let out = run(dir, &["cat-file", "--batch-check=%(objectname)"], Some(input))?;
    let text = String::from_utf8_lossy(&out);
    let mut ids: Vec<Option<String>> = text
        .lines()
        .map(|l| {
            let l = l.trim();
            (!l.ends_with(" missing") && !l.ends_with(" ambiguous") && !l.contains(' ')).then(|| l.to_string())
        })
        .collect();
    ids.resize(names.len(), None);
    Ok(ids)
}

/// Abbreviated hash and date of each commit, in one `git log --no-walk`.
pub(crate) fn commit_infos(dir: &Path, commits: &[&str]) -> Result<FxHashMap<String, CommitInfo>, GitError> {
    if commits.is_empty() {
        return Ok(FxHashMap::default());
    }
    let mut args = vec!["log", "--no-walk=unsorted", "--date=short", "--format=%H%x00%h%x00%cd"];
    args.extend_from_slice(commits);
    args.push("--");
    let out = run(dir, &args, None)?;
    Ok(String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| {
            let mut parts = l.split('\0');
            let (full, hash, date) = (parts.next()?, parts.next()?, parts.next()?);
            Some((full.to_string(), CommitInfo { hash: hash.to_string(), date: date.to_string() }))
        })
        .collect())
}

/// A path's state in the work tree and index relative to HEAD (`git status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WorktreeState {
    /// Not known to git.
    Untracked,
    /// Added to the index, not committed.
    Added,
    /// Tracked and changed (in the index or the work tree).
    Modified,
    /// Tracked and deleted.
    Deleted,
}

/// `git status --porcelain -z` for `dirs`.
pub(crate) fn status(dir: &Path, dirs: &[String]) -> Result<FxHashMap<String, WorktreeState>, GitError> {
    if dirs.is_empty() {
        return Ok(FxHashMap::default());
    }
    let mut args =
        vec!["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", "--ignore-submodules", "--"];
    args.extend(dirs.iter().map(String::as_str));
    let out = run(dir, &args, None)?;
    Ok(parse_status(&out))
}

fn parse_status(out: &[u8]) -> FxHashMap<String, WorktreeState> {
    let mut map = FxHashMap::default();
    for record in out.split(|&b| b == 0) {
        if record.len() < 4 {
            continue;
        }
        let (x, y) = (record[0], record[1]);
        let path = String::from_utf8_lossy(&record[3..]).into_owned();
        let state = match (x, y) {
            (b'?', b'?') => WorktreeState::Untracked,
            (b'!', b'!') => continue,
            (b'D', _) | (_, b'D') => WorktreeState::Deleted,
            (b'A', _) => WorktreeState::Added,
            _ => WorktreeState::Modified,
        };
        map.insert(path, state);
    }
    map
}

/// `git cat-file --batch` for `oids`, one process: each blob's content (lossy UTF-8).
pub(crate) fn cat_blobs(dir: &Path, oids: &[String]) -> Result<FxHashMap<String, String>, GitError> {
    if oids.is_empty() {
        return Ok(FxHashMap::default());
    }
    let mut input = Vec::with_capacity(oids.len() * 41);
    for oid in oids {
        input.extend_from_slice(oid.as_bytes());
        input.push(b'\n');
    }
    let out = run(dir, &["cat-file", "--batch"], Some(input))?;
    Ok(parse_cat_file(&out))
}

/// `<oid> SP <type> SP <size> LF <content> LF`, or `<oid> SP missing LF`, per requested object.
fn parse_cat_file(out: &[u8]) -> FxHashMap<String, String> {
    let mut found = FxHashMap::default();
    let mut rest = out;
    while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
        let header = String::from_utf8_lossy(&rest[..nl]).into_owned();
        rest = &rest[nl + 1..];
        let mut parts = header.split(' ');
        let (Some(oid), Some(kind), Some(size)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let Ok(size) = size.parse::<usize>() else { continue };
        let Some(content) = rest.get(..size) else { break };
        if kind == "blob" {
            found.insert(oid.to_string(), String::from_utf8_lossy(content).into_owned());
        }
        rest = rest.get(size + 1..).unwrap_or(&[]);
    }
    found
}

/// The id git gives a blob with these bytes (SHA-1 repositories): `sha1("blob <len>\0" + bytes)`.
pub(crate) fn blob_id(bytes: &[u8]) -> String {
    let mut h = sha1_smol::Sha1::new();
    h.update(format!("blob {}\0", bytes.len()).as_bytes());
    h.update(bytes);
    h.digest().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_match_git() {
        // `printf 'a\n' | git hash-object --stdin`
        assert_eq!(blob_id(b"a\n"), "78981922613b2afb6025042ff6bd878ac1994e85");
        assert_eq!(blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    }

    #[test]
    fn log_records_with_and_without_files() {
        let out = b"\x01aaaa\0aa\x002026-01-02\0pp qq\0\nm/3.sql\0m/4.sql\0\x01bbbb\0bb\x002026-01-01\0\0";
        let log = parse_log(out);
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].files, ["m/3.sql", "m/4.sql"]);
        assert_eq!(log[0].parents, ["pp", "qq"]);
        assert_eq!(log[0].info, CommitInfo { hash: "aa".into(), date: "2026-01-02".into() });
        assert!(log[1].files.is_empty());
    }

    #[test]
    fn status_and_tree_records() {
        let st = parse_status(b"?? m/new.sql\0A  m/staged.sql\0 M m/1.sql\0 D m/2.sql\0");
        assert_eq!(st["m/new.sql"], WorktreeState::Untracked);
        assert_eq!(st["m/staged.sql"], WorktreeState::Added);
        assert_eq!(st["m/1.sql"], WorktreeState::Modified);
        assert_eq!(st["m/2.sql"], WorktreeState::Deleted);
        let tree = parse_ls_tree(b"100644 blob abc\tm/a b.sql\x00040000 tree def\tm/x\x00");
        assert_eq!(tree, [TreeEntry { path: "m/a b.sql".into(), oid: "abc".into() }]);
    }

    #[test]
    fn cat_file_batch_output() {
        let map = parse_cat_file(b"o1 blob 3\nabc\no2 missing\no3 blob 0\n\n");
        assert_eq!(map["o1"], "abc");
        assert_eq!(map["o3"], "");
        assert!(!map.contains_key("o2"));
    }
}
