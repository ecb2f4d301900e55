//! Data probes: would the rows already in the dev database make a statement fail?
//!
//! - [`targets`] (pure, no database): the risky actions of a migration — `SET NOT NULL`,
//!   `ADD COLUMN … NOT NULL` without a default, `ADD CONSTRAINT … CHECK / UNIQUE / PRIMARY KEY /
//!   FOREIGN KEY` (validated on add), `CREATE UNIQUE INDEX`, `VALIDATE CONSTRAINT` — each with
//!   its [`ProbeKey`]. The rule `existing-rows-violate` reads outcomes by these keys.
//! - [`plan`] (pure): the targets whose table exists in a [`LiveSnapshot`], each with the SQL of
//!   its probe: identifiers quoted, a `CHECK` expression taken from the statement; `COUNT(*)`
//!   on a table under [`EXACT_ROWS`] rows, else a `TABLESAMPLE` scan whose count is a lower
//!   bound.
//! - [`run`]: one probe in a read-only transaction with a short `statement_timeout`, its
//!   `search_path` fixed to `pg_catalog`. Expressions from the migration only ever run there, one
//!   statement per call, and only those [`harmless`] lets through (column references, literals,
//!   operators, casts to built-in types, immutable built-in functions, sent schema-qualified);
//!   any other is [`ProbeOutcome::NotProbed`] and never reaches the database.
//!
//! A target is skipped when an earlier statement of the migration changes what the probe would
//! read (data changes, renames, type changes, `DO` blocks), and [`plan`] skips what the live
//! schema shows is already applied (the column exists, the constraint is there). Outcomes are
//! facts about the data at one moment: callers cache them by key and drop them when a new
//! snapshot arrives.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use sqlparser::tokenizer::Token;

use crate::sql::facts::{
    AlterAction, ConstraintKind, DropObjects, ObjectKind, QualifiedName, Span, StatementKind, TableConstraint,
};
use crate::sql::lexer::{self, Tok};
use crate::sql::{Dialect, SqlFile};

use super::connect::{LiveClient, LiveError};
use super::harmless::harmless;
use super::{LiveConstraintKind, LiveSnapshot, LiveTable, RelationKind};

/// Tables with fewer rows than this (by the planner's estimate) are counted exactly.
pub const EXACT_ROWS: f64 = 1_000_000.0;
/// Without an estimate, tables smaller than this are counted exactly.
const EXACT_BYTES: u64 = 256 * 1024 * 1024;
/// About how many rows a sample of a large table reads.
const SAMPLE_ROWS: f64 = 100_000.0;
/// A sampled probe stops after this many violations.
const SAMPLE_LIMIT: u32 = 1_000;
/// A probe's default `statement_timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(1_500);

/// Which probe: the statement's text, the index of the action in it, and the part of the action
/// (a primary key has two: duplicates and NULLs). Equal text means an equal probe, so outcomes
/// can be cached by key across edits and files.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProbeKey {
    /// The statement's text; for a `VALIDATE CONSTRAINT` of a constraint added earlier in the
    /// migration, followed by that constraint's clause.
    pub statement: String,
    pub action: usize,
    pub part: u8,
}

/// What a probe looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeCheck {
    /// `SET NOT NULL`, or a primary key's columns: rows with a NULL in any of them.
    Nulls { columns: Vec<String> },
    /// `ADD COLUMN … NOT NULL` without a default: every existing row violates.
    NewColumn { column: String },
    /// `CHECK (…)`: rows for which the expression is false. `clause` is the constraint's text.
    Check { constraint: Option<String>, clause: String },
    /// `UNIQUE` / `PRIMARY KEY`: groups of rows that share a key.
    Duplicates { constraint: Option<String>, columns: Vec<String> },
    /// `CREATE UNIQUE INDEX`: as `Duplicates`, with the keys (columns or expressions) and
    /// predicate read from the statement's text.
    UniqueIndex { name: Option<String> },
    /// `FOREIGN KEY`: rows whose key matches no row of the referenced table. `ref_columns`
    /// empty: the referenced table's primary key.
    Orphans { constraint: Option<String>, columns: Vec<String>, table: QualifiedName, ref_columns: Vec<String> },
    /// `VALIDATE CONSTRAINT` of a constraint this migration does not add: the live catalog's
    /// definition decides.
    Validate { constraint: String },
}

/// A risky action of a migration statement, before anything is known about the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeTarget {
    pub key: ProbeKey,
    /// The statement's index in the file.
    pub statement: usize,
    /// The table whose rows decide.
    pub table: QualifiedName,
    pub check: ProbeCheck,
    /// Statement-relative span a finding is reported on.
    pub span: Span,
}

