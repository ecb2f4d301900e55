//! What a statement does, in the terms rules and schema replay need. Built from the token stream
//! by [`super::recognize`], so a statement that sqlparser cannot read gets the same facts as one
//! it can, and every fact carries the exact range of the clause that states it.
//!
//! All [`Span`]s here are byte ranges relative to the start of the statement: facts are cached by
//! statement content and reused wherever that text appears.

use std::fmt;

/// A byte range relative to the statement start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: u32, end: u32) -> Self {
        Span { start, end: end.max(start) }
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// An identifier as PostgreSQL resolves it: unquoted names fold to lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name {
    pub value: String,
    pub quoted: bool,
    pub span: Span,
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// A possibly schema-qualified object name such as `public.users`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QualifiedName {
    /// Every dotted part; the last is the object's own name.
    pub parts: Vec<Name>,
    pub span: Span,
}

impl QualifiedName {
    /// The object's own (unqualified) name.
    pub fn name(&self) -> &str {
        self.parts.last().map(|n| n.value.as_str()).unwrap_or("")
    }
    pub fn schema(&self) -> Option<&str> {
        (self.parts.len() >= 2).then(|| self.parts[self.parts.len() - 2].value.as_str())
    }
    /// Matching key: the name without a `public` schema (so `public.users` and `users` agree).
    pub fn key(&self) -> String {
        match self.schema() {
            Some(s) if s != "public" => format!("{s}.{}", self.name()),
            _ => self.name().to_string(),
        }
    }
}

impl QualifiedName {
    /// The name as SQL that PostgreSQL reads back as the same object: each part bare where it
    /// can be, else double-quoted (`"Order"`, `public."order"`).
    pub fn sql(&self) -> String {
        self.parts.iter().map(|p| super::quote::ident(&p.value)).collect::<Vec<_>>().join(".")
    }
}

impl fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<&str> = self.parts.iter().map(|p| p.value.as_str()).collect();
        f.write_str(&parts.join("."))
    }
}

/// A data type as written, with a canonical name for comparisons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeName {
    /// Canonical lower-case name: `int4`, `int8`, `int2`, `serial4`, `serial8`, `serial2`,
    /// `varchar`, `bpchar`, `text`, `timestamp`, `timestamptz`, `time`, `timetz`, `numeric`,
    /// `json`, `jsonb`, `bool`, `float4`, `float8`, `uuid`, … or the lower-cased name as written.
    pub canonical: String,
    /// Type modifiers such as the `255` of `varchar(255)` or `10, 2` of `numeric(10,2)`.
    pub modifiers: Vec<i64>,
    pub array: bool,
    /// The type exactly as written.
    pub text: String,
    pub span: Span,
}

impl TypeName {
    pub fn is_serial(&self) -> bool {
        matches!(self.canonical.as_str(), "serial2" | "serial4" | "serial8")
    }
}

/// A `DEFAULT` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultExpr {
    pub text: String,
    /// The span of `DEFAULT <expr>`.
    pub span: Span,
    /// Calls a volatile function (`random()`, `gen_random_uuid()`, `clock_timestamp()`,
    /// `nextval(…)`, …), so adding the column rewrites every row.
    pub volatile: Option<String>,
    /// The literal `NULL`.
    pub is_null: bool,
    /// The functions it calls (a name followed by `(`, not a type's modifiers), in order: a user
    /// function here may be volatile too.
    pub calls: Vec<QualifiedName>,
}

/// A function's volatility class (`pg_proc.provolatile`). A function declared without one is
/// `Volatile`, PostgreSQL's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Volatility {
    Immutable,
    Stable,
    Volatile,
}

impl Volatility {
    pub fn keyword(self) -> &'static str {
        match self {
            Volatility::Immutable => "IMMUTABLE",
            Volatility::Stable => "STABLE",
            Volatility::Volatile => "VOLATILE",
        }
    }
    /// Its `pg_proc.provolatile` letter.
    pub fn provolatile(self) -> char {
        match self {
            Volatility::Immutable => 'i',
            Volatility::Stable => 's',
            Volatility::Volatile => 'v',
        }
    }
    /// From `pg_proc.provolatile` (`i`, `s`, `v`).
    pub fn from_provolatile(c: char) -> Option<Volatility> {
        match c {
            'i' => Some(Volatility::Immutable),
            's' => Some(Volatility::Stable),
            'v' => Some(Volatility::Volatile),
            _ => None,
        }
    }
}

