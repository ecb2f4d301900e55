//! What a failed migration already did: for each of its statements, whether the live schema
//! reflects it.
//!
//! A migration the ledger marks failed (golang-migrate `dirty`, Prisma `finished_at IS NULL`,
//! Flyway `success = false`, Atlas `applied < total`) ran outside a transaction, or partly so:
//! the statements before the failing one took effect, the failing one did not (or left debris, such
//! as the INVALID index of a failed `CREATE INDEX CONCURRENTLY`), the ones after it never ran.
//! [`statement_effects`] tells which is which from the catalog:
//!
//! | statement | [`EffectState::Applied`] when the database … |
//! |---|---|
//! | `CREATE TABLE`, `CREATE [MATERIALIZED] VIEW` | has the relation |
//! | `ADD COLUMN` / `DROP COLUMN` | has / lacks the column |
//! | `CREATE INDEX` | has the index and it is valid ([`EffectState::Partial`] when it is INVALID) |
//! | `ADD CONSTRAINT` / `DROP CONSTRAINT` | has / lacks it (`VALIDATE`: it is validated) |
//! | `DROP TABLE / VIEW / INDEX` | lacks it |
//! | `RENAME` (table, column, constraint, index) | has the new name and not the old one |
//! | `SET / DROP NOT NULL`, `SET / DROP DEFAULT`, `ALTER COLUMN TYPE` | shows the new nullability, default, type |
//! | `CREATE TRIGGER` | has the trigger |
//!
//! A `DO` block that runs one statement under a condition (a recovery's guard) is judged as that
//! statement. Everything the catalog snapshot cannot show (data changes, other `DO` blocks,
//! functions, sequences, types, grants, settings) is [`EffectState::Unknown`] at first. Then the order decides what it
//! can: the runner executes statements in order and stops at the first error, so a statement
//! before one that took effect ran, and one after a statement that did not take effect never
//! ran. When the catalog evidence is not in that order (someone changed the database by hand),
//! unknown statements stay unknown.
//!
//! A statement whose object already existed before the migration (an `IF NOT EXISTS` no-op),
//! or that a later statement of the same migration undoes (a table created and dropped again),
//! proves nothing by itself and starts as unknown too.

use std::ops::Range;

use crate::schema::{ConstraintType, FileEvents, Origin, ReplayEvent, Schema};
use crate::sql::facts::*;
use crate::sql::{SqlFile, Statement};

use super::drift::{normalize_default, NormType};
use super::{LiveConstraint, LiveIndex, LiveSnapshot, LiveTable, RelationKind};

/// Whether the live schema reflects a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EffectState {
    /// It took effect.
    Applied,
    /// It took effect in part, or left debris: an INVALID index from a failed concurrent build
    /// (to drop and build again), some of several dropped objects.
    Partial,
    /// It did not take effect.
    NotApplied,
    /// The catalog cannot tell (data changes, settings, objects the snapshot does not list).
    Unknown,
}

impl EffectState {
    pub fn name(self) -> &'static str {
        match self {
            EffectState::Applied => "applied",
            EffectState::Partial => "partial",
            EffectState::NotApplied => "not applied",
            EffectState::Unknown => "unknown",
        }
    }
}

/// One statement of the failed migration and whether the database reflects it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementEffect {
    /// The statement's index in the file.
    pub statement: usize,
    pub state: EffectState,
    /// The evidence, for people: "column `users.email` exists".
    pub why: String,
    /// The indexes and constraints the statement creates, by the names PostgreSQL gives them
    /// (generated when the statement names none), in the order it creates them: what a guarded
    /// re-run must look for.
    pub creates: Vec<String>,
    /// An object the failed statement left behind that must go before it runs again: the
    /// INVALID index of a failed concurrent build.
    pub leftover: Option<String>,
}

/// The effects of every statement of `file` (its whole text runs up). `events` is the replay of
/// this file from `before` ([`crate::schema::replay_file`]), `before` the schema before this
/// migration. Empty statements are left out.
pub fn statement_effects(
    file: &SqlFile,
    events: &FileEvents,
    before: &Schema,
    live: &LiveSnapshot,
) -> Vec<StatementEffect> {
    let whole = 0..file.text.len();
    statement_effects_in(file, std::slice::from_ref(&whole), events, before, live)
}

