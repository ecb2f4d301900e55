//! `existing-rows-violate`: rows already in the dev database would make this statement fail.
//!
//! The rule is pure: data probes ([`crate::live::probe`]) run in the background against the
//! connected database, and their outcomes reach the rule through [`SchemaView::probe`] by
//! [`ProbeKey`]. Without a connection (or before a probe finished) it is silent.
//!
//! [`SchemaView::probe`]: crate::rules::SchemaView::probe
//! [`ProbeKey`]: crate::live::probe::ProbeKey

use crate::live::probe::{self, ProbeCheck, ProbeOutcome, ProbeTarget};
use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};

pub static RULE: Rule = Rule {
    id: "existing-rows-violate",
    category: Category::Live,
    default_severity: Severity::Error,
    dialects: POSTGRES,
    summary: "rows already in the connected database would make this statement fail (NULLs, CHECK failures, duplicates, orphans)",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
With a dev database connected, a statement that the rows already there would make fail:
- `ALTER COLUMN … SET NOT NULL` on a column holding NULLs;
- `ADD COLUMN … NOT NULL` without a default on a table that has rows (every row violates);
- `ADD CONSTRAINT … CHECK (…)` (without `NOT VALID`), or `VALIDATE CONSTRAINT` of a check, when
  rows fail the expression;
- `ADD CONSTRAINT … UNIQUE` / `PRIMARY KEY` and `CREATE UNIQUE INDEX` when rows share a key (and,
  for a primary key, rows with a NULL in it);
- `ADD CONSTRAINT … FOREIGN KEY` (without `NOT VALID`), or `VALIDATE CONSTRAINT` of one, when rows
  reference no row of the parent table.

The message gives the count and one example key, e.g. "47 existing rows of `orders` violate this
CHECK (e.g. id=1831): this migration will fail". On a large table (about a million rows or more)
safemig reads a sample and says "at least". Probes run in a read-only transaction with a short
timeout; a probe that cannot run (timeout, an expression the live schema cannot evaluate) reports
nothing. A probe evaluates an expression from the migration (a CHECK clause, a unique index's keys
and predicate) only when it is built from column references, literals, operators, casts to
built-in types and immutable built-in functions (sent as `pg_catalog.lower(…)`, with `search_path`
fixed to `pg_catalog`); anything else, such as a call of your own function, is not run, and an
info finding says so: "not probed: calls `f()`". Statements after a data change of the same table in the migration (`UPDATE`, `DELETE`,
`INSERT`, a `DO` block) are not probed: the backfill may fix the rows first.

## Why it hurts
The migration stops with `column "email" of relation "users" contains null values`, `check
constraint "…" of relation "…" is violated by some row`, `could not create unique index`, or
`insert or update on table "…" violates foreign key constraint`. It passed in CI on an empty
database and fails on the first environment with real rows, often after waiting for a lock and
blocking traffic while it scanned. A failed `CREATE UNIQUE INDEX CONCURRENTLY` also leaves an
invalid index behind that must be dropped.

## Example
```sql
-- orders has 47 rows with amount <= 0
ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0);
```

## Instead
Fix the data first, in its own migration (batched on a large table), then add the constraint:
```sql
UPDATE orders SET amount = 0.01 WHERE amount <= 0;  -- or delete, or fix per row
ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;  -- separate transaction
```
For duplicates, decide which row wins and delete or merge the others before building the unique
index; for orphans, delete them or point them at a real parent.

## Quick fix
None: which rows are wrong, and what they should become, is a decision about your data.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let all = ctx.migration.memo(RULE.id, |m| probe::targets(m.file));
    let first = all.partition_point(|t| t.statement < ctx.index);
    for target in all[first..].iter().take_while(|t| t.statement == ctx.index) {
        let (count, lower_bound, example) = match ctx.migration.schema.probe(&target.key) {
            Some(ProbeOutcome::Violations { count, lower_bound, example }) => (count, lower_bound, example),
            Some(ProbeOutcome::NotProbed(why)) => {
                out.report_at(Severity::Info, target.span, not_probed(why));
                continue;
            }
            _ => continue,
        };
        let mut text = message(target, *count, *lower_bound, example.as_deref());
        // Moving the statement (NOT VALID, a later VALIDATE, a new migration) does not make it
        // pass: the rows have to change first.
        text.push_str("; repair the data first");
        if let Some(query) = listing(target) {
            text.push_str(&format!(" — the rows: {query}"));
        }
        out.report_at(Severity::Error, target.span, text);
    }
}

/// "not probed: calls `f()` — …": what a refused probe's finding says.
fn not_probed(why: &str) -> String {
    format!(
        "not probed: {why} — on the dev database, safemig evaluates only column references, literals, operators, \
         casts to built-in types and immutable built-in functions"
    )
}