/// A probe ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeRequest {
    pub key: ProbeKey,
    pub statement: usize,
    /// The snapshot key of the table.
    pub table: String,
    pub check: ProbeCheck,
    /// One row: the number of violations (`int8`) and an example (`text`, may be NULL).
    pub sql: String,
    pub bound: Bound,
    /// The columns the example names (the table's primary key; for a foreign key also the
    /// referencing columns; for duplicates the key).
    pub example_columns: Vec<String>,
    /// Why this probe must not run (an expression calls a function that is not an immutable
    /// built-in, …): [`run`] answers [`ProbeOutcome::NotProbed`] without touching the database,
    /// and `sql` is empty.
    pub not_probed: Option<String>,
}

/// How far a probe's count can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// The whole table was read.
    Exact,
    /// A sample was read: the count is a lower bound, and finding nothing proves nothing.
    Sampled,
    /// At most this many rows were counted.
    Limit(u32),
}

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// Existing rows would make the statement fail. For duplicates, `count` is the number of
    /// key values shared by several rows.
    Violations { count: u64, lower_bound: bool, example: Option<String> },
    /// No existing row violates (the whole table was read).
    Clean,
    /// A sample of a large table found nothing; the rest was not read.
    Inconclusive(String),
    /// The probe could not run: a timeout, an expression that does not evaluate on the live
    /// schema, a lost connection. Never a finding.
    Failed(String),
    /// The probe was refused: an expression from the migration (or the catalog) is not one a
    /// probe may evaluate. The reason reads "calls `f()`", "contains a subquery", ….
    NotProbed(String),
}

// ---------------------------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------------------------

