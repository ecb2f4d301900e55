//! Data changes taken out of schema migrations and run in batches: `backfill-in-schema-migration`
//! and `unbatched-backfill`.
//!
//! An `UPDATE t SET … [WHERE …]` or `DELETE FROM t [WHERE …]` becomes the batched loop of
//! [`super::batched`] over `t`'s single-column primary key (from the replayed schema), the
//! `WHERE` kept as written. Where it goes:
//!
//! | where the statement runs | the fix |
//! |---|---|
//! | alone in its file (or part of it) | the loop in place; in the runner's transaction, with the framework's opt-out so each round commits (Supabase, Drizzle, node-pg-migrate, pop: no opt-out, no `COMMIT`) |
//! | statement by statement, no transaction | the loop in place, committing per round |
//! | an explicit `BEGIN … COMMIT` | the loop after the `COMMIT`, when nothing after it in the block names the table |
//! | the runner's transaction or one query string, with other statements | the loop in a new migration right after this one; outside a transaction (opt-out, or a file of its own for golang-migrate/Prisma) when it is alone there |
//!
//! A later statement of the migration that names the table (a `SET NOT NULL` after the
//! backfill) may depend on the data change: it moves into the new migration with the loop, and
//! that migration keeps its transaction (the loop then does not commit per round).
//!
//! Batching is [`Safety::Unsafe`]: rounds that commit cannot roll back together, and each round
//! sees the rows as they are then. A statement the loop cannot reproduce exactly (`UPDATE …
//! FROM`, `USING`, `RETURNING`, an alias, `ONLY`, a change of the key itself, a subquery over the
//! same table, `INSERT … SELECT`) is not batched; `backfill-in-schema-migration` then offers to
//! move it unchanged, which is [`Safety::Safe`] when nothing after it names the table.

use sqlparser::tokenizer::Token;

use crate::rules::{Finding, TxnOrigin};
use crate::sql::facts::QualifiedName;
use crate::sql::lexer::Tok;
use crate::sql::{Dialect, Statement, StatementKind};
use crate::workspace::frameworks::naming::slug;
use crate::workspace::frameworks::{framework, NoOptOut};
use crate::workspace::{Direction, FrameworkKind};

use super::batched::{primary_key, Batched, Change, BATCH_ROWS};
use super::placement::{
    closing_commit, indentation, lock_timeout_at, mentioned_in, new_migration, new_migration_with, opt_out_edits,
    reader, removal, section_of, statements_in,
};
use super::{FileEdit, Fix, FixContext, Safety};

/// What the statement does, as far as a batched rewrite goes.
struct DataChange<'a> {
    table: &'a QualifiedName,
    /// The table as written.
    table_sql: &'a str,
    /// "UPDATE of `t`", for titles.
    what: String,
    /// The pieces of the loop, when the statement can be batched exactly.
    batch: Option<Pieces>,
}

/// An `UPDATE`'s assignments (or a `DELETE`) and its `WHERE`, as written.
struct Pieces {
    assignments: Option<String>,
    filter: Option<String>,
    /// The columns the `UPDATE` assigns: the loop cannot walk a key it changes.
    targets: Vec<String>,
}

/// `backfill-in-schema-migration`: the loop (or the statement unchanged) out of the schema
/// migration.
pub(super) fn backfill_in_schema_migration(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    fixes(finding, ctx, false, out);
}

/// `unbatched-backfill`: the loop, in place or in a migration of its own.
pub(super) fn unbatched_backfill(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    fixes(finding, ctx, true, out);
}

