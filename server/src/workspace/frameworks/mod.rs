//! One module per framework: everything safemig knows about a migration tool (how its files are
//! laid out and ordered, how a file splits into up and down parts, how the runner uses
//! transactions and how a migration opts out, what the runner does with an out-of-order file).
//! Facts come from `shared/design/reference/frameworks.md`.

pub mod atlas;
pub mod dbmate;
pub mod diesel;
pub mod drizzle;
pub mod flyway;
pub mod golang_migrate;
pub mod goose;
pub mod naming;
pub mod node_pg_migrate;
pub mod plain;
pub mod pop;
pub mod prisma;
pub mod sqlx;
pub mod supabase;

use std::cmp::Ordering;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::listing::Listing;
use super::{Direction, FrameworkKind, Migration, MigrationSet, Section, TransactionMode, VersionKey};
use crate::sql::Dialect;

/// A migration tool.
pub trait Framework: Sync {
    fn kind(&self) -> FrameworkKind;

    /// Whether `dir` looks like a migrations directory of this framework, judged from its
    /// listing (and marker files such as `migration_lock.toml` or `atlas.sum`). Only this
    /// framework's own signals are checked: which framework wins when several match is decided by
    /// [`super::discover`] (most specific first).
    fn detect(&self, dir: &Path) -> bool {
        Listing::read(dir).is_ok_and(|l| self.detect_listing(&l))
    }

    /// The migrations in `dir`, in the order the runner applies them.
    fn migrations(&self, dir: &Path) -> Vec<Migration> {
        match Listing::read(dir) {
            Ok(listing) => self.collect(&listing, self.dialect_hint(dir).unwrap_or_default(), &mut Vec::new()),
            Err(_) => Vec::new(),
        }
    }

    /// The up and down parts of one file's text (most frameworks: the whole file runs one way).
    fn sections(&self, path: &Path, text: &str) -> Vec<Section>;

    /// How the runner executes this file on PostgreSQL: wrapped in a transaction, sent as one
    /// implicit batch, or opted out (and how a migration opts out).
    fn transaction(&self, path: &Path, text: &str) -> TransactionMode;

    /// What the runner does with a migration that sorts before one already applied, as a clause
    /// for messages ("golang-migrate never applies it: …").
    fn out_of_order(&self) -> &'static str;

    /// The runner renders each migration as a Go template before sending it (gobuffalo pop), so
    /// `{{ … }}` actions in it are no syntax errors.
    fn renders_templates(&self) -> bool {
        false
    }

    /// The dialect the directory says it uses, when it says (Prisma's `migration_lock.toml`;
    /// a directory named `mysql/`, `sqlite/`, `postgres/` or a parent named like `server-sqlite`).
    fn dialect_hint(&self, dir: &Path) -> Option<Dialect> {
        name_hint(dir)
    }

    /// [`Framework::detect`] on a listing already read.
    fn detect_listing(&self, listing: &Listing) -> bool;

    /// [`Framework::migrations`] on a listing already read, for a set of `dialect`. Files the
    /// runner would reject or skip become `problems`.
    fn collect(&self, listing: &Listing, dialect: Dialect, problems: &mut Vec<String>) -> Vec<Migration>;

    /// [`Framework::transaction`] for a set of a given dialect (golang-migrate wraps on SQLite and
    /// sends a plain batch on MySQL; sqlx does not wrap on MySQL; Flyway's detection of
    /// non-transactional statements is PostgreSQL's).
    fn transaction_in(&self, path: &Path, text: &str, dialect: Dialect) -> TransactionMode {
        let _ = dialect;
        self.transaction(path, text)
    }

    /// [`Framework::transaction_in`] with the files next to the migration (Flyway's
    /// `.sql.conf`, Diesel's `metadata.toml`) read through `read` instead of the disk: what the
    /// fix pipeline uses to see a configuration edit before it is written.
    fn transaction_with(
        &self,
        path: &Path,
        text: &str,
        dialect: Dialect,
        read: &dyn Fn(&Path) -> Option<String>,
    ) -> TransactionMode {
        let _ = read;
        self.transaction_in(path, text, dialect)
    }

    /// The version key a file of this framework carries in its name (or its directory's name),
    /// without reading the file. `None` when the name does not say (e.g. Drizzle tags without a
    /// numeric prefix).
    fn version_of(&self, path: &Path) -> Option<VersionKey> {
        let _ = path;
        None
    }