/// Every probe target of a migration, in statement order.
pub fn targets(file: &SqlFile) -> Vec<ProbeTarget> {
    let mut out = Vec::new();
    if file.dialect != Dialect::Postgres {
        return out;
    }
    // Tables whose rows (or names, or column types) an earlier statement changes: what the
    // database holds now is not what the statement will see.
    let mut tainted: HashSet<String> = HashSet::new();
    // `NOT VALID` constraints added so far: (table key, name) → the check a VALIDATE makes.
    let mut not_valid: HashMap<(String, String), (ProbeCheck, String)> = HashMap::new();
    for (index, stmt) in file.statements.iter().enumerate() {
        let text: &str = &stmt.parsed.text;
        match stmt.kind() {
            StatementKind::AlterTable(at) => {
                let table_key = at.table.key();
                let mut local_taint = tainted.contains(&table_key);
                for (i, action) in at.actions.iter().enumerate() {
                    let key = |part: u8| ProbeKey { statement: text.to_string(), action: i, part };
                    let mut push = |key: ProbeKey, check: ProbeCheck, span: Span| {
                        out.push(ProbeTarget { key, statement: index, table: at.table.clone(), check, span });
                    };
                    match &action.action {
                        _ if local_taint => {}
                        AlterAction::SetNotNull { column } => {
                            push(
                                key(0),
                                ProbeCheck::Nulls { columns: vec![column.value.clone()] },
                                action.keyword_span,
                            );
                        }
                        AlterAction::AddColumn { column, .. } => {
                            let Some(not_null) = column.not_null else { continue };
                            let has_default = column.default.as_ref().is_some_and(|d| !d.is_null);
                            let fills_itself =
                                column.generated.is_some() || column.ty.as_ref().is_some_and(|t| t.is_serial());
                            if !has_default && !fills_itself {
                                push(key(0), ProbeCheck::NewColumn { column: column.name.value.clone() }, not_null);
                            }
                        }
                        AlterAction::AddConstraint(tc) => {
                            let name = tc.name.as_ref().map(|n| n.value.clone());
                            let clause = slice(text, tc.span).to_string();
                            match &tc.kind {
                                ConstraintKind::Check { .. } if tc.not_valid.is_none() => {
                                    push(key(0), ProbeCheck::Check { constraint: name, clause }, tc.kind_span);
                                }
                                ConstraintKind::ForeignKey(fk) if tc.not_valid.is_none() => {
                                    push(key(0), orphans(tc, fk), tc.kind_span);
                                }
                                ConstraintKind::Check { .. } | ConstraintKind::ForeignKey(_) => {
                                    if let Some(n) = &name {
                                        let check = match &tc.kind {
                                            ConstraintKind::ForeignKey(fk) => orphans(tc, fk),
                                            _ => ProbeCheck::Check { constraint: name.clone(), clause: clause.clone() },
                                        };
                                        not_valid.insert((table_key.clone(), n.clone()), (check, clause));
                                    }
                                }
                                ConstraintKind::Unique { columns }
                                    if tc.using_index.is_none() && !columns.is_empty() =>
                                {
                                    let columns = columns.iter().map(|c| c.value.clone()).collect();
                                    push(key(0), ProbeCheck::Duplicates { constraint: name, columns }, tc.kind_span);
                                }
                                ConstraintKind::PrimaryKey { columns } if !columns.is_empty() => {
                                    let columns: Vec<String> = columns.iter().map(|c| c.value.clone()).collect();
                                    if tc.using_index.is_none() {
                                        let check =
                                            ProbeCheck::Duplicates { constraint: name, columns: columns.clone() };
                                        push(key(0), check, tc.kind_span);
                                    }
                                    // PRIMARY KEY makes its columns NOT NULL, also USING INDEX.
                                    push(key(1), ProbeCheck::Nulls { columns }, tc.kind_span);
                                }
                                _ => {}
                            }
                        }
                        AlterAction::ValidateConstraint { name } => {
                            match not_valid.get(&(table_key.clone(), name.value.clone())) {
                                Some((check, clause)) => {
                                    let key = ProbeKey { statement: format!("{text}\n{clause}"), action: i, part: 0 };
                                    push(key, check.clone(), action.span);
                                }
                                None => {
                                    let check = ProbeCheck::Validate { constraint: name.value.clone() };
                                    push(key(0), check, action.span);
                                }
                            }
                        }
                        _ => {}
                    }
                    // What later actions of this statement see is changed by these.
                    if matches!(
                        action.action,
                        AlterAction::AlterColumnType { .. }
                            | AlterAction::RenameColumn { .. }
                            | AlterAction::RenameTable { .. }
                            | AlterAction::DropColumn { .. }
                    ) {
                        local_taint = true;
                    }
                }
                for action in &at.actions {
                    match &action.action {
                        AlterAction::AlterColumnType { .. }
                        | AlterAction::RenameColumn { .. }
                        | AlterAction::DropColumn { .. } => {
                            tainted.insert(table_key.clone());
                        }
                        AlterAction::RenameTable { to } => {
                            tainted.insert(table_key.clone());
                            tainted.insert(crate::rules::context::renamed_key(&at.table, to));
                        }
                        _ => {}
                    }
                }
            }
            StatementKind::CreateIndex(ci) if ci.unique && !tainted.contains(&ci.table.key()) => {
                let key = ProbeKey { statement: text.to_string(), action: 0, part: 0 };
                let name = ci.name.as_ref().map(|n| n.value.clone());
                let span = stmt.facts().head;
                out.push(ProbeTarget {
                    key,
                    statement: index,
                    table: ci.table.clone(),
                    check: ProbeCheck::UniqueIndex { name },
                    span,
                });
            }
            StatementKind::CreateTable(ct) => {
                tainted.insert(ct.name.key());
            }
            StatementKind::Update(dc) | StatementKind::Delete(dc) => {
                tainted.insert(dc.table.key());
            }
            StatementKind::Insert(ins) => {
                tainted.insert(ins.table.key());
            }
            StatementKind::Truncate { tables, .. } => tainted.extend(tables.iter().map(QualifiedName::key)),
            StatementKind::Drop(DropObjects { object: ObjectKind::Table, names, .. }) => {
                tainted.extend(names.iter().map(QualifiedName::key));
            }
            // A DO block or procedure may change any data: nothing after it is probed.
            StatementKind::Other if matches!(stmt.facts().label.as_str(), "DO" | "CALL") => break,
            _ => {}
        }
    }
    out
}

fn orphans(tc: &TableConstraint, fk: &crate::sql::facts::ForeignKey) -> ProbeCheck {
    ProbeCheck::Orphans {
        constraint: tc.name.as_ref().map(|n| n.value.clone()),
        columns: fk.columns.iter().map(|c| c.value.clone()).collect(),
        table: fk.ref_table.clone(),
        ref_columns: fk.ref_columns.iter().map(|c| c.value.clone()).collect(),
    }
}

fn slice(text: &str, span: Span) -> &str {
    text.get(span.start as usize..span.end as usize).unwrap_or("")
}

// ---------------------------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------------------------

/// The probes worth running for `file` against the database `snapshot` describes: one per
/// target whose table exists there and whose change is not applied yet.
pub fn plan(file: &SqlFile, snapshot: &LiveSnapshot) -> Vec<ProbeRequest> {
    targets(file).into_iter().filter_map(|t| plan_target(file, t, snapshot)).collect()
}

