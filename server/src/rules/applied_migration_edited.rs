//! `applied-migration-edited`: a migration the dev database's ledger records as applied whose
//! file no longer matches what the ledger stored about it — the checksum (Prisma, Flyway, sqlx,
//! Atlas, Drizzle, each reproduced exactly by [`crate::live::checksum`]) or the statements
//! (Supabase).
//!
//! A fact about the database, not about a statement: [`crate::live::ledger::live_findings`]
//! calls [`findings`]; the statement-level check has nothing to do.

use std::path::PathBuf;

use crate::history::{self, FileSource};
use crate::live::checksum::{self, AtlasSum};
use crate::live::ledger::{self, Checked, MigrationState};
use crate::rules::{Category, Emitter, Finding, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::workspace::frameworks::ChecksumKind;
use crate::workspace::MigrationSet;

pub static RULE: Rule = Rule {
    id: "applied-migration-edited",
    category: Category::Live,
    default_severity: Severity::Error,
    dialects: ALL_DIALECTS,
    summary: "a migration the dev database already applied was edited since",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
A migration that the connected database's ledger records as applied, whose file is no longer
what was applied: the checksum the runner stored differs from the file's checksum computed the
runner's way (Prisma: SHA-256, line-ending tolerant; Flyway: CRC32 over the lines; sqlx:
SHA-384 of the bytes; Atlas: the `atlas.sum` hash; Drizzle: SHA-256), or, for Supabase, the
statements the CLI stored differ from the file's statements (whitespace and comments aside).
The finding sits on the first statement of the file and names the stored and the computed
value.

## Why it hurts
The database keeps the version that ran; the runner never runs an applied migration again, so
the edit reaches only fresh databases: two schemas from one history. Runners that check react at
the next deploy: `prisma migrate dev` asks to reset the database, Flyway's validate fails with
"Migration checksum mismatch", `sqlx migrate run` fails with "previously applied but has been
modified". Drizzle and Supabase never check, so nothing warns you at all.

## Example
```sql
-- V3__create_users.sql, applied to the dev database, then edited:
CREATE TABLE users (
    id bigint PRIMARY KEY,
    email text NOT NULL UNIQUE   -- added afterwards
);
```

## Instead
```sql
-- V3__create_users.sql stays as it was applied; a new migration makes the change:
-- V9__users_email_unique.sql
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);
```

## Quick fix
The same two fixes as `shipped-migration-edited`, when the text the database applied is known:
for Supabase, the statements the ledger stored (the revert writes them back, one per line:
comments and layout of the edited file are lost); for Prisma, Flyway, sqlx and Drizzle, the file
at HEAD (git) when its checksum is the one the ledger stored. Otherwise (Atlas, whose hash runs
through every file, or a HEAD that is not what ran) no fix is offered.
- **Revert the edit**: restores the applied text; **unsafe** (drops the change) unless only layout
  or comments changed.
- **Move the change into a new migration**: restores the applied text and writes the added
  statements, and the `ALTER TABLE` statements derived from a `CREATE TABLE` edited in place, into
  a new migration after the newest one; only when the change can be derived that way.
  **Unsafe**.
"#;

fn check(_ctx: &StatementContext, _out: &mut Emitter) {}

const FIX: &str = "Revert the edit; move the change into a new migration";

/// Reports every applied migration whose file no longer matches its ledger row.
pub(crate) fn findings(
    checked: &[Checked<'_>],
    files: &FileSource<'_>,
    out: &mut Vec<(PathBuf, Finding)>,
) {
    for checked in checked {
        let Some(kind) = checked.spec.checksum else { continue };
        let atlas = if kind == ChecksumKind::Atlas { atlas_hashes(checked.set, files) } else { Vec::new() };
        for status in &checked.statuses {
            let (Some(m), Some(e), MigrationState::Applied { at }) = (status.migration, status.entry, &status.state)
            else {
                continue;
            };
            let Some(path) = checked.set.migrations[m].up.as_deref() else { continue };
            let Some((text, file)) = files(path) else { continue };
            let entry = &checked.ledger.entries[e];
            let fw = checked.set.framework;
            let applied = format!(
                "{fw} applied `{}` to the dev database{}",
                history::display_name(checked.set, path),
                ledger::when(*at)
            );
            if kind == ChecksumKind::Statements {
                let Some(stored) = &entry.statements else { continue };
                let current = checksum::statements(&file);
                let texts: Vec<String> = current.iter().map(|(_, s)| s.clone()).collect();
                let Some(diff) = checksum::diff_statements(stored, &texts) else { continue };
                let what = match (&diff.stored, &diff.file) {
                    (Some(s), Some(f)) => format!(
                        "statement {} differs: the ledger has `{}`, the file has `{}`",
                        diff.index + 1,
                        ledger::one_line(s, 60),
                        ledger::one_line(f, 60)
                    ),
                    (None, Some(f)) => format!(
                        "the file has {} statements, the ledger recorded {}; statement {} (`{}`) never ran",
                        diff.file_count,
                        diff.stored_count,
                        diff.index + 1,
                        ledger::one_line(f, 60)
                    ),
                    _ => format!(
                        "the ledger recorded {} statements, the file now has {}",
                        diff.stored_count, diff.file_count
                    ),
                };
                let range = diff
                    .file_position
                    .and_then(|i| current.get(i))
                    .map(|(r, _)| first_line(&text, r.clone()))
                    .unwrap_or_else(|| history::file_anchor(&file));
                let message = format!(
                    "{applied} and stored the statements it ran: {what}; {}. {FIX}",
                    (checked.spec.on_checksum_mismatch)(entry.label(), "", "")
                );
                out.push((path.to_path_buf(), history::finding(&RULE, &file, range, message, Some(FIX))));
                continue;
            }
            let Some(stored) = entry.checksum.as_deref().map(str::trim).filter(|s| !s.is_empty()) else { continue };
            let (matches, computed) = match kind {
                ChecksumKind::Atlas => {
                    // A file with `-- atlas:sum ignore` has no hash of its own: nothing to compare.
                    let Some(Some(computed)) = atlas.get(m) else { continue };
                    (checksum::atlas_matches(stored, computed), computed.clone())
                }
                _ => {
                    let Some(compared) = compare_checksum(kind, &text, stored) else { continue };
                    compared
                }
            };
            if matches {
                continue;
            }
            let message = format!(
                "{applied} with checksum {}; the file's checksum is now {}: {}. {FIX}",
                short(stored),
                short(&computed),
                (checked.spec.on_checksum_mismatch)(entry.label(), stored, &computed)
            );
            let range = history::file_anchor(&file);
            out.push((path.to_path_buf(), history::finding(&RULE, &file, range, message, Some(FIX))));
            if kind == ChecksumKind::Atlas {
                // The hash runs through every file: after the first difference every later hash
                // differs too, whether or not its file changed.
                break;
            }
        }
    }
}

/// Whether `text`'s checksum is `stored`, and the checksum, for the frameworks whose checksum
/// depends on the file alone (not Atlas, whose hash runs through every file, nor Supabase's
/// statements).
pub(crate) fn compare_checksum(kind: ChecksumKind, text: &str, stored: &str) -> Option<(bool, String)> {
    match kind {
        ChecksumKind::Prisma => Some((checksum::prisma_matches(text, stored), checksum::prisma(text))),
        ChecksumKind::Flyway => {
            let computed = checksum::flyway(text).to_string();
            Some((computed == stored, computed))
        }
        ChecksumKind::Sqlx => {
            let computed = checksum::sqlx_hex(text);
            Some((computed.eq_ignore_ascii_case(stored), computed))
        }
        ChecksumKind::Drizzle => {
            let computed = checksum::drizzle(text);
            Some((computed.eq_ignore_ascii_case(stored), computed))
        }
        ChecksumKind::Atlas | ChecksumKind::Statements => None,
    }
}

/// Each migration's `atlas.sum` hash, in set order (`None` for a file with `atlas:sum ignore`
/// and, once a file cannot be read, for every file from there on: the hash runs through all).
fn atlas_hashes(set: &MigrationSet, files: &FileSource<'_>) -> Vec<Option<String>> {
    let mut sum = AtlasSum::new();
    let mut readable = true;
    set.migrations
        .iter()
        .map(|m| {
            let path = m.up.as_deref()?;
            let name = path.file_name()?.to_str()?;
            let (text, _) = match files(path) {
                Some(f) if readable => f,
                _ => {
                    readable = false;
                    return None;
                }
            };
            sum.add(name, &text)
        })
        .collect()
}

/// A checksum for a message: short ones whole, long ones by their first 12 characters.
fn short(checksum: &str) -> String {
    if checksum.chars().count() <= 16 {
        checksum.to_string()
    } else {
        format!("{}…", checksum.chars().take(12).collect::<String>())
    }
}

/// The first line of `range` in `text`.
fn first_line(text: &str, range: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let start = range.start.min(text.len());
    let end = text[start..range.end.min(text.len()).max(start)].find('\n').map_or(range.end, |n| start + n);
    let end = end.min(text.len());
    let end = if text[start..end].ends_with('\r') { end - 1 } else { end };
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_checksums_are_shortened() {
        assert_eq!(short("1812668543"), "1812668543");
        assert_eq!(short("-310194927"), "-310194927");
        assert_eq!(short("3456c330330e5584db1ea42d855fe843"), "3456c330330e…");
    }

    #[test]
    fn first_lines() {
        let text = "SELECT 1;\r\nCREATE TABLE t (\n  id int\n);";
        assert_eq!(&text[first_line(text, 11..text.len())], "CREATE TABLE t (");
        assert_eq!(&text[first_line(text, 0..9)], "SELECT 1;");
    }
}
