//! `conflicting-migrations`: two unshipped migrations, written without knowing each other, that
//! touch the same table.
//!
//! A fact about the set and the repository, not about a statement:
//! [`crate::history::findings`] calls [`findings`]; the statement-level check has nothing to do.
//!
//! "Without knowing each other": the commits that added them are on parallel branches (neither
//! is an ancestor of the other), or the one added later (a descendant commit, or an uncommitted
//! file, which sits on top of HEAD) sorts at or before the one added earlier — it was numbered
//! as "the next" migration before the other arrived, typically across a rebase or a pull. Two
//! migrations added by one commit, or in order on one line of work, do not conflict.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::history::{self, FileSource, GitHistory, Origin};
use crate::rules::{Category, Emitter, Finding, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::sql::facts::{AlterAction, ObjectKind, QualifiedName};
use crate::sql::{SqlFile, StatementKind};
use crate::workspace::{Migration, MigrationSet};

pub static RULE: Rule = Rule {
    id: "conflicting-migrations",
    category: Category::History,
    default_severity: Severity::Warning,
    dialects: ALL_DIALECTS,
    summary: "two unshipped migrations from parallel work touch the same table",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
Two migrations that have not shipped yet, touch the same table, and were written without knowing
each other: they were added on parallel branches (now merged), or the one added later sorts at or
before the one added earlier (it was numbered before the other arrived, e.g. across a rebase or a
pull). Both files are reported, each naming the other.

## Why it hurts
Each author wrote their migration against the schema as it was before the other's. Run one after
the other, the second can fail (a column renamed or dropped under it, a constraint the first
added), or succeed and mean something else (two defaults, two indexes for one purpose, a backfill
that misses rows the other one moved). Nothing fails in review, because each branch was fine on
its own.

## Example
```text
branch a:  0005_add_users_phone.sql       ALTER TABLE users ADD COLUMN phone text;
branch b:  0005_users_drop_legacy.sql     ALTER TABLE users DROP COLUMN legacy_phone;
```

## Instead
After merging, read the two migrations together, renumber the later one, and run the whole set
on a fresh database before shipping.

## Quick fix
None.
"#;

fn check(_ctx: &StatementContext, _out: &mut Emitter) {}

/// An unshipped migration, where it came from, and the tables it touches.
struct Unshipped<'s> {
    migration: &'s Migration,
    path: &'s Path,
    origin: Origin,
    file: Arc<SqlFile>,
    /// Table key → the first place the migration names it.
    tables: Vec<(String, Range<usize>)>,
}

/// Reports each pair of conflicting unshipped migrations, once on each file.
pub fn findings(sets: &[MigrationSet], git: &GitHistory, files: &FileSource<'_>, out: &mut Vec<(PathBuf, Finding)>) {
    for set in sets {
        let unshipped: Vec<Unshipped> = set
            .migrations
            .iter()
            .filter(|m| !git.is_shipped(m))
            .filter_map(|migration| {
                let path = history::main_file(migration)?;
                let (_, file) = files(path)?;
                let tables = tables_touched(&file);
                Some(Unshipped { migration, path, origin: git.origin(path), file, tables })
            })
            .collect();
        for (i, a) in unshipped.iter().enumerate() {
            for b in &unshipped[i + 1..] {
                let shared: BTreeSet<&str> = a
                    .tables
                    .iter()
                    .filter(|(t, _)| b.tables.iter().any(|(u, _)| u == t))
                    .map(|(t, _)| t.as_str())
                    .collect();
                if shared.is_empty() {
                    continue;
                }
                let Some(reason) = conflict(git, set, a, b) else { continue };
                for (this, other) in [(a, b), (b, a)] {
                    let Some(range) =
                        this.tables.iter().find(|(t, _)| shared.contains(t.as_str())).map(|(_, r)| r.clone())
                    else {
                        continue;
                    };
                    let tables: Vec<String> = shared.iter().map(|t| format!("`{t}`")).collect();
                    let message = format!(
                        "{} {} also changed by `{}` ({}), another unshipped migration; {reason}, so neither was \
                         written against the schema the other leaves — read them together, renumber the later one \
                         and run the set on a fresh database",
                        if tables.len() == 1 { "table" } else { "tables" },
                        if tables.len() == 1 {
                            format!("{} is", tables[0])
                        } else {
                            format!("{} are", tables.join(", "))
                        },
                        history::display_name(set, other.path),
                        origin_text(git, other.origin),
                    );
                    out.push((this.path.to_path_buf(), history::finding(&RULE, &this.file, range, message, None)));
                }
            }
        }
    }
}

/// Why `a` and `b` (in runner order) conflict, or `None` when one was written knowing the other.
fn conflict(git: &GitHistory, set: &MigrationSet, a: &Unshipped, b: &Unshipped) -> Option<String> {
    let name = |u: &Unshipped| format!("`{}`", history::display_name(set, u.path));
    // `later` was added after `earlier` on one line of work; it conflicts when it does not sort
    // after it.
    let numbered_before = |earlier: &Unshipped, later: &Unshipped| {
        (later.migration.version <= earlier.migration.version).then(|| {
            format!("{} was added after {} but sorts {} it", name(later), name(earlier), {
                if later.migration.version == earlier.migration.version {
                    "with"
                } else {
                    "before"
                }
            })
        })
    };
    match (a.origin, b.origin) {
        (Origin::WorkTree, Origin::WorkTree) => None,
        (Origin::Commit(_), Origin::WorkTree) => numbered_before(a, b),
        (Origin::WorkTree, Origin::Commit(_)) => numbered_before(b, a),
        (Origin::Commit(x), Origin::Commit(y)) if x == y => None,
        (Origin::Commit(x), Origin::Commit(y)) => {
            if git.is_ancestor(x, y) {
                numbered_before(a, b)
            } else if git.is_ancestor(y, x) {
                numbered_before(b, a)
            } else {
                Some(format!(
                    "they were added on parallel branches (commits {} and {})",
                    git.commit(x).hash,
                    git.commit(y).hash
                ))
            }
        }
    }
}

fn origin_text(git: &GitHistory, origin: Origin) -> String {
    match origin {
        Origin::Commit(i) => format!("commit {}, {}", git.commit(i).hash, git.commit(i).date),
        Origin::WorkTree => "not committed".into(),
    }
}

/// The tables a migration's statements touch, each with the first place it is named.
fn tables_touched(file: &SqlFile) -> Vec<(String, Range<usize>)> {
    let mut out: Vec<(String, Range<usize>)> = Vec::new();
    for statement in &file.statements {
        let mut add = |name: &QualifiedName| {
            let key = name.key();
            if !key.is_empty() && !out.iter().any(|(k, _)| *k == key) {
                out.push((key, statement.abs(name.span)));
            }
        };
        match statement.kind() {
            StatementKind::CreateTable(t) if !t.temporary => add(&t.name),
            StatementKind::CreateIndex(i) => add(&i.table),
            StatementKind::AlterTable(t) => {
                add(&t.table);
                for action in &t.actions {
                    if let AlterAction::AddColumn { column, .. } = &action.action {
                        if let Some(fk) = &column.references {
                            add(&fk.ref_table);
                        }
                    }
                }
            }
            StatementKind::Drop(d)
                if matches!(d.object, ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView) =>
            {
                d.names.iter().for_each(&mut add)
            }
            StatementKind::Truncate { tables, .. } | StatementKind::Vacuum { tables, .. } => {
                tables.iter().for_each(&mut add)
            }
            StatementKind::Update(c) | StatementKind::Delete(c) => add(&c.table),
            StatementKind::Insert(i) => add(&i.table),
            StatementKind::Cluster { table: Some(t) } | StatementKind::CreateTrigger { table: Some(t), .. } => add(t),
            StatementKind::RefreshMaterializedView { name, .. } => add(name),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Dialect;

    #[test]
    fn tables_from_statement_facts() {
        let text = "CREATE TABLE orders (id bigint);\nALTER TABLE public.users ADD COLUMN plan text;\n\
                    UPDATE users SET plan = 'free';\nCREATE INDEX ON audit.events (at);\nDROP TABLE old_things;";
        let file = SqlFile::parse(text, Dialect::Postgres, None);
        let tables: Vec<String> = tables_touched(&file).into_iter().map(|(t, _)| t).collect();
        assert_eq!(tables, ["orders", "users", "audit.events", "old_things"]);
        let (_, range) = &tables_touched(&file)[1];
        assert_eq!(&text[range.clone()], "public.users");
    }
}
