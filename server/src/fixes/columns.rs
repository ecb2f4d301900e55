//! Adding a column without locking or failing on the existing rows.
//!
//! - `add-column-not-null-no-default`: (a) a constant default chosen from the column's type and
//!   marked for the user to edit (PostgreSQL 11+ stores it in the catalog: no rewrite); (b) the
//!   column added nullable, then, each in a transaction of its own after this one, a batched
//!   backfill, `CHECK (c IS NOT NULL) NOT VALID`, and `VALIDATE` + `SET NOT NULL` (PostgreSQL
//!   12+ trusts the validated check: no scan) + `DROP CONSTRAINT`.
//! - `add-column-rewrite` (a volatile default, or any default before PostgreSQL 11): the column
//!   without the default, `SET DEFAULT` right after it (new rows only, instant), then a batched
//!   backfill of the existing rows with the same expression and, when the column was NOT NULL,
//!   the validated-check steps of (b).
//!
//! The steps after the statement go where [`in_later_transactions`] puts them: right after it
//! when the file runs statement by statement, after the `COMMIT` of its explicit block, else in
//! new migrations right after this one (the backfill's under the framework's opt-out, where it
//! may `COMMIT` per round). Serial, identity and STORED generated columns get no fix: their
//! safe form (a sequence or a trigger written by hand) is not a rewrite of the statement.

use crate::rules::Finding;
use crate::sql::facts::{AlterAction, AlterTable, ColumnDef, TypeName};
use crate::sql::{Dialect, Span, Statement, StatementKind};
use crate::workspace::frameworks::naming::slug;

use super::batched::{primary_key, Batched, Change};
use super::not_valid::not_null_check_name;
use super::placement::{in_later_transactions, Later, LaterStep};
use super::{FileEdit, Fix, FixContext, Safety};

/// The comment that marks a value the user must choose.
const CHOOSE: &str = "/* safemig: choose the default */";
/// The comment that marks the value a backfill writes into the existing rows.
const CHOOSE_BACKFILL: &str = "/* safemig: choose the value for existing rows */";

/// The `ADD COLUMN` a finding is about.
struct Added<'a> {
    statement: &'a Statement,
    alter: &'a AlterTable,
    column: &'a ColumnDef,
}

impl<'a> Added<'a> {
    /// The `ADD COLUMN` action of the finding's statement whose span `pick` is the finding's range.
    fn find(finding: &Finding, ctx: &'a FixContext, pick: fn(&ColumnDef) -> Option<Span>) -> Option<Self> {
        let statement = ctx.file.statements.get(finding.statement)?;
        let StatementKind::AlterTable(alter) = statement.kind() else { return None };
        let column = alter.actions.iter().find_map(|a| match &a.action {
            AlterAction::AddColumn { column, .. } if pick(column).map(|s| statement.abs(s)) == Some(finding.range.clone()) => {
                Some(column)
            }
            _ => None,
        })?;
        Some(Added { statement, alter, column })
    }

    /// The statement's text at a statement-relative span.
    fn at(&self, span: Span) -> &'a str {
        self.statement.parsed.text.get(span.start as usize..span.end as usize).unwrap_or("")
    }

    /// `ALTER TABLE [IF EXISTS] [ONLY] name`, as written.
    fn prefix(&self) -> Option<&'a str> {
        self.statement.parsed.text.get(..self.alter.table.span.end as usize)
    }

    /// The statement with the statement-relative `cuts` removed, each with the blanks before it.
    fn without(&self, cuts: &[Span]) -> Option<String> {
        let text = &self.statement.parsed.text;
        let mut ranges: Vec<(usize, usize)> = cuts
            .iter()
            .map(|s| {
                let start = s.start as usize;
                let kept = text.get(..start).map_or(start, |t| t.trim_end().len());
                (kept, s.end as usize)
            })
            .collect();
        ranges.sort_unstable();
        let mut out = String::new();
        let mut from = 0;
        for (start, end) in ranges {
            if start < from || end > text.len() {
                return None;
            }
            out.push_str(text.get(from..start)?);
            from = end;
        }
        out.push_str(text.get(from..)?);
        Some(out)
    }

    /// The primary key and table for a batched backfill, as SQL.
    fn keyed_table(&self, ctx: &FixContext) -> Option<(String, &'a str)> {
        let key = primary_key(ctx.schema, &self.alter.table)?;
        let table = self.at(self.alter.table.span);
        (!table.is_empty()).then_some((key, table))
    }
}