/// The fixes for the data change of `finding`, wherever it runs (see the module's table);
/// `batched_only` leaves out the unchanged move, which does not batch anything.
fn fixes(finding: &Finding, ctx: &FixContext, batched_only: bool, out: &mut Vec<Fix>) {
    let i = finding.statement;
    let Some(statement) = ctx.file.statements.get(i) else { return };
    let Some(change) = data_change(statement) else { return };
    // Inside a goose `StatementBegin … StatementEnd` block the runner sends the block as one
    // statement: neither a loop in its place nor a move out of it is sure to run as written.
    if let Some(place) = ctx.place {
        let blocks = framework(place.set.framework).statement_blocks(place.path, ctx.text());
        if blocks.iter().any(|b| b.contains(&statement.range.start)) {
            return;
        }
    }
    let key = if ctx.settings.dialect == Dialect::Postgres { primary_key(ctx.schema, change.table) } else { None };
    // The key is the one before this file: an earlier ALTER TABLE of this file that names it
    // (a rename, a type change, a dropped key) may have changed it.
    let key = key.filter(|key| !altered_earlier(ctx, i, change.table, key));
    let pieces = change
        .batch
        .as_ref()
        .zip(key.as_deref())
        .filter(|(p, key)| !p.targets.iter().any(|c| crate::sql::quote::ident(c) == *key));
    let loop_sql = |commit: bool| {
        pieces.map(|(p, key)| {
            Batched {
                table: change.table_sql,
                key,
                change: match &p.assignments {
                    Some(a) => Change::Update { assignments: a },
                    None => Change::Delete,
                },
                filter: p.filter.as_deref(),
                commit,
            }
            .sql()
        })
    };
    // "in batches of 5000 rows by id, each committed" and why it is unsafe, for titles.
    let batches = |commit: bool, how: &str| {
        let by = key.as_deref().unwrap_or_default();
        if commit {
            format!("in batches of {BATCH_ROWS} rows by {by}, each committed{how} (unsafe: a failure half-way leaves the earlier batches changed)")
        } else {
            format!("in batches of {BATCH_ROWS} rows by {by}{how} (unsafe: each batch sees the rows as they are then; row locks last until the migration commits)")
        }
    };
    let text = ctx.text();
    let section = section_of(ctx, statement.range.start);
    let in_section = statements_in(ctx.file, &section);
    let later: Vec<usize> = in_section.iter().copied().filter(|&s| s > i).collect();
    let names = [change.table.name().to_ascii_lowercase()];
    let dependents = later.last().is_some_and(|&last| mentioned_in(ctx.file, i + 1, last + 1, &names));
    let migration = ctx.migration();
    let sc = migration.statement(i);
    let what = &change.what;
    let fix = |title: String, preferred: bool, safety: Safety, edits: Vec<FileEdit>| Fix {
        rule: finding.rule,
        title,
        preferred,
        safety,
        edits,
    };
    let in_place = |sql: &str| FileEdit::Replace {
        range: statement.range.clone(),
        text: in_file(ctx, statement.range.start, sql),
    };
    let txn = sc.transaction();

    // Alone in its part of the file: the loop replaces it there.
    if in_section == [i] {
        let edits = match txn {
            None => loop_sql(true).map(|sql| (vec![in_place(&sql)], true, String::new())),
            Some(TxnOrigin::Runner) if !sc.explicit_block_open() => {
                let Some(place) = ctx.place else { return };
                let read = reader(&place);
                match framework(place.set.framework).opt_out(
                    place.path,
                    text,
                    statement.range.start,
                    ctx.newline(),
                    &read,
                ) {
                    Ok(opt) => loop_sql(true).map(|sql| {
                        let mut edits = vec![in_place(&sql)];
                        edits.extend(opt_out_edits(&opt));
                        (edits, true, format!(", outside the migration's transaction: {}", opt.how))
                    }),
                    Err(NoOptOut::AlwaysInTransaction | NoOptOut::OwnFile) => {
                        loop_sql(false).map(|sql| (vec![in_place(&sql)], false, String::new()))
                    }
                }
            }
            _ => None,
        };
        if let Some((edits, commit, how)) = edits {
            out.push(fix(format!("Run the {what} {}", batches(commit, &how)), true, Safety::Unsafe, edits));
            return;
        }
    }

    match txn {
        // Statement by statement: each round of the loop commits where it stands.
        None if !ctx.settings.implicit_transaction => {
            if let Some(sql) = loop_sql(true) {
                out.push(fix(
                    format!("Run the {what} {}", batches(true, "")),
                    true,
                    Safety::Unsafe,
                    vec![in_place(&sql)],
                ));
            }
            if !batched_only && !dependents {
                let preferred = out.is_empty();
                out.extend(
                    moved_unchanged(ctx, statement, &change, &in_section, preferred)
                        .map(|f| Fix { rule: finding.rule, ..f }),
                );
            }
        }
        Some(TxnOrigin::Explicit(_)) => {
            let Some(commit) = closing_commit(&sc) else { return };
            if mentioned_in(ctx.file, i + 1, commit, &names) {
                return;
            }
            let Some(commit_stmt) = ctx.file.statements.get(commit) else { return };
            let end = commit_stmt.range.end;
            let nl = ctx.newline();
            let indent = indentation(text, commit_stmt.range.start);
            let remove = FileEdit::Replace { range: removal(text, statement.range.clone()), text: String::new() };
            let after = |sql: &str| FileEdit::Replace {
                range: end..end,
                text: format!("{nl}{indent}{}", in_file(ctx, commit_stmt.range.start, sql)),
            };
            let commit_rounds = !ctx.settings.implicit_transaction;
            if let Some(sql) = loop_sql(commit_rounds) {
                let title = format!("Move the {what} after the COMMIT, {}", batches(commit_rounds, ""));
                out.push(fix(title, true, Safety::Unsafe, vec![remove, after(&sql)]));
            }
            // Unchanged after the COMMIT it would still run in this schema migration: a new one.
            if !batched_only && !dependents {
                let preferred = out.is_empty();
                out.extend(
                    moved_unchanged(ctx, statement, &change, &in_section, preferred)
                        .map(|f| Fix { rule: finding.rule, ..f }),
                );
            }
        }
        Some(TxnOrigin::Runner | TxnOrigin::ImplicitBatch) | None => {
            if sc.explicit_block_open() || !in_up_part(ctx, statement.range.start) {
                return;
            }
            // The schema change stays: something of this part must run before the data change.
            if !in_section.iter().any(|&s| s < i) {
                return;
            }
            if let Some(mut f) = moved_batched(ctx, statement, &change, &later, dependents, &loop_sql, &batches) {
                f.rule = finding.rule;
                out.push(f);
            }
            if !batched_only && !dependents {
                let preferred = out.is_empty();
                out.extend(
                    moved_unchanged(ctx, statement, &change, &in_section, preferred)
                        .map(|f| Fix { rule: finding.rule, ..f }),
                );
            }
        }
    }
}

