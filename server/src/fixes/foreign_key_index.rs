//! `foreign-key-missing-index`: an index on the referencing columns, built before the foreign
//! key.
//!
//! | where the foreign key is | the fix |
//! |---|---|
//! | on a table this migration creates (empty) | a plain `CREATE INDEX` right after the statement |
//! | no transaction | `CREATE INDEX CONCURRENTLY` right before the statement |
//! | explicit `BEGIN … COMMIT` | `CREATE INDEX CONCURRENTLY` right before the `BEGIN` |
//! | the runner's transaction, or one query string | `CREATE INDEX CONCURRENTLY` in a new migration that sorts right before this one, under the framework's opt-out (golang-migrate, Prisma: a file of one statement runs in no transaction); when no version key fits in between, and the foreign key is the migration's only statement, the index goes before it under the opt-out (goose, Atlas, Flyway: runners that then run statement by statement) |
//! | always a transaction (Supabase, Drizzle, node-pg-migrate, pop) | no fix |
//! | a column this statement adds | `CREATE INDEX CONCURRENTLY` after the statement, where it stays in this migration (in place, after the `COMMIT`, under the opt-out); no fix that would put the index in a later migration |
//! | a column an earlier statement of this migration adds | `CREATE INDEX CONCURRENTLY` where the foreign key stands, the foreign key after the build (like every concurrent statement with a follow-up) |
//!
//! The index gets the name PostgreSQL gives an unnamed one (`orders_customer_id_idx`, cut to
//! 63 bytes). The migration then creates one index more than before, and constrains nothing
//! more: the fix is safe.

use crate::rules::{Finding, TxnOrigin};
use crate::sql::facts::{AlterAction, ConstraintKind, ForeignKey, QualifiedName};
use crate::sql::{Span, Statement, StatementKind};
use crate::workspace::frameworks::naming::slug;
use crate::workspace::frameworks::{framework, NoOptOut};

use super::concurrently::{leave_transaction, Concurrent};
use super::names::{columns_addition, ident, object_name};
use super::placement::{
    indentation, mentioned_in, new_migration_before, opt_out_edits, other_sections_single, reader, section_of,
    statements_in,
};
use super::{FileEdit, Fix, FixContext, Safety};

/// `text` at a statement-relative span.
fn at(statement: &Statement, span: Span) -> &str {
    statement.parsed.text.get(span.start as usize..span.end as usize).unwrap_or("")
}

/// The foreign key the finding is about: its referencing table, the key, and whether the
/// statement creates the table.
fn foreign_key<'s>(statement: &'s Statement, finding: &Finding) -> Option<(&'s QualifiedName, &'s ForeignKey, bool)> {
    let mut fks: Vec<(&QualifiedName, &ForeignKey, Span, bool)> = Vec::new();
    match statement.kind() {
        StatementKind::CreateTable(ct) => {
            for col in &ct.columns {
                fks.extend(col.references.as_ref().map(|fk| (&ct.name, fk, fk.span, true)));
            }
            for tc in &ct.constraints {
                if let ConstraintKind::ForeignKey(fk) = &tc.kind {
                    fks.push((&ct.name, fk, tc.kind_span.to(fk.span), true));
                }
            }
        }
        StatementKind::AlterTable(alter) => {
            for action in &alter.actions {
                match &action.action {
                    AlterAction::AddConstraint(tc) => {
                        if let ConstraintKind::ForeignKey(fk) = &tc.kind {
                            fks.push((&alter.table, fk, tc.kind_span.to(fk.span), false));
                        }
                    }
                    AlterAction::AddColumn { column, .. } => {
                        fks.extend(column.references.as_ref().map(|fk| (&alter.table, fk, fk.span, false)));
                    }
                    _ => {}
                }
            }
        }
        _ => return None,
    }
    fks.into_iter().find(|(_, _, span, _)| statement.abs(*span) == finding.range).map(|(t, fk, _, c)| (t, fk, c))
}