/// `add-column-not-null-no-default` (PostgreSQL): a constant default, or the nullable column
/// and the steps that fill it and enforce NOT NULL without a long lock.
pub(super) fn not_null_no_default(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    if ctx.settings.dialect != Dialect::Postgres {
        return;
    }
    let Some(added) = Added::find(finding, ctx, |c| c.not_null) else { return };
    let column = added.column;
    // A key cannot take one value for every row; a computed column never gets here.
    if column.primary_key.is_some() || column.unique.is_some() {
        return;
    }
    let sc = ctx.migration();
    let sc = sc.statement(finding.statement);
    if let Some(fix) = constant_default(finding, &added).filter(|_| sc.pg_at_least(11)) {
        out.push(fix);
    }
    if sc.pg_at_least(12) {
        out.extend(nullable_then_backfill(finding, ctx, &added));
    }
}

/// (a) `… NOT NULL` → `… NOT NULL DEFAULT <constant> /* safemig: choose the default */`.
fn constant_default(finding: &Finding, added: &Added) -> Option<Fix> {
    let column = added.column;
    // A constant could break the column's own CHECK or foreign key.
    if column.check.is_some() || column.references.is_some() {
        return None;
    }
    let value = constant_for(column.ty.as_ref()?)?;
    let not_null = column.not_null?;
    let (range, text) = match &column.default {
        // `DEFAULT NULL`: the value takes its place.
        Some(d) => (added.statement.abs(d.span), format!("DEFAULT {value} {CHOOSE}")),
        None => {
            let end = added.statement.abs(not_null).end;
            (end..end, format!(" DEFAULT {value} {CHOOSE}"))
        }
    };
    Some(Fix {
        rule: finding.rule,
        title: format!(
            "Add a constant default `DEFAULT {value}` for the existing rows (instant on PostgreSQL 11+): choose the value"
        ),
        preferred: false,
        safety: Safety::Unsafe,
        edits: vec![FileEdit::Replace { range, text }],
    })
}

/// A constant of the column's type, for a default the user edits: `None` for a type with no
/// obvious neutral value (enums, domains, geometric types…).
fn constant_for(ty: &TypeName) -> Option<&'static str> {
    if ty.array {
        return Some("'{}'");
    }
    Some(match ty.canonical.as_str() {
        "int2" | "int4" | "int8" | "numeric" | "float4" | "float8" | "money" => "0",
        "text" | "varchar" | "bpchar" | "citext" | "bytea" => "''",
        "bool" => "false",
        "json" | "jsonb" => "'{}'",
        "uuid" => "'00000000-0000-0000-0000-000000000000'",
        "timestamptz" => "'1970-01-01 00:00:00+00'",
        "timestamp" => "'1970-01-01 00:00:00'",
        "date" => "'1970-01-01'",
        "time" | "timetz" => "'00:00:00'",
        "interval" => "'0 seconds'",
        _ => return None,
    })
}

/// (b) `… NOT NULL` → the column nullable, then the backfill and the NOT NULL steps.
fn nullable_then_backfill(finding: &Finding, ctx: &FixContext, added: &Added) -> Option<Fix> {
    let column = added.column;
    let value = constant_for(column.ty.as_ref()?)?;
    let rewritten = added.without(&[column.not_null?])?;
    let assignment = format!("{value} {CHOOSE_BACKFILL}");
    let chain = Chain::new(ctx, added, &assignment, true)?;
    let later = chain.place(ctx, finding.statement)?;
    let name = &column.name.value;
    Some(Fix {
        rule: finding.rule,
        title: format!(
            "Add `{name}` nullable, backfill it in batches and enforce NOT NULL through a validated CHECK {} (choose the value)",
            later.place
        ),
        preferred: false,
        safety: Safety::Unsafe,
        edits: statement_edits(added.statement, rewritten, later),
    })
}

