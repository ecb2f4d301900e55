//! `shipped-migration-removed`: a migration present at the shipped ref but gone (or renamed) in
//! the working tree.
//!
//! A fact about the repository, not about a statement: [`crate::history::findings`] calls
//! [`findings`]; the statement-level check has nothing to do.
//!
//! A removed file has no text to put a diagnostic on, so the finding goes on a file of the set
//! that exists: the file that replaced it when it was renamed (same content, or the same
//! description under a new version), else the migration that now follows it in runner order
//! (the last migration when it was the newest). That keeps it next to where it was, visible in
//! the editor and in CI output, and suppressible there.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use rustc_hash::{FxHashMap, FxHashSet};

use crate::history::{self, FileSource, GitHistory, ShippedFile};
use crate::rules::{Category, Emitter, Finding, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::workspace::frameworks::{framework, natural_cmp};
use crate::workspace::MigrationSet;

pub static RULE: Rule = Rule {
    id: "shipped-migration-removed",
    category: Category::History,
    default_severity: Severity::Error,
    dialects: ALL_DIALECTS,
    summary: "a migration that already shipped was deleted or renamed",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
A migration file that exists at the shipped ref but not in the working tree: deleted, or renamed
(renumbered). The file is gone, so the finding is shown on the file that replaced it when it was
renamed (same content, or the same description under another version), else on the migration
that now follows it in order (or the newest migration). A migration that shipped after this
branch forked is not reported: the branch has not merged it yet.

## Why it hurts
Databases that ran the migration still record it. Runners that check the ledger against the
files (golang-migrate, goose, Flyway, Atlas, Prisma) stop with a "missing migration" error; the
others go on, but a fresh database no longer gets what the migration did, so new environments
and production drift apart. A rename is worse: the runner sees one migration missing and one new
one, and applies the "new" one a second time on every database that already has it.

## Example
```text
origin/main:  migrations/0003_add_email.sql
working tree: migrations/0007_add_email.sql   -- renumbered
```

## Instead
Keep shipped migrations as they are, under their names. To undo what one did, add a new
migration; to squash history, follow the framework's baseline procedure (Flyway baseline,
`prisma migrate resolve`, goose/golang-migrate `force`) on every database at once.

## Quick fix
None: restore the file from the shipped ref (`git checkout <ref> -- <path>`).
"#;

fn check(_ctx: &StatementContext, _out: &mut Emitter) {}

/// A gone migration: its files at the ref, relative to the set directory.
struct Gone<'g> {
    /// The migration's name at the ref: its directory (Prisma, Diesel) or its file name without
    /// `.up.sql` / `.down.sql` / extension.
    key: String,
    files: Vec<(String, &'g ShippedFile)>,
}

/// Reports every migration of a set that is at the shipped ref and gone from the working tree.
pub fn findings(sets: &[MigrationSet], git: &GitHistory, files: &FileSource<'_>, out: &mut Vec<(PathBuf, Finding)>) {
    for set in sets {
        if set.migrations.is_empty() {
            continue;
        }
        let current: FxHashSet<String> =
            set.migrations.iter().flat_map(|m| m.files()).map(|p| history::display_name(set, p)).collect();
        // What a migration file of this set looks like: depth below the set directory, and the
        // fixed file name (`migration.sql`, `up.sql`) or the extension of one-file migrations.
        let shapes: FxHashSet<(usize, String)> = current.iter().map(|p| shape(p)).collect();
        let mut gone: FxHashMap<String, Gone> = FxHashMap::default();
        for (rel, shipped, in_branch) in git.shipped_under(&set.dir) {
            // Shipped after this branch forked: not removed, just not merged yet.
            if !in_branch || current.contains(&rel) || !shapes.contains(&shape(&rel)) {
                continue;
            }
            let path = set.dir.join(&rel);
            if files(&path).is_some() || history::in_work_tree(&path) {
                // Still there, just not a migration of this set (a file the runner skips).
                continue;
            }
            let key = migration_key(&rel);
            gone.entry(key.clone()).or_insert_with(|| Gone { key, files: Vec::new() }).files.push((rel, shipped));
        }
        let mut gone: Vec<Gone> = gone.into_values().collect();
        gone.sort_by(|a, b| natural_cmp(&a.key, &b.key));
        for g in gone {
            report(set, git, files, &g, out);
        }
    }
}

fn report(
    set: &MigrationSet,
    git: &GitHistory,
    files: &FileSource<'_>,
    gone: &Gone,
    out: &mut Vec<(PathBuf, Finding)>,
) {
    let names: Vec<String> = gone.files.iter().map(|(rel, _)| format!("`{rel}`")).collect();
    let first = gone.files.first().map(|(rel, _)| set.dir.join(rel));
    let commit = first.and_then(|p| git.shipped_commits(&[&p]).pop().flatten());
    let shipped = format!("shipped in {}{}", git.shipped_ref(), history::commit_clause(commit.as_ref()));
    let unshipped: Vec<&Path> =
        set.migrations.iter().filter(|m| !git.is_shipped(m)).filter_map(history::main_file).collect();

    // Renamed: an unshipped file with the same content, or with the same description.
    let same_content = unshipped.iter().copied().find(|p| {
        files(p).is_some_and(|(text, _)| {
            let id = history::blob_id_of(&text);
            gone.files.iter().any(|(_, f)| f.oid == id)
        })
    });
    let desc = description(&gone.key);
    let same_description = || {
        unshipped
            .iter()
            .copied()
            .find(|p| !desc.is_empty() && description(&migration_key(&history::display_name(set, p))) == desc)
    };
    let (target, message) = match same_content.or_else(same_description) {
        Some(path) => (
            path,
            format!(
                "this looks like {} renamed: that migration {shipped}, and databases that ran it record it under its \
                 old name, so the runner finds it missing and applies this file again — restore the old name and \
                 content, and put any change into a new migration",
                names.join(" and ")
            ),
        ),
        None => {
            // Runner order by version when the framework reads one from the name, else by name.
            let version =
                gone.files.iter().find_map(|(rel, _)| framework(set.framework).version_of(&set.dir.join(rel)));
            let next = match version {
                Some(v) => set.migrations.iter().filter(|m| m.version > v).find_map(history::main_file),
                None => set.migrations.iter().filter_map(history::main_file).find(|p| {
                    natural_cmp(&migration_key(&history::display_name(set, p)), &gone.key) == Ordering::Greater
                }),
            };
            let (path, placement) = match next {
                Some(p) => (p, "the migration that now follows it"),
                None => match set.migrations.iter().rev().find_map(history::main_file) {
                    Some(p) => (p, "the newest migration of the set"),
                    None => return,
                },
            };
            (
                path,
                format!(
                    "{} {} removed: it {shipped}; databases that ran it still record it and a fresh database no \
                     longer gets its changes — restore it and undo its effect in a new migration (reported on \
                     {placement})",
                    names.join(" and "),
                    if names.len() == 1 { "was" } else { "were" },
                ),
            )
        }
    };
    let Some((_, file)) = files(target) else { return };
    out.push((target.to_path_buf(), history::finding(&RULE, &file, history::file_anchor(&file), message, None)));
}

/// `(depth, fixed name or extension)` of a path relative to the set directory.
fn shape(rel: &str) -> (usize, String) {
    let parts: Vec<&str> = rel.split('/').collect();
    let last = parts.last().copied().unwrap_or("");
    if parts.len() > 1 {
        (parts.len(), last.to_string())
    } else {
        (1, last.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).unwrap_or_default())
    }
}

