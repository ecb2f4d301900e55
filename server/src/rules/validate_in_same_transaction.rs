//! `validate-in-same-transaction`: `VALIDATE CONSTRAINT` in the same transaction as the
//! `NOT VALID` add it validates, which undoes the point of `NOT VALID`.

use crate::rules::context::TxnOrigin;
use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};
use crate::sql::facts::{AlterAction, AlterTableAction, QualifiedName};
use crate::sql::locks::{locks_taken, LockMode};
use crate::sql::StatementKind;

pub static RULE: Rule = Rule {
    id: "validate-in-same-transaction",
    category: Category::Locks,
    default_severity: Severity::Warning,
    dialects: POSTGRES,
    summary: "VALIDATE CONSTRAINT in the same transaction as its NOT VALID add scans the table under the add's lock",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
`ALTER TABLE … VALIDATE CONSTRAINT c` when `c` was added `NOT VALID` earlier in the same
transaction: the same statement, the same `BEGIN … COMMIT` block, a migration the runner wraps in a
transaction, or a file the runner sends as one implicit transaction. Tables this migration created
are left alone.

## Why it hurts
`NOT VALID` exists to split the work: the add is instant, and the validating scan runs later under
a SHARE UPDATE EXCLUSIVE lock that lets reads and writes continue. In the same transaction the add's
lock — ACCESS EXCLUSIVE for a CHECK, SHARE ROW EXCLUSIVE on both tables for a foreign key — is
still held until commit, so the scan blocks the table exactly as a plain validated add would.

## Example
```sql
BEGIN;
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey
    FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;
COMMIT;
```

## Instead
Commit the `NOT VALID` add first, and validate in the next migration (or after the `COMMIT` when
the file controls its own transactions):
```sql
-- next migration
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;
```

## Quick fix
When the `VALIDATE` is a statement of its own, it moves out of the add's transaction: after the
`COMMIT` of an explicit block, else into a new migration right after this one in the framework's
naming (carrying the `lock_timeout` in effect). **Safe**: the same constraint ends up validated; the
add's ACCESS EXCLUSIVE lock ends before the scan. No fix when the add and the `VALIDATE` are the
same `ALTER TABLE`, or the migration cannot be followed by a new one (Drizzle's journal).
"#;

/// Where the `NOT VALID` add happened.
enum AddedIn<'a> {
    ThisStatement,
    Earlier(&'a StatementKind),
}

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let Some(at) = ctx.alter_of_existing_table() else { return };
    for (i, action) in at.actions.iter().enumerate() {
        let AlterAction::ValidateConstraint { name } = &action.action else { continue };
        let added = if adds_not_valid(&at.actions[..i], &name.value) {
            AddedIn::ThisStatement
        } else {
            let earlier = ctx.earlier().find_map(|(j, stmt)| match stmt.kind() {
                StatementKind::AlterTable(prev) if prev.table.key() == at.table.key() => {
                    adds_not_valid(&prev.actions, &name.value).then_some((j, stmt.kind()))
                }
                _ => None,
            });
            match earlier {
                Some((j, kind)) if ctx.same_transaction_as(j) => AddedIn::Earlier(kind),
                _ => continue,
            }
        };
        let add_lock = match added {
            AddedIn::ThisStatement => lock_on(ctx.kind(), &at.table),
            AddedIn::Earlier(kind) => lock_on(kind, &at.table),
        };
        let origin = ctx.transaction();
        let place = match (&added, origin) {
            (AddedIn::ThisStatement, _) => "in this same statement",
            (AddedIn::Earlier(_), Some(TxnOrigin::Explicit(_))) => "earlier in this BEGIN … COMMIT block",
            (AddedIn::Earlier(_), Some(TxnOrigin::Runner)) => {
                "earlier in this migration, which the runner runs as one transaction"
            }
            (AddedIn::Earlier(_), Some(TxnOrigin::ImplicitBatch)) => {
                "earlier in this file, which the runner sends as one implicit transaction"
            }
            // An earlier statement shares a transaction only when there is one.
            (AddedIn::Earlier(_), None) => continue,
        };
        let (dest, fix) = match origin {
            None => ("to a statement of its own after this one", "Move VALIDATE CONSTRAINT to a statement of its own"),
            Some(TxnOrigin::Explicit(_)) => {
                ("after the COMMIT (or to the next migration)", "Move VALIDATE CONSTRAINT after the COMMIT")
            }
            Some(TxnOrigin::Runner | TxnOrigin::ImplicitBatch) => {
                ("to the next migration", "Move VALIDATE CONSTRAINT to the next migration")
            }
        };
        let message = format!(
            "`{name}` was added NOT VALID {place}, so VALIDATE scans `{}` while the {add_lock} lock from that add is still held: it {}. Move VALIDATE CONSTRAINT {dest}.",
            at.table,
            add_lock.blocks(),
        );
        out.report(action.keyword_span, message).with_fix(fix);
    }
}

/// One of `actions` adds constraint `name` with `NOT VALID`.
fn adds_not_valid(actions: &[AlterTableAction], name: &str) -> bool {
    actions.iter().any(|a| {
        matches!(&a.action, AlterAction::AddConstraint(tc)
            if tc.not_valid.is_some() && tc.name.as_ref().is_some_and(|n| n.value == name))
    })
}

/// The lock `kind` takes on `table` (ACCESS EXCLUSIVE when unknown: the ALTER TABLE default).
fn lock_on(kind: &StatementKind, table: &QualifiedName) -> LockMode {
    locks_taken(kind).into_iter().find(|l| l.table.key() == table.key()).map_or(LockMode::AccessExclusive, |l| l.mode)
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::engine::analyze;
    use crate::rules::MigrationSettings;

    #[test]
    fn a_file_sent_as_one_query_string_validates_in_the_adds_transaction() {
        let settings = MigrationSettings { implicit_transaction: true, ..MigrationSettings::default() };
        let sql = "ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;\n\
                   ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;\n";
        let found: Vec<_> = analyze(sql, &settings, &Config::default(), None)
            .findings
            .into_iter()
            .filter(|f| f.rule == super::RULE.id)
            .collect();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(&sql[found[0].range.clone()], "VALIDATE CONSTRAINT");
        assert!(found[0].message.contains("one implicit transaction"), "{}", found[0].message);
        assert!(found[0].message.contains("to the next migration"), "{}", found[0].message);
    }
}