/// [`statement_effects`] for the statements that start in `up` (the Up sections of a goose or
/// dbmate file).
pub fn statement_effects_in(
    file: &SqlFile,
    up: &[Range<usize>],
    events: &FileEvents,
    before: &Schema,
    live: &LiveSnapshot,
) -> Vec<StatementEffect> {
    let runs =
        |s: &Statement| !matches!(s.kind(), StatementKind::Empty) && up.iter().any(|r| r.contains(&s.range.start));
    // The schema the migration means to build, statement by statement.
    let mut schema = before.clone();
    let mut steps: Vec<(usize, Schema, Schema)> = Vec::new();
    for (i, stmt) in file.statements.iter().enumerate() {
        if !runs(stmt) {
            continue;
        }
        let pre = schema.clone();
        schema.apply(stmt, &Origin::here(0));
        steps.push((i, pre, schema.clone()));
    }
    let end = schema;
    let mut out: Vec<StatementEffect> = steps
        .iter()
        .map(|(i, pre, post)| {
            let stmt = &file.statements[*i];
            let judge = Judge { live, pre, post, end: &end, stmt };
            let (state, why) = judge.judge(events.of(*i));
            let leftover = match (state, stmt.kind()) {
                (EffectState::Partial, StatementKind::CreateIndex(ci)) => judge.invalid_index(ci),
                _ => None,
            };
            StatementEffect { statement: *i, state, why, creates: judge.creates(), leftover }
        })
        .collect();
    infer_from_order(file, &mut out);
    out
}

/// Statements the order cannot place: settings and transaction control are not effects.
fn order_neutral(stmt: &Statement) -> bool {
    matches!(stmt.kind(), StatementKind::Set(_) | StatementKind::Transaction(_))
}

/// Settles unknown statements by their position (see the module docs).
fn infer_from_order(file: &SqlFile, effects: &mut [StatementEffect]) {
    let last_applied = effects.iter().rposition(|e| e.state == EffectState::Applied);
    let first_failed = effects.iter().position(|e| matches!(e.state, EffectState::NotApplied | EffectState::Partial));
    if let (Some(a), Some(f)) = (last_applied, first_failed) {
        if a > f {
            return;
        }
    }
    for (k, e) in effects.iter_mut().enumerate() {
        if e.state != EffectState::Unknown || order_neutral(&file.statements[e.statement]) {
            continue;
        }
        if last_applied.is_some_and(|a| k < a) {
            e.state = EffectState::Applied;
            e.why.push_str("; a later statement of this migration took effect, so this one ran");
        } else if first_failed.is_some_and(|f| k > f) {
            e.state = EffectState::NotApplied;
            e.why.push_str("; an earlier statement did not take effect, so the runner stopped before this one");
        }
    }
}

struct Judge<'a> {
    live: &'a LiveSnapshot,
    /// The replayed schema before and after this statement, and after the whole migration.
    pre: &'a Schema,
    post: &'a Schema,
    end: &'a Schema,
    stmt: &'a Statement,
}

type Verdict = (EffectState, String);

fn applied(why: String) -> Verdict {
    (EffectState::Applied, why)
}
fn not_applied(why: String) -> Verdict {
    (EffectState::NotApplied, why)
}
fn unknown(why: impl Into<String>) -> Verdict {
    (EffectState::Unknown, why.into())
}

/// `applied` when `present` says the object is there, else `not_applied`.
fn presence(present: bool, what: &str, there: &str, gone: &str) -> Verdict {
    if present {
        applied(format!("{what} {there}"))
    } else {
        not_applied(format!("{what} {gone}"))
    }
}

