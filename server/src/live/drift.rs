//! Schema drift: where the dev database differs from the schema the migrations build.
//!
//! [`diff`] compares a set's final replayed [`Schema`] with a [`LiveSnapshot`] and returns one
//! [`Drift`] per difference: a table, view, column, index or constraint that one side has and the
//! other lacks, or a column whose type, nullability or default differ, or an index or constraint
//! whose definition differs. Each drift carries the [`Origin`] of the statement that last defined
//! the object in the replay (for a column, index or constraint its last `altered` origin, else
//! `created`; for a table or view its `created` origin, since every `ALTER TABLE` and index
//! touches a table's history), or `None` for an object only the database has.
//!
//! Valid equivalents are not drift. Before comparing:
//! - types are canonicalised on both sides (`int4`/`integer`/`serial`, `int8`/`bigint`/`bigserial`,
//!   `varchar(n)`/`character varying(n)`, `timestamptz`/`timestamp with time zone`, `bool`/`boolean`,
//!   `float8`/`double precision`, `decimal`/`numeric`, `char`/`character(1)`, arrays, schema
//!   qualifiers of user types);
//! - defaults lose casts, grouping parentheses, whitespace and case (`'x'` = `'x'::text`,
//!   `-1` = `'-1'::integer`, `0` = `(0)::numeric`), `now()` = `CURRENT_TIMESTAMP`, `DEFAULT NULL`
//!   is no default, and a serial or identity column accepts `nextval(…)` or an identity;
//! - a primary key, serial or identity column is NOT NULL;
//! - indexes and constraints are matched by name first, then by shape (kind, uniqueness, key
//!   columns): a name PostgreSQL generated differently from safemig (`users_lower_idx` for an
//!   expression, `users_price_check` for a table-level check) is not drift. A migration-chosen
//!   name that differs is reported as a rename.
//!
//! What the comparison leaves alone (where the replay does not know, silence beats a false
//! positive):
//! - tables adopted from the baseline (no migration creates them) and temporary tables;
//! - columns, indexes and constraints the database has on a table whose columns the replay does
//!   not all know (`CREATE TABLE … AS / LIKE / PARTITION OF`): only what the replay knows is
//!   checked there; columns with an unknown type;
//! - tables the database has when the replay's baseline is not empty (the set starts from a
//!   schema safemig cannot see);
//! - relations in schemas the migrations never create anything in (extensions, Supabase's
//!   `auth`, other applications): only `public` and the schemas the set creates objects in are
//!   compared, like everywhere else in replay ([`Schema::manages`]);
//! - framework ledger tables (`schema_migrations`, `_prisma_migrations`, …), foreign tables, and
//!   PostgreSQL 18's catalogued NOT NULL constraints (nullability is compared on the column).
//!
//! Whether a set is built into this database at all is [`built_from`]'s question: callers skip a
//! set none of whose tables exist there (a fixture directory, another service's migrations).

use sqlparser::tokenizer::Token;
use std::collections::BTreeSet;
use std::fmt;

use crate::rules::context::is_framework_ledger;
use crate::schema::{Baseline, Column, Constraint, ConstraintType, History, Index, Origin, Schema, Table};
use crate::sql::facts::{Name, QualifiedName, Span, TypeName};
use crate::sql::recognize::canonical_type;
use crate::sql::Dialect;

use super::{LiveColumn, LiveConstraint, LiveConstraintKind, LiveSnapshot, LiveTable, RelationKind};

/// What a [`Drift`] is about, on the table (or view) [`Drift::table`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum DriftObject {
    Table,
    View,
    Column(String),
    Index(String),
    Constraint(String),
}

impl DriftObject {
    /// `table`, `view`, `column`, `index` or `constraint`.
    pub fn noun(&self) -> &'static str {
        match self {
            DriftObject::Table => "table",
            DriftObject::View => "view",
            DriftObject::Column(_) => "column",
            DriftObject::Index(_) => "index",
            DriftObject::Constraint(_) => "constraint",
        }
    }
    /// The object's own name (`None` for the table or view itself).
    pub fn name(&self) -> Option<&str> {
        match self {
            DriftObject::Table | DriftObject::View => None,
            DriftObject::Column(n) | DriftObject::Index(n) | DriftObject::Constraint(n) => Some(n),
        }
    }
}

/// How the two sides differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DriftKind {
    /// The migrations build it; the database lacks it.
    Missing,
    /// The database has it; no migration builds it.
    Extra,
    /// A column's type.
    Type,
    /// A column's `NOT NULL`.
    Nullability,
    /// A column's default (serial and identity included).
    Default,
    /// An index's key columns, uniqueness, predicate, validity or name; a constraint's kind,
    /// columns, referenced table, validation or name; a table that is a view on the other side.
    Definition,
}

