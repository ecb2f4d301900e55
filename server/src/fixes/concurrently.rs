//! `CONCURRENTLY` for index builds, drops and rebuilds: the keyword, and getting the statement
//! out of the transaction it cannot run in.
//!
//! | where the statement runs | the fix |
//! |---|---|
//! | no transaction | insert the keyword |
//! | explicit `BEGIN … COMMIT` | the statement, with the keyword, moves after the `COMMIT` |
//! | the runner's transaction, the statement alone in its part of the file | the keyword and the framework's opt-out (goose `-- +goose NO TRANSACTION`, sqlx `-- no-transaction`, Atlas `-- atlas:txmode none`, dbmate `transaction:false`, Flyway `.sql.conf`, Diesel `metadata.toml`) |
//! | the runner's transaction, with other statements | the statement moves into a new migration right after this one, with the opt-out; where the runner runs statements one by one (goose, Atlas, Flyway) also, unsafe, the opt-out for the whole file |
//! | one query string (golang-migrate, Prisma) | the statement moves into a new migration of its own |
//! | always a transaction (Supabase, Drizzle, node-pg-migrate, pop), or no migration set | no fix |
//!
//! Moving the statement past later ones that name its table or index could change what they
//! do: such a move is [`Safety::Unsafe`].

use std::ops::Range;

use sqlparser::tokenizer::Token;

use crate::rules::{Finding, TxnOrigin};
use crate::sql::lexer::Tok;
use crate::sql::StatementKind;
use crate::workspace::frameworks::naming::slug;
use crate::workspace::frameworks::{framework, NoOptOut};

use super::placement::{
    closing_commit, in_later_transaction, indentation, mentioned_in, new_migration, new_migration_at, opt_out_edits,
    other_sections_single, reader, removal, runs_up, section_of, statements_in,
};
use super::{FileEdit, Fix, FixContext, Safety};

/// What the fix writes and says: a statement that must run outside any transaction, and what
/// must run after it. Other fixes build one (e.g. `unique`: the index build, then the
/// constraint `USING INDEX`) and hand it to [`leave_transaction`].
pub(super) struct Concurrent {
    /// The statement-relative edit that turns the statement into its concurrent form where it
    /// stands (` CONCURRENTLY` inserted, or the whole statement replaced).
    pub edit: (Range<usize>, String),
    /// What stays where the statement was when the concurrent statement moves (a step that may
    /// run in the transaction); `None`: nothing.
    pub left: Option<String>,
    /// Statements that must run after the concurrent one (each on its own, or together in one
    /// transaction), e.g. `ADD CONSTRAINT … USING INDEX`.
    pub then: Vec<String>,
    /// "Use CREATE INDEX CONCURRENTLY".
    pub title: String,
    /// What the keyword buys, for the title of the in-place fix.
    pub effect: &'static str,
    /// File-name slug of a new migration.
    pub slug: String,
    /// The table and index, lower case: moving past a later statement naming them may change
    /// what it does (unsafe).
    pub names: Vec<String>,
    /// The index built, dropped or rebuilt: moving past a later statement naming it breaks the
    /// migration (the index is not there yet, or still there), so no such move is offered.
    pub index: Option<String>,
    /// The fix is unsafe wherever it goes (its title says why).
    pub unsafe_always: bool,
}

impl Concurrent {
    /// Inserts ` CONCURRENTLY` at statement-relative `at`, nothing before or after.
    fn keyword(
        at: usize,
        title: String,
        effect: &'static str,
        slug: String,
        (names, index): (Vec<String>, Option<String>),
    ) -> Concurrent {
        Concurrent {
            edit: (at..at, " CONCURRENTLY".into()),
            left: None,
            then: Vec::new(),
            title,
            effect,
            slug,
            names,
            index,
            unsafe_always: false,
        }
    }

    /// More than the one concurrent statement: a runner that sends a file as one query string
    /// would run them in one implicit transaction.
    fn several(&self) -> bool {
        self.left.is_some() || !self.then.is_empty()
    }
}

/// `create-index-blocking`: `CREATE [UNIQUE] INDEX` → `CREATE [UNIQUE] INDEX CONCURRENTLY`.
pub(super) fn create_index(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    let Some(statement) = ctx.file.statements.get(finding.statement) else { return };
    let StatementKind::CreateIndex(ci) = statement.kind() else { return };
    if ci.concurrently.is_some() {
        return;
    }
    let Some(at) = word_end(&statement.parsed.tokens(), "INDEX") else { return };
    let mut names = vec![ci.table.name().to_string()];
    names.extend(ci.name.as_ref().map(|n| n.value.clone()));
    let subject = ci.name.as_ref().map_or_else(|| ci.table.name().to_string(), |n| n.value.clone());
    let unique = if ci.unique { "UNIQUE " } else { "" };
    let c = Concurrent::keyword(
        at,
        format!("Use CREATE {unique}INDEX CONCURRENTLY"),
        "writes continue during the build",
        slug("", &format!("create_index_{subject}")),
        (names, ci.name.as_ref().map(|n| n.value.clone())),
    );
    leave_transaction(finding, ctx, &c, out);
}

