//! The fix invariants, as properties over generated projects: random migrations in eight
//! frameworks' layouts, a random cut point up to which they shipped (pushed to `origin/main`),
//! for goose, golang-migrate and dbmate a random cut point up to which a real PostgreSQL database
//! applied them (its ledger says so), sometimes two migrations with one version, then
//! `safemig check --fix` (safe or `--unsafe`) as a user runs it:
//!
//! 1. every shipped or applied migration is byte for byte what it was, at the same path;
//! 2. no rule fires more often afterwards, and when anything was written, fewer findings remain
//!    (each applied fix removed its own finding and added none);
//! 3. a second `check --fix` changes nothing: the first one reached a fixed point.
//!
//! `PROPTEST_CASES` sets the number of projects (default 48); a failure is shrunk to a minimal
//! project and printed with its files and the fix log.

#[path = "../../tests/support/git.rs"]
mod git;
#[path = "../../tests/support/pg.rs"]
mod pg;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use git::Repo;
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestCaseError, TestRunner};

const BIN: &str = env!("CARGO_BIN_EXE_safemig");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Plain,
    Goose,
    GolangMigrate,
    Dbmate,
    Flyway,
    Prisma,
    Sqlx,
    Diesel,
}

impl Layout {
    const ALL: [Layout; 8] = [
        Layout::Plain,
        Layout::Goose,
        Layout::GolangMigrate,
        Layout::Dbmate,
        Layout::Flyway,
        Layout::Prisma,
        Layout::Sqlx,
        Layout::Diesel,
    ];

    /// Whether the test records applied migrations in this runner's ledger on PostgreSQL.
    fn has_ledger(self) -> bool {
        matches!(self, Layout::Goose | Layout::GolangMigrate | Layout::Dbmate)
    }

    /// Files that tell the framework, besides the migrations.
    fn markers(self) -> Vec<(String, String)> {
        let f = |p: &str, t: &str| (p.to_string(), t.to_string());
        match self {
            Layout::Plain => vec![],
            Layout::Goose | Layout::GolangMigrate => vec![f("go.mod", "module example.com/app\n\ngo 1.22\n")],
            Layout::Dbmate => vec![f("db/schema.sql", "-- dbmate's dump\n")],
            Layout::Flyway => vec![f("pom.xml", "<project><artifactId>app</artifactId></project>\n")],
            Layout::Prisma => vec![
                f("package.json", "{\"name\":\"app\"}\n"),
                f(
                    "prisma/schema.prisma",
                    "datasource db {\n  provider = \"postgresql\"\n  url = env(\"DATABASE_URL\")\n}\n",
                ),
                f("prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n"),
            ],
            Layout::Sqlx => vec![f("Cargo.toml", "[package]\nname = \"app\"\n[dependencies]\nsqlx = \"0.8\"\n")],
            Layout::Diesel => vec![
                f("Cargo.toml", "[package]\nname = \"app\"\n[dependencies]\ndiesel = \"2\"\n"),
                f("diesel.toml", "[print_schema]\nfile = \"src/schema.rs\"\n"),
            ],
        }
    }

    /// The version of the i-th migration (1-based) as the ledger records it.
    fn version(self, i: usize) -> String {
        match self {
            Layout::Plain | Layout::Goose | Layout::GolangMigrate | Layout::Flyway => i.to_string(),
            Layout::Dbmate | Layout::Prisma | Layout::Sqlx => format!("2024010100{i:04}"),
            Layout::Diesel => format!("2024-01-01-00{i:04}"),
        }
    }

    /// The files of one migration: its up SQL, in this layout.
    fn files(self, version: usize, name: &str, up: &str) -> Vec<(String, String)> {
        let v = self.version(version);
        let f = |p: String, t: String| (p, t);
        match self {
            Layout::Plain => vec![f(format!("migrations/{version:04}_{name}.sql"), up.to_string())],
            Layout::Goose => vec![f(
                format!("db/migrations/{version:05}_{name}.sql"),
                format!("-- +goose Up\n{up}-- +goose Down\nSELECT 1;\n"),
            )],
            Layout::GolangMigrate => vec![
                f(format!("db/migrations/{version:06}_{name}.up.sql"), up.to_string()),
                f(format!("db/migrations/{version:06}_{name}.down.sql"), "SELECT 1;\n".to_string()),
            ],
            Layout::Dbmate => {
                vec![f(format!("db/migrations/{v}_{name}.sql"), format!("-- migrate:up\n{up}\n-- migrate:down\n"))]
            }
            Layout::Flyway => vec![f(format!("src/main/resources/db/migration/V{v}__{name}.sql"), up.to_string())],
            Layout::Prisma => vec![f(format!("prisma/migrations/{v}_{name}/migration.sql"), up.to_string())],
            Layout::Sqlx => vec![f(format!("migrations/{v}_{name}.sql"), up.to_string())],
            Layout::Diesel => vec![
                f(format!("migrations/{v}_{name}/up.sql"), up.to_string()),
                f(format!("migrations/{v}_{name}/down.sql"), "SELECT 1;\n".to_string()),
            ],
        }
    }