impl DriftKind {
    /// `missing`, `extra`, `type`, `nullability`, `default`, `definition` (for JSON).
    pub fn name(self) -> &'static str {
        match self {
            DriftKind::Missing => "missing",
            DriftKind::Extra => "extra",
            DriftKind::Type => "type",
            DriftKind::Nullability => "nullability",
            DriftKind::Default => "default",
            DriftKind::Definition => "definition",
        }
    }
}

/// One difference between the replayed schema and the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// The table's (or view's) key, as [`QualifiedName::key`] makes it.
    pub table: String,
    pub object: DriftObject,
    pub kind: DriftKind,
    /// What the migrations build, in words (`text`, `NOT NULL`, `'active'`, `UNIQUE (email)`);
    /// `None` when they build nothing ([`DriftKind::Extra`]).
    pub migrations: Option<String>,
    /// What the database has, as its catalog says it; `None` when it lacks the object
    /// ([`DriftKind::Missing`]).
    pub database: Option<String>,
    /// The statement that last defined the object in the replay; `None` when no migration does.
    pub origin: Option<Origin>,
}

impl Drift {
    /// `users`, `users.nickname`, `index users_email_idx on users`.
    pub fn subject(&self) -> String {
        match &self.object {
            DriftObject::Table => format!("table `{}`", self.table),
            DriftObject::View => format!("view `{}`", self.table),
            DriftObject::Column(c) => format!("column `{}.{c}`", self.table),
            DriftObject::Index(i) => format!("index `{i}` on `{}`", self.table),
            DriftObject::Constraint(c) => format!("constraint `{c}` on `{}`", self.table),
        }
    }

    /// One sentence saying what differs, without advice: "column `users.nickname` exists in the
    /// database but no migration creates it".
    pub fn describe(&self) -> String {
        let subject = self.subject();
        let db = self.database.as_deref().unwrap_or("nothing");
        let mig = self.migrations.as_deref().unwrap_or("nothing");
        match self.kind {
            DriftKind::Missing => format!("{subject} is missing from the database: the migrations create it"),
            DriftKind::Extra => {
                let what = match self.database.as_deref() {
                    Some(d) if !d.is_empty() => format!(" (`{d}`)"),
                    _ => String::new(),
                };
                format!("{subject}{what} exists in the database but no migration creates it")
            }
            DriftKind::Type => format!("{subject} is `{db}` in the database but `{mig}` in the migrations"),
            DriftKind::Nullability => format!("{subject} is {db} in the database but {mig} in the migrations"),
            DriftKind::Default => format!("{subject} defaults to {db} in the database but to {mig} in the migrations"),
            DriftKind::Definition => {
                format!("{subject} differs: the migrations build {mig}, the database has {db}")
            }
        }
    }
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Whether the database looks built from this replay: a PostgreSQL set at least one of whose
/// created tables (or views) exists there. A set whose tables are all absent belongs to another
/// database (a test fixture, another service): diffing it would report every table missing.
pub fn built_from(replayed: &Schema, live: &LiveSnapshot) -> bool {
    replayed.dialect() == Dialect::Postgres
        && (replayed.tables().any(|t| !t.is_from_baseline() && !t.temporary && live.tables.contains_key(&t.name))
            || replayed.views().any(|v| live.tables.contains_key(&v.name)))
}

/// The drift of every set of a workspace against one database: `schemas[i]` is set `i`'s final
/// replayed schema. `None` for a set the database is not built from ([`built_from`]). A table
/// or view another set creates is not extra for this one (two services, one database).
pub fn diff_sets(schemas: &[&Schema], live: &LiveSnapshot) -> Vec<Option<Vec<Drift>>> {
    schemas
        .iter()
        .enumerate()
        .map(|(i, schema)| {
            if !built_from(schema, live) {
                return None;
            }
            let known_elsewhere = |key: &str| {
                schemas.iter().enumerate().any(|(k, other)| {
                    k != i && (other.table_by_key(key).is_some() || other.views().any(|v| v.name == key))
                })
            };
            let mut drift = diff(schema, live);
            drift.retain(|d| {
                !(d.kind == DriftKind::Extra
                    && matches!(d.object, DriftObject::Table | DriftObject::View)
                    && known_elsewhere(&d.table))
            });
            Some(drift)
        })
        .collect()
}

/// What a set's schema was compared with: the migrations its ledger says are applied, or, without
/// ledger rows, every migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// The migrations the ledger marks applied (baselines included), replayed in runner order;
    /// `pending` are not applied yet (their changes are not drift), `failed` are marked failed
    /// (`migration-failed` reports what they did).
    Ledger { applied: usize, pending: usize, failed: usize },
    /// The database has no ledger rows for the set: `ledger` names the table its framework keeps
    /// (`None` for a runner without one), and every migration counts.
    NoLedger { ledger: Option<String> },
}

