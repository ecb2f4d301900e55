//! Expand/contract: the expand step of a change that running code would otherwise see break
//! (`rename-column`, `column-type-rewrite`), and the rename plus a view with the old name
//! (`rename-table`).
//!
//! The expand step replaces the statement in place (same transaction): the new column, added
//! without a default (no rewrite), a `CHECK (new IS NOT NULL) NOT VALID` when the old column is
//! NOT NULL (enforced on every write from now on, validated in the contract step without
//! blocking writes), a trigger function and a `BEFORE INSERT OR UPDATE` trigger that keep the
//! columns in sync, and a dated comment that spells out the contract step: the statements to
//! write in a later migration, once every running release uses the new name or type. The
//! existing rows are backfilled by the shared batched loop ([`super::batched`]) in a transaction
//! of their own ([`backfill`]): right after the statement when the file runs statement by
//! statement, after the `COMMIT` of an explicit block, else in a new migration right after this
//! one (outside a transaction where the framework allows it, so that each round commits).
//!
//! Defaults move in the contract step, not the expand step: with a default on the new column,
//! the trigger could not tell an insert by old code (which leaves the new column to its default)
//! from one by new code.

use chrono::{Days, NaiveDate, Utc};

use crate::rules::{Finding, StatementContext, TxnOrigin};
use crate::schema::{ConstraintType, Schema, Table};
use crate::sql::facts::{AlterAction, ObjectKind, QualifiedName};
use crate::sql::quote::{ident, literal};
use crate::sql::{Dialect, Statement, StatementKind};
use crate::workspace::frameworks::naming::slug;
use crate::workspace::frameworks::{framework, NoOptOut};
use crate::workspace::{Direction, FrameworkKind};

use super::batched::{primary_key, Batched, Change};
use super::placement::{closing_commit, indentation, mentioned_in, new_migration, reader, section_of, statements_in};
use super::{FileEdit, Fix, FixContext, Safety};

/// Days between the expand step and the earliest suggested contract step: at least one release
/// in between, so that no running instance still uses the old name or type.
pub(super) const CONTRACT_AFTER_DAYS: u64 = 14;

/// Today (UTC), from the system clock: the date the comments carry.
pub(super) fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// The earliest suggested date for the contract step.
pub(super) fn contract_date(today: NaiveDate) -> NaiveDate {
    today.checked_add_days(Days::new(CONTRACT_AFTER_DAYS)).unwrap_or(today)
}

/// `text` at a statement-relative span.
fn at(statement: &Statement, span: crate::sql::Span) -> &str {
    statement.parsed.text.get(span.start as usize..span.end as usize).unwrap_or("")
}

/// A generated identifier: `words` as a slug, cut so that `suffix` fits in 63 bytes.
fn name63(words: &str, suffix: &str) -> String {
    let mut base = slug("", words);
    base.truncate(63usize.saturating_sub(suffix.len()));
    let base = base.trim_end_matches('_');
    format!("{base}{suffix}")
}

/// The schema prefix of a table as written (`s.` of `s.t`, nothing for `t`).
fn schema_prefix(statement: &Statement, table: &QualifiedName) -> Option<String> {
    match table.parts.as_slice() {
        [_] => Some(String::new()),
        [.., schema, _] => {
            let written = at(statement, schema.span);
            (!written.is_empty()).then(|| format!("{written}."))
        }
        [] => None,
    }
}

/// `ALTER TABLE [ONLY] name` as written, on one line (it goes into `--` comment lines too).
fn head_of(statement: &Statement, table: &QualifiedName) -> Option<String> {
    let head = statement.parsed.text.get(..table.span.end as usize)?;
    Some(if head.contains('\n') { head.split_whitespace().collect::<Vec<_>>().join(" ") } else { head.to_string() })
}

/// A later statement of the migration names one of `names`: it was written for the state after
/// the original statement (a column that no longer exists, a type that no column uses any more,
/// a name free again), which the expand step does not reach.
/// Only the statement's own part of the file counts (not a goose or dbmate down part).
fn later_depends(ctx: &FixContext, index: usize, names: &[String]) -> bool {
    let Some(statement) = ctx.file.statements.get(index) else { return true };
    let section = section_of(ctx, statement.range.start);
    let end = statements_in(ctx.file, &section).last().map_or(index + 1, |last| last + 1);
    mentioned_in(ctx.file, index + 1, end, names)
}