impl Judge<'_> {
    fn judge(&self, events: &[ReplayEvent]) -> Verdict {
        let facts = self.stmt.facts();
        // A statement that conflicts with the schema before it (creating what exists, dropping
        // what does not) says nothing about this run by the catalog alone.
        let existed = events.iter().find_map(|e| match e {
            ReplayEvent::AlreadyExists { object, .. } => Some(object),
            ReplayEvent::DoesNotExist { .. } => None,
        });
        if let Some(object) = existed {
            return unknown(format!("{object} existed before this migration"));
        }
        match &facts.kind {
            StatementKind::CreateTable(ct) => self.create_table(ct),
            StatementKind::CreateIndex(ci) => self.create_index(ci),
            StatementKind::DropIndex(di) => self.drop_index(di),
            StatementKind::Drop(d) => self.drop(d),
            StatementKind::AlterTable(at) => self.alter_table(at),
            StatementKind::AlterObject(ao) => self.alter_object(ao),
            StatementKind::CreateObject(co) => self.create_object(co),
            StatementKind::CreateTrigger { table, .. } => self.create_trigger(table.as_ref()),
            StatementKind::Set(_) => unknown("a session setting: not in the catalog (the recovery repeats it)"),
            StatementKind::Transaction(_) => unknown("transaction control"),
            StatementKind::Insert(_)
            | StatementKind::Update(_)
            | StatementKind::Delete(_)
            | StatementKind::Truncate { .. } => unknown("a data change: the catalog cannot tell whether it ran"),
            _ => unknown(format!("the catalog snapshot cannot tell whether `{}` ran", label(facts))),
        }
    }

    /// The indexes and constraints this statement adds to the replayed schema, by name.
    fn creates(&self) -> Vec<String> {
        let mut out = Vec::new();
        match self.stmt.kind() {
            StatementKind::CreateIndex(ci) => out.extend(self.created_index_name(ci)),
            StatementKind::AlterTable(at) => {
                let key = self.pre.key(&at.table);
                let pre = self.pre.table_by_key(&key);
                if let Some(t) = self.post.table_by_key(&key) {
                    for c in &t.constraints {
                        if pre.is_none_or(|p| p.constraint(&c.name).is_none()) {
                            out.push(c.name.clone());
                        }
                    }
                }
            }
            _ => {}
        }
        out
    }

    /// The live INVALID index a failed `CREATE INDEX` left.
    fn invalid_index(&self, ci: &CreateIndex) -> Option<String> {
        let table_key = self.post.key(&ci.table);
        let name = self.created_index_name(ci)?;
        let lt = self.table(&table_key)?;
        let found = lt.indexes.iter().find(|i| i.name == name && !i.valid).or_else(|| {
            lt.indexes
                .iter()
                .find(|i| ci.name.is_none() && !i.valid && i.unique == ci.unique && self.pre.index(&i.name).is_none())
        })?;
        Some(index_key(&ci.table, &found.name))
    }

    fn table(&self, key: &str) -> Option<&LiveTable> {
        self.live.table(key)
    }

    fn create_table(&self, ct: &CreateTable) -> Verdict {
        let key = self.post.key(&ct.name);
        if ct.temporary {
            return unknown("a temporary table ends with the session that made it");
        }
        if self.pre.table_by_key(&key).is_some_and(|t| !t.is_from_baseline()) {
            return unknown(format!("table `{key}` existed before this migration"));
        }
        if self.end.table_by_key(&key).is_none() {
            return unknown(format!("a later statement of this migration drops or renames table `{key}`"));
        }
        presence(self.table(&key).is_some(), &format!("table `{key}`"), "exists", "does not exist")
    }

    /// The index a `CREATE INDEX` makes: its name (given, or generated by the replay) and key.
    fn created_index_name(&self, ci: &CreateIndex) -> Option<String> {
        if let Some(n) = &ci.name {
            return Some(n.value.clone());
        }
        let key = self.post.key(&ci.table);
        let t = self.post.table_by_key(&key)?;
        t.indexes.iter().find(|k| self.pre.index(k).is_none()).and_then(|k| self.post.index(k)).map(|i| i.name.clone())
    }

    fn create_index(&self, ci: &CreateIndex) -> Verdict {
        let table_key = self.post.key(&ci.table);
        let Some(name) = self.created_index_name(ci) else {
            return unknown(format!("cannot tell which index this builds on `{table_key}`"));
        };
        let what = format!("index `{name}`");
        if self.pre.index(&index_key(&ci.table, &name)).is_some() {
            return unknown(format!("{what} existed before this migration"));
        }
        if self.end.table_by_key(&table_key).is_some_and(|t| !t.indexes.iter().any(|k| index_name(k) == name)) {
            return unknown(format!("a later statement of this migration drops or renames {what}"));
        }
        let Some(lt) = self.table(&table_key) else {
            return not_applied(format!("table `{table_key}` does not exist, so {what} does not either"));
        };
        let by_name = lt.indexes.iter().find(|i| i.name == name);
        // An unnamed index PostgreSQL named differently (`t_lower_idx` for an expression key).
        let by_shape = || {
            if ci.name.is_some() {
                return None;
            }
            lt.indexes.iter().find(|i| {
                i.unique == ci.unique
                    && i.partial == ci.partial
                    && i.columns.len() == ci.columns.len()
                    && self.pre.index(&i.name).is_none()
                    && i.columns.iter().zip(&ci.columns).all(|(a, b)| a == b || !plain(a) || !plain(b))
            })
        };
        match by_name.or_else(by_shape) {
            Some(LiveIndex { valid: true, name, .. }) => applied(format!("index `{name}` exists and is valid")),
            Some(LiveIndex { name, .. }) => (
                EffectState::Partial,
                format!(
                    "index `{name}` exists but is INVALID: the concurrent build failed (duplicate keys, a deadlock, \
                     a cancel); it must be dropped and built again"
                ),
            ),
            None => not_applied(format!("{what} does not exist")),
        }
    }

    fn drop_index(&self, di: &DropIndex) -> Verdict {
        let keys: Vec<String> = di.names.iter().map(|n| self.pre.key(n)).collect();
        let present: Vec<bool> = keys.iter().map(|k| live_index(self.live, k).is_some()).collect();
        let names = keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
        match (present.iter().all(|p| !p), present.iter().all(|p| *p)) {
            (true, _) => applied(format!("index {names} does not exist")),
            (_, true) => not_applied(format!("index {names} still exists")),
            _ => (EffectState::Partial, format!("of the indexes {names}, some still exist")),
        }
    }

    fn drop(&self, d: &DropObjects) -> Verdict {
        if !matches!(d.object, ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView) {
            return unknown(format!("the catalog snapshot does not list what `{}` drops", label(self.stmt.facts())));
        }
        let keys: Vec<String> = d.names.iter().map(|n| self.pre.key(n)).collect();
        let names = keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
        let verb = if keys.len() == 1 { "exists" } else { "exist" };
        let present: Vec<bool> = keys.iter().map(|k| self.table(k).is_some()).collect();
        if keys.iter().any(|k| self.end.table_by_key(k).is_some() || self.end.views().any(|v| v.name == *k)) {
            return unknown(format!("a later statement of this migration creates {names} again"));
        }
        match (present.iter().all(|p| !p), present.iter().all(|p| *p)) {
            (true, _) => applied(format!("{names} no longer {verb}")),
            (_, true) => not_applied(format!("{names} still {verb}")),
            _ => unknown(format!("of {names}, some still exist (changed by hand?)")),
        }
    }

    fn alter_table(&self, at: &AlterTable) -> Verdict {
        let key = self.pre.key(&at.table);
        let verdicts: Vec<Verdict> = at.actions.iter().map(|a| self.alter_action(at, &key, &a.action)).collect();
        combine(verdicts)
    }

    fn alter_action(&self, at: &AlterTable, key: &str, action: &AlterAction) -> Verdict {
        let lt = self.table(key);
        if let AlterAction::RenameTable { to } = action {
            let new_key = crate::rules::context::renamed_key(&at.table, to);
            let (old, new) = (self.table(key).is_some(), self.table(&new_key).is_some());
            return match (old, new) {
                (false, true) => applied(format!("table `{new_key}` exists and `{key}` does not")),
                (true, false) => not_applied(format!("table `{key}` still has its old name")),
                _ => unknown(format!("both or neither of `{key}` and `{new_key}` exist")),
            };
        }
        let Some(lt) = lt else {
            return match at.if_exists {
                true => unknown(format!("table `{key}` does not exist (ALTER TABLE IF EXISTS)")),
                false => not_applied(format!("table `{key}` does not exist")),
            };
        };
        let pre_table = self.pre.table_by_key(key);
        let pre_col = |c: &str| pre_table.and_then(|t| t.column(c));
        let live_col = |c: &str| lt.column(c);
        match action {
            AlterAction::AddColumn { column, .. } => {
                let c = &column.name.value;
                if pre_col(c).is_some_and(|c| c.history.created.is_some()) {
                    return unknown(format!("column `{key}.{c}` existed before this migration"));
                }
                presence(live_col(c).is_some(), &format!("column `{key}.{c}`"), "exists", "does not exist")
            }
            AlterAction::DropColumn { name, .. } => {
                let c = &name.value;
                presence(live_col(c).is_none(), &format!("column `{key}.{c}`"), "no longer exists", "still exists")
            }
            AlterAction::AlterColumnType { column, ty, .. } => {
                let c = &column.value;
                let Some(lc) = live_col(c) else { return unknown(format!("column `{key}.{c}` does not exist")) };
                let have = NormType::of_live(&lc.type_sql);
                if have == NormType::of_replay(ty) {
                    if pre_col(c).and_then(|p| p.ty.as_ref()).is_some_and(|old| NormType::of_replay(old) == have) {
                        return unknown(format!("column `{key}.{c}` had type `{}` before this migration", lc.type_sql));
                    }
                    applied(format!("column `{key}.{c}` has type `{}`", lc.type_sql))
                } else {
                    not_applied(format!("column `{key}.{c}` has type `{}`, not `{}`", lc.type_sql, ty.text))
                }
            }
            AlterAction::SetNotNull { column } | AlterAction::DropNotNull { column } => {
                let set = matches!(action, AlterAction::SetNotNull { .. });
                let c = &column.value;
                let Some(lc) = live_col(c) else { return unknown(format!("column `{key}.{c}` does not exist")) };
                let (word, other) = if set { ("NOT NULL", "nullable") } else { ("nullable", "NOT NULL") };
                if pre_col(c).is_some_and(|p| p.ty.is_some() && p.not_null == set) {
                    return unknown(format!("column `{key}.{c}` was {word} before this migration"));
                }
                let what = format!("column `{key}.{c}`");
                presence(lc.not_null == set, &what, &format!("is {word}"), &format!("is still {other}"))
            }
            AlterAction::SetDefault { column, default } => {
                let c = &column.value;
                let Some(lc) = live_col(c) else { return unknown(format!("column `{key}.{c}` does not exist")) };
                let have = lc.default.as_deref().map(normalize_default);
                let set = have.as_deref() == Some(normalize_default(&default.text).as_str());
                presence(set, &format!("column `{key}.{c}`"), "has the new default", "does not have the new default")
            }
            AlterAction::DropDefault { column } => {
                let c = &column.value;
                let Some(lc) = live_col(c) else { return unknown(format!("column `{key}.{c}` does not exist")) };
                if pre_col(c).is_some_and(|p| p.ty.is_some() && p.default.is_none()) {
                    return unknown(format!("column `{key}.{c}` had no default before this migration"));
                }
                presence(lc.default.is_none(), &format!("column `{key}.{c}`"), "has no default", "still has a default")
            }
            AlterAction::AddConstraint(tc) => self.add_constraint(key, lt, tc),
            AlterAction::ValidateConstraint { name } => match lt.constraints.iter().find(|c| c.name == name.value) {
                Some(c) => presence(
                    c.validated,
                    &format!("constraint `{}`", name.value),
                    "is validated",
                    "is not validated yet",
                ),
                None => unknown(format!("constraint `{}` does not exist", name.value)),
            },
            AlterAction::DropConstraint { name, .. } => {
                let present = lt.constraints.iter().any(|c| c.name == name.value);
                presence(
                    !present,
                    &format!("constraint `{}` on `{key}`", name.value),
                    "no longer exists",
                    "still exists",
                )
            }
            AlterAction::RenameColumn { from, to } => {
                let (old, new) = (live_col(&from.value).is_some(), live_col(&to.value).is_some());
                rename_verdict(old, new, &format!("column `{key}.{}`", from.value), &to.value)
            }
            AlterAction::RenameConstraint { from, to } => {
                let has = |n: &str| lt.constraints.iter().any(|c| c.name == n);
                rename_verdict(has(&from.value), has(&to.value), &format!("constraint `{}`", from.value), &to.value)
            }
            AlterAction::RenameTable { .. } => unknown("renamed"),
            AlterAction::SetTablespace | AlterAction::SetSchema => {
                unknown("the catalog snapshot does not show tablespaces or moves between schemas")
            }
            AlterAction::Other(what) => unknown(format!("the catalog snapshot cannot show `{what}`")),
        }
    }

    fn add_constraint(&self, key: &str, lt: &LiveTable, tc: &TableConstraint) -> Verdict {
        // The constraint the statement makes, as the replay names it.
        let post_table = self.post.table_by_key(key);
        let made = post_table.and_then(|t| match &tc.name {
            Some(n) => t.constraint(&n.value),
            None => {
                let pre = self.pre.table_by_key(key);
                t.constraints.iter().find(|c| pre.is_none_or(|p| p.constraint(&c.name).is_none()))
            }
        });
        let Some(made) = made else { return unknown(format!("cannot tell which constraint this adds to `{key}`")) };
        let named = |c: &&LiveConstraint| c.name == made.name;
        // An unnamed constraint PostgreSQL named differently (a table-level check).
        let shaped = |c: &&LiveConstraint| {
            tc.name.is_none() && same_kind(&made.kind, c) && {
                let pre = self.pre.table_by_key(key);
                pre.is_none_or(|p| p.constraint(&c.name).is_none())
            }
        };
        let found = lt.constraints.iter().find(named).or_else(|| lt.constraints.iter().find(shaped));
        match found {
            Some(c) if c.validated || tc.not_valid.is_some() => applied(format!(
                "constraint `{}` exists{}",
                c.name,
                if c.validated { "" } else { " (NOT VALID, not validated yet)" }
            )),
            Some(c) => applied(format!("constraint `{}` exists but is not validated", c.name)),
            None => not_applied(format!("constraint `{}` on `{key}` does not exist", made.name)),
        }
    }

    fn alter_object(&self, ao: &AlterObject) -> Verdict {
        let key = self.pre.key(&ao.name);
        match (&ao.object, &ao.action) {
            (ObjectKind::Index, AlterObjectAction::Rename { to }) => {
                let new_key = crate::rules::context::renamed_key(&ao.name, to);
                let (old, new) = (live_index(self.live, &key).is_some(), live_index(self.live, &new_key).is_some());
                rename_verdict(old, new, &format!("index `{key}`"), &to.value)
            }
            (ObjectKind::View | ObjectKind::MaterializedView, AlterObjectAction::Rename { to }) => {
                let new_key = crate::rules::context::renamed_key(&ao.name, to);
                rename_verdict(
                    self.table(&key).is_some(),
                    self.table(&new_key).is_some(),
                    &format!("view `{key}`"),
                    &to.value,
                )
            }
            _ => unknown(format!("the catalog snapshot cannot show what `{}` changes", label(self.stmt.facts()))),
        }
    }

    fn create_object(&self, co: &CreateObject) -> Verdict {
        let key = self.post.key(&co.name);
        match co.object {
            ObjectKind::View | ObjectKind::MaterializedView => {
                if self.pre.views().any(|v| v.name == key) {
                    return unknown(format!("view `{key}` existed before this migration"));
                }
                let is_view = self
                    .table(&key)
                    .is_some_and(|t| matches!(t.kind, RelationKind::View | RelationKind::MaterializedView));
                presence(is_view, &format!("view `{key}`"), "exists", "does not exist")
            }
            _ => unknown(format!("the catalog snapshot does not list what `{}` creates", label(self.stmt.facts()))),
        }
    }

    fn create_trigger(&self, table: Option<&QualifiedName>) -> Verdict {
        let (Some(table), Some(name)) = (table, trigger_name(&self.stmt.parsed.text)) else {
            return unknown("cannot tell which trigger this creates");
        };
        let key = self.post.key(table);
        let Some(lt) = self.table(&key) else { return not_applied(format!("table `{key}` does not exist")) };
        let present = lt.triggers.iter().any(|t| t.name == name);
        presence(present, &format!("trigger `{name}` on `{key}`"), "exists", "does not exist")
    }
}

