//! `shipped-migration-edited` and `applied-migration-edited`: put back the text that already
//! ran somewhere (shipped at the git ref, or applied to the dev database), and optionally move
//! the edit into a new migration after the newest one of the set.
//!
//! - "Revert the edit" restores the old text with one edit (the changed middle of the file). It
//!   drops the user's change, so it is [`Safety::Unsafe`] unless the change was only layout or
//!   comments (the same tokens, the same framework directives): then nothing that runs changes
//!   and it is [`Safety::Safe`].
//! - "Move the change into a new migration" restores the old text and writes the change into a
//!   new migration after the newest one, in the framework's naming: the statements the edit
//!   added, and for a `CREATE TABLE` it edited (a column added inside it, a type or default
//!   changed, a constraint added) the `ALTER TABLE` statements that take the old table to the
//!   new one ([`super::derive`]), in the order of the edited file. It is only offered when every
//!   old statement is still there, in order, as it was or as such an edited `CREATE TABLE`
//!   whose change can be derived exactly, and what moves is in the up part — not a separate
//!   down file — with the added statements outside any explicit transaction block; otherwise
//!   only the revert is offered. Always [`Safety::Unsafe`]: databases that already ran the old
//!   migration now also run the change, later and in their own migration; when the derived
//!   statements drop a column, the title says so.
//!
//! The old text comes from [`super::ProjectFacts`]: the blob at the shipped ref; for the ledger,
//! the statements Supabase stored, or the file at HEAD when its checksum is the one the ledger
//! stored (Prisma, Flyway, sqlx, Drizzle). When it cannot be known, no fix.

use std::ops::Range;
use std::sync::Arc;

use crate::live::ledger::{self, MigrationState};
use crate::rules::applied_migration_edited::compare_checksum;
use crate::rules::Finding;
use crate::sql::{SqlFile, Statement, StatementKind};
use crate::workspace::frameworks::naming::slug;
use crate::workspace::frameworks::{framework, ChecksumKind};
use crate::workspace::Direction;

use super::derive;
use super::exists::tokens;
use super::placement::new_last_migration;
use super::{FileEdit, Fix, FixContext, Safety};

pub(super) fn shipped_edited(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    let (Some(place), Some(git)) = (ctx.place, ctx.project.git) else { return };
    let current: Arc<str> = Arc::from(ctx.text());
    let Some(Some(shipped)) = git.shipped_text_if_changed(&[(place.path, &current)]).pop() else { return };
    // Line endings are not edits (a CRLF checkout): the restored text keeps the file's.
    let shipped = with_newlines(&shipped, ctx.newline());
    restore(finding, ctx, &shipped, &format!("shipped in {}", git.shipped_ref()), out);
}

pub(super) fn applied_edited(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    let Some(applied) = applied_text(ctx) else { return };
    restore(finding, ctx, &applied, "applied to the dev database", out);
}

/// The text the dev database's ledger says it applied for this file, when it can be known.
fn applied_text(ctx: &FixContext) -> Option<String> {
    let place = ctx.place?;
    let ledger = ctx.project.ledger?;
    let set = place.set;
    let spec = framework(set.framework).ledger()?;
    let (index, migration) = set.migration_of(place.path)?;
    if migration.up.as_deref() != Some(place.path) {
        return None;
    }
    let entry = ledger::statuses(set, ledger).into_iter().find_map(|s| match s.state {
        MigrationState::Applied { .. } if s.migration == Some(index) => s.entry,
        _ => None,
    })?;
    let entry = ledger.entries.get(entry)?;
    match spec.checksum? {
        ChecksumKind::Statements => {
            let nl = ctx.newline();
            let statements = entry.statements.as_ref()?;
            let text: String = statements
                .iter()
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map(|s| if s.ends_with(';') { format!("{s}{nl}") } else { format!("{s};{nl}") })
                .collect();
            Some(text)
        }
        kind => {
            let stored = entry.checksum.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
            let head = ctx.project.git?.head_text(place.path)?;
            // The checksum says HEAD's text is byte for byte what ran: restored as it is.
            let (matches, _) = compare_checksum(kind, &head, stored)?;
            matches.then(|| head.to_string())
        }
    }
}

