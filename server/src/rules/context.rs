//! What a rule may know besides its own statement: the rest of the migration, the settings, and
//! (through [`SchemaView`]) facts from schema replay or a live database once those exist.

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;

use rustc_hash::FxHashMap;

use crate::config::PgVersion;
use crate::schema::{Baseline, ConstraintType, FileEvents, Rows, Schema, Table, FEW_SEED_ROWS};
use crate::sql::facts::*;
use crate::sql::{Dialect, SqlFile, Statement};

use super::Emitter;

/// How this migration runs, from config now and from framework discovery later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationSettings {
    pub dialect: Dialect,
    pub postgres_version: PgVersion,
    /// The runner (or the DBA) sets `lock_timeout`/`statement_timeout` for every migration.
    pub runner_sets_timeouts: bool,
    /// The runner wraps each migration in a transaction (`assume_in_transaction`, or what the
    /// framework is known to do).
    pub wraps_in_transaction: bool,
    /// The runner sends a multi-statement file as one query string, so PostgreSQL runs it as one
    /// implicit transaction (golang-migrate, Prisma, Supabase).
    pub implicit_transaction: bool,
    /// The value a fix inserts for `SET lock_timeout`.
    pub lock_timeout: String,
    /// How a migration of the detected framework leaves the runner's transaction, for messages
    /// (e.g. "add `-- +goose NO TRANSACTION` at the top of the file"); `None` when unknown.
    pub runner_opt_out: Option<&'static str>,
    /// For a separate down file: its migration's up file, whose changes it undoes. Dropping what
    /// that file created is the inverse, not a hazard.
    pub undoes: Option<std::sync::Arc<std::path::Path>>,
    /// The runner renders each migration as a Go template first (gobuffalo pop): `{{ … }}` is
    /// no syntax error there.
    pub renders_templates: bool,
    /// Extensions the platform installs before the first migration (the framework's
    /// `preinstalled_extensions`: Supabase's).
    pub preinstalled_extensions: &'static [&'static str],
}

impl Default for MigrationSettings {
    fn default() -> Self {
        MigrationSettings {
            dialect: Dialect::Postgres,
            postgres_version: PgVersion::DEFAULT,
            runner_sets_timeouts: false,
            wraps_in_transaction: false,
            implicit_transaction: false,
            lock_timeout: "5s".into(),
            undoes: None,
            runner_opt_out: None,
            renders_templates: false,
            preinstalled_extensions: &[],
        }
    }
}

/// How big a table is, when some source knows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TableSize {
    pub rows: f64,
    pub bytes: Option<u64>,
}

/// Schema facts from outside this migration: the replayed schema of earlier migrations, or a live
/// database. Every answer is optional; `None` means "unknown", and rules must then stay useful.
pub trait SchemaView: Sync {
    fn table_size(&self, _table: &QualifiedName) -> Option<TableSize> {
        None
    }
    /// The column's type before this migration.
    fn column_type(&self, _table: &QualifiedName, _column: &str) -> Option<TypeName> {
        None
    }
    /// Whether some index on `table` starts with `columns` (in order).
    fn has_index_leading(&self, _table: &QualifiedName, _columns: &[String]) -> Option<bool> {
        None
    }
    /// Whether a validated `CHECK (column IS NOT NULL)` exists on the table.
    fn has_validated_not_null_check(&self, _table: &QualifiedName, _column: &str) -> Option<bool> {
        None
    }
    /// The replayed schema this view answers from (the schema before this migration), if any.
    fn replayed(&self) -> Option<&Schema> {
        None
    }
    /// The outcome of a data probe against the live database (`existing-rows-violate`), when
    /// one ran for this key.
    fn probe(&self, _key: &crate::live::probe::ProbeKey) -> Option<&crate::live::probe::ProbeOutcome> {
        None
    }
    /// When sizes come from a live database: the row count under which a table counts as small
    /// (lock findings on it drop to info).
    fn small_table_rows(&self) -> Option<u64> {
        None
    }
    /// Whether the table (or view) exists before this migration. `Some(false)` only when the
    /// source knows every table there is.
    fn has_table(&self, table: &QualifiedName) -> Option<bool> {
        self.replayed()?.has_table(table)
    }
    /// The table as the migrations before this one left it: columns, constraints, indexes and
    /// which statements created and altered them.
    fn table(&self, table: &QualifiedName) -> Option<&Table> {
        self.replayed()?.table(table)
    }
    /// Facts from a connected dev database are part of this view.
    fn is_live(&self) -> bool {
        false
    }
    /// The volatility of the function a call to `name` reaches in the connected database.
    fn live_function_volatility(&self, _name: &QualifiedName) -> Option<Volatility> {
        None
    }
    /// Whether the connected database has the extension installed; `None` without one.
    fn live_has_extension(&self, _name: &str) -> Option<bool> {
        None
    }
    /// How much of the schema before the first migration is known.
    fn baseline(&self) -> Baseline {
        self.replayed().map_or(Baseline::Unseen, Schema::baseline)
    }
}