/// A later statement of the statement's part of the file alters or drops a type: the shape of
/// an enum swap, which needs the column off the old type by then.
fn later_type_change(ctx: &FixContext, index: usize) -> bool {
    let Some(statement) = ctx.file.statements.get(index) else { return true };
    let section = section_of(ctx, statement.range.start);
    statements_in(ctx.file, &section).into_iter().filter(|&i| i > index).any(|i| {
        ctx.file.statements.get(i).is_some_and(|s| match s.kind() {
            StatementKind::AlterObject(o) => o.object == ObjectKind::Type,
            StatementKind::Drop(d) => d.object == ObjectKind::Type,
            _ => false,
        })
    })
}

/// The statement is in a down migration (or the down part of a file): undoing a migration is no
/// place for an expand step, nor for a new up migration holding its backfill.
fn in_down_part(ctx: &FixContext, index: usize) -> bool {
    let (Some(place), Some(statement)) = (ctx.place, ctx.file.statements.get(index)) else { return false };
    framework(place.set.framework)
        .sections(place.path, ctx.text())
        .iter()
        .any(|s| s.direction == Direction::Down && s.range.contains(&statement.range.start))
}

/// A type as the replay keeps it (its tokens joined by spaces: `varchar ( 255 ) [ ]`) written as
/// people do (`varchar(255)[]`); spaces inside quoted names and between words stay.
fn tidy_type(text: &str) -> String {
    let chars: Vec<char> = text.trim().chars().collect();
    let mut out = String::with_capacity(chars.len());
    let mut quoted = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == '"' {
            quoted = !quoted;
        }
        if c.is_whitespace() && !quoted {
            let prev = out.chars().last();
            let next = chars.iter().skip(i).find(|x| !x.is_whitespace());
            let glue =
                matches!(prev, Some('(' | '[' | ',') | None) || matches!(next, Some('(' | ')' | '[' | ']' | ','));
            if glue || prev.is_some_and(char::is_whitespace) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// The bare name of a type as written: `"Kind" [ ]` → `Kind`, `app.mood` → `mood`.
fn type_base_name(written: &str) -> String {
    let base = written.split(['[', '(']).next().unwrap_or(written).trim();
    let last = base.rsplit('.').next().unwrap_or(base);
    last.trim_matches('"').to_string()
}

/// `-- ` before every line of `lines` that is not empty.
fn commented(lines: &[String], indent: &str) -> Vec<String> {
    lines.iter().map(|l| format!("--{indent}{l}")).collect()
}

/// Whether the file is a goose migration: goose splits on `;` at line ends unless a statement
/// sits between `-- +goose StatementBegin` and `StatementEnd`.
fn is_goose(ctx: &FixContext) -> bool {
    ctx.place.is_some_and(|p| p.set.framework == FrameworkKind::Goose)
}

/// A statement that holds `;` inside (a function body, a `DO` block), annotated for goose.
fn block(sql: String, goose: bool) -> String {
    if goose {
        format!("-- +goose StatementBegin\n{sql}\n-- +goose StatementEnd")
    } else {
        sql
    }
}

/// `lines` (joined with `\n`) in the file's line ending, each line after the first indented.
fn lay_out(text: &str, nl: &str, indent: &str) -> String {
    text.split('\n').collect::<Vec<_>>().join(&format!("{nl}{indent}"))
}

/// Whether the contract step needs `BEGIN … COMMIT` of its own: not when the runner wraps a new
/// migration of several statements in a transaction or sends it as one query string (how it
/// runs a plain new file, whatever opt-out this file has); for a file outside a migration set,
/// as this file runs.
fn own_transaction(ctx: &FixContext) -> bool {
    match ctx.place {
        Some(place) => {
            let plain = "SELECT 1;\nSELECT 2;\n";
            let mode = framework(place.set.framework).transaction_in(place.path, plain, place.set.dialect);
            !mode.wraps && !mode.implicit_batch
        }
        None => !ctx.settings.wraps_in_transaction && !ctx.settings.implicit_transaction,
    }
}

/// The dated comment naming the contract step: `what` says what to do and when, `sql` the
/// statements (written as `--   <statement>` lines, to copy into a later migration), `notes`
/// what the user must carry over by hand.
fn contract_comment(ctx: &FixContext, today: NaiveDate, what: &str, sql: &[String], notes: &[String]) -> Vec<String> {
    let later = contract_date(today);
    let mut out = vec![format!(
        "-- Contract step (safemig, {today}): a later migration, in a release after the one that ships this (not before {later}), once no running code {what}:"
    )];
    let mut steps = Vec::new();
    let wrap = own_transaction(ctx);
    if wrap {
        steps.push("BEGIN;".to_string());
    }
    // The contract takes ACCESS EXCLUSIVE locks: fail fast rather than queue everyone behind it.
    steps.push(format!("SET LOCAL lock_timeout = {};", literal(&ctx.settings.lock_timeout)));
    steps.extend(sql.iter().cloned());
    if wrap {
        steps.push("COMMIT;".to_string());
    }
    out.extend(commented(&steps, "   "));
    out.extend(notes.iter().map(|n| format!("-- {n}")));
    out
}

/// The batched backfill and where it went.
struct Backfill {
    /// Text to append after the rewritten statement (in the same replacement).
    inline: Option<String>,
    /// Other edits (after the `COMMIT`, or a new migration).
    edits: Vec<FileEdit>,
    /// For the title: "right after it", "after the COMMIT", "in a new migration …".
    place: String,
}

/// Puts the batched loop `make(commit)` (a `DO` block) in a transaction of its own after
/// statement `index`: right after it when the file runs statement by statement outside a
/// transaction (each round commits), after the `COMMIT` of its explicit block, else in a new
/// migration right after this one — outside a transaction where the framework can (its opt-out,
/// or a file of one statement for the runners that send a file as one query string), so that
/// each round commits; in the migration's transaction otherwise.
fn backfill(ctx: &FixContext, index: usize, make: &dyn Fn(bool) -> String, slug_: &str) -> Option<Backfill> {
    let text = ctx.text();
    let nl = ctx.newline();
    let migration = ctx.migration();
    let sc = migration.statement(index);
    let statement = ctx.file.statements.get(index)?;
    let goose = is_goose(ctx);
    let one_by_one = !ctx.settings.implicit_transaction && !ctx.settings.wraps_in_transaction;
    match sc.transaction() {
        None if one_by_one => {
            let indent = indentation(text, statement.range.start);
            let sql = lay_out(&block(make(true), goose), nl, indent);
            Some(Backfill {
                inline: Some(format!("{nl}{indent}{sql}")),
                edits: Vec::new(),
                place: "right after it".into(),
            })
        }
        Some(TxnOrigin::Explicit(_)) => {
            let commit = ctx.file.statements.get(closing_commit(&sc)?)?;
            let indent = indentation(text, commit.range.start);
            let sql = lay_out(&block(make(one_by_one), goose), nl, indent);
            let end = commit.range.end;
            Some(Backfill {
                inline: None,
                edits: vec![FileEdit::Replace { range: end..end, text: format!("{nl}{indent}{sql}") }],
                place: "after the COMMIT".into(),
            })
        }
        _ => {
            let place = ctx.place?;
            let fw = framework(place.set.framework);
            let read = reader(&place);
            let (opt_out, commit) = match fw.opt_out(place.path, text, statement.range.start, nl, &read) {
                Ok(_) => (true, true),
                Err(NoOptOut::OwnFile) => (false, true),
                Err(NoOptOut::AlwaysInTransaction) => (false, false),
            };
            let from = place.path.strip_prefix(&place.set.dir).unwrap_or(place.path).display().to_string();
            let how = if commit { "each round commits" } else { "the runner runs it in one transaction" };
            let intro = format!("-- Backfill split from {from} by safemig ({how}).\n");
            let body = format!("{}\n", block(make(commit), goose));
            let new = new_migration(ctx, slug_, &intro, &body, opt_out)?;
            Some(Backfill { inline: None, edits: new.edits, place: format!("in a new migration {}", new.name) })
        }
    }
}

/// What the contract step must carry over from `column` by hand: the indexes and constraints on
/// it, and the foreign keys that reference it.
fn carried_over(schema: &Schema, table: &Table, column: &str) -> Vec<String> {
    let mut out = Vec::new();
    for index in schema.indexes_of(table) {
        if !index.constraint && index.columns.iter().any(|c| c == column) {
            out.push(format!("index {}", index.name));
        }
    }
    for c in table.constraints.iter() {
        if c.columns.iter().any(|x| x == column) && !matches!(c.kind, ConstraintType::Check { not_null_of: Some(_) }) {
            out.push(format!("constraint {}", c.name));
        }
    }
    let key = table.name.as_str();
    for other in schema.tables() {
        for c in other.constraints.iter() {
            if let ConstraintType::ForeignKey { table: target, columns } = &c.kind {
                if target == key && columns.iter().any(|x| x == column) {
                    out.push(format!("foreign key {} of {}", c.name, other.name));
                }
            }
        }
    }
    out
}

/// The note that lists what to carry over, if anything.
fn carry_note(items: &[String], from: &str, to: &str) -> Vec<String> {
    if items.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "Before dropping {from}, re-create on {to} what it has (CONCURRENTLY / NOT VALID, in earlier migrations): {}.",
        items.join(", ")
    )]
}