    /// The ledger table with the first `applied` versions, as the runner leaves it.
    fn ledger_sql(self, versions: &[String]) -> String {
        match self {
            Layout::Goose => {
                let rows: Vec<String> = std::iter::once("0".to_string())
                    .chain(versions.iter().cloned())
                    .map(|v| format!("({v}, true)"))
                    .collect();
                format!(
                    "CREATE TABLE goose_db_version (id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, \
                     version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NOT NULL DEFAULT now());\n\
                     INSERT INTO goose_db_version (version_id, is_applied) VALUES {};",
                    rows.join(", ")
                )
            }
            Layout::GolangMigrate => format!(
                "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);\n\
                 INSERT INTO schema_migrations VALUES ({}, false);",
                versions.last().expect("at least one applied")
            ),
            Layout::Dbmate => {
                let rows: Vec<String> = versions.iter().map(|v| format!("('{v}')")).collect();
                format!(
                    "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);\n\
                     INSERT INTO schema_migrations VALUES {};",
                    rows.join(", ")
                )
            }
            _ => unreachable!("no ledger for {self:?}"),
        }
    }
}

/// One hazardous (or harmless) change; `table` picks among the tables that exist when it runs.
#[derive(Debug, Clone, Copy)]
enum Op {
    NewTable,
    AddNotNull,
    AddVolatileDefault,
    AddNullable,
    Index,
    UniqueIndex,
    Check,
    ForeignKey,
    Rename,
    TypeChange,
    SetNotNull,
    Backfill,
    DropIndex,
    DropColumn,
}

fn op() -> impl Strategy<Value = (Op, usize)> {
    let op = prop_oneof![
        Just(Op::NewTable),
        Just(Op::AddNotNull),
        Just(Op::AddVolatileDefault),
        Just(Op::AddNullable),
        Just(Op::Index),
        Just(Op::UniqueIndex),
        Just(Op::Check),
        Just(Op::ForeignKey),
        Just(Op::Rename),
        Just(Op::TypeChange),
        Just(Op::SetNotNull),
        Just(Op::Backfill),
        Just(Op::DropIndex),
        Just(Op::DropColumn),
    ];
    (op, 0usize..8)
}

#[derive(Debug, Clone)]
struct Case {
    layout: Layout,
    /// Ops per migration after the first (which creates two tables).
    migrations: Vec<Vec<(Op, usize)>>,
    /// The first `shipped` migrations are on `origin/main`.
    shipped: usize,
    /// The first `applied` migrations ran on the database (ledger layouts only).
    applied: usize,
    /// The last migration reuses the version of the one before it.
    duplicate_last: bool,
    unsafe_fixes: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        proptest::sample::select(Layout::ALL.to_vec()),
        proptest::collection::vec(proptest::collection::vec(op(), 1..4), 1..5),
        0usize..8,
        0usize..8,
        proptest::bool::weighted(0.2),
        any::<bool>(),
    )
        .prop_map(|(layout, migrations, shipped, applied, duplicate_last, unsafe_fixes)| {
            let n = migrations.len() + 1;
            let duplicate_last = duplicate_last && n >= 3;
            let shipped = shipped % (n + 1);
            // A duplicated version is never applied: the runner would have refused it.
            let applied_max = if duplicate_last { n - 2 } else { n };
            let applied = if layout.has_ledger() { applied % (applied_max + 1) } else { 0 };
            Case { layout, migrations, shipped, applied, duplicate_last, unsafe_fixes }
        })
}