fn plan_target(file: &SqlFile, target: ProbeTarget, snapshot: &LiveSnapshot) -> Option<ProbeRequest> {
    let table = snapshot.table(&target.table.key())?;
    if !matches!(table.kind, RelationKind::Table | RelationKind::PartitionedTable) {
        return None;
    }
    let pk = primary_key(table);
    let shape = match &target.check {
        ProbeCheck::Nulls { columns } => {
            let live: Vec<_> = columns.iter().map(|c| table.column(c)).collect::<Option<_>>()?;
            if live.iter().all(|c| c.not_null) {
                return None;
            }
            let predicate = columns.iter().map(|c| format!("{} IS NULL", ident(c))).collect::<Vec<_>>().join(" OR ");
            Shape::Rows { predicate, alias: None, example: pk.clone() }
        }
        ProbeCheck::NewColumn { column } => {
            // Already there: this migration (or another) ran.
            if table.column(column).is_some() {
                return None;
            }
            Shape::Rows { predicate: "true".into(), alias: None, example: pk.clone() }
        }
        ProbeCheck::Check { constraint, clause } => {
            if constraint.as_ref().is_some_and(|n| has_constraint(table, n)) {
                return None;
            }
            match harmless(&check_expression(clause)?) {
                Ok(expression) => {
                    Shape::Rows { predicate: format!("NOT {expression}"), alias: None, example: pk.clone() }
                }
                Err(why) => return Some(refused(target, table, why)),
            }
        }
        ProbeCheck::Duplicates { constraint, columns } => {
            if constraint.as_ref().is_some_and(|n| has_constraint(table, n)) {
                return None;
            }
            columns.iter().try_for_each(|c| table.column(c).map(|_| ()))?;
            let keys = columns.iter().map(|c| GroupKey { label: c.clone(), sql: ident(c) }).collect();
            Shape::Groups { keys, predicate: None, nulls_distinct: true }
        }
        ProbeCheck::UniqueIndex { name } => {
            if name.as_ref().is_some_and(|n| table.indexes.iter().any(|i| &i.name == n && i.valid)) {
                return None;
            }
            let stmt = file.statements.get(target.statement)?;
            let spec = unique_index_spec(&stmt.parsed.text)?;
            for key in &spec.keys {
                if let Key::Column(c) = key {
                    table.column(c)?;
                }
            }
            let keys = match spec.keys.into_iter().map(Key::group_key).collect::<Result<Vec<_>, _>>() {
                Ok(keys) => keys,
                Err(why) => return Some(refused(target, table, why)),
            };
            let predicate = match spec.predicate.as_deref().map(harmless).transpose() {
                Ok(p) => p,
                Err(why) => return Some(refused(target, table, why)),
            };
            Shape::Groups { keys, predicate, nulls_distinct: spec.nulls_distinct }
        }
        ProbeCheck::Orphans { constraint, columns, table: parent, ref_columns } => {
            if constraint.as_ref().is_some_and(|n| has_constraint(table, n)) {
                return None;
            }
            orphans_shape(table, columns, snapshot.table(&parent.key())?, ref_columns, &pk)?
        }
        ProbeCheck::Validate { constraint } => {
            let live = table.constraints.iter().find(|c| &c.name == constraint && !c.validated)?;
            match &live.kind {
                LiveConstraintKind::Check => match harmless(&check_expression(&live.definition)?) {
                    Ok(expression) => {
                        Shape::Rows { predicate: format!("NOT {expression}"), alias: None, example: pk.clone() }
                    }
                    Err(why) => return Some(refused(target, table, why)),
                },
                LiveConstraintKind::ForeignKey { table: parent, columns: ref_columns } => {
                    orphans_shape(table, &live.columns, snapshot.table(parent)?, ref_columns, &pk)?
                }
                _ => return None,
            }
        }
    };
    let large = match table.row_estimate {
        Some(rows) => rows >= EXACT_ROWS,
        None => table.total_bytes >= EXACT_BYTES,
    };
    let rows_guess = table.row_estimate.unwrap_or(table.total_bytes as f64 / 100.0).max(1.0);
    let (sql, bound, example_columns) =
        shape.sql(table, large, rows_guess, matches!(target.check, ProbeCheck::NewColumn { .. }));
    Some(ProbeRequest {
        key: target.key,
        statement: target.statement,
        table: table.key.clone(),
        check: target.check,
        sql,
        bound,
        example_columns,
        not_probed: None,
    })
}

/// A request [`run`] answers with [`ProbeOutcome::NotProbed`]: `why` it must not run.
fn refused(target: ProbeTarget, table: &LiveTable, why: String) -> ProbeRequest {
    ProbeRequest {
        key: target.key,
        statement: target.statement,
        table: table.key.clone(),
        check: target.check,
        sql: String::new(),
        bound: Bound::Exact,
        example_columns: Vec::new(),
        not_probed: Some(why),
    }
}

