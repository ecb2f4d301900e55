//! Where a rewritten statement goes when it must not run where it is: after the `COMMIT` of its
//! explicit block, under the framework's transaction opt-out, or in a new migration right after
//! this one (in the framework's naming, from `workspace::frameworks::naming`). Shared by the
//! fixes; what a framework does lives in `workspace::frameworks`.

use std::ops::Range;
use std::path::Path;

use crate::rules::StatementContext;
use crate::sql::facts::TransactionControl;
use crate::sql::{SqlFile, StatementKind};
use crate::workspace::frameworks::naming::{runner_reads_new_files, writes_opt_out, Namer};
use crate::workspace::frameworks::{framework, OptOut, OptOutEdit};
use crate::workspace::{Direction, FrameworkKind, VersionKey};

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

/// Whether the byte `at` of the file runs when the migration is applied (an up file or section,
/// or a file with no directions), not when it is rolled back. A statement of a down part must
/// not move into a new migration: that would apply what the rollback was to do.
pub(super) fn runs_up(ctx: &FixContext, at: usize) -> bool {
    let Some(place) = ctx.place else { return true };
    framework(place.set.framework)
        .sections(place.path, ctx.text())
        .iter()
        .find(|s| s.range.contains(&at) || (s.range.end == at && at == ctx.text().len()))
        .is_none_or(|s| s.direction == Direction::Up)
}

/// What one new migration holds.
pub(super) struct NewSpec<'a> {
    pub slug: &'a str,
    /// The comment lines that open it.
    pub intro: &'a str,
    /// Its SQL, ending with a line break.
    pub body: String,
    /// Its SQL for goose, where a statement holding `;` (a `DO` block) sits between
    /// `-- +goose StatementBegin` and `-- +goose StatementEnd`.
    pub goose_body: String,
    /// Add the framework's transaction opt-out.
    pub outside_transaction: bool,
}

impl<'a> NewSpec<'a> {
    /// A migration of plain statements (none holding a `;` before its end).
    pub fn plain(slug: &'a str, intro: &'a str, body: &str, outside_transaction: bool) -> Self {
        NewSpec { slug, intro, body: body.to_string(), goose_body: body.to_string(), outside_transaction }
    }
}

/// A new migration right after the file's own, in the framework's naming, holding `body` (SQL
/// ending with a line break) after the comment `intro`; `outside_transaction` adds the
/// framework's opt-out. `None` when no version key fits between this migration and the next one,
/// one of its files exists, or the file has no up part (a down file's statements must not move
/// into a migration that is applied; callers check [`runs_up`] for a file with both parts).
pub(super) fn new_migration(
    ctx: &FixContext,
    slug: &str,
    intro: &str,
    body: &str,
    outside_transaction: bool,
) -> Option<NewMigration> {
    new_migration_at(ctx, 0, slug, intro, body, outside_transaction)
}

/// The `k + 1`-th new migration after the file's own (`k = 0` is [`new_migration`]): for a fix
/// that writes two migrations in a row, each with its own slug.
pub(super) fn new_migration_at(
    ctx: &FixContext,
    k: usize,
    slug: &str,
    intro: &str,
    body: &str,
    outside_transaction: bool,
) -> Option<NewMigration> {
    new_migrations_from(ctx, k, &[NewSpec::plain(slug, intro, body, outside_transaction)])?.pop()
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
    let spec = NewSpec { slug, intro, body: body(false), goose_body: body(true), outside_transaction };
    new_migrations(ctx, &[spec])?.pop()
}

/// Consecutive new migrations right after the file's own (the first takes the next version key,
/// the second the one after, …), in the framework's naming. `None` when their keys do not all
/// fit between this migration and the next one, or one of their files exists.
pub(super) fn new_migrations(ctx: &FixContext, specs: &[NewSpec]) -> Option<Vec<NewMigration>> {
    new_migrations_from(ctx, 0, specs)
}

/// [`new_migrations`], the first taking the `first + 1`-th version key after this migration.
fn new_migrations_from(ctx: &FixContext, first: usize, specs: &[NewSpec]) -> Option<Vec<NewMigration>> {
    let place = ctx.place?;
    let (index, this) = place.set.migration_of(place.path)?;
    if this.up.as_deref() != Some(place.path) {
        return None;
    }
    let next = place.set.migrations.get(index + 1).map(|m| &m.version);
    let from = place.path.strip_prefix(&place.set.dir).unwrap_or(place.path).display().to_string();
    let down = format!("-- Nothing to undo here: the down part of {from} undoes it, as before the move.\n");
    let fits = |key: &VersionKey| *key > this.version && next.is_none_or(|n| key < n);
    specs
        .iter()
        .enumerate()
        .map(|(j, spec)| {
            let namer = Namer::after(place.set, index, spec.slug);
            write_migration(ctx, &namer, first + j, &fits, spec, &down)
        })
        .collect()
}

