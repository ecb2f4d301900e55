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
            AlterAction::AddColumn { column, .. }
                if pick(column).map(|s| statement.abs(s)) == Some(finding.range.clone()) =>
            {
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
    /// `None` when the column names its constraints (`CONSTRAINT c NOT NULL`): the name would
    /// be left without its constraint.
    fn without(&self, cuts: &[Span]) -> Option<String> {
        let text = &self.statement.parsed.text;
        let named = self.at(self.column.span).split_whitespace().any(|w| w.eq_ignore_ascii_case("CONSTRAINT"));
        if named {
            return None;
        }
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
    // The rule offers none for a default that only may rewrite (a function of unknown volatility).
    if finding.fix.is_none() {
        return;
    }
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
    let values = if default.volatile.is_some() {
        "same kind of values, not the same values"
    } else {
        "existing rows read NULL until the backfill ends"
    };
    out.push(Fix {
        rule: finding.rule,
        title: format!(
            "Add `{name}` without the default, SET DEFAULT for new rows, backfill the existing rows in batches{enforce} {} ({values})",
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
        let mut steps = vec![LaterStep { slug: slug("backfill_", &self.slug), sql: &backfill, outside: true }];
        let add = |_: bool| self.not_null.iter().map(|(add, _)| add.clone()).collect::<Vec<_>>();
        let enforce = |_: bool| self.not_null.iter().flat_map(|(_, rest)| rest.clone()).collect::<Vec<_>>();
        if self.not_null.is_some() {
            steps.push(LaterStep {
                slug: slug("check_", &format!("{}_not_null", self.slug)),
                sql: &add,
                outside: false,
            });
            steps.push(LaterStep {
                slug: slug("set_", &format!("{}_not_null", self.slug)),
                sql: &enforce,
                outside: false,
            });
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

#[cfg(test)]
mod tests {
    use crate::config::PgVersion;
    use crate::fixes::tests::{fixed, fixes_in, pg, Applied};
    use crate::fixes::Safety;

    const SHOP: &str = "CREATE TABLE users (id bigint PRIMARY KEY, name text);\n";
    const NOT_NULL: &str = "add-column-not-null-no-default";
    const REWRITE: &str = "add-column-rewrite";

    fn plain(text: &str, rule: &str) -> Vec<Applied> {
        fixes_in(&[("migrations/001_shop.sql", SHOP), ("migrations/002_c.sql", text)], "migrations/002_c.sql", rule)
    }

    /// The batched backfill the fixes write for `users` (`commit`: a `COMMIT` per round).
    fn backfill(assignment: &str, column: &str, commit: bool) -> String {
        let end = if commit {
            "    COMMIT;  -- each round's locks end here\n"
        } else {
            "    -- No COMMIT: the migration runs in a transaction, so row locks last until it commits.\n"
        };
        format!(
            "DO $safemig$\nDECLARE\n    last_key users.id%TYPE;\n    next_key users.id%TYPE;\nBEGIN\n  LOOP\n    \
             -- The last key of the next 5000 rows, in key order.\n    SELECT max(b.id) INTO next_key FROM (\n      \
             SELECT id FROM users\n       WHERE last_key IS NULL OR id > last_key\n       ORDER BY id LIMIT 5000\n    \
             ) b;\n    EXIT WHEN next_key IS NULL;\n    UPDATE users SET {assignment}\n     \
             WHERE (last_key IS NULL OR id > last_key) AND id <= next_key AND ({column} IS NULL);\n    \
             last_key := next_key;\n{end}  END LOOP;\nEND\n$safemig$;"
        )
    }

    const ENFORCE: &str =
        "ALTER TABLE users ADD CONSTRAINT users_country_not_null CHECK (country IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_country_not_null;
ALTER TABLE users ALTER COLUMN country SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_country_not_null;";

    #[test]
    fn a_constant_default_or_the_nullable_column_and_its_steps_in_a_plain_file() {
        let fixes = plain("ALTER TABLE users ADD COLUMN country text NOT NULL;\n", NOT_NULL);
        let [default, nullable] = fixes.as_slice() else { panic!("{fixes:#?}") };
        assert_eq!(
            default.text,
            "ALTER TABLE users ADD COLUMN country text NOT NULL DEFAULT '' /* safemig: choose the default */;\n"
        );
        assert!(default.title.starts_with("Add a constant default `DEFAULT ''`"), "{}", default.title);
        assert_eq!((default.safety, default.preferred), (Safety::Unsafe, false));
        let value = "country = '' /* safemig: choose the value for existing rows */";
        assert_eq!(
            nullable.text,
            format!("ALTER TABLE users ADD COLUMN country text;\n{}\n{ENFORCE}\n", backfill(value, "country", true))
        );
        assert_eq!(
            nullable.title,
            "Add `country` nullable, backfill it in batches and enforce NOT NULL through a validated CHECK right after it (choose the value)"
        );
        assert_eq!((nullable.safety, nullable.preferred), (Safety::Unsafe, false));
        assert!(nullable.created.is_empty());
    }

    #[test]
    fn constants_follow_the_type_and_replace_default_null() {
        let cases = [
            ("n bigint NOT NULL", "n bigint NOT NULL DEFAULT 0 /* safemig: choose the default */"),
            ("b boolean NOT NULL DEFAULT NULL", "b boolean NOT NULL DEFAULT false /* safemig: choose the default */"),
            (
                "u uuid NOT NULL",
                "u uuid NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000' /* safemig: choose the default */",
            ),
            (
                "t timestamptz NOT NULL",
                "t timestamptz NOT NULL DEFAULT '1970-01-01 00:00:00+00' /* safemig: choose the default */",
            ),
            ("j jsonb NOT NULL", "j jsonb NOT NULL DEFAULT '{}' /* safemig: choose the default */"),
            ("a text[] NOT NULL", "a text[] NOT NULL DEFAULT '{}' /* safemig: choose the default */"),
        ];
        for (column, expected) in cases {
            let text = format!("ALTER TABLE users ADD COLUMN {column};");
            assert_eq!(fixed(&text, NOT_NULL, &pg()), Some(format!("ALTER TABLE users ADD COLUMN {expected};")));
        }
        // No neutral value for a type safemig does not know, none for a key, none before PG 11.
        assert_eq!(fixed("ALTER TABLE users ADD COLUMN m mood NOT NULL;", NOT_NULL, &pg()), None);
        assert_eq!(fixed("ALTER TABLE users ADD COLUMN k int UNIQUE NOT NULL;", NOT_NULL, &pg()), None);
        let old = crate::rules::MigrationSettings { postgres_version: PgVersion::new(10, 0), ..pg() };
        assert_eq!(fixed("ALTER TABLE users ADD COLUMN n int NOT NULL;", NOT_NULL, &old), None);
    }

    #[test]
    fn golang_migrate_gets_three_new_migrations_in_order() {
        let rel = "db/migrations/0002_c.up.sql";
        let fixes = fixes_in(
            &[("db/migrations/0001_shop.up.sql", SHOP), (rel, "ALTER TABLE users ADD COLUMN country text NOT NULL;\n")],
            rel,
            NOT_NULL,
        );
        let nullable = fixes.iter().find(|f| f.title.contains("nullable")).expect("the nullable fix");
        assert_eq!(nullable.text, "ALTER TABLE users ADD COLUMN country text;\n");
        assert!(nullable.title.ends_with(
            "in new migrations 0003_backfill_users_country.up.sql to 0005_set_users_country_not_null.up.sql (choose the value)"
        ));
        let value = "country = '' /* safemig: choose the value for existing rows */";
        let split = "-- Split from 0002_c.up.sql by safemig: this runs";
        let (check, enforce) = ENFORCE.split_once('\n').expect("four lines");
        assert_eq!(
            nullable.created,
            [
                (
                    "db/migrations/0003_backfill_users_country.up.sql".to_string(),
                    // The loop is the file's only statement: golang-migrate's one query string
                    // is then no transaction block, and the loop may commit.
                    format!("{split} outside a transaction.\n\n{}\n", backfill(value, "country", true))
                ),
                (
                    "db/migrations/0004_check_users_country_not_null.up.sql".to_string(),
                    // The configured lock_timeout: the new migration waits for a lock too.
                    format!("{split} in a transaction of its own.\n\nSET LOCAL lock_timeout = '5s';\n{check}\n")
                ),
                (
                    "db/migrations/0005_set_users_country_not_null.up.sql".to_string(),
                    format!("{split} in a transaction of its own.\n\nSET LOCAL lock_timeout = '5s';\n{enforce}\n")
                ),
            ]
        );
    }

    #[test]
    fn goose_wraps_the_loop_in_statement_markers_and_leaves_the_transaction() {
        let goose = |sql: &str| format!("-- +goose Up\n{sql}\n\n-- +goose Down\nSELECT 1;\n");
        let rel = "db/migrations/00002_c.sql";
        let fixes = fixes_in(
            &[
                ("db/migrations/00001_shop.sql", &goose(SHOP)),
                (rel, &goose("ALTER TABLE users ADD COLUMN public_id uuid DEFAULT gen_random_uuid();")),
            ],
            rel,
            REWRITE,
        );
        let [fix] = fixes.as_slice() else { panic!("{fixes:#?}") };
        assert_eq!(
            fix.text,
            goose(
                "ALTER TABLE users ADD COLUMN public_id uuid;\nALTER TABLE users ALTER COLUMN public_id SET DEFAULT gen_random_uuid();"
            )
        );
        assert_eq!((fix.safety, fix.preferred), (Safety::Unsafe, true));
        let [(name, text)] = fix.created.as_slice() else { panic!("{fix:#?}") };
        assert_eq!(name, "db/migrations/00003_backfill_users_public_id.sql");
        assert_eq!(
            text,
            &format!(
                "-- +goose NO TRANSACTION\n-- +goose Up\n-- Split from 00002_c.sql by safemig: this runs outside a transaction.\n\n\
                 -- +goose StatementBegin\n{}\n-- +goose StatementEnd\n\n-- +goose Down\n\
                 -- Nothing to undo here: the down part of 00002_c.sql undoes it, as before the move.\n",
                backfill("public_id = gen_random_uuid()", "public_id", true)
            )
        );
    }

    #[test]
    fn a_volatile_not_null_column_in_an_explicit_block_continues_after_the_commit() {
        let text = "BEGIN;\r\n  ALTER TABLE users ADD COLUMN country text NOT NULL DEFAULT md5(random()::text);\r\nCOMMIT;\r\n";
        let fixes = plain(text, REWRITE);
        let [fix] = fixes.as_slice() else { panic!("{fixes:#?}") };
        let steps = format!("{}\n{ENFORCE}", backfill("country = md5(random()::text)", "country", true));
        assert_eq!(
            fix.text,
            format!(
                "BEGIN;\r\n  ALTER TABLE users ADD COLUMN country text;\r\n  ALTER TABLE users ALTER COLUMN country SET DEFAULT md5(random()::text);\r\nCOMMIT;\r\n{}\r\n",
                steps.replace('\n', "\r\n")
            )
        );
        assert!(fix.title.contains("and enforce NOT NULL through a validated CHECK after the COMMIT"), "{}", fix.title);
    }

    #[test]
    fn always_wrapping_runners_loop_without_commit_and_drizzle_gets_no_steps() {
        let rel = "supabase/migrations/20240102000000_token.sql";
        let fixes = fixes_in(
            &[
                ("supabase/migrations/20240101000000_users.sql", SHOP),
                (rel, "ALTER TABLE users ADD COLUMN token text DEFAULT md5(random()::text);\n"),
            ],
            rel,
            REWRITE,
        );
        let [fix] = fixes.as_slice() else { panic!("{fixes:#?}") };
        let [(name, text)] = fix.created.as_slice() else { panic!("{fix:#?}") };
        assert_eq!(name, "supabase/migrations/20240102000001_backfill_users_token.sql");
        assert_eq!(
            text,
            &format!(
                "-- Split from 20240102000000_token.sql by safemig: this runs in a transaction of its own.\n\n{}\n",
                backfill("token = md5(random()::text)", "token", false)
            )
        );
        let journal = r#"{"entries":[{"idx":0,"when":1,"tag":"0000_users"},{"idx":1,"when":2,"tag":"0001_c"}]}"#;
        let drizzle = [
            ("drizzle/meta/_journal.json", journal),
            ("drizzle/0000_users.sql", SHOP),
            ("drizzle/0001_c.sql", "ALTER TABLE users ADD COLUMN country text NOT NULL;\n"),
        ];
        let fixes = fixes_in(&drizzle, "drizzle/0001_c.sql", NOT_NULL);
        let titles: Vec<&str> = fixes.iter().map(|f| f.title.as_str()).collect();
        assert!(matches!(titles.as_slice(), [t] if t.starts_with("Add a constant default")), "{titles:?}");
    }

    #[test]
    fn a_named_not_null_keeps_only_the_constant_default() {
        let fixes = plain("ALTER TABLE users ADD COLUMN n int CONSTRAINT n_nn NOT NULL;\n", NOT_NULL);
        let [default] = fixes.as_slice() else { panic!("{fixes:#?}") };
        assert_eq!(
            default.text,
            "ALTER TABLE users ADD COLUMN n int CONSTRAINT n_nn NOT NULL DEFAULT 0 /* safemig: choose the default */;\n"
        );
    }

    #[test]
    fn no_fix_for_serial_identity_generated_or_keys() {
        for column in [
            "n bigserial",
            "n int GENERATED ALWAYS AS IDENTITY",
            "n int GENERATED ALWAYS AS (id * 2) STORED",
            "n uuid PRIMARY KEY DEFAULT gen_random_uuid()",
            "n uuid UNIQUE DEFAULT gen_random_uuid()",
        ] {
            let fixes = plain(&format!("ALTER TABLE users ADD COLUMN {column};\n"), REWRITE);
            assert!(fixes.is_empty(), "{column}: {fixes:#?}");
        }
    }
}