impl Basis {
    /// For messages: why the comparison is against every migration, or how many were left out.
    pub fn note(&self) -> Option<String> {
        match self {
            Basis::Ledger { pending: 0, .. } => None,
            Basis::Ledger { pending: 1, .. } => {
                Some("1 migration is pending (not applied yet): its changes were not counted".into())
            }
            Basis::Ledger { pending, .. } => {
                Some(format!("{pending} migrations are pending (not applied yet): their changes were not counted"))
            }
            Basis::NoLedger { ledger: Some(table) } => Some(format!(
                "the database has no ledger rows for this set (`{table}` is missing or empty), so it is compared \
                 with every migration"
            )),
            Basis::NoLedger { ledger: None } => {
                Some("this runner keeps no ledger, so the database is compared with every migration".into())
            }
        }
    }
}

/// The drift of every set against what its applied migrations build: `applied[i]` is set `i`'s
/// replay of exactly the migrations its ledger marks applied, `whole[i]` its replay of every
/// migration. A difference counts only when the whole chain has it too, so what a pending
/// migration changes — a table it creates that the database already has, a column it renames
/// that the database shows renamed — is left to `migration-partially-applied` and
/// `migration-will-fail`, while a column no migration creates stays drift. Without pending
/// migrations both are the same schema and this is [`diff_sets`].
pub fn diff_applied(applied: &[&Schema], whole: &[&Schema], live: &LiveSnapshot) -> Vec<Option<Vec<Drift>>> {
    let against_applied = diff_sets(applied, live);
    let against_whole = diff_sets(whole, live);
    against_applied
        .into_iter()
        .zip(against_whole)
        .zip(applied.iter().zip(whole))
        .map(|((mine, full), (a, w))| {
            let mine = mine?;
            let Some(full) = full.filter(|_| !std::ptr::eq(*a, *w)) else { return Some(mine) };
            let also = |d: &Drift| full.iter().any(|f| f.table == d.table && f.object == d.object && f.kind == d.kind);
            Some(mine.into_iter().filter(also).collect())
        })
        .collect()
}

/// The differences between the schema `replayed` (a set's final schema) and the database; see
/// the module docs for what counts. Sorted by table key, then the table itself, its columns (in
/// the replay's order, then the database's extras), indexes and constraints.
pub fn diff(replayed: &Schema, live: &LiveSnapshot) -> Vec<Drift> {
    if replayed.dialect() != Dialect::Postgres {
        return Vec::new();
    }
    let mut keys: BTreeSet<&str> = BTreeSet::new();
    keys.extend(replayed.tables().filter(|t| compared_table(replayed, t)).map(|t| t.name.as_str()));
    keys.extend(replayed.views().filter(|v| managed_key(replayed, &v.name)).map(|v| v.name.as_str()));
    let extras_known = replayed.baseline() == Baseline::Empty;
    keys.extend(
        live.tables
            .values()
            .filter(|t| extras_known && t.kind != RelationKind::ForeignTable && managed_live(replayed, t))
            .filter(|t| replayed.table_by_key(&t.key).is_none())
            .map(|t| t.key.as_str()),
    );
    let mut out = Vec::new();
    for key in keys {
        let table = replayed.table_by_key(key).filter(|t| compared_table(replayed, t));
        let view = replayed.views().find(|v| v.name == key);
        let live_table = live.table(key);
        match (table, view, live_table) {
            (Some(t), _, Some(lt)) if is_view(lt) => out.push(Drift {
                table: key.to_string(),
                object: DriftObject::Table,
                kind: DriftKind::Definition,
                migrations: Some("a table".into()),
                database: Some(relation_kind(lt.kind).into()),
                origin: t.history.created.clone(),
            }),
            (Some(t), _, Some(lt)) => diff_table(replayed, t, lt, &mut out),
            (Some(t), _, None) => out.push(Drift {
                table: key.to_string(),
                object: DriftObject::Table,
                kind: DriftKind::Missing,
                migrations: Some("a table".into()),
                database: None,
                origin: t.history.created.clone(),
            }),
            (None, Some(v), None) => out.push(Drift {
                table: key.to_string(),
                object: DriftObject::View,
                kind: DriftKind::Missing,
                migrations: Some(if v.materialized { "a materialized view" } else { "a view" }.into()),
                database: None,
                origin: v.history.created.clone(),
            }),
            (None, Some(v), Some(lt)) if !is_view(lt) => out.push(Drift {
                table: key.to_string(),
                object: DriftObject::View,
                kind: DriftKind::Definition,
                migrations: Some(if v.materialized { "a materialized view" } else { "a view" }.into()),
                database: Some(relation_kind(lt.kind).into()),
                origin: v.history.created.clone(),
            }),
            (None, Some(_), Some(_)) => {}
            (None, None, Some(lt)) => out.push(Drift {
                table: key.to_string(),
                object: if is_view(lt) { DriftObject::View } else { DriftObject::Table },
                kind: DriftKind::Extra,
                migrations: None,
                database: Some(relation_kind(lt.kind).into()),
                origin: None,
            }),
            (None, None, None) => {}
        }
    }
    out
}

