//! `duplicate-migration-version`: two migrations of one set with the same version key.
//!
//! A fact about the set, not about a statement: [`crate::history::findings`] calls
//! [`findings`]; the statement-level check has nothing to do. Needs no git; with git, only the
//! unshipped members of a clash are reported (the shipped one cannot change any more).

use std::path::PathBuf;

use crate::history::{self, FileSource, GitHistory};
use crate::rules::{Category, Emitter, Finding, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::workspace::MigrationSet;

pub static RULE: Rule = Rule {
    id: "duplicate-migration-version",
    category: Category::History,
    default_severity: Severity::Error,
    dialects: ALL_DIALECTS,
    summary: "two migrations of one set share a version",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
Two migrations of the same set whose version keys are equal: `0005_add_phone.sql` and
`0005_add_plan.sql` for goose or golang-migrate, `V5__a.sql` and `V5__b.sql` for Flyway, two
Supabase files with one timestamp. When git history is available and one of them has already
shipped, only the unshipped one is reported.

## Why it hurts
The runner identifies a migration by its version. Most runners refuse to start when two files
claim one version (goose, golang-migrate, Flyway); others record the version once, so the second
file never runs anywhere, or runs on some databases and not others depending on which was seen
first. It typically appears when two branches each add "the next" migration and are merged.

## Example
```text
migrations/0005_add_phone.sql   -- from branch a
migrations/0005_add_plan.sql    -- from branch b
```

## Instead
```text
migrations/0005_add_phone.sql
migrations/0006_add_plan.sql    -- renumbered after the merge
```

## Quick fix
**Renumber to the next version**: renames every file of the unshipped migration (golang-migrate's
`.up.sql` and `.down.sql`, Flyway's `.sql.conf` next to it, the directory of a Prisma or Diesel
migration) to the next free version after the newest migration of the set, keeping the rest of
the names. A rename never replaces a file: in the editor it is a `RenameFile` with `overwrite:
false` (offered only to clients that support renames), in `safemig check --fix` a rename that
fails when the name is taken. Not offered for a migration that shipped, nor for Drizzle (its
journal names the migrations). **Safe** when git says it never shipped and no other migration
sorts after its version (only the clash's order changes, which the runner could not tell
anyway); **unsafe** otherwise (it now runs after migrations it used to precede, or, without git,
it may have shipped).
"#;

fn check(_ctx: &StatementContext, _out: &mut Emitter) {}

/// Reports every migration whose version another migration of its set also has.
pub fn findings(
    sets: &[MigrationSet],
    git: Option<&GitHistory>,
    files: &FileSource<'_>,
    out: &mut Vec<(PathBuf, Finding)>,
) {
    for set in sets {
        let mut order: Vec<usize> = (0..set.migrations.len()).collect();
        order.sort_by(|&a, &b| set.migrations[a].version.cmp(&set.migrations[b].version));
        for group in order.chunk_by(|&a, &b| set.migrations[a].version == set.migrations[b].version) {
            if group.len() < 2 {
                continue;
            }
            let shipped: Vec<bool> =
                group.iter().map(|&i| git.is_some_and(|g| g.is_shipped(&set.migrations[i]))).collect();
            let all_shipped = shipped.iter().all(|&s| s);
            for (k, &i) in group.iter().enumerate() {
                if shipped[k] && !all_shipped {
                    continue;
                }
                let migration = &set.migrations[i];
                let Some(path) = history::main_file(migration) else { continue };
                let Some((_, file)) = files(path) else { continue };
                let others: Vec<String> = group
                    .iter()
                    .filter(|&&j| j != i)
                    .filter_map(|&j| history::main_file(&set.migrations[j]))
                    .map(|p| format!("`{}`", history::display_name(set, p)))
                    .collect();
                let message = format!(
                    "version {} is also used by {}; {} cannot order two migrations with one version (most runners \
                     refuse to start, others record the version once and never run the other file) — {}",
                    migration.version.display(),
                    others.join(", "),
                    set.framework,
                    if all_shipped && git.is_some() {
                        "both have shipped, so tell the runner which one it has recorded before renumbering either"
                    } else {
                        "renumber the unshipped one to the next free version"
                    },
                );
                let fix = (!all_shipped || git.is_none()).then_some("Renumber to the next version");
                out.push((
                    path.to_path_buf(),
                    history::finding(&RULE, &file, history::file_anchor(&file), message, fix),
                ));
            }
        }
    }
}