/// The tables and columns the generated migrations have made so far, for valid SQL.
#[derive(Default)]
struct Model {
    /// (table, its columns that may be renamed or dropped, its indexes)
    tables: Vec<(String, Vec<String>, Vec<String>)>,
    counter: usize,
}

impl Model {
    fn next(&mut self) -> usize {
        self.counter += 1;
        self.counter
    }

    fn sql(&mut self, op: Op, pick: usize) -> String {
        let k = self.next();
        if matches!(op, Op::NewTable) || self.tables.is_empty() {
            let name = format!("t{k}");
            self.tables.push((name.clone(), vec!["a".into()], vec![]));
            return format!("CREATE TABLE {name} (id bigint PRIMARY KEY, a text, b int);\n");
        }
        let n = self.tables.len();
        let (t, cols, indexes) = &mut self.tables[pick % n];
        let t = t.clone();
        match op {
            Op::NewTable => unreachable!(),
            Op::AddNotNull => {
                cols.push(format!("c{k}"));
                format!("ALTER TABLE {t} ADD COLUMN c{k} int NOT NULL;\n")
            }
            Op::AddVolatileDefault => {
                cols.push(format!("c{k}"));
                format!("ALTER TABLE {t} ADD COLUMN c{k} uuid DEFAULT gen_random_uuid();\n")
            }
            Op::AddNullable => {
                cols.push(format!("c{k}"));
                format!("ALTER TABLE {t} ADD COLUMN c{k} text;\n")
            }
            Op::Index => {
                indexes.push(format!("{t}_i{k}"));
                format!("CREATE INDEX {t}_i{k} ON {t} (b);\n")
            }
            Op::UniqueIndex => {
                indexes.push(format!("{t}_u{k}"));
                format!("CREATE UNIQUE INDEX {t}_u{k} ON {t} (id, b);\n")
            }
            Op::Check => format!("ALTER TABLE {t} ADD CONSTRAINT {t}_chk{k} CHECK (b > 0);\n"),
            Op::ForeignKey => {
                let target = self.tables[(pick + 1) % n].0.clone();
                let (_, cols, _) = &mut self.tables[pick % n];
                cols.push(format!("r{k}_id"));
                format!("ALTER TABLE {t} ADD COLUMN r{k}_id bigint REFERENCES {target} (id);\n")
            }
            Op::Rename => match cols.first().cloned() {
                Some(col) => {
                    cols[0] = format!("n{k}");
                    format!("ALTER TABLE {t} RENAME COLUMN {col} TO n{k};\n")
                }
                None => "SELECT 1;\n".to_string(),
            },
            Op::TypeChange => format!("ALTER TABLE {t} ALTER COLUMN b TYPE bigint;\n"),
            Op::SetNotNull => format!("ALTER TABLE {t} ALTER COLUMN b SET NOT NULL;\n"),
            Op::Backfill => format!("UPDATE {t} SET b = 1 WHERE b IS NULL;\n"),
            Op::DropIndex => match indexes.pop() {
                Some(index) => format!("DROP INDEX {index};\n"),
                None => "SELECT 1;\n".to_string(),
            },
            Op::DropColumn => match cols.pop() {
                Some(col) if cols.len() > 1 || col.starts_with('c') => format!("ALTER TABLE {t} DROP COLUMN {col};\n"),
                Some(col) => {
                    cols.push(col);
                    "SELECT 1;\n".to_string()
                }
                None => "SELECT 1;\n".to_string(),
            },
        }
    }
}

fn write(root: &Path, files: &[(String, String)]) {
    for (rel, text) in files {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, text).expect("write");
    }
}

struct Project {
    repo: Repo,
    db: Option<pg::TestDb>,
    /// Paths (relative) that shipped or were applied: read-only.
    frozen: BTreeMap<String, String>,
}

impl Project {
    fn safemig(&self, args: &[&str]) -> (String, String) {
        let mut cmd = Command::new(BIN);
        cmd.args(args).current_dir(&self.repo.root).env("NO_COLOR", "1").env_remove("DATABASE_URL");
        match &self.db {
            Some(db) => cmd.env("DATABASE_URL", db.url()),
            None => cmd.arg("--no-database"),
        };
        let out = cmd.output().expect("safemig runs");
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    }