/// `add-column-rewrite` for a default (volatile, or any before PostgreSQL 11): the column
/// without it, `SET DEFAULT` right after, a batched backfill of the existing rows with the same
/// expression, and the NOT NULL steps when the column was NOT NULL.
pub(super) fn rewrite(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    let Some(added) = Added::find(finding, ctx, |c| c.default.as_ref().map(|d| d.span)) else { return };
    let column = added.column;
    let Some(default) = &column.default else { return };
    // Keys would need distinct values before the index; computed columns are no default.
    if column.primary_key.is_some() || column.unique.is_some() || column.generated.is_some() {
        return;
    }
    if column.ty.as_ref().is_none_or(TypeName::is_serial) {
        return;
    }
    let sc = ctx.migration();
    let sc = sc.statement(finding.statement);
    let not_null = column.not_null;
    if not_null.is_some() && !sc.pg_at_least(12) {
        return;
    }
    let written = added.at(default.span);
    let Some(expr) = written.get(..7).filter(|k| k.eq_ignore_ascii_case("DEFAULT")).and_then(|_| written.get(7..))
    else {
        return;
    };
    let expr = expr.trim();
    let mut cuts = vec![default.span];
    cuts.extend(not_null);
    let (Some(rewritten), Some(prefix)) = (added.without(&cuts), added.prefix()) else { return };
    let column_sql = added.at(column.name.span);
    let nl = ctx.newline();
    let indent = super::placement::indentation(ctx.text(), added.statement.range.start);
    let set_default = format!("{prefix} ALTER COLUMN {column_sql} SET DEFAULT {expr};");
    let rewritten = format!("{rewritten}{nl}{indent}{set_default}");
    let Some(chain) = Chain::new(ctx, &added, expr, not_null.is_some()) else { return };
    let Some(later) = chain.place(ctx, finding.statement) else { return };
    let name = &column.name.value;
    let enforce = if not_null.is_some() { " and enforce NOT NULL through a validated CHECK" } else { "" };
    out.push(Fix {
        rule: finding.rule,
        title: format!(
            "Add `{name}` without the default, SET DEFAULT for new rows, backfill the existing rows in batches{enforce} {} (same kind of values, not the same values)",
            later.place
        ),
        preferred: true,
        safety: Safety::Unsafe,
        edits: statement_edits(added.statement, rewritten, later),
    });
}

/// The steps after the `ADD COLUMN`: a batched backfill of the rows still NULL, then (for a
/// NOT NULL column) the validated-check steps.
struct Chain {
    table: String,
    key: String,
    column: String,
    assignment: String,
    /// The three NOT NULL statements after the backfill's: the check added `NOT VALID`, and the
    /// `VALIDATE`, `SET NOT NULL` and `DROP CONSTRAINT` in the transaction after it.
    not_null: Option<(String, [String; 3])>,
    slug: String,
}

impl Chain {
    fn new(ctx: &FixContext, added: &Added, value: &str, not_null: bool) -> Option<Chain> {
        let (key, table) = added.keyed_table(ctx)?;
        let column = added.at(added.column.name.span);
        let prefix = added.prefix()?;
        if column.is_empty() {
            return None;
        }
        let base = format!("{}_{}", added.alter.table.name(), added.column.name.value);
        let not_null = not_null.then(|| {
            let name = not_null_check_name(added.alter.table.name(), &added.column.name.value);
            (
                format!("{prefix} ADD CONSTRAINT {name} CHECK ({column} IS NOT NULL) NOT VALID;"),
                [
                    format!("{prefix} VALIDATE CONSTRAINT {name};"),
                    format!("{prefix} ALTER COLUMN {column} SET NOT NULL;"),
                    format!("{prefix} DROP CONSTRAINT {name};"),
                ],
            )
        });
        Some(Chain {
            table: table.to_string(),
            key,
            column: column.to_string(),
            assignment: format!("{column} = {value}"),
            not_null,
            slug: base,
        })
    }

    /// The steps, placed after the statement `index`.
    fn place(&self, ctx: &FixContext, index: usize) -> Option<Later> {
        let filter = format!("{} IS NULL", self.column);
        let backfill = |commit: bool| {
            vec![Batched {
                table: &self.table,
                key: &self.key,
                change: Change::Update { assignments: &self.assignment },
                filter: Some(&filter),
                commit,
            }
            .sql()]
        };
        let mut steps =
            vec![LaterStep { slug: slug("backfill_", &self.slug), sql: &backfill, outside: true }];
        let add = |_: bool| self.not_null.iter().map(|(add, _)| add.clone()).collect::<Vec<_>>();
        let enforce = |_: bool| self.not_null.iter().flat_map(|(_, rest)| rest.clone()).collect::<Vec<_>>();
        if self.not_null.is_some() {
            steps.push(LaterStep { slug: slug("check_", &format!("{}_not_null", self.slug)), sql: &add, outside: false });
            steps.push(LaterStep { slug: slug("set_", &format!("{}_not_null", self.slug)), sql: &enforce, outside: false });
        }
        in_later_transactions(ctx, index, &steps)
    }
}

/// The statement replaced by `rewritten`, and the later steps; steps that go right after the
/// statement join its replacement (two edits at one position have no defined order).
fn statement_edits(statement: &Statement, rewritten: String, later: Later) -> Vec<FileEdit> {
    let end = statement.range.end;
    let mut text = rewritten;
    let mut edits = Vec::new();
    for edit in later.edits {
        match edit {
            FileEdit::Replace { range, text: more } if range == (end..end) => text.push_str(&more),
            other => edits.push(other),
        }
    }
    edits.insert(0, FileEdit::Replace { range: statement.range.clone(), text });
    edits
}