/// The revert, and the move when the edit only added statements.
fn restore(finding: &Finding, ctx: &FixContext, old: &str, ran: &str, out: &mut Vec<Fix>) {
    let text = ctx.text();
    if old == text {
        return;
    }
    let dialect = ctx.settings.dialect;
    let cosmetic = tokens(dialect, old, false) == tokens(dialect, text, false) && directives(old) == directives(text);
    let revert = minimal_replace(text, old);
    out.push(Fix {
        rule: finding.rule,
        title: if cosmetic {
            "Revert the edit (only layout or comments changed)".to_string()
        } else {
            format!("Revert the edit (drops the change: restores the text {ran})")
        },
        preferred: cosmetic,
        safety: if cosmetic { Safety::Safe } else { Safety::Unsafe },
        edits: vec![revert.clone()],
    });
    if cosmetic {
        return;
    }
    let Some(place) = ctx.place else { return };
    let Some((_, migration)) = place.set.migration_of(place.path) else { return };
    if migration.up.as_deref() != Some(place.path) {
        // A separate down file: what it gained undoes something, it is no new migration.
        return;
    }
    let Some((body, losses)) = moved_statements(ctx, old) else { return };
    let from = place.path.strip_prefix(&place.set.dir).unwrap_or(place.path).display().to_string();
    let intro = format!("-- Moved from {from} by safemig: that migration already ran ({ran}).\n");
    let down = format!("-- Undo the statements moved from {from} here.\n");
    // A migration that opted out of the runner's transaction keeps doing so for what it added.
    let mode = framework(place.set.framework).transaction_in(place.path, text, place.set.dialect);
    let name = slug("", &format!("{} followup", migration.name));
    let name = if name.is_empty() { "followup".to_string() } else { name };
    let Some(new) = new_last_migration(ctx, &name, &intro, &body, &down, mode.opted_out_by.is_some()) else {
        return;
    };
    let mut edits = vec![revert];
    edits.extend(new.edits);
    out.push(Fix {
        rule: finding.rule,
        title: match losses {
            Some(losses) => format!("Move the change into a new migration {} ({losses})", new.name),
            None => format!("Move the change into a new migration {}", new.name),
        },
        preferred: true,
        safety: Safety::Unsafe,
        edits,
    });
}

/// What the edit changed, as statements for a new migration (their text, each on its own line),
/// and what they lose, for the title ("drops the column `x` and its data"): the statements it
/// added, and for a `CREATE TABLE` it edited, the `ALTER TABLE` statements that take the old
/// table to the new one ([`derive`]). Every old statement must still be there, in order, as it
/// was or as such an edited `CREATE TABLE`; what moves runs up and is no transaction control.
/// `None` otherwise, or when nothing changed that way.
fn moved_statements(ctx: &FixContext, old: &str) -> Option<(String, Option<String>)> {
    let dialect = ctx.settings.dialect;
    let file = ctx.file;
    let text = ctx.text();
    let old_file = SqlFile::parse(old, dialect, None);
    let signatures = |f: &'_ SqlFile| -> Vec<(usize, Vec<String>)> {
        f.statements
            .iter()
            .enumerate()
            .filter(|(_, s)| !matches!(s.kind(), StatementKind::Empty))
            .filter_map(|(i, s)| Some((i, tokens(dialect, f.text.get(s.range.clone())?, false))))
            .collect()
    };
    let before = signatures(&old_file);
    let now = signatures(file);
    let mut matched = 0;
    let mut pieces = Vec::new();
    for (index, sig) in &now {
        let statement = file.statements.get(*index)?;
        if before.get(matched).is_some_and(|(_, old_sig)| old_sig == sig) {
            matched += 1;
        } else if let Some(derived) = before
            .get(matched)
            .and_then(|(i, _)| edited_table(ctx, old_file.statements.get(*i)?, &old_file.text, statement))
        {
            matched += 1;
            pieces.push((*index, Some(derived)));
        } else {
            pieces.push((*index, None));
        }
    }
    if matched != before.len() || pieces.is_empty() {
        return None;
    }
    let place = ctx.place?;
    let sections = framework(place.set.framework).sections(place.path, text);
    let runs_up = |r: &Range<usize>| {
        sections.iter().find(|s| s.range.contains(&r.start)).is_none_or(|s| s.direction != Direction::Down)
    };
    let goose = place.set.framework == crate::workspace::FrameworkKind::Goose;
    let mut body = String::new();
    let mut push = |sql: &str| {
        if goose && sql.contains('$') {
            // goose splits on `;` unless a dollar-quoted body is marked as one statement.
            body.push_str(&format!("-- +goose StatementBegin\n{sql}\n-- +goose StatementEnd\n"));
        } else {
            body.push_str(sql);
            body.push('\n');
        }
    };
    let mut losses = Vec::new();
    for (index, derived) in &pieces {
        let statement = file.statements.get(*index)?;
        if matches!(statement.kind(), StatementKind::Transaction(_)) || !runs_up(&statement.range) {
            return None;
        }
        match derived {
            Some(derived) => {
                derived.statements.iter().for_each(|sql| push(sql));
                losses.extend(derived.losses());
            }
            None => push(text.get(statement.range.clone())?.trim()),
        }
    }
    if body.is_empty() {
        return None;
    }
    // An added statement inside an explicit block of the old file would leave it.
    let in_block = crate::rules::MigrationContext::new(file, ctx.settings, &crate::rules::NoSchema);
    let explicit = pieces.iter().any(|(i, derived)| {
        derived.is_none() && matches!(in_block.statement(*i).transaction(), Some(crate::rules::TxnOrigin::Explicit(_)))
    });
    (!explicit).then(|| (body, (!losses.is_empty()).then(|| losses.join("; "))))
}