    /// Findings per rule in the whole project.
    fn counts(&self) -> Result<BTreeMap<String, usize>, TestCaseError> {
        let (stdout, stderr) = self.safemig(&["check", "--format", "json", "--fail-on", "never", "."]);
        let json: serde_json::Value = serde_json::from_str(&stdout)
            .map_err(|e| TestCaseError::fail(format!("check --format json ({e}): {stdout}\n{stderr}")))?;
        let mut out = BTreeMap::new();
        for d in json["diagnostics"].as_array().into_iter().flatten() {
            *out.entry(d["rule"].as_str().unwrap_or_default().to_string()).or_default() += 1;
        }
        Ok(out)
    }

    fn fix(&self, unsafe_fixes: bool) -> String {
        let mut args = vec!["check", "--fix"];
        if unsafe_fixes {
            args.push("--unsafe");
        }
        args.push(".");
        let (stdout, stderr) = self.safemig(&args);
        format!("{stdout}\n{stderr}")
    }
}

/// Writes the case's project, ships and applies its cut points.
fn build(case: &Case) -> Project {
    let repo = Repo::new();
    let root = repo.root.clone();

    let mut model = Model::default();
    let mut ups = vec![format!("{}{}", model.sql(Op::NewTable, 0), model.sql(Op::NewTable, 0))];
    for ops in &case.migrations {
        ups.push(ops.iter().map(|&(op, pick)| model.sql(op, pick)).collect());
    }
    let n = ups.len();
    let migration_files: Vec<Vec<(String, String)>> = ups
        .iter()
        .enumerate()
        .map(|(i, up)| {
            let version = if case.duplicate_last && i == n - 1 { i } else { i + 1 };
            case.layout.files(version, &format!("m{}", i + 1), up)
        })
        .collect();
    write(&root, &case.layout.markers());

    let mut frozen = BTreeMap::new();
    let shipped = case.shipped.min(n);
    for files in &migration_files[..shipped] {
        write(&root, files);
        frozen.extend(files.iter().cloned());
    }
    repo.ship();
    for files in &migration_files[shipped..] {
        write(&root, files);
    }

    let db = case.layout.has_ledger().then(|| {
        let db = pg::TestDb::new("fixprop");
        if case.applied > 0 {
            let ran: String = ups[..case.applied].concat();
            db.setup(&ran);
            let versions: Vec<String> = (1..=case.applied).map(|i| case.layout.version(i)).collect();
            db.setup(&case.layout.ledger_sql(&versions));
            for files in &migration_files[..case.applied] {
                frozen.extend(files.iter().cloned());
            }
        }
        db
    });
    Project { repo, db, frozen }
}

fn check_case(case: &Case) -> Result<(), TestCaseError> {
    let project = build(case);
    let before_files = project.repo.files();
    let before = project.counts()?;
    let log = project.fix(case.unsafe_fixes);
    let after_files = project.repo.files();
    let context = || format!("{case:#?}\nbefore: {before_files:#?}\nafter: {after_files:#?}\nlog:\n{log}");

    // 1. Shipped and applied migrations are read-only.
    for (path, text) in &project.frozen {
        prop_assert_eq!(after_files.get(path), Some(text), "{} was shipped or applied\n{}", path, context());
    }

    // 2. No rule fires more often; whatever was written removed findings.
    let after = project.counts()?;
    for (rule, n) in &after {
        let was = before.get(rule).copied().unwrap_or(0);
        prop_assert!(
            *n <= was,
            "{} fires {} times after the fixes, {} before\n{:?}\n{}",
            rule,
            n,
            was,
            after,
            context()
        );
    }
    if after_files != before_files {
        let (b, a): (usize, usize) = (before.values().sum(), after.values().sum());
        prop_assert!(
            a < b,
            "files changed but findings went from {} to {}\n{:?}\n{:?}\n{}",
            b,
            a,
            before,
            after,
            context()
        );
    }

    // 3. A fixed point: a second run writes nothing.
    let second = project.fix(case.unsafe_fixes);
    let again = project.repo.files();
    prop_assert_eq!(&again, &after_files, "a second run changed files:\n{}\n{}", second, context());
    Ok(())
}

#[test]
fn fixes_keep_shipped_and_applied_files_add_no_finding_and_reach_a_fixed_point() {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(48);
    let config = RunnerConfig { cases, failure_persistence: None, max_shrink_iters: 64, ..RunnerConfig::default() };
    let mut runner = TestRunner::new(config);
    if let Err(e) = runner.run(&case(), |case| check_case(&case)) {
        panic!("{e}");
    }
}
