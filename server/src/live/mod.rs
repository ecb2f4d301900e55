//! Facts from a connected dev database: the catalog snapshot, the migration ledgers, and data
//! probes. Everything here is optional and arrives late: the editor reads the last snapshot and
//! never waits on the network (see ARCHITECTURE.md, "live").
//!
//! - `connect`: the connection (URL resolution, TLS, timeouts, read-only transactions, redaction);
//! - `catalog`: the catalog snapshot ([`LiveSnapshot`]);
//! - `ledger`, `checksum`: each framework's applied-migrations table and its checksums;
//!
//! The database is only ever read: every query runs in a `READ ONLY` transaction with a
//! `statement_timeout`.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// The catalog of the dev database at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveSnapshot {
    pub taken_at: Option<SystemTime>,
    /// How long loading it took.
    pub took: Duration,
    /// `SHOW server_version`, e.g. `15.19`.
    pub server_version: String,
    /// `server_version_num`, e.g. `150019`.
    pub server_version_num: u32,
    /// The current database's name.
    pub database: String,
    /// Tables, partitioned tables, views and materialized views of the user's schemas, keyed as
    /// [`crate::sql::facts::QualifiedName::key`] keys them: `name` in `public`, else
    /// `schema.name`.
    pub tables: BTreeMap<String, LiveTable>,
}

impl LiveSnapshot {
    pub fn table(&self, key: &str) -> Option<&LiveTable> {
        self.tables.get(key)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationKind {
    Table,
    PartitionedTable,
    View,
    MaterializedView,
    ForeignTable,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiveTable {
    pub key: String,
    pub schema: String,
    pub name: String,
    pub kind: RelationKind,
    /// `pg_class.reltuples`; `None` when the table was never vacuumed or analysed (-1).
    pub row_estimate: Option<f64>,
    /// `pg_total_relation_size` (heap, indexes, TOAST), in bytes.
    pub total_bytes: u64,
    /// In column order.
    pub columns: Vec<LiveColumn>,
    pub indexes: Vec<LiveIndex>,
    pub constraints: Vec<LiveConstraint>,
    pub triggers: Vec<LiveTrigger>,
    /// Foreign keys of other tables that point at this one.
    pub referenced_by: Vec<ForeignKeyRef>,
}

impl LiveTable {
    pub fn column(&self, name: &str) -> Option<&LiveColumn> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiveColumn {
    pub name: String,
    /// `format_type(atttypid, atttypmod)`, e.g. `character varying(255)`, `bigint`, `integer[]`.
    pub type_sql: String,
    pub not_null: bool,
    /// `pg_get_expr(adbin, adrelid)`, e.g. `nextval('users_id_seq'::regclass)`, `'active'::text`.
    pub default: Option<String>,
    /// `GENERATED … AS IDENTITY` (`a` always, `d` by default).
    pub identity: Option<char>,
    /// From `pg_stats`, when the table was analysed.
    pub null_frac: Option<f32>,
    pub n_distinct: Option<f32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiveIndex {
    pub name: String,
    /// `pg_get_indexdef`.
    pub definition: String,
    /// Key columns in order (an expression key as its text).
    pub columns: Vec<String>,
    pub unique: bool,
    pub primary: bool,
    /// `indisvalid`: `false` after a failed `CREATE INDEX CONCURRENTLY`.
    pub valid: bool,
    pub partial: bool,
    /// The constraint it backs, if any.
    pub constraint: Option<String>,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveConstraintKind {
    PrimaryKey,
    Unique,
    /// The referenced table's key and columns.
    ForeignKey {
        table: String,
        columns: Vec<String>,
    },
    Check,
    Exclusion,
    /// Constraint triggers and anything newer.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveConstraint {
    pub name: String,
    pub kind: LiveConstraintKind,
    /// The constrained (for a foreign key, the referencing) columns.
    pub columns: Vec<String>,
    /// `pg_get_constraintdef`.
    pub definition: String,
    /// `convalidated`: `false` for a `NOT VALID` constraint not validated yet.
    pub validated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveTrigger {
    pub name: String,
    /// `pg_get_triggerdef`.
    pub definition: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKeyRef {
    pub constraint: String,
    /// The referencing table's key.
    pub table: String,
    pub columns: Vec<String>,
}