/// The differences of one table that both the replay and the database have (what a hover on it
/// shows), without diffing the rest of the schema.
pub fn diff_one_table(replayed: &Schema, live: &LiveSnapshot, key: &str) -> Vec<Drift> {
    let mut out = Vec::new();
    if replayed.dialect() != Dialect::Postgres {
        return out;
    }
    let table = replayed.table_by_key(key).filter(|t| compared_table(replayed, t));
    if let (Some(t), Some(lt)) = (table, live.table(key)) {
        if !is_view(lt) {
            diff_table(replayed, t, lt, &mut out);
        }
    }
    out
}

fn is_view(t: &LiveTable) -> bool {
    matches!(t.kind, RelationKind::View | RelationKind::MaterializedView)
}

fn relation_kind(kind: RelationKind) -> &'static str {
    match kind {
        RelationKind::Table => "a table",
        RelationKind::PartitionedTable => "a partitioned table",
        RelationKind::View => "a view",
        RelationKind::MaterializedView => "a materialized view",
        RelationKind::ForeignTable => "a foreign table",
    }
}

/// A replayed table the comparison knows enough about: created by a migration, not temporary,
/// in a managed schema, not a framework's ledger.
fn compared_table(replayed: &Schema, t: &Table) -> bool {
    !t.is_from_baseline() && !t.temporary && managed_key(replayed, &t.name)
}

/// `schema.name` or `name` as a [`QualifiedName`] (for [`Schema::manages`] and the ledger list).
fn qualified(key: &str) -> QualifiedName {
    let name = |value: &str| Name { value: value.to_string(), quoted: false, span: Span::default() };
    let parts = match key.split_once('.') {
        Some((schema, table)) => vec![name(schema), name(table)],
        None => vec![name(key)],
    };
    QualifiedName { parts, span: Span::default() }
}

fn managed_key(replayed: &Schema, key: &str) -> bool {
    let q = qualified(key);
    replayed.manages(&q) && !is_framework_ledger(&q)
}

fn managed_live(replayed: &Schema, t: &LiveTable) -> bool {
    let q = qualified(&t.key);
    replayed.manages(&q) && !is_framework_ledger(&q) && !t.name.starts_with("pg_")
}

/// The statement that last defined an object: its last alteration, else its creation.
fn last_defined(h: &History) -> Option<Origin> {
    h.altered.last().cloned().or_else(|| h.created.clone())
}

