//! Schema replay: the schema as it stands before each migration of a set, folded from the
//! statements of every earlier migration, with where each object comes from.
//!
//! - [`Schema`] is a persistent value (`im` maps of `Arc`ed objects): keeping a snapshot before
//!   every migration costs O(1), and one statement's effects cost O(log n) per object it touches
//!   (a table's columns are a persistent map too). It holds tables (columns with type, nullability and default; constraints
//!   with kind, columns and whether they are validated; their indexes), indexes by name, views,
//!   sequences and types (enum labels), each with its [`History`]: the statement that created it
//!   and those that altered it since ("created by 0003_x.sql:2 · altered by 0010_y.sql:5").
//! - [`Schema::apply`] folds one statement and returns the [`ReplayEvent`]s it causes: what the
//!   statement tries that conflicts with the schema (an object that already exists, one that does
//!   not), with the statement-relative span of the name at fault. A creation that conflicts
//!   changes nothing; otherwise the statement is applied as its author meant it, so one mistake
//!   is reported once. The DDL inside `DO` blocks is applied too (not reported).
//! - [`replay`] runs a whole migration set ([`ReplayInput`]s in runner order, Up sections only)
//!   and returns a [`Replay`]: `before(i)` for the rules of migration `i` (an Up file, or a file
//!   with both Up and Down sections), `after(i)` for a separate Down file, the final schema, the
//!   events per migration and the [`Baseline`] estimate.
//! - Names are keyed like [`QualifiedName::key`] (`public.users` and `users` agree); MySQL and
//!   SQLite names also fold case. A table referenced before anything created it is adopted as a
//!   *baseline* table (no creating statement, columns unknown), so each missing table is
//!   reported once and everything after it still replays. Objects in a schema the set never
//!   creates anything in (`auth.users` of Supabase, extensions) are assumed to exist.
//!
//! `Schema` implements [`SchemaView`](crate::rules::SchemaView): it is what rules see as "the
//! schema before this migration". Replay is pure and synchronous: no IO, no LSP types.

mod apply;
pub(crate) use apply::copy_into;
mod names;
mod replay;

use std::fmt;
use std::hash::BuildHasherDefault;
use std::path::Path;
use std::sync::Arc;

use rustc_hash::FxHasher;

use crate::rules::context::{SchemaView, TableSize};
use crate::sql::facts::{QualifiedName, Span, TypeName, Volatility};
use crate::sql::Dialect;

pub use replay::{replay, replay_continued, replay_file, replay_onto, FileEvents, Replay, ReplayInput, StatementEvent};

type Hasher = BuildHasherDefault<FxHasher>;

/// A persistent map by name. Keys are shared strings: a write to a map that a snapshot still holds
/// copies the nodes on its path (that is how `im` shares the rest), and copying a node then
/// clones pointers, not strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Map<V: Clone>(im::HashMap<Arc<str>, V, Hasher>);

impl<V: Clone> Default for Map<V> {
    fn default() -> Self {
        Map(im::HashMap::default())
    }
}

impl<V: Clone> Map<V> {
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.get(key)
    }
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(k, v)| (&**k, v))
    }
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(|k| &**k)
    }
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.values()
    }
    fn insert(&mut self, key: impl Into<Arc<str>>, value: V) -> Option<V> {
        self.0.insert(key.into(), value)
    }
    /// Removes `key`, without copying the root when the key is absent (`im` makes the root
    /// unique before it looks).
    fn remove(&mut self, key: &str) -> Option<V> {
        if self.0.contains_key(key) {
            self.0.remove(key)
        } else {
            None
        }
    }
    fn retain(&mut self, keep: impl Fn(&str, &V) -> bool) {
        self.0.retain(|k, v| keep(k, v));
    }
}

/// How many rows `INSERT … VALUES` may put into a table the migrations created for it to still
/// count as seeded (a lookup table: plans, roles, statuses) rather than filled: updating it in
/// one statement is no backfill.
pub const FEW_SEED_ROWS: usize = 100;

