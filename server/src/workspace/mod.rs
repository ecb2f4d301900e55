//! Migration sets: which directories hold migrations, for which framework, in which order, with
//! which up/down parts and which transaction behaviour. Framework knowledge (layout, version key,
//! transaction wrapping, opt-out comments, what the runner does with an out-of-order file) lives in
//! one module per framework under `frameworks/`, never in rules.
//!
//! Pure file-system reading: no git, no database, no LSP types.

pub mod frameworks;
pub mod listing;

use std::cmp::Ordering;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use crate::config::Config;
use crate::sql::Dialect;
use frameworks::{detect_kind, framework};
use listing::{read_names, EcosystemContext, Listing, Subdir};

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
    /// gobuffalo pop (`soda migrate`) and ory/x popx: one file per database dialect.
    Pop,
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
        FrameworkKind::Pop,
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
            FrameworkKind::Pop => "pop",
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

/// The migration sets of a workspace and what went wrong finding them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Sorted by directory.
    pub sets: Vec<MigrationSet>,
    /// Messages for the user: unreadable directories, configured sets that do not exist, files the
    /// runner would skip or reject.
    pub problems: Vec<String>,
    /// Directories of migrations for a database safemig does not check (ClickHouse, CockroachDB):
    /// not sets, and each of their files says so instead of being read as PostgreSQL.
    pub unchecked: Vec<UncheckedSet>,
}

/// A directory of migrations for a database safemig does not check, and what says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UncheckedSet {
    pub dir: PathBuf,
    pub database: crate::sql::sniff::OtherDatabase,
    /// "the directory's name", "`ENGINE = MergeTree` on line 3 in 0001_init.sql".
    pub evidence: String,
}

/// The unchecked set a file belongs to, if any (by its path as given, or its real path).
pub fn unchecked_of<'a>(unchecked: &'a [UncheckedSet], path: &Path) -> Option<&'a UncheckedSet> {
    if unchecked.is_empty() {
        return None;
    }
    let real = || path.canonicalize().ok();
    unchecked.iter().find(|u| {
        path.starts_with(&u.dir) || real().zip(u.dir.canonicalize().ok()).is_some_and(|(p, d)| p.starts_with(d))
    })
}

/// Directory names the walk never enters (besides hidden ones).
const SKIPPED_DIRS: &[&str] = &["target", "node_modules", "vendor", "dist", "build"];

fn skipped(name: &str) -> bool {
    name.starts_with('.') || SKIPPED_DIRS.contains(&name)
}

/// One directory seen by the walk.
struct RawDir {
    path: PathBuf,
    files: Vec<String>,
    subdirs: Vec<String>,
    ecosystem: EcosystemContext,
}

/// Lists every directory under `root` once (depth first, children sorted), skipping `.git`,
/// `target`, `node_modules`, `vendor`, `dist`, `build` and hidden directories below the root.
/// Symlinked directories are not followed.
fn walk(root: &Path, problems: &mut Vec<String>) -> Vec<RawDir> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), EcosystemContext::default())];
    while let Some((dir, inherited)) = stack.pop() {
        let (files, subdirs) = match read_names(&dir) {
            Ok(names) => names,
            Err(e) => {
                problems.push(format!("cannot read directory {}: {e}", dir.display()));
                continue;
            }
        };
        let ecosystem = EcosystemContext::enter(inherited, dir.file_name().and_then(|n| n.to_str()), &files);
        for sub in subdirs.iter().rev().filter(|s| !skipped(s)) {
            stack.push((dir.join(sub), ecosystem));
        }
        out.push(RawDir { path: dir, files, subdirs, ecosystem });
    }
    out
}

/// Whether a directory could hold a migration set: `*.sql` files, a marker file, or subdirectories
/// holding `migration.sql` / `up.sql`.
fn candidate<'r>(raw: &RawDir, child_files: impl Fn(&str) -> Option<&'r [String]>) -> bool {
    raw.files.iter().any(|f| listing::is_sql(f) || f == "atlas.sum" || f == "migration_lock.toml")
        || raw.subdirs.iter().any(|s| {
            child_files(s).is_some_and(|files| {
                files.iter().any(|f| f == "migration.sql" || f == "up.sql" || f == "_journal.json")
            })
        })
}