fn label(facts: &StatementFacts) -> &str {
    if facts.label.is_empty() {
        "this statement"
    } else {
        &facts.label
    }
}

fn rename_verdict(old: bool, new: bool, what: &str, to: &str) -> Verdict {
    match (old, new) {
        (false, true) => applied(format!("{what} is now `{to}`")),
        (true, false) => not_applied(format!("{what} still has its old name")),
        _ => unknown(format!("both or neither of {what} and `{to}` exist")),
    }
}

/// One verdict for a statement from the verdicts of its actions: the statement is atomic, so one
/// definite action speaks for the others; definite actions that disagree leave it unknown.
fn combine(verdicts: Vec<Verdict>) -> Verdict {
    let definite: Vec<&Verdict> = verdicts.iter().filter(|v| v.0 != EffectState::Unknown).collect();
    let why = verdicts.iter().map(|v| v.1.as_str()).collect::<Vec<_>>().join("; ");
    match definite.first() {
        None => unknown(why),
        Some(first) if definite.iter().all(|v| v.0 == first.0) => (first.0, why),
        Some(_) => unknown(format!("{why} (the statement is atomic: changed by hand since?)")),
    }
}

fn same_kind(kind: &ConstraintType, live: &LiveConstraint) -> bool {
    use super::LiveConstraintKind as L;
    matches!(
        (kind, &live.kind),
        (ConstraintType::PrimaryKey, L::PrimaryKey)
            | (ConstraintType::Unique, L::Unique)
            | (ConstraintType::ForeignKey { .. }, L::ForeignKey { .. })
            | (ConstraintType::Check { .. }, L::Check)
            | (ConstraintType::Exclude, L::Exclusion)
    )
}

