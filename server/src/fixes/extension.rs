//! `extension-missing`: `CREATE EXTENSION IF NOT EXISTS <name>;` on its own line before the first
//! statement of the migration's up part (after a runner's header such as `-- +goose Up`).

use crate::rules::Finding;
use crate::sql::quote::ident;

use super::placement::{indentation, runs_up, section_of, statements_in};
use super::{FileEdit, Fix, FixContext, Safety};

pub(super) fn create_extension(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    let Some(statement) = ctx.file.statements.get(finding.statement) else { return };
    if !runs_up(ctx, statement.range.start) {
        return;
    }
    let migration = ctx.migration();
    let sc = migration.statement(finding.statement);
    let missing = crate::rules::extension_missing::missing(&sc);
    let Some(used) = missing.iter().find(|u| statement.abs(u.span).start == finding.range.start) else { return };
    let section = section_of(ctx, statement.range.start);
    let Some(first) = statements_in(ctx.file, &section).first().and_then(|&i| ctx.file.statements.get(i)) else {
        return;
    };
    let at = first.range.start;
    let create = format!("CREATE EXTENSION IF NOT EXISTS {};", ident(used.extension));
    out.push(Fix {
        rule: finding.rule,
        title: format!("Add `{create}` at the top of this migration"),
        preferred: true,
        safety: Safety::Safe,
        edits: vec![FileEdit::Replace {
            range: at..at,
            text: format!("{create}{}{}", ctx.newline(), indentation(ctx.text(), at)),
        }],
    });
}