fn files_in<'r>(raws: &'r [RawDir], index: &FxHashMap<&Path, usize>, dir: &Path) -> Option<&'r [String]> {
    index.get(dir).map(|&i| raws[i].files.as_slice())
}

/// Removes `.` components (`root/./db` → `root/db`), so set directories compare and print cleanly.
fn clean(path: &Path) -> PathBuf {
    path.components().filter(|c| !matches!(c, std::path::Component::CurDir)).collect()
}

/// Finds the migration sets under `root`.
///
/// The workspace is walked once. Each directory is matched against the frameworks, most specific
/// first ([`frameworks::DETECTION_ORDER`]), and its migrations are listed in runner order with their
/// transaction facts (files are read only where a framework's opt-out lives in the text).
/// `config.migrations` names sets explicitly: an entry's framework (else detection, else plain)
/// overrides detection for its directory, and a configured directory that does not exist becomes a
/// problem. The dialect is the entry's, else `config.dialect`, else the framework's hint, else
/// what the migrations' text says ([`set_database`]), else PostgreSQL.
pub fn discover(root: &Path, config: &Config) -> Discovery {
    let mut problems = Vec::new();
    let raws = walk(root, &mut problems);
    let index: FxHashMap<&Path, usize> = raws.iter().enumerate().map(|(i, r)| (r.path.as_path(), i)).collect();
    let files_of = |dir: &Path| files_in(&raws, &index, dir);
    let listing_of = |raw: &RawDir| {
        let subdirs = raw
            .subdirs
            .iter()
            .map(|name| Subdir {
                name: name.clone(),
                files: files_of(&raw.path.join(name)).map(<[String]>::to_vec).unwrap_or_default(),
            })
            .collect();
        Listing::new(raw.path.clone(), raw.files.clone(), subdirs, raw.ecosystem.ecosystem())
    };

    let mut sets = Vec::new();
    let mut unchecked = Vec::new();
    let mut claimed: FxHashSet<PathBuf> = FxHashSet::default();

    let real_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    for entry in &config.migrations {
        let dir = clean(&root.join(&entry.path));
        // Relative or absolute, a configured set is read only when it lies inside the workspace
        // (symlinks resolved), so the CLI, which checks the files under its paths, and the
        // language server, which publishes every set's files, read the same sets.
        if dir.canonicalize().is_ok_and(|real| !real.starts_with(&real_root)) {
            problems.push(format!(
                "safemig.toml names the migration set `{}`, but {} lies outside the workspace {}; only \
                 directories inside it are checked",
                entry.path.display(),
                dir.display(),
                root.display()
            ));
            continue;
        }
        if !dir.is_dir() {
            problems.push(format!(
                "safemig.toml names the migration set `{}`, but {} is not a directory",
                entry.path.display(),
                dir.display()
            ));
            continue;
        }
        if claimed.contains(&dir) {
            problems.push(format!(
                "safemig.toml names the migration set `{}` twice; the first entry is used",
                entry.path.display()
            ));
            continue;
        }
        let listing = match index.get(dir.as_path()) {
            Some(&i) => listing_of(&raws[i]),
            None => match Listing::read(&dir) {
                Ok(l) => l,
                Err(e) => {
                    problems.push(format!("cannot read directory {}: {e}", dir.display()));
                    continue;
                }
            },
        };
        let kind = match entry.framework.or_else(|| detect_kind(&listing)) {
            Some(kind) => kind,
            None => {
                problems.push(format!(
                    "{}: no migration framework recognised; reading it as plain numbered SQL files (set `framework` in its [[migrations]] entry)",
                    dir.display()
                ));
                FrameworkKind::Plain
            }
        };
        let (dialect, migrations) =
            match set_database(&dir, kind, &listing, entry.dialect.or(config.dialect), &mut problems) {
                Ok(set) => set,
                Err(other) => {
                    claimed.insert(dir.clone());
                    unchecked.push(other);
                    continue;
                }
            };
        if migrations.is_empty() {
            problems.push(format!("{}: no {kind} migrations found in this configured set", dir.display()));
        }
        claimed.insert(dir.clone());
        sets.push(MigrationSet { dir, framework: kind, dialect, migrations });
    }

    for raw in &raws {
        if claimed.contains(&raw.path) || !candidate(raw, |name| files_of(&raw.path.join(name))) {
            continue;
        }
        let listing = listing_of(raw);
        let Some(kind) = detect_kind(&listing) else { continue };
        let (dialect, migrations) = match set_database(&raw.path, kind, &listing, config.dialect, &mut problems) {
            Ok(set) => set,
            Err(other) => {
                unchecked.push(other);
                continue;
            }
        };
        if migrations.is_empty() {
            continue;
        }
        sets.push(MigrationSet { dir: raw.path.clone(), framework: kind, dialect, migrations });
    }

    sets.sort_by(|a, b| a.dir.cmp(&b.dir));
    Discovery { sets, problems, unchecked }
}

