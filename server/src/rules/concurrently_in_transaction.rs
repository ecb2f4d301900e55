//! `concurrently-in-transaction`: a `CONCURRENTLY` statement that PostgreSQL refuses to run inside
//! a transaction block.

use sqlparser::tokenizer::Token;

use crate::rules::context::TxnOrigin;
use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};
use crate::sql::facts::{AlterAction, Span};
use crate::sql::StatementKind;

pub static RULE: Rule = Rule {
    id: "concurrently-in-transaction",
    category: Category::Locks,
    default_severity: Severity::Error,
    dialects: POSTGRES,
    summary: "a CONCURRENTLY statement inside a transaction fails with \"cannot run inside a transaction block\"",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
`CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX … CONCURRENTLY` and
`ALTER TABLE … DETACH PARTITION … CONCURRENTLY` when they run inside a transaction block:
- between an explicit `BEGIN` and `COMMIT`;
- in a migration the runner wraps in a transaction (`assume_in_transaction = true`, or what the
  framework is known to do);
- in a multi-statement file that the runner sends as one query string (golang-migrate, Prisma,
  Supabase), which PostgreSQL runs as one implicit transaction.

`REFRESH MATERIALIZED VIEW CONCURRENTLY` is not flagged: it may run inside a transaction.

## Why it hurts
PostgreSQL refuses, and the deploy stops:
`ERROR: CREATE INDEX CONCURRENTLY cannot run inside a transaction block`. A concurrent build
commits several transactions of its own, so it cannot be part of yours.

## Example
```sql
BEGIN;
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
COMMIT;
```

## Instead
Run the statement outside any transaction:
- explicit `BEGIN … COMMIT`: move the statement after the `COMMIT`;
- a runner that wraps each migration: use its opt-out for this migration — goose
  `-- +goose NO TRANSACTION`, dbmate `-- migrate:up transaction:false`, sqlx `-- no-transaction`,
  Atlas `-- atlas:txmode none`, Flyway `executeInTransaction=false` in the script's `.sql.conf`,
  Diesel `run_in_transaction = false` in `metadata.toml`, Rails `disable_ddl_transaction!`, Django
  `atomic = False` — ideally with the concurrent statement alone in that migration;
- a runner that sends the file as one query string: give the statement a migration file of its own.

## Quick fix
"Run it outside a transaction block", where the transaction comes from:
- explicit `BEGIN … COMMIT`: the statement moves after the `COMMIT`;
- a runner that wraps the migration, the statement alone in it: the framework's opt-out (goose,
  sqlx, Atlas, dbmate headers; Flyway `.sql.conf`; Diesel `metadata.toml`);
- with other statements, or a runner that sends the file as one query string (golang-migrate,
  Prisma): the statement moves into a new migration of its own right after this one;
- Supabase, Drizzle, node-pg-migrate, pop (always a transaction): no fix.

**Safe**, unless the move passes later statements that name the same table (unsafe: their order
changes); never offered past a statement that names the same index.
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let Some(origin) = ctx.transaction() else { return };
    for (command, span) in concurrent_commands(ctx) {
        let refusal = format!("this fails with \"{command} cannot run inside a transaction block\"");
        let (message, fix) = match origin {
            TxnOrigin::Explicit(_) => (
                format!("{refusal}: it is inside the explicit BEGIN … COMMIT block; move it after the COMMIT"),
                "Move the statement out of the BEGIN … COMMIT block",
            ),
            TxnOrigin::Runner => (
                match ctx.settings().runner_opt_out {
                    // The framework is known: name its own way out.
                    Some(how) => format!(
                        "{refusal}: the migration runner wraps each migration in a transaction; to run this one outside it, {how}"
                    ),
                    None => format!(
                        "{refusal}: the migration runner wraps each migration in a transaction; turn that off for this migration (goose `-- +goose NO TRANSACTION`, dbmate `transaction:false`, sqlx `-- no-transaction`, Atlas `-- atlas:txmode none`, Flyway `executeInTransaction=false` in `.sql.conf`, Diesel `run_in_transaction = false` in `metadata.toml`, Rails `disable_ddl_transaction!`, Django `atomic = False`) or give the statement a migration of its own"
                    ),
                },
                "Run this migration outside the runner's transaction",
            ),
            TxnOrigin::ImplicitBatch => (
                format!(
                    "{refusal}: the migration runner sends this file as one query string, which PostgreSQL runs as one implicit transaction; give the statement a migration file of its own"
                ),
                "Move the statement to a migration file of its own",
            ),
        };
        out.report(span, message).with_fix(fix);
    }
}

/// Each statement-level command that must run outside a transaction, as PostgreSQL names it in
/// the error, with its `CONCURRENTLY` keyword.
fn concurrent_commands(ctx: &StatementContext) -> Vec<(&'static str, Span)> {
    match ctx.kind() {
        StatementKind::CreateIndex(ci) => {
            ci.concurrently.map(|s| ("CREATE INDEX CONCURRENTLY", s)).into_iter().collect()
        }
        StatementKind::DropIndex(di) => di.concurrently.map(|s| ("DROP INDEX CONCURRENTLY", s)).into_iter().collect(),
        StatementKind::Reindex(r) => r.concurrently.map(|s| ("REINDEX CONCURRENTLY", s)).into_iter().collect(),
        StatementKind::AlterTable(at) => at
            .actions
            .iter()
            .filter(|a| matches!(&a.action, AlterAction::Other(label) if label == "DETACH PARTITION CONCURRENTLY"))
            .filter_map(|a| concurrently_keyword(ctx, a.span))
            .map(|s| ("ALTER TABLE ... DETACH CONCURRENTLY", s))
            .collect(),
        _ => Vec::new(),
    }
}

/// The `CONCURRENTLY` keyword inside `within`.
fn concurrently_keyword(ctx: &StatementContext, within: Span) -> Option<Span> {
    ctx.stmt.parsed.tokens().into_iter().find_map(|t| {
        let inside = t.start >= within.start && t.end <= within.end;
        let keyword =
            matches!(&t.token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("CONCURRENTLY"));
        (inside && keyword).then(|| Span::new(t.start, t.end))
    })
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::engine::analyze;
    use crate::rules::MigrationSettings;

    fn findings(sql: &str, settings: &MigrationSettings) -> Vec<String> {
        analyze(sql, settings, &Config::default(), None)
            .findings
            .into_iter()
            .filter(|f| f.rule == super::RULE.id)
            .map(|f| format!("{}|{}", &sql[f.range.clone()], f.message))
            .collect()
    }

    #[test]
    fn a_file_sent_as_one_query_string_is_one_implicit_transaction() {
        let settings = MigrationSettings { implicit_transaction: true, ..MigrationSettings::default() };
        let sql =
            "ALTER TABLE orders ADD COLUMN note text;\nCREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);\n";
        let found = findings(sql, &settings);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("CONCURRENTLY|"), "{found:?}");
        assert!(found[0].contains("one implicit transaction"), "{found:?}");
        assert!(found[0].contains("CREATE INDEX CONCURRENTLY cannot run inside a transaction block"), "{found:?}");
    }

    #[test]
    fn a_lone_statement_sent_as_one_query_string_runs_outside_a_transaction() {
        let settings = MigrationSettings { implicit_transaction: true, ..MigrationSettings::default() };
        let sql = "-- the whole migration\nCREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);\n";
        assert!(findings(sql, &settings).is_empty());
    }
}