/// A persistent set of names (see [`Map`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Set(im::HashSet<Arc<str>, Hasher>);

impl Set {
    fn contains(&self, key: &str) -> bool {
        self.0.contains(key)
    }
    fn insert(&mut self, key: impl Into<Arc<str>>) {
        self.0.insert(key.into());
    }
    fn remove(&mut self, key: &str) {
        if self.0.contains(key) {
            self.0.remove(key);
        }
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn take(&mut self) -> Vec<Arc<str>> {
        std::mem::take(&mut self.0).into_iter().collect()
    }
}

/// Where a statement is: its migration file and the 1-based line of its first keyword.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// The migration file; `None` for the file under analysis itself (a rule's own pass over it).
    pub path: Option<Arc<Path>>,
    pub line: u32,
}

impl Origin {
    pub fn new(path: Arc<Path>, line: u32) -> Self {
        Origin { path: Some(path), line }
    }
    /// A line of the file under analysis.
    pub fn here(line: u32) -> Self {
        Origin { path: None, line }
    }
    /// The file as people name a migration: its file name, with its directory when the name alone
    /// says nothing (`20230518191501_init/migration.sql`, `2014…_dumped/up.sql`).
    pub fn file_label(&self) -> Option<String> {
        let path = self.path.as_deref()?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.bytes().any(|b| b.is_ascii_digit()) {
            return Some(name);
        }
        match path.parent().and_then(Path::file_name) {
            Some(dir) => Some(format!("{}/{name}", dir.to_string_lossy())),
            None => Some(name),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.file_label() {
            Some(file) => write!(f, "{file}:{}", self.line),
            None => write!(f, "line {} of this migration", self.line),
        }
    }
}

/// Which statements made an object what it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// The statement that created it; `None` when it predates the migrations (the baseline).
    pub created: Option<Origin>,
    /// The statements that changed it since, in order, once per statement.
    pub altered: im::Vector<Origin>,
}

impl History {
    fn created_by(origin: &Origin) -> Self {
        History { created: Some(origin.clone()), altered: im::Vector::new() }
    }
    fn baseline() -> Self {
        History::default()
    }
    fn touch(&mut self, origin: &Origin) {
        if self.altered.last() != Some(origin) && self.created.as_ref() != Some(origin) {
            self.altered.push_back(origin.clone());
        }
    }
    /// "created by 0003_add_email.sql:2", or for a baseline object "exists before the first
    /// migration".
    pub fn created_phrase(&self) -> String {
        match &self.created {
            Some(o) if o.path.is_some() => format!("created by {o}"),
            Some(o) => format!("created on line {} of this migration", o.line),
            None => "it exists before the first migration safemig sees".into(),
        }
    }
}

