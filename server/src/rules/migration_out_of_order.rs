//! `migration-out-of-order`: an unshipped migration that sorts before the newest shipped one.
//!
//! A fact about the set and the repository, not about a statement:
//! [`crate::history::findings`] calls [`findings`]; the statement-level check has nothing to do.
//! What the runner does with such a file is framework knowledge:
//! [`crate::workspace::frameworks::Framework::out_of_order`].

use std::path::PathBuf;

use crate::history::{self, FileSource, GitHistory};
use crate::rules::{Category, Emitter, Finding, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::workspace::frameworks::{direction_by_name, framework};
use crate::workspace::{Direction, MigrationSet, VersionKey};

pub static RULE: Rule = Rule {
    id: "migration-out-of-order",
    category: Category::History,
    default_severity: Severity::Warning,
    dialects: ALL_DIALECTS,
    summary: "an unshipped migration sorts before one that already shipped",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
A migration that is not at the shipped ref yet (committed on this branch, or not committed)
whose version sorts before the newest migration that already shipped. It usually happens when a
branch that added "the next" migration is merged after another branch shipped a newer one. A
migration that shipped after this branch forked counts too (its version is read from its name at
the shipped ref), so the warning comes before the merge. The message says what this project's
migration tool does with such a file.

## Why it hurts
Production has already run the newer migration. Runners disagree about an older pending one:
golang-migrate and Drizzle never apply it, silently; Flyway, goose, Supabase, Atlas and
node-pg-migrate refuse to migrate until it is dealt with; Prisma, sqlx, Diesel, dbmate and pop apply
it after the newer one, so production runs the migrations in a different order than every fresh
database.

## Example
```text
origin/main:  0007_add_orders.sql  (shipped)
this branch:  0006_add_phone.sql   (new, numbered before the merge)
```

## Instead
```text
this branch:  0008_add_phone.sql   (renumbered after the newest shipped migration)
```

## Quick fix
**Renumber to the next version**: renames every file of the migration (golang-migrate's `.up.sql`
and `.down.sql`, Flyway's `.sql.conf`, a Prisma or Diesel directory) to the next free version
after the newest migration — including one that shipped after this branch forked — keeping the
rest of the names; never over an existing file. **Safe** where the runner refuses to migrate or
never applies the file (goose, Flyway, Supabase, Atlas, golang-migrate, node-pg-migrate): the
rename is what lets it run. **Unsafe** where the runner would have applied it anyway (Prisma,
sqlx, Diesel, dbmate): fresh databases now run it after the newer migration instead of before.
Not for Drizzle (its journal names the migrations).
"#;

fn check(_ctx: &StatementContext, _out: &mut Emitter) {}

/// Reports every unshipped migration that sorts before the newest shipped one of its set.
pub fn findings(sets: &[MigrationSet], git: &GitHistory, files: &FileSource<'_>, out: &mut Vec<(PathBuf, Finding)>) {
    for set in sets {
        let fw = framework(set.framework);
        let Some(newest) = newest_shipped(set, git) else { continue };
        let mut commit = None;
        for migration in set.migrations.iter().filter(|m| !git.is_shipped(m)) {
            if migration.version >= newest.version {
                continue;
            }
            let Some(path) = history::main_file(migration) else { continue };
            let Some((_, file)) = files(path) else { continue };
            let commit = commit.get_or_insert_with(|| git.shipped_commits(&[&newest.path]).pop().flatten());
            let message = format!(
                "`{}` sorts before `{}`, which already shipped in {}{}{}: {}",
                history::display_name(set, path),
                newest.name,
                git.shipped_ref(),
                history::commit_clause(commit.as_ref()),
                if newest.merged { "" } else { " after this branch forked" },
                fw.out_of_order(),
            );
            out.push((
                path.to_path_buf(),
                history::finding(
                    &RULE,
                    &file,
                    history::file_anchor(&file),
                    message,
                    Some("Renumber to the next version"),
                ),
            ));
        }
    }
}

/// The newest migration of a set at the shipped ref.
struct Newest {
    version: VersionKey,
    path: PathBuf,
    /// Relative to the set directory.
    name: String,
    /// The branch has it; `false` when it shipped after the branch forked (its version is read
    /// from its name at the ref).
    merged: bool,
}

fn newest_shipped(set: &MigrationSet, git: &GitHistory) -> Option<Newest> {
    let mut newest: Option<Newest> = None;
    let mut consider = |candidate: Newest| {
        if newest.as_ref().is_none_or(|n| candidate.version > n.version) {
            newest = Some(candidate);
        }
    };
    let on_disk = set.migrations.iter().filter(|m| git.is_shipped(m)).max_by(|a, b| a.version.cmp(&b.version));
    if let Some((migration, path)) = on_disk.and_then(|m| Some((m, history::main_file(m)?))) {
        let name = history::display_name(set, path);
        consider(Newest { version: migration.version.clone(), path: path.to_path_buf(), name, merged: true });
    }
    let fw = framework(set.framework);
    for (rel, _, in_branch) in git.shipped_under(&set.dir) {
        if in_branch {
            continue;
        }
        let path = set.dir.join(&rel);
        if direction_by_name(&path) == Direction::Down {
            continue;
        }
        let Some(version) = fw.version_of(&path) else { continue };
        consider(Newest { version, path, name: rel, merged: false });
    }
    newest
}
