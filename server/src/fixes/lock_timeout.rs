//! `lock-timeout-missing`: `SET lock_timeout` before the first statement that waits for a
//! disruptive lock; `SET LOCAL` when the statement runs in a transaction, so that the setting
//! ends with it.

use crate::rules::{Finding, MigrationContext, NoSchema};

use super::placement::indentation;
use super::{FileEdit, Fix, FixContext, Safety};

pub(super) fn lock_timeout(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    let Some(statement) = ctx.file.statements.get(finding.statement) else { return };
    let migration = MigrationContext::new(ctx.file, ctx.settings, &NoSchema);
    // A file sent as one query string runs as one implicit transaction once it holds the SET too.
    let local = migration.statement(finding.statement).transaction().is_some() || ctx.settings.implicit_transaction;
    let value = format!("'{}'", ctx.settings.lock_timeout.replace('\'', "''"));
    let set = format!("SET {}lock_timeout = {value};", if local { "LOCAL " } else { "" });
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