/// The loop (and, when later statements name the table, those statements after it) in a new
/// migration right after this one.
fn moved_batched(
    ctx: &FixContext,
    statement: &Statement,
    change: &DataChange,
    later: &[usize],
    dependents: bool,
    loop_sql: &dyn Fn(bool) -> Option<String>,
    batches: &dyn Fn(bool, &str) -> String,
) -> Option<Fix> {
    let place = ctx.place?;
    let text = ctx.text();
    let read = reader(&place);
    let opt = framework(place.set.framework).opt_out(place.path, text, statement.range.start, ctx.newline(), &read);
    // Alone in the new migration, the loop runs outside a transaction where the framework
    // allows: its opt-out, or (golang-migrate, Prisma) a file holding one statement.
    let (outside, commit) = match opt {
        _ if dependents => (false, false),
        Ok(_) => (true, true),
        Err(NoOptOut::OwnFile) => (false, true),
        Err(NoOptOut::AlwaysInTransaction) => (false, false),
    };
    // Another data change moved along would run in a schema migration again.
    let data = |l: &usize| {
        ctx.file.statements.get(*l).is_some_and(|s| {
            matches!(s.kind(), StatementKind::Update(_) | StatementKind::Delete(_) | StatementKind::Insert(_))
        })
    };
    if dependents && later.iter().any(data) {
        return None;
    }
    let sql = loop_sql(commit)?;
    let mut tail = String::new();
    let mut edits = vec![FileEdit::Replace { range: removal(text, statement.range.clone()), text: String::new() }];
    if dependents {
        let migration = ctx.migration();
        let sc = migration.statement(statement_index(ctx, statement)?);
        if let Some(value) = lock_timeout_at(&sc) {
            // The moved schema changes keep the lock_timeout they ran under.
            let plain = "SELECT 1;\nSELECT 2;\n";
            let wraps = framework(place.set.framework).transaction_in(place.path, plain, place.set.dialect);
            let local = if wraps.wraps || wraps.implicit_batch { "LOCAL " } else { "" };
            tail.push_str(&format!("SET {local}lock_timeout = {value};\n"));
        }
        for &l in later {
            let s = ctx.file.statements.get(l)?;
            edits.push(FileEdit::Replace { range: removal(text, s.range.clone()), text: String::new() });
        }
    }
    let moved: Vec<&str> = if dependents {
        later.iter().filter_map(|&l| ctx.file.statements.get(l)).filter_map(|s| text.get(s.range.clone())).collect()
    } else {
        Vec::new()
    };
    let (set_timeout, rest) =
        (tail, moved.iter().map(|s| format!("{}\n", s.replace("\r\n", "\n"))).collect::<String>());
    let body = |goose: bool| {
        let sql = if goose { goose_block(&sql) } else { sql.clone() };
        format!("{set_timeout}{sql}\n{rest}")
    };
    let from = place.path.strip_prefix(&place.set.dir).unwrap_or(place.path).display().to_string();
    let intro = format!(
        "-- Moved here from {from} by safemig: the data change runs in batches, apart from the schema change.\n"
    );
    let slug = slug("", &format!("backfill_{}", change.table.name()));
    let new = new_migration_with(ctx, &slug, &intro, &body, outside)?;
    edits.extend(new.edits);
    let along = match moved.len() {
        0 => String::new(),
        1 => " and the statement after it".to_string(),
        n => format!(" and the {n} statements after it"),
    };
    Some(Fix {
        rule: "",
        title: format!("Move the {}{along} to a new migration {}, {}", change.what, new.name, batches(commit, "")),
        preferred: true,
        safety: Safety::Unsafe,
        edits,
    })
}