    /// How the migration file at `path` (its text `text`, written with line ending `newline`)
    /// leaves the runner's transaction, for a statement at byte `at` of it (dbmate's option
    /// belongs to the block around the statement). `read` gives the text of a file next to the
    /// migration, `None` when there is none. Quick fixes write the result.
    fn opt_out(
        &self,
        path: &Path,
        text: &str,
        at: usize,
        newline: &str,
        read: &dyn Fn(&Path) -> Option<String>,
    ) -> Result<OptOut, NoOptOut> {
        let _ = (path, text, at, newline, read);
        Err(NoOptOut::AlwaysInTransaction)
    }

    /// After its opt-out, the runner still sends the file (or block) as one query string, which
    /// PostgreSQL runs as one implicit transaction when it holds several statements (sqlx,
    /// dbmate, Diesel): a statement that refuses transaction blocks must then be alone in it.
    fn opted_out_sends_one_query(&self) -> bool {
        false
    }

    /// Byte ranges that the runner sends as one statement whatever `;` they contain (goose
    /// `StatementBegin … StatementEnd` blocks, Drizzle chunks between `--> statement-breakpoint`).
    fn statement_blocks(&self, path: &Path, text: &str) -> Vec<Range<usize>> {
        let _ = (path, text);
        Vec::new()
    }

    /// The extensions the platform installs in every database before the first migration runs
    /// (Supabase's `extensions` schema): using them needs no `CREATE EXTENSION`.
    fn preinstalled_extensions(&self) -> &'static [&'static str] {
        &[]
    }

    /// The applied-migrations table the runner keeps in the database, `None` for a runner
    /// without one (plain numbered files).
    fn ledger(&self) -> Option<LedgerSpec> {
        None
    }

    /// The key each migration of `set` has in the ledger (compared with [`LedgerSpec::key`] of
    /// the rows), and keys of migrations in the directory that are not part of the set (a
    /// node-pg-migrate JS migration), so that their rows are not "missing". By default a
    /// migration's key is its version.
    fn ledger_keys(&self, set: &MigrationSet) -> LedgerKeys {
        LedgerKeys {
            migrations: set.migrations.iter().map(|m| Some(m.version.clone())).collect(),
            elsewhere: Vec::new(),
        }
    }
}

/// A migration's way out of its runner's transaction ([`Framework::opt_out`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptOut {
    /// For titles and messages: "add `-- +goose NO TRANSACTION`".
    pub how: String,
    pub edit: OptOutEdit,
}

/// The edit that opts a migration out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptOutEdit {
    /// Replace `range` of the migration file with `text` (an empty range inserts: a header line,
    /// a directive's option).
    InFile { range: Range<usize>, text: String },
    /// Create the runner's configuration file for the migration (Flyway `<script>.sql.conf`,
    /// Diesel `metadata.toml`).
    CreateFile { path: PathBuf, text: String },
    /// Replace `range` of the existing configuration file `path`, whose text is `old`.
    EditFile { path: PathBuf, old: String, range: Range<usize>, text: String },
}

/// Why a migration cannot leave its runner's transaction by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoOptOut {
    /// No per-file opt-out, but the runner sends a file as one query string, and a file holding
    /// a single statement runs outside any transaction block: the statement needs a migration
    /// file of its own (golang-migrate, Prisma).
    OwnFile,
    /// The runner always runs a migration in a transaction (Supabase's batch with its ledger
    /// INSERT, Drizzle, node-pg-migrate SQL files), or nothing is known about it (plain files).
    AlwaysInTransaction,
}

/// The opt-out that inserts `line` at the start of the file.
pub(crate) fn header_line(how: &str, line: &str) -> OptOut {
    OptOut { how: how.to_string(), edit: OptOutEdit::InFile { range: 0..0, text: line.to_string() } }
}

/// Sets `key` to `value` in a `key=value` configuration file read as `old` (Flyway `.conf`,
/// Diesel `metadata.toml`): the value replaced in place when the key is there, else a line
/// added (`at_start`: as the first line, where TOML keeps top-level keys).
pub(crate) fn set_config_key(
    path: PathBuf,
    old: Option<String>,
    key: &str,
    line: &str,
    value: &str,
    newline: &str,
    at_start: bool,
) -> OptOutEdit {
    let Some(old) = old else {
        return OptOutEdit::CreateFile { path, text: format!("{line}{newline}") };
    };
    let mut found = None;
    for (start, text, _) in lines(&old) {
        if at_start && text.trim_start().starts_with('[') {
            // TOML: what follows a table header is not a top-level key.
            break;
        }
        let Some((k, v)) = text.split_once('=') else { continue };
        if k.trim() != key {
            continue;
        }
        // The value, without the spaces around it or a trailing comment.
        let v_start = start + k.len() + 1 + (v.len() - v.trim_start().len());
        let raw = v.trim_start();
        let v_len = raw.find('#').map_or(raw.len(), |i| i).min(raw.len());
        let v_len = raw[..v_len].trim_end().len();
        found = Some(v_start..v_start + v_len);
        break;
    }
    if let Some(range) = found {
        return OptOutEdit::EditFile { range, text: value.to_string(), path, old };
    }
    let nl = if old.contains("\r\n") { "\r\n" } else { newline };
    if at_start {
        return OptOutEdit::EditFile { range: 0..0, text: format!("{line}{nl}"), path, old };
    }
    let sep = if old.is_empty() || old.ends_with('\n') { "" } else { nl };
    let end = old.len();
    OptOutEdit::EditFile { range: end..end, text: format!("{sep}{line}{nl}"), path, old }
}