impl fmt::Display for History {
    /// `created by 0003_x.sql:2 · altered by 0010_y.sql:5, 0012_z.sql:1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.created {
            Some(_) => f.write_str(&self.created_phrase())?,
            None => f.write_str("in the baseline (no migration creates it)")?,
        }
        const SHOWN: usize = 5;
        if !self.altered.is_empty() {
            f.write_str(" · altered by ")?;
            for (i, o) in self.altered.iter().take(SHOWN).enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{o}")?;
            }
            if self.altered.len() > SHOWN {
                write!(f, " and {} more", self.altered.len() - SHOWN)?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// `None` when the type is unknown (a baseline column).
    pub ty: Option<TypeName>,
    pub not_null: bool,
    /// The `DEFAULT` expression as written.
    pub default: Option<String>,
    /// An identity, serial or auto-increment column.
    pub generated: bool,
    pub history: History,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConstraintType {
    PrimaryKey,
    Unique,
    ForeignKey {
        /// The referenced table's key.
        table: String,
        columns: Vec<String>,
    },
    Check {
        /// Set when the check is exactly `column IS NOT NULL`.
        not_null_of: Option<String>,
    },
    Exclude,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    pub name: String,
    pub kind: ConstraintType,
    /// The constrained columns (for a foreign key, the referencing ones).
    pub columns: Vec<String>,
    /// Added without `NOT VALID`, or validated since.
    pub validated: bool,
    pub history: History,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub name: String,
    /// The key of the table (or materialized view) it is on.
    pub table: String,
    /// Key columns in order; an expression key as its text.
    pub columns: Vec<String>,
    pub unique: bool,
    pub partial: bool,
    /// Backs the `UNIQUE` / `PRIMARY KEY` constraint of the same name.
    pub constraint: bool,
    pub history: History,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The table's key (see [`QualifiedName::key`]).
    pub name: String,
    /// Columns by ordinal (definition order), and ordinals by name: a lookup or change is
    /// O(log n) however wide the table grows.
    columns: im::OrdMap<u32, Arc<Column>>,
    column_ids: Map<u32>,
    next_column: u32,
    pub constraints: im::Vector<Constraint>,
    /// Keys of its indexes in [`Schema::index`] (including those backing constraints).
    pub indexes: im::Vector<String>,
    /// Every column is known: the table was created with a column list in a replayed migration.
    /// `false` for baseline tables and `CREATE TABLE … AS / LIKE / PARTITION OF / INHERITS`.
    pub columns_known: bool,
    pub temporary: bool,
    /// Columns dropped or renamed away since, by name: why a later reference fails.
    pub gone_columns: Map<Gone>,
    /// Its triggers by name (trigger names are per table).
    triggers: Map<History>,
    /// What the migrations put in it, as far as the replay knows.
    pub rows: Rows,
    pub history: History,
}

/// The rows of a table, as far as the replay knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// Created by the set, and only `INSERT … VALUES` filled it: this many rows at most.
    Seeded(usize),
    /// Any number: it predates the set (baseline), was built from a query, or got rows from
    /// `INSERT … SELECT`, `COPY` or more than [`FEW_SEED_ROWS`] listed ones.
    Filled,
}

impl Table {
    fn new(name: String, columns_known: bool, temporary: bool, history: History) -> Self {
        Table {
            name,
            columns: im::OrdMap::new(),
            column_ids: Map::default(),
            next_column: 0,
            constraints: im::Vector::new(),
            indexes: im::Vector::new(),
            columns_known,
            temporary,
            gone_columns: Map::default(),
            triggers: Map::default(),
            rows: Rows::Filled,
            history,
        }
    }
    /// The names of its triggers.
    pub fn triggers(&self) -> impl Iterator<Item = &str> {
        self.triggers.keys()
    }
    /// The columns in definition order.
    pub fn columns(&self) -> impl Iterator<Item = &Column> {
        self.columns.values().map(|c| &**c)
    }
    pub fn column_count(&self) -> usize {
        self.columns.len()
    }
    /// A column by its (case-folded where the dialect folds) name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.get(self.column_ids.get(name)?).map(|c| &**c)
    }
    fn column_id(&self, name: &str) -> Option<u32> {
        self.column_ids.get(name).copied()
    }
    fn push_column(&mut self, column: Column) -> u32 {
        let id = self.next_column;
        self.next_column += 1;
        if let Some(old) = self.column_ids.insert(column.name.clone(), id) {
            // A duplicate definition replaces the first one.
            self.columns.remove(&old);
        }
        self.columns.insert(id, Arc::new(column));
        id
    }
    fn remove_column(&mut self, name: &str) -> Option<Arc<Column>> {
        let id = self.column_ids.remove(name)?;
        self.columns.remove(&id)
    }
    /// Changes a column; a changed name is re-keyed.
    fn update_column(&mut self, id: u32, change: impl FnOnce(&mut Column)) {
        let Some(mut column) = self.columns.get(&id).map(|c| (**c).clone()) else { return };
        let old = column.name.clone();
        change(&mut column);
        if column.name != old {
            self.column_ids.remove(&old);
            if let Some(clash) = self.column_ids.insert(column.name.clone(), id) {
                self.columns.remove(&clash);
            }
        }
        self.columns.insert(id, Arc::new(column));
    }
    pub fn constraint(&self, name: &str) -> Option<&Constraint> {
        self.constraints.iter().find(|c| c.name == name)
    }
    pub fn primary_key(&self) -> Option<&Constraint> {
        self.constraints.iter().find(|c| c.kind == ConstraintType::PrimaryKey)
    }
    /// A created table, not one adopted from the baseline.
    pub fn is_from_baseline(&self) -> bool {
        self.history.created.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub name: String,
    pub materialized: bool,
    /// Keys of the indexes on a materialized view.
    pub indexes: im::Vector<String>,
    /// Keys of the relations its query reads: a `DROP … CASCADE` of any of them drops it.
    pub reads: im::Vector<String>,
    pub history: History,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    pub name: String,
    /// The table whose serial or identity column made it (or `OWNED BY` names).
    pub owned_by: Option<String>,
    /// The owning column: dropping it drops the sequence.
    pub owned_column: Option<String>,
    pub history: History,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDef {
    pub name: String,
    /// An enum's labels in order; `None` for composite, range and domain types.
    pub labels: Option<im::Vector<String>>,
    /// The statement that added each label added by `ALTER TYPE … ADD VALUE`.
    pub added_labels: Map<Origin>,
    pub history: History,
}

/// A user function (or procedure) as the migrations define it. Overloads share one entry: the
/// last definition of the name wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub name: String,
    /// `IMMUTABLE`, `STABLE` or `VOLATILE`; `None` when its definition says none (PostgreSQL then
    /// makes it volatile).
    pub declared: Option<Volatility>,
    pub history: History,
}