/// The statement, unchanged, in a new migration right after this one (same end state: the
/// schema change commits first).
fn moved_unchanged(
    ctx: &FixContext,
    statement: &Statement,
    change: &DataChange,
    in_section: &[usize],
    preferred: bool,
) -> Option<Fix> {
    let place = ctx.place?;
    let i = statement_index(ctx, statement)?;
    if !in_up_part(ctx, statement.range.start) || !in_section.iter().any(|&s| s < i) {
        return None;
    }
    let text = ctx.text();
    let from = place.path.strip_prefix(&place.set.dir).unwrap_or(place.path).display().to_string();
    let intro = format!("-- Moved here from {from} by safemig: the data change runs apart from the schema change.\n");
    let slug = slug("", &format!("backfill_{}", change.table.name()));
    let new = new_migration(ctx, &slug, &intro, &format!("{}\n", text.get(statement.range.clone())?), false)?;
    let mut edits = vec![FileEdit::Replace { range: removal(text, statement.range.clone()), text: String::new() }];
    edits.extend(new.edits);
    Some(Fix {
        rule: "",
        title: format!(
            "Move the {} unchanged to a new migration {} (the schema change commits first)",
            change.what, new.name
        ),
        preferred,
        safety: Safety::Safe,
        edits,
    })
}

/// Whether a statement before `index` is an `ALTER TABLE` of `table` that names `key` (SQL).
fn altered_earlier(ctx: &FixContext, index: usize, table: &QualifiedName, key: &str) -> bool {
    let key = key.trim_matches('"');
    ctx.file.statements.iter().take(index).any(|s| match s.kind() {
        StatementKind::AlterTable(at) => {
            at.table.key() == table.key() && s.facts().identifiers.iter().any(|id| id.value.eq_ignore_ascii_case(key))
        }
        _ => false,
    })
}

fn statement_index(ctx: &FixContext, statement: &Statement) -> Option<usize> {
    ctx.file.statements.iter().position(|s| std::ptr::eq(s, statement))
}

/// Whether byte `at` is in the part of the file that migrates up (a new migration after this
/// one runs up).
fn in_up_part(ctx: &FixContext, at: usize) -> bool {
    let Some(place) = ctx.place else { return true };
    framework(place.set.framework)
        .sections(place.path, ctx.text())
        .iter()
        .find(|s| s.range.contains(&at))
        .is_none_or(|s| s.direction == Direction::Up)
}

/// `sql` (lines joined with `\n`) as it goes into the file at byte `at`: the file's line ending,
/// the line's indentation, and goose's `StatementBegin`/`StatementEnd` around a PL/pgSQL block.
fn in_file(ctx: &FixContext, at: usize, sql: &str) -> String {
    let goose = ctx.place.is_some_and(|p| p.set.framework == FrameworkKind::Goose) && sql.starts_with("DO ");
    let sql = if goose { goose_block(sql) } else { sql.to_string() };
    let indent = indentation(ctx.text(), at);
    sql.split('\n').collect::<Vec<_>>().join(&format!("{}{indent}", ctx.newline()))
}

fn goose_block(sql: &str) -> String {
    format!("-- +goose StatementBegin\n{sql}\n-- +goose StatementEnd")
}

/// The statement's data change, and the pieces of a batched loop when it can be batched exactly.
fn data_change(statement: &Statement) -> Option<DataChange<'_>> {
    let (table, verb) = match statement.kind() {
        StatementKind::Update(d) => (&d.table, "UPDATE of"),
        StatementKind::Delete(d) => (&d.table, "DELETE from"),
        StatementKind::Insert(i) if i.from_select => (&i.table, "INSERT … SELECT into"),
        _ => return None,
    };
    let text = &statement.parsed.text;
    let table_sql = text.get(table.span.start as usize..table.span.end as usize).filter(|t| !t.is_empty())?;
    let batch = match statement.kind() {
        StatementKind::Update(_) | StatementKind::Delete(_) => pieces(statement, table),
        _ => None,
    };
    Some(DataChange { table, table_sql, what: format!("{verb} `{}`", table.name()), batch })
}

