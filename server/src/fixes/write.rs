//! Writing a fix to disk: nothing safemig did not read is ever overwritten. The fixed file is
//! written only when it still holds the text the fix was computed from, another file only when
//! it still holds what the fix read ([`FileEdit::ReplaceIn`]), a new file only when nothing is
//! there yet (`create_new`), and a rename never replaces anything ([`rename_new`]). Used by
//! `check --fix` and by the language server for clients that cannot create or rename files.

use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use super::{FileEdit, Fix};

/// Refuses a fix that would write, create or rename anything whose real path (symlinks resolved;
/// for a file yet to be created, its nearest existing directory's) lies outside `root`: a
/// migration that is a symlink to a file elsewhere is never written through.
pub fn check_inside(root: &Path, path: &Path, fix: &Fix) -> io::Result<()> {
    let real_root = root.canonicalize()?;
    let touched = fix.edits.iter().flat_map(|e| match e {
        FileEdit::Replace { .. } => vec![path],
        FileEdit::ReplaceIn { path, .. } | FileEdit::Create { path, .. } => vec![path.as_path()],
        FileEdit::Rename { from, to } => vec![from.as_path(), to.as_path()],
    });
    for target in std::iter::once(path).chain(touched) {
        if !real_path(target)?.starts_with(&real_root) {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "{} resolves to a place outside the workspace {}; safemig writes fixes only inside it",
                    target.display(),
                    root.display()
                ),
            ));
        }
    }
    Ok(())
}

/// `path` with every symlink resolved; for a path that does not exist yet, its nearest existing
/// ancestor resolved and the rest (plain names only) appended.
fn real_path(path: &Path) -> io::Result<PathBuf> {
    let mut rest = Vec::new();
    let mut at = path;
    loop {
        match at.canonicalize() {
            Ok(real) => return Ok(rest.iter().rev().fold(real, |p, name| p.join(name))),
            Err(_) => {
                let (Some(parent), Some(Component::Normal(name))) = (at.parent(), at.components().next_back()) else {
                    return Err(io::Error::other(format!("cannot resolve {}", path.display())));
                };
                rest.push(name.to_os_string());
                at = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
            }
        }
    }
}

/// Writes `fix` for the file at `path`, whose text was `read` when the fix was computed. Checks
/// everything first: the file still holds `read`, each other file still holds what the fix read,
/// no file to create exists. New files are created with `create_new`, so one that appears in
/// the meantime is not overwritten either. Nothing is written outside `root` ([`check_inside`]).
pub fn write_fix(root: &Path, path: &Path, read: &str, fix: &Fix) -> io::Result<()> {
    check_inside(root, path, fix)?;
    if fs::read_to_string(path)? != read {
        return Err(changed(path));
    }
    check_beside(fix)?;
    write_creates_and_edits(fix)?;
    if fix.edits.iter().any(|e| matches!(e, FileEdit::Replace { .. })) {
        fs::write(path, super::apply(read, &fix.edits))?;
    }
    // Last: the file's own edits above are written under its name before it moves.
    for edit in &fix.edits {
        if let FileEdit::Rename { from, to } = edit {
            rename_new(from, to)?;
        }
    }
    Ok(())
}

fn changed(p: &Path) -> io::Error {
    io::Error::other(format!("{} changed since safemig read it", p.display()))
}

/// Everything but the fixed file, checked before anything is written: each other file still
/// holds what the fix read, no file to create or name to rename to exists, each file to rename
/// is there.
fn check_beside(fix: &Fix) -> io::Result<()> {
    for edit in &fix.edits {
        match edit {
            FileEdit::ReplaceIn { path, expected, .. } if fs::read_to_string(path)? != *expected => {
                return Err(changed(path))
            }
            FileEdit::Create { path, .. } | FileEdit::Rename { to: path, .. } if path.symlink_metadata().is_ok() => {
                return Err(io::Error::new(io::ErrorKind::AlreadyExists, format!("{} exists", path.display())))
            }
            FileEdit::Rename { from, .. } if from.symlink_metadata().is_err() => return Err(changed(from)),
            _ => {}
        }
    }
    Ok(())
}

/// New files (with `create_new`: one that appears in the meantime is not overwritten either),
/// then the edits of other files.
fn write_creates_and_edits(fix: &Fix) -> io::Result<()> {
    for edit in &fix.edits {
        if let FileEdit::Create { path, text } = edit {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)?;
            }
            let mut file = fs::OpenOptions::new().write(true).create_new(true).open(path)?;
            file.write_all(text.as_bytes())?;
        }
    }
    for edit in &fix.edits {
        if let FileEdit::ReplaceIn { path, range, text, expected } = edit {
            let (Some(before), Some(after)) = (expected.get(..range.start), expected.get(range.end..)) else {
                return Err(io::Error::other(format!("an edit outside {}", path.display())));
            };
            fs::write(path, format!("{before}{text}{after}"))?;
        }
    }
    Ok(())
}

/// Renames `from` to `to` without ever replacing `to`: a file is hard-linked to its new name
/// (which fails when the name is taken) and then unlinked; a directory (a Prisma or Diesel
/// migration), or a file on a file system without hard links, is renamed after checking that
/// `to` is free.
pub fn rename_new(from: &Path, to: &Path) -> io::Result<()> {
    let exists = || io::Error::new(io::ErrorKind::AlreadyExists, format!("{} exists", to.display()));
    if from.is_file() {
        match fs::hard_link(from, to) {
            Ok(()) => return fs::remove_file(from),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(exists()),
            Err(_) => {}
        }
    }
    if to.symlink_metadata().is_ok() {
        return Err(exists());
    }
    fs::rename(from, to)
}

/// Writes the parts of `fix` that are not edits of the fixed file itself: new files, edits of
/// other files, renames (after checking all of them first). The language server applies the
/// fixed file's own edits to the editor's buffer, then calls this.
pub fn write_beside(fix: &Fix) -> io::Result<()> {
    let beside = Fix {
        edits: fix.edits.iter().filter(|e| !matches!(e, FileEdit::Replace { .. })).cloned().collect(),
        ..fix.clone()
    };
    check_beside(&beside)?;
    write_creates_and_edits(&beside)?;
    for edit in &beside.edits {
        if let FileEdit::Rename { from, to } = edit {
            rename_new(from, to)?;
        }
    }
    Ok(())
}

/// Takes back what [`write_beside`] wrote for `fix`, when the rest of the fix could not be
/// applied (the editor refused the buffer's edits): the new files are removed, the edited files
/// get the text the fix read, the renamed files their old names. Best effort: each step runs
/// even when an earlier one fails, and the first error is returned.
pub fn undo_beside(fix: &Fix) -> io::Result<()> {
    let mut first: io::Result<()> = Ok(());
    let mut keep = |r: io::Result<()>| {
        if first.is_ok() {
            first = r;
        }
    };
    for edit in fix.edits.iter().rev() {
        match edit {
            FileEdit::Rename { from, to } => keep(rename_new(to, from)),
            FileEdit::ReplaceIn { path, expected, .. } => keep(fs::write(path, expected)),
            FileEdit::Create { path, .. } => keep(fs::remove_file(path)),
            FileEdit::Replace { .. } => {}
        }
    }
    first
}
