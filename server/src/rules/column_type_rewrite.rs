//! `column-type-rewrite`: `ALTER COLUMN … TYPE` that rewrites an existing table.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};
use crate::sql::facts::{AlterAction, QualifiedName, TypeName};
use crate::sql::locks::LockMode;
use crate::sql::StatementKind;

pub static RULE: Rule = Rule {
    id: "column-type-rewrite",
    category: Category::Locks,
    default_severity: Severity::Warning,
    dialects: POSTGRES,
    summary: "ALTER COLUMN … TYPE rewrites the existing table and its indexes under an ACCESS EXCLUSIVE lock",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
`ALTER TABLE … ALTER COLUMN … [SET DATA] TYPE …` on a table that this migration did not create,
unless the change is binary-coercible. Binary-coercible changes only update the catalog:
`varchar(n)` → `varchar(m)` with `m ≥ n`, `varchar` → `text`, `numeric(p,s)` → `numeric(q,s)`
with `q ≥ p`, `cidr` → `inet`, and dropping a length or precision limit (`varchar(n)` →
`varchar`). On PostgreSQL 12+, `timestamp` ↔ `timestamptz` is one too when the migration set the
session time zone to UTC before it (`SET timezone = 'UTC'`, `SET TIME ZONE 'UTC'`, or a `SET
LOCAL` in the same transaction): the values then mean the same instants. Without that `SET`, or
in another zone, every value shifts and the table is rewritten. When the column's old type is not known (it comes from an earlier migration), the
finding says which old types would make the change safe.

## Why it hurts
Any other type change makes PostgreSQL rewrite every row into a new file and rebuild every index on
the table, all under an ACCESS EXCLUSIVE lock: nothing can read or write the table until it
finishes. On a large table that is a long outage, and it needs disk space for a second copy.

## Example
```sql
ALTER TABLE orders ALTER COLUMN id TYPE bigint;
```

## Instead
Expand and contract, over several deploys:
1. add the new column (`ALTER TABLE orders ADD COLUMN id_new bigint;`),
2. keep it in sync with a trigger for new and updated rows,
3. backfill existing rows in batches,
4. switch the application (and constraints, built with `CONCURRENTLY` / `NOT VALID`) over to the
   new column,
5. drop the old column in a later release.

## Quick fix
When the replayed migrations know the column: the expand step, in place of the type change.
**Unsafe**: it needs the contract step in a later release.
- `ADD COLUMN c_new <new type>` (no default, no rewrite), and `CHECK (c_new IS NOT NULL) NOT
  VALID` when `c` is NOT NULL.
- A trigger function and a `BEFORE INSERT OR UPDATE` trigger (`<table>_c_new_sync`, at most 63
  bytes) that set `c_new` from `c` on every write: with the `USING` expression (evaluated over the
  new row, so it may read any column) or a cast. A value it cannot convert makes the write fail,
  as the type change itself would have.
- A batched backfill (`SET c_new = <expression> WHERE c_new IS DISTINCT FROM (<expression>)`),
  placed as for `rename-column`: right after it or after the `COMMIT` when the file runs statement
  by statement, else a new migration right after this one, outside a transaction where the
  framework can (each round commits).
- A comment dated today naming the contract step, with a suggested date two weeks on: one later
  migration, in one transaction, under `SET LOCAL lock_timeout`: `VALIDATE` the check, `LOCK TABLE … IN ACCESS EXCLUSIVE MODE`,
  drop the trigger and the function, `DROP COLUMN c`, `RENAME COLUMN c_new TO c`, `SET NOT NULL`
  and drop the check, `SET DEFAULT` to `c`'s default; plus the indexes, constraints and foreign
  keys on `c` to re-create on `c_new` first. The rename carries a `-- safemig: ignore
  rename-column` comment: only the trigger used `c_new`, and `c` keeps its name for the code.

No fix when the column is unknown, generated or in the primary key, for a `COLLATE` change, when
the table has no single-column primary key, or when a later statement of the migration names the
column or its old type, or alters or drops a type (Prisma's enum swap renames and drops the old
type right after the change).
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let Some(at) = ctx.alter_of_existing_table() else { return };
    let mode = LockMode::AccessExclusive;
    for action in &at.actions {
        let AlterAction::AlterColumnType { column, ty, using } = &action.action else { continue };
        let new_text = ctx.text(ty.span);
        let old = type_before(ctx, &at.table, &column.value);
        let change = match &old {
            Some((old_ty, _)) if using.is_none() && is_binary_coercible(old_ty, ty) => continue,
            Some((old_ty, _)) if using.is_none() && utc_relabel(ctx, old_ty, ty) => continue,
            Some((_, old_text)) => format!("from {old_text} to {new_text}"),
            None => format!("to {new_text}"),
        };
        let unless = match (&old, coercible_sources(ty)) {
            (None, Some(sources)) => format!(", unless it is a binary-coercible change (from {sources})"),
            _ => String::new(),
        };
        let f = out.report(
            action.keyword_span,
            format!(
                "changing `{column}` {change} rewrites `{table}` and rebuilds its indexes under an {mode} lock, which {blocks} until it finishes{unless}; use expand/contract: add a new column, sync it with a trigger, backfill in batches, then switch over",
                table = at.table,
                blocks = mode.blocks(),
            ),
        );
        // The fix needs the column from the replayed migrations (its NOT NULL and default).
        if ctx.migration.schema.column_type(&at.table, &column.value).is_some() {
            f.with_fix("Expand/contract: a new column kept in sync by a trigger, swapped in a later release");
        }
    }
}