/// Migration files read to tell a set's database from its text, at most.
const SNIFF_FILES: usize = 64;
const SNIFF_BYTES: u64 = 512 * 1024;

/// A set's dialect and its migrations. The dialect is `explicit` (safemig.toml), else the
/// framework's hint; else, when the directory's name or the migrations' text says ClickHouse or
/// CockroachDB (databases safemig does not check), no set but an [`UncheckedSet`], and a problem
/// that says so. Else the text's markers (MySQL, SQLite), else PostgreSQL.
fn set_database(
    dir: &Path,
    kind: FrameworkKind,
    listing: &Listing,
    explicit: Option<Dialect>,
    problems: &mut Vec<String>,
) -> Result<(Dialect, Vec<Migration>), UncheckedSet> {
    use crate::sql::sniff::{OtherDatabase, Sniffed, Tally};
    let fw = framework(kind);
    if let Some(dialect) = explicit.or_else(|| {
        // A directory named for ClickHouse or CockroachDB is not PostgreSQL's, whatever a name
        // hint further down says.
        OtherDatabase::named_by(dir).is_none().then(|| fw.dialect_hint(dir)).flatten()
    }) {
        return Ok((dialect, fw.collect(listing, dialect, problems)));
    }
    // Problems are kept only for the dialect the set ends up with.
    let mut default_problems = Vec::new();
    let migrations = fw.collect(listing, Dialect::default(), &mut default_problems);
    let unchecked = |other: OtherDatabase, evidence: String, problems: &mut Vec<String>| {
        problems.push(format!(
            "{}: {} migrations ({evidence} says so): safemig checks PostgreSQL, MySQL and SQLite migrations, so this set \
             was not checked; set `dialect` in safemig.toml to check it as one of those",
            dir.display(),
            other.name()
        ));
        Err(UncheckedSet { dir: dir.to_path_buf(), database: other, evidence })
    };
    if let Some(other) = OtherDatabase::named_by(dir) {
        return unchecked(other, "the directory's name".to_string(), problems);
    }
    let mut tally = Tally::default();
    let mut first_file: Option<PathBuf> = None;
    for path in migrations.iter().flat_map(Migration::files).take(SNIFF_FILES) {
        let Ok(file) = std::fs::File::open(path) else { continue };
        let mut bytes = Vec::new();
        if std::io::Read::read_to_end(&mut std::io::Read::take(file, SNIFF_BYTES), &mut bytes).is_err() {
            continue;
        }
        let before = tally.verdict();
        tally.add(&String::from_utf8_lossy(&bytes));
        if before.is_none() && tally.verdict().is_some() {
            first_file.get_or_insert_with(|| path.to_path_buf());
        }
    }
    match tally.verdict() {
        Some(sniff) => match sniff.verdict {
            Sniffed::Other(other) => {
                let file = first_file.as_deref().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned());
                let evidence = match file {
                    Some(file) => format!("{} in {file}", sniff.describe()),
                    None => sniff.describe(),
                };
                unchecked(other, evidence, problems)
            }
            Sniffed::Dialect(dialect) => Ok((dialect, fw.collect(listing, dialect, problems))),
        },
        None => {
            problems.extend(default_problems);
            Ok((Dialect::default(), migrations))
        }
    }
}

/// Files and directories that mark a project's top directory: a repository, an environment file,
/// a language ecosystem's project file, a migration tool's configuration.
const PROJECT_MARKERS: &[&str] = &[
    ".git",
    ".env",
    "Cargo.toml",
    "go.mod",
    "package.json",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "diesel.toml",
    "flyway.conf",
    "atlas.hcl",
];

