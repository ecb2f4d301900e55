//! `unique-constraint-blocking`: a UNIQUE or PRIMARY KEY constraint built from an index that
//! was built `CONCURRENTLY` first.
//!
//! `ALTER TABLE t ADD [CONSTRAINT c] UNIQUE (cols)` becomes
//!
//! ```sql
//! CREATE UNIQUE INDEX CONCURRENTLY c ON t (cols);       -- outside any transaction
//! ALTER TABLE t ADD CONSTRAINT c UNIQUE USING INDEX c;  -- catalog only, after the build
//! ```
//!
//! placed like every concurrent statement ([`leave_transaction`]): in place when the file runs
//! statement by statement, after the `COMMIT` of an explicit block, under the framework's opt-out
//! or in a new migration (and the `USING INDEX` step in a second one where the runner sends a
//! file as one query string). An unnamed constraint gets the name PostgreSQL would have given it
//! (`t_col_key`, `t_pkey`), so the end catalog is the same. Never `NOT VALID`: PostgreSQL
//! rejects it for UNIQUE and PRIMARY KEY.
//!
//! A primary key also sets its columns `NOT NULL`, which scans the table under the ACCESS
//! EXCLUSIVE lock of `ADD PRIMARY KEY USING INDEX` unless a validated `CHECK (col IS NOT NULL)`
//! proves it (PostgreSQL 12+). The fix does not see the schema earlier migrations left (only this
//! migration), so unless this migration shows the columns `NOT NULL` it goes through such a
//! check: added `NOT VALID` where the constraint was, validated after the index build (a scan
//! under SHARE UPDATE EXCLUSIVE, which blocks no reads or writes), then the primary key, then
//! the check dropped. On a column that already was `NOT NULL` the check costs one harmless scan;
//! skipping it on a nullable column would cost an outage, so this is what a DBA would ship.
//! Before PostgreSQL 12 nothing avoids that scan: the fix is then offered unsafe, saying so.
//!
//! Inline `UNIQUE` on `ADD COLUMN`: the column is added without it, then the same two steps.
//! Inline `PRIMARY KEY`, constraints with options (`INCLUDE`, `NULLS NOT DISTINCT`,
//! `DEFERRABLE`, …) and `ALTER TABLE`s with other actions get no fix.

use crate::rules::{Finding, StatementContext};
use crate::sql::facts::{AlterAction, ColumnDef, ConstraintKind, QualifiedName};
use crate::sql::{Span, Statement, StatementKind};
use crate::workspace::frameworks::naming::slug;

use super::concurrently::{leave_transaction, Concurrent};
use super::names::{columns_addition, ident, object_name};
use super::{Fix, FixContext};

/// `text` at a statement-relative span.
fn at(statement: &Statement, span: Span) -> &str {
    statement.parsed.text.get(span.start as usize..span.end as usize).unwrap_or("")
}