fn diff_table(replayed: &Schema, t: &Table, lt: &LiveTable, out: &mut Vec<Drift>) {
    let key = t.name.as_str();
    let push = |out: &mut Vec<Drift>, object, kind, migrations: Option<String>, database: Option<String>, origin| {
        out.push(Drift { table: key.to_string(), object, kind, migrations, database, origin })
    };
    // Columns.
    let pk: Vec<&str> = t.primary_key().map(|c| c.columns.iter().map(String::as_str).collect()).unwrap_or_default();
    for col in t.columns() {
        // A column adopted from a statement that used it: nothing about it is known.
        if col.history.created.is_none() {
            continue;
        }
        let origin = last_defined(&col.history);
        let Some(lc) = lt.column(&col.name) else {
            let shown = col.ty.as_ref().map(|ty| ty.text.clone());
            push(out, DriftObject::Column(col.name.clone()), DriftKind::Missing, shown, None, origin);
            continue;
        };
        compare_column(col, lc, pk.contains(&col.name.as_str()), |kind, m, d| {
            push(out, DriftObject::Column(col.name.clone()), kind, Some(m), Some(d), origin.clone())
        });
    }
    if t.columns_known {
        for lc in &lt.columns {
            if t.column(&lc.name).is_none() {
                push(
                    out,
                    DriftObject::Column(lc.name.clone()),
                    DriftKind::Extra,
                    None,
                    Some(lc.type_sql.clone()),
                    None,
                );
            }
        }
    }
    // Indexes.
    let indexes: Vec<&Index> = replayed.indexes_of(t).collect();
    let pairs = pair(
        &indexes,
        &lt.indexes,
        |i| i.name.as_str(),
        |i| i.name.as_str(),
        |i, l| i.unique == l.unique && i.partial == l.partial && same_keys(&i.columns, &l.columns),
    );
    for (i, found) in indexes.iter().zip(&pairs.left) {
        let origin = last_defined(&i.history);
        let object = DriftObject::Index(i.name.clone());
        let Some(l) = found.map(|k| &lt.indexes[k]) else {
            push(out, object, DriftKind::Missing, Some(index_shape(&i.columns, i.unique, i.partial)), None, origin);
            continue;
        };
        let mut wanted = Vec::new();
        let mut have = Vec::new();
        if l.name != i.name && !generated_name(key, &i.name) {
            wanted.push(format!("the name `{}`", i.name));
            have.push(format!("the name `{}`", l.name));
        }
        if i.unique != l.unique || i.partial != l.partial || !same_keys(&i.columns, &l.columns) {
            wanted.push(index_shape(&i.columns, i.unique, i.partial));
            have.push(index_shape(&l.columns, l.unique, l.partial));
        }
        if !l.valid {
            wanted.push("a valid index".into());
            have.push("an INVALID index (a failed CREATE INDEX CONCURRENTLY)".into());
        }
        if !wanted.is_empty() {
            push(out, object, DriftKind::Definition, Some(wanted.join(", ")), Some(have.join(", ")), origin);
        }
    }
    if t.columns_known {
        for (k, l) in lt.indexes.iter().enumerate() {
            if !pairs.right.contains(&k) {
                let shape = index_shape(&l.columns, l.unique, l.partial);
                push(out, DriftObject::Index(l.name.clone()), DriftKind::Extra, None, Some(shape), None);
            }
        }
    }
    // Constraints (PostgreSQL 18's NOT NULL rows and constraint triggers are `Other`).
    let constraints: Vec<&Constraint> = t.constraints.iter().collect();
    let live_constraints: Vec<&LiveConstraint> =
        lt.constraints.iter().filter(|c| c.kind != LiveConstraintKind::Other).collect();
    let pairs = pair(
        &constraints,
        &live_constraints,
        |c| c.name.as_str(),
        |c| c.name.as_str(),
        |c, l| same_constraint_shape(c, l),
    );
    for (c, found) in constraints.iter().zip(&pairs.left) {
        let origin = last_defined(&c.history);
        let object = DriftObject::Constraint(c.name.clone());
        let Some(l) = found.map(|k| live_constraints[k]) else {
            push(out, object, DriftKind::Missing, Some(constraint_shape(c)), None, origin);
            continue;
        };
        let mut wanted = Vec::new();
        let mut have = Vec::new();
        if l.name != c.name && !generated_name(key, &c.name) {
            wanted.push(format!("the name `{}`", c.name));
            have.push(format!("the name `{}`", l.name));
        }
        if !same_constraint_shape(c, l) {
            wanted.push(constraint_shape(c));
            have.push(l.definition.clone());
        }
        if c.validated != l.validated {
            wanted.push(if c.validated { "a validated constraint" } else { "a NOT VALID constraint" }.into());
            have.push(if l.validated { "a validated one" } else { "a NOT VALID one" }.into());
        }
        if !wanted.is_empty() {
            push(out, object, DriftKind::Definition, Some(wanted.join(", ")), Some(have.join(", ")), origin);
        }
    }
    if t.columns_known {
        for (k, l) in live_constraints.iter().enumerate() {
            if !pairs.right.contains(&k) {
                push(
                    out,
                    DriftObject::Constraint(l.name.clone()),
                    DriftKind::Extra,
                    None,
                    Some(l.definition.clone()),
                    None,
                );
            }
        }
    }
}

/// Compares one column present on both sides; `report(kind, migrations, database)`.
fn compare_column(col: &Column, lc: &LiveColumn, in_pk: bool, mut report: impl FnMut(DriftKind, String, String)) {
    if let Some(ty) = &col.ty {
        let want = NormType::of_replay(ty);
        let have = NormType::of_live(&lc.type_sql);
        if want != have {
            report(DriftKind::Type, ty.text.clone(), lc.type_sql.clone());
        }
    } else {
        // An unreadable type: nothing else about the column is certain either.
        return;
    }
    let not_null = col.not_null || col.generated || in_pk;
    if not_null != lc.not_null {
        let word = |nn: bool| if nn { "NOT NULL".to_string() } else { "nullable".to_string() };
        report(DriftKind::Nullability, word(not_null), word(lc.not_null));
    }
    let live_default = || match (&lc.default, lc.identity) {
        (_, Some('a')) => "GENERATED ALWAYS AS IDENTITY".to_string(),
        (_, Some(_)) => "GENERATED BY DEFAULT AS IDENTITY".to_string(),
        (Some(d), None) => format!("`{d}`"),
        (None, None) => "no default".to_string(),
    };
    let live_sequence = lc.identity.is_some() || lc.default.as_deref().is_some_and(is_nextval);
    if col.generated {
        if !live_sequence {
            report(DriftKind::Default, "a sequence (serial or identity)".into(), live_default());
        }
        return;
    }
    let want = col.default.as_deref().map(normalize_default).filter(|d| d != "null");
    let have = if lc.identity.is_some() {
        Some("<identity>".to_string())
    } else {
        lc.default.as_deref().map(normalize_default).filter(|d| d != "null")
    };
    if want != have {
        let shown = match &col.default {
            Some(d) if want.is_some() => format!("`{}`", compact(d)),
            _ => "no default".into(),
        };
        report(DriftKind::Default, shown, live_default());
    }
}