/// A framework's ledger: where it is, one query that normalises its rows, how a row matches a
/// migration, its checksum, and the commands that repair it. Read by `live::ledger`.
#[derive(Clone, Copy)]
pub struct LedgerSpec {
    /// The table as the runner names it by default: schema-qualified where the runner fixes the
    /// schema, else unqualified and resolved through the `search_path` as the runner does.
    pub table: &'static str,
    /// Columns the table must have to be this framework's ledger (a `schema_migrations` table
    /// may belong to golang-migrate, dbmate or Rails).
    pub required_columns: &'static [&'static str],
    /// Columns older versions of the table lack, with the expression used instead: the query
    /// says `{column}` where it reads one.
    pub optional_columns: &'static [(&'static str, &'static str)],
    /// A `SELECT` over `{table}` returning, in this order: version `text`, name `text`,
    /// applied_at `timestamptz`, state `text` (`applied`, `failed`, `rolled_back`,
    /// `baseline`), checksum `text`, detail (error text, logs) `text`, applied statements
    /// `bigint`, total statements `bigint`, statements `text[]` — `NULL` where the framework
    /// records nothing — one row per ledger row, in the order the runner applied them.
    pub query: &'static str,
    pub checksum: Option<ChecksumKind>,
    pub applied: AppliedBy,
    /// The key of a row (from its version and name columns), compared with the migrations'
    /// [`Framework::ledger_keys`]; `None` when the row's version cannot be read.
    pub key: fn(version: Option<&str>, name: Option<&str>) -> Option<VersionKey>,
    /// What the runner does when the stored checksum differs from the file's (version, stored,
    /// computed), as a clause for messages.
    pub on_checksum_mismatch: fn(version: &str, stored: &str, computed: &str) -> String,
    /// How to get past a migration the ledger marks failed, with the exact commands.
    pub resolve_failed: fn(&LedgerTarget<'_>) -> String,
    /// What the runner does with a ledger row no file provides, and how to fix it.
    pub resolve_missing: fn(&LedgerTarget<'_>) -> String,
    /// Which of several files that share a version a ledger row is about, and what the runner
    /// does with the others.
    pub shared_version: SharedVersion,
    /// The runner writes a row (failed, dirty, partial) when a migration fails part-way. Runners
    /// that write their row only after success (goose, dbmate, sqlx, Diesel) leave nothing behind
    /// when a migration that ran outside a transaction stops half-way.
    pub records_failures: bool,
    /// The command (or, for a runner without one, the SQL, labelled as such) that records the
    /// target's migrations as applied without running them: for a database whose schema already
    /// holds them (`baseline-needed`).
    pub baseline: fn(&BaselineTarget<'_>) -> String,
}

/// What a ledger and its runner make of two files that share a version.
#[derive(Clone, Copy)]
pub enum SharedVersion {
    /// The row's name (`description`, `name`) says which file it is about (Flyway, sqlx, Atlas,
    /// Supabase); the other file has no row: pending.
    Named(fn(row_name: &str, migration: &Migration) -> bool),
    /// The ledger records only the version (or a key no two files share) and the runner refuses
    /// to run while two files share a version (goose "duplicate version detected",
    /// golang-migrate "duplicate migration file"): at most one of them ever ran, which one the
    /// ledger cannot say. The row goes to the first in runner order; the other is pending.
    Refused,
    /// The ledger records only the version and the runner takes it as applied for every file
    /// that has it (dbmate marks each file whose version is in `schema_migrations` applied;
    /// Diesel keys its migrations by version, so the others are dropped): the row goes to the
    /// first in runner order, and the others are skipped for good, never run.
    AppliedForAll,
}

/// The migrations a baseline records as applied: the set's first ones, in runner order.
#[derive(Debug, Clone, Copy)]
pub struct BaselineTarget<'a> {
    pub dir: &'a Path,
    pub migrations: &'a [BaselineMigration<'a>],
}