/// Knows nothing beyond the migration itself.
pub struct NoSchema;
impl SchemaView for NoSchema {}

/// Where the transaction a statement runs in comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnOrigin {
    /// An explicit `BEGIN` at this statement index.
    Explicit(usize),
    /// The migration runner wraps the migration.
    Runner,
    /// The runner sends the whole file at once: one implicit transaction.
    ImplicitBatch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Txn {
    id: usize,
    origin: TxnOrigin,
}

/// Facts about the whole migration, computed once per analysis.
pub struct MigrationContext<'a> {
    pub file: &'a SqlFile,
    pub settings: &'a MigrationSettings,
    pub schema: &'a dyn SchemaView,
    /// The transaction each statement runs in (for `BEGIN`, the one open before it).
    txn_before: Vec<Option<Txn>>,
    /// Statement index where each table (by key) is created.
    created_tables: FxHashMap<String, usize>,
    /// Index key columns by table key, from every index the migration creates or declares.
    local_indexes: FxHashMap<String, Vec<Vec<String>>>,
    changes_schema: bool,
    /// Per-migration results a rule computes once and reads from every statement.
    memo: RefCell<FxHashMap<&'static str, Rc<dyn Any>>>,
}

impl<'a> MigrationContext<'a> {
    /// Computes `compute(self)` once per migration under `key` (a rule id) and shares the result,
    /// so a rule that needs a whole-file scan does not repeat it for every statement.
    pub fn memo<T: 'static>(&self, key: &'static str, compute: impl FnOnce(&Self) -> T) -> Rc<T> {
        if let Some(hit) = self.memo.borrow().get(key).cloned() {
            if let Ok(value) = hit.downcast::<T>() {
                return value;
            }
        }
        let value = Rc::new(compute(self));
        self.memo.borrow_mut().insert(key, value.clone());
        value
    }

    pub fn new(file: &'a SqlFile, settings: &'a MigrationSettings, schema: &'a dyn SchemaView) -> Self {
        let significant = file.statements.iter().filter(|s| !matches!(s.kind(), StatementKind::Empty)).count();
        let mut open = if settings.wraps_in_transaction {
            Some(Txn { id: 0, origin: TxnOrigin::Runner })
        } else if settings.implicit_transaction && significant > 1 {
            Some(Txn { id: 0, origin: TxnOrigin::ImplicitBatch })
        } else {
            None
        };
        let mut next_id = 1;
        let mut txn_before = Vec::with_capacity(file.statements.len());
        let mut created_tables = FxHashMap::default();
        let mut dropped_tables: Vec<String> = Vec::new();
        let mut local_indexes: FxHashMap<String, Vec<Vec<String>>> = FxHashMap::default();
        let mut changes_schema = false;
        for (i, stmt) in file.statements.iter().enumerate() {
            txn_before.push(open);
            match stmt.kind() {
                // A BEGIN inside an open transaction does not start a new one (PostgreSQL warns).
                StatementKind::Transaction(TransactionControl::Begin) if open.is_none() => {
                    open = Some(Txn { id: next_id, origin: TxnOrigin::Explicit(i) });
                    next_id += 1;
                }
                StatementKind::Transaction(TransactionControl::Commit | TransactionControl::Rollback) => open = None,
                StatementKind::CreateTable(ct) => {
                    let key = ct.name.key();
                    // `CREATE TABLE IF NOT EXISTS` of a table the schema already has creates nothing.
                    let existed =
                        ct.if_not_exists && !dropped_tables.contains(&key) && schema.has_table(&ct.name) == Some(true);
                    if !existed {
                        created_tables.entry(key.clone()).or_insert(i);
                    }
                    for col in &ct.columns {
                        if col.primary_key.is_some() || col.unique.is_some() {
                            local_indexes.entry(key.clone()).or_default().push(vec![col.name.value.clone()]);
                        }
                    }
                    for tc in &ct.constraints {
                        if let Some(cols) = constraint_index_columns(tc) {
                            local_indexes.entry(key.clone()).or_default().push(cols);
                        }
                    }
                }
                StatementKind::CreateIndex(ci) => {
                    local_indexes.entry(ci.table.key()).or_default().push(ci.columns.clone());
                }
                StatementKind::Drop(DropObjects { object: ObjectKind::Table, names, .. }) => {
                    dropped_tables.extend(names.iter().map(QualifiedName::key));
                }
                StatementKind::AlterTable(at) => {
                    for a in &at.actions {
                        if let AlterAction::AddConstraint(tc) = &a.action {
                            if let Some(cols) = constraint_index_columns(tc) {
                                local_indexes.entry(at.table.key()).or_default().push(cols);
                            }
                        }
                    }
                }
                _ => {}
            }
            changes_schema |= is_schema_change(stmt.kind());
        }
        MigrationContext {
            file,
            settings,
            schema,
            txn_before,
            created_tables,
            local_indexes,
            changes_schema,
            memo: RefCell::new(FxHashMap::default()),
        }
    }

    pub fn statement(&'a self, index: usize) -> StatementContext<'a> {
        StatementContext { migration: self, index, stmt: &self.file.statements[index] }
    }

    /// The migration contains DDL (so a data change in it runs under DDL locks).
    pub fn changes_schema(&self) -> bool {
        self.changes_schema
    }
}