/// `CREATE [OR REPLACE] FUNCTION|PROCEDURE name (…) …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateFunction {
    pub name: QualifiedName,
    pub or_replace: bool,
    /// `IMMUTABLE`, `STABLE` or `VOLATILE` as written; `None` when the statement says none
    /// (PostgreSQL then makes it volatile).
    pub volatility: Option<Volatility>,
}

/// `ALTER FUNCTION name [(…)] IMMUTABLE|STABLE|VOLATILE …` or `… RENAME TO new_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterFunction {
    pub name: QualifiedName,
    pub volatility: Option<Volatility>,
    pub rename_to: Option<Name>,
}

/// `CREATE EXTENSION [IF NOT EXISTS] name [WITH] [SCHEMA s] …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateExtension {
    pub name: Name,
    pub if_not_exists: bool,
    pub schema: Option<Name>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// `GENERATED … AS IDENTITY`.
    pub identity: bool,
    /// `GENERATED ALWAYS AS (expr) STORED`.
    pub stored: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    pub name: Name,
    pub ty: Option<TypeName>,
    pub not_null: Option<Span>,
    pub primary_key: Option<Span>,
    pub unique: Option<Span>,
    pub default: Option<DefaultExpr>,
    pub generated: Option<Generated>,
    /// Inline `REFERENCES parent (col)`.
    pub references: Option<ForeignKey>,
    /// Inline `CHECK (…)`.
    pub check: Option<Span>,
    /// From the column name to the end of its definition.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// Referencing columns (for an inline `REFERENCES` the column itself).
    pub columns: Vec<Name>,
    pub ref_table: QualifiedName,
    pub ref_columns: Vec<Name>,
    /// The `REFERENCES …` / `FOREIGN KEY …` clause.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConstraintKind {
    /// `CHECK (expr)`; `not_null_of` is set when the expression is exactly `col IS NOT NULL`.
    Check {
        not_null_of: Option<String>,
    },
    ForeignKey(ForeignKey),
    Unique {
        columns: Vec<Name>,
    },
    PrimaryKey {
        columns: Vec<Name>,
    },
    Exclude,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableConstraint {
    pub name: Option<Name>,
    pub kind: ConstraintKind,
    /// `NOT VALID`.
    pub not_valid: Option<Span>,
    /// `USING INDEX idx` (UNIQUE / PRIMARY KEY built from an existing index).
    pub using_index: Option<Name>,
    /// The names a `CHECK` expression mentions that may be columns (not functions or casts):
    /// dropping any of them drops the check.
    pub check_words: Vec<String>,
    /// `[CONSTRAINT name] CHECK|FOREIGN KEY|UNIQUE|PRIMARY KEY|EXCLUDE …` — the whole clause.
    pub span: Span,
    /// The keyword(s) naming the constraint kind, e.g. `FOREIGN KEY` or `UNIQUE`.
    pub kind_span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateTable {
    pub name: QualifiedName,
    pub if_not_exists: bool,
    pub temporary: bool,
    pub columns: Vec<ColumnDef>,
    pub constraints: Vec<TableConstraint>,
    /// `CREATE TABLE … AS SELECT` / `PARTITION OF` / `LIKE`: columns not listed.
    pub columns_implicit: bool,
    /// `CREATE TABLE … AS <query>` (without `WITH NO DATA`) or `SELECT … INTO <table>`: the
    /// table starts with the query's rows, not empty.
    pub filled_by_query: bool,
    /// Written `SELECT … INTO <table>`, which has no `IF NOT EXISTS`.
    pub select_into: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateIndex {
    pub name: Option<Name>,
    pub table: QualifiedName,
    pub unique: bool,
    pub concurrently: Option<Span>,
    pub if_not_exists: bool,
    /// `ON ONLY parent` (partitioned parent only).
    pub only: bool,
    /// Key columns in order; an expression key is kept as its text.
    pub columns: Vec<String>,
    pub partial: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropIndex {
    pub names: Vec<QualifiedName>,
    pub concurrently: Option<Span>,
    pub if_exists: bool,
    /// `CASCADE` (which `DROP INDEX CONCURRENTLY` rejects).
    pub cascade: bool,
    /// MySQL `DROP INDEX name ON table`: index names are per table there.
    pub table: Option<QualifiedName>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reindex {
    /// `INDEX`, `TABLE`, `SCHEMA`, `DATABASE` or `SYSTEM`.
    pub target: String,
    pub name: Option<QualifiedName>,
    pub concurrently: Option<Span>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlterAction {
    AddColumn {
        column: ColumnDef,
        if_not_exists: bool,
    },
    DropColumn {
        name: Name,
        if_exists: bool,
    },
    AlterColumnType {
        column: Name,
        ty: TypeName,
        using: Option<Span>,
    },
    SetNotNull {
        column: Name,
    },
    DropNotNull {
        column: Name,
    },
    SetDefault {
        column: Name,
        default: DefaultExpr,
    },
    DropDefault {
        column: Name,
    },
    AddConstraint(TableConstraint),
    ValidateConstraint {
        name: Name,
    },
    DropConstraint {
        name: Name,
        if_exists: bool,
    },
    RenameColumn {
        from: Name,
        to: Name,
    },
    RenameTable {
        to: Name,
    },
    RenameConstraint {
        from: Name,
        to: Name,
    },
    SetTablespace,
    SetSchema,
    /// Anything else (`ENABLE ROW LEVEL SECURITY`, `OWNER TO`, `SET (…)`, `ATTACH PARTITION`, …),
    /// with its leading keywords upper-cased.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterTableAction {
    pub action: AlterAction,
    /// From the action's first keyword to the end of the action.
    pub span: Span,
    /// The action's leading keywords, e.g. `ADD COLUMN` or `ALTER COLUMN … SET NOT NULL`'s
    /// `SET NOT NULL`.
    pub keyword_span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterTable {
    pub table: QualifiedName,
    pub if_exists: bool,
    pub only: bool,
    pub actions: Vec<AlterTableAction>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    Table,
    View,
    MaterializedView,
    Index,
    Sequence,
    Schema,
    Database,
    Type,
    Function,
    Trigger,
    Extension,
    Statistics,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropObjects {
    pub object: ObjectKind,
    pub names: Vec<QualifiedName>,
    pub if_exists: bool,
    pub cascade: bool,
    /// `DROP TRIGGER name ON table`: the table.
    pub on: Option<QualifiedName>,
}

/// `CREATE VIEW`, `CREATE MATERIALIZED VIEW`, `CREATE SEQUENCE`, `CREATE TYPE`, `CREATE DOMAIN`,
/// `CREATE SCHEMA` and `CREATE STATISTICS` (tables and indexes have kinds of their own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateObject {
    /// `View`, `MaterializedView`, `Sequence`, `Type` (also for a domain), `Schema` or
    /// `Statistics`.
    pub object: ObjectKind,
    pub name: QualifiedName,
    pub if_not_exists: bool,
    /// `CREATE OR REPLACE`.
    pub or_replace: bool,
    /// `CREATE TYPE … AS ENUM ('a', 'b')`: the labels in order.
    pub enum_labels: Option<Vec<String>>,
    /// `CREATE SEQUENCE … OWNED BY table.column`.
    pub owned_by: Option<QualifiedName>,
    /// The relations a view's query reads (after `FROM` and `JOIN`, in subqueries too): what it
    /// depends on.
    pub reads: Vec<QualifiedName>,
    /// `CREATE STATISTICS … FROM table`: the table.
    pub on: Option<QualifiedName>,
}

/// What an `ALTER INDEX|VIEW|MATERIALIZED VIEW|SEQUENCE|TYPE|DOMAIN` statement does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlterObjectAction {
    /// `RENAME TO new_name`.
    Rename { to: Name },
    /// `ALTER TYPE … ADD VALUE [IF NOT EXISTS] 'label' [BEFORE|AFTER …]`; `span` covers the label.
    AddValue { label: String, if_not_exists: bool, span: Span },
    /// `ALTER TYPE … RENAME VALUE 'from' TO 'to'`.
    RenameValue { from: String, to: String },
    /// `ALTER SEQUENCE … OWNED BY table.column` (`None` for `OWNED BY NONE`), possibly among
    /// other options.
    OwnedBy { owner: Option<QualifiedName> },
    /// Anything else (`OWNER TO`, `SET SCHEMA`, `RESTART`, …).
    Other,
}

/// `ALTER INDEX`, `ALTER VIEW`, `ALTER MATERIALIZED VIEW`, `ALTER SEQUENCE`, `ALTER TYPE` and
/// `ALTER DOMAIN` (`ALTER TABLE` has a kind of its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterObject {
    /// `Index`, `View`, `MaterializedView`, `Sequence`, `Type`, `Trigger` or `Statistics`.
    pub object: ObjectKind,
    pub name: QualifiedName,
    pub if_exists: bool,
    pub action: AlterObjectAction,
    /// `ALTER TRIGGER name ON table`: the table (trigger names are per table).
    pub on: Option<QualifiedName>,
}

/// `UPDATE` / `DELETE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataChange {
    pub table: QualifiedName,
    /// `WHERE …` clause, if any.
    pub where_clause: Option<Span>,
    /// The statement touches every row: no `WHERE` and no `LIMIT`, or a `WHERE` that bounds no key
    /// range or limit (`col IS NULL`, `true`, `1 = 1`, a join condition such as `t.a = o.b`).
    pub whole_table: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insert {
    pub table: QualifiedName,
    /// `INSERT … SELECT` (copies rows from a query rather than listing values).
    pub from_select: bool,
    /// How many rows `INSERT … VALUES (…), (…)` (or `DEFAULT VALUES`) lists; `None` for a query.
    pub rows: Option<usize>,
    /// The column list `(a, b)`; `None` when the statement gives every column.
    pub columns: Option<Vec<Name>>,
    /// The `ON CONFLICT` keywords, when it has that clause.
    pub on_conflict: Option<Span>,
    /// The `RETURNING` keyword, when it has that clause.
    pub returning: Option<Span>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionControl {
    /// `BEGIN` / `START TRANSACTION`.
    Begin,
    /// `COMMIT` / `END`.
    Commit,
    /// `ROLLBACK` / `ABORT` (not `ROLLBACK TO SAVEPOINT`).
    Rollback,
    Savepoint,
    ReleaseSavepoint,
    RollbackToSavepoint,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetParameter {
    /// Lower-cased parameter name, e.g. `lock_timeout`.
    pub name: String,
    pub value: String,
    pub local: bool,
}

/// What a statement does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementKind {
    CreateTable(CreateTable),
    CreateIndex(CreateIndex),
    DropIndex(DropIndex),
    Reindex(Reindex),
    AlterTable(AlterTable),
    Drop(DropObjects),
    Truncate {
        tables: Vec<QualifiedName>,
        cascade: bool,
    },
    Update(DataChange),
    Delete(DataChange),
    Insert(Insert),
    Transaction(TransactionControl),
    Set(SetParameter),
    Vacuum {
        full: bool,
        tables: Vec<QualifiedName>,
    },
    Cluster {
        table: Option<QualifiedName>,
    },
    RefreshMaterializedView {
        name: QualifiedName,
        concurrently: bool,
    },
    CreateTrigger {
        table: Option<QualifiedName>,
        name: Option<Name>,
        or_replace: bool,
    },
    CreateObject(CreateObject),
    AlterObject(AlterObject),
    CreateFunction(CreateFunction),
    /// Only when it changes the volatility or the name (else `Other`).
    AlterFunction(AlterFunction),
    CreateExtension(CreateExtension),
    /// Recognised but not modelled further (`DO`, `COMMENT ON`, `GRANT`, …).
    Other,
    /// No statement (only comments).
    Empty,
}

/// The facts about one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementFacts {
    pub kind: StatementKind,
    /// Upper-cased command label for outlines and messages, e.g. `CREATE INDEX`, `ALTER TABLE`,
    /// `DROP INDEX`, `DO`.
    pub label: String,
    /// The statement's leading keywords (`CREATE UNIQUE INDEX`, `ALTER TABLE`, …).
    pub head: Span,
    /// Every identifier that names an object or column, for `identifier-too-long`.
    pub identifiers: Vec<Name>,
    /// Set when the statement is a `DO` block that runs one statement only `IF <condition>`
    /// (`DO $$ BEGIN IF NOT EXISTS (…) THEN ALTER TABLE …; END IF; END $$`, how recovery
    /// migrations guard what has no `IF NOT EXISTS`): the facts above are that statement's, with
    /// spans into the block, and this is the condition's span. The condition guards the
    /// conflicts, so the replay reports none for it.
    pub guard: Option<Span>,
}