impl BaselineTarget<'_> {
    /// The last migration the baseline covers.
    pub fn last(&self) -> Option<&BaselineMigration<'_>> {
        self.migrations.last()
    }
}

/// One migration of a [`BaselineTarget`].
#[derive(Debug, Clone, Copy)]
pub struct BaselineMigration<'a> {
    pub migration: &'a Migration,
    /// The key its ledger row has ([`Framework::ledger_keys`]), as the ledger stores it.
    pub ledger_version: Option<&'a VersionKey>,
    /// The text of its up file (for runners whose row holds a checksum).
    pub text: &'a str,
}

impl BaselineMigration<'_> {
    /// The version as people and commands write it (`20240101120000`, `2`, `1.1`).
    pub fn version(&self) -> String {
        self.migration.version.display()
    }
    /// The file name, or for a directory per migration (Prisma, Diesel, Drizzle folders) the
    /// directory's: how people name the migration.
    pub fn label(&self) -> String {
        let Some(up) = self.migration.up.as_deref() else { return self.version() };
        match file_name(up) {
            Some("migration.sql" | "up.sql") | None => parent_name(up).unwrap_or_default().to_string(),
            Some(name) => name.to_string(),
        }
    }
    /// The file (or, for a directory per migration, the directory) name without `.sql`.
    pub fn stem(&self) -> String {
        let Some(up) = self.migration.up.as_deref() else { return self.version() };
        let name = file_name(up).unwrap_or_default();
        match strip_sql(name) {
            Some(stem) if name != "migration.sql" && name != "up.sql" => stem.to_string(),
            _ => parent_name(up).unwrap_or(name).to_string(),
        }
    }
}

/// One line per migration, at most `max` of them, then how many more.
pub(crate) fn per_migration(
    target: &BaselineTarget<'_>,
    max: usize,
    line: impl Fn(&BaselineMigration<'_>) -> String,
) -> String {
    let mut lines: Vec<String> = target.migrations.iter().take(max).map(line).collect();
    if target.migrations.len() > max {
        lines.push(format!("… and the same for the {} migrations after it", target.migrations.len() - max));
    }
    lines.join("\n")
}

/// The baseline of a runner without a command: `insert` (`INSERT INTO t (cols)`) with one
/// `row` per migration, labelled as SQL to run by hand; `before` runs first (the table's DDL).
pub(crate) fn record_by_hand(
    tool: &str,
    target: &BaselineTarget<'_>,
    before: &str,
    insert: &str,
    row: impl Fn(&BaselineMigration<'_>) -> String,
) -> String {
    let rows: Vec<String> = target.migrations.iter().map(|m| format!("({})", row(m))).collect();
    format!(
        "{tool} has no baseline command: record the migrations by hand (SQL): {before}{insert} VALUES {};",
        rows.join(", ")
    )
}

/// The ledger query of a table whose rows are the applied versions and nothing else (dbmate's
/// `schema_migrations`, pop's `schema_migration`).
pub(crate) const VERSION_ROWS_QUERY: &str =
    "SELECT version::text, NULL::text, NULL::timestamptz, 'applied', NULL::text, \
                                             NULL::text, NULL::bigint, NULL::bigint, NULL::text[] FROM {table} ORDER \
                                             BY version";

/// [`LedgerSpec::resolve_failed`] of a runner without a repair command whose ledger row is the
/// migration's `version`: run it again, or write the row by hand.
pub(crate) fn insert_version_by_hand(tool: &str, t: &LedgerTarget<'_>) -> String {
    format!(
        "{tool} has no repair command: undo what it half-did and run it again, or record it by hand: INSERT INTO {} \
         (version) VALUES ({});",
        t.table,
        sql_literal(t.version)
    )
}

/// [`LedgerSpec::resolve_missing`] of a ledger whose row is the migration's `version`: `why` the
/// runner is stuck and what to restore, or the row deleted by hand.
pub(crate) fn delete_version_by_hand(why: &str, t: &LedgerTarget<'_>) -> String {
    format!("{why}, or delete the row by hand: DELETE FROM {} WHERE version = {};", t.table, sql_literal(t.version))
}

/// Whether a ledger's description or name column names `migration` (Flyway and sqlx store the
/// file's description with spaces for underscores; Atlas and Supabase the name part as it is).
pub(crate) fn description_names(row_name: &str, migration: &Migration) -> bool {
    let norm = |s: &str| s.trim().replace('_', " ").to_lowercase();
    norm(row_name) == norm(&migration.name)
}

impl std::fmt::Debug for LedgerSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerSpec").field("table", &self.table).field("applied", &self.applied).finish()
    }
}

