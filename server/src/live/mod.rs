//! Facts from a connected dev database: the catalog snapshot, the migration ledgers, and data
//! probes. Everything here is optional and arrives late: the editor reads the last snapshot and
//! never waits on the network (see ARCHITECTURE.md, "live").
//!
//! - `connect`: the connection (URL resolution, TLS, timeouts, read-only transactions, redaction);
//! - `catalog`: the catalog snapshot ([`LiveSnapshot`]);
//! - `ledger`, `checksum`: each framework's applied-migrations table and its checksums;
//! - `drift`: where the database differs from the schema the migrations build (`schema-drift`);
//! - `effects`, `recovery`: what a failed migration already did, and the guarded migration that
//!   completes it;
//! - `probe`: read-only data probes for `existing-rows-violate`;
//! - `load`: the one way to load [`LiveFacts`] (snapshot, ledgers, probes), shared by the
//!   language server's live worker and `safemig check`;
//! - here: the snapshot types, [`LiveFacts`] (everything at one moment) and [`LiveView`].
//!
//! The database is only ever read: every query runs in a `READ ONLY` transaction with a
//! `statement_timeout`.

pub mod catalog;
pub mod checksum;
pub mod connect;
pub mod drift;
pub mod effects;
pub mod harmless;
pub mod ledger;
pub mod load;
pub mod pending;
pub mod probe;
pub mod recovery;

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
    /// Functions by key (`name` in `public`, else `schema.name`, `pg_catalog` included), with
    /// the most volatile class among a name's overloads.
    pub functions: BTreeMap<String, crate::sql::facts::Volatility>,
    /// The installed extensions (`pg_extension.extname`).
    pub extensions: std::collections::BTreeSet<String>,
}

impl LiveSnapshot {
    pub fn table(&self, key: &str) -> Option<&LiveTable> {
        self.tables.get(key)
    }

    /// The volatility of the function a call to `name` reaches: by its key when the call names a
    /// schema, else `pg_catalog`'s, `public`'s, or the most volatile of that name in any schema.
    pub fn function_volatility(
        &self,
        name: &crate::sql::facts::QualifiedName,
    ) -> Option<crate::sql::facts::Volatility> {
        let key = name.key();
        if name.schema().is_some() {
            return self.functions.get(&key).copied();
        }
        if let Some(v) = self.functions.get(&format!("pg_catalog.{key}")).or_else(|| self.functions.get(&key)) {
            return Some(*v);
        }
        let suffix = format!(".{key}");
        self.functions.iter().filter(|(k, _)| k.ends_with(&suffix)).map(|(_, v)| *v).max()
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

/// Everything the dev database told us, as one immutable value: what an analysis reads. The LSP
/// replaces it whole after each refresh (and drops it when the database goes away), so an
/// analysis never sees half a refresh.
#[derive(Debug, Clone, Default)]
pub struct LiveFacts {
    pub snapshot: std::sync::Arc<LiveSnapshot>,
    /// The ledger of each migration set that has one in this database, by the set's directory.
    pub ledgers: Vec<(std::path::PathBuf, ledger::Ledger)>,
    /// Below this many rows, lock findings drop to info (`small_table_rows`).
    pub small_table_rows: u64,
    /// Outcomes of the data probes run so far (`existing-rows-violate`), by statement text.
    pub probes: std::sync::Arc<BTreeMap<probe::ProbeKey, probe::ProbeOutcome>>,
}

impl LiveFacts {
    /// The ledger of the set in `dir`.
    pub fn ledger_of(&self, dir: &std::path::Path) -> Option<&ledger::Ledger> {
        self.ledgers.iter().find(|(d, _)| d == dir).map(|(_, l)| l)
    }

    /// The live size of a table the snapshot knows.
    pub fn table_size(&self, key: &str) -> Option<crate::rules::TableSize> {
        let table = self.snapshot.table(key)?;
        Some(crate::rules::TableSize { rows: table.row_estimate?, bytes: Some(table.total_bytes) })
    }
}

/// A replayed schema with the live database's facts on top: sizes and probe results come from
/// the database, everything else from the replay (the schema this migration starts from).
pub struct LiveView<'a> {
    pub replayed: &'a crate::schema::Schema,
    pub live: Option<&'a LiveFacts>,
}

impl crate::rules::SchemaView for LiveView<'_> {
    fn table_size(&self, table: &crate::sql::facts::QualifiedName) -> Option<crate::rules::TableSize> {
        self.live?.table_size(&table.key())
    }
    fn column_type(
        &self,
        table: &crate::sql::facts::QualifiedName,
        column: &str,
    ) -> Option<crate::sql::facts::TypeName> {
        self.replayed.column_type(table, column)
    }
    fn has_index_leading(&self, table: &crate::sql::facts::QualifiedName, columns: &[String]) -> Option<bool> {
        self.replayed.has_index_leading(table, columns)
    }
    fn has_validated_not_null_check(&self, table: &crate::sql::facts::QualifiedName, column: &str) -> Option<bool> {
        self.replayed.has_validated_not_null_check(table, column)
    }
    fn replayed(&self) -> Option<&crate::schema::Schema> {
        Some(self.replayed)
    }
    fn small_table_rows(&self) -> Option<u64> {
        self.live.map(|l| l.small_table_rows)
    }
    fn probe(&self, key: &probe::ProbeKey) -> Option<&probe::ProbeOutcome> {
        self.live?.probes.get(key)
    }
    fn is_live(&self) -> bool {
        self.live.is_some()
    }
    fn live_function_volatility(
        &self,
        name: &crate::sql::facts::QualifiedName,
    ) -> Option<crate::sql::facts::Volatility> {
        self.live?.snapshot.function_volatility(name)
    }
    fn live_has_extension(&self, name: &str) -> Option<bool> {
        Some(self.live?.snapshot.extensions.contains(name))
    }
}

/// A row count for people: `47`, `12.3k`, `8.2M`, `1.1B`.
pub fn format_count(n: f64) -> String {
    let n = n.max(0.0);
    match n {
        n if n >= 1e9 => format!("{:.1}B", n / 1e9),
        n if n >= 1e6 => format!("{:.1}M", n / 1e6),
        n if n >= 1e4 => format!("{:.1}k", n / 1e3),
        n => format!("{}", n.round() as u64),
    }
}

/// A size for people: `512 B`, `64 kB`, `3.1 GB` (powers of 1024, as `pg_size_pretty`).
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 || value >= 100.0 {
        format!("{} {}", value.round() as u64, UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod format_tests {
    use super::*;

    #[test]
    fn counts_and_sizes_read_like_psql() {
        assert_eq!(format_count(47.0), "47");
        assert_eq!(format_count(9_999.0), "9999");
        assert_eq!(format_count(12_345.0), "12.3k");
        assert_eq!(format_count(8_200_000.0), "8.2M");
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(3_328_599_654), "3.1 GB");
        assert_eq!(format_bytes(8192), "8.0 kB");
    }
}
