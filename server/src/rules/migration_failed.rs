//! `migration-failed`: the dev database's ledger marks a migration failed, dirty or partially
//! applied (Prisma `finished_at IS NULL`, golang-migrate `dirty`, Flyway and sqlx
//! `success = false`, Atlas `applied < total` or `error`).
//!
//! A fact about the database, not about a statement: [`crate::live::ledger::live_findings`]
//! calls [`findings`]; the statement-level check has nothing to do. Which of the failed
//! migration's statements already took effect, and the recovery migration, come from the live
//! schema; the ledger facts they start from are [`crate::live::ledger::failed`].

use std::path::PathBuf;

use crate::history::{self, FileSource};
use crate::live::ledger::{self, Checked, MigrationState};
use crate::rules::{Category, Emitter, Finding, Rule, Severity, StatementContext, ALL_DIALECTS};

pub static RULE: Rule = Rule {
    id: "migration-failed",
    category: Category::Live,
    default_severity: Severity::Error,
    dialects: ALL_DIALECTS,
    summary: "the dev database's ledger marks this migration failed, dirty or partially applied",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
A migration that the connected database's ledger records as failed: Prisma (`finished_at` unset,
with the error in `logs`), golang-migrate (`dirty = true`), Flyway and sqlx (`success = false`),
Atlas (fewer statements applied than the file has, or an `error`). The message gives the time,
the error the runner recorded, and the command that tells the runner it is resolved.

## Why it hurts
Until the ledger is repaired the runner refuses to go on: Prisma stops every deploy with P3009,
golang-migrate with "Dirty database version N. Fix and force version.", Flyway with "Detected
failed migration". Where the database could not roll back (MySQL DDL, a migration outside a
transaction), part of the migration took effect: running it again fails on what already exists,
and marking it applied leaves the rest missing.

## Example
```sql
-- 20240301120000_add_email/migration.sql failed on the dev database halfway:
ALTER TABLE users ADD COLUMN email text;          -- took effect
CREATE UNIQUE INDEX users_email_key ON users (email);  -- failed: duplicate key
```

## Instead
```sql
-- Make what is left re-runnable, finish (or undo) it, then mark the migration resolved with the
-- runner's command (prisma migrate resolve, migrate force, flyway repair, atlas migrate set …).
ALTER TABLE users ADD COLUMN IF NOT EXISTS email text;
```

## Quick fix
With a dev database: a recovery migration, new, in the framework's naming, that completes the
statements that did not take effect, guarded so that it can run again (`IF NOT EXISTS`, `DO`
blocks over the catalog, `ON CONFLICT DO NOTHING` on an `INSERT` whose table has a key among
the columns it gives). A data statement (`INSERT`, `UPDATE`, `COPY`) moves before the
constraints right before it that check the rows it writes (a foreign key added before the seed
of the table it references fails on the database again in the original order). The header names
the ledger command that marks the failed migration resolved. Unsafe: review the statements it
marks `not guarded` before applying it.
"#;

fn check(_ctx: &StatementContext, _out: &mut Emitter) {}

/// Reports every migration with a file that its set's ledger marks failed.
pub(crate) fn findings(
    checked: &[Checked<'_>],
    files: &FileSource<'_>,
    out: &mut Vec<(PathBuf, Finding)>,
) {
    for checked in checked {
        for status in &checked.statuses {
            let (Some(m), Some(e), MigrationState::Failed { at, detail }) =
                (status.migration, status.entry, &status.state)
            else {
                continue;
            };
            let Some(path) = ledger::anchor_file(checked.set, m) else { continue };
            let Some((_, file)) = files(path) else { continue };
            let entry = &checked.ledger.entries[e];
            let progress = match (entry.applied_statements, entry.total_statements) {
                (Some(done), Some(total)) if total > 0 => format!(" after {done} of its {total} statements"),
                _ => String::new(),
            };
            let error = match detail.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
                Some(d) => ledger::one_line(d, 300),
                None => format!("{} records no error text", checked.set.framework),
            };
            let previous = m.checked_sub(1).map(|p| checked.set.migrations[p].version.display());
            let target = checked.target(e, previous.as_deref());
            let message = format!(
                "FAILED in the dev database{}{progress}: {error}. {}",
                ledger::at_time(*at),
                (checked.spec.resolve_failed)(&target)
            );
            let range = history::file_anchor(&file);
            out.push((path.to_path_buf(), history::finding(&RULE, &file, range, message, None)));
        }
    }
}