impl Function {
    pub fn volatility(&self) -> Volatility {
        self.declared.unwrap_or(Volatility::Volatile)
    }
}

/// An extension `CREATE EXTENSION` installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    pub name: String,
    /// `WITH SCHEMA s`.
    pub schema: Option<String>,
    pub history: History,
}

/// Why a name that once existed is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gone {
    Dropped {
        by: Origin,
    },
    Renamed {
        to: String,
        by: Origin,
    },
    /// `ALTER TABLE … SET SCHEMA`.
    Moved {
        by: Origin,
    },
}

/// How much of the schema before the first migration safemig knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Baseline {
    /// Nothing was replayed: a file checked on its own. Tables it does not create are assumed to
    /// exist.
    #[default]
    Unseen,
    /// The set was replayed from its first migration and creates every table it uses.
    Empty,
    /// The set uses `missing` tables that no migration creates (or its first migration alters
    /// tables nobody created): it starts from a schema safemig cannot see.
    Unknown { missing: usize },
}

/// A schema object a [`ReplayEvent`] is about, by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectRef {
    Table(String),
    View(String),
    Column { table: String, column: String },
    Index(String),
    Constraint { table: String, name: String },
    PrimaryKey { table: String },
    Sequence(String),
    Type(String),
    EnumValue { ty: String, label: String },
    Schema(String),
    Trigger { table: String, name: String },
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectRef::Table(t) => write!(f, "table {t}"),
            ObjectRef::View(v) => write!(f, "view {v}"),
            ObjectRef::Column { table, column } => write!(f, "column {table}.{column}"),
            ObjectRef::Index(i) => write!(f, "index {i}"),
            ObjectRef::Constraint { table, name } => write!(f, "constraint {name} on {table}"),
            ObjectRef::PrimaryKey { table } => write!(f, "a primary key on {table}"),
            ObjectRef::Sequence(s) => write!(f, "sequence {s}"),
            ObjectRef::Type(t) => write!(f, "type {t}"),
            ObjectRef::EnumValue { ty, label } => write!(f, "value '{label}' of enum {ty}"),
            ObjectRef::Schema(s) => write!(f, "schema {s}"),
            ObjectRef::Trigger { table, name } => write!(f, "trigger {name} on {table}"),
        }
    }
}

/// Why a referenced object is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// No migration creates it.
    NeverCreated,
    /// A column the table (created with a full column list) never had; the closest name it has.
    NotInTable { table: History, closest: Option<String> },
    /// It existed, and a statement since dropped, renamed or moved it.
    Gone(Gone),
}