/// `unique-constraint-blocking` on `ALTER TABLE t ADD [CONSTRAINT c] UNIQUE|PRIMARY KEY (cols)`.
pub(super) fn unique_constraint(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    let Some(statement) = ctx.file.statements.get(finding.statement) else { return };
    let StatementKind::AlterTable(alter) = statement.kind() else { return };
    let [action] = alter.actions.as_slice() else { return };
    // `IF EXISTS`: an index build on a missing table fails where the original did nothing.
    if alter.if_exists {
        return;
    }
    let tc = match &action.action {
        AlterAction::AddConstraint(tc) => tc,
        AlterAction::AddColumn { column, if_not_exists: false } => {
            return inline_unique(finding, ctx, statement, column, out)
        }
        _ => return,
    };
    if tc.using_index.is_some() || statement.abs(tc.kind_span) != finding.range {
        return;
    }
    let (columns, primary) = match &tc.kind {
        ConstraintKind::Unique { columns } => (columns, false),
        ConstraintKind::PrimaryKey { columns } => (columns, true),
        _ => return,
    };
    // Nothing but the column list after the keywords: options would be lost.
    let list = at(statement, Span::new(tc.kind_span.end, tc.span.end)).trim();
    let inner = list.strip_prefix('(').and_then(|l| l.strip_suffix(')')).unwrap_or("(");
    if columns.is_empty() || inner.contains(['(', ')']) || statement.parsed.text.get(tc.span.end as usize..).is_none() {
        return;
    }
    let rest = statement.parsed.text.get(tc.span.end as usize..).unwrap_or("").trim();
    if !(rest.is_empty() || rest == ";") {
        return;
    }
    // `ALTER TABLE [IF EXISTS] [ONLY] name`, as written.
    let Some(prefix) = statement.parsed.text.get(..alter.table.span.end as usize) else { return };
    let table_sql = at(statement, alter.table.span);
    if table_sql.is_empty() {
        return;
    }
    let table = alter.table.name();
    let names: Vec<&str> = columns.iter().map(|c| c.value.as_str()).collect();
    let name = match &tc.name {
        Some(n) => at(statement, n.span).to_string(),
        None if primary => ident(&object_name(table, None, "pkey")),
        None => ident(&object_name(table, Some(&columns_addition(&names)), "key")),
    };
    if name.is_empty() {
        return;
    }
    let what = if primary { "PRIMARY KEY" } else { "UNIQUE" };
    let build = format!("CREATE UNIQUE INDEX CONCURRENTLY {name} ON {table_sql} {list};");
    let constraint = format!("{prefix} ADD CONSTRAINT {name} {what} USING INDEX {name};");
    let migration = ctx.migration();
    let sc = migration.statement(finding.statement);
    let nullable: Vec<(&str, String)> = if primary {
        columns
            .iter()
            .filter(|c| !not_null_here(&sc, &alter.table, &c.value))
            .map(|c| (at(statement, c.span), ident(&object_name(table, Some(&c.value), "not_null"))))
            .collect()
    } else {
        Vec::new()
    };
    if nullable.iter().any(|(sql, _)| sql.is_empty()) {
        return;
    }
    let mut c = Concurrent {
        edit: (0..statement.parsed.text.len(), build),
        left: None,
        then: vec![constraint.clone()],
        title: format!("Build the unique index CONCURRENTLY, then add {name} {what} USING INDEX"),
        effect: "writes continue during the build",
        slug: slug(if primary { "primary_key_" } else { "unique_" }, &name),
        names: vec![table.to_string(), name.trim_matches('"').to_string()],
        index: Some(name.trim_matches('"').to_string()),
        unsafe_always: false,
    };
    if !nullable.is_empty() && sc.pg_at_least(12) {
        let adds: Vec<String> = nullable
            .iter()
            .map(|(col, check)| format!("ADD CONSTRAINT {check} CHECK ({col} IS NOT NULL) NOT VALID"))
            .collect();
        c.left = Some(format!("{prefix} {};", adds.join(", ")));
        c.then = nullable.iter().map(|(_, check)| format!("{prefix} VALIDATE CONSTRAINT {check};")).collect();
        c.then.push(constraint);
        let drops: Vec<String> = nullable.iter().map(|(_, check)| format!("DROP CONSTRAINT {check}")).collect();
        c.then.push(format!("{prefix} {};", drops.join(", ")));
        c.title.push_str(", its columns made NOT NULL through validated CHECKs");
    } else if !nullable.is_empty() {
        c.unsafe_always = true;
        c.title.push_str(
            " (before PostgreSQL 12 the primary key still scans the table under ACCESS EXCLUSIVE to set its columns NOT NULL)",
        );
    }
    leave_transaction(finding, ctx, &c, out);
}

