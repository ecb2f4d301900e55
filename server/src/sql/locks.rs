//! Which PostgreSQL table lock a statement takes, and what that lock blocks. Shared by rules (for
//! their messages and `lock-timeout-missing`) and by hovers.

use std::fmt;

use super::facts::*;

/// PostgreSQL table-level lock modes, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockMode {
    AccessShare,
    RowShare,
    RowExclusive,
    ShareUpdateExclusive,
    Share,
    ShareRowExclusive,
    Exclusive,
    AccessExclusive,
}

impl LockMode {
    pub fn name(self) -> &'static str {
        match self {
            LockMode::AccessShare => "ACCESS SHARE",
            LockMode::RowShare => "ROW SHARE",
            LockMode::RowExclusive => "ROW EXCLUSIVE",
            LockMode::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            LockMode::Share => "SHARE",
            LockMode::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            LockMode::Exclusive => "EXCLUSIVE",
            LockMode::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// What the application cannot do while the lock is held, in a person's words.
    pub fn blocks(self) -> &'static str {
        match self {
            LockMode::AccessExclusive => "blocks reads and writes",
            LockMode::Exclusive | LockMode::ShareRowExclusive | LockMode::Share => {
                "blocks writes (INSERT, UPDATE, DELETE); reads continue"
            }
            LockMode::ShareUpdateExclusive => "blocks other schema changes and VACUUM; reads and writes continue",
            LockMode::RowExclusive | LockMode::RowShare | LockMode::AccessShare => {
                "blocks only ACCESS EXCLUSIVE locks (schema changes)"
            }
        }
    }

    /// Strong enough that waiting for it queues every later query on the table.
    pub fn is_disruptive(self) -> bool {
        self >= LockMode::ShareRowExclusive
    }
}

impl fmt::Display for LockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One lock a statement takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableLock {
    pub table: QualifiedName,
    pub mode: LockMode,
}

impl TableLock {
    /// e.g. "ACCESS EXCLUSIVE on `users`: blocks reads and writes until commit".
    pub fn describe(&self) -> String {
        format!("{} on `{}`: {} until commit", self.mode, self.table, self.mode.blocks())
    }
}

/// The table locks a PostgreSQL statement takes (strongest per table), in statement order.
pub fn locks_taken(kind: &StatementKind) -> Vec<TableLock> {
    let mut out: Vec<TableLock> = Vec::new();
    let mut add = |table: &QualifiedName, mode: LockMode| {
        if let Some(existing) = out.iter_mut().find(|l| l.table.key() == table.key()) {
            existing.mode = existing.mode.max(mode);
        } else {
            out.push(TableLock { table: table.clone(), mode });
        }
    };
    match kind {
        StatementKind::CreateIndex(ci) => {
            let mode = if ci.concurrently.is_some() { LockMode::ShareUpdateExclusive } else { LockMode::Share };
            add(&ci.table, mode);
        }
        StatementKind::AlterTable(at) => {
            for a in &at.actions {
                add(&at.table, alter_action_lock(&a.action));
                if let AlterAction::AddConstraint(TableConstraint { kind: ConstraintKind::ForeignKey(fk), .. }) =
                    &a.action
                {
                    add(&fk.ref_table, LockMode::ShareRowExclusive);
                }
                if let AlterAction::AddColumn { column: ColumnDef { references: Some(fk), .. }, .. } = &a.action {
                    add(&fk.ref_table, LockMode::ShareRowExclusive);
                }
            }
        }
        StatementKind::CreateTable(ct) => {
            // Each foreign key adds its check triggers to the parent table.
            let table_fks = ct.constraints.iter().filter_map(|tc| match &tc.kind {
                ConstraintKind::ForeignKey(fk) => Some(fk),
                _ => None,
            });
            for fk in ct.columns.iter().filter_map(|c| c.references.as_ref()).chain(table_fks) {
                if fk.ref_table.key() != ct.name.key() {
                    add(&fk.ref_table, LockMode::ShareRowExclusive);
                }
            }
        }
        StatementKind::Drop(d) if matches!(d.object, ObjectKind::Table | ObjectKind::MaterializedView) => {
            for n in &d.names {
                add(n, LockMode::AccessExclusive);
            }
        }
        StatementKind::Truncate { tables, .. } => {
            for t in tables {
                add(t, LockMode::AccessExclusive);
            }
        }
        StatementKind::Vacuum { full: true, tables } => {
            for t in tables {
                add(t, LockMode::AccessExclusive);
            }
        }
        StatementKind::Cluster { table: Some(t) } => add(t, LockMode::AccessExclusive),
        StatementKind::RefreshMaterializedView { name, concurrently } => {
            add(name, if *concurrently { LockMode::Exclusive } else { LockMode::AccessExclusive })
        }
        StatementKind::CreateTrigger { table: Some(t), .. } => add(t, LockMode::ShareRowExclusive),
        StatementKind::Update(d) | StatementKind::Delete(d) => add(&d.table, LockMode::RowExclusive),
        StatementKind::Insert(i) => add(&i.table, LockMode::RowExclusive),
        StatementKind::Reindex(r) if r.target == "TABLE" => {
            if let Some(n) = &r.name {
                add(n, if r.concurrently.is_some() { LockMode::ShareUpdateExclusive } else { LockMode::Share });
            }
        }
        _ => {}
    }
    out
}

fn alter_action_lock(action: &AlterAction) -> LockMode {
    match action {
        AlterAction::ValidateConstraint { .. } => LockMode::ShareUpdateExclusive,
        AlterAction::AddConstraint(TableConstraint { kind: ConstraintKind::ForeignKey(_), .. }) => {
            LockMode::ShareRowExclusive
        }
        AlterAction::Other(label) if label.contains("SET STATISTICS") || label.starts_with("CLUSTER ON") => {
            LockMode::ShareUpdateExclusive
        }
        AlterAction::Other(label) if label.starts_with("ATTACH PARTITION") => LockMode::ShareUpdateExclusive,
        AlterAction::Other(label) if label.starts_with("DETACH PARTITION") && label.contains("CONCURRENTLY") => {
            LockMode::ShareUpdateExclusive
        }
        _ => LockMode::AccessExclusive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::{Dialect, SqlFile};

    fn locks(sql: &str) -> Vec<(String, LockMode)> {
        let file = SqlFile::parse(sql, Dialect::Postgres, None);
        locks_taken(file.statements[0].kind()).into_iter().map(|l| (l.table.key(), l.mode)).collect()
    }

    #[test]
    fn create_table_with_foreign_keys_locks_the_parents() {
        let sql = "CREATE TABLE c (id bigint PRIMARY KEY, p bigint REFERENCES parents (id), \
                   q bigint, up bigint REFERENCES c (id), FOREIGN KEY (q) REFERENCES public.others (id));";
        assert_eq!(
            locks(sql),
            [("parents".to_string(), LockMode::ShareRowExclusive), ("others".to_string(), LockMode::ShareRowExclusive)]
        );
        assert!(locks("CREATE TABLE plain (id bigint PRIMARY KEY);").is_empty());
    }
}
