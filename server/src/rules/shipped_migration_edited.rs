//! `shipped-migration-edited`: a migration file whose content differs from its blob at the
//! shipped ref, reported once per changed hunk on the changed lines of the current text.
//!
//! A fact about the repository, not about a statement: [`crate::history::findings`] calls
//! [`findings`]; the statement-level check has nothing to do.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use similar::{Algorithm, DiffOp};

use crate::history::{self, FileSource, GitHistory};
use crate::rules::{Category, Emitter, Finding, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::sql::SqlFile;
use crate::workspace::MigrationSet;

pub static RULE: Rule = Rule {
    id: "shipped-migration-edited",
    category: Category::History,
    default_severity: Severity::Error,
    dialects: ALL_DIALECTS,
    summary: "a migration that already shipped was edited",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
Lines of a migration file that differ from the same file at the shipped ref (`shipped_ref` in
`safemig.toml` or `--shipped-ref`; by default the upstream of the default branch, such as
`origin/main`). Each changed hunk is one finding on the changed lines; a deletion is reported on
the line after it. Line-ending differences (CRLF checkouts) are not edits.

## Why it hurts
Every database that already ran the migration keeps the old version: the runner records it as
applied and never runs it again. Fresh databases (CI, new developers, a new region) get the new
version. That is two timelines of one schema, and the difference shows up months later as a bug
that only happens in production. Runners that checksum migrations (Flyway, Prisma, Atlas, sqlx)
refuse to deploy at all once a shipped file changes.

## Example
```sql
-- 0003_create_users.sql, shipped last week, edited today:
CREATE TABLE users (
    id bigint PRIMARY KEY,
    email text NOT NULL UNIQUE   -- added after shipping
);
```

## Instead
```sql
-- 0003_create_users.sql stays as shipped; a new migration makes the change:
-- 0009_users_email_unique.sql
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);
```

## Quick fix
- **Revert the edit**: puts back the text at the shipped ref (one edit over the changed part,
  keeping the file's line endings). It drops your change, so it is **unsafe**, except when only
  layout or comments changed (the same tokens and the same framework directives such as
  `-- +goose NO TRANSACTION`): then nothing that runs changes and it is **safe**.
- **Move the change into a new migration**: reverts the file and writes the change into a new
  migration after the newest one of the set, in the framework's naming
  (`00009_create_users_followup.sql`, a Prisma or Diesel directory, Flyway `V9__…`; with a
  comment for the down part where the framework has one, and the file's transaction opt-out when
  it had one): the statements the edit added, and for a `CREATE TABLE` edited in place (a column
  added inside it, a type, default or NOT NULL changed, a constraint added or changed) the `ALTER
  TABLE` statements that take the shipped table to the edited one (`ADD COLUMN …` as written,
  `ALTER COLUMN … TYPE`, …; derived as for `object-already-exists`), in the edited file's order.
  Offered only when every shipped statement is still there, in order, as it was or as such an
  edited `CREATE TABLE` whose change can be derived exactly, and what moves is in the up part,
  the added statements outside an explicit `BEGIN … COMMIT`; otherwise only the revert is
  offered. Not for Drizzle (its journal lists the migrations). **Unsafe**: the databases that
  already ran the migration now run the change too, later, in a migration of their own; when it
  drops a column the title says so ("drops the column `legacy` and its data").

Both need git history; the editor and `safemig check --fix --unsafe` apply them.
"#;

fn check(_ctx: &StatementContext, _out: &mut Emitter) {}

/// Reports the changed hunks of every shipped migration file whose text differs from the ref.
pub fn findings(sets: &[MigrationSet], git: &GitHistory, files: &FileSource<'_>, out: &mut Vec<(PathBuf, Finding)>) {
    let mut current: Vec<Current> = Vec::new();
    for set in sets {
        for migration in &set.migrations {
            for path in migration.files() {
                if git.shipped_file(path).is_none() {
                    continue;
                }
                if let Some((text, file)) = files(path) {
                    current.push(Current { path, text, file });
                }
            }
        }
    }
    let requests: Vec<(&Path, &Arc<str>)> = current.iter().map(|c| (c.path, &c.text)).collect();
    let verdicts = git.shipped_text_if_changed(&requests);
    let changed: Vec<(&Current, Arc<str>)> =
        current.iter().zip(verdicts).filter_map(|(c, old)| Some((c, old?))).collect();
    let paths: Vec<&Path> = changed.iter().map(|(c, _)| c.path).collect();
    let commits = git.shipped_commits(&paths);
    for ((Current { path, text, file }, old), commit) in changed.into_iter().zip(commits) {
        let shipped = format!("shipped in {}{}", git.shipped_ref(), history::commit_clause(commit.as_ref()));
        for hunk in hunks(&old, text) {
            let message = if hunk.deleted_only {
                format!(
                    "{} line{} deleted here; this migration {shipped}; editing it creates two timelines — add a new \
                     migration instead",
                    hunk.deleted,
                    if hunk.deleted == 1 { "" } else { "s" }
                )
            } else {
                format!("{shipped}; editing it creates two timelines — add a new migration instead")
            };
            let fix = Some("Revert the edit; move the change into a new migration");
            out.push((path.to_path_buf(), history::finding(&RULE, file, hunk.range, message, fix)));
        }
    }
}

/// A shipped migration file as it is now.
struct Current<'p> {
    path: &'p Path,
    text: Arc<str>,
    file: Arc<SqlFile>,
}

/// One changed region, as a byte range of the current text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Hunk {
    /// The changed lines of the current text (without the last line break); for a pure deletion,
    /// the line after it (or the last line).
    range: Range<usize>,
    deleted_only: bool,
    deleted: usize,
}

/// Lines with their byte ranges (line break excluded) and their text for comparison: line
/// endings normalised, but a missing final line break is still a difference.
fn lines(text: &str) -> Vec<(Range<usize>, String)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let (end, next, terminated) = match text[start..].find('\n') {
            Some(n) => (start + n, start + n + 1, true),
            None => (text.len(), text.len(), false),
        };
        let content = text[start..end].strip_suffix('\r').unwrap_or(&text[start..end]);
        let key = if terminated { format!("{content}\n") } else { content.to_string() };
        out.push((start..start + content.len(), key));
        start = next;
    }
    out
}