/// The directory to discover the project from when only `path` is known (a migration file, a
/// migration's directory or a set's directory, named without a `safemig.toml`): the nearest
/// directory above the set holding a [`PROJECT_MARKERS`] entry, else the set's directory. `None`
/// when `path` belongs to no migration set. A few directory listings, no walk.
pub fn project_root_of(path: &Path) -> Option<PathBuf> {
    let set = enclosing_set_dir(path)?;
    let root = set.ancestors().skip(1).find(|d| PROJECT_MARKERS.iter().any(|m| d.join(m).exists()));
    Some(root.unwrap_or(&set).to_path_buf())
}

/// The set directory that holds `path`: a migration's files sit in their set's directory or one
/// level below (Prisma, Diesel), so only the two directories above a file (a directory and the
/// one above it) are asked which framework runs them.
fn enclosing_set_dir(path: &Path) -> Option<PathBuf> {
    let path = clean(&std::path::absolute(path).ok()?);
    let is_dir = path.is_dir();
    let first = if is_dir { path.as_path() } else { path.parent()? };
    for dir in [Some(first), first.parent()].into_iter().flatten() {
        let Ok(listing) = Listing::read(dir) else { continue };
        let Some(kind) = detect_kind(&listing) else { continue };
        let migrations = framework(kind).collect(&listing, Dialect::default(), &mut Vec::new());
        let holds = migrations.iter().flat_map(Migration::files).any(|f| {
            if is_dir {
                dir == path || f.parent() == Some(path.as_path())
            } else {
                f == path
            }
        });
        if holds {
            return Some(dir.to_path_buf());
        }
    }
    None
}

/// The set a file belongs to and its migration's index in runner order. A migration's files sit in
/// its set's directory or one level below (Prisma, Diesel), so only those sets are searched; within
/// a set the file name's version key finds the migration by binary search when the set is in version
/// order, with a linear scan as the fallback.
pub fn set_of<'a>(sets: &'a [MigrationSet], path: &Path) -> Option<(&'a MigrationSet, usize)> {
    let parent = path.parent()?;
    let grandparent = parent.parent();
    sets.iter()
        .filter(|s| s.dir == parent || Some(s.dir.as_path()) == grandparent)
        .find_map(|set| index_in(set, path).map(|i| (set, i)))
}

fn index_in(set: &MigrationSet, path: &Path) -> Option<usize> {
    let holds = |m: &Migration| m.files().any(|f| f == path);
    if let Some(version) = framework(set.framework).version_of(path) {
        let start = set.migrations.partition_point(|m| m.version < version);
        let hit = set.migrations[start..].iter().take_while(|m| m.version == version).position(holds);
        if let Some(i) = hit {
            return Some(start + i);
        }
    }
    set.migrations.iter().position(holds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for file in files {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, "SELECT 1;\n").expect("write");
        }
        dir
    }

    #[test]
    fn a_path_in_a_set_finds_the_project_above_it() {
        let dir = tree(&[
            "app/Cargo.toml",
            "app/migrations/2024-01-01-000000_users/up.sql",
            "app/migrations/2024-01-01-000000_users/down.sql",
            "web/package.json",
            "web/prisma/migrations/migration_lock.toml",
            "web/prisma/migrations/20240101000000_init/migration.sql",
            "bare/db/0001_init.up.sql",
            "scratch/notes.sql",
        ]);
        let root = std::path::absolute(dir.path()).expect("absolute");
        let app = root.join("app");
        let diesel = app.join("migrations/2024-01-01-000000_users");
        // A Diesel file, its migration's directory and the set's directory all belong to the crate.
        for path in [diesel.join("up.sql"), diesel.join("down.sql"), diesel.clone(), app.join("migrations")] {
            assert_eq!(project_root_of(&path), Some(app.clone()), "{}", path.display());
        }
        let prisma = root.join("web/prisma/migrations/20240101000000_init/migration.sql");
        assert_eq!(project_root_of(&prisma), Some(root.join("web")));
        // No project file above the set: the set's own directory.
        assert_eq!(project_root_of(&root.join("bare/db/0001_init.up.sql")), Some(root.join("bare/db")));
    }

    #[test]
    fn a_path_in_no_set_has_no_project() {
        let dir = tree(&["scratch/notes.sql", "docs/readme.sql"]);
        let root = std::path::absolute(dir.path()).expect("absolute");
        assert_eq!(project_root_of(&root.join("scratch/notes.sql")), None);
        assert_eq!(project_root_of(&root.join("scratch")), None);
    }
}