/// What a statement tried that conflicts with the schema before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayEvent {
    /// Creating something that exists (and nothing dropped since): fails on deploy.
    AlreadyExists {
        object: ObjectRef,
        /// Statement-relative span of the name (or clause) at fault.
        span: Span,
        existing: History,
        /// The clause that makes the statement a no-op instead (`IF NOT EXISTS`, `OR REPLACE`), when
        /// the statement has one.
        guard: Option<&'static str>,
    },
    /// Altering, dropping, indexing or referencing something that does not exist.
    DoesNotExist { object: ObjectRef, span: Span, missing: Missing },
}

impl ReplayEvent {
    pub fn span(&self) -> Span {
        match self {
            ReplayEvent::AlreadyExists { span, .. } | ReplayEvent::DoesNotExist { span, .. } => *span,
        }
    }
}

/// The schema at one point of a migration set. Cloning is O(1).
#[derive(Debug, Clone, Default)]
pub struct Schema {
    dialect: Dialect,
    baseline: Baseline,
    tables: Map<Arc<Table>>,
    views: Map<Arc<View>>,
    sequences: Map<Arc<Sequence>>,
    types: Map<Arc<TypeDef>>,
    indexes: Map<Arc<Index>>,
    /// User functions by key (overloads share one).
    functions: Map<Arc<Function>>,
    /// Extensions by name (extension names are per database, not per schema).
    extensions: Map<Arc<Extension>>,
    /// Tables and views dropped, renamed or moved away, by their old key.
    gone: Map<Gone>,
    /// Non-`public` schemas the set creates (or creates objects in): names in other schemas
    /// belong to someone else (Supabase's `auth`, extensions) and are assumed to exist.
    schemas: Set,
    /// Keys of the temporary tables this migration made (they end with it).
    temporary: Set,
}

impl Schema {
    /// An empty schema for `dialect`, before any migration ([`Baseline::Unseen`] until a replay
    /// estimates it).
    pub fn new(dialect: Dialect) -> Self {
        Schema { dialect, ..Default::default() }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }
    pub fn baseline(&self) -> Baseline {
        self.baseline
    }
    pub fn set_baseline(&mut self, baseline: Baseline) {
        self.baseline = baseline;
    }

    /// The key a name is matched by: [`QualifiedName::key`], case-folded where the dialect
    /// ignores case.
    pub fn key(&self, name: &QualifiedName) -> String {
        self.fold(name.key())
    }
    fn fold(&self, s: String) -> String {
        match self.dialect {
            Dialect::Postgres => s,
            Dialect::Mysql | Dialect::Sqlite => s.to_lowercase(),
        }
    }

