//! The migrations a dev database has not run yet, against what it already holds: the facts
//! behind `migration-partially-applied`, `migration-will-fail` and `baseline-needed`.
//!
//! - [`as_live`]: the database as a replayed [`Schema`]: the schema of the migrations it ran,
//!   corrected by what its catalog shows ([`super::drift::diff`]): tables, views, columns,
//!   indexes and constraints it lacks are dropped, those only it has are added (from their
//!   catalog definitions). What the snapshot does not list (types, sequences, functions) stays as
//!   the migrations left it. Replaying the pending migrations onto it
//!   ([`crate::schema::replay_onto`]) tells which of their statements create what the database
//!   already has, or alter, drop or reference what it lacks: what will fail there.
//! - [`holds_created`]: whether a database holds every table, view and column one migration
//!   creates (a database built by `db push`, by hand, or by another tool, without ledger rows).
//! - [`can_stop_half_way`]: whether a migration's statements can commit one by one, so that a
//!   failure part-way leaves some of them applied.

use std::fmt::Write as _;
use std::path::Path;

use crate::schema::{Origin, Schema};
use crate::sql::quote::ident;
use crate::sql::{Dialect, SqlFile};
use crate::workspace::frameworks::Framework;

use super::drift::{diff, same_keys, DriftKind, DriftObject};
use super::{LiveSnapshot, RelationKind};

/// `applied` (the schema of the migrations the database ran, with its baseline estimate) as the
/// database `live` has it; see the module docs.
pub fn as_live(applied: &Schema, live: &LiveSnapshot) -> Schema {
    let mut drops = String::new();
    let mut creates = String::new();
    let mut later = String::new();
    for d in diff(applied, live) {
        let table = qualified(&d.table);
        let lt = live.table(&d.table);
        match (&d.object, d.kind) {
            (DriftObject::Table, DriftKind::Missing) => {
                let _ = writeln!(drops, "DROP TABLE {table};");
            }
            (DriftObject::View, DriftKind::Missing) => {
                let materialized = applied.views().any(|v| v.name == d.table && v.materialized);
                let kind = if materialized { "MATERIALIZED VIEW" } else { "VIEW" };
                let _ = writeln!(drops, "DROP {kind} {table};");
            }
            (DriftObject::Table | DriftObject::View, DriftKind::Extra) => {
                let Some(lt) = lt else { continue };
                match lt.kind {
                    RelationKind::View => {
                        let _ = writeln!(creates, "CREATE VIEW {table} AS SELECT 1;");
                    }
                    RelationKind::MaterializedView => {
                        let _ = writeln!(creates, "CREATE MATERIALIZED VIEW {table} AS SELECT 1;");
                    }
                    _ => {
                        let columns: Vec<String> =
                            lt.columns.iter().map(|c| format!("{} {}", ident(&c.name), c.type_sql)).collect();
                        let _ = writeln!(creates, "CREATE TABLE {table} ({});", columns.join(", "));
                        for c in &lt.constraints {
                            let _ = writeln!(
                                later,
                                "ALTER TABLE {table} ADD CONSTRAINT {} {};",
                                ident(&c.name),
                                c.definition
                            );
                        }
                        for i in lt.indexes.iter().filter(|i| i.constraint.is_none()) {
                            let _ = writeln!(later, "{};", i.definition);
                        }
                    }
                }
            }
            (DriftObject::Column(c), DriftKind::Missing) => {
                let _ = writeln!(drops, "ALTER TABLE {table} DROP COLUMN {};", ident(c));
            }
            (DriftObject::Column(c), DriftKind::Extra) => {
                let Some(col) = lt.and_then(|t| t.column(c)) else { continue };
                let _ = writeln!(creates, "ALTER TABLE {table} ADD COLUMN {} {};", ident(c), col.type_sql);
            }
            (DriftObject::Index(i), DriftKind::Missing) => {
                let _ = writeln!(drops, "DROP INDEX {};", sibling(&d.table, i));
            }
            (DriftObject::Index(i), DriftKind::Extra) => {
                let Some(index) = lt.and_then(|t| t.indexes.iter().find(|x| x.name == *i)) else { continue };
                let _ = writeln!(later, "{};", index.definition);
            }
            (DriftObject::Constraint(c), DriftKind::Missing) => {
                let _ = writeln!(drops, "ALTER TABLE {table} DROP CONSTRAINT {};", ident(c));
            }
            (DriftObject::Constraint(c), DriftKind::Extra) => {
                let Some(con) = lt.and_then(|t| t.constraints.iter().find(|x| x.name == *c)) else { continue };
                let _ = writeln!(later, "ALTER TABLE {table} ADD CONSTRAINT {} {};", ident(c), con.definition);
            }
            // A different type, default, nullability or definition: the object exists on both
            // sides, which is all the pending migrations' conflicts depend on.
            _ => {}
        }
    }
    let mut schema = applied.clone();
    let sql = format!("{drops}{creates}{later}");
    let file = SqlFile::parse(&sql, Dialect::Postgres, None);
    let origin = Origin::here(0);
    for stmt in &file.statements {
        schema.apply(stmt, &origin);
    }
    schema
}

