//! `object-already-exists`: guard the statement with `IF NOT EXISTS` (or `CREATE OR REPLACE
//! VIEW`) where PostgreSQL has the clause, or remove it, naming the migration that already
//! creates the object.
//!
//! Both keep the object as the earlier migration made it: they are [`Safety::Safe`] only when the
//! earlier statement defined it the same way (same tokens, case and layout aside) and nothing
//! altered it since; otherwise this statement's definition is silently dropped (`IF NOT EXISTS`
//! skips it), so they are [`Safety::Unsafe`]. `CREATE OR REPLACE VIEW` instead replaces the
//! earlier definition with this one: safe only when they are the same too.
//!
//! A `CREATE TABLE` of a table that exists with another definition (an assistant re-creating a
//! table with one new column) also gets "Replace the CREATE TABLE with ALTER TABLE (keeps the new
//! column …)": the statements [`super::derive`] finds from the table as the replay has it before
//! this statement to the one this statement declares, in its place (after a `SET lock_timeout`
//! when nothing covers them). Preferred and [`Safety::Safe`] when they drop no column and change
//! no type; otherwise [`Safety::Unsafe`], and the title says what they drop. Not offered when the
//! definitions are the same or the change cannot be derived exactly.

use std::path::Path;
use std::sync::Arc;

use sqlparser::tokenizer::Token;

use crate::rules::Finding;
use crate::schema::{History, ObjectRef, Origin, ReplayEvent, Schema};
use crate::sql::{lexer, Dialect, SqlFile, StatementKind};

use super::derive;
use super::lock_timeout::needed_before;
use super::placement::{indentation, removal};
use super::{FileEdit, Fix, FixContext, Safety};

pub(super) fn object_already_exists(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    let Some(statement) = ctx.file.statements.get(finding.statement) else { return };
    // The replay the rule saw, computed once per request for every finding of the file.
    let events = ctx.migration().statement(finding.statement).replay_events();
    let Some((object, span, existing, guard)) = events.of(finding.statement).iter().find_map(|e| match e {
        ReplayEvent::AlreadyExists { object, span, existing, guard } if statement.abs(*span) == finding.range => {
            Some((object, *span, existing, *guard))
        }
        _ => None,
    }) else {
        return;
    };
    let text = ctx.text();
    if matches!(object, ObjectRef::Table(_)) {
        out.extend(alter_instead(finding, ctx, existing));
    }
    let same = same_definition(ctx, statement.range.clone(), existing);
    let safety = if same { Safety::Safe } else { Safety::Unsafe };
    let creator = creator(existing);
    let removable = single_effect(statement.kind(), object);
    if let Some(clause) = guard {
        let name_at = statement.abs(span).start;
        let edit = match clause {
            "OR REPLACE" => create_keyword_end(ctx, statement.range.start, name_at)
                .map(|at| FileEdit::Replace { range: at..at, text: " OR REPLACE".into() }),
            _ => Some(FileEdit::Replace { range: name_at..name_at, text: "IF NOT EXISTS ".into() }),
        };
        if let Some(edit) = edit {
            let title = match (clause, same) {
                ("OR REPLACE", true) => "Use CREATE OR REPLACE VIEW".to_string(),
                ("OR REPLACE", false) => format!("Use CREATE OR REPLACE VIEW (replaces the definition from {creator})"),
                (clause, true) => format!("Guard with {clause}"),
                (clause, false) => format!("Guard with {clause} (keeps the definition from {creator}, not this one)"),
            };
            out.push(Fix { rule: finding.rule, title, preferred: same && !removable, safety, edits: vec![edit] });
        }
    }
    if removable {
        out.push(Fix {
            rule: finding.rule,
            title: format!("Remove this statement ({creator} already creates it)"),
            preferred: same,
            safety,
            edits: vec![FileEdit::Replace { range: removal(text, statement.range.clone()), text: String::new() }],
        });
    }
}

