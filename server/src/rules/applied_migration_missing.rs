//! `applied-migration-missing`: the dev database's ledger lists a migration that no file of the
//! set provides (deleted, renamed, or applied from another branch).
//!
//! A fact about the database, not about a statement: [`crate::live::ledger::live_findings`]
//! calls [`findings`]; the statement-level check has nothing to do.
//!
//! Where it is reported: a finding needs a file, and the missing migration has none. It goes on
//! the migration that sorts right before the missing version in runner order — where its file
//! would sit, and where the next migration of the branch that applied it would go — or, when the
//! missing version sorts first, on the set's first migration. Always the first line of that
//! file's first statement, so a suppression above it (or `ignore-file`) silences it.

use std::path::PathBuf;

use crate::history::{self, FileSource};
use crate::live::ledger::{self, Checked, MigrationState};
use crate::rules::{Category, Emitter, Finding, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::workspace::frameworks::framework;

pub static RULE: Rule = Rule {
    id: "applied-migration-missing",
    category: Category::Live,
    default_severity: Severity::Warning,
    dialects: ALL_DIALECTS,
    summary: "the dev database applied a migration that no file provides",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
A row of the connected database's migration ledger (`_prisma_migrations`,
`flyway_schema_history`, `schema_migrations`, `_sqlx_migrations`, …) for which no migration
file exists in the set: the file was deleted or renamed after it ran, or the database was
migrated from another branch. Reported on the migration that sorts right before the missing
version (where its file would be), else on the first migration of the set.

## Why it hurts
The database has changes that no file in this branch describes: the schema the migrations build
is not the schema you develop against. Several runners refuse to go on: Flyway's validate fails
("Detected applied migration not resolved locally"), sqlx fails ("previously applied but is
missing in the resolved migrations"), `supabase db push` fails ("Remote migration versions not
found in local migrations directory"), golang-migrate cannot move from a current version it has
no file for, and `prisma migrate dev` asks to reset the database.

## Example
```sql
-- _sqlx_migrations lists version 20240307120000 (add_orders_status),
-- but migrations/20240307120000_add_orders_status.sql was deleted on this branch.
```

## Instead
```sql
-- Restore the file from git (or merge the branch that added it); if the change was abandoned,
-- undo it in the database and remove the ledger row with the runner's own repair command.
```

## Quick fix
None: restore the file, or repair the ledger with the command the message names.
"#;

fn check(_ctx: &StatementContext, _out: &mut Emitter) {}

/// Reports every ledger row that no file of its set provides.
pub(crate) fn findings(
    checked: &[Checked<'_>],
    files: &FileSource<'_>,
    out: &mut Vec<(PathBuf, Finding)>,
) {
    for checked in checked {
        let set = checked.set;
        if set.migrations.is_empty() {
            continue;
        }
        let keys = framework(set.framework).ledger_keys(set).migrations;
        for status in &checked.statuses {
            let (None, Some(e)) = (status.migration, status.entry) else { continue };
            let entry = &checked.ledger.entries[e];
            let key = (checked.spec.key)(entry.version.as_deref(), entry.name.as_deref());
            // The last migration that sorts before the missing one.
            let before = key.as_ref().and_then(|key| keys.iter().rposition(|k| k.as_ref().is_some_and(|k| k < key)));
            let anchor = before.unwrap_or(0);
            let Some(path) = ledger::anchor_file(set, anchor) else { continue };
            let Some((_, file)) = files(path) else { continue };
            let previous = before.map(|i| set.migrations[i].version.display());
            let target = checked.target(e, previous.as_deref());
            let name = match entry.name.as_deref().filter(|n| !n.is_empty() && Some(*n) != entry.version.as_deref()) {
                Some(n) => format!(" ({n})"),
                None => String::new(),
            };
            let failed = if matches!(status.state, MigrationState::Failed { .. }) { ", marked failed" } else { "" };
            let place = match before {
                Some(_) => "it would come right after this migration",
                None => "it would come before every migration here",
            };
            let dir =
                set.dir.file_name().map_or_else(|| set.dir.display().to_string(), |n| n.to_string_lossy().into_owned());
            let message = format!(
                "the dev database's {} ledger {} lists `{}`{name}{}{failed}, but no file in `{dir}` provides it \
                 ({place}): {}",
                set.framework,
                checked.ledger.table,
                entry.label(),
                ledger::when(entry.applied_at),
                (checked.spec.resolve_missing)(&target)
            );
            let range = history::file_anchor(&file);
            out.push((path.to_path_buf(), history::finding(&RULE, &file, range, message, None)));
        }
    }
}
