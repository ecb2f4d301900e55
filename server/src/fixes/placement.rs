//! Where a rewritten statement goes when it must not run where it is: after the `COMMIT` of its
//! explicit block, under the framework's transaction opt-out, or in a new migration right after
//! this one (in the framework's naming, from `workspace::frameworks::naming`). Shared by the
//! fixes; what a framework does lives in `workspace::frameworks`.

use std::ops::Range;
use std::path::Path;

use crate::rules::{MigrationContext, NoSchema, StatementContext};
use crate::sql::facts::TransactionControl;
use crate::sql::{SqlFile, StatementKind};
use crate::workspace::frameworks::naming::{runner_reads_new_files, Namer};
use crate::workspace::frameworks::{framework, OptOut, OptOutEdit};

use super::{FileEdit, FixContext, Place};

/// The range that removes the statement at `range` from `text`: its whole line (indentation and
/// line ending included) when nothing else is on it, else the statement alone.
pub(super) fn removal(text: &str, range: Range<usize>) -> Range<usize> {
    let line_start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..range.start];
    let rest = &text[range.end..];
    let line_end = rest.find('\n').map_or(text.len(), |i| range.end + i + 1);
    let after = &text[range.end..line_end];
    if before.trim().is_empty() && after.trim().is_empty() {
        line_start..line_end
    } else {
        range
    }
}

/// The indentation of the line `at` is on.
pub(super) fn indentation(text: &str, at: usize) -> &str {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start..at];
    &line[..line.len() - line.trim_start().len()]
}

/// The `COMMIT` that closes the explicit block the statement runs in; `None` when the block
/// ends in `ROLLBACK` or never closes.
pub(super) fn closing_commit(ctx: &StatementContext) -> Option<usize> {
    ctx.later().find_map(|(i, s)| match s.kind() {
        StatementKind::Transaction(TransactionControl::Commit) => Some(Some(i)),
        StatementKind::Transaction(TransactionControl::Rollback) => Some(None),
        _ => None,
    })?
}

/// Whether a statement in `from..to` names any of `names` (lower case): moving a statement past
/// it may change what it does.
pub(super) fn mentioned_in(file: &SqlFile, from: usize, to: usize, names: &[String]) -> bool {
    file.statements
        .get(from..to.min(file.statements.len()))
        .unwrap_or_default()
        .iter()
        .any(|s| s.facts().identifiers.iter().any(|id| names.iter().any(|n| n.eq_ignore_ascii_case(&id.value))))
}

/// The byte range of the part of the file (up or down section) around byte `at`.
pub(super) fn section_of(ctx: &FixContext, at: usize) -> Range<usize> {
    let whole = 0..ctx.text().len();
    let Some(place) = ctx.place else { return whole };
    framework(place.set.framework)
        .sections(place.path, ctx.text())
        .into_iter()
        .map(|s| s.range)
        .find(|r| r.contains(&at))
        .unwrap_or(whole)
}

/// The statements (not empty ones) that start in `range`, by index.
pub(super) fn statements_in(file: &SqlFile, range: &Range<usize>) -> Vec<usize> {
    file.statements
        .iter()
        .enumerate()
        .filter(|(_, s)| range.contains(&s.range.start) && !matches!(s.kind(), StatementKind::Empty))
        .map(|(i, _)| i)
        .collect()
}

/// Every section of the file holds at most one statement, except `except`'s (an opt-out that
/// covers the whole file then takes no other statement's transaction away).
pub(super) fn other_sections_single(ctx: &FixContext, except: &Range<usize>) -> bool {
    let Some(place) = ctx.place else { return true };
    framework(place.set.framework)
        .sections(place.path, ctx.text())
        .iter()
        .filter(|s| s.range != *except)
        .all(|s| statements_in(ctx.file, &s.range).len() <= 1)
}

/// The edits of a framework's opt-out.
pub(super) fn opt_out_edits(opt: &OptOut) -> Vec<FileEdit> {
    match &opt.edit {
        OptOutEdit::InFile { range, text } => vec![FileEdit::Replace { range: range.clone(), text: text.clone() }],
        OptOutEdit::CreateFile { path, text } => vec![FileEdit::Create { path: path.clone(), text: text.clone() }],
        OptOutEdit::EditFile { path, old, range, text } => vec![FileEdit::ReplaceIn {
            path: path.clone(),
            range: range.clone(),
            text: text.clone(),
            expected: old.clone(),
        }],
    }
}

/// Reads a file next to the migration.
pub(super) fn reader<'p>(place: &'p Place<'p>) -> impl Fn(&Path) -> Option<String> + 'p {
    move |p: &Path| place.sources.text(p).map(|t| t.to_string())
}

/// A new migration right after this one.
pub(super) struct NewMigration {
    pub edits: Vec<FileEdit>,
    /// Its first file, relative to the set's directory.
    pub name: String,
}

/// A new migration right after the file's own, in the framework's naming, holding `body` (SQL
/// ending with a line break) after the comment `intro`; `outside_transaction` adds the
/// framework's opt-out. `None` when no version key fits between this migration and the next one,
/// or one of its files exists.
pub(super) fn new_migration(
    ctx: &FixContext,
    slug: &str,
    intro: &str,
    body: &str,
    outside_transaction: bool,
) -> Option<NewMigration> {
    let body = body.replace("\r\n", "\n");
    new_migration_with(ctx, slug, intro, &|_| body.clone(), outside_transaction)
}