/// `drop-index-blocking`: `DROP INDEX name` → `DROP INDEX CONCURRENTLY name` (one index, no
/// `CASCADE`: the concurrent drop accepts neither more nor that).
pub(super) fn drop_index(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    let Some(statement) = ctx.file.statements.get(finding.statement) else { return };
    let StatementKind::DropIndex(di) = statement.kind() else { return };
    let [name] = di.names.as_slice() else { return };
    if di.concurrently.is_some() || di.cascade || di.table.is_some() {
        return;
    }
    let Some(at) = word_end(&statement.parsed.tokens(), "INDEX") else { return };
    let c = Concurrent::keyword(
        at,
        "Use DROP INDEX CONCURRENTLY".into(),
        "reads and writes continue",
        slug("", &format!("drop_index_{}", name.name())),
        (vec![name.name().to_string()], Some(name.name().to_string())),
    );
    leave_transaction(finding, ctx, &c, out);
}

/// `reindex-blocking`: `REINDEX INDEX|TABLE|SCHEMA|DATABASE name` → `… CONCURRENTLY name`.
pub(super) fn reindex(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    let Some(statement) = ctx.file.statements.get(finding.statement) else { return };
    let StatementKind::Reindex(r) = statement.kind() else { return };
    if r.concurrently.is_some() || !matches!(r.target.as_str(), "INDEX" | "TABLE" | "SCHEMA" | "DATABASE") {
        return;
    }
    let Some(at) = word_end(&statement.parsed.tokens(), &r.target) else { return };
    let name = r.name.as_ref().map_or_else(String::new, |n| n.name().to_string());
    let names = if name.is_empty() { Vec::new() } else { vec![name.clone()] };
    let index = (r.target == "INDEX" && !name.is_empty()).then(|| name.clone());
    let c = Concurrent::keyword(
        at,
        format!("Use REINDEX {} CONCURRENTLY", r.target),
        "writes continue during the rebuild",
        slug("", &format!("reindex_{name}")),
        (names, index),
    );
    leave_transaction(finding, ctx, &c, out);
}

/// `concurrently-in-transaction`: the statement, already concurrent, moved out of the
/// transaction it cannot run in (after the `COMMIT`, under the framework's opt-out, or into a new
/// migration), as the other CONCURRENTLY fixes move theirs.
pub(super) fn in_transaction(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    let Some(statement) = ctx.file.statements.get(finding.statement) else { return };
    if ctx.migration().statement(finding.statement).transaction().is_none() {
        return;
    }
    let (names, index, subject) = match statement.kind() {
        StatementKind::CreateIndex(ci) => {
            let mut names = vec![ci.table.name().to_string()];
            names.extend(ci.name.as_ref().map(|n| n.value.clone()));
            let index = ci.name.as_ref().map(|n| n.value.clone());
            let subject = index
                .clone()
                .map_or_else(|| format!("create_index_{}", ci.table.name()), |n| format!("create_index_{n}"));
            (names, index, subject)
        }
        StatementKind::DropIndex(di) => {
            let names: Vec<String> = di.names.iter().map(|n| n.name().to_string()).collect();
            let index = names.first().cloned().filter(|_| names.len() == 1);
            let subject = format!("drop_index_{}", names.join("_"));
            (names, index, subject)
        }
        StatementKind::Reindex(r) => {
            let name = r.name.as_ref().map_or_else(String::new, |n| n.name().to_string());
            let index = (r.target == "INDEX" && !name.is_empty()).then(|| name.clone());
            (vec![name.clone()], index, format!("reindex_{name}"))
        }
        // DETACH PARTITION … CONCURRENTLY and the like: every name it holds must not be passed.
        _ => {
            let names = statement.facts().identifiers.iter().map(|n| n.value.clone()).collect();
            (names, None, "concurrently".to_string())
        }
    };
    let c = Concurrent {
        edit: (0..0, String::new()),
        left: None,
        then: Vec::new(),
        title: "Run it outside a transaction block".into(),
        effect: "it already runs in none",
        slug: slug("", &subject),
        names,
        index,
        unsafe_always: false,
    };
    let mut offered = Vec::new();
    leave_transaction(finding, ctx, &c, &mut offered);
    // The statement stays as it is: no empty edit where the keyword would go.
    for mut fix in offered {
        fix.edits.retain(|e| !matches!(e, FileEdit::Replace { range, text } if range.is_empty() && text.is_empty()));
        out.push(fix);
    }
}