fn primary_key(table: &LiveTable) -> Vec<String> {
    table
        .constraints
        .iter()
        .find(|c| c.kind == LiveConstraintKind::PrimaryKey)
        .map(|c| c.columns.clone())
        .unwrap_or_default()
}

fn has_constraint(table: &LiveTable, name: &str) -> bool {
    table.constraints.iter().any(|c| c.name == name)
}

fn orphans_shape(
    child: &LiveTable,
    columns: &[String],
    parent: &LiveTable,
    ref_columns: &[String],
    pk: &[String],
) -> Option<Shape> {
    let ref_columns = if ref_columns.is_empty() { primary_key(parent) } else { ref_columns.to_vec() };
    if columns.is_empty() || columns.len() != ref_columns.len() {
        return None;
    }
    columns.iter().try_for_each(|c| child.column(c).map(|_| ()))?;
    ref_columns.iter().try_for_each(|c| parent.column(c).map(|_| ()))?;
    let not_null = columns.iter().map(|c| format!("_c.{} IS NOT NULL", ident(c))).collect::<Vec<_>>().join(" AND ");
    let matches = columns
        .iter()
        .zip(&ref_columns)
        .map(|(c, r)| format!("_p.{} = _c.{}", ident(r), ident(c)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let predicate = format!("{not_null} AND NOT EXISTS (SELECT 1 FROM {} AS _p WHERE {matches})", qualified(parent));
    let mut example = pk.to_vec();
    for c in columns {
        if !example.contains(c) {
            example.push(c.clone());
        }
    }
    Some(Shape::Rows { predicate, alias: Some("_c"), example })
}

/// A unique key part: a column, or an expression as written.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    Column(String),
    Expression(String),
}

impl Key {
    /// The key as a probe sends it: an expression only when [`harmless`], else why not.
    fn group_key(self) -> Result<GroupKey, String> {
        match self {
            Key::Column(c) => Ok(GroupKey { sql: ident(&c), label: c }),
            Key::Expression(e) => Ok(GroupKey { sql: format!("({})", harmless(&e)?), label: e }),
        }
    }
}

/// A key a duplicates probe groups by: its SQL as sent, its label (as written) in the example.
struct GroupKey {
    label: String,
    sql: String,
}

/// The query a probe runs.
enum Shape {
    /// Rows matching `predicate` violate.
    Rows { predicate: String, alias: Option<&'static str>, example: Vec<String> },
    /// Groups of rows sharing `keys` (among those matching `predicate`) violate.
    Groups { keys: Vec<GroupKey>, predicate: Option<String>, nulls_distinct: bool },
}

impl Shape {
    fn sql(&self, table: &LiveTable, large: bool, rows: f64, every_row: bool) -> (String, Bound, Vec<String>) {
        let from = match self {
            Shape::Rows { alias: Some(a), .. } => format!("{} AS {a}", qualified(table)),
            _ => qualified(table),
        };
        let percent = (SAMPLE_ROWS / rows * 100.0).clamp(0.0001, 100.0);
        let sample = format!("{from} TABLESAMPLE SYSTEM ({percent:.4})");
        match self {
            Shape::Rows { predicate, example, .. } => {
                let ex = example_sql(example.iter().map(|c| (c.as_str(), ident(c))));
                let order = if example.is_empty() {
                    String::new()
                } else {
                    format!(" ORDER BY {}", example.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", "))
                };
                if every_row && large {
                    let limit = EXACT_ROWS as u32;
                    let sql = format!(
                        "SELECT (SELECT pg_catalog.count(*) FROM (SELECT 1 FROM {from} LIMIT {limit}) AS _s)::int8, \
                         (SELECT {ex} FROM {from} LIMIT 1)"
                    );
                    (sql, Bound::Limit(limit), example.clone())
                } else if large {
                    let sql = format!(
                        "SELECT pg_catalog.count(*)::int8, pg_catalog.min(_e) FROM \
                         (SELECT {ex} AS _e FROM {sample} WHERE {predicate} LIMIT {SAMPLE_LIMIT}) AS _s"
                    );
                    (sql, Bound::Sampled, example.clone())
                } else {
                    let sql = format!(
                        "SELECT (SELECT pg_catalog.count(*) FROM {from} WHERE {predicate})::int8, \
                         (SELECT {ex} FROM {from} WHERE {predicate}{order} LIMIT 1)"
                    );
                    (sql, Bound::Exact, example.clone())
                }
            }
            Shape::Groups { keys, predicate, nulls_distinct } => {
                let mut filters: Vec<String> = Vec::new();
                if *nulls_distinct {
                    filters.extend(keys.iter().map(|k| format!("{} IS NOT NULL", k.sql)));
                }
                if let Some(p) = predicate {
                    filters.push(format!("({p})"));
                }
                let filter =
                    if filters.is_empty() { String::new() } else { format!(" WHERE {}", filters.join(" AND ")) };
                let group = keys.iter().map(|k| k.sql.as_str()).collect::<Vec<_>>().join(", ");
                let ex = example_sql(keys.iter().map(|k| (k.label.as_str(), k.sql.clone())));
                let ex = format!("{ex} || ' (' || pg_catalog.count(*) || ' rows)'");
                let source = if large { &sample } else { &from };
                let sql = format!(
                    "SELECT pg_catalog.count(*)::int8, pg_catalog.min(_e) FROM \
                     (SELECT {ex} AS _e FROM {source}{filter} GROUP BY {group} HAVING pg_catalog.count(*) > 1) AS _d"
                );
                let bound = if large { Bound::Sampled } else { Bound::Exact };
                (sql, bound, keys.iter().map(|k| k.label.clone()).collect())
            }
        }
    }
}

/// `pg_catalog.concat_ws(', ', 'id=' || …)`: an example row's key as text, or NULL without columns.
fn example_sql<'a>(columns: impl Iterator<Item = (&'a str, String)>) -> String {
    let parts: Vec<String> = columns
        .map(|(label, sql)| {
            format!("{} || coalesce(pg_catalog.left(({sql})::text, 60), 'NULL')", literal(&format!("{label}=")))
        })
        .collect();
    if parts.is_empty() {
        "NULL::text".into()
    } else {
        format!("pg_catalog.concat_ws(', ', {})", parts.join(", "))
    }
}