/// `ALTER TABLE t ADD COLUMN c type … UNIQUE …` (the statement's only action): the column added
/// without `UNIQUE` where the statement was, then the index built concurrently and the
/// constraint added `USING INDEX`, named as PostgreSQL names the inline constraint (`t_c_key`,
/// or the `CONSTRAINT name` written before `UNIQUE`). The column is new, so the build finds it
/// all NULL (or all one default, which fails the same way the original fails). Not for
/// `PRIMARY KEY` (its `NOT NULL` column needs a default, a different fix), `UNIQUE` with options,
/// or `ADD COLUMN IF NOT EXISTS` (the column may exist, and the index would then be new).
fn inline_unique(finding: &Finding, ctx: &FixContext, statement: &Statement, column: &ColumnDef, out: &mut Vec<Fix>) {
    let StatementKind::AlterTable(alter) = statement.kind() else { return };
    let Some(unique) = column.unique else { return };
    if column.primary_key.is_some() || statement.abs(unique) != finding.range {
        return;
    }
    let text = &statement.parsed.text;
    let (Some(head), Some(tail)) = (text.get(..unique.start as usize), text.get(unique.end as usize..)) else { return };
    let words: Vec<String> = tail.split_whitespace().take(2).map(|w| w.to_ascii_uppercase()).collect();
    let next = words.first().map_or("", String::as_str);
    let options = ["NULLS", "USING", "WITH", "INCLUDE", "DEFERRABLE", "INITIALLY"];
    if options.iter().any(|o| next.starts_with(o))
        || (next == "NOT" && words.get(1).is_some_and(|w| w.starts_with("DEFERRABLE")))
    {
        return;
    }
    // `… CONSTRAINT name UNIQUE`: the name goes with the keyword.
    let before = head.trim_end();
    let mut cut = before.len();
    let mut name = None;
    if let Some((rest, last)) = before.rsplit_once(char::is_whitespace) {
        if let Some((_, kw)) = rest.trim_end().rsplit_once(char::is_whitespace) {
            if kw.eq_ignore_ascii_case("CONSTRAINT") && !last.contains(['(', ')', ',', ';']) {
                name = Some(last.to_string());
                cut = rest.trim_end().len() - kw.len();
            }
        }
    }
    let Some(prefix) = text.get(..alter.table.span.end as usize) else { return };
    let table_sql = at(statement, alter.table.span);
    let column_sql = at(statement, column.name.span);
    let Some(kept) = before.get(..cut) else { return };
    if table_sql.is_empty() || column_sql.is_empty() {
        return;
    }
    let table = alter.table.name();
    let name = name.unwrap_or_else(|| ident(&object_name(table, Some(&column.name.value), "key")));
    let c = Concurrent {
        edit: (0..text.len(), format!("CREATE UNIQUE INDEX CONCURRENTLY {name} ON {table_sql} ({column_sql});")),
        left: Some(format!("{}{tail}", kept.trim_end())),
        then: vec![format!("{prefix} ADD CONSTRAINT {name} UNIQUE USING INDEX {name};")],
        title: format!("Add the column, build the unique index CONCURRENTLY, then add {name} UNIQUE USING INDEX"),
        effect: "writes continue during the build",
        slug: slug("unique_", &name),
        names: vec![table.to_string(), name.trim_matches('"').to_string()],
        index: Some(name.trim_matches('"').to_string()),
        unsafe_always: false,
    };
    leave_transaction(finding, ctx, &c, out);
}