/// The column's type before this statement: from an earlier `ADD COLUMN` / `ALTER COLUMN TYPE` in
/// this migration, else from the schema view. Returns the type and how to show it.
fn type_before(ctx: &StatementContext, table: &QualifiedName, column: &str) -> Option<(TypeName, String)> {
    for (_, stmt) in ctx.earlier() {
        let StatementKind::AlterTable(at) = stmt.kind() else { continue };
        if at.table.key() != table.key() {
            continue;
        }
        for action in at.actions.iter().rev() {
            let ty = match &action.action {
                AlterAction::AddColumn { column: c, .. } if c.name.value == column => c.ty.as_ref(),
                AlterAction::AlterColumnType { column: c, ty, .. } if c.value == column => Some(ty),
                AlterAction::RenameColumn { from, to } if from.value == column || to.value == column => None,
                AlterAction::DropColumn { name, .. } if name.value == column => None,
                _ => continue,
            };
            let ty = ty?;
            let text = stmt.parsed.text.get(ty.span.start as usize..ty.span.end as usize).unwrap_or(&ty.canonical);
            return Some((ty.clone(), text.to_string()));
        }
    }
    let ty = ctx.migration.schema.column_type(table, column)?;
    let text = describe(&ty);
    Some((ty, text))
}

/// `timestamp` ↔ `timestamptz` (precision kept) on PostgreSQL 12+, in a session whose time zone
/// is UTC: the stored values mean the same instant either way, so PostgreSQL only updates the
/// catalog. In any other zone every value shifts, and the table is rewritten.
fn utc_relabel(ctx: &StatementContext, old: &TypeName, new: &TypeName) -> bool {
    let flips = matches!(
        (old.canonical.as_str(), new.canonical.as_str()),
        ("timestamp", "timestamptz") | ("timestamptz", "timestamp")
    );
    flips && !old.array && !new.array && precision_kept(&old.modifiers, &new.modifiers) && ctx.pg_at_least(12) && utc_session(ctx)
}

/// The session time zone at this statement is UTC: set earlier in this migration by `SET
/// timezone` / `SET TIME ZONE` (a `SET LOCAL` only within its transaction). A `RESET` (or no
/// `SET`) leaves the server's zone, which the migration cannot know.
fn utc_session(ctx: &StatementContext) -> bool {
    for (i, stmt) in ctx.earlier() {
        match stmt.kind() {
            StatementKind::Set(p) if p.name.eq_ignore_ascii_case("timezone") => {
                if p.local && !ctx.same_transaction_as(i) {
                    continue;
                }
                return is_utc(&p.value);
            }
            _ if stmt.facts().label == "RESET" => return false,
            _ => {}
        }
    }
    false
}

/// Time zone names with a fixed offset of zero.
fn is_utc(zone: &str) -> bool {
    let zone = zone.trim().trim_matches('\'').to_ascii_lowercase();
    let zone = zone.strip_prefix("etc/").unwrap_or(&zone);
    matches!(
        zone,
        "utc" | "uct" | "gmt" | "gmt0" | "gmt+0" | "gmt-0" | "zulu" | "universal" | "greenwich" | "0"
    )
}