/// A new migration right before the file's own (after the one before it), for a statement that
/// must run before this migration; `down` is the text of its down part where the framework has
/// one. `None` for the set's first migration, when no version key fits in between (consecutive
/// numbers), or when one of its files exists.
pub(super) fn new_migration_before(
    ctx: &FixContext,
    slug: &str,
    (intro, body, down): (&str, &str, &str),
    outside_transaction: bool,
) -> Option<NewMigration> {
    let place = ctx.place?;
    let (index, this) = place.set.migration_of(place.path)?;
    if this.up.as_deref() != Some(place.path) {
        return None;
    }
    let namer = Namer::before(place.set, index, slug);
    // Before the first migration there is no lower bound, and version 0 is no version to some
    // runners (goose): only between two migrations.
    let previous = &place.set.migrations.get(index.checked_sub(1)?)?.version;
    let fits = |key: &VersionKey| *key < this.version && key > previous;
    let spec = NewSpec::plain(slug, intro, body, outside_transaction);
    write_migration(ctx, &namer, 0, &fits, &spec, down)
}

/// A new migration after the newest migration of the file's set (a change that must not go into
/// a migration that already ran), in the framework's naming, holding `body` after the comment
/// `intro`, with `down` as its down part where the framework has one. `None` when the runner does
/// not read new files as they are, no version key sorts after every migration of the set, or
/// one of its files exists.
pub(super) fn new_last_migration(
    ctx: &FixContext,
    slug: &str,
    intro: &str,
    body: &str,
    down: &str,
    outside_transaction: bool,
) -> Option<NewMigration> {
    let set = ctx.place?.set;
    let namer = Namer::after_newest(set, slug);
    let fits = |key: &VersionKey| set.migrations.iter().all(|m| *key > m.version);
    let spec = NewSpec::plain(slug, intro, body, outside_transaction);
    write_migration(ctx, &namer, 0, &fits, &spec, down)
}

/// Migration `k` of `namer` (`spec` and the down part `down`), when the runner reads new files,
/// its version key passes `fits`, no migration has it and none of its files exists.
fn write_migration(
    ctx: &FixContext,
    namer: &Namer,
    k: usize,
    fits: &dyn Fn(&VersionKey) -> bool,
    spec: &NewSpec,
    down: &str,
) -> Option<NewMigration> {
    let place = ctx.place?;
    let set = place.set;
    if !runner_reads_new_files(set.framework) {
        return None;
    }
    let key = namer.version_key(k)?;
    if !fits(&key) || set.migrations.iter().any(|m| m.version == key) {
        return None;
    }
    let mut body = spec.body.replace("\r\n", "\n");
    let mut goose_body = spec.goose_body.replace("\r\n", "\n");
    if let Some(set) = lock_timeout_for_new(ctx, &body, spec.outside_transaction) {
        body.insert_str(0, &set);
        goose_body.insert_str(0, &set);
    }
    let text = |goose: bool| if goose { goose_body.clone() } else { body.clone() };
    let files = namer.files(k, &text, spec.intro, spec.outside_transaction, down);
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

/// `SET [LOCAL] lock_timeout = '<configured>';` for a new migration whose statements wait for a
/// lock that blocks queries with no lock_timeout in effect (what `lock-timeout-missing` flags):
/// a fix must not add that finding.
fn lock_timeout_for_new(ctx: &FixContext, body: &str, outside_transaction: bool) -> Option<String> {
    let settings = ctx.settings;
    let value = settings.lock_timeout.trim().trim_matches('\'');
    if settings.runner_sets_timeouts || value.is_empty() {
        return None;
    }
    let file = crate::sql::SqlFile::parse(body, settings.dialect, None);
    let migration = crate::rules::MigrationContext::new(&file, settings, ctx.schema);
    let rule = &crate::rules::lock_timeout_missing::RULE;
    if (0..file.statements.len()).all(|i| migration.statement(i).run(rule).is_empty()) {
        return None;
    }
    // SET LOCAL only where the new migration runs in a transaction: elsewhere it does nothing.
    let place = ctx.place?;
    let plain = "SELECT 1;\nSELECT 2;\n";
    let mode = framework(place.set.framework).transaction_in(place.path, plain, place.set.dialect);
    let local = if !outside_transaction && (mode.wraps || mode.implicit_batch) { "LOCAL " } else { "" };
    Some(format!("SET {local}lock_timeout = '{}';\n", value.replace('\'', "''")))
}

/// Statements placed in a transaction after the one statement `index` runs in.
pub(super) struct Later {
    pub edits: Vec<FileEdit>,
    /// For titles: "right after it", "after the COMMIT", "in a new migration 0004_x.up.sql",
    /// "in new migrations 0004_x.up.sql to 0006_z.up.sql".
    pub place: String,
}

/// One step of a chain placed after a statement: statements that run after the previous
/// step's have committed.
pub(super) struct LaterStep<'a> {
    /// File-name slug of a new migration for it.
    pub slug: String,
    /// Its statements, each with its `;`, given whether they run outside any transaction (a
    /// batched loop may then `COMMIT` per round).
    pub sql: &'a dyn Fn(bool) -> Vec<String>,
    /// It is best run outside a transaction (a batched loop): a new migration for it gets the
    /// framework's opt-out, and nothing else that could make a transaction of it.
    pub outside: bool,
}

