//! The server's own file watcher, for clients that cannot watch files for us (no dynamic
//! registration of `workspace/didChangeWatchedFiles`).
//!
//! Every directory under the root except the skipped ones (`.git`, `target`, `node_modules`) gets
//! a non-recursive watch, so a build directory with thousands of subdirectories costs nothing;
//! directories created later are added as their creation is seen. Events are debounced: changed
//! paths are collected until the disk has been quiet for [`QUIET`] (or for at most [`MAX_DELAY`]
//! while it keeps changing), then handed over as one batch.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use rustc_hash::FxHashSet;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::workspace::skipped_dir;

/// A batch is handed over once no event arrived for this long…
pub(crate) const QUIET: Duration = Duration::from_millis(50);
/// …or this long after its first event, whichever comes first.
pub(crate) const MAX_DELAY: Duration = Duration::from_millis(500);

/// A running watcher. Dropping it stops the watching.
pub(crate) struct FileWatcher {
    root: PathBuf,
    watcher: Arc<Mutex<RecommendedWatcher>>,
    watched: Arc<Mutex<FxHashSet<PathBuf>>>,
}

/// Starts watching `root`. Changed paths arrive on the returned channel, not yet debounced (see
/// [`next_batch`]). Blocking: walks the directory tree.
pub(crate) fn start(root: &Path) -> notify::Result<(FileWatcher, mpsc::UnboundedReceiver<PathBuf>)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let watcher = notify::recommended_watcher(move |event: notify::Result<Event>| {
        let Ok(event) = event else { return };
        if matters(&event.kind) {
            for path in event.paths {
                let _ = tx.send(path);
            }
        }
    })?;
    let watcher = FileWatcher {
        root: root.to_path_buf(),
        watcher: Arc::new(Mutex::new(watcher)),
        watched: Arc::new(Mutex::new(FxHashSet::default())),
    };
    watcher.watch_tree(root)?;
    Ok((watcher, rx))
}

/// Reads and opens change nothing; a closed writer means a write finished.
fn matters(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

impl FileWatcher {
    /// Watches `dir` and every directory below it that is not watched yet. Blocking.
    pub fn watch_tree(&self, top: &Path) -> notify::Result<()> {
        let mut pending = vec![top.to_path_buf()];
        while let Some(dir) = pending.pop() {
            let newly = self.watched.lock().unwrap_or_else(PoisonError::into_inner).insert(dir.clone());
            if !newly {
                continue;
            }
            let added =
                self.watcher.lock().unwrap_or_else(PoisonError::into_inner).watch(&dir, RecursiveMode::NonRecursive);
            if let Err(e) = added {
                self.watched.lock().unwrap_or_else(PoisonError::into_inner).remove(&dir);
                // The top must be watched; a subdirectory that vanished meanwhile need not.
                if dir == top {
                    return Err(e);
                }
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                let skipped = entry.file_name().to_str().is_some_and(skipped_dir);
                if is_dir && !skipped {
                    pending.push(entry.path());
                }
            }
        }
        Ok(())
    }

    /// Follows a batch of changed paths: new directories get watched, and directories that are
    /// gone are forgotten (so that one created again under the same name is watched again).
    /// Blocking.
    pub fn follow(&self, changed: &[PathBuf]) {
        for path in changed {
            let Ok(relative) = path.strip_prefix(&self.root) else { continue };
            let skipped = relative.components().any(|c| c.as_os_str().to_str().is_some_and(skipped_dir));
            if skipped {
                continue;
            }
            if path.is_dir() {
                let _ = self.watch_tree(path);
            } else if !path.exists() {
                self.watched.lock().unwrap_or_else(PoisonError::into_inner).retain(|w| !w.starts_with(path));
            }
        }
    }
}

/// Waits for the next batch of changed paths, debounced. `None` when the watcher is gone.
pub(crate) async fn next_batch(events: &mut mpsc::UnboundedReceiver<PathBuf>) -> Option<Vec<PathBuf>> {
    let first = events.recv().await?;
    let mut batch = FxHashSet::default();
    batch.insert(first);
    let give_up = Instant::now() + MAX_DELAY;
    loop {
        let until = (Instant::now() + QUIET).min(give_up);
        match tokio::time::timeout_at(until, events.recv()).await {
            Ok(Some(path)) => {
                batch.insert(path);
            }
            Ok(None) | Err(_) => break,
        }
    }
    let mut batch: Vec<PathBuf> = batch.into_iter().collect();
    batch.sort();
    Some(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_written_in_new_and_old_directories_are_seen() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("db/migrations")).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("node_modules/x")).expect("mkdir");
        let (watcher, mut events) = start(dir.path()).expect("a watcher");

        let written = dir.path().join("db/migrations/001.sql");
        std::fs::write(&written, "SELECT 1;").expect("write");
        std::fs::write(dir.path().join("node_modules/x/ignored.sql"), "SELECT 1;").expect("write");
        let batch = next_batch(&mut events).await.expect("a batch");
        assert!(batch.contains(&written), "{batch:?}");
        assert!(batch.iter().all(|p| !p.starts_with(dir.path().join("node_modules"))), "{batch:?}");

        // A new directory: its creation is seen, then it is watched too.
        let fresh = dir.path().join("db/other");
        std::fs::create_dir_all(&fresh).expect("mkdir");
        let batch = next_batch(&mut events).await.expect("a batch");
        assert!(batch.contains(&fresh), "{batch:?}");
        watcher.follow(&batch);
        let inside = fresh.join("002.sql");
        std::fs::write(&inside, "SELECT 1;").expect("write");
        let batch = next_batch(&mut events).await.expect("a batch");
        assert!(batch.contains(&inside), "{batch:?}");
    }
}
