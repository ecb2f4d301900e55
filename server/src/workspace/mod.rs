//! Migration sets: which directories hold migrations, for which framework, in which order, with
//! which up/down parts and which transaction behaviour. Framework knowledge (layout, version key,
//! transaction wrapping, opt-out comments, what the runner does with an out-of-order file) lives in
//! one module per framework under `frameworks/`, never in rules.
//!
//! Pure file-system reading: no git, no database, no LSP types.

pub mod frameworks;

use std::cmp::Ordering;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::sql::Dialect;

/// The migration tools safemig knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum FrameworkKind {
    Prisma,
    Drizzle,
    Supabase,
    Flyway,
    GolangMigrate,
    Goose,
    Dbmate,
    Sqlx,
    Diesel,
    Atlas,
    NodePgMigrate,
    /// A directory of numbered `*.sql` files with no known tool.
    Plain,
}

impl FrameworkKind {
    pub const ALL: &'static [FrameworkKind] = &[
        FrameworkKind::Prisma,
        FrameworkKind::Drizzle,
        FrameworkKind::Supabase,
        FrameworkKind::Flyway,
        FrameworkKind::GolangMigrate,
        FrameworkKind::Goose,
        FrameworkKind::Dbmate,
        FrameworkKind::Sqlx,
        FrameworkKind::Diesel,
        FrameworkKind::Atlas,
        FrameworkKind::NodePgMigrate,
        FrameworkKind::Plain,
    ];

    /// The name used in `safemig.toml` and messages (`golang-migrate`, `prisma`, …).
    pub fn name(self) -> &'static str {
        match self {
            FrameworkKind::Prisma => "prisma",
            FrameworkKind::Drizzle => "drizzle",
            FrameworkKind::Supabase => "supabase",
            FrameworkKind::Flyway => "flyway",
            FrameworkKind::GolangMigrate => "golang-migrate",
            FrameworkKind::Goose => "goose",
            FrameworkKind::Dbmate => "dbmate",
            FrameworkKind::Sqlx => "sqlx",
            FrameworkKind::Diesel => "diesel",
            FrameworkKind::Atlas => "atlas",
            FrameworkKind::NodePgMigrate => "node-pg-migrate",
            FrameworkKind::Plain => "plain",
        }
    }

    pub fn parse_name(s: &str) -> Option<FrameworkKind> {
        FrameworkKind::ALL.iter().copied().find(|k| k.name().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for FrameworkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A migration's version key, ordered the way its runner orders migrations.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum VersionKey {
    /// Dotted numeric parts compared numerically (Flyway `1_10` → [1, 10]; timestamps → [n]).
    Numeric(Vec<u128>),
    /// Compared as text (Prisma directory names, Supabase versions as text).
    Text(String),
}

impl VersionKey {
    /// The key as the user wrote it, for messages.
    pub fn display(&self) -> String {
        match self {
            VersionKey::Numeric(parts) => parts.iter().map(u128::to_string).collect::<Vec<_>>().join("."),
            VersionKey::Text(t) => t.clone(),
        }
    }
}

impl PartialOrd for VersionKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for VersionKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (VersionKey::Numeric(a), VersionKey::Numeric(b)) => a.cmp(b),
            (VersionKey::Text(a), VersionKey::Text(b)) => a.cmp(b),
            (VersionKey::Numeric(_), VersionKey::Text(_)) => Ordering::Less,
            (VersionKey::Text(_), VersionKey::Numeric(_)) => Ordering::Greater,
        }
    }
}

/// Which way a part of a migration runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
}

/// A byte range of a file that runs in one direction (goose `-- +goose Up`, dbmate
/// `-- migrate:up`), or the whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub direction: Direction,
    pub range: Range<usize>,
}

/// How the runner executes a migration with respect to transactions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TransactionMode {
    /// The runner wraps the migration in a transaction (BEGIN … COMMIT around it).
    pub wraps: bool,
    /// The runner sends the file as one query string / batch: PostgreSQL runs a multi-statement
    /// file as one implicit transaction even without BEGIN.
    pub implicit_batch: bool,
    /// The migration opted out of the runner's transaction, and how (e.g. `-- +goose NO TRANSACTION`).
    pub opted_out_by: Option<String>,
    /// How a migration of this framework opts out, for messages (e.g. "add `-- +goose NO TRANSACTION`").
    pub how_to_opt_out: Option<&'static str>,
}

/// One file that belongs to a migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFile {
    pub path: PathBuf,
    /// The parts of the file and their directions; a file that only runs up has one Up section
    /// covering it. Filled from the file's text by [`frameworks::Framework::sections`].
    pub sections: Vec<Section>,
}

/// One migration: a version and the files that carry it (one file with up/down sections, or
/// separate up and down files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: VersionKey,
    /// Human name (`add_email`), possibly empty.
    pub name: String,
    /// The file that runs up (for Diesel `up.sql`, for golang-migrate `*.up.sql`).
    pub up: Option<PathBuf>,
    /// The file that runs down, when it is a separate file.
    pub down: Option<PathBuf>,
    /// The transaction behaviour for this migration (framework default plus the file's opt-out).
    pub transaction: TransactionMode,
}

impl Migration {
    /// Every file of this migration.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.up.iter().chain(self.down.iter()).map(PathBuf::as_path)
    }
}

/// A directory of migrations run by one tool, in runner order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationSet {
    /// The directory that holds the migrations.
    pub dir: PathBuf,
    pub framework: FrameworkKind,
    pub dialect: Dialect,
    /// In the order the runner applies them.
    pub migrations: Vec<Migration>,
}

impl MigrationSet {
    /// The migration a file belongs to, and its index in runner order.
    pub fn migration_of(&self, path: &Path) -> Option<(usize, &Migration)> {
        self.migrations.iter().enumerate().find(|(_, m)| m.files().any(|f| f == path))
    }
}