/// A double-quoted identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn qualified(table: &LiveTable) -> String {
    format!("{}.{}", ident(&table.schema), ident(&table.name))
}

fn tokens(text: &str) -> Vec<Tok> {
    lexer::tokenize(Dialect::Postgres.sqlparser(), text).tokens.into_iter().filter(|t| !t.is_trivia()).collect()
}

fn is_word(tok: &Tok, word: &str) -> bool {
    matches!(&tok.token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

/// The index of the `)` closing the `(` at `open`.
fn closing(toks: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        match t.token {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `(expr)` of `[CONSTRAINT name] CHECK (expr) …`, parentheses included; also reads
/// `pg_get_constraintdef`'s `CHECK ((expr)) NOT VALID`.
pub(crate) fn check_expression(clause: &str) -> Option<String> {
    let toks = tokens(clause);
    let at = toks.iter().position(|t| is_word(t, "CHECK"))?;
    let open = at + 1;
    if !matches!(toks.get(open)?.token, Token::LParen) {
        return None;
    }
    let close = closing(&toks, open)?;
    clause.get(toks[open].start as usize..toks[close].end as usize).map(str::to_string)
}

struct IndexSpec {
    keys: Vec<Key>,
    predicate: Option<String>,
    nulls_distinct: bool,
}

/// The keys, `WHERE` predicate and `NULLS [NOT] DISTINCT` of a `CREATE UNIQUE INDEX`.
fn unique_index_spec(text: &str) -> Option<IndexSpec> {
    let toks = tokens(text);
    let on = toks.iter().position(|t| is_word(t, "ON"))?;
    let open = on + toks[on..].iter().position(|t| matches!(t.token, Token::LParen))?;
    let close = closing(&toks, open)?;
    let mut keys = Vec::new();
    let mut start = open + 1;
    let mut depth = 0usize;
    for i in open + 1..=close {
        match toks[i].token {
            Token::LParen => depth += 1,
            Token::RParen if depth > 0 => depth -= 1,
            Token::Comma | Token::RParen if depth == 0 => {
                keys.push(index_key(text, &toks[start..i])?);
                start = i + 1;
            }
            _ => {}
        }
    }
    let rest = &toks[close + 1..];
    let nulls_distinct =
        !rest.windows(3).any(|w| is_word(&w[0], "NULLS") && is_word(&w[1], "NOT") && is_word(&w[2], "DISTINCT"));
    let predicate = rest.iter().position(|t| is_word(t, "WHERE")).and_then(|w| {
        let first = rest.get(w + 1)?;
        let last = rest.iter().rev().find(|t| !matches!(t.token, Token::SemiColon | Token::EOF))?;
        text.get(first.start as usize..last.end as usize).map(str::to_string)
    });
    Some(IndexSpec { keys, predicate, nulls_distinct })
}

/// One key of an index: `col [opclass] [ASC|DESC] [NULLS …]`, `(expr) …` or `func(…) …`.
fn index_key(text: &str, toks: &[Tok]) -> Option<Key> {
    let first = toks.first()?;
    match &first.token {
        Token::LParen => {
            let close = closing(toks, 0)?;
            let inner = text.get(first.end as usize..toks[close].start as usize)?;
            Some(Key::Expression(inner.trim().to_string()))
        }
        Token::Word(w) => {
            // A (possibly schema-qualified) function call.
            let mut i = 1;
            while matches!(toks.get(i).map(|t| &t.token), Some(Token::Period))
                && matches!(toks.get(i + 1).map(|t| &t.token), Some(Token::Word(_)))
            {
                i += 2;
            }
            if matches!(toks.get(i).map(|t| &t.token), Some(Token::LParen)) {
                let close = closing(toks, i)?;
                return text
                    .get(first.start as usize..toks[close].end as usize)
                    .map(|e| Key::Expression(e.to_string()));
            }
            let name = if w.quote_style.is_some() { w.value.clone() } else { w.value.to_lowercase() };
            Some(Key::Column(name))
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------

/// Runs one probe in its own read-only transaction, canceled after `timeout`, with `search_path`
/// fixed to `pg_catalog` for that transaction (no operator, type or function of another schema is
/// found by name). Never fails: a problem is [`ProbeOutcome::Failed`]; a refused probe is
/// [`ProbeOutcome::NotProbed`] and sends nothing.
pub async fn run(client: &LiveClient, req: &ProbeRequest, timeout: Duration) -> ProbeOutcome {
    if let Some(why) = &req.not_probed {
        return ProbeOutcome::NotProbed(why.clone());
    }
    let txn = match client.read_with_timeout(timeout).await {
        Ok(txn) => txn,
        Err(e) => return ProbeOutcome::Failed(e.to_string()),
    };
    let result = match txn.query("SELECT pg_catalog.set_config('search_path', 'pg_catalog', true)", &[]).await {
        Ok(_) => txn.query_one(&req.sql, &[]).await,
        Err(e) => Err(e),
    };
    let _ = txn.finish().await;
    let row = match result {
        Ok(row) => row,
        Err(LiveError::Timeout { after, .. }) => {
            return ProbeOutcome::Failed(format!("the probe took longer than {} ms", after.as_millis()))
        }
        Err(LiveError::QueryFailed { message, .. }) => {
            return ProbeOutcome::Failed(format!("the probe does not run on the live schema: {message}"))
        }
        Err(e) => return ProbeOutcome::Failed(e.to_string()),
    };
    let count: i64 = match row.try_get(0) {
        Ok(n) => n,
        Err(e) => return ProbeOutcome::Failed(format!("unexpected probe result: {e}")),
    };
    let example: Option<String> = row.try_get(1).unwrap_or(None);
    let count = u64::try_from(count).unwrap_or(0);
    match (count, req.bound) {
        (0, Bound::Sampled) => ProbeOutcome::Inconclusive("a sample of the table has no violating row".into()),
        (0, _) => ProbeOutcome::Clean,
        (count, Bound::Exact) => ProbeOutcome::Violations { count, lower_bound: false, example },
        (count, Bound::Sampled) => ProbeOutcome::Violations { count, lower_bound: true, example },
        (count, Bound::Limit(limit)) => {
            ProbeOutcome::Violations { count, lower_bound: count >= u64::from(limit), example }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{LiveColumn, LiveConstraint};

    fn column(name: &str, not_null: bool) -> LiveColumn {
        LiveColumn {
            name: name.into(),
            type_sql: "integer".into(),
            not_null,
            default: None,
            identity: None,
            null_frac: None,
            n_distinct: None,
        }
    }

    fn table(name: &str, rows: Option<f64>, columns: &[(&str, bool)]) -> LiveTable {
        LiveTable {
            key: name.into(),
            schema: "public".into(),
            name: name.into(),
            kind: RelationKind::Table,
            row_estimate: rows,
            total_bytes: 1 << 20,
            columns: columns.iter().map(|(n, nn)| column(n, *nn)).collect(),
            indexes: Vec::new(),
            constraints: vec![LiveConstraint {
                name: format!("{name}_pkey"),
                kind: LiveConstraintKind::PrimaryKey,
                columns: vec!["id".into()],
                definition: "PRIMARY KEY (id)".into(),
                validated: true,
            }],
            triggers: Vec::new(),
            referenced_by: Vec::new(),
        }
    }

    fn snapshot(tables: Vec<LiveTable>) -> LiveSnapshot {
        LiveSnapshot { tables: tables.into_iter().map(|t| (t.key.clone(), t)).collect(), ..LiveSnapshot::default() }
    }

    fn file(sql: &str) -> SqlFile {
        SqlFile::parse(sql, Dialect::Postgres, None)
    }

    #[test]
    fn check_expressions_come_from_the_clause_or_the_catalog() {
        assert_eq!(
            check_expression("CONSTRAINT c CHECK (amount > 0 AND note <> ')')").as_deref(),
            Some("(amount > 0 AND note <> ')')")
        );
        assert_eq!(
            check_expression("CHECK ((length(note) < 100)) NOT VALID").as_deref(),
            Some("((length(note) < 100))")
        );
        assert_eq!(check_expression("CHECK (unterminated"), None);
    }

    #[test]
    fn unique_index_keys_expressions_and_predicates() {
        let spec = unique_index_spec(
            "CREATE UNIQUE INDEX CONCURRENTLY u ON public.users USING btree (lower(email) text_pattern_ops, \"Org\" DESC, (a + b)) NULLS NOT DISTINCT WHERE deleted_at IS NULL;",
        )
        .expect("spec");
        assert_eq!(
            spec.keys,
            [Key::Expression("lower(email)".into()), Key::Column("Org".into()), Key::Expression("a + b".into())]
        );
        assert_eq!(spec.predicate.as_deref(), Some("deleted_at IS NULL"));
        assert!(!spec.nulls_distinct);
    }

    #[test]
    fn plans_quote_identifiers_and_sample_large_tables() {
        let snap = snapshot(vec![
            table("Small", Some(10.0), &[("id", true), ("Email", false)]),
            table("big", Some(5e7), &[("id", true), ("email", false)]),
        ]);
        let sql = "ALTER TABLE \"Small\" ALTER COLUMN \"Email\" SET NOT NULL;\nALTER TABLE big ALTER COLUMN email SET NOT NULL;";
        let plans = plan(&file(sql), &snap);
        assert_eq!(plans.len(), 2);
        assert_eq!(plans[0].bound, Bound::Exact);
        assert!(plans[0].sql.contains("FROM \"public\".\"Small\" WHERE \"Email\" IS NULL"), "{}", plans[0].sql);
        assert_eq!(plans[0].example_columns, ["id"]);
        assert_eq!(plans[1].bound, Bound::Sampled);
        assert!(plans[1].sql.contains("TABLESAMPLE SYSTEM (0.2000)"), "{}", plans[1].sql);
        assert!(plans[1].sql.contains("LIMIT 1000"), "{}", plans[1].sql);
    }

    #[test]
    fn skips_what_is_applied_missing_or_changed_earlier() {
        let snap = snapshot(vec![table("users", Some(10.0), &[("id", true), ("email", false), ("name", true)])]);
        let sql = "ALTER TABLE users ALTER COLUMN name SET NOT NULL;\n\
                   ALTER TABLE users ADD COLUMN email text NOT NULL;\n\
                   ALTER TABLE ghosts ALTER COLUMN x SET NOT NULL;\n\
                   ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY (id);\n\
                   UPDATE users SET email = '' WHERE email IS NULL;\n\
                   ALTER TABLE users ALTER COLUMN email SET NOT NULL;";
        // name is NOT NULL already, email exists already, ghosts is not there, users_pkey
        // exists (only its NULL part is planned, and id is NOT NULL), the UPDATE fills email.
        assert_eq!(plan(&file(sql), &snap), []);
        // Without the UPDATE the last statement is probed.
        let sql = "ALTER TABLE users ALTER COLUMN email SET NOT NULL;";
        assert_eq!(plan(&file(sql), &snap).len(), 1);
        // A DO block may do anything: nothing after it is probed.
        let sql =
            "DO $$ BEGIN UPDATE users SET email = ''; END $$;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;";
        assert_eq!(plan(&file(sql), &snap), []);
    }

    #[test]
    fn keys_follow_the_statement_text_and_validate_sees_its_add() {
        let sql = "ALTER TABLE orders ADD CONSTRAINT pos CHECK (amount > 0) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT pos;";
        let t = targets(&file(sql));
        assert_eq!(t.len(), 1, "{t:?}");
        assert_eq!(t[0].statement, 1);
        assert!(matches!(&t[0].check, ProbeCheck::Check { constraint: Some(n), .. } if n == "pos"));
        assert!(t[0].key.statement.starts_with("ALTER TABLE orders VALIDATE CONSTRAINT pos;"));
        assert!(t[0].key.statement.contains("CHECK (amount > 0)"));
        // A primary key: duplicates and NULLs.
        let t = targets(&file("ALTER TABLE a ADD PRIMARY KEY (x, y);"));
        assert_eq!(t.iter().map(|t| t.key.part).collect::<Vec<_>>(), [0, 1]);
    }
}