/// Puts `sql` (statements, each with its `;`) in a transaction after the one statement `index`
/// runs in: right after it when it runs in none (each statement is its own transaction, and the
/// runner does not send the file as one query string), after
/// the `COMMIT` of its explicit block, else in a new migration right after this one (carrying
/// the `lock_timeout` in effect at the statement). `None` when there is no such place.
pub(super) fn in_later_transaction(ctx: &FixContext, index: usize, sql: &[String], slug: &str) -> Option<Later> {
    let step = LaterStep { slug: slug.to_string(), sql: &|_| sql.to_vec(), outside: false };
    in_later_transactions(ctx, index, &[step])
}

/// Puts each step in transactions of its own after the one statement `index` runs in, in
/// order: right after the statement when the file runs statement by statement (each statement
/// is then its own transaction), after the `COMMIT` of its explicit block (when the runner does
/// not send the file as one query string, which would make one transaction of all the steps;
/// a single step does not mind), else one new migration per step right after this one (each
/// carrying the `lock_timeout` in effect at the statement, except a step run outside a
/// transaction, whose migration must hold nothing but its loop). `None` when there is no such
/// place.
pub(super) fn in_later_transactions(ctx: &FixContext, index: usize, steps: &[LaterStep]) -> Option<Later> {
    let text = ctx.text();
    let nl = ctx.newline();
    let migration = ctx.migration();
    let sc = migration.statement(index);
    let statement = ctx.file.statements.get(index)?;
    let goose = ctx.place.is_some_and(|p| p.set.framework == FrameworkKind::Goose);
    let after = |at: usize, from: usize, outside: bool, place: &str| {
        let indent = indentation(text, from);
        let mut lines = String::new();
        for step in steps {
            for s in (step.sql)(outside) {
                let s = if goose { goose_statement(&s) } else { s };
                lines.push_str(&format!("{nl}{indent}{}", s.replace('\n', &format!("{nl}{indent}"))));
            }
        }
        Later { edits: vec![FileEdit::Replace { range: at..at, text: lines }], place: place.to_string() }
    };
    match sc.transaction() {
        // A runner that sends the file as one query string would run the added statements in
        // one implicit transaction with it.
        None if !ctx.settings.implicit_transaction => {
            Some(after(statement.range.end, statement.range.start, true, "right after it"))
        }
        Some(crate::rules::TxnOrigin::Explicit(_)) if steps.len() == 1 || !ctx.settings.implicit_transaction => {
            let commit = ctx.file.statements.get(closing_commit(&sc)?)?;
            let outside = !ctx.settings.implicit_transaction;
            Some(after(commit.range.end, commit.range.start, outside, "after the COMMIT"))
        }
        _ => {
            let place = ctx.place?;
            if !runs_up(ctx, statement.range.start) {
                return None;
            }
            let kind = place.set.framework;
            // How the runner runs a plain file of several statements.
            let plain = "SELECT 1;\nSELECT 2;\n";
            let wraps = framework(kind).transaction_in(place.path, plain, place.set.dialect);
            let lock_timeout = lock_timeout_at(&sc).map(|value| {
                let local = if wraps.wraps || wraps.implicit_batch { "LOCAL " } else { "" };
                format!("SET {local}lock_timeout = {value};")
            });
            let from = place.path.strip_prefix(&place.set.dir).unwrap_or(place.path).display().to_string();
            let intro = format!("-- Split from {from} by safemig: this runs in a transaction of its own.\n");
            let intro_outside = format!("-- Split from {from} by safemig: this runs outside a transaction.\n");
            let specs: Vec<NewSpec> = steps
                .iter()
                .map(|step| {
                    // The file's only statement, under the framework's opt-out (or in a runner
                    // that does not wrap): no transaction around it.
                    let outside = step.outside && (!wraps.wraps || writes_opt_out(kind));
                    let mut sql = (step.sql)(outside);
                    if !step.outside {
                        sql.splice(0..0, lock_timeout.clone());
                    }
                    let join = |goose: bool| {
                        sql.iter()
                            .map(|s| format!("{}\n", if goose { goose_statement(s) } else { s.clone() }))
                            .collect::<String>()
                    };
                    NewSpec {
                        slug: &step.slug,
                        intro: if outside { &intro_outside } else { &intro },
                        body: join(false),
                        goose_body: join(true),
                        outside_transaction: outside,
                    }
                })
                .collect();
            let new = new_migrations(ctx, &specs)?;
            let place = match new.as_slice() {
                [one] => format!("in a new migration {}", one.name),
                [first, .., last] => format!("in new migrations {} to {}", first.name, last.name),
                [] => return None,
            };
            Some(Later { edits: new.into_iter().flat_map(|m| m.edits).collect(), place })
        }
    }
}

/// A statement as goose reads it: one holding a `;` before its end (a `DO` block) between
/// `-- +goose StatementBegin` and `-- +goose StatementEnd`, else as it is.
fn goose_statement(sql: &str) -> String {
    let inner = sql.trim_end().trim_end_matches(';');
    if inner.contains(';') {
        format!("-- +goose StatementBegin\n{sql}\n-- +goose StatementEnd")
    } else {
        sql.to_string()
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