/// [`new_migration`] with a body that depends on the framework: `body(true)` for goose, which
/// needs `-- +goose StatementBegin`/`StatementEnd` around a PL/pgSQL block (lines joined with
/// `\n`).
pub(super) fn new_migration_with(
    ctx: &FixContext,
    slug: &str,
    intro: &str,
    body: &dyn Fn(bool) -> String,
    outside_transaction: bool,
) -> Option<NewMigration> {
    let place = ctx.place?;
    let set = place.set;
    if !runner_reads_new_files(set.framework) {
        return None;
    }
    let (index, this) = set.migration_of(place.path)?;
    let namer = Namer::after(set, index, slug);
    let key = namer.version_key(0)?;
    let fits = key > this.version
        && set.migrations.get(index + 1).is_none_or(|next| key < next.version)
        && !set.migrations.iter().any(|m| m.version == key);
    if !fits {
        return None;
    }
    let from = place.path.strip_prefix(&set.dir).unwrap_or(place.path).display().to_string();
    let down = format!("-- Nothing to undo here: the down part of {from} undoes it, as before the move.\n");
    let files = namer.files(0, body, intro, outside_transaction, &down);
    if files.iter().any(|f| place.sources.text(&f.path).is_some()) {
        return None;
    }
    let nl = ctx.newline();
    let name = files.first()?.name.clone();
    let edits = files
        .into_iter()
        .map(|f| FileEdit::Create { path: f.path, text: if nl == "\n" { f.text } else { f.text.replace('\n', nl) } })
        .collect();
    Some(NewMigration { edits, name })
}

/// Statements placed in a transaction after the one statement `index` runs in.
pub(super) struct Later {
    pub edits: Vec<FileEdit>,
    /// For titles: "right after it", "after the COMMIT", "in a new migration 0004_x.up.sql".
    pub place: String,
}

/// Puts `sql` (statements, each with its `;`) in a transaction after the one statement `index`
/// runs in: right after it when it runs in none (each statement is its own transaction, and the
/// runner does not send the file as one query string), after
/// the `COMMIT` of its explicit block, else in a new migration right after this one (carrying
/// the `lock_timeout` in effect at the statement). `None` when there is no such place.
pub(super) fn in_later_transaction(ctx: &FixContext, index: usize, sql: &[String], slug: &str) -> Option<Later> {
    let text = ctx.text();
    let nl = ctx.newline();
    let migration = MigrationContext::new(ctx.file, ctx.settings, &NoSchema);
    let sc = migration.statement(index);
    let statement = ctx.file.statements.get(index)?;
    let after = |at: usize, from: usize, place: &str| {
        let indent = indentation(text, from);
        let lines: String = sql.iter().map(|s| format!("{nl}{indent}{s}")).collect();
        Later { edits: vec![FileEdit::Replace { range: at..at, text: lines }], place: place.to_string() }
    };
    match sc.transaction() {
        // A runner that sends the file as one query string would run the added statements in
        // one implicit transaction with it.
        None if !ctx.settings.implicit_transaction => {
            Some(after(statement.range.end, statement.range.start, "right after it"))
        }
        Some(crate::rules::TxnOrigin::Explicit(_)) => {
            let commit = ctx.file.statements.get(closing_commit(&sc)?)?;
            Some(after(commit.range.end, commit.range.start, "after the COMMIT"))
        }
        _ => {
            let place = ctx.place?;
            let mut body = String::new();
            if let Some(value) = lock_timeout_at(&sc) {
                // How the runner runs a plain file of several statements.
                let plain = "SELECT 1;\nSELECT 2;\n";
                let wraps = framework(place.set.framework).transaction_in(place.path, plain, place.set.dialect);
                let local = if wraps.wraps || wraps.implicit_batch { "LOCAL " } else { "" };
                body.push_str(&format!("SET {local}lock_timeout = {value};\n"));
            }
            for s in sql {
                body.push_str(s);
                body.push('\n');
            }
            let from = place.path.strip_prefix(&place.set.dir).unwrap_or(place.path).display().to_string();
            let intro = format!("-- Split from {from} by safemig: this runs in a transaction of its own.\n");
            let new = new_migration(ctx, slug, &intro, &body, false)?;
            Some(Later { edits: new.edits, place: format!("in a new migration {}", new.name) })
        }
    }
}

/// The `lock_timeout` value in effect at the statement (from a `SET [LOCAL]` earlier in the
/// file that still applies), as a quoted literal.
pub(super) fn lock_timeout_at(sc: &StatementContext) -> Option<String> {
    sc.earlier().find_map(|(i, s)| match s.kind() {
        StatementKind::Set(p) if p.name == "lock_timeout" => {
            let value = p.value.trim().trim_matches('\'');
            let applies = (!p.local || sc.same_transaction_as(i)) && !value.eq_ignore_ascii_case("default");
            Some(applies.then(|| format!("'{}'", value.replace('\'', "''"))))
        }
        _ => None,
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removal_takes_the_line_when_the_statement_is_alone_on_it() {
        let text = "A;\n  B;\r\nC; D;\n";
        let b = text.find('B').unwrap_or_default();
        assert_eq!(&text[removal(text, b..b + 2)], "  B;\r\n");
        let c = text.find('C').unwrap_or_default();
        assert_eq!(&text[removal(text, c..c + 2)], "C;");
        let last = "A;\nB;";
        assert_eq!(&last[removal(last, 3..5)], "B;");
        assert_eq!(indentation(text, b), "  ");
    }
}