/// The migration a file belongs to: its first path component, without `.up.sql` / `.down.sql`
/// / the extension (golang-migrate's up and down files are one migration).
fn migration_key(rel: &str) -> String {
    let first = rel.split('/').next().unwrap_or(rel);
    if rel.contains('/') {
        return first.to_string();
    }
    let lower = first.to_ascii_lowercase();
    for suffix in [".up.sql", ".down.sql", ".sql"] {
        if lower.ends_with(suffix) {
            return first[..first.len() - suffix.len()].to_string();
        }
    }
    first.rsplit_once('.').map_or(first, |(stem, _)| stem).to_string()
}

/// A migration name without its version: `0003_add_email` → `add_email`, `V3__add_email` →
/// `add_email`.
fn description(key: &str) -> String {
    let rest = key.strip_prefix(['V', 'v']).filter(|r| r.starts_with(|c: char| c.is_ascii_digit())).unwrap_or(key);
    rest.trim_start_matches(|c: char| c.is_ascii_digit() || matches!(c, '_' | '-' | '.')).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_names() {
        assert_eq!(migration_key("1_init.up.sql"), "1_init");
        assert_eq!(migration_key("20240101_x/migration.sql"), "20240101_x");
        assert_eq!(migration_key("V3__Add_email.sql"), "V3__Add_email");
        assert_eq!(description("V3__Add_email"), "add_email");
        assert_eq!(description("0003_add_email"), "add_email");
        assert_eq!(description("20240101120000_add-email"), "add-email");
        assert_eq!(shape("2024_x/migration.sql"), (2, "migration.sql".into()));
        assert_eq!(shape("1_x.up.sql"), (1, "sql".into()));
    }
}