fn constraint_index_columns(tc: &TableConstraint) -> Option<Vec<String>> {
    match &tc.kind {
        ConstraintKind::Unique { columns } | ConstraintKind::PrimaryKey { columns } if !columns.is_empty() => {
            Some(columns.iter().map(|n| n.value.clone()).collect())
        }
        _ => None,
    }
}

fn is_schema_change(kind: &StatementKind) -> bool {
    matches!(
        kind,
        StatementKind::CreateTable(_)
            | StatementKind::CreateIndex(_)
            | StatementKind::DropIndex(_)
            | StatementKind::AlterTable(_)
            | StatementKind::Drop(_)
            | StatementKind::CreateTrigger { .. }
    )
}

/// A column a statement defines, with its declared type.
#[derive(Debug, Clone, Copy)]
pub struct DefinedColumn<'a> {
    pub table: &'a QualifiedName,
    pub column: &'a ColumnDef,
    pub ty: &'a TypeName,
}

/// Tables that migration frameworks create and manage themselves (squawk #392: alembic's
/// `alembic_version (version_num VARCHAR(32))` drew a `varchar` hint nobody could act on).
const FRAMEWORK_LEDGER_TABLES: &[&str] = &[
    "alembic_version",
    "schema_migrations",
    "ar_internal_metadata",
    "django_migrations",
    "_prisma_migrations",
    "__diesel_schema_migrations",
    "_sqlx_migrations",
    "goose_db_version",
    "flyway_schema_history",
    "schema_version",
    "knex_migrations",
    "knex_migrations_lock",
    "__drizzle_migrations",
    "atlas_schema_revisions",
    "gorp_migrations",
    "databasechangelog",
    "databasechangeloglock",
    "sequelizemeta",
    "__efmigrationshistory",
    "pgmigrations",
    "kysely_migration",
    "kysely_migration_lock",
    "mikro_orm_migrations",
    "seaql_migrations",
    "refinery_schema_history",
];

/// The table is a migration framework's own ledger.
pub fn is_framework_ledger(table: &QualifiedName) -> bool {
    let name = table.name();
    FRAMEWORK_LEDGER_TABLES.iter().any(|t| name.eq_ignore_ascii_case(t))
}