/// `UPDATE t SET … [WHERE …]` / `DELETE FROM t [WHERE …]` and nothing else: the assignments and
/// the filter as written. `None` for anything a keyset loop would not reproduce exactly.
fn pieces(statement: &Statement, table: &QualifiedName) -> Option<Pieces> {
    let text = &statement.parsed.text;
    let tokens = statement.parsed.tokens();
    let end = table.span.end;
    // `ONLY` leaves out the inheritance children the loop's own statements would see.
    if tokens
        .iter()
        .take_while(|t| t.end <= table.span.start)
        .any(|t| matches!(&t.token, Token::Word(w) if w.value.eq_ignore_ascii_case("ONLY")))
    {
        return None;
    }
    let mut rest = tokens.iter().skip_while(|t| t.start < end).filter(|t| !matches!(t.token, Token::SemiColon));
    let rest: Vec<&Tok> = rest.by_ref().collect();
    let slice = |from: &Tok, to: Option<&Tok>| {
        let end = to.map_or_else(|| rest.last().map_or(from.end, |t| t.end), |t| t.start);
        text.get(from.start as usize..end as usize).map(|s| s.trim().to_string())
    };
    let update = matches!(statement.kind(), StatementKind::Update(_));
    // Keywords at depth 0 after the table.
    let mut depth = 0i32;
    let mut top: Vec<(usize, String)> = Vec::new();
    for (k, t) in rest.iter().enumerate() {
        match &t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::Word(w) if depth == 0 && w.quote_style.is_none() => top.push((k, w.value.to_ascii_uppercase())),
            _ => {}
        }
    }
    let is_kw = |k: usize, kw: &str| top.iter().any(|(j, w)| *j == k && w == kw);
    if ["FROM", "USING", "RETURNING", "LIMIT", "ORDER", "CURRENT"].iter().any(|kw| top.iter().any(|(_, w)| w == kw)) {
        return None;
    }
    let where_at = top.iter().find(|(_, w)| w == "WHERE").map(|(k, _)| *k);
    let (assignments, filter_from) = if update {
        // `SET` right after the table: no alias.
        if !is_kw(0, "SET") {
            return None;
        }
        let first = rest.get(1)?;
        let assignments = slice(first, where_at.and_then(|k| rest.get(k).copied()))?;
        (Some(assignments), where_at)
    } else {
        if !rest.is_empty() && where_at != Some(0) {
            return None;
        }
        (None, where_at)
    };
    let filter = match filter_from {
        Some(k) => Some(slice(rest.get(k + 1)?, None)?).filter(|f| !f.is_empty()),
        None => None,
    };
    if filter_from.is_some() && filter.is_none() {
        return None;
    }
    // A subquery over the same table would read rows earlier rounds changed; a column named like
    // the loop's variables would be ambiguous in it.
    let name = table.name();
    let mut after_select = false;
    for t in &rest {
        if let Token::Word(w) = &t.token {
            if ["last_key", "next_key"].iter().any(|v| w.value.eq_ignore_ascii_case(v)) {
                return None;
            }
            if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("SELECT") {
                after_select = true;
            } else if after_select && same_name(w, name) {
                return None;
            }
        }
    }
    let targets = match where_at {
        _ if !update => Vec::new(),
        Some(k) => assigned_columns(rest.get(1..k)?),
        None => assigned_columns(rest.get(1..)?),
    };
    Some(Pieces { assignments, filter, targets })
}

fn same_name(w: &sqlparser::tokenizer::Word, name: &str) -> bool {
    if w.quote_style.is_some() {
        w.value == name
    } else {
        w.value.eq_ignore_ascii_case(name)
    }
}