/// How a migration's checksum is computed and stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumKind {
    /// SHA-256 hex of `migration.sql`, line-ending tolerant.
    Prisma,
    /// CRC32 over the lines without line breaks, a signed `int`.
    Flyway,
    /// SHA-384 of the file's bytes (`bytea`, read as hex).
    Sqlx,
    /// SHA-256 hex of the file (stored, never compared by Drizzle).
    Drizzle,
    /// The file's `atlas.sum` running hash.
    Atlas,
    /// No checksum: the statements the CLI ran (Supabase).
    Statements,
}

/// How the ledger's rows say which migrations ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppliedBy {
    /// One row per applied (or failed) migration; several rows for one migration: the last one
    /// counts.
    EachRow,
    /// A single row holding the current version: every migration up to it counts as applied
    /// (golang-migrate).
    CurrentVersion,
    /// One row per applied migration, and the runner only applies migrations newer than the
    /// newest row, so an older one without a row is skipped for good (Drizzle's journal).
    EachRowNewerOnly,
}

/// Facts for a ledger repair command.
#[derive(Debug, Clone, Copy)]
pub struct LedgerTarget<'a> {
    /// The ledger table as read (quoted and qualified as PostgreSQL prints it).
    pub table: &'a str,
    /// The migration directory.
    pub dir: &'a Path,
    /// The version as the ledger stores it (Flyway: the description of a repeatable).
    pub version: &'a str,
    pub name: &'a str,
    /// The version of the migration before it in runner order (golang-migrate `force`).
    pub previous: Option<&'a str>,
    /// How many of its statements the ledger says ran (Atlas).
    pub applied_statements: Option<i64>,
}

/// A SQL string literal.
pub fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Ledger keys of a set, see [`Framework::ledger_keys`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerKeys {
    /// One per migration of the set, in its order.
    pub migrations: Vec<Option<VersionKey>>,
    pub elsewhere: Vec<VersionKey>,
}

/// A ledger version column holding a number (`bigint` or digits).
pub(crate) fn numeric_key(version: Option<&str>) -> Option<VersionKey> {
    version.map(str::trim).and_then(numeric)
}

/// A ledger version column compared as text.
pub(crate) fn text_key(version: Option<&str>) -> Option<VersionKey> {
    version.map(|v| VersionKey::Text(v.to_string()))
}

/// The module that knows `kind`.
pub fn framework(kind: FrameworkKind) -> &'static dyn Framework {
    match kind {
        FrameworkKind::Prisma => &prisma::Prisma,
        FrameworkKind::Drizzle => &drizzle::Drizzle,
        FrameworkKind::Supabase => &supabase::Supabase,
        FrameworkKind::Flyway => &flyway::Flyway,
        FrameworkKind::GolangMigrate => &golang_migrate::GolangMigrate,
        FrameworkKind::Goose => &goose::Goose,
        FrameworkKind::Dbmate => &dbmate::Dbmate,
        FrameworkKind::Sqlx => &sqlx::Sqlx,
        FrameworkKind::Diesel => &diesel::Diesel,
        FrameworkKind::Atlas => &atlas::Atlas,
        FrameworkKind::NodePgMigrate => &node_pg_migrate::NodePgMigrate,
        FrameworkKind::Pop => &pop::Pop,
        FrameworkKind::Plain => &plain::Plain,
    }
}

/// Detection order, most specific first: marker files (`atlas.sum`, Drizzle's journal, Prisma and
/// Diesel directory layouts), then path conventions (`supabase/migrations`, Flyway's `V1__`
/// names), then file contents (goose, dbmate, node-pg-migrate markers), then pop's dialect-tagged
/// or `.fizz` names, then the ecosystem and the `.up.sql`/`.down.sql` shape (sqlx,
/// golang-migrate), and last a plain numbered directory.
pub const DETECTION_ORDER: &[FrameworkKind] = &[
    FrameworkKind::Atlas,
    FrameworkKind::Drizzle,
    FrameworkKind::Prisma,
    FrameworkKind::Diesel,
    FrameworkKind::Supabase,
    FrameworkKind::Flyway,
    FrameworkKind::Goose,
    FrameworkKind::Dbmate,
    FrameworkKind::NodePgMigrate,
    FrameworkKind::Pop,
    FrameworkKind::Sqlx,
    FrameworkKind::GolangMigrate,
    FrameworkKind::Plain,
];