/// A system catalog (`pg_catalog.*`, `information_schema.*`, or a `pg_*` name PostgreSQL
/// reserves for itself): updating it tweaks the database's own bookkeeping, not application data.
pub fn is_system_catalog(table: &QualifiedName) -> bool {
    let schema = table.schema().map(str::to_ascii_lowercase);
    matches!(schema.as_deref(), Some("pg_catalog" | "information_schema"))
        || (matches!(schema.as_deref(), None | Some("public")) && table.name().to_ascii_lowercase().starts_with("pg_"))
}

/// The matching key (see [`QualifiedName::key`]) of `table` after `RENAME TO to`: a renamed table
/// stays in its schema.
pub fn renamed_key(table: &QualifiedName, to: &Name) -> String {
    match table.schema() {
        Some(schema) if schema != "public" => format!("{schema}.{}", to.value),
        _ => to.value.clone(),
    }
}

/// One statement and everything a rule may ask about its surroundings.
pub struct StatementContext<'a> {
    pub migration: &'a MigrationContext<'a>,
    pub index: usize,
    pub stmt: &'a Statement,
}

impl<'a> StatementContext<'a> {
    pub fn kind(&self) -> &'a StatementKind {
        self.stmt.kind()
    }
    pub fn facts(&self) -> &'a StatementFacts {
        self.stmt.facts()
    }
    pub fn settings(&self) -> &'a MigrationSettings {
        self.migration.settings
    }
    pub fn dialect(&self) -> Dialect {
        self.migration.settings.dialect
    }
    pub fn pg_at_least(&self, major: u32) -> bool {
        self.migration.settings.postgres_version >= PgVersion::new(major, 0)
    }
    /// Statement text for a statement-relative span.
    pub fn text(&self, span: Span) -> &'a str {
        let t = &self.stmt.parsed.text;
        t.get(span.start as usize..span.end as usize).unwrap_or("")
    }

    /// Statements before this one, nearest first.
    pub fn earlier(&self) -> impl Iterator<Item = (usize, &'a Statement)> + 'a {
        let stmts = &self.migration.file.statements[..self.index];
        stmts.iter().enumerate().rev()
    }
    /// Statements after this one, in order.
    pub fn later(&self) -> impl Iterator<Item = (usize, &'a Statement)> + 'a {
        let start = self.index + 1;
        self.migration.file.statements[start..].iter().enumerate().map(move |(i, s)| (start + i, s))
    }

    /// What each statement of this migration tries that conflicts with the schema before it
    /// (replayed from the [`SchemaView`]'s schema, or from nothing when there is none), computed
    /// once per migration.
    pub fn replay_events(&self) -> Rc<FileEvents> {
        self.migration.memo("schema-replay", |m| {
            let start = m.schema.replayed().cloned().unwrap_or_else(|| Schema::new(m.settings.dialect));
            crate::schema::replay_file(&start, m.file)
        })
    }

    /// The table was created earlier in this migration: nobody else can be using it yet. With a
    /// replayed schema, a `CREATE TABLE IF NOT EXISTS` of a table that existed before this
    /// migration (and was not dropped in it) does not make it new.
    /// This is a separate down file, and its own up file created the object with this history:
    /// dropping it is the migration's inverse.
    pub fn undoes_own_creation(&self, history: &crate::schema::History) -> bool {
        let (Some(up), Some(created)) = (&self.migration.settings.undoes, &history.created) else { return false };
        created.path.as_deref() == Some(&**up)
    }

    /// The table as the replayed schema knows it before this statement's migration (after its
    /// up file, for a separate down file).
    pub fn replayed_table(&self, table: &QualifiedName) -> Option<&'a Table> {
        self.migration.schema.table(table)
    }

    pub fn is_new_table(&self, table: &QualifiedName) -> bool {
        self.migration.created_tables.get(&table.key()).is_some_and(|&i| i < self.index)
    }

    /// This statement is the `CREATE TABLE` that creates `table` in this migration (not a
    /// `CREATE TABLE IF NOT EXISTS` of a table the schema already has).
    pub fn creates_table(&self, table: &QualifiedName) -> bool {
        self.migration.created_tables.get(&table.key()) == Some(&self.index)
    }

    /// The table of `index` when an earlier statement of this migration builds it with
    /// `CREATE INDEX` (nearest build first).
    pub fn table_of_index_built_earlier(&self, index: &QualifiedName) -> Option<&'a QualifiedName> {
        self.earlier().find_map(|(_, stmt)| {
            let StatementKind::CreateIndex(ci) = stmt.kind() else { return None };
            let name = ci.name.as_ref()?;
            // An index lives in its table's schema.
            let key = match ci.table.schema() {
                Some(schema) if schema != "public" => format!("{schema}.{}", name.value),
                _ => name.value.clone(),
            };
            (key == index.key()).then_some(&ci.table)
        })
    }

    /// The column was created earlier in this migration (with its table, or by `ADD COLUMN`): no
    /// running code reads or writes it yet.
    pub fn is_new_column(&self, table: &QualifiedName, column: &str) -> bool {
        self.is_new_table(table)
            || self.earlier().any(|(_, s)| match s.kind() {
                StatementKind::AlterTable(at) if at.table.key() == table.key() => at
                    .actions
                    .iter()
                    .any(|a| matches!(&a.action, AlterAction::AddColumn { column: c, .. } if c.name.value == column)),
                _ => false,
            })
    }

    /// A later statement of this migration that renames another table into `table`'s name (a
    /// swap, or the last step of a table rebuild): its index and the table it renames.
    pub fn later_renamed_into(&self, table: &QualifiedName) -> Option<(usize, &'a QualifiedName)> {
        let key = table.key();
        self.later().find_map(|(i, s)| {
            let StatementKind::AlterTable(at) = s.kind() else { return None };
            at.actions.iter().find_map(|a| {
                let AlterAction::RenameTable { to } = &a.action else { return None };
                (renamed_key(&at.table, to) == key && at.table.key() != key).then_some((i, &at.table))
            })
        })
    }

    /// A `BEGIN` of this file is open at this statement (no `COMMIT`/`ROLLBACK` since). Unlike
    /// [`Self::transaction`], this also sees a `BEGIN` inside a runner's or implicit transaction.
    pub fn explicit_block_open(&self) -> bool {
        self.earlier()
            .find_map(|(_, s)| match s.kind() {
                StatementKind::Transaction(TransactionControl::Begin) => Some(true),
                StatementKind::Transaction(TransactionControl::Commit | TransactionControl::Rollback) => Some(false),
                _ => None,
            })
            .unwrap_or(false)
    }

    /// The statement's `ALTER TABLE`, when the table existed before this migration (the case
    /// every lock and app-safety rule about ALTER TABLE is about).
    pub fn alter_of_existing_table(&self) -> Option<&'a AlterTable> {
        match self.kind() {
            StatementKind::AlterTable(at) if !self.is_new_table(&at.table) => Some(at),
            _ => None,
        }
    }

    /// Known size of an existing table (schema replay / live database), if any source knows.
    pub fn table_size(&self, table: &QualifiedName) -> Option<TableSize> {
        self.migration.schema.table_size(table)
    }

    /// The statement runs inside a transaction block, and where that transaction comes from.
    pub fn transaction(&self) -> Option<TxnOrigin> {
        self.migration.txn_before[self.index].map(|t| t.origin)
    }
    /// Both statements run in the same transaction.
    pub fn same_transaction_as(&self, other: usize) -> bool {
        match (self.migration.txn_before.get(other).copied().flatten(), self.migration.txn_before[self.index]) {
            (Some(a), Some(b)) => a.id == b.id,
            _ => false,
        }
    }
    /// The transaction state right after statement `index` (for `BEGIN` detection of what follows).
    pub fn transaction_at(&self, index: usize) -> Option<TxnOrigin> {
        self.migration.txn_before.get(index).copied().flatten().map(|t| t.origin)
    }

    /// Whether some index on `table` starts with `columns`: from this migration, or the schema
    /// view. `None` when nothing is known about the table's indexes.
    pub fn has_index_leading(&self, table: &QualifiedName, columns: &[String]) -> Option<bool> {
        let local =
            self.migration.local_indexes.get(&table.key()).is_some_and(|idxs| {
                idxs.iter().any(|idx| idx.len() >= columns.len() && idx[..columns.len()] == *columns)
            });
        if local {
            return Some(true);
        }
        if self.migration.created_tables.contains_key(&table.key()) {
            // Created in this migration: every index it has is in this file.
            return Some(false);
        }
        self.migration.schema.has_index_leading(table, columns)
    }

    /// A validated `CHECK (column IS NOT NULL)` exists on `table` before this statement: added
    /// without `NOT VALID`, or added `NOT VALID` and validated since.
    pub fn has_validated_not_null_check(&self, table: &QualifiedName, column: &str) -> bool {
        let mut pending: Vec<&str> = Vec::new();
        let stmts = &self.migration.file.statements[..self.index];
        let mut validated = false;
        for stmt in stmts {
            let StatementKind::AlterTable(at) = stmt.kind() else { continue };
            if at.table.key() != table.key() {
                continue;
            }
            for a in &at.actions {
                match &a.action {
                    AlterAction::AddConstraint(TableConstraint {
                        kind: ConstraintKind::Check { not_null_of: Some(col) },
                        not_valid,
                        name,
                        ..
                    }) if col == column => {
                        if not_valid.is_none() {
                            validated = true;
                        } else if let Some(n) = name {
                            pending.push(n.value.as_str());
                        }
                    }
                    AlterAction::ValidateConstraint { name }
                        if pending.contains(&name.value.as_str())
                            || self.not_null_check_before(table, &name.value, column) =>
                    {
                        validated = true
                    }
                    _ => {}
                }
            }
        }
        validated || self.migration.schema.has_validated_not_null_check(table, column).unwrap_or(false)
    }

    /// The schema before this migration has the check `name` on `table`, and it is exactly
    /// `CHECK (column IS NOT NULL)` (added `NOT VALID` by an earlier migration, validated here).
    fn not_null_check_before(&self, table: &QualifiedName, name: &str, column: &str) -> bool {
        self.migration.schema.table(table).is_some_and(|t| {
            t.constraints.iter().any(|c| {
                c.name == name && matches!(&c.kind, ConstraintType::Check { not_null_of: Some(col) } if col == column)
            })
        })
    }

    /// The table is a lookup table the migrations seeded: an earlier migration of the set created
    /// it and only `INSERT … VALUES` filled it (see [`Rows::Seeded`]), with this migration's
    /// earlier INSERTs counted, at least one row and at most [`FEW_SEED_ROWS`] in all. `false` when
    /// nothing replayed it (a baseline table, a file checked on its own).
    pub fn only_seeded(&self, table: &QualifiedName) -> bool {
        let Some(Rows::Seeded(mut rows)) = self.migration.schema.table(table).map(|t| t.rows) else { return false };
        for stmt in &self.migration.file.statements[..self.index] {
            if let StatementKind::Insert(ins) = stmt.kind() {
                if ins.table.key() == table.key() {
                    match ins.rows {
                        Some(n) => rows += n,
                        None => return false,
                    }
                }
            }
        }
        // A table no migration put rows in is the application's: it fills it at run time.
        (1..=FEW_SEED_ROWS).contains(&rows)
    }

    /// A `SET [LOCAL] lock_timeout` ran before this statement in this migration.
    pub fn lock_timeout_set(&self) -> bool {
        self.earlier().any(|(_, s)| matches!(s.kind(), StatementKind::Set(p) if p.name == "lock_timeout"))
    }

    /// The typed columns this statement defines (`CREATE TABLE` columns, `ADD COLUMN`), leaving
    /// out the bookkeeping tables of migration frameworks, whose types users cannot choose.
    pub fn defined_columns(&self) -> Vec<DefinedColumn<'a>> {
        let (table, columns): (&'a QualifiedName, Vec<&'a ColumnDef>) = match self.kind() {
            StatementKind::CreateTable(ct) => (&ct.name, ct.columns.iter().collect()),
            StatementKind::AlterTable(at) => (
                &at.table,
                at.actions
                    .iter()
                    .filter_map(|a| match &a.action {
                        AlterAction::AddColumn { column, .. } => Some(column),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => return Vec::new(),
        };
        if is_framework_ledger(table) {
            return Vec::new();
        }
        columns
            .into_iter()
            .filter_map(|column| Some(DefinedColumn { table, column, ty: column.ty.as_ref()? }))
            .collect()
    }

    pub(crate) fn run(&self, rule: &super::Rule) -> Vec<super::Finding> {
        let mut emitter = Emitter::new(rule, self.index, self.stmt.range.clone());
        (rule.check)(self, &mut emitter);
        emitter.out
    }
}