/// "Replace the CREATE TABLE with ALTER TABLE": the statements that take the table as it is
/// before this statement to the definition this `CREATE TABLE` declares (see [`derive`]), in its
/// place, after a `SET lock_timeout` when nothing covers them. Preferred and [`Safety::Safe`]
/// unless they drop a column or change a type. None when the definitions are the same (the
/// guard and the removal are right then) or the change cannot be derived exactly.
fn alter_instead(finding: &Finding, ctx: &FixContext, existing: &History) -> Option<Fix> {
    let index = finding.statement;
    let statement = ctx.file.statements.get(index)?;
    let text = ctx.text();
    let dialect = ctx.settings.dialect;
    let new = derive::Declared::of(statement, text)?;
    let new_table = new.table(statement, dialect)?;
    let before = schema_before(ctx, index);
    let old_table = before.table(&new.ct.name)?;
    // The statement that created the table, for the definitions of what it made.
    let origin = existing.created.as_ref()?;
    let earlier = match &origin.path {
        None => None,
        Some(path) => Some(SqlFile::parse(&earlier_text(ctx, path)?, dialect, None)),
    };
    let file = earlier.as_ref().unwrap_or(ctx.file);
    let old_decl = statement_index_on_line(file, origin.line)
        .and_then(|i| file.statements.get(i))
        .and_then(|s| derive::Declared::of(s, &file.text));
    let old = derive::Side { table: old_table, declared: old_decl, schema: Some(&before) };
    let new_side = derive::Side { table: &new_table, declared: Some(new), schema: None };
    let derived = derive::alter_table(&new.ct.name, &old, &new_side, dialect)?;
    if derived.statements.is_empty() {
        return None;
    }
    let indent = indentation(text, statement.range.start);
    let sql: Vec<String> = needed_before(ctx, index).into_iter().chain(derived.statements.iter().cloned()).collect();
    let destructive = derived.destructive();
    Some(Fix {
        rule: finding.rule,
        title: format!("Replace the CREATE TABLE with ALTER TABLE ({})", derived.summary()),
        preferred: !destructive,
        safety: if destructive { Safety::Unsafe } else { Safety::Safe },
        edits: vec![FileEdit::Replace {
            range: statement.range.clone(),
            text: sql.join(&format!("{}{indent}", ctx.newline())),
        }],
    })
}

/// The schema right before statement `index` of the file: the schema before the file with the
/// statements before it replayed (as the rules' replay does, lines and all).
fn schema_before(ctx: &FixContext, index: usize) -> Schema {
    let mut schema = ctx.schema.replayed().cloned().unwrap_or_else(|| Schema::new(ctx.settings.dialect));
    let text = ctx.text();
    let mut line = 1;
    let mut at = 0;
    for stmt in ctx.file.statements.iter().take(index) {
        if matches!(stmt.kind(), StatementKind::Empty) {
            continue;
        }
        line += text.get(at..stmt.range.start).map_or(0, |s| s.matches('\n').count() as u32);
        at = stmt.range.start;
        schema.apply(stmt, &Origin::here(line));
    }
    schema
}

/// Whether removing the whole statement removes only the duplicate: an `ALTER TABLE` with one
/// action, a `CREATE TABLE` of the table itself, a `CREATE INDEX|VIEW|SEQUENCE|TYPE|TRIGGER`, an
/// `ALTER TYPE … ADD VALUE`.
fn single_effect(kind: &StatementKind, object: &ObjectRef) -> bool {
    match kind {
        StatementKind::CreateTable(_) => matches!(object, ObjectRef::Table(_)),
        StatementKind::AlterTable(at) => at.actions.len() == 1,
        StatementKind::CreateIndex(_)
        | StatementKind::CreateObject(_)
        | StatementKind::AlterObject(_)
        | StatementKind::CreateTrigger { .. } => true,
        _ => false,
    }
}