/// The most specific framework whose layout `listing` matches.
pub fn detect_kind(listing: &Listing) -> Option<FrameworkKind> {
    DETECTION_ORDER.iter().copied().find(|&k| framework(k).detect_listing(listing))
}

// ---------------------------------------------------------------------------------------------
// Shared helpers for the framework modules.

/// The whole text as one section.
pub(crate) fn whole(text: &str, direction: Direction) -> Vec<Section> {
    vec![Section { direction, range: 0..text.len() }]
}

/// The direction a file runs in when its name says (`*.down.sql`, Diesel's `down.sql`).
pub(crate) fn direction_by_name(path: &Path) -> Direction {
    let name = file_name(path).unwrap_or_default().to_ascii_lowercase();
    if name == "down.sql" || name.ends_with(".down.sql") {
        Direction::Down
    } else {
        Direction::Up
    }
}

/// Lines of `text`: (start offset, line without its `\n` / `\r\n`, start of the next line).
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (usize, &str, usize)> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= text.len() {
            return None;
        }
        let start = pos;
        let rest = &text[start..];
        let (line, next) = match rest.find('\n') {
            Some(i) => (&rest[..i], start + i + 1),
            None => (rest, text.len()),
        };
        pos = next;
        Some((start, line.strip_suffix('\r').unwrap_or(line), next))
    })
}

/// Sections between marker lines. `markers` are (line start, line end incl. newline, direction)
/// in text order; each section runs from the end of its marker line to the start of the next
/// marker. Text before the first marker belongs to no section; with no marker at all the whole
/// text runs up.
pub(crate) fn sections_between(text: &str, markers: &[(usize, usize, Direction)]) -> Vec<Section> {
    if markers.is_empty() {
        return whole(text, Direction::Up);
    }
    markers
        .iter()
        .enumerate()
        .map(|(i, &(_, body_start, direction))| {
            let end = markers.get(i + 1).map_or(text.len(), |m| m.0);
            Section { direction, range: body_start..end.max(body_start) }
        })
        .collect()
}

pub(crate) fn file_name(path: &Path) -> Option<&str> {
    path.file_name().and_then(|n| n.to_str())
}

pub(crate) fn parent_name(path: &Path) -> Option<&str> {
    path.parent().and_then(Path::file_name).and_then(|n| n.to_str())
}

/// The leading ASCII digits of `s` and the rest.
pub(crate) fn leading_digits(s: &str) -> (&str, &str) {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    s.split_at(n)
}

/// `digits` as one numeric version part (`None` when empty or too large).
pub(crate) fn numeric(digits: &str) -> Option<VersionKey> {
    if digits.is_empty() {
        return None;
    }
    digits.parse::<u128>().ok().map(|n| VersionKey::Numeric(vec![n]))
}

/// Strips a `.sql` suffix of any case.
pub(crate) fn strip_sql(name: &str) -> Option<&str> {
    super::listing::is_sql(name).then(|| &name[..name.len() - 4])
}

/// A dialect named by the directory or its parent (`migrations/mysql`, `atuin-server-sqlite/migrations`).
pub fn name_hint(dir: &Path) -> Option<Dialect> {
    for component in dir.iter().rev().take(2) {
        let Some(name) = component.to_str() else { continue };
        for token in name.split(|c: char| !c.is_ascii_alphanumeric()) {
            match token.to_ascii_lowercase().as_str() {
                "postgres" | "postgresql" | "pg" | "psql" | "cockroach" | "cockroachdb" => {
                    return Some(Dialect::Postgres)
                }
                "mysql" | "mariadb" => return Some(Dialect::Mysql),
                "sqlite" | "sqlite3" => return Some(Dialect::Sqlite),
                _ => {}
            }
        }
    }
    None
}

/// Compares names with digit runs compared numerically (`m2` < `m10`).
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let db = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, nb) = (trim_zeros(&a[..da]), trim_zeros(&b[..db]));
                let ord = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[da..];
                b = &b[db..];
            }
            (Some(x), Some(y)) => {
                let ord = x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase());
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let n = digits.iter().take_while(|&&c| c == b'0').count();
    &digits[n..]
}

/// A transaction mode for a runner that wraps each migration.
pub(crate) fn wrapped(how: &'static str) -> TransactionMode {
    TransactionMode { wraps: true, implicit_batch: false, opted_out_by: None, how_to_opt_out: Some(how) }
}

/// A transaction mode for a runner that sends the whole file as one query string.
pub(crate) fn batch(how: &'static str) -> TransactionMode {
    TransactionMode { wraps: false, implicit_batch: true, opted_out_by: None, how_to_opt_out: Some(how) }
}

