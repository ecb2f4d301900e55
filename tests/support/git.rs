//! A git work tree with a bare `origin` next to it, for tests of what shipped: `origin/main` is
//! the shipped ref. Shared by the fix pipeline tests and the fix property test.

#![allow(dead_code)] // Each test binary uses the part it needs.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs git in `dir` with a fixed identity and no user or system configuration.
pub fn git_in(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", "-c", "core.autocrlf=false"])
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// A work tree with a bare `origin` next to it; `origin/main` is the shipped ref.
pub struct Repo {
    pub _tmp: tempfile::TempDir,
    pub root: PathBuf,
}

impl Repo {
    pub fn new() -> Repo {
        let tmp = tempfile::tempdir().expect("temp dir");
        let root = tmp.path().join("app");
        fs::create_dir_all(&root).expect("mkdir");
        git_in(tmp.path(), &["init", "-q", "--bare", "origin.git"]);
        git_in(&root, &["init", "-q"]);
        git_in(&root, &["remote", "add", "origin", "../origin.git"]);
        Repo { _tmp: tmp, root }
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.root.join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, text).expect("write");
    }

    /// Commits everything and pushes it to origin's `main`: it has shipped.
    pub fn ship(&self) {
        git_in(&self.root, &["add", "-A"]);
        git_in(&self.root, &["commit", "-q", "--allow-empty", "-m", "ship"]);
        git_in(&self.root, &["push", "-q", "origin", "HEAD:refs/heads/main"]);
        git_in(&self.root, &["fetch", "-q", "origin"]);
        git_in(&self.root, &["remote", "set-head", "origin", "main"]);
    }

    /// Every file under the root but `.git`, with its text.
    pub fn files(&self) -> BTreeMap<String, String> {
        fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
            for entry in fs::read_dir(dir).expect("read dir").flatten() {
                let path = entry.path();
                if path.file_name().is_some_and(|n| n == ".git") {
                    continue;
                }
                if path.is_dir() {
                    walk(&path, root, out);
                } else {
                    let rel = path.strip_prefix(root).expect("under root").to_string_lossy().into_owned();
                    out.insert(rel, fs::read_to_string(&path).unwrap_or_default());
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.root, &self.root, &mut out);
        out
    }
}
