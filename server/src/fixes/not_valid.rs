//! Constraints added `NOT VALID` and validated in a later transaction, and `SET NOT NULL`
//! through a validated check.
//!
//! The later transaction ([`in_later_transaction`]) is the next statement when the migration
//! runs statement by statement, the text after the `COMMIT` of an explicit block, else a new
//! migration right after this one.

use crate::rules::Finding;
use crate::sql::facts::{AlterAction, ConstraintKind};
use crate::sql::{Span, Statement, StatementKind};
use crate::workspace::frameworks::naming::slug;

use super::placement::{in_later_transaction, removal};
use super::{FileEdit, Fix, FixContext, Safety};

/// `text` at a statement-relative span.
fn at(statement: &Statement, span: Span) -> &str {
    statement.parsed.text.get(span.start as usize..span.end as usize).unwrap_or("")
}

/// `constraint-validated-on-add`: `ADD CONSTRAINT c CHECK|FOREIGN KEY …` → `… NOT VALID`, and
/// `ALTER TABLE t VALIDATE CONSTRAINT c` in a later transaction. Only named constraints (the
/// VALIDATE needs the name); inline `REFERENCES` / `CHECK` on `ADD COLUMN` get no fix.
pub(super) fn constraint(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    let Some(statement) = ctx.file.statements.get(finding.statement) else { return };
    let StatementKind::AlterTable(at_) = statement.kind() else { return };
    let Some(tc) = at_.actions.iter().find_map(|a| match &a.action {
        AlterAction::AddConstraint(tc) if statement.abs(a.keyword_span) == finding.range => Some(tc),
        _ => None,
    }) else {
        return;
    };
    if tc.not_valid.is_some() || !matches!(tc.kind, ConstraintKind::Check { .. } | ConstraintKind::ForeignKey(_)) {
        return;
    }
    let Some(name) = &tc.name else { return };
    let end = statement.abs(tc.span).end;
    let table = at(statement, at_.table.span);
    let name_sql = at(statement, name.span);
    if table.is_empty() || name_sql.is_empty() {
        return;
    }
    let validate = format!("ALTER TABLE {table} VALIDATE CONSTRAINT {name_sql};");
    let Some(later) = in_later_transaction(ctx, finding.statement, &[validate], &slug("validate_", &name.value)) else {
        return;
    };
    let mut edits = vec![FileEdit::Replace { range: end..end, text: " NOT VALID".into() }];
    edits.extend(later.edits);
    out.push(Fix {
        rule: finding.rule,
        title: format!(
            "Add `{name}` NOT VALID and VALIDATE it {} (reads and writes continue during the scan)",
            later.place
        ),
        preferred: true,
        safety: Safety::Safe,
        edits,
    });
}

/// `set-not-null-scan` (PostgreSQL 12+): `ALTER TABLE t ALTER COLUMN c SET NOT NULL` →
/// `ADD CONSTRAINT t_c_not_null CHECK (c IS NOT NULL) NOT VALID`, then in a later transaction
/// `VALIDATE CONSTRAINT`, the `SET NOT NULL` (which uses the validated check instead of a scan)
/// and `DROP CONSTRAINT`. Only for an `ALTER TABLE` with that single action.
pub(super) fn set_not_null(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    let Some(statement) = ctx.file.statements.get(finding.statement) else { return };
    let StatementKind::AlterTable(at_) = statement.kind() else { return };
    let [action] = at_.actions.as_slice() else { return };
    let AlterAction::SetNotNull { column } = &action.action else { return };
    let migration = ctx.migration();
    let sc = migration.statement(finding.statement);
    if !sc.pg_at_least(12) || sc.has_validated_not_null_check(&at_.table, &column.value) {
        return;
    }
    let text = &statement.parsed.text;
    // `ALTER TABLE [IF EXISTS] [ONLY] name`, as written.
    let Some(prefix) = text.get(..at_.table.span.end as usize) else { return };
    let set = at(statement, action.span);
    let column_sql = at(statement, column.span);
    if set.is_empty() || column_sql.is_empty() {
        return;
    }
    let name = not_null_check_name(at_.table.name(), &column.value);
    let add = format!("{prefix} ADD CONSTRAINT {name} CHECK ({column_sql} IS NOT NULL) NOT VALID;");
    let later_sql = [
        format!("{prefix} VALIDATE CONSTRAINT {name};"),
        format!("{prefix} {set};"),
        format!("{prefix} DROP CONSTRAINT {name};"),
    ];
    let Some(later) = in_later_transaction(ctx, finding.statement, &later_sql, &name) else {
        return;
    };
    let mut edits = vec![FileEdit::Replace { range: statement.range.clone(), text: add }];
    edits.extend(later.edits);
    out.push(Fix {
        rule: finding.rule,
        title: format!(
            "Enforce NOT NULL through a validated CHECK: add it NOT VALID here, VALIDATE it, SET NOT NULL and drop it {}",
            later.place
        ),
        preferred: true,
        safety: Safety::Safe,
        edits,
    });
}

/// The name of the temporary `CHECK (c IS NOT NULL)` that lets `SET NOT NULL` skip its scan:
/// `<table>_<column>_not_null`, within PostgreSQL's 63 bytes.
pub(super) fn not_null_check_name(table: &str, column: &str) -> String {
    let name = slug("", &format!("{table}_{column}_not_null"));
    if name.len() > 63 {
        let keep = 63 - "_not_null".len();
        return format!("{}_not_null", name.get(..keep).unwrap_or(&name).trim_end_matches('_'));
    }
    name
}

/// `validate-in-same-transaction`: `ALTER TABLE t VALIDATE CONSTRAINT c` (a statement of its own,
/// after the `NOT VALID` add in the same transaction) moved to a later transaction, so that the
/// add's lock ends before the scan. Not for a VALIDATE in the add's own statement.
pub(super) fn validate_later(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    let i = finding.statement;
    let Some(statement) = ctx.file.statements.get(i) else { return };
    let StatementKind::AlterTable(alter) = statement.kind() else { return };
    let [action] = alter.actions.as_slice() else { return };
    let AlterAction::ValidateConstraint { name } = &action.action else { return };
    let text = ctx.text();
    let Some(sql) = text.get(statement.range.clone()) else { return };
    let Some(later) = in_later_transaction(ctx, i, &[sql.to_string()], &slug("validate_", &name.value)) else {
        return;
    };
    let mut edits = vec![FileEdit::Replace { range: removal(text, statement.range.clone()), text: String::new() }];
    edits.extend(later.edits);
    out.push(Fix {
        rule: finding.rule,
        title: format!("Move the VALIDATE of `{}` {} (the add's lock ends before the scan)", name.value, later.place),
        preferred: true,
        safety: Safety::Safe,
        edits,
    });
}