/// `mode`, opted out by `by`: the runner neither wraps nor batches it.
pub(crate) fn opted_out(mode: TransactionMode, by: impl Into<String>) -> TransactionMode {
    TransactionMode { wraps: false, implicit_batch: false, opted_out_by: Some(by.into()), ..mode }
}

/// One migration file found in a flat directory.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub version: VersionKey,
    pub name: String,
    pub file: String,
    pub direction: Direction,
    /// The file name without its direction suffix, to pair `x.up.sql` with `x.down.sql`.
    pub base: String,
}

/// Turns entries (already in runner order, equal versions adjacent) into migrations: within a
/// version, each up file is paired with the down file of the same base name (else the next
/// unpaired down file); down files left over become down-only migrations. `mode` gives the
/// transaction facts of the file that runs up (or of the down file when there is none).
pub(crate) fn pair(
    listing: &Listing,
    entries: Vec<Entry>,
    mut mode: impl FnMut(&Path) -> TransactionMode,
) -> Vec<Migration> {
    let mut out = Vec::with_capacity(entries.len());
    let mut i = 0;
    while i < entries.len() {
        let j = entries[i..].iter().position(|e| e.version != entries[i].version).map_or(entries.len(), |n| i + n);
        let group = &entries[i..j];
        let ups: Vec<&Entry> = group.iter().filter(|e| e.direction == Direction::Up).collect();
        let mut downs: Vec<Option<&Entry>> =
            group.iter().filter(|e| e.direction == Direction::Down).map(Some).collect();
        for up in &ups {
            let matched = downs.iter().position(|d| d.is_some_and(|d| d.base == up.base)).or_else(|| {
                if ups.len() == 1 {
                    downs.iter().position(Option::is_some)
                } else {
                    None
                }
            });
            let down = matched.and_then(|k| downs[k].take());
            let up_path = listing.path(&up.file);
            let transaction = mode(&up_path);
            out.push(Migration {
                version: up.version.clone(),
                name: up.name.clone(),
                up: Some(up_path),
                down: down.map(|d| listing.path(&d.file)),
                transaction,
            });
        }
        for down in downs.into_iter().flatten() {
            let path = listing.path(&down.file);
            let transaction = mode(&path);
            out.push(Migration {
                version: down.version.clone(),
                name: down.name.clone(),
                up: None,
                down: Some(path),
                transaction,
            });
        }
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::FrameworkKind;

    #[test]
    fn natural_order_compares_digit_runs_numerically() {
        assert_eq!(natural_cmp("m2", "m10"), Ordering::Less);
        assert_eq!(natural_cmp("a010", "a9"), Ordering::Greater);
        assert_eq!(natural_cmp("abc", "abc"), Ordering::Equal);
        assert_eq!(natural_cmp("ab", "abc"), Ordering::Less);
    }

    #[test]
    fn directory_names_hint_at_the_dialect() {
        assert_eq!(name_hint(Path::new("x/migrations/mysql")), Some(Dialect::Mysql));
        assert_eq!(name_hint(Path::new("crates/atuin-server-sqlite/migrations")), Some(Dialect::Sqlite));
        assert_eq!(name_hint(Path::new("rdbms/sqlmigration/postgres")), Some(Dialect::Postgres));
        assert_eq!(name_hint(Path::new("db/migrations")), None);
    }

    #[test]
    fn lines_carry_offsets_and_drop_line_ends() {
        let got: Vec<_> = lines("a\r\nbc\nd").collect();
        assert_eq!(got, [(0, "a", 3), (3, "bc", 6), (6, "d", 7)]);
    }

    #[test]
    fn baseline_commands_record_the_first_migrations_in_each_runner_s_own_way() {
        let migration = |version: VersionKey, name: &str, up: &str| Migration {
            version,
            name: name.to_string(),
            up: Some(PathBuf::from(up)),
            down: None,
            transaction: TransactionMode::default(),
        };
        let cases: [(FrameworkKind, Migration, &str); 12] = [
            (
                FrameworkKind::Prisma,
                migration(VersionKey::Text("0_init".into()), "init", "prisma/migrations/0_init/migration.sql"),
                "npx prisma migrate resolve --applied 0_init",
            ),
            (FrameworkKind::Flyway, migration(VersionKey::Numeric(vec![1, 1]), "init", "sql/V1_1__init.sql"), "flyway -baselineVersion=1.1 baseline"),
            (
                FrameworkKind::GolangMigrate,
                migration(VersionKey::Numeric(vec![3]), "init", "db/migrations/0003_init.up.sql"),
                "migrate -path db/migrations -database \"$DATABASE_URL\" force 3",
            ),
            (
                FrameworkKind::Goose,
                migration(VersionKey::Numeric(vec![1]), "init", "db/migrations/00001_init.sql"),
                "goose has no baseline command: `goose -dir db/migrations postgres \"$DATABASE_URL\" version` creates the \
                 goose_db_version table, then record the migrations by hand (SQL): INSERT INTO goose_db_version \
                 (version_id, is_applied) VALUES (1, true);",
            ),
            (
                FrameworkKind::Dbmate,
                migration(VersionKey::Numeric(vec![20240101000000]), "init", "db/migrations/20240101000000_init.sql"),
                "INSERT INTO schema_migrations (version) VALUES ('20240101000000');",
            ),
            (
                FrameworkKind::Sqlx,
                migration(VersionKey::Numeric(vec![20240101000000]), "create_users", "migrations/20240101000000_create_users.sql"),
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES \
                 (20240101000000, 'create users', true, decode('",
            ),
            (
                FrameworkKind::Diesel,
                migration(VersionKey::Numeric(vec![20240101000000]), "init", "migrations/2024-01-01-000000_init/up.sql"),
                "INSERT INTO __diesel_schema_migrations (version) VALUES ('20240101000000');",
            ),
            (
                FrameworkKind::Atlas,
                migration(VersionKey::Numeric(vec![20240101000000]), "init", "migrations/20240101000000_init.sql"),
                "atlas migrate set 20240101000000 --url \"$DATABASE_URL\" --dir \"file://migrations\"",
            ),
            (
                FrameworkKind::Supabase,
                migration(VersionKey::Numeric(vec![20240101000000]), "init", "supabase/migrations/20240101000000_init.sql"),
                "supabase migration repair --status applied 20240101000000",
            ),
            (
                FrameworkKind::Drizzle,
                migration(VersionKey::Numeric(vec![0]), "init", "drizzle/0000_init.sql"),
                "', 1700000000000);",
            ),
            (
                FrameworkKind::Pop,
                migration(VersionKey::Text("20240101000000".into()), "init", "migrations/20240101000000_init.postgres.up.sql"),
                "INSERT INTO schema_migration (version) VALUES ('20240101000000');",
            ),
            (
                FrameworkKind::NodePgMigrate,
                migration(VersionKey::Numeric(vec![1700000000000]), "init", "migrations/1700000000000_init.sql"),
                "npx node-pg-migrate up 1 --fake",
            ),
        ];
        for (kind, m, expected) in cases {
            let Some(spec) = framework(kind).ledger() else { panic!("{kind} keeps a ledger") };
            let dir = m.up.as_deref().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
            let dir = if kind == FrameworkKind::Prisma || kind == FrameworkKind::Diesel {
                dir.parent().map(Path::to_path_buf).unwrap_or_default()
            } else {
                dir
            };
            // Drizzle's row key is the journal entry's `when`; the others' the version.
            let when = VersionKey::Numeric(vec![1_700_000_000_000]);
            let key = if kind == FrameworkKind::Drizzle { &when } else { &m.version };
            let migrations =
                [BaselineMigration { migration: &m, ledger_version: Some(key), text: "CREATE TABLE t ();\n" }];
            let got = (spec.baseline)(&BaselineTarget { dir: &dir, migrations: &migrations });
            assert!(got.contains(expected), "{kind}: {got}");
            assert!(!got.contains("postgres://"), "{kind}: {got}");
        }
        // Prisma and Supabase name every migration; golang-migrate and Flyway only the last.
        let a = migration(VersionKey::Text("0_init".into()), "init", "p/0_init/migration.sql");
        let b = migration(VersionKey::Text("1_more".into()), "more", "p/1_more/migration.sql");
        let both = [
            BaselineMigration { migration: &a, ledger_version: None, text: "" },
            BaselineMigration { migration: &b, ledger_version: None, text: "" },
        ];
        let target = BaselineTarget { dir: Path::new("p"), migrations: &both };
        let prisma = framework(FrameworkKind::Prisma).ledger().map(|s| (s.baseline)(&target));
        assert_eq!(
            prisma.as_deref(),
            Some("npx prisma migrate resolve --applied 0_init\nnpx prisma migrate resolve --applied 1_more")
        );
    }

    #[test]
    fn every_kind_has_its_module() {
        for &kind in FrameworkKind::ALL {
            assert_eq!(framework(kind).kind(), kind);
            assert!(!framework(kind).out_of_order().is_empty());
        }
        assert_eq!(DETECTION_ORDER.len(), FrameworkKind::ALL.len());
    }
}