/// The statements that take the table of the old `CREATE TABLE` to the one the edited statement
/// declares, when both create the same table and that can be derived.
fn edited_table(ctx: &FixContext, old: &Statement, old_text: &str, new: &Statement) -> Option<derive::Derived> {
    let dialect = ctx.settings.dialect;
    let (old_decl, new_decl) = (derive::Declared::of(old, old_text)?, derive::Declared::of(new, ctx.text())?);
    if old_decl.ct.name.key() != new_decl.ct.name.key() {
        return None;
    }
    let (old_table, new_table) = (old_decl.table(old, dialect)?, new_decl.table(new, dialect)?);
    let old_side = derive::Side { table: &old_table, declared: Some(old_decl), schema: None };
    let new_side = derive::Side { table: &new_table, declared: Some(new_decl), schema: None };
    derive::alter_table(&new_decl.ct.name, &old_side, &new_side, dialect)
}

/// Lines that are framework directives written as comments (`-- +goose …`, `-- migrate:up`,
/// `-- atlas:…`, `-- no-transaction`, node-pg-migrate's `-- Up Migration`): changing them
/// changes how the file runs.
fn directives(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("--"))
        .map(|l| l.trim().to_ascii_lowercase())
        .filter(|l| {
            l.starts_with('+')
                || l.starts_with("migrate:")
                || l.starts_with("atlas:")
                || l.starts_with("no-transaction")
                || l == "up migration"
                || l == "down migration"
        })
        .collect()
}

/// `old` with `nl` line endings.
fn with_newlines(old: &str, nl: &str) -> String {
    let lf = old.replace("\r\n", "\n");
    if nl == "\n" {
        lf
    } else {
        lf.replace('\n', nl)
    }
}

/// One edit turning `text` into `new`: the differing middle (common prefix and suffix kept, on
/// character boundaries).
fn minimal_replace(text: &str, new: &str) -> FileEdit {
    let a = text.as_bytes();
    let b = new.as_bytes();
    let mut prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    while !(text.is_char_boundary(prefix) && new.is_char_boundary(prefix)) {
        prefix -= 1;
    }
    let max_suffix = (a.len() - prefix).min(b.len() - prefix);
    let mut suffix = a.iter().rev().zip(b.iter().rev()).take(max_suffix).take_while(|(x, y)| x == y).count();
    while !(text.is_char_boundary(a.len() - suffix) && new.is_char_boundary(b.len() - suffix)) {
        suffix -= 1;
    }
    FileEdit::Replace {
        range: prefix..a.len() - suffix,
        text: new.get(prefix..b.len() - suffix).unwrap_or_default().to_string(),
    }
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