fn message(target: &ProbeTarget, count: u64, lower_bound: bool, example: Option<&str>) -> String {
    let table = &target.table;
    let n = if lower_bound { format!("at least {count}") } else { count.to_string() };
    let rows = if count == 1 { "row" } else { "rows" };
    let eg = example.map(|e| format!(" (e.g. {e})")).unwrap_or_default();
    let list = |columns: &[String]| match columns {
        [one] => format!("`{one}`"),
        many => format!("({})", many.join(", ")),
    };
    match &target.check {
        ProbeCheck::Nulls { columns } if columns.len() == 1 => format!(
            "{n} existing {rows} of `{table}` {} NULL in {}{eg}: SET NOT NULL will fail; fill them first",
            if count == 1 && !lower_bound { "has" } else { "have" },
            list(columns)
        ),
        ProbeCheck::Nulls { columns } => format!(
            "{n} existing {rows} of `{table}` {} a NULL in the primary key {}{eg}: this migration will fail",
            if count == 1 && !lower_bound { "has" } else { "have" },
            list(columns)
        ),
        ProbeCheck::NewColumn { column } => format!(
            "`{table}` has {n} existing {rows}{eg}: adding `{column}` NOT NULL without a default fails on the first of them"
        ),
        ProbeCheck::Check { constraint, .. } => {
            let what = constraint.as_ref().map(|c| format!("CHECK `{c}`")).unwrap_or_else(|| "this CHECK".into());
            format!("{n} existing {rows} of `{table}` {} {what}{eg}: this migration will fail", violate(count, lower_bound))
        }
        ProbeCheck::Duplicates { columns, .. } => format!(
            "{n} {} of {} {} in more than one row of `{table}`{eg}: this migration will fail",
            if count == 1 { "value" } else { "values" },
            list(columns),
            if count == 1 && !lower_bound { "appears" } else { "appear" },
        ),
        ProbeCheck::UniqueIndex { .. } => format!(
            "{n} {} of the index key {} in more than one row of `{table}`{eg}: building the unique index will fail",
            if count == 1 { "value" } else { "values" },
            if count == 1 && !lower_bound { "appears" } else { "appear" },
        ),
        ProbeCheck::Orphans { table: parent, .. } => format!(
            "{n} existing {rows} of `{table}` {} no row of `{parent}`{eg}: this foreign key will fail",
            if count == 1 && !lower_bound { "references" } else { "reference" },
        ),
        ProbeCheck::Validate { constraint } => format!(
            "{n} existing {rows} of `{table}` {} `{constraint}`{eg}: VALIDATE CONSTRAINT will fail",
            violate(count, lower_bound)
        ),
    }
}

/// The query that lists the rows in the way (at most 100), as the user can run it.
fn listing(target: &ProbeTarget) -> Option<String> {
    use crate::sql::quote::ident;
    let table = target.table.sql();
    let cols = |columns: &[String]| columns.iter().map(|c| ident(c)).collect::<Vec<_>>();
    let query = match &target.check {
        ProbeCheck::Nulls { columns } => {
            let nulls: Vec<String> = cols(columns).iter().map(|c| format!("{c} IS NULL")).collect();
            format!("SELECT * FROM {table} WHERE {} LIMIT 100;", nulls.join(" OR "))
        }
        ProbeCheck::NewColumn { .. } => format!("SELECT count(*) FROM {table};"),
        ProbeCheck::Check { clause, .. } => {
            format!("SELECT * FROM {table} WHERE NOT {} LIMIT 100;", crate::live::probe::check_expression(clause)?)
        }
        ProbeCheck::Duplicates { columns, .. } => {
            let key = cols(columns).join(", ");
            let present: Vec<String> = cols(columns).iter().map(|c| format!("{c} IS NOT NULL")).collect();
            format!(
                "SELECT {key}, count(*) FROM {table} WHERE {} GROUP BY {key} HAVING count(*) > 1 LIMIT 100;",
                present.join(" AND ")
            )
        }
        ProbeCheck::Orphans { columns, table: parent, ref_columns, .. } if !ref_columns.is_empty() => {
            let pairs: Vec<String> = cols(columns)
                .iter()
                .zip(cols(ref_columns))
                .map(|(c, r)| format!("p.{r} = c.{c}"))
                .collect();
            let present: Vec<String> = cols(columns).iter().map(|c| format!("c.{c} IS NOT NULL")).collect();
            format!(
                "SELECT c.* FROM {table} c WHERE {} AND NOT EXISTS (SELECT 1 FROM {} p WHERE {}) LIMIT 100;",
                present.join(" AND "),
                parent.sql(),
                pairs.join(" AND ")
            )
        }
        ProbeCheck::Validate { constraint } => format!(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = {} (then SELECT the rows of {table} for which it is false)",
            crate::sql::quote::literal(constraint)
        ),
        ProbeCheck::Orphans { .. } | ProbeCheck::UniqueIndex { .. } => return None,
    };
    Some(format!("`{query}`"))
}