/// The fixes for a statement that becomes concurrent (`c`), wherever it runs: in place, after
/// the `COMMIT` of its block, under the framework's opt-out, or in a new migration after this
/// one (and `c.then` in a second one where the runner would send both as one query string).
pub(super) fn leave_transaction(finding: &Finding, ctx: &FixContext, c: &Concurrent, out: &mut Vec<Fix>) {
    let i = finding.statement;
    let Some(statement) = ctx.file.statements.get(i) else { return };
    let text = ctx.text();
    let nl = ctx.newline();
    let (edit, insert) = (&c.edit.0, &c.edit.1);
    let (Some(head), Some(tail)) = (statement.parsed.text.get(..edit.start), statement.parsed.text.get(edit.end..))
    else {
        return;
    };
    let rewritten = format!("{head}{insert}{tail}");
    let indent = indentation(text, statement.range.start);
    let in_place = in_place(statement.range.clone(), c, &rewritten, &format!("{nl}{indent}"));
    let migration = ctx.migration();
    let sc = migration.statement(i);
    let fix = |title: String, preferred: bool, safety: Safety, edits: Vec<FileEdit>| Fix {
        rule: finding.rule,
        title,
        preferred,
        safety: if c.unsafe_always { Safety::Unsafe } else { safety },
        edits,
    };
    let remove = match &c.left {
        Some(left) => FileEdit::Replace { range: statement.range.clone(), text: left.clone() },
        None => FileEdit::Replace { range: removal(text, statement.range.clone()), text: String::new() },
    };
    let refusal = "it cannot run in a transaction block";
    match sc.transaction() {
        // One query string of one statement is no transaction, but of several it is one.
        None if c.several() && ctx.settings.implicit_transaction => {
            out.extend(moved_out(ctx, c, &rewritten, (i, remove), false, i + 1, finding.rule));
        }
        None => out.push(fix(format!("{} ({})", c.title, c.effect), true, Safety::Safe, in_place)),
        Some(TxnOrigin::Explicit(_)) => {
            let Some(commit) = closing_commit(&sc) else { return };
            if breaks_later(ctx, c, i + 1, commit) {
                return;
            }
            let end = ctx.file.statements[commit].range.end;
            let indent = indentation(text, ctx.file.statements[commit].range.start);
            let moved: String =
                std::iter::once(&rewritten).chain(&c.then).map(|s| format!("{nl}{indent}{s}")).collect();
            let moved = FileEdit::Replace { range: end..end, text: moved };
            let safety = safety_of(mentioned_in(ctx.file, i + 1, commit, &c.names));
            out.push(fix(format!("{}, after the COMMIT ({refusal})", c.title), true, safety, vec![remove, moved]));
        }
        Some(TxnOrigin::Runner) => {
            let Some(place) = ctx.place else { return };
            if sc.explicit_block_open() {
                return;
            }
            let fw = framework(place.set.framework);
            let read = reader(&place);
            let section = section_of(ctx, statement.range.start);
            let in_section = statements_in(ctx.file, &section);
            let later_end = in_section.last().map_or(i + 1, |l| l + 1);
            let opt = match fw.opt_out(place.path, text, statement.range.start, nl, &read) {
                Ok(opt) => opt,
                Err(NoOptOut::AlwaysInTransaction) => return,
                Err(NoOptOut::OwnFile) => {
                    out.extend(moved_out(ctx, c, &rewritten, (i, remove), false, later_end, finding.rule));
                    return;
                }
            };
            // Opted out, a runner that sends one query string still needs the concurrent
            // statement alone in its file.
            let alone_in_query = !(fw.opted_out_sends_one_query() && c.several());
            let mut in_place = in_place;
            in_place.extend(opt_out_edits(&opt));
            if in_section == [i] && alone_in_query {
                let safety = safety_of(!other_sections_single(ctx, &section));
                let title = format!("{}, outside the migration's transaction: {}", c.title, opt.how);
                out.push(fix(title, true, safety, in_place));
                return;
            }
            if in_section == [i] && c.left.is_none() {
                // One query string: the concurrent statement alone here, opted out, and what
                // follows it in a new migration right after.
                let Some(later) = in_later_transaction(ctx, i, &c.then, &format!("{}_then", c.slug)) else { return };
                let mut edits = vec![FileEdit::Replace { range: statement.range.clone(), text: rewritten.clone() }];
                edits.extend(opt_out_edits(&opt));
                edits.extend(later.edits);
                let safety = safety_of(!other_sections_single(ctx, &section));
                let title =
                    format!("{}, outside the migration's transaction: {}; the rest {}", c.title, opt.how, later.place);
                out.push(fix(title, true, safety, edits));
                return;
            }
            out.extend(moved_out(ctx, c, &rewritten, (i, remove), true, later_end, finding.rule));
            if !fw.opted_out_sends_one_query() {
                let title = format!(
                    "{}, with the whole migration outside its transaction: {} (its other statements no longer roll back together)",
                    c.title, opt.how
                );
                out.push(fix(title, false, Safety::Unsafe, in_place));
            }
        }
        Some(TxnOrigin::ImplicitBatch) => {
            let section = section_of(ctx, statement.range.start);
            let later_end = statements_in(ctx.file, &section).last().map_or(i + 1, |l| l + 1);
            out.extend(moved_out(ctx, c, &rewritten, (i, remove), false, later_end, finding.rule));
        }
    }
}