/// `foreign-key-missing-index`: `CREATE INDEX [CONCURRENTLY] t_cols_idx ON t (cols)` before the
/// foreign key (after it, plain, on a new table).
pub(super) fn foreign_key_index(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    let i = finding.statement;
    let Some(statement) = ctx.file.statements.get(i) else { return };
    let Some((table, fk, creates)) = foreign_key(statement, finding) else { return };
    // `IF EXISTS`: an index build on a missing table fails where the original did nothing.
    if matches!(statement.kind(), StatementKind::AlterTable(alter) if alter.if_exists) {
        return;
    }
    let table_sql = at(statement, table.span);
    let columns: Vec<&str> = fk.columns.iter().map(|c| at(statement, c.span)).collect();
    if table_sql.is_empty() || columns.is_empty() || columns.iter().any(|c| c.is_empty()) {
        return;
    }
    let values: Vec<&str> = fk.columns.iter().map(|c| c.value.as_str()).collect();
    let name = ident(&object_name(table.name(), Some(&columns_addition(&values)), "idx"));
    let cols = columns.join(", ");
    let text = ctx.text();
    let nl = ctx.newline();
    let migration = ctx.migration();
    let sc = migration.statement(i);
    let fix = |title: String, safety: Safety, edits: Vec<FileEdit>| Fix {
        rule: finding.rule,
        title,
        preferred: true,
        safety,
        edits,
    };
    let indent = indentation(text, statement.range.start);
    if creates || sc.is_new_table(table) {
        // As the rule says: a new table is empty and nobody uses it yet.
        let index = format!("{nl}{indent}CREATE INDEX {name} ON {table_sql} ({cols});");
        let end = statement.range.end;
        let title =
            format!("Create index {name} on {table_sql} ({cols}) after it (the table is new: no CONCURRENTLY needed)");
        out.push(fix(title, Safety::Safe, vec![FileEdit::Replace { range: end..end, text: index }]));
        return;
    }
    let build = format!("CREATE INDEX CONCURRENTLY {name} ON {table_sql} ({cols});");
    let title = format!("Create index {name} CONCURRENTLY on {table_sql} ({cols})");
    let adds_column = matches!(statement.kind(), StatementKind::AlterTable(alter)
        if alter.actions.iter().any(|a| matches!(&a.action, AlterAction::AddColumn { column, .. } if values.contains(&column.name.value.as_str()))));
    if adds_column {
        // The statement adds the column and its foreign key at once: the index can only come
        // after it, and only in this migration (a later one would leave the key without it).
        let c = Concurrent {
            edit: (0..statement.parsed.text.len(), build),
            left: Some(statement.parsed.text.to_string()),
            then: Vec::new(),
            title: format!("{title} after the foreign key"),
            effect: "the column is new here, so the index cannot come first",
            slug: slug("", &format!("index_{}", name.trim_matches('"'))),
            names: vec![table.name().to_string(), name.trim_matches('"').to_string()],
            index: None,
            unsafe_always: false,
        };
        let mut offered = Vec::new();
        leave_transaction(finding, ctx, &c, &mut offered);
        out.extend(offered.into_iter().filter(|f| !f.edits.iter().any(|e| matches!(e, FileEdit::Create { .. }))));
        return;
    }
    if values.iter().any(|c| sc.is_new_column(table, c)) {
        // An earlier statement of this migration adds the column: the index is built after
        // it, where this statement stands, and the foreign key follows the build.
        let c = Concurrent {
            edit: (0..statement.parsed.text.len(), build),
            left: None,
            then: vec![statement.parsed.text.to_string()],
            title: format!("{title}, then add the foreign key"),
            effect: "the column is new in this migration, so the key waits for the index",
            slug: slug("", &format!("index_{}", name.trim_matches('"'))),
            names: vec![table.name().to_string(), name.trim_matches('"').to_string()],
            index: None,
            unsafe_always: false,
        };
        leave_transaction(finding, ctx, &c, out);
        return;
    }
    let before = |at: usize, indent: &str| FileEdit::Replace { range: at..at, text: format!("{build}{nl}{indent}") };
    match sc.transaction() {
        None if !ctx.settings.implicit_transaction => {
            out.push(fix(
                format!("{title} before the foreign key"),
                Safety::Safe,
                vec![before(statement.range.start, indent)],
            ));
        }
        Some(TxnOrigin::Explicit(begin)) => {
            let Some(begin_stmt) = ctx.file.statements.get(begin) else { return };
            let indent = indentation(text, begin_stmt.range.start);
            // Statements between the BEGIN and the foreign key that name the table ran before
            // the index did.
            let safety = if mentioned_in(ctx.file, begin + 1, i, &[table.name().to_string()]) {
                Safety::Unsafe
            } else {
                Safety::Safe
            };
            let edit = before(begin_stmt.range.start, indent);
            out.push(fix(
                format!("{title} before the BEGIN (it cannot run in a transaction block)"),
                safety,
                vec![edit],
            ));
        }
        _ => {
            let Some(place) = ctx.place else { return };
            if sc.explicit_block_open() {
                return;
            }
            let fw = framework(place.set.framework);
            let read = reader(&place);
            let opt = match fw.opt_out(place.path, text, statement.range.start, nl, &read) {
                Ok(opt) => Some(opt),
                Err(NoOptOut::OwnFile) => None,
                Err(NoOptOut::AlwaysInTransaction) => return,
            };
            let from = place.path.strip_prefix(&place.set.dir).unwrap_or(place.path).display().to_string();
            let intro = format!(
                "-- Added by safemig: the index the foreign key of {from} needs, built before it (CONCURRENTLY: outside a transaction).\n"
            );
            let down =
                format!("-- Nothing to undo: drop the index with DROP INDEX CONCURRENTLY {name} if you need to.\n");
            let slug = slug("", &format!("index_{}", name.trim_matches('"')));
            if let Some(new) = new_migration_before(ctx, &slug, (&intro, &format!("{build}\n"), &down), opt.is_some()) {
                let title = format!("{title} in a new migration {} before this one", new.name);
                out.push(fix(title, Safety::Safe, new.edits));
                return;
            }
            // No version key between the previous migration and this one: opt this one out
            // when the foreign key is all it does and the runner then runs statement by statement.
            let Some(opt) = opt else { return };
            let section = section_of(ctx, statement.range.start);
            if statements_in(ctx.file, &section) != [i] || fw.opted_out_sends_one_query() {
                return;
            }
            let safety = if other_sections_single(ctx, &section) { Safety::Safe } else { Safety::Unsafe };
            let mut edits = vec![before(statement.range.start, indent)];
            edits.extend(opt_out_edits(&opt));
            out.push(fix(
                format!("{title} before the foreign key, outside the migration's transaction: {}", opt.how),
                safety,
                edits,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::fixes::tests::{fixed, fixes_in, pg};
    use crate::fixes::Safety;

    const RULE: &str = "foreign-key-missing-index";

    /// A schema where `orders` exists with known indexes (none on customer_id).
    const SHOP: &str = "CREATE TABLE customers (id bigint PRIMARY KEY);\nCREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);\n";
    const FK: &str =
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fkey FOREIGN KEY (customer_id) REFERENCES customers (id);";

    #[test]
    fn a_new_table_gets_a_plain_index_after_it() {
        let text = "CREATE TABLE order_lines (\r\n    id bigint PRIMARY KEY,\r\n    order_id bigint REFERENCES orders (id)\r\n);\r\n";
        assert_eq!(
            fixed(text, RULE, &pg()).as_deref(),
            Some(
                "CREATE TABLE order_lines (\r\n    id bigint PRIMARY KEY,\r\n    order_id bigint REFERENCES orders (id)\r\n);\r\n\
                 CREATE INDEX order_lines_order_id_idx ON order_lines (order_id);\r\n"
            )
        );
    }

    #[test]
    fn statement_by_statement_the_index_goes_right_before_the_foreign_key() {
        let fixes = fixes_in(
            &[("migrations/001_shop.sql", SHOP), ("migrations/002_fk.sql", &format!("  {FK}\n"))],
            "migrations/002_fk.sql",
            RULE,
        );
        assert_eq!(fixes.len(), 1, "{fixes:#?}");
        assert_eq!(fixes[0].safety, Safety::Safe);
        assert!(fixes[0].preferred);
        assert_eq!(
            fixes[0].text,
            format!("  CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);\n  {FK}\n")
        );
    }

    #[test]
    fn an_explicit_block_gets_the_index_before_its_begin() {
        let text = format!("BEGIN;\n{FK}\nCOMMIT;\n");
        let fixes = fixes_in(
            &[("migrations/001_shop.sql", SHOP), ("migrations/002_fk.sql", &text)],
            "migrations/002_fk.sql",
            RULE,
        );
        assert_eq!(
            fixes[0].text,
            format!(
                "CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);\nBEGIN;\n{FK}\nCOMMIT;\n"
            )
        );
        assert_eq!(fixes[0].safety, Safety::Safe);
        // A statement in the block before the key that touches the table would now run after
        // the index build.
        let text = format!("BEGIN;\nUPDATE orders SET customer_id = NULL WHERE customer_id = 0;\n{FK}\nCOMMIT;\n");
        let fixes = fixes_in(
            &[("migrations/001_shop.sql", SHOP), ("migrations/002_fk.sql", &text)],
            "migrations/002_fk.sql",
            RULE,
        );
        assert_eq!(fixes[0].safety, Safety::Unsafe);
    }

    #[test]
    fn goose_gets_a_migration_before_this_one_or_the_opt_out() {
        let goose = |sql: &str| format!("-- +goose Up\n{sql}\n\n-- +goose Down\nSELECT 1;\n");
        let fixes = fixes_in(
            &[("db/migrations/00001_shop.sql", &goose(SHOP)), ("db/migrations/00005_fk.sql", &goose(FK))],
            "db/migrations/00005_fk.sql",
            RULE,
        );
        assert_eq!(fixes.len(), 1, "{fixes:#?}");
        assert_eq!(fixes[0].title, "Create index orders_customer_id_idx CONCURRENTLY on orders (customer_id) in a new migration 00004_index_orders_customer_id_idx.sql before this one");
        assert_eq!(fixes[0].text, goose(FK));
        let (path, created) = &fixes[0].created[0];
        assert_eq!(path, "db/migrations/00004_index_orders_customer_id_idx.sql");
        assert!(created.starts_with("-- +goose NO TRANSACTION\n-- +goose Up\n"), "{created}");
        assert!(
            created.contains("\nCREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);\n"),
            "{created}"
        );
        // Consecutive versions: the opt-out, the key being the migration's only statement.
        let fixes = fixes_in(
            &[("db/migrations/00001_shop.sql", &goose(SHOP)), ("db/migrations/00002_fk.sql", &goose(FK))],
            "db/migrations/00002_fk.sql",
            RULE,
        );
        assert_eq!(fixes.len(), 1, "{fixes:#?}");
        assert_eq!(
            fixes[0].text,
            format!(
                "-- +goose NO TRANSACTION\n{}",
                goose(&format!("CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);\n{FK}"))
            )
        );
        // …but not with other statements.
        let fixes = fixes_in(
            &[
                ("db/migrations/00001_shop.sql", &goose(SHOP)),
                ("db/migrations/00002_fk.sql", &goose(&format!("ALTER TABLE orders ADD COLUMN note text;\n{FK}"))),
            ],
            "db/migrations/00002_fk.sql",
            RULE,
        );
        assert!(fixes.is_empty(), "{fixes:#?}");
    }

    #[test]
    fn golang_migrate_gets_a_migration_of_one_statement_before_this_one() {
        let fixes = fixes_in(
            &[
                ("db/0010_shop.up.sql", SHOP),
                ("db/0020_fk.up.sql", &format!("{FK}\nALTER TABLE orders ADD COLUMN note text;\n")),
            ],
            "db/0020_fk.up.sql",
            RULE,
        );
        assert_eq!(fixes.len(), 1, "{fixes:#?}");
        assert_eq!(fixes[0].created.len(), 1);
        assert_eq!(fixes[0].created[0].0, "db/0019_index_orders_customer_id_idx.up.sql");
        assert!(fixes[0].created[0]
            .1
            .ends_with("\nCREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);\n"));
    }

    #[test]
    fn a_column_added_here_gets_its_index_after_the_statement() {
        let text = "ALTER TABLE orders ADD COLUMN customer_id2 bigint REFERENCES customers (id);\n";
        let fixes = fixes_in(
            &[("migrations/001_shop.sql", SHOP), ("migrations/002_fk.sql", text)],
            "migrations/002_fk.sql",
            RULE,
        );
        assert_eq!(
            fixes[0].text,
            "ALTER TABLE orders ADD COLUMN customer_id2 bigint REFERENCES customers (id);\n\
             CREATE INDEX CONCURRENTLY orders_customer_id2_idx ON orders (customer_id2);\n"
        );
    }

    /// Seen in the corpus: a key on a column an earlier statement adds. The index takes the
    /// key's place and the key follows it; in a new migration the key goes after the index's.
    #[test]
    fn a_column_added_earlier_gets_its_index_then_the_key() {
        let text = "ALTER TABLE orders ADD COLUMN c2 bigint;\nALTER TABLE orders ADD CONSTRAINT orders_c2_fkey FOREIGN KEY (c2) REFERENCES customers (id);\n";
        let fixes = fixes_in(
            &[("migrations/001_shop.sql", SHOP), ("migrations/002_fk.sql", text)],
            "migrations/002_fk.sql",
            RULE,
        );
        assert_eq!(
            fixes[0].text,
            "ALTER TABLE orders ADD COLUMN c2 bigint;\nCREATE INDEX CONCURRENTLY orders_c2_idx ON orders (c2);\nALTER TABLE orders ADD CONSTRAINT orders_c2_fkey FOREIGN KEY (c2) REFERENCES customers (id);\n",
            "{fixes:#?}"
        );
        let moved = fixes_in(
            &[("db/migrations/0001_shop.up.sql", SHOP), ("db/migrations/0002_fk.up.sql", text)],
            "db/migrations/0002_fk.up.sql",
            RULE,
        );
        let created: Vec<&str> = moved[0].created.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            created,
            ["db/migrations/0003_index_orders_c2_idx.up.sql", "db/migrations/0004_index_orders_c2_idx_then.up.sql"],
            "{moved:#?}"
        );
        assert!(moved[0].created[1].1.contains("FOREIGN KEY (c2)"), "{moved:#?}");
    }
}