fn is_nextval(default: &str) -> bool {
    default.trim_start().to_ascii_lowercase().starts_with("nextval(")
}

/// Token text joined by the recogniser (`'x' :: text`, `now ( )`) as people write it.
fn compact(expr: &str) -> String {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = String::with_capacity(expr.len());
    let mut in_str = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == '\'' {
            in_str = !in_str;
        }
        if c == ' ' && !in_str {
            let prev = out.chars().last();
            let next = chars.get(i + 1).copied();
            let tight_after = matches!(prev, Some('(' | '[' | ':'));
            let tight_before = matches!(next, Some(')' | ']' | ':' | ',' | '['))
                || (next == Some('(') && prev.is_some_and(|p| p.is_alphanumeric() || p == '_'));
            if tight_after || tight_before {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Index and constraint pairing: by name, then by shape for what is left.
struct Pairs {
    /// For each left item, the right item it pairs with.
    left: Vec<Option<usize>>,
    right: BTreeSet<usize>,
}

fn pair<L, R>(
    left: &[L],
    right: &[R],
    left_name: impl Fn(&L) -> &str,
    right_name: impl Fn(&R) -> &str,
    same_shape: impl Fn(&L, &R) -> bool,
) -> Pairs {
    let mut out = Pairs { left: vec![None; left.len()], right: BTreeSet::new() };
    for (i, l) in left.iter().enumerate() {
        if let Some(k) = right.iter().position(|r| right_name(r) == left_name(l)) {
            if out.right.insert(k) {
                out.left[i] = Some(k);
            }
        }
    }
    for (i, l) in left.iter().enumerate() {
        if out.left[i].is_some() {
            continue;
        }
        let found = right.iter().enumerate().find(|(k, r)| !out.right.contains(k) && same_shape(l, r));
        if let Some((k, _)) = found {
            out.right.insert(k);
            out.left[i] = Some(k);
        }
    }
    out
}

/// A name PostgreSQL (or safemig, imitating it) generated: `<table>_…_(pkey|key|fkey|check|excl|idx)[n]`.
fn generated_name(table_key: &str, name: &str) -> bool {
    let table = table_key.rsplit('.').next().unwrap_or(table_key);
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let short = |s: &str| s.len() >= 63 - 8;
    (name.starts_with(&format!("{table}_")) || short(name))
        && ["_pkey", "_key", "_fkey", "_check", "_excl", "_idx"].iter().any(|s| stem.ends_with(s))
}

/// A plain column name rather than an expression or a column with an operator class or order.
fn plain_identifier(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$')
}

/// Key columns compare equal by name; an expression (or a column with an operator class) is
/// compared only by position, since each side prints it its own way.
pub(crate) fn same_keys(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y || !plain_identifier(x) || !plain_identifier(y))
}

fn index_shape(columns: &[String], unique: bool, partial: bool) -> String {
    format!("{}({}){}", if unique { "UNIQUE " } else { "" }, columns.join(", "), if partial { " WHERE …" } else { "" })
}

fn same_constraint_shape(c: &Constraint, l: &LiveConstraint) -> bool {
    match (&c.kind, &l.kind) {
        (ConstraintType::PrimaryKey, LiveConstraintKind::PrimaryKey)
        | (ConstraintType::Unique, LiveConstraintKind::Unique) => c.columns == l.columns,
        (
            ConstraintType::ForeignKey { table, columns },
            LiveConstraintKind::ForeignKey { table: live_table, columns: live_columns },
        ) => c.columns == l.columns && table == live_table && (columns.is_empty() || columns == live_columns),
        // The replay knows a check's columns only for `CHECK (col IS NOT NULL)` and inline checks.
        (ConstraintType::Check { .. }, LiveConstraintKind::Check) => {
            c.columns.iter().all(|col| l.columns.contains(col))
        }
        (ConstraintType::Exclude, LiveConstraintKind::Exclusion) => true,
        _ => false,
    }
}

fn constraint_shape(c: &Constraint) -> String {
    let cols = c.columns.join(", ");
    match &c.kind {
        ConstraintType::PrimaryKey => format!("PRIMARY KEY ({cols})"),
        ConstraintType::Unique => format!("UNIQUE ({cols})"),
        ConstraintType::ForeignKey { table, columns } if columns.is_empty() => {
            format!("FOREIGN KEY ({cols}) REFERENCES {table}")
        }
        ConstraintType::ForeignKey { table, columns } => {
            format!("FOREIGN KEY ({cols}) REFERENCES {table}({})", columns.join(", "))
        }
        ConstraintType::Check { not_null_of: Some(col) } => format!("CHECK ({col} IS NOT NULL)"),
        ConstraintType::Check { .. } if cols.is_empty() => "CHECK (…)".into(),
        ConstraintType::Check { .. } => format!("CHECK (… {cols} …)"),
        ConstraintType::Exclude => "EXCLUDE (…)".into(),
    }
}

// ---- normalisation ---------------------------------------------------------------------------

/// A type reduced to what makes two spellings the same type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NormType {
    pub name: String,
    pub modifiers: Vec<i64>,
    pub array: bool,
}

impl NormType {
    /// A replayed column's type (`serial` is `int4`: the sequence is the default's business).
    pub(crate) fn of_replay(ty: &TypeName) -> NormType {
        let name = match ty.canonical.as_str() {
            "serial2" => "int2".to_string(),
            "serial4" => "int4".to_string(),
            "serial8" => "int8".to_string(),
            other => strip_schema(other).trim_matches('"').to_ascii_lowercase(),
        };
        NormType { name, modifiers: ty.modifiers.clone(), array: ty.array }.settle()
    }

    /// `format_type` output: `character varying(255)`, `timestamp(3) with time zone`,
    /// `integer[]`, `public.citext`, `"char"`.
    pub(crate) fn of_live(type_sql: &str) -> NormType {
        let mut s = type_sql.trim().to_string();
        let mut array = false;
        while let Some(rest) = s.strip_suffix("[]") {
            s = rest.trim_end().to_string();
            array = true;
        }
        let mut modifiers = Vec::new();
        if let (Some(open), Some(close)) = (s.find('('), s.rfind(')')) {
            if open < close {
                modifiers = s[open + 1..close].split(',').filter_map(|m| m.trim().parse::<i64>().ok()).collect();
                s = format!("{} {}", s[..open].trim_end(), s[close + 1..].trim_start());
            }
        }
        let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
        let quoted = s.starts_with('"');
        let bare = strip_schema(&s).trim_matches('"').to_string();
        let name = if quoted { bare } else { canonical_type(&bare, &modifiers) };
        NormType { name: name.to_ascii_lowercase(), modifiers, array }.settle()
    }

    /// Defaults PostgreSQL fills in: `char` is `char(1)`, `bit` is `bit(1)`; a float's precision
    /// only picks `float4` or `float8`.
    fn settle(mut self) -> NormType {
        match self.name.as_str() {
            "bpchar" | "bit" if self.modifiers.is_empty() => self.modifiers = vec![1],
            "float4" | "float8" => self.modifiers.clear(),
            _ => {}
        }
        self
    }
}

fn strip_schema(name: &str) -> &str {
    // `public.citext` → `citext`; a quoted name keeps its dots.
    if let Some(inner) = name.strip_suffix('"') {
        if let Some(start) = inner.rfind('"') {
            return &name[start..];
        }
    }
    name.rsplit('.').next().unwrap_or(name)
}

/// Type words that continue a cast's type name (`::character varying`, `::timestamp with time zone`).
const TYPE_CONTINUATIONS: &[&str] = &["varying", "precision", "with", "without", "time", "zone"];

/// Type names that prefix a typed literal (`interval '1 day'`, `date '2024-01-01'`): PostgreSQL
/// shows them as casts, which normalisation drops.
const TYPED_LITERAL_WORDS: &[&str] = &[
    "interval",
    "date",
    "timestamp",
    "timestamptz",
    "time",
    "timetz",
    "text",
    "varchar",
    "json",
    "jsonb",
    "uuid",
    "boolean",
    "bool",
    "numeric",
    "integer",
    "int",
    "bigint",
    "inet",
    "cidr",
    "bytea",
];

#[derive(Debug, Clone, PartialEq)]
enum ExprTok {
    Word(String),
    Str(String),
    Ident(String),
    Punct(String),
}

/// A default expression reduced for comparison: casts, grouping parentheses, whitespace and the
/// case of words dropped; numeric strings unquoted (`'-1'::integer` → `-1`); `CURRENT_TIMESTAMP`
/// and `transaction_timestamp()` written `now()`. `NULL` stays `null` (the caller treats it as
/// no default).
pub(crate) fn normalize_default(expr: &str) -> String {
    let toks = expr_tokens(expr);
    // Drop casts and typed-literal prefixes.
    let mut kept: Vec<ExprTok> = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            ExprTok::Punct(p) if p == "::" => {
                i = skip_cast_type(&toks, i + 1);
                continue;
            }
            ExprTok::Word(w)
                if TYPED_LITERAL_WORDS.contains(&w.as_str()) && matches!(toks.get(i + 1), Some(ExprTok::Str(_))) =>
            {
                i += 1;
                continue;
            }
            ExprTok::Word(w)
                if w == "current_timestamp" && !matches!(toks.get(i + 1), Some(ExprTok::Punct(p)) if p == "(") =>
            {
                kept.extend([ExprTok::Word("now".into()), ExprTok::Punct("(".into()), ExprTok::Punct(")".into())]);
            }
            ExprTok::Word(w) if w == "transaction_timestamp" => kept.push(ExprTok::Word("now".into())),
            ExprTok::Str(s) if is_number(s) => kept.push(ExprTok::Word(s.clone())),
            t => kept.push(t.clone()),
        }
        i += 1;
    }
    // Drop grouping parentheses (those that do not follow a function name or `[`).
    let mut drop = vec![false; kept.len()];
    let mut stack: Vec<(usize, bool)> = Vec::new();
    for (k, t) in kept.iter().enumerate() {
        match t {
            ExprTok::Punct(p) if p == "(" => {
                let call = k > 0 && matches!(kept[k - 1], ExprTok::Word(_) | ExprTok::Ident(_));
                stack.push((k, !call));
            }
            ExprTok::Punct(p) if p == ")" => {
                if let Some((open, grouping)) = stack.pop() {
                    if grouping {
                        drop[open] = true;
                        drop[k] = true;
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = String::new();
    for (t, dropped) in kept.iter().zip(drop) {
        if dropped {
            continue;
        }
        match t {
            ExprTok::Word(w) => {
                if out.ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                    out.push(' ');
                }
                out.push_str(w);
            }
            ExprTok::Str(s) => {
                out.push('\'');
                out.push_str(&s.replace('\'', "''"));
                out.push('\'');
            }
            ExprTok::Ident(s) => {
                out.push('"');
                out.push_str(s);
                out.push('"');
            }
            ExprTok::Punct(p) => out.push_str(p),
        }
    }
    out
}

fn is_number(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().next().is_some_and(|c| c.is_ascii_digit())
        && digits.matches('.').count() <= 1
}

/// The index after the type that follows `::` at `i`.
fn skip_cast_type(toks: &[ExprTok], mut i: usize) -> usize {
    match toks.get(i) {
        Some(ExprTok::Word(_) | ExprTok::Ident(_)) => i += 1,
        _ => return i,
    }
    // Qualified names: `public.mytype`.
    while matches!(toks.get(i), Some(ExprTok::Punct(p)) if p == ".")
        && matches!(toks.get(i + 1), Some(ExprTok::Word(_) | ExprTok::Ident(_)))
    {
        i += 2;
    }
    loop {
        match toks.get(i) {
            Some(ExprTok::Word(w)) if TYPE_CONTINUATIONS.contains(&w.as_str()) => i += 1,
            Some(ExprTok::Punct(p)) if p == "(" => {
                let mut depth = 0;
                while let Some(t) = toks.get(i) {
                    i += 1;
                    match t {
                        ExprTok::Punct(p) if p == "(" => depth += 1,
                        ExprTok::Punct(p) if p == ")" => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
            Some(ExprTok::Punct(p)) if p == "[" && matches!(toks.get(i + 1), Some(ExprTok::Punct(q)) if q == "]") => {
                i += 2
            }
            _ => return i,
        }
    }
}

/// Words and numbers (lower-cased), string literals (unescaped), quoted identifiers and
/// punctuation, from the SQL tokenizer. Text it cannot read (an unterminated string) is kept as
/// one last word, so that two such expressions still compare by their text.
fn expr_tokens(expr: &str) -> Vec<ExprTok> {
    let lexed = crate::sql::lexer::tokenize(crate::sql::Dialect::Postgres.sqlparser(), expr);
    let mut out: Vec<ExprTok> = lexed
        .tokens
        .into_iter()
        .filter(|t| !t.is_trivia())
        .map(|t| match t.token {
            Token::Word(w) if w.quote_style == Some('"') => ExprTok::Ident(w.value),
            Token::Word(w) => ExprTok::Word(w.value.to_lowercase()),
            Token::Number(n, _) => ExprTok::Word(n.to_lowercase()),
            Token::SingleQuotedString(s) | Token::EscapedStringLiteral(s) | Token::NationalStringLiteral(s) => {
                ExprTok::Str(s)
            }
            other => ExprTok::Punct(other.to_string()),
        })
        .collect();
    if let Some(rest) = lexed.error.and_then(|e| expr.get(e.offset..)) {
        out.push(ExprTok::Word(rest.trim().to_lowercase()));
    }
    out
}

#[cfg(test)]
mod tests;