/// `rename-column` (PostgreSQL): `ALTER TABLE t RENAME COLUMN a TO b` → the expand step: `b` with
/// `a`'s type, a trigger that keeps both in sync (on insert the new column wins when it is
/// set, else it takes the old one's value; on update the one that changed is copied to the
/// other), a batched backfill, and the contract step in a dated comment. Not offered when the
/// type of `a` is unknown (no replayed schema), `a` is an identity/serial or primary-key column,
/// or the table has no single-column primary key to batch over.
pub(super) fn rename_column(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    if ctx.settings.dialect != Dialect::Postgres {
        return;
    }
    let Some(statement) = ctx.file.statements.get(finding.statement) else { return };
    if in_down_part(ctx, finding.statement) {
        return;
    }
    let StatementKind::AlterTable(alter) = statement.kind() else { return };
    let [action] = alter.actions.as_slice() else { return };
    let AlterAction::RenameColumn { from, to } = &action.action else { return };
    if alter.if_exists || from.value == to.value {
        return;
    }
    let Some(schema) = ctx.schema.replayed() else { return };
    let Some((table, column)) = schema.column(&alter.table, &from.value) else { return };
    let Some(ty) = &column.ty else { return };
    let in_key = table.primary_key().is_some_and(|k| k.columns.contains(&from.value));
    if column.generated || ty.is_serial() || in_key || table.column(&to.value).is_some() {
        return;
    }
    if later_depends(ctx, finding.statement, std::slice::from_ref(&from.value)) {
        return;
    }
    let Some(key) = primary_key(ctx.schema, &alter.table) else { return };
    let Some(prefix) = schema_prefix(statement, &alter.table) else { return };
    let table_sql = at(statement, alter.table.span);
    let Some(head) = head_of(statement, &alter.table) else { return };
    let (a, b) = (ident(&from.value), ident(&to.value));
    let short = alter.table.name();
    let sync = name63(&format!("{short}_{}_{}", from.value, to.value), "_sync");
    let check = name63(&format!("{short}_{}", to.value), "_not_null");
    let function = format!("{prefix}{sync}");
    let migration = ctx.migration();
    let sc = migration.statement(finding.statement);
    let execute = if sc.pg_at_least(11) { "FUNCTION" } else { "PROCEDURE" };
    let goose = is_goose(ctx);
    let today = today();

    let mut lines = vec![
        format!(
            "-- Expand step (safemig, {today}) of renaming {}.{} to {}: old code keeps using {a}, new code uses {b}; the trigger keeps both in sync.",
            alter.table, from.value, to.value
        ),
        format!("{head} ADD COLUMN {b} {};", tidy_type(&ty.text)),
    ];
    if column.not_null {
        lines.push(format!("{head} ADD CONSTRAINT {check} CHECK ({b} IS NOT NULL) NOT VALID;"));
    }
    lines.push(block(
        format!(
            "CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $safemig$\n\
             BEGIN\n  \
             IF TG_OP = 'INSERT' THEN\n    \
             IF NEW.{b} IS NULL THEN\n      \
             NEW.{b} := NEW.{a};\n    \
             ELSE\n      \
             NEW.{a} := NEW.{b};\n    \
             END IF;\n  \
             ELSIF NEW.{b} IS DISTINCT FROM OLD.{b} THEN\n    \
             NEW.{a} := NEW.{b};\n  \
             ELSE\n    \
             NEW.{b} := NEW.{a};\n  \
             END IF;\n  \
             RETURN NEW;\n\
             END\n\
             $safemig$;"
        ),
        goose,
    ));
    lines.push(format!(
        "CREATE TRIGGER {sync} BEFORE INSERT OR UPDATE ON {table_sql} FOR EACH ROW EXECUTE {execute} {function}();"
    ));
    let mut contract = Vec::new();
    if column.not_null {
        contract.push(format!("{head} VALIDATE CONSTRAINT {check};"));
    }
    contract.push(format!("DROP TRIGGER {sync} ON {table_sql};"));
    contract.push(format!("DROP FUNCTION {function}();"));
    if column.not_null {
        contract.push(format!("{head} ALTER COLUMN {b} SET NOT NULL;"));
        contract.push(format!("{head} DROP CONSTRAINT {check};"));
    }
    if let Some(default) = &column.default {
        contract.push(format!("{head} ALTER COLUMN {b} SET DEFAULT {default};"));
    }
    contract.push(format!("{head} DROP COLUMN {a};"));
    let notes = carry_note(&carried_over(schema, table, &from.value), &a, &b);
    lines.extend(contract_comment(ctx, today, &format!("reads or writes {a}"), &contract, &notes));

    let assignments = format!("{b} = {a}");
    let filter = format!("{b} IS DISTINCT FROM {a}");
    let make = |commit: bool| {
        Batched {
            table: table_sql,
            key: &key,
            change: Change::Update { assignments: &assignments },
            filter: Some(&filter),
            commit,
        }
        .sql()
    };
    let Some(fill) = backfill(ctx, finding.statement, &make, &slug("backfill_", &format!("{short}_{}", to.value)))
    else {
        return;
    };
    let title = format!(
        "Expand/contract: add `{}` kept in sync with `{}` by a trigger, backfill it {}, drop `{}` in a later release",
        to.value, from.value, fill.place, from.value
    );
    push(finding, ctx, statement, lines, fill, title, out);
}