/// The columns an `UPDATE`'s `SET` list assigns (`a = …, (b, c) = …`), normalised as
/// identifiers are (unquoted ones folded to lower case).
fn assigned_columns(tokens: &[&Tok]) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut target = true;
    for t in tokens {
        match &t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::Eq if depth == 0 => target = false,
            Token::Comma if depth == 0 => target = true,
            Token::Word(w) if target => {
                out.push(if w.quote_style.is_some() { w.value.clone() } else { w.value.to_ascii_lowercase() })
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::batched::{Batched, Change};
    use crate::fixes::tests::{fixes_in, Applied};
    use crate::fixes::Safety;

    const SEED_GOOSE: &str = "-- +goose Up\nCREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, note text);\nCREATE TABLE log (at text, msg text);\n\n-- +goose Down\nDROP TABLE orders;\n";
    const SEED: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, note text);\nCREATE TABLE log (at text, msg text);\n";

    fn goose(file: &str, rule: &str) -> Vec<Applied> {
        fixes_in(
            &[("db/migrations/00001_orders.sql", SEED_GOOSE), ("db/migrations/00002_x.sql", file)],
            "db/migrations/00002_x.sql",
            rule,
        )
    }

    fn plain(file: &str, rule: &str) -> Vec<Applied> {
        fixes_in(&[("migrations/001_orders.sql", SEED), ("migrations/002_x.sql", file)], "migrations/002_x.sql", rule)
    }

    fn golang(file: &str, rule: &str) -> Vec<Applied> {
        fixes_in(
            &[("db/migrations/0001_orders.up.sql", SEED), ("db/migrations/0002_x.up.sql", file)],
            "db/migrations/0002_x.up.sql",
            rule,
        )
    }

    /// The loop over `orders.id` (its text is `batched`'s business).
    fn looped(assignments: Option<&str>, filter: Option<&str>, commit: bool) -> String {
        let change = match assignments {
            Some(assignments) => Change::Update { assignments },
            None => Change::Delete,
        };
        Batched { table: "orders", key: "id", change, filter, commit }.sql()
    }

    fn goose_block(sql: &str) -> String {
        format!("-- +goose StatementBegin\n{sql}\n-- +goose StatementEnd")
    }

    const GOOSE_DOWN: &str =
        "\n-- +goose Down\n-- Nothing to undo here: the down part of 00002_x.sql undoes it, as before the move.\n";

    #[test]
    fn goose_moves_the_loop_to_a_new_migration_outside_its_transaction() {
        let fixes = goose(
            "-- +goose Up\nALTER TABLE orders ADD COLUMN country text;\nUPDATE orders SET country = 'US' WHERE country IS NULL;\n\n-- +goose Down\nALTER TABLE orders DROP COLUMN country;\n",
            "backfill-in-schema-migration",
        );
        let [batched, unchanged] = fixes.as_slice() else { panic!("{fixes:#?}") };
        let left = "-- +goose Up\nALTER TABLE orders ADD COLUMN country text;\n\n-- +goose Down\nALTER TABLE orders DROP COLUMN country;\n";
        assert_eq!(batched.text, left);
        assert_eq!(
            batched.title,
            "Move the UPDATE of `orders` to a new migration 00003_backfill_orders.sql, in batches of 5000 rows by id, each committed (unsafe: a failure half-way leaves the earlier batches changed)"
        );
        assert!(batched.preferred && batched.safety == Safety::Unsafe);
        let intro = "-- Moved here from 00002_x.sql by safemig: the data change runs in batches, apart from the schema change.\n";
        assert_eq!(
            batched.created,
            [(
                "db/migrations/00003_backfill_orders.sql".to_string(),
                format!(
                    "-- +goose NO TRANSACTION\n-- +goose Up\n{intro}\n{}\n{GOOSE_DOWN}",
                    goose_block(&looped(Some("country = 'US'"), Some("country IS NULL"), true))
                )
            )]
        );
        assert_eq!(unchanged.text, left);
        assert!(!unchanged.preferred && unchanged.safety == Safety::Safe);
        assert_eq!(
            unchanged.title,
            "Move the UPDATE of `orders` unchanged to a new migration 00003_backfill_orders.sql (the schema change commits first)"
        );
        assert_eq!(
            unchanged.created,
            [(
                "db/migrations/00003_backfill_orders.sql".to_string(),
                "-- +goose Up\n-- Moved here from 00002_x.sql by safemig: the data change runs apart from the schema change.\n\nUPDATE orders SET country = 'US' WHERE country IS NULL;\n\n-- +goose Down\n-- Nothing to undo here: the down part of 00002_x.sql undoes it, as before the move.\n".to_string()
            )]
        );
    }

    #[test]
    fn a_later_statement_on_the_table_moves_along_in_a_transaction() {
        let fixes = goose(
            "-- +goose Up\nSET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN country text;\nUPDATE orders SET country = 'US';\nALTER TABLE orders ALTER COLUMN country SET NOT NULL;\n\n-- +goose Down\nALTER TABLE orders DROP COLUMN country;\n",
            "backfill-in-schema-migration",
        );
        let [batched] = fixes.as_slice() else { panic!("{fixes:#?}") };
        assert_eq!(
            batched.text,
            "-- +goose Up\nSET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN country text;\n\n-- +goose Down\nALTER TABLE orders DROP COLUMN country;\n"
        );
        assert!(batched.title.starts_with("Move the UPDATE of `orders` and the statement after it to a new migration 00003_backfill_orders.sql, in batches of 5000 rows by id (unsafe: each batch sees"), "{}", batched.title);
        let intro = "-- Moved here from 00002_x.sql by safemig: the data change runs in batches, apart from the schema change.\n";
        assert_eq!(
            batched.created[0].1,
            format!(
                "-- +goose Up\n{intro}\nSET LOCAL lock_timeout = '2s';\n{}\nALTER TABLE orders ALTER COLUMN country SET NOT NULL;\n{GOOSE_DOWN}",
                goose_block(&looped(Some("country = 'US'"), None, false))
            )
        );
    }

    #[test]
    fn no_move_with_another_data_change_after_it() {
        let fixes = goose(
            "-- +goose Up\nALTER TABLE orders ADD COLUMN country text;\nUPDATE orders SET country = 'US';\nALTER TABLE orders ALTER COLUMN country SET NOT NULL;\nDELETE FROM orders WHERE note = 'x';\n\n-- +goose Down\nSELECT 1;\n",
            "backfill-in-schema-migration",
        );
        assert!(fixes.is_empty(), "{fixes:#?}");
    }

    #[test]
    fn golang_migrate_gets_a_file_of_its_own_that_commits() {
        let fixes = golang(
            "ALTER TABLE orders ADD COLUMN country text;\r\nDELETE FROM orders WHERE customer_id = 3;\r\n",
            "backfill-in-schema-migration",
        );
        let batched = &fixes[0];
        assert_eq!(batched.text, "ALTER TABLE orders ADD COLUMN country text;\r\n");
        let body = looped(None, Some("customer_id = 3"), true);
        assert_eq!(
            batched.created,
            [(
                "db/migrations/0003_backfill_orders.up.sql".to_string(),
                format!("-- Moved here from 0002_x.up.sql by safemig: the data change runs in batches, apart from the schema change.\n\n{body}\n").replace('\n', "\r\n")
            )]
        );
    }

    #[test]
    fn plain_files_keep_the_loop_in_place() {
        let fixes = plain(
            "ALTER TABLE orders ADD COLUMN country text;\n  UPDATE orders SET country = 'US';\nCREATE INDEX i ON orders (country);\n",
            "backfill-in-schema-migration",
        );
        let batched = &fixes[0];
        let body = looped(Some("country = 'US'"), None, true).replace('\n', "\n  ");
        assert_eq!(
            batched.text,
            format!("ALTER TABLE orders ADD COLUMN country text;\n  {body}\nCREATE INDEX i ON orders (country);\n")
        );
        assert!(batched.created.is_empty());
        assert!(batched.title.starts_with("Run the UPDATE of `orders` in batches of 5000 rows by id, each committed"));
        // A later statement names the table: no unchanged move.
        assert_eq!(fixes.len(), 1, "{fixes:#?}");
    }

    #[test]
    fn an_unbatched_backfill_alone_in_its_file_is_rewritten_in_place() {
        let fixes = goose(
            "-- +goose Up\nDELETE FROM orders WHERE note IS NULL;\n\n-- +goose Down\nSELECT 1;\n",
            "unbatched-backfill",
        );
        let [fix] = fixes.as_slice() else { panic!("{fixes:#?}") };
        assert_eq!(
            fix.text,
            format!(
                "-- +goose NO TRANSACTION\n-- +goose Up\n{}\n\n-- +goose Down\nSELECT 1;\n",
                goose_block(&looped(None, Some("note IS NULL"), true))
            )
        );
        assert_eq!(
            fix.title,
            "Run the DELETE from `orders` in batches of 5000 rows by id, each committed, outside the migration's transaction: add `-- +goose NO TRANSACTION` (unsafe: a failure half-way leaves the earlier batches changed)"
        );
        let supabase = fixes_in(
            &[
                ("supabase/migrations/20240101000000_orders.sql", SEED),
                ("supabase/migrations/20240102000000_x.sql", "UPDATE orders SET note = lower(note);\n"),
            ],
            "supabase/migrations/20240102000000_x.sql",
            "unbatched-backfill",
        );
        let [fix] = supabase.as_slice() else { panic!("{supabase:#?}") };
        assert_eq!(fix.text, format!("{}\n", looped(Some("note = lower(note)"), None, false)));
    }

    #[test]
    fn statements_the_loop_cannot_reproduce_are_moved_unchanged_or_left() {
        for update in [
            "UPDATE orders SET note = l.msg FROM log l WHERE l.at = orders.note;",
            "UPDATE orders o SET note = 'x';",
            "UPDATE ONLY orders SET note = 'x';",
            "UPDATE orders SET note = 'x' RETURNING id;",
            "UPDATE orders SET id = id + 100000;",
            "UPDATE orders SET (customer_id, id) = (1, id + 1);",
            "UPDATE orders SET note = (SELECT max(note) FROM orders);",
            "UPDATE orders SET note = 'x' WHERE last_key IS NULL;",
            "DELETE FROM orders USING log WHERE log.msg = orders.note;",
            "INSERT INTO orders SELECT id + 100000, customer_id, note FROM orders;",
            "UPDATE log SET msg = 'x';",
        ] {
            let file = format!("ALTER TABLE orders ADD COLUMN country text;\n{update}\n");
            let fixes = golang(&file, "backfill-in-schema-migration");
            let [fix] = fixes.as_slice() else { panic!("{update}: {fixes:#?}") };
            assert!(fix.title.contains(" unchanged to a new migration"), "{update}: {}", fix.title);
            assert!(fix.preferred && fix.safety == Safety::Safe, "{update}");
            assert_eq!(fix.text, "ALTER TABLE orders ADD COLUMN country text;\n", "{update}");
        }
        // unbatched-backfill offers nothing it cannot batch.
        let fixes =
            golang("UPDATE orders SET note = l.msg FROM log l WHERE l.at = orders.note;\n", "unbatched-backfill");
        assert!(fixes.is_empty(), "{fixes:#?}");
    }

    #[test]
    fn no_move_past_a_dependent_statement_without_a_batched_loop() {
        // `log` has no primary key: no loop, and the SET NOT NULL depends on the UPDATE.
        let fixes = golang(
            "ALTER TABLE log ADD COLUMN n int;\nUPDATE log SET n = 0;\nALTER TABLE log ALTER COLUMN n SET NOT NULL;\n",
            "backfill-in-schema-migration",
        );
        assert!(fixes.is_empty(), "{fixes:#?}");
        // In an explicit block, a later statement naming the table keeps the change in place.
        let fixes = plain(
            "BEGIN;\nALTER TABLE orders ADD COLUMN n int;\nUPDATE orders SET n = 0;\nALTER TABLE orders ALTER COLUMN n SET NOT NULL;\nCOMMIT;\n",
            "backfill-in-schema-migration",
        );
        assert!(fixes.is_empty(), "{fixes:#?}");
    }

    #[test]
    fn an_explicit_block_gets_the_loop_after_its_commit() {
        let fixes = plain(
            "BEGIN;\nALTER TABLE orders ADD COLUMN n int;\nUPDATE orders SET n = 0 WHERE note IS NOT NULL;\nCOMMIT;\n",
            "backfill-in-schema-migration",
        );
        let [batched, unchanged] = fixes.as_slice() else { panic!("{fixes:#?}") };
        assert_eq!(
            batched.text,
            format!(
                "BEGIN;\nALTER TABLE orders ADD COLUMN n int;\nCOMMIT;\n{}\n",
                looped(Some("n = 0"), Some("note IS NOT NULL"), true)
            )
        );
        // Unchanged after the COMMIT, it would still run in a schema migration: a new one.
        assert_eq!(unchanged.text, "BEGIN;\nALTER TABLE orders ADD COLUMN n int;\nCOMMIT;\n");
        assert_eq!(
            unchanged.created,
            [(
                "migrations/003_backfill_orders.sql".to_string(),
                "-- Moved here from 002_x.sql by safemig: the data change runs apart from the schema change.\n\nUPDATE orders SET n = 0 WHERE note IS NOT NULL;\n".to_string()
            )]
        );
        assert_eq!(unchanged.safety, Safety::Safe);
    }

    #[test]
    fn a_change_inside_a_goose_statement_block_stays() {
        let fixes = goose(
            "-- +goose Up\nALTER TABLE orders ADD COLUMN n int;\n-- +goose StatementBegin\nUPDATE orders SET n = 0;\n-- +goose StatementEnd\n\n-- +goose Down\nSELECT 1;\n",
            "backfill-in-schema-migration",
        );
        assert!(fixes.is_empty(), "{fixes:#?}");
    }

    #[test]
    fn no_loop_over_a_key_this_file_renamed() {
        let fixes = golang(
            "ALTER TABLE orders RENAME COLUMN id TO order_id;\nUPDATE orders SET note = 'x';\n",
            "backfill-in-schema-migration",
        );
        let [fix] = fixes.as_slice() else { panic!("{fixes:#?}") };
        assert!(fix.title.contains(" unchanged "), "{}", fix.title);
    }

    #[test]
    fn a_change_in_the_down_part_stays() {
        let fixes = goose(
            "-- +goose Up\nSELECT 1;\n\n-- +goose Down\nALTER TABLE orders ADD COLUMN n int;\nUPDATE orders SET n = 0;\n",
            "backfill-in-schema-migration",
        );
        assert!(fixes.is_empty(), "{fixes:#?}");
    }
}