/// A type for a message when no source text is at hand: `varchar(255)`, `numeric(10,2)[]`.
fn describe(ty: &TypeName) -> String {
    let mut s = ty.canonical.clone();
    if !ty.modifiers.is_empty() {
        let mods: Vec<String> = ty.modifiers.iter().map(i64::to_string).collect();
        s.push_str(&format!("({})", mods.join(",")));
    }
    if ty.array {
        s.push_str("[]");
    }
    s
}

/// Whether changing a column from `old` to `new` is binary-coercible: PostgreSQL only updates the
/// catalog, without rewriting the table or rebuilding its indexes.
pub fn is_binary_coercible(old: &TypeName, new: &TypeName) -> bool {
    if old.array != new.array {
        return false;
    }
    let same = old.canonical == new.canonical && old.modifiers == new.modifiers;
    if same || old.array {
        // Array element relabelling is not recognised as coercible: stay on the safe side.
        return same;
    }
    match (old.canonical.as_str(), new.canonical.as_str()) {
        ("varchar", "varchar") | ("varbit", "varbit") => limit_kept(&old.modifiers, &new.modifiers),
        ("varchar", "text") => true,
        ("text", "varchar") => new.modifiers.is_empty(),
        ("numeric", "numeric") => numeric_widened(&old.modifiers, &new.modifiers),
        ("cidr", "inet") => true,
        ("timestamp", "timestamp") | ("timestamptz", "timestamptz") | ("time", "time") | ("timetz", "timetz") => {
            precision_kept(&old.modifiers, &new.modifiers)
        }
        _ => false,
    }
}

/// A length limit that is dropped or not lowered (`varchar(n)` → `varchar(m ≥ n)` / `varchar`).
fn limit_kept(old: &[i64], new: &[i64]) -> bool {
    match (old.first(), new.first()) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(o), Some(n)) => n >= o,
    }
}

/// `numeric(p,s)` → `numeric(q ≥ p, s)`, or to unconstrained `numeric`.
fn numeric_widened(old: &[i64], new: &[i64]) -> bool {
    let (Some(&new_precision), Some(&old_precision)) = (new.first(), old.first()) else {
        // Unconstrained target: always fine. Unconstrained source to a limit: checks every value.
        return new.is_empty();
    };
    let scale = |m: &[i64]| m.get(1).copied().unwrap_or(0);
    scale(old) == scale(new) && new_precision >= old_precision
}

/// Fractional-second precision dropped, raised, or at least the maximum (6).
fn precision_kept(old: &[i64], new: &[i64]) -> bool {
    match (old.first(), new.first()) {
        (_, None) => true,
        (_, Some(n)) if *n >= 6 => true,
        (Some(o), Some(n)) => n >= o,
        (None, Some(_)) => false,
    }
}