fn violate(count: u64, lower_bound: bool) -> &'static str {
    if count == 1 && !lower_bound {
        "violates"
    } else {
        "violate"
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::config::Config;
    use crate::engine::analyze_with_schema;
    use crate::live::probe::{targets, ProbeKey, ProbeOutcome};
    use crate::rules::{MigrationSettings, SchemaView, Severity};
    use crate::sql::{Dialect, SqlFile};

    /// Probe outcomes as the language server would hold them.
    struct Probed(HashMap<ProbeKey, ProbeOutcome>);
    impl SchemaView for Probed {
        fn probe(&self, key: &ProbeKey) -> Option<&ProbeOutcome> {
            self.0.get(key)
        }
    }

    fn findings(sql: &str, outcomes: Vec<ProbeOutcome>) -> Vec<(Severity, String, String)> {
        let file = SqlFile::parse(sql, Dialect::Postgres, None);
        let keys: Vec<ProbeKey> = targets(&file).into_iter().map(|t| t.key).collect();
        assert_eq!(keys.len(), outcomes.len(), "one outcome per target: {keys:?}");
        let view = Probed(keys.into_iter().zip(outcomes).collect());
        analyze_with_schema(sql, &MigrationSettings::default(), &Config::default(), &view, None)
            .findings
            .into_iter()
            .filter(|f| f.rule == super::RULE.id)
            .map(|f| (f.severity, sql[f.range.clone()].to_string(), f.message))
            .collect()
    }

    #[test]
    fn violations_are_errors_naming_count_example_and_table() {
        let sql = "ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0);";
        let found = findings(
            sql,
            vec![ProbeOutcome::Violations { count: 47, lower_bound: false, example: Some("id=1831".into()) }],
        );
        assert_eq!(found.len(), 1);
        let (severity, underlined, message) = &found[0];
        assert_eq!(*severity, Severity::Error);
        assert_eq!(underlined, "CHECK");
        assert_eq!(
            message,
            "47 existing rows of `orders` violate CHECK `orders_amount_positive` (e.g. id=1831): this migration will fail; \
             repair the data first — the rows: `SELECT * FROM orders WHERE NOT (amount > 0) LIMIT 100;`"
        );
    }

    #[test]
    fn the_rows_in_the_way_are_listed_with_quoted_names() {
        let sql = "ALTER TABLE \"Order\" ADD CONSTRAINT \"Order_userId_fkey\" FOREIGN KEY (\"userId\") REFERENCES \"User\"(\"id\");\n\
                   ALTER TABLE \"Order\" ALTER COLUMN \"note\" SET NOT NULL;";
        let violation = || ProbeOutcome::Violations { count: 2, lower_bound: false, example: None };
        let found = findings(sql, vec![violation(), violation()]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].2.ends_with(
                "repair the data first — the rows: `SELECT c.* FROM \"Order\" c WHERE c.\"userId\" IS NOT NULL AND NOT EXISTS \
                 (SELECT 1 FROM \"User\" p WHERE p.id = c.\"userId\") LIMIT 100;`"
            ),
            "{}",
            found[0].2
        );
        assert!(found[1].2.ends_with("`SELECT * FROM \"Order\" WHERE note IS NULL LIMIT 100;`"), "{}", found[1].2);
    }

    #[test]
    fn lower_bounds_say_at_least() {
        let sql = "ALTER TABLE users ALTER COLUMN email SET NOT NULL;";
        let found = findings(
            sql,
            vec![ProbeOutcome::Violations { count: 12, lower_bound: true, example: Some("id=7".into()) }],
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, "SET NOT NULL");
        assert!(
            found[0].2.starts_with("at least 12 existing rows of `users` have NULL in `email` (e.g. id=7)"),
            "{}",
            found[0].2
        );
    }

    #[test]
    fn refused_probes_say_what_was_not_run() {
        let sql = "ALTER TABLE users ADD CONSTRAINT c CHECK (grab());\nALTER TABLE users ADD CONSTRAINT d CHECK (price > 0);";
        let found = findings(sql, vec![ProbeOutcome::NotProbed("calls `grab()`".into()), ProbeOutcome::Clean]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, Severity::Info);
        assert_eq!(found[0].1, "CHECK");
        assert!(found[0].2.starts_with("not probed: calls `grab()` — "), "{}", found[0].2);
    }

    #[test]
    fn clean_failed_and_unknown_outcomes_are_silent() {
        let sql = "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\nCREATE UNIQUE INDEX u ON users (email);";
        assert_eq!(findings(sql, vec![ProbeOutcome::Clean, ProbeOutcome::Failed("timeout".into())]), []);
        assert_eq!(findings(sql, vec![ProbeOutcome::Inconclusive("sample".into()), ProbeOutcome::Clean]), []);
        // Only the statement whose probe found violations is reported.
        let found = findings(
            sql,
            vec![
                ProbeOutcome::Clean,
                ProbeOutcome::Violations {
                    count: 1,
                    lower_bound: false,
                    example: Some("email=a@x.io (2 rows)".into()),
                },
            ],
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, "CREATE UNIQUE INDEX");
        assert!(
            found[0].2.starts_with("1 value of the index key appears in more than one row of `users`"),
            "{}",
            found[0].2
        );
    }
}