/// The changed hunks of `new` against `old`, with no context lines.
fn hunks(old: &str, new: &str) -> Vec<Hunk> {
    let old_lines = lines(old);
    let new_lines = lines(new);
    let a: Vec<&str> = old_lines.iter().map(|(_, k)| k.as_str()).collect();
    let b: Vec<&str> = new_lines.iter().map(|(_, k)| k.as_str()).collect();
    let ops = similar::capture_diff_slices(Algorithm::Myers, &a, &b);
    let mut out = Vec::new();
    for group in similar::group_diff_ops(ops, 0) {
        let mut new_range: Option<Range<usize>> = None;
        let mut deleted = 0;
        let mut at = 0;
        for op in &group {
            match *op {
                DiffOp::Equal { .. } => {}
                DiffOp::Delete { old_len, new_index, .. } => {
                    deleted += old_len;
                    at = new_index;
                }
                DiffOp::Insert { new_index, new_len, .. } | DiffOp::Replace { new_index, new_len, .. } => {
                    if let DiffOp::Replace { old_len, .. } = *op {
                        deleted += old_len;
                    }
                    let r = new_index..new_index + new_len;
                    new_range = Some(match new_range {
                        Some(prev) => prev.start.min(r.start)..prev.end.max(r.end),
                        None => r,
                    });
                }
            }
        }
        let (lines_changed, deleted_only) = match new_range {
            Some(r) if !r.is_empty() => (r, false),
            _ => {
                // Deleted lines: point at the line that now follows them, or the last line.
                let line = at.min(new_lines.len().saturating_sub(1));
                (line..line + 1, true)
            }
        };
        let range = match (new_lines.get(lines_changed.start), new_lines.get(lines_changed.end.saturating_sub(1))) {
            (Some(first), Some(last)) => first.0.start..last.0.end,
            _ => 0..0,
        };
        out.push(Hunk { range, deleted_only, deleted });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hunk_per_changed_region_on_the_current_lines() {
        let old = "a;\nb;\nc;\nd;\ne;\n";
        let new = "a;\nB;\nc;\nd;\nx;\ny;\ne;\n";
        let h = hunks(old, new);
        assert_eq!(h.len(), 2);
        assert_eq!(&new[h[0].range.clone()], "B;");
        assert!(!h[0].deleted_only);
        assert_eq!(&new[h[1].range.clone()], "x;\ny;");
    }

    #[test]
    fn deletions_point_at_the_next_line() {
        let h = hunks("a;\nb;\nc;\n", "a;\nc;\n");
        assert_eq!(h.len(), 1);
        assert!(h[0].deleted_only);
        assert_eq!(h[0].deleted, 1);
        assert_eq!(&"a;\nc;\n"[h[0].range.clone()], "c;");
        let h = hunks("a;\nb;\n", "a;\n");
        assert_eq!(&"a;\n"[h[0].range.clone()], "a;");
    }

    #[test]
    fn line_endings_are_not_edits_but_a_missing_final_newline_is() {
        assert!(hunks("a;\nb;\n", "a;\r\nb;\r\n").is_empty());
        let h = hunks("a;\nb;\n", "a;\nb;");
        assert_eq!(h.len(), 1);
        assert_eq!(&"a;\nb;"[h[0].range.clone()], "b;");
    }
}