/// The fix: the statement replaced by `lines` (and the inline backfill), plus the other edits.
fn push(
    finding: &Finding,
    ctx: &FixContext,
    statement: &Statement,
    lines: Vec<String>,
    fill: Backfill,
    title: String,
    out: &mut Vec<Fix>,
) {
    let nl = ctx.newline();
    let indent = indentation(ctx.text(), statement.range.start);
    let mut text = lay_out(&lines.join("\n"), nl, indent);
    if let Some(inline) = fill.inline {
        text.push_str(&inline);
    }
    let mut edits = vec![FileEdit::Replace { range: statement.range.clone(), text }];
    edits.extend(fill.edits);
    out.push(Fix { rule: finding.rule, title, preferred: true, safety: Safety::Unsafe, edits });
}

/// `column-type-rewrite` (PostgreSQL): `ALTER TABLE t ALTER COLUMN c TYPE x [USING e]` → the
/// expand step: `c_new x`, a trigger that writes `c_new` from `c` (with `e`, or a cast) on every
/// insert and update, a batched backfill, and the contract step in a dated comment (in one
/// transaction: drop the trigger, drop `c`, rename `c_new` to `c`, NOT NULL and the default back).
/// Not offered when the column is unknown (no replayed schema), generated, in the primary key,
/// `c_new` exists, the table has no single-column primary key, or the change has a `COLLATE`.
pub(super) fn column_type(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    let Some(statement) = ctx.file.statements.get(finding.statement) else { return };
    if in_down_part(ctx, finding.statement) {
        return;
    }
    let StatementKind::AlterTable(alter) = statement.kind() else { return };
    let [action] = alter.actions.as_slice() else { return };
    let AlterAction::AlterColumnType { column: c, ty, using } = &action.action else { return };
    if alter.if_exists || at(statement, action.span).to_ascii_uppercase().contains("COLLATE") {
        return;
    }
    let Some(schema) = ctx.schema.replayed() else { return };
    let Some((table, column)) = schema.column(&alter.table, &c.value) else { return };
    let in_key = table.primary_key().is_some_and(|k| k.columns.contains(&c.value));
    let new_name = name63(&c.value, "_new");
    let new_name = if c.value.len() + 4 <= 63 { format!("{}_new", c.value) } else { new_name };
    if column.generated || in_key || table.column(&new_name).is_some() {
        return;
    }
    // E.g. Prisma's enum swap: the old type is renamed and dropped right after the change.
    let old_type = column.ty.as_ref().map(|t| type_base_name(&t.text));
    let mut names = vec![c.value.clone()];
    names.extend(old_type);
    if later_depends(ctx, finding.statement, &names) || later_type_change(ctx, finding.statement) {
        return;
    }
    let Some(key) = primary_key(ctx.schema, &alter.table) else { return };
    let Some(prefix) = schema_prefix(statement, &alter.table) else { return };
    let table_sql = at(statement, alter.table.span);
    let Some(head) = head_of(statement, &alter.table) else { return };
    let ty_sql = at(statement, ty.span);
    if ty_sql.is_empty() {
        return;
    }
    let (col, new) = (ident(&c.value), ident(&new_name));
    let using_sql = using.map(|u| at(statement, u).get(5..).unwrap_or("").trim().to_string());
    let expr = match &using_sql {
        Some(e) if !e.is_empty() => e.clone(),
        Some(_) => return,
        None => format!("{col}::{ty_sql}"),
    };
    let short = alter.table.name();
    let sync = name63(&format!("{short}_{new_name}"), "_sync");
    let check = name63(&format!("{short}_{new_name}"), "_not_null");
    let function = format!("{prefix}{sync}");
    // In the trigger the row is `NEW`: the expression reads its columns from it by name.
    let computed = match &using_sql {
        Some(e) => format!("(SELECT {e} FROM (SELECT NEW.*) AS {})", ident(short)),
        None => format!("NEW.{col}::{ty_sql}"),
    };
    let migration = ctx.migration();
    let sc = migration.statement(finding.statement);
    let execute = if sc.pg_at_least(11) { "FUNCTION" } else { "PROCEDURE" };
    let goose = is_goose(ctx);
    let today = today();

    let mut lines = vec![
        format!(
            "-- Expand step (safemig, {today}) of changing {}.{} to {ty_sql}: {new} follows {col} through the trigger until the contract step swaps them.",
            alter.table, c.value
        ),
        format!("{head} ADD COLUMN {new} {ty_sql};"),
    ];
    if column.not_null {
        lines.push(format!("{head} ADD CONSTRAINT {check} CHECK ({new} IS NOT NULL) NOT VALID;"));
    }
    lines.push(block(
        format!(
            "CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $safemig$\n\
             BEGIN\n  \
             NEW.{new} := {computed};\n  \
             RETURN NEW;\n\
             END\n\
             $safemig$;"
        ),
        goose,
    ));
    lines.push(format!(
        "CREATE TRIGGER {sync} BEFORE INSERT OR UPDATE ON {table_sql} FOR EACH ROW EXECUTE {execute} {function}();"
    ));
    let mut contract = Vec::new();
    if column.not_null {
        contract.push(format!("{head} VALIDATE CONSTRAINT {check};"));
    }
    contract.push(format!("LOCK TABLE {table_sql} IN ACCESS EXCLUSIVE MODE;"));
    contract.push(format!("DROP TRIGGER {sync} ON {table_sql};"));
    contract.push(format!("DROP FUNCTION {function}();"));
    contract.push(format!("{head} DROP COLUMN {col};"));
    // Only the trigger used `c_new`: the code keeps finding `c`.
    contract.push(format!(
        "{head} RENAME COLUMN {new} TO {col};  -- safemig: ignore rename-column — {col} keeps its name for the code"
    ));
    if column.not_null {
        contract.push(format!("{head} ALTER COLUMN {col} SET NOT NULL;"));
        contract.push(format!("{head} DROP CONSTRAINT {check};"));
    }
    if let Some(default) = &column.default {
        contract.push(format!("{head} ALTER COLUMN {col} SET DEFAULT {default};"));
    }
    let notes = carry_note(&carried_over(schema, table, &c.value), &col, &new);
    lines.extend(contract_comment(ctx, today, &format!("depends on the old type of {col}"), &contract, &notes));

    let assignments = format!("{new} = {expr}");
    let filter = format!("{new} IS DISTINCT FROM ({expr})");
    let make = |commit: bool| {
        Batched {
            table: table_sql,
            key: &key,
            change: Change::Update { assignments: &assignments },
            filter: Some(&filter),
            commit,
        }
        .sql()
    };
    let Some(fill) = backfill(ctx, finding.statement, &make, &slug("backfill_", &format!("{short}_{new_name}"))) else {
        return;
    };
    let title = format!(
        "Expand/contract: add `{new_name}` {ty_sql} kept in sync by a trigger, backfill it {}, swap it for `{}` in a later release",
        fill.place, c.value
    );
    push(finding, ctx, statement, lines, fill, title, out);
}