/// The edits that make the statement at `range` concurrent where it stands: the keyword alone
/// when nothing comes with it, else the statement replaced by what stays, the concurrent
/// statement and what follows it, one per line (`sep`: line break and indentation).
fn in_place(range: Range<usize>, c: &Concurrent, rewritten: &str, sep: &str) -> Vec<FileEdit> {
    if !c.several() {
        let edit = c.edit.0.start + range.start..c.edit.0.end + range.start;
        return vec![FileEdit::Replace { range: edit, text: c.edit.1.clone() }];
    }
    let all: Vec<&str> =
        c.left.iter().map(String::as_str).chain([rewritten]).chain(c.then.iter().map(String::as_str)).collect();
    vec![FileEdit::Replace { range, text: all.join(sep) }]
}

/// The statement, rewritten, moved into a new migration right after this one; `c.then` goes
/// with it when the migration opts out of its transaction and the runner then runs statement by
/// statement, else into a second new migration after it (in a transaction).
fn moved_out(
    ctx: &FixContext,
    c: &Concurrent,
    rewritten: &str,
    (index, remove): (usize, FileEdit),
    opt_out: bool,
    later_end: usize,
    rule: &'static str,
) -> Option<Fix> {
    let place = ctx.place?;
    if !runs_up(ctx, ctx.file.statements.get(index)?.range.start) || breaks_later(ctx, c, index + 1, later_end) {
        return None;
    }
    let from = place.path.strip_prefix(&place.set.dir).unwrap_or(place.path).display().to_string();
    let intro = format!("-- Moved here from {from} by safemig: it cannot run in a transaction block.\n");
    let one_query = !opt_out || framework(place.set.framework).opted_out_sends_one_query();
    let mut body = format!("{rewritten}\n");
    if !one_query {
        body.extend(c.then.iter().map(|s| format!("{s}\n")));
    }
    let new = new_migration(ctx, &c.slug, &intro, &body, opt_out)?;
    let mut name = new.name;
    let mut edits = vec![remove];
    edits.extend(new.edits);
    if one_query && !c.then.is_empty() {
        let intro = format!("-- Moved here from {from} by safemig: it runs after the statement of {name}.\n");
        let body: String = c.then.iter().map(|s| format!("{s}\n")).collect();
        let second = new_migration_at(ctx, 1, &format!("{}_then", c.slug), &intro, &body, false)?;
        name = format!("{name} and {}", second.name);
        edits.extend(second.edits);
    }
    let safety = if c.unsafe_always {
        Safety::Unsafe
    } else {
        safety_of(mentioned_in(ctx.file, index + 1, later_end, &c.names))
    };
    let migrations = if one_query && !c.then.is_empty() { "new migrations" } else { "a new migration" };
    Some(Fix {
        rule,
        title: format!("{}, in {migrations} {name} (it cannot run in a transaction block)", c.title),
        preferred: true,
        safety,
        edits,
    })
}

/// Whether a statement in `from..to` names the index the statement builds, drops or rebuilds.
fn breaks_later(ctx: &FixContext, c: &Concurrent, from: usize, to: usize) -> bool {
    c.index.as_ref().is_some_and(|index| mentioned_in(ctx.file, from, to, std::slice::from_ref(index)))
}

fn safety_of(risky: bool) -> Safety {
    if risky {
        Safety::Unsafe
    } else {
        Safety::Safe
    }
}

/// The statement-relative end of the first unquoted word `word` (case-insensitive).
pub(super) fn word_end(tokens: &[Tok], word: &str) -> Option<usize> {
    tokens
        .iter()
        .find(|t| matches!(&t.token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word)))
        .map(|t| t.end as usize)
}