/// This migration shows `column` of `table` `NOT NULL` before the statement: added `NOT NULL`,
/// set `NOT NULL`, or proved by a validated `CHECK (column IS NOT NULL)`.
fn not_null_here(sc: &StatementContext, table: &QualifiedName, column: &str) -> bool {
    sc.has_validated_not_null_check(table, column)
        || sc.earlier().any(|(_, s)| match s.kind() {
            StatementKind::AlterTable(at) if at.table.key() == table.key() => {
                at.actions.iter().any(|a| match &a.action {
                    AlterAction::AddColumn { column: c, .. } => {
                        c.name.value == column && (c.not_null.is_some() || c.primary_key.is_some())
                    }
                    AlterAction::SetNotNull { column: c } => c.value == column,
                    _ => false,
                })
            }
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use crate::fixes::tests::{fixed, fixes_in, pg};
    use crate::fixes::Safety;
    use crate::rules::MigrationSettings;

    const RULE: &str = "unique-constraint-blocking";

    #[test]
    fn a_unique_constraint_becomes_a_concurrent_build_and_using_index() {
        let text = "-- emails are unique\r\nALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);\r\n";
        assert_eq!(
            fixed(text, RULE, &pg()).as_deref(),
            Some(
                "-- emails are unique\r\nCREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);\r\n\
                 ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;\r\n"
            )
        );
    }

    #[test]
    fn unnamed_constraints_get_the_name_postgresql_would_give_them() {
        assert_eq!(
            fixed("  ALTER TABLE public.users ADD UNIQUE (org_id, email);\n", RULE, &pg()).as_deref(),
            Some(
                "  CREATE UNIQUE INDEX CONCURRENTLY users_org_id_email_key ON public.users (org_id, email);\n  \
                 ALTER TABLE public.users ADD CONSTRAINT users_org_id_email_key UNIQUE USING INDEX users_org_id_email_key;\n"
            )
        );
    }

    #[test]
    fn a_primary_key_makes_its_columns_not_null_through_a_validated_check() {
        let out = fixed("ALTER TABLE events ADD PRIMARY KEY (id);\n", RULE, &pg());
        assert_eq!(
            out.as_deref(),
            Some(
                "ALTER TABLE events ADD CONSTRAINT events_id_not_null CHECK (id IS NOT NULL) NOT VALID;\n\
                 CREATE UNIQUE INDEX CONCURRENTLY events_pkey ON events (id);\n\
                 ALTER TABLE events VALIDATE CONSTRAINT events_id_not_null;\n\
                 ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_pkey;\n\
                 ALTER TABLE events DROP CONSTRAINT events_id_not_null;\n"
            )
        );
        // Columns this migration already made NOT NULL need no check.
        let text = "ALTER TABLE events ALTER COLUMN id SET NOT NULL;\nALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id);\n";
        assert_eq!(
            fixed(text, RULE, &pg()).as_deref(),
            Some(
                "ALTER TABLE events ALTER COLUMN id SET NOT NULL;\nCREATE UNIQUE INDEX CONCURRENTLY events_pkey ON events (id);\n\
                 ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_pkey;\n"
            )
        );
    }

    #[test]
    fn before_postgresql_12_the_primary_key_fix_is_unsafe() {
        let old = MigrationSettings { postgres_version: crate::config::PgVersion::new(11, 0), ..pg() };
        let analysis = crate::engine::analyze(
            "ALTER TABLE events ADD PRIMARY KEY (id);\n",
            &old,
            &crate::config::Config::default(),
            None,
        );
        let finding = analysis.findings.iter().find(|f| f.rule == RULE).expect("a finding");
        let fixes = crate::fixes::for_finding(finding, &crate::fixes::FixContext::of(&analysis));
        assert_eq!(fixes.len(), 1, "{fixes:?}");
        assert_eq!(fixes[0].safety, crate::fixes::Safety::Unsafe);
        assert!(fixes[0].title.contains("before PostgreSQL 12"), "{}", fixes[0].title);
    }

    #[test]
    fn an_explicit_block_keeps_the_check_and_moves_the_rest_after_the_commit() {
        let text = "BEGIN;\nALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id);\nCOMMIT;\n";
        assert_eq!(
            fixed(text, RULE, &pg()).as_deref(),
            Some(
                "BEGIN;\nALTER TABLE events ADD CONSTRAINT events_id_not_null CHECK (id IS NOT NULL) NOT VALID;\nCOMMIT;\n\
                 CREATE UNIQUE INDEX CONCURRENTLY events_pkey ON events (id);\n\
                 ALTER TABLE events VALIDATE CONSTRAINT events_id_not_null;\n\
                 ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_pkey;\n\
                 ALTER TABLE events DROP CONSTRAINT events_id_not_null;\n"
            )
        );
        let text = "BEGIN;\nALTER TABLE users ADD CONSTRAINT u UNIQUE (email);\nCOMMIT;\n";
        assert_eq!(
            fixed(text, RULE, &pg()).as_deref(),
            Some(
                "BEGIN;\nCOMMIT;\nCREATE UNIQUE INDEX CONCURRENTLY u ON users (email);\n\
                 ALTER TABLE users ADD CONSTRAINT u UNIQUE USING INDEX u;\n"
            )
        );
    }

    #[test]
    fn an_inline_unique_column_is_added_then_indexed() {
        assert_eq!(
            fixed("ALTER TABLE users ADD COLUMN external_id uuid UNIQUE;\n", RULE, &pg()).as_deref(),
            Some(
                "ALTER TABLE users ADD COLUMN external_id uuid;\n\
                 CREATE UNIQUE INDEX CONCURRENTLY users_external_id_key ON users (external_id);\n\
                 ALTER TABLE users ADD CONSTRAINT users_external_id_key UNIQUE USING INDEX users_external_id_key;\n"
            )
        );
        assert_eq!(
            fixed(
                "ALTER TABLE users ADD external_id uuid CONSTRAINT ext UNIQUE NOT NULL DEFAULT gen_random_uuid();\n",
                RULE,
                &pg()
            )
            .as_deref(),
            Some(
                "ALTER TABLE users ADD external_id uuid NOT NULL DEFAULT gen_random_uuid();\n\
                 CREATE UNIQUE INDEX CONCURRENTLY ext ON users (external_id);\n\
                 ALTER TABLE users ADD CONSTRAINT ext UNIQUE USING INDEX ext;\n"
            )
        );
    }

    #[test]
    fn dbmate_keeps_the_build_alone_in_its_query_string_and_moves_the_rest() {
        let dbmate = |sql: &str| format!("-- migrate:up\n{sql}\n\n-- migrate:down\n");
        let fixes = fixes_in(
            &[
                ("db/migrations/20240101000000_users.sql", &dbmate("CREATE TABLE users (id bigint, email text);")),
                ("db/migrations/20240102000000_unique.sql", &dbmate("ALTER TABLE users ADD UNIQUE (email);")),
            ],
            "db/migrations/20240102000000_unique.sql",
            RULE,
        );
        assert_eq!(fixes.len(), 1, "{fixes:#?}");
        assert_eq!(fixes[0].safety, Safety::Safe);
        assert_eq!(
            fixes[0].text,
            dbmate("CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);")
                .replace("-- migrate:up\n", "-- migrate:up transaction:false\n")
        );
        let [(path, text)] = fixes[0].created.as_slice() else { panic!("{fixes:#?}") };
        assert_eq!(path, "db/migrations/20240102000001_unique_users_email_key_then.sql");
        assert!(text.starts_with("-- migrate:up\n"), "{text}");
        assert!(
            text.contains("\nALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;\n")
        );
    }

    #[test]
    fn no_fix_for_options_other_actions_or_inline_columns() {
        for text in [
            "ALTER TABLE users ADD CONSTRAINT u UNIQUE (email) DEFERRABLE;\n",
            "ALTER TABLE users ADD CONSTRAINT u UNIQUE (email) INCLUDE (name);\n",
            "ALTER TABLE users ADD CONSTRAINT u UNIQUE NULLS NOT DISTINCT (email);\n",
            "ALTER TABLE users ADD COLUMN note text, ADD CONSTRAINT u UNIQUE (email);\n",
            "ALTER TABLE users ADD COLUMN IF NOT EXISTS external_id uuid UNIQUE;\n",
            "ALTER TABLE users ADD COLUMN external_id uuid UNIQUE NULLS NOT DISTINCT;\n",
            "ALTER TABLE users ADD COLUMN external_id uuid UNIQUE DEFERRABLE;\n",
            "ALTER TABLE users ADD COLUMN external_id uuid PRIMARY KEY;\n",
            "ALTER TABLE IF EXISTS users ADD CONSTRAINT u UNIQUE (email);\n",
        ] {
            assert_eq!(fixed(text, RULE, &pg()), None, "{text}");
        }
    }
}