/// The statement that created the object, for titles: "migration 0003_add_email.sql",
/// "line 2 of this migration", "the baseline".
fn creator(existing: &History) -> String {
    match &existing.created {
        Some(o) => match o.file_label() {
            Some(file) => format!("migration {file}"),
            None => format!("line {} of this migration", o.line),
        },
        None => "the schema before the first migration".to_string(),
    }
}

/// Whether the earlier statement that created the object is this statement again (guards
/// aside), and nothing altered the object since.
fn same_definition(ctx: &FixContext, range: std::ops::Range<usize>, existing: &History) -> bool {
    let Some(origin) = &existing.created else { return false };
    if !existing.altered.is_empty() {
        return false;
    }
    let dialect = ctx.settings.dialect;
    let here = ctx.text().get(range).map(|s| tokens(dialect, s, true));
    let earlier = match &origin.path {
        None => statement_on_line(ctx.file, origin.line).map(|s| tokens(dialect, s, true)),
        Some(path) => earlier_text(ctx, path).and_then(|text| {
            let file = SqlFile::parse(&text, dialect, None);
            statement_on_line(&file, origin.line).map(|s| tokens(dialect, s, true))
        }),
    };
    here.is_some() && here == earlier
}

fn earlier_text(ctx: &FixContext, path: &Path) -> Option<Arc<str>> {
    let place = ctx.place?;
    if place.path == path {
        return Some(Arc::from(ctx.text()));
    }
    place.sources.text(path)
}

/// The text of the statement that starts on 1-based `line` of `file`.
fn statement_on_line(file: &SqlFile, line: u32) -> Option<&str> {
    let statement = file.statements.get(statement_index_on_line(file, line)?)?;
    file.text.get(statement.range.clone())
}

/// The index of the statement that starts on 1-based `line` of `file`.
fn statement_index_on_line(file: &SqlFile, line: u32) -> Option<usize> {
    let text = &file.text;
    file.statements.iter().position(|s| {
        !matches!(s.kind(), StatementKind::Empty)
            && text.get(..s.range.start).is_some_and(|before| before.matches('\n').count() as u32 + 1 == line)
    })
}

/// SQL's tokens for comparing what runs: no whitespace, comments or final `;`, unquoted words in
/// lower case; `without_guards` also leaves out `IF NOT EXISTS` and `OR REPLACE` (comparing
/// definitions).
pub(super) fn tokens(dialect: Dialect, statement: &str, without_guards: bool) -> Vec<String> {
    let lexed = lexer::tokenize(dialect.sqlparser(), statement);
    let mut tokens: Vec<String> = lexed
        .tokens
        .iter()
        .filter(|t| !t.is_trivia())
        .map(|t| match &t.token {
            Token::Word(w) if w.quote_style.is_none() => w.value.to_ascii_lowercase(),
            other => other.to_string(),
        })
        .collect();
    if let Some(e) = &lexed.error {
        tokens.push(statement.get(e.offset..).unwrap_or_default().trim().to_string());
    }
    while tokens.last().is_some_and(|t| t == ";") {
        tokens.pop();
    }
    if !without_guards {
        return tokens;
    }
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let rest = &tokens[i..];
        if rest.starts_with(&["if".into(), "not".into(), "exists".into()]) {
            i += 3;
        } else if rest.starts_with(&["or".into(), "replace".into()]) {
            i += 2;
        } else {
            out.push(tokens[i].clone());
            i += 1;
        }
    }
    out
}

/// The end of the statement's `CREATE` keyword (where ` OR REPLACE` goes), when the statement's
/// first token before the name is `CREATE`.
fn create_keyword_end(ctx: &FixContext, start: usize, name_at: usize) -> Option<usize> {
    let head = ctx.text().get(start..name_at)?;
    let lexed = lexer::tokenize(ctx.settings.dialect.sqlparser(), head);
    let first = lexed.tokens.iter().find(|t| !t.is_trivia())?;
    match &first.token {
        Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("create") => {
            Some(start + first.end as usize)
        }
        _ => None,
    }
}