    pub fn table(&self, name: &QualifiedName) -> Option<&Table> {
        self.table_by_key(&self.key(name))
    }
    pub fn table_by_key(&self, key: &str) -> Option<&Table> {
        self.tables.get(key).map(|t| &**t)
    }
    pub fn view(&self, name: &QualifiedName) -> Option<&View> {
        self.views.get(&self.key(name)).map(|v| &**v)
    }
    pub fn sequence(&self, name: &QualifiedName) -> Option<&Sequence> {
        self.sequences.get(&self.key(name)).map(|s| &**s)
    }
    pub fn type_def(&self, name: &QualifiedName) -> Option<&TypeDef> {
        self.types.get(&self.key(name)).map(|t| &**t)
    }
    /// The function a call to `name` reaches: by its key when the call names a schema, else the
    /// one in `public`, else one of that name in any schema (the search path may hold it); of
    /// several, the most volatile.
    pub fn function(&self, name: &QualifiedName) -> Option<&Function> {
        let key = self.key(name);
        if let Some(f) = self.functions.get(&key) {
            return Some(f);
        }
        if name.schema().is_some() {
            return None;
        }
        let suffix = format!(".{key}");
        self.functions.iter().filter(|(k, _)| k.ends_with(&suffix)).map(|(_, f)| &**f).max_by_key(|f| f.volatility())
    }
    pub fn functions(&self) -> impl Iterator<Item = &Function> {
        self.functions.values().map(|f| &**f)
    }
    /// The extension `CREATE EXTENSION name` installed (and nothing dropped since).
    pub fn extension(&self, name: &str) -> Option<&Extension> {
        self.extensions.get(name).map(|e| &**e)
    }
    /// An index by its key (its name, qualified by its table's schema unless `public`).
    pub fn index(&self, key: &str) -> Option<&Index> {
        self.indexes.get(key).map(|i| &**i)
    }
    pub fn indexes_of<'s>(&'s self, table: &'s Table) -> impl Iterator<Item = &'s Index> + 's {
        table.indexes.iter().filter_map(|k| self.index(k))
    }
    /// The column and its table.
    pub fn column(&self, table: &QualifiedName, column: &str) -> Option<(&Table, &Column)> {
        let t = self.table(table)?;
        Some((t, t.column(&self.fold(column.to_string()))?))
    }
    /// Why a table or view that once existed under this name is gone.
    pub fn gone(&self, name: &QualifiedName) -> Option<&Gone> {
        self.gone.get(&self.key(name))
    }

    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.tables.values().map(|t| &**t)
    }
    pub fn views(&self) -> impl Iterator<Item = &View> {
        self.views.values().map(|v| &**v)
    }
    pub fn sequences(&self) -> impl Iterator<Item = &Sequence> {
        self.sequences.values().map(|s| &**s)
    }
    pub fn types(&self) -> impl Iterator<Item = &TypeDef> {
        self.types.values().map(|t| &**t)
    }
    pub fn indexes(&self) -> impl Iterator<Item = &Index> {
        self.indexes.values().map(|i| &**i)
    }

    /// Whether the migrations manage the schema `name` lives in: `public`, or one they create
    /// something in.
    pub fn manages(&self, name: &QualifiedName) -> bool {
        // A template placeholder (`{{ index .Options "Namespace" }}.users`) is not a name yet.
        if name.parts.iter().any(|p| p.value.contains("{{") || p.value.contains("}}")) {
            return false;
        }
        match name.schema() {
            None => true,
            Some(s) => s == "public" || self.schemas.contains(&self.fold(s.to_string())),
        }
    }

    /// Whether a table (or view) exists here: `Some(false)` only when the replay knows every
    /// table of the schema the name is in.
    pub fn has_table(&self, name: &QualifiedName) -> Option<bool> {
        let key = self.key(name);
        if self.tables.contains_key(&key) || self.views.contains_key(&key) {
            return Some(true);
        }
        (self.baseline == Baseline::Empty && self.manages(name)).then_some(false)
    }
}

impl SchemaView for Schema {
    fn table_size(&self, _table: &QualifiedName) -> Option<TableSize> {
        None
    }

    fn column_type(&self, table: &QualifiedName, column: &str) -> Option<TypeName> {
        self.column(table, column)?.1.ty.clone()
    }

    fn has_index_leading(&self, table: &QualifiedName, columns: &[String]) -> Option<bool> {
        let t = self.table(table)?;
        let leads = |cols: &[String]| cols.len() >= columns.len() && cols[..columns.len()] == *columns;
        let found = self.indexes_of(t).any(|i| !i.partial && leads(&i.columns))
            || t.constraints
                .iter()
                .any(|c| matches!(c.kind, ConstraintType::PrimaryKey | ConstraintType::Unique) && leads(&c.columns));
        // A baseline table may have indexes nobody replayed.
        (found || !t.is_from_baseline()).then_some(found)
    }

    fn has_validated_not_null_check(&self, table: &QualifiedName, column: &str) -> Option<bool> {
        let t = self.table(table)?;
        let found = t.constraints.iter().any(|c| {
            c.validated && matches!(&c.kind, ConstraintType::Check { not_null_of: Some(col) } if col == column)
        });
        (found || !t.is_from_baseline()).then_some(found)
    }

    fn replayed(&self) -> Option<&Schema> {
        Some(self)
    }
}

#[cfg(test)]
mod tests;
