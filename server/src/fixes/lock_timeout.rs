//! `lock-timeout-missing`: `SET lock_timeout` before the first statement that waits for a
//! disruptive lock; `SET LOCAL` when the statement runs in a transaction, so that the setting
//! ends with it — unless the transaction ends before the file does, when the session's setting
//! covers the statements after it too.

use crate::rules::Finding;
use crate::sql::StatementKind;

use super::placement::indentation;
use super::{FileEdit, Fix, FixContext, Safety};

pub(super) fn lock_timeout(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    let Some(statement) = ctx.file.statements.get(finding.statement) else { return };
    let (set, local) = set_before(ctx, finding.statement);
    let at = statement.range.start;
    let indent = indentation(ctx.text(), at);
    out.push(Fix {
        rule: finding.rule,
        title: if local {
            format!("Insert `{set}` before this statement (it ends with the transaction)")
        } else {
            format!("Insert `{set}` before this statement")
        },
        preferred: true,
        safety: Safety::Safe,
        edits: vec![FileEdit::Replace { range: at..at, text: format!("{set}{}{indent}", ctx.newline()) }],
    });
}

/// The `SET lock_timeout` for a rewrite of statement `index` into statements that wait for a
/// disruptive lock, when nothing covers them there (what `lock-timeout-missing` would flag).
pub(super) fn needed_before(ctx: &FixContext, index: usize) -> Option<String> {
    if ctx.settings.dialect != crate::sql::Dialect::Postgres
        || crate::rules::lock_timeout_missing::covered_at(ctx.migration(), index)
    {
        return None;
    }
    Some(set_before(ctx, index).0)
}

/// `SET [LOCAL] lock_timeout = '<configured>';` to put before statement `index`, and whether it
/// is `LOCAL`.
fn set_before(ctx: &FixContext, index: usize) -> (String, bool) {
    let migration = ctx.migration();
    let sc = migration.statement(index);
    // A file sent as one query string runs as one implicit transaction once it holds the SET too.
    // When the transaction ends before the file does (a COMMIT, another BEGIN), the statements
    // after it need the timeout too: the session's SET covers them, a SET LOCAL would not.
    let later_block = || {
        sc.later().any(|(j, s)| {
            !matches!(s.kind(), StatementKind::Empty | StatementKind::Transaction(_)) && !sc.same_transaction_as(j)
        })
    };
    let local = match sc.transaction() {
        Some(_) => !later_block(),
        None => ctx.settings.implicit_transaction,
    };
    let value = format!("'{}'", ctx.settings.lock_timeout.replace('\'', "''"));
    (format!("SET {}lock_timeout = {value};", if local { "LOCAL " } else { "" }), local)
}