/// The old types from which a change to `new` would be binary-coercible, for the message when the
/// old type is unknown; `None` when there are none worth naming.
fn coercible_sources(new: &TypeName) -> Option<String> {
    if new.array {
        return None;
    }
    let first = new.modifiers.first();
    Some(match (new.canonical.as_str(), first) {
        ("varchar", Some(m)) => format!("varchar(n ≤ {m})"),
        ("varchar", None) => "varchar(n) or text".into(),
        ("text", _) => "varchar".into(),
        ("numeric", Some(p)) => {
            let s = new.modifiers.get(1).copied().unwrap_or(0);
            format!("numeric(p ≤ {p}, {s})")
        }
        ("numeric", None) => "numeric(p, s)".into(),
        ("inet", _) => "cidr".into(),
        ("varbit", Some(m)) => format!("varbit(n ≤ {m})"),
        ("varbit", None) => "varbit(n)".into(),
        ("timestamp" | "timestamptz" | "time" | "timetz", Some(p)) if *p < 6 => {
            format!("{}(p ≤ {p})", new.canonical)
        }
        ("timestamp" | "timestamptz" | "time" | "timetz", _) => format!("{}(p)", new.canonical),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::facts::Span;
    use crate::sql::recognize::canonical_type;

    fn ty(written: &str, modifiers: &[i64]) -> TypeName {
        let array = written.ends_with("[]");
        let base = written.trim_end_matches("[]");
        TypeName {
            canonical: canonical_type(base, modifiers),
            modifiers: modifiers.to_vec(),
            array,
            text: written.to_string(),
            span: Span::default(),
        }
    }

    #[test]
    fn varchar_may_grow_or_lose_its_limit() {
        assert!(is_binary_coercible(&ty("varchar", &[50]), &ty("varchar", &[100])));
        assert!(is_binary_coercible(&ty("varchar", &[50]), &ty("character varying", &[50])));
        assert!(is_binary_coercible(&ty("varchar", &[50]), &ty("varchar", &[])));
        assert!(!is_binary_coercible(&ty("varchar", &[100]), &ty("varchar", &[50])));
        assert!(!is_binary_coercible(&ty("varchar", &[]), &ty("varchar", &[50])));
    }

    #[test]
    fn varchar_and_text_relabel() {
        assert!(is_binary_coercible(&ty("varchar", &[255]), &ty("text", &[])));
        assert!(is_binary_coercible(&ty("varchar", &[]), &ty("text", &[])));
        assert!(is_binary_coercible(&ty("text", &[]), &ty("varchar", &[])));
        assert!(!is_binary_coercible(&ty("text", &[]), &ty("varchar", &[255])));
        // char(n) pads: converting it is a real conversion.
        assert!(!is_binary_coercible(&ty("char", &[10]), &ty("text", &[])));
        assert!(!is_binary_coercible(&ty("char", &[10]), &ty("char", &[20])));
    }

    #[test]
    fn numeric_may_gain_precision_at_the_same_scale() {
        assert!(is_binary_coercible(&ty("numeric", &[10, 2]), &ty("numeric", &[14, 2])));
        assert!(is_binary_coercible(&ty("decimal", &[10, 2]), &ty("numeric", &[])));
        assert!(is_binary_coercible(&ty("numeric", &[10]), &ty("numeric", &[12, 0])));
        assert!(!is_binary_coercible(&ty("numeric", &[10, 2]), &ty("numeric", &[14, 4])));
        assert!(!is_binary_coercible(&ty("numeric", &[10, 2]), &ty("numeric", &[8, 2])));
        assert!(!is_binary_coercible(&ty("numeric", &[]), &ty("numeric", &[10, 2])));
    }

    #[test]
    fn cidr_to_inet_but_not_back() {
        assert!(is_binary_coercible(&ty("cidr", &[]), &ty("inet", &[])));
        assert!(!is_binary_coercible(&ty("inet", &[]), &ty("cidr", &[])));
    }

    #[test]
    fn temporal_precision_may_grow() {
        assert!(is_binary_coercible(&ty("timestamptz", &[3]), &ty("timestamptz", &[6])));
        assert!(is_binary_coercible(&ty("timestamp", &[3]), &ty("timestamp", &[])));
        assert!(!is_binary_coercible(&ty("timestamp", &[6]), &ty("timestamp", &[3])));
        // Not a precision change: the stored value is reinterpreted.
        assert!(!is_binary_coercible(&ty("timestamp", &[]), &ty("timestamptz", &[])));
    }

    #[test]
    fn real_conversions_rewrite() {
        assert!(!is_binary_coercible(&ty("integer", &[]), &ty("bigint", &[])));
        assert!(!is_binary_coercible(&ty("int", &[]), &ty("numeric", &[10, 2])));
        assert!(!is_binary_coercible(&ty("text", &[]), &ty("jsonb", &[])));
        assert!(!is_binary_coercible(&ty("varchar[]", &[50]), &ty("text[]", &[])));
        assert!(!is_binary_coercible(&ty("varchar", &[50]), &ty("varchar[]", &[50])));
        assert!(is_binary_coercible(&ty("text[]", &[]), &ty("text[]", &[])));
    }

    #[test]
    fn unknown_old_type_names_the_safe_sources() {
        assert_eq!(coercible_sources(&ty("varchar", &[320])).as_deref(), Some("varchar(n ≤ 320)"));
        assert_eq!(coercible_sources(&ty("text", &[])).as_deref(), Some("varchar"));
        assert_eq!(coercible_sources(&ty("numeric", &[14, 2])).as_deref(), Some("numeric(p ≤ 14, 2)"));
        assert_eq!(coercible_sources(&ty("inet", &[])).as_deref(), Some("cidr"));
        assert_eq!(coercible_sources(&ty("bigint", &[])), None);
    }
}
