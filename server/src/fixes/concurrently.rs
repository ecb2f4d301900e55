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
//! | always a transaction (Supabase, Drizzle, node-pg-migrate), or no migration set | no fix |
//!
//! Moving the statement past later ones that name its table or index could change what they
//! do: such a move is [`Safety::Unsafe`].

use sqlparser::tokenizer::Token;

use crate::rules::{Finding, MigrationContext, NoSchema, TxnOrigin};
use crate::sql::lexer::Tok;
use crate::sql::StatementKind;
use crate::workspace::frameworks::naming::slug;
use crate::workspace::frameworks::{framework, NoOptOut};

use super::placement::{
    closing_commit, indentation, mentioned_in, new_migration, opt_out_edits, other_sections_single, reader, removal,
    runs_up, section_of, statements_in,
};
use super::{FileEdit, Fix, FixContext, Safety};

/// What the fix inserts and says.
struct Concurrent {
    /// Statement-relative offset where ` CONCURRENTLY` goes.
    at: usize,
    /// "Use CREATE INDEX CONCURRENTLY".
    title: String,
    /// What the keyword buys, for the title of the in-place fix.
    effect: &'static str,
    /// File-name slug of a new migration.
    slug: String,
    /// The table and index, lower case: moving past a later statement naming them may change
    /// what it does (unsafe).
    names: Vec<String>,
    /// The index built, dropped or rebuilt: moving past a later statement naming it breaks the
    /// migration (the index is not there yet, or still there), so no such move is offered.
    index: Option<String>,
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
    let c = Concurrent {
        at,
        title: format!("Use CREATE {unique}INDEX CONCURRENTLY"),
        effect: "writes continue during the build",
        slug: slug("", &format!("create_index_{subject}")),
        names,
        index: ci.name.as_ref().map(|n| n.value.clone()),
    };
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
    let c = Concurrent {
        at,
        title: "Use DROP INDEX CONCURRENTLY".into(),
        effect: "reads and writes continue",
        slug: slug("", &format!("drop_index_{}", name.name())),
        names: vec![name.name().to_string()],
        index: Some(name.name().to_string()),
    };
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
    let c = Concurrent {
        at,
        title: format!("Use REINDEX {} CONCURRENTLY", r.target),
        effect: "writes continue during the rebuild",
        slug: slug("", &format!("reindex_{name}")),
        index: (r.target == "INDEX" && !name.is_empty()).then(|| name.clone()),
        names: if name.is_empty() { Vec::new() } else { vec![name] },
    };
    leave_transaction(finding, ctx, &c, out);
}

/// The fixes for a statement that gains ` CONCURRENTLY`, wherever it runs.
fn leave_transaction(finding: &Finding, ctx: &FixContext, c: &Concurrent, out: &mut Vec<Fix>) {
    let i = finding.statement;
    let Some(statement) = ctx.file.statements.get(i) else { return };
    let text = ctx.text();
    let nl = ctx.newline();
    let at = statement.range.start + c.at;
    if at > statement.range.end {
        return;
    }
    let keyword = FileEdit::Replace { range: at..at, text: " CONCURRENTLY".into() };
    let rewritten = format!("{} CONCURRENTLY{}", &text[statement.range.start..at], &text[at..statement.range.end]);
    let migration = MigrationContext::new(ctx.file, ctx.settings, &NoSchema);
    let sc = migration.statement(i);
    let fix = |title: String, preferred: bool, safety: Safety, edits: Vec<FileEdit>| Fix {
        rule: finding.rule,
        title,
        preferred,
        safety,
        edits,
    };
    let remove = FileEdit::Replace { range: removal(text, statement.range.clone()), text: String::new() };
    let refusal = "it cannot run in a transaction block";
    match sc.transaction() {
        None => out.push(fix(format!("{} ({})", c.title, c.effect), true, Safety::Safe, vec![keyword])),
        Some(TxnOrigin::Explicit(_)) => {
            let Some(commit) = closing_commit(&sc) else { return };
            if breaks_later(ctx, c, i + 1, commit) {
                return;
            }
            let end = ctx.file.statements[commit].range.end;
            let indent = indentation(text, ctx.file.statements[commit].range.start);
            let moved = FileEdit::Replace { range: end..end, text: format!("{nl}{indent}{rewritten}") };
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
            let mut in_place = vec![keyword];
            in_place.extend(opt_out_edits(&opt));
            if in_section == [i] {
                let safety = safety_of(!other_sections_single(ctx, &section));
                let title = format!("{}, outside the migration's transaction: {}", c.title, opt.how);
                out.push(fix(title, true, safety, in_place));
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

/// The statement, rewritten, moved into a new migration right after this one.
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
    let new = new_migration(ctx, &c.slug, &intro, &format!("{rewritten}\n"), opt_out)?;
    let safety = safety_of(mentioned_in(ctx.file, index + 1, later_end, &c.names));
    let mut edits = vec![remove];
    edits.extend(new.edits);
    Some(Fix {
        rule,
        title: format!("{}, in a new migration {} (it cannot run in a transaction block)", c.title, new.name),
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
fn word_end(tokens: &[Tok], word: &str) -> Option<usize> {
    tokens
        .iter()
        .find(|t| matches!(&t.token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word)))
        .map(|t| t.end as usize)
}
