//! `schema-drift`: the dev database's schema differs from what the migrations build.
//!
//! A fact about the database, not about a statement: the caller that holds a catalog snapshot
//! (`safemig drift`, the language server) calls [`findings`]; the statement-level check has
//! nothing to do. The comparison itself is [`crate::live::drift`].
//!
//! Each difference is reported on the statement that last defined the object (its `CREATE`,
//! `ADD COLUMN`, `SET DEFAULT` …), narrowed to the column, constraint or index clause where the
//! statement shows it. An object no migration defines (a column added by hand) is reported on the
//! first statement of the set's newest migration: that is where the migration that adds it
//! belongs.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::history::{self, FileSource};
use crate::live::drift::{Basis, Drift, DriftKind, DriftObject};
use crate::live::LiveSnapshot;
use crate::rules::{Category, Emitter, Finding, Rule, Severity, StatementContext, POSTGRES};
use crate::sql::facts::{AlterAction, StatementKind};
use crate::sql::{SqlFile, Statement};
use crate::text::LineIndex;
use crate::workspace::MigrationSet;

pub static RULE: Rule = Rule {
    id: "schema-drift",
    category: Category::Live,
    default_severity: Severity::Warning,
    dialects: POSTGRES,
    summary: "the dev database's schema differs from what the migrations build",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
A difference between the connected dev database and the schema the migrations build when they
are replayed in order: a table, view, column, index or constraint that one side has and the
other lacks, a column whose type, nullability or default differs, an index or constraint whose
columns, uniqueness or validation differ, an index left INVALID by a failed concurrent build.
The finding sits on the statement that last defined the object; an object no migration creates
(a column added by hand) is reported on the set's newest migration.

Valid equivalents are not drift: `int`/`integer`/`int4`, `serial` and its `nextval(…)` default,
`varchar(255)`/`character varying(255)`, `timestamptz`/`timestamp with time zone`, `'x'` and
`'x'::text`, `now()` and `CURRENT_TIMESTAMP`, the NOT NULL of a primary key, and the index and
constraint names PostgreSQL generates (`users_pkey`, `users_email_key`, `users_lower_idx`).
Only `public` and the schemas the migrations create objects in are compared; tables no migration
creates (the baseline), framework ledgers and sets the database is not built from are left out.

## Why it hurts
The dev database is where migrations are tried. When it has a column someone added by hand,
code works there and breaks in production, where no migration created the column; when it
lacks an index the migrations create, query plans and lock times measured there are wrong; and a
migration that passes against it can fail against a database built from the migrations alone
(`column "nickname" of relation "users" already exists`).

## Example
```sql
-- 0001_init.sql
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
-- by hand, on the dev database:
ALTER TABLE users ADD COLUMN nickname text;
-- → column `users.nickname` exists in the dev database but no migration creates it
```

## Instead
Make every schema change a migration: write one that adds `nickname` (and apply it), or drop the
hand-made column from the dev database. For a difference on a migration's object, rebuild the
dev database from the migrations, or write the migration that makes the change for real.

## Quick fix
None: `safemig drift` lists every difference with the migration that defines each side.
"#;

fn check(_ctx: &StatementContext, _out: &mut Emitter) {}

/// Reports `drift`, set `set`'s differences from the database ([`crate::live::drift::diff_applied`]:
/// against what its ledger says is applied); `basis` says what it was compared with, and a
/// comparison with every migration (no ledger rows) says so in each message.
pub fn findings(
    set: &MigrationSet,
    drift: &[Drift],
    basis: &Basis,
    live: &LiveSnapshot,
    files: &FileSource<'_>,
    out: &mut Vec<(PathBuf, Finding)>,
) {
    let note = match basis {
        Basis::NoLedger { .. } => basis.note().map(|n| format!(" ({n})")).unwrap_or_default(),
        Basis::Ledger { .. } => String::new(),
    };
    for d in drift {
        if let Some((path, mut found)) = finding(set, d, live, files) {
            found.message.push_str(&note);
            out.push((path, found));
        }
    }
}

/// The message for a drift found in `live`.
pub fn message(d: &Drift, live: &LiveSnapshot) -> String {
    let db = if live.database.is_empty() {
        "the dev database".to_string()
    } else {
        format!("the dev database `{}`", live.database)
    };
    let subject = d.subject();
    match d.kind {
        DriftKind::Extra => {
            let shown = match d.database.as_deref() {
                Some(t) if !t.is_empty() && matches!(d.object, DriftObject::Column(_)) => format!(" ({t})"),
                _ => String::new(),
            };
            let verb = match d.object {
                DriftObject::Column(_) => "added",
                _ => "created",
            };
            format!(
                "{subject}{shown} exists in {db} but no migration creates it: {verb} by hand? Write a migration that \
                 creates it, or drop it from {db}"
            )
        }
        DriftKind::Missing => format!(
            "{subject} is missing from {db}, though this migration creates it: dropped by hand, or built from other \
             migrations? Re-create it with a migration, or rebuild {db} from the migrations"
        ),
        _ => {
            let hint = if d.database.as_deref().is_some_and(|x| x.contains("INVALID")) {
                "; a failed CREATE INDEX CONCURRENTLY leaves such an index behind: drop it and build it again"
            } else {
                ": changed by hand?"
            };
            format!("{}{hint}", d.describe().replacen("the database", &db, 1))
        }
    }
}

/// The finding for one drift: on the statement that defined the object, else on the set's
/// newest migration.
fn finding(set: &MigrationSet, d: &Drift, live: &LiveSnapshot, files: &FileSource<'_>) -> Option<(PathBuf, Finding)> {
    let message = message(d, live);
    if let Some(origin) = &d.origin {
        if let Some(path) = origin.path.as_deref() {
            if let Some((_, file)) = files(path) {
                let range = statement_on_line(&file, origin.line)
                    .map(|stmt| object_range(stmt, d).unwrap_or_else(|| first_line(&file, stmt)))
                    .unwrap_or_else(|| history::file_anchor(&file));
                return Some((path.to_path_buf(), history::finding(&RULE, &file, range, message, None)));
            }
        }
    }
    let path: &Path = set.migrations.iter().rev().find_map(history::main_file)?;
    let (_, file) = files(path)?;
    Some((path.to_path_buf(), history::finding(&RULE, &file, history::file_anchor(&file), message, None)))
}

/// The statement whose first token is on 1-based `line`.
fn statement_on_line(file: &SqlFile, line: u32) -> Option<&Statement> {
    let index = LineIndex::new(&file.text);
    file.statements
        .iter()
        .filter(|s| !matches!(s.kind(), StatementKind::Empty))
        .find(|s| index.line_of(s.range.start) as u32 + 1 == line)
}

/// The statement's first line.
fn first_line(file: &SqlFile, stmt: &Statement) -> Range<usize> {
    let start = stmt.range.start.min(file.text.len());
    let end = file.text[start..].find('\n').map_or(file.text.len(), |n| start + n).min(stmt.range.end.max(start));
    let end = if file.text[start..end].ends_with('\r') { end - 1 } else { end };
    start..end
}

/// The clause of `stmt` that defines the drifting object, when the statement shows it.
fn object_range(stmt: &Statement, d: &Drift) -> Option<Range<usize>> {
    let table = d.table.rsplit('.').next().unwrap_or(&d.table);
    match (stmt.kind(), &d.object) {
        (StatementKind::CreateTable(ct), DriftObject::Table) => Some(stmt.abs(stmt.facts().head.to(ct.name.span))),
        (StatementKind::CreateTable(ct), DriftObject::Column(c)) => {
            ct.columns.iter().find(|cd| cd.name.value == *c).map(|cd| stmt.abs(cd.span))
        }
        (StatementKind::CreateTable(ct), DriftObject::Constraint(name) | DriftObject::Index(name)) => {
            if let Some(tc) = ct.constraints.iter().find(|tc| tc.name.as_ref().is_some_and(|n| n.value == *name)) {
                return Some(stmt.abs(tc.span));
            }
            // An inline constraint, by the name PostgreSQL generates for it.
            ct.columns.iter().find_map(|cd| {
                let col = &cd.name.value;
                let generated = |label: &str| *name == format!("{table}_{col}_{label}");
                let clause = if *name == format!("{table}_pkey") {
                    cd.primary_key
                } else if generated("key") {
                    cd.unique
                } else if generated("fkey") {
                    cd.references.as_ref().map(|r| r.span)
                } else if generated("check") {
                    cd.check
                } else {
                    None
                };
                clause.map(|span| stmt.abs(cd.span.to(span)))
            })
        }
        (StatementKind::CreateIndex(ci), DriftObject::Index(_)) => {
            Some(stmt.abs(ci.name.as_ref().map_or(stmt.facts().head, |n| stmt.facts().head.to(n.span))))
        }
        (StatementKind::AlterTable(at), DriftObject::Column(c)) => at.actions.iter().find_map(|a| {
            let hit = match &a.action {
                AlterAction::AddColumn { column, .. } => column.name.value == *c,
                AlterAction::AlterColumnType { column, .. }
                | AlterAction::SetNotNull { column }
                | AlterAction::DropNotNull { column }
                | AlterAction::SetDefault { column, .. }
                | AlterAction::DropDefault { column } => column.value == *c,
                AlterAction::RenameColumn { to, .. } => to.value == *c,
                _ => false,
            };
            hit.then(|| stmt.abs(a.span))
        }),
        (StatementKind::AlterTable(at), DriftObject::Constraint(name) | DriftObject::Index(name)) => {
            let adds = || at.actions.iter().filter(|a| matches!(a.action, AlterAction::AddConstraint(_)));
            adds()
                .find(|a| matches!(&a.action, AlterAction::AddConstraint(tc) if tc.name.as_ref().is_some_and(|n| n.value == *name)))
                .or_else(|| adds().next())
                .map(|a| stmt.abs(a.span))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::live::{LiveColumn, LiveTable, RelationKind};
    use crate::schema::{replay, ReplayInput};
    use crate::sql::Dialect;
    use crate::workspace::{FrameworkKind, Migration, TransactionMode, VersionKey};

    fn col(name: &str, ty: &str, not_null: bool, default: Option<&str>) -> LiveColumn {
        LiveColumn {
            name: name.into(),
            type_sql: ty.into(),
            not_null,
            default: default.map(str::to_string),
            identity: None,
            null_frac: None,
            n_distinct: None,
        }
    }

    #[test]
    fn findings_land_on_the_defining_statement_or_the_newest_migration() {
        let texts = [
            ("m/1_init.up.sql", "CREATE TABLE users (\n  id int,\n  name text DEFAULT 'x'\n);\n"),
            ("m/2_more.up.sql", "-- more\nALTER TABLE users ADD COLUMN bio text NOT NULL;\n"),
        ];
        let files: Vec<(PathBuf, Arc<str>, Arc<SqlFile>)> = texts
            .iter()
            .map(|(p, t)| (PathBuf::from(p), Arc::from(*t), Arc::new(SqlFile::parse(t, Dialect::Postgres, None))))
            .collect();
        let inputs: Vec<ReplayInput> = files.iter().map(|(p, _, f)| ReplayInput::whole(p, f)).collect();
        let replay = replay(&inputs);
        let migrations = files
            .iter()
            .enumerate()
            .map(|(i, (p, _, _))| Migration {
                version: VersionKey::Numeric(vec![i as u128 + 1]),
                name: String::new(),
                up: Some(p.clone()),
                down: None,
                transaction: TransactionMode::default(),
            })
            .collect();
        let set = MigrationSet {
            dir: PathBuf::from("m"),
            framework: FrameworkKind::GolangMigrate,
            dialect: Dialect::Postgres,
            migrations,
        };
        let users = LiveTable {
            key: "users".into(),
            schema: "public".into(),
            name: "users".into(),
            kind: RelationKind::Table,
            row_estimate: None,
            total_bytes: 0,
            columns: vec![
                col("id", "integer", false, None),
                col("name", "text", false, Some("'y'::text")),
                col("bio", "text", false, None),
                col("nickname", "text", false, None),
            ],
            indexes: vec![],
            constraints: vec![],
            triggers: vec![],
            referenced_by: vec![],
        };
        let live = LiveSnapshot {
            database: "dev".into(),
            tables: [("users".to_string(), users)].into_iter().collect(),
            ..LiveSnapshot::default()
        };
        let lookup = |p: &Path| files.iter().find(|(q, _, _)| q == p).map(|(_, t, f)| (Arc::clone(t), Arc::clone(f)));
        let mut out = Vec::new();
        let drift = crate::live::drift::diff_sets(&[replay.final_schema()], &live);
        let basis = Basis::Ledger { applied: 2, pending: 0, failed: 0 };
        findings(&set, drift[0].as_deref().unwrap_or_default(), &basis, &live, &lookup, &mut out);
        let got: Vec<(String, &str, String)> = out
            .iter()
            .map(|(p, f)| {
                let text = lookup(p).map(|(t, _)| t).unwrap_or_else(|| Arc::from(""));
                (p.display().to_string(), f.rule, text[f.range.clone()].to_string())
            })
            .collect();
        assert_eq!(
            got,
            [
                ("m/1_init.up.sql".to_string(), "schema-drift", "name text DEFAULT 'x'".to_string()),
                ("m/2_more.up.sql".to_string(), "schema-drift", "ADD COLUMN bio text NOT NULL".to_string()),
                (
                    "m/2_more.up.sql".to_string(),
                    "schema-drift",
                    "ALTER TABLE users ADD COLUMN bio text NOT NULL;".to_string()
                ),
            ]
        );
        assert_eq!(
            out[2].1.message,
            "column `users.nickname` (text) exists in the dev database `dev` but no migration creates it: added by \
             hand? Write a migration that creates it, or drop it from the dev database `dev`"
        );
        assert!(
            out[0].1.message.starts_with("column `users.name` defaults to `'y'::text` in the dev database `dev`"),
            "{}",
            out[0].1.message
        );
    }
}