/// `rename-table` (PostgreSQL): `ALTER TABLE a RENAME TO b` → the rename and `CREATE VIEW a AS
/// SELECT * FROM b` in one transaction (`BEGIN … COMMIT` around them when the statement runs in
/// none), with a dated comment naming the contract step (`DROP VIEW a`). Not offered for
/// `IF EXISTS`, a relation that is not a plain table, or when a later statement of the migration
/// renames another table into the old name (a swap).
pub(super) fn rename_table(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    if ctx.settings.dialect != Dialect::Postgres {
        return;
    }
    let Some(statement) = ctx.file.statements.get(finding.statement) else { return };
    if in_down_part(ctx, finding.statement) {
        return;
    }
    let StatementKind::AlterTable(alter) = statement.kind() else { return };
    let [action] = alter.actions.as_slice() else { return };
    let AlterAction::RenameTable { to } = &action.action else { return };
    if alter.if_exists {
        return;
    }
    if let Some(schema) = ctx.schema.replayed() {
        if schema.view(&alter.table).is_some() || schema.table(&alter.table).is_some_and(|t| t.temporary) {
            return;
        }
    }
    let migration = ctx.migration();
    let sc = migration.statement(finding.statement);
    let reused = later_depends(ctx, finding.statement, &[alter.table.name().to_string()]);
    if reused || sc.later_renamed_into(&alter.table).is_some() || !names_a_plain_table(&sc) {
        return;
    }
    let Some(prefix) = schema_prefix(statement, &alter.table) else { return };
    let old = at(statement, alter.table.span);
    if old.is_empty() {
        return;
    }
    let new = format!("{prefix}{}", ident(&to.value));
    let today = today();
    let later = contract_date(today);
    let Some(original) = ctx.text().get(statement.range.clone()) else { return };
    let mut lines = Vec::new();
    let wrap = sc.transaction().is_none();
    if wrap {
        lines.push("BEGIN;".to_string());
    }
    lines.push(original.replace("\r\n", "\n"));
    lines.push(format!(
        "-- safemig {today}: old code keeps reading and writing {old} through this view (a view over one table is updatable)."
    ));
    lines.push(format!("-- `SELECT *` is expanded now: columns added to {new} later do not appear in the view."));
    lines.push(format!(
        "-- Contract step: a later migration, in a release after the one that ships this (not before {later}), once no running code uses {old}:"
    ));
    lines.push(format!("--   DROP VIEW {old};"));
    lines.push(format!("CREATE VIEW {old} AS SELECT * FROM {new};"));
    if wrap {
        lines.push("COMMIT;".to_string());
    }
    let nl = ctx.newline();
    let indent = indentation(ctx.text(), statement.range.start);
    let text = lay_out(&lines.join("\n"), nl, indent);
    let how = if wrap { "in a transaction" } else { "in the same transaction" };
    out.push(Fix {
        rule: finding.rule,
        title: format!("Leave an updatable view `{old}` over `{new}` {how} (drop it in a later release)"),
        preferred: true,
        safety: Safety::Unsafe,
        edits: vec![FileEdit::Replace { range: statement.range.clone(), text }],
    });
}

/// No earlier statement of the migration made the name a view or something else than a table
/// (`CREATE VIEW a`, `CREATE MATERIALIZED VIEW a`).
fn names_a_plain_table(sc: &StatementContext) -> bool {
    let StatementKind::AlterTable(alter) = sc.kind() else { return false };
    let key = alter.table.key();
    !sc.earlier().any(|(_, s)| match s.kind() {
        StatementKind::CreateObject(o) => {
            matches!(o.object, ObjectKind::View | ObjectKind::MaterializedView) && o.name.key() == key
        }
        _ => false,
    })
}