/// A table key (`users`, `app.users`) as SQL.
fn qualified(key: &str) -> String {
    key.split('.').map(ident).collect::<Vec<_>>().join(".")
}

/// An index or constraint name in the schema of table `key`, as SQL.
fn sibling(table_key: &str, name: &str) -> String {
    match table_key.split_once('.') {
        Some((schema, _)) => format!("{}.{}", ident(schema), ident(name)),
        None => ident(name),
    }
}

/// Whether `held` has every table, view, column, index and constraint that a migration creates
/// (an index or constraint by its name, or else by what it covers), given the schema
/// before it and after it; `None` when it creates none of them (nothing to judge by).
pub fn holds_created(before: &Schema, after: &Schema, held: &Schema) -> Option<bool> {
    let mut created = 0;
    for table in after.tables().filter(|t| !t.temporary) {
        let old = before.table_by_key(&table.name);
        let have = held.table_by_key(&table.name);
        for column in table.columns() {
            if old.is_some_and(|o| o.column(&column.name).is_some()) {
                continue;
            }
            created += 1;
            if have.and_then(|t| t.column(&column.name)).is_none() {
                return Some(false);
            }
        }
        if old.is_none() {
            created += 1;
            if have.is_none() {
                return Some(false);
            }
        }
    }
    for index in after.indexes() {
        if before.index(&index.name).is_some() || index.constraint {
            continue;
        }
        created += 1;
        // By name, or by what it indexes: PostgreSQL names some unnamed indexes differently.
        let same = |i: &crate::schema::Index| {
            i.table == index.table && i.unique == index.unique && same_keys(&i.columns, &index.columns)
        };
        if held.index(&index.name).is_none() && !held.indexes().any(same) {
            return Some(false);
        }
    }
    for table in after.tables() {
        let old = before.table_by_key(&table.name);
        for constraint in table.constraints.iter().filter(|c| old.is_none_or(|o| o.constraint(&c.name).is_none())) {
            created += 1;
            let have = held.table_by_key(&table.name);
            let same =
                |c: &crate::schema::Constraint| c.kind == constraint.kind && same_keys(&c.columns, &constraint.columns);
            if !have.is_some_and(|h| h.constraint(&constraint.name).is_some() || h.constraints.iter().any(same)) {
                return Some(false);
            }
        }
    }
    for view in after.views() {
        if before.views().any(|v| v.name == view.name) {
            continue;
        }
        created += 1;
        if !held.views().any(|v| v.name == view.name) && held.table_by_key(&view.name).is_none() {
            return Some(false);
        }
    }
    (created > 0).then_some(true)
}

/// Whether the runner can stop `path` (text `text`) half-way with some statements committed:
/// it neither wraps it in a transaction nor sends it as one query string (which PostgreSQL runs
/// as one implicit transaction), after the file's own opt-out.
pub fn can_stop_half_way(fw: &dyn Framework, path: &Path, text: &str, dialect: Dialect) -> bool {
    let mode = fw.transaction_in(path, text, dialect);
    let atomic = match mode.opted_out_by {
        Some(_) => fw.opted_out_sends_one_query(),
        None => mode.wraps || mode.implicit_batch,
    };
    !atomic
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::frameworks::framework;
    use crate::workspace::FrameworkKind;

    #[test]
    fn only_migrations_whose_statements_commit_one_by_one_can_stop_half_way() {
        let pg = Dialect::Postgres;
        let goose = framework(FrameworkKind::Goose);
        let path = Path::new("migrations/00002_email.sql");
        let body =
            "-- +goose Up\nALTER TABLE users ADD COLUMN email text;\nCREATE INDEX users_email_idx ON users (email);\n";
        assert!(can_stop_half_way(goose, path, &format!("-- +goose NO TRANSACTION\n{body}"), pg));
        assert!(!can_stop_half_way(goose, path, body, pg), "goose wraps it in a transaction");
        // dbmate sends a `transaction:false` block as one query string: PostgreSQL runs it as one
        // implicit transaction, all or nothing.
        let dbmate = framework(FrameworkKind::Dbmate);
        let text =
            "-- migrate:up transaction:false\nALTER TABLE users ADD COLUMN email text;\nSELECT 1;\n-- migrate:down\n";
        assert!(!can_stop_half_way(dbmate, Path::new("db/migrations/20240101000000_email.sql"), text, pg));
        // golang-migrate sends the file as one query string too.
        let gm = framework(FrameworkKind::GolangMigrate);
        assert!(!can_stop_half_way(gm, Path::new("db/migrations/0002_email.up.sql"), "SELECT 1;\nSELECT 2;\n", pg));
    }
}