fn plain(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$')
}

/// The key of index `name` on `table` (indexes live in their table's schema).
fn index_key(table: &QualifiedName, name: &str) -> String {
    match table.schema() {
        Some(s) if s != "public" => format!("{s}.{name}"),
        _ => name.to_string(),
    }
}

/// An index key's name part (`s.idx` → `idx`).
fn index_name(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

/// The live index with this key (`name` in `public`, else `schema.name`) and its table.
pub(crate) fn live_index<'l>(live: &'l LiveSnapshot, key: &str) -> Option<(&'l LiveTable, &'l LiveIndex)> {
    let (schema, name) = match key.split_once('.') {
        Some((s, n)) => (s, n),
        None => ("public", key),
    };
    live.tables
        .values()
        .filter(|t| t.schema == schema)
        .find_map(|t| t.indexes.iter().find(|i| i.name == name).map(|i| (t, i)))
}

/// The name in `CREATE [OR REPLACE] [CONSTRAINT] TRIGGER name …`.
fn trigger_name(text: &str) -> Option<String> {
    let lexed = crate::sql::lexer::tokenize(crate::sql::Dialect::Postgres.sqlparser(), text);
    let mut words = lexed.tokens.iter().filter(|t| !t.is_trivia()).map(|t| &t.token);
    for t in words.by_ref() {
        if let sqlparser::tokenizer::Token::Word(w) = t {
            if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("TRIGGER") {
                break;
            }
        }
    }
    match words.next()? {
        sqlparser::tokenizer::Token::Word(w) if w.quote_style.is_some() => Some(w.value.clone()),
        sqlparser::tokenizer::Token::Word(w) => Some(w.value.to_lowercase()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
