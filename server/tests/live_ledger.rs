//! The ledgers against a real PostgreSQL (127.0.0.1:5432, user `postgres`): for each framework
//! that keeps one, a database of its own with the framework's exact ledger DDL and rows written as
//! the framework writes them, next to a real migration directory in a temporary directory found by
//! `workspace::discover`. The ledger is read inside a READ ONLY transaction, as the server does;
//! statuses and the findings of `applied-migration-edited`, `applied-migration-missing` and
//! `migration-failed` are checked.
//!
//! Checksums are written with safemig's own functions, and cross-checked here against values
//! computed independently (Python `hashlib` / `zlib`, and Java's `BufferedReader` + `CRC32` for
//! Flyway), pasted as constants.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use safemig::config::Config;
use safemig::live::checksum;
use safemig::live::ledger::{self, EntryState, Ledger, MigrationState, MigrationStatus};
use safemig::rules::Finding;
use safemig::sql::{Dialect, SqlFile};

#[path = "../../tests/support/pg.rs"]
mod pg;
use pg::TestDb;
use safemig::workspace::{discover, FrameworkKind, MigrationSet};

const SCRIPT: &str = "CREATE TABLE users (id bigint PRIMARY KEY);\n";
// python3: hashlib.sha256(SCRIPT.encode()).hexdigest()
const SCRIPT_SHA256: &str = "3456c330330e5584db1ea42d855fe843569a61c7c200bd34b52f8f9c03b28f0d";
// python3: hashlib.sha384(SCRIPT.encode()).hexdigest()
const SCRIPT_SHA384: &str =
    "c72d83fd3fa44d3458d479ba249777d97527fde4ccd1e1483878051ba8ee6f15fcf7964f412c5d17e122e4397248e42a";
// python3: zlib.crc32 over SCRIPT without line breaks, as signed; Java BufferedReader + CRC32 agrees.
const SCRIPT_CRC32: i32 = 1812668543;

// ---------------------------------------------------------------------------------------------
// A database per test

/// Reads `set`'s ledger inside a READ ONLY transaction.
fn read(db: &TestDb, set: &MigrationSet) -> Option<Ledger> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let (mut client, connection) =
            tokio_postgres::connect(&db.conninfo(), tokio_postgres::NoTls).await.expect("connect");
        let task = tokio::spawn(connection);
        let tx = client.build_transaction().read_only(true).start().await.expect("read-only transaction");
        let ledger = ledger::read(&tx, set).await.expect("the ledger query runs");
        tx.rollback().await.expect("rollback");
        drop(client);
        let _ = task.await;
        ledger
    })
}

// ---------------------------------------------------------------------------------------------
// A project per test

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(files: &[(&str, &str)]) -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        for (path, text) in files {
            let path = dir.path().join(path);
            fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            fs::write(&path, text).expect("write");
        }
        Project { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        fs::write(self.path(rel), text).expect("write");
    }

    /// The one migration set of the project, which must be of `kind`.
    fn set(&self, kind: FrameworkKind) -> MigrationSet {
        let found = discover(self.dir.path(), &Config::default());
        assert_eq!(found.sets.len(), 1, "one set expected: {:?}", found);
        let set = found.sets.into_iter().next().expect("one set");
        assert_eq!(set.framework, kind);
        set
    }
}

fn files(path: &Path) -> Option<(Arc<str>, Arc<SqlFile>)> {
    let text = fs::read_to_string(path).ok()?;
    let file = SqlFile::parse(&text, Dialect::Postgres, None);
    Some((Arc::from(text), Arc::new(file)))
}

fn findings(set: &MigrationSet, ledger: &Ledger) -> Vec<(PathBuf, Finding)> {
    let sets = vec![set.clone()];
    ledger::live_findings(&sets, &[(0, ledger)], &files)
}

/// (file name relative to the set, rule, message) for each finding.
fn described(set: &MigrationSet, found: &[(PathBuf, Finding)]) -> Vec<(String, &'static str, String)> {
    let mut out: Vec<_> = found
        .iter()
        .map(|(path, f)| {
            let rel = path.strip_prefix(&set.dir).unwrap_or(path).to_string_lossy().replace('\\', "/");
            (rel, f.rule, f.message.clone())
        })
        .collect();
    out.sort();
    out
}

fn states(statuses: &[MigrationStatus]) -> Vec<String> {
    statuses
        .iter()
        .map(|s| match (&s.state, s.migration) {
            (MigrationState::Failed { detail, .. }, _) => format!("FAILED {}", detail.as_deref().unwrap_or("")),
            (state, Some(_)) => state.lens(),
            (state, None) => format!("no file: {}", state.lens()),
        })
        .collect()
}

fn only<'a>(found: &'a [(String, &'static str, String)], rule: &str) -> Vec<&'a (String, &'static str, String)> {
    found.iter().filter(|f| f.1 == rule).collect()
}

// ---------------------------------------------------------------------------------------------
// Prisma

const PRISMA_DDL: &str = r#"
CREATE TABLE "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
);
"#;

fn prisma_row(
    id: u32,
    name: &str,
    checksum: &str,
    started: &str,
    finished: Option<&str>,
    logs: Option<&str>,
) -> String {
    let q = |v: Option<&str>| v.map_or("NULL".to_string(), |v| format!("'{}'", v.replace('\'', "''")));
    format!(
        "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, started_at, applied_steps_count) \
         VALUES ('00000000-0000-0000-0000-{id:012}', '{checksum}', {}, '{name}', {}, '{started}', {});\n",
        q(finished),
        q(logs),
        u32::from(finished.is_some())
    )
}

#[test]
fn prisma_checksums_failures_and_missing_directories() {
    assert_eq!(checksum::prisma(SCRIPT), SCRIPT_SHA256, "cross-check with python's hashlib");
    let add_email = "ALTER TABLE users ADD COLUMN email text;\n";
    let project = Project::new(&[
        ("prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n"),
        // Applied from an LF checkout; this checkout has CRLF line endings.
        ("prisma/migrations/20240101000000_init/migration.sql", &SCRIPT.replace('\n', "\r\n")),
        ("prisma/migrations/20240102000000_add_email/migration.sql", add_email),
        (
            "prisma/migrations/20240103000000_email_index/migration.sql",
            "CREATE UNIQUE INDEX users_email_key ON users (email);\n",
        ),
        ("prisma/migrations/20240104000000_retried/migration.sql", "ALTER TABLE users ADD COLUMN name text;\n"),
        ("prisma/migrations/20240105000000_pending/migration.sql", "ALTER TABLE users ADD COLUMN age int;\n"),
    ]);
    let set = project.set(FrameworkKind::Prisma);
    let db = TestDb::new("ledger_prisma");
    let mut sql = PRISMA_DDL.to_string();
    sql += &prisma_row(
        1,
        "20231231000000_gone",
        &checksum::prisma("SELECT 1;\n"),
        "2023-12-31 10:00:00Z",
        Some("2023-12-31 10:00:01Z"),
        None,
    );
    sql += &prisma_row(
        2,
        "20240101000000_init",
        SCRIPT_SHA256,
        "2024-01-01 10:00:00Z",
        Some("2024-01-01 10:00:01Z"),
        None,
    );
    sql += &prisma_row(
        3,
        "20240102000000_add_email",
        &checksum::prisma(add_email),
        "2024-01-02 10:00:00Z",
        Some("2024-01-02 10:00:01Z"),
        None,
    );
    let logs = "Database error code: 23505\n\nDatabase error:\nERROR: could not create unique index \"users_email_key\"\nDETAIL: Key (email)=(a@example.com) is duplicated.";
    sql += &prisma_row(
        4,
        "20240103000000_email_index",
        &checksum::prisma("CREATE UNIQUE INDEX users_email_key ON users (email);\n"),
        "2024-01-03 09:30:00Z",
        None,
        Some(logs),
    );
    // A failure, rolled back with `prisma migrate resolve --rolled-back`, then a successful retry.
    let retried = checksum::prisma("ALTER TABLE users ADD COLUMN name text;\n");
    sql += &prisma_row(5, "20240104000000_retried", &retried, "2024-01-04 10:00:00Z", None, Some("boom"));
    sql += "UPDATE _prisma_migrations SET rolled_back_at = '2024-01-04 10:05:00Z' WHERE id LIKE '%5';\n";
    sql +=
        &prisma_row(6, "20240104000000_retried", &retried, "2024-01-04 10:10:00Z", Some("2024-01-04 10:10:01Z"), None);
    db.setup(&sql);
    // Now the file is edited after it was applied.
    project.write(
        "prisma/migrations/20240102000000_add_email/migration.sql",
        "ALTER TABLE users ADD COLUMN email text NOT NULL;\n",
    );

    let ledger = read(&db, &set).expect("a Prisma ledger");
    assert_eq!(ledger.framework, FrameworkKind::Prisma);
    assert_eq!(ledger.table, "_prisma_migrations");
    assert_eq!(ledger.entries.len(), 6);
    assert_eq!(ledger.entries[3].state, EntryState::Failed);
    assert_eq!(ledger.entries[4].state, EntryState::RolledBack);

    let statuses = ledger::statuses(&set, &ledger);
    let got = states(&statuses);
    assert_eq!(got[0], "applied 2024-01-01 10:00 UTC");
    assert_eq!(got[1], "applied 2024-01-02 10:00 UTC");
    assert!(got[2].starts_with("FAILED Database error code: 23505"), "{got:?}");
    assert_eq!(got[3], "applied 2024-01-04 10:10 UTC");
    assert_eq!(got[4], "pending");
    assert_eq!(got[5], "no file: applied 2023-12-31 10:00 UTC");
    assert_eq!(got.len(), 6);
    assert_eq!(statuses[5].entry, Some(0));

    let failed = ledger::failed(&set, &ledger);
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0].migration, failed[0].entry), (2, 3));
    assert_eq!(failed[0].detail.as_deref(), Some(logs));

    let found = findings(&set, &ledger);
    let d = described(&set, &found);
    let edited = only(&d, "applied-migration-edited");
    assert_eq!(edited.len(), 1, "{d:#?}");
    assert_eq!(edited[0].0, "20240102000000_add_email/migration.sql");
    let expected_stored = &checksum::prisma(add_email)[..12];
    let expected_now = &checksum::prisma("ALTER TABLE users ADD COLUMN email text NOT NULL;\n")[..12];
    assert!(
        edited[0].2.starts_with(
            "prisma applied `20240102000000_add_email/migration.sql` to the dev database (2024-01-02 10:00 UTC)"
        ),
        "{}",
        edited[0].2
    );
    assert!(
        edited[0].2.contains(&format!("with checksum {expected_stored}…; the file's checksum is now {expected_now}…")),
        "{}",
        edited[0].2
    );
    assert!(edited[0].2.contains("was modified after it was applied") && edited[0].2.contains("reset the database"));
    assert!(edited[0].2.ends_with("Revert the edit; move the change into a new migration"));

    let failed = only(&d, "migration-failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0, "20240103000000_email_index/migration.sql");
    assert!(
        failed[0].2.starts_with("FAILED in the dev database at 2024-01-03 09:30 UTC: Database error code: 23505 Database error: ERROR: could not create unique index"),
        "{}",
        failed[0].2
    );
    assert!(failed[0].2.contains("prisma migrate resolve --rolled-back 20240103000000_email_index"));
    assert!(failed[0].2.contains("prisma migrate resolve --applied 20240103000000_email_index"));

    let missing = only(&d, "applied-migration-missing");
    assert_eq!(missing.len(), 1);
    // It sorts before every migration: reported on the first one.
    assert_eq!(missing[0].0, "20240101000000_init/migration.sql");
    assert!(
        missing[0]
            .2
            .contains("lists `20231231000000_gone` (2023-12-31 10:00 UTC), but no file in `migrations` provides it"),
        "{}",
        missing[0].2
    );
    assert!(missing[0].2.contains("DELETE FROM _prisma_migrations WHERE migration_name = '20231231000000_gone';"));
    // Findings carry the rule's severity and a range on the file's first statement.
    let (path, f) = found.iter().find(|(_, f)| f.rule == "applied-migration-edited").expect("edited");
    let text = fs::read_to_string(path).expect("read");
    assert_eq!(&text[f.range.clone()], "ALTER TABLE users ADD COLUMN email text NOT NULL;");
    assert_eq!(f.severity, safemig::rules::Severity::Error);
}

#[test]
fn a_missing_ledger_table_is_none() {
    let project = Project::new(&[
        ("prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n"),
        ("prisma/migrations/20240101000000_init/migration.sql", SCRIPT),
    ]);
    let db = TestDb::new("ledger_none");
    assert_eq!(read(&db, &project.set(FrameworkKind::Prisma)), None);
    // A `schema_migrations` table of another tool (dbmate's: no `dirty`) is not golang-migrate's.
    let project =
        Project::new(&[("db/migrations/1_a.up.sql", SCRIPT), ("db/migrations/1_a.down.sql", "DROP TABLE users;\n")]);
    let set = project.set(FrameworkKind::GolangMigrate);
    db.setup("CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY); INSERT INTO schema_migrations VALUES ('1');");
    assert_eq!(read(&db, &set), None);
}

// ---------------------------------------------------------------------------------------------
// golang-migrate

#[test]
fn golang_migrate_dirty_version_is_failed_and_everything_before_it_applied() {
    let project = Project::new(&[
        ("db/migrations/000001_users.up.sql", SCRIPT),
        ("db/migrations/000001_users.down.sql", "DROP TABLE users;\n"),
        ("db/migrations/000002_email.up.sql", "ALTER TABLE users ADD COLUMN email text;\n"),
        ("db/migrations/000003_index.up.sql", "CREATE INDEX users_email ON users (email);\n"),
    ]);
    let set = project.set(FrameworkKind::GolangMigrate);
    let db = TestDb::new("ledger_golang");
    db.setup(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint not null primary key, dirty boolean not null);
         INSERT INTO schema_migrations (version, dirty) VALUES (2, true);",
    );
    let ledger = read(&db, &set).expect("a golang-migrate ledger");
    assert_eq!(states(&ledger::statuses(&set, &ledger)), ["applied", "FAILED ", "pending"]);
    let found = findings(&set, &ledger);
    let d = described(&set, &found);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!((d[0].0.as_str(), d[0].1), ("000002_email.up.sql", "migration-failed"));
    let dir = set.dir.display().to_string();
    assert!(d[0].2.starts_with("FAILED in the dev database: golang-migrate records no error text."), "{}", d[0].2);
    assert!(d[0].2.contains("Dirty database version 2. Fix and force version."));
    assert!(d[0].2.contains(&format!("`migrate -path {dir} -database \"$DATABASE_URL\" force 1`")), "{}", d[0].2);
    assert!(d[0].2.contains(&format!("`migrate -path {dir} -database \"$DATABASE_URL\" force 2`")));

    // The current version has no file.
    let mut client = db.sync();
    client
        .batch_execute("TRUNCATE schema_migrations; INSERT INTO schema_migrations VALUES (9, false);")
        .expect("update");
    let ledger = read(&db, &set).expect("a golang-migrate ledger");
    assert_eq!(states(&ledger::statuses(&set, &ledger)), ["applied", "applied", "applied", "no file: applied"]);
    let d = described(&set, &findings(&set, &ledger));
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].0.as_str(), d[0].1), ("000003_index.up.sql", "applied-migration-missing"));
    assert!(d[0].2.contains("lists `9`"), "{}", d[0].2);
    assert!(d[0].2.contains("force 3`"), "{}", d[0].2);
}

// ---------------------------------------------------------------------------------------------
// Flyway

const FLYWAY_DDL: &str = r#"
CREATE TABLE "public"."flyway_schema_history" (
    "installed_rank" INT NOT NULL,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
);
ALTER TABLE "public"."flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");
CREATE INDEX "flyway_schema_history_s_idx" ON "public"."flyway_schema_history" ("success");
"#;

/// A row as Flyway writes it; the script name follows from the version and description
/// (`V1_1__accounts.sql`, `R__views.sql`).
fn flyway_row(
    rank: u32,
    version: Option<&str>,
    description: &str,
    kind: &str,
    checksum: Option<i32>,
    on: &str,
    success: bool,
) -> String {
    let script = match (kind, version) {
        ("BASELINE", _) => description.to_string(),
        (_, Some(v)) => format!("V{}__{}.sql", v.replace('.', "_"), description.replace(' ', "_")),
        (_, None) => format!("R__{}.sql", description.replace(' ', "_")),
    };
    format!(
        "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, \
         installed_on, execution_time, success) VALUES ({rank}, {}, '{description}', '{kind}', '{script}', {}, 'postgres', \
         '{on}', 12, {success});\n",
        version.map_or("NULL".to_string(), |v| format!("'{v}'")),
        checksum.map_or("NULL".to_string(), |c| c.to_string()),
    )
}

#[test]
fn flyway_checksums_ignore_line_breaks_and_failures_show() {
    assert_eq!(checksum::flyway(SCRIPT), SCRIPT_CRC32, "cross-check with Java's CRC32 and python's zlib");
    let users = "CREATE TABLE accounts (\n  id bigint PRIMARY KEY\n);\n";
    let project = Project::new(&[
        ("db/migration/V1__init.sql", SCRIPT),
        // Applied with CRLF endings and the statement on one line; only line breaks differ now.
        ("db/migration/V1_1__accounts.sql", users),
        ("db/migration/V2__email.sql", "ALTER TABLE users ADD COLUMN email text NOT NULL;\n"),
        ("db/migration/V3__index.sql", "CREATE INDEX CONCURRENTLY users_email ON users (email);\n"),
        ("db/migration/V4__pending.sql", "ALTER TABLE users ADD COLUMN age int;\n"),
        ("db/migration/R__views.sql", "CREATE OR REPLACE VIEW v AS SELECT 2;\n"),
    ]);
    let set = project.set(FrameworkKind::Flyway);
    let db = TestDb::new("ledger_flyway");
    let mut sql = FLYWAY_DDL.to_string();
    sql += &flyway_row(1, Some("1"), "init", "SQL", Some(SCRIPT_CRC32), "2024-02-01 08:00:00", true);
    sql += &flyway_row(
        2,
        Some("1.1"),
        "accounts",
        "SQL",
        Some(checksum::flyway("CREATE TABLE accounts (  id bigint PRIMARY KEY);\r\n")),
        "2024-02-01 08:00:01",
        true,
    );
    sql += &flyway_row(3, Some("1.5"), "gone", "SQL", Some(1), "2024-02-01 08:00:02", true);
    sql += &flyway_row(
        4,
        Some("2"),
        "email",
        "SQL",
        Some(checksum::flyway("ALTER TABLE users ADD COLUMN email text;\n")),
        "2024-02-01 08:00:03",
        true,
    );
    sql += &flyway_row(
        5,
        Some("3"),
        "index",
        "SQL",
        Some(checksum::flyway("CREATE INDEX CONCURRENTLY users_email ON users (email);\n")),
        "2024-02-01 08:00:04",
        false,
    );
    // A repeatable applied with older content: Flyway re-runs it, nothing to report.
    sql += &flyway_row(
        6,
        None,
        "views",
        "SQL",
        Some(checksum::flyway("CREATE OR REPLACE VIEW v AS SELECT 1;\n")),
        "2024-02-01 08:00:05",
        true,
    );
    // Applied, then its file was removed and `flyway repair` marked it deleted.
    sql += &flyway_row(7, Some("3.5"), "removed", "SQL", Some(7), "2024-02-01 08:00:06", true);
    sql += &flyway_row(8, Some("3.5"), "removed", "DELETE", Some(7), "2024-02-01 08:00:07", true);
    db.setup(&sql);

    let ledger = read(&db, &set).expect("a Flyway ledger");
    assert_eq!(ledger.table, "flyway_schema_history");
    assert_eq!(ledger.entries.len(), 6, "the DELETE row and the row it cancels are left out");
    assert_eq!(ledger.entries[0].checksum.as_deref(), Some("1812668543"));
    assert_eq!(ledger.entries[5].checksum, None, "repeatables are not compared");
    let got = states(&ledger::statuses(&set, &ledger));
    assert_eq!(
        got,
        [
            "applied 2024-02-01 08:00 UTC",
            "applied 2024-02-01 08:00 UTC",
            "applied 2024-02-01 08:00 UTC",
            "FAILED ",
            "pending",
            "applied 2024-02-01 08:00 UTC",
            "no file: applied 2024-02-01 08:00 UTC",
        ]
    );

    let d = described(&set, &findings(&set, &ledger));
    assert_eq!(d.len(), 3, "{d:#?}");
    let edited = only(&d, "applied-migration-edited");
    assert_eq!(edited.len(), 1);
    assert_eq!(edited[0].0, "V2__email.sql");
    let stored = checksum::flyway("ALTER TABLE users ADD COLUMN email text;\n");
    let now = checksum::flyway("ALTER TABLE users ADD COLUMN email text NOT NULL;\n");
    assert!(
        edited[0].2.contains(&format!(
            "\"Migration checksum mismatch for migration version 2 -> Applied to database : {stored} -> Resolved locally : {now}."
        )),
        "{}",
        edited[0].2
    );
    let failed = only(&d, "migration-failed");
    assert_eq!(failed[0].0, "V3__index.sql");
    assert!(
        failed[0].2.starts_with("FAILED in the dev database at 2024-02-01 08:00 UTC: flyway records no error text."),
        "{}",
        failed[0].2
    );
    assert!(failed[0].2.contains("`flyway repair`"));
    let missing = only(&d, "applied-migration-missing");
    // 1.5 sorts after 1.1: reported where its file would sit.
    assert_eq!(missing[0].0, "V1_1__accounts.sql");
    assert!(
        missing[0].2.contains("lists `1.5` (gone)")
            && missing[0].2.contains("Detected applied migration not resolved locally: 1.5"),
        "{}",
        missing[0].2
    );
}

#[test]
fn flyway_baseline_covers_older_versions() {
    let project = Project::new(&[
        ("db/migration/V1__a.sql", SCRIPT),
        ("db/migration/V2__b.sql", "SELECT 2;\n"),
        ("db/migration/V3__c.sql", "SELECT 3;\n"),
    ]);
    let set = project.set(FrameworkKind::Flyway);
    let db = TestDb::new("ledger_flyway_baseline");
    let mut sql = FLYWAY_DDL.to_string();
    sql += &flyway_row(1, Some("2"), "<< Flyway Baseline >>", "BASELINE", None, "2024-02-01 08:00:00", true);
    sql += &flyway_row(2, Some("3"), "c", "SQL", Some(checksum::flyway("SELECT 3;\n")), "2024-02-02 08:00:00", true);
    db.setup(&sql);
    let ledger = read(&db, &set).expect("a Flyway ledger");
    assert_eq!(
        states(&ledger::statuses(&set, &ledger)),
        ["applied (baseline)", "applied (baseline)", "applied 2024-02-02 08:00 UTC"]
    );
    assert!(findings(&set, &ledger).is_empty());
}

// ---------------------------------------------------------------------------------------------
// sqlx

#[test]
fn sqlx_sha384_checksums_and_partial_migrations() {
    assert_eq!(checksum::sqlx_hex(SCRIPT), SCRIPT_SHA384, "cross-check with python's hashlib");
    let project = Project::new(&[
        ("Cargo.toml", "[package]\nname = \"app\"\nversion = \"0.1.0\"\n"),
        ("migrations/20240101000000_users.sql", SCRIPT),
        ("migrations/20240102000000_email.sql", "ALTER TABLE users ADD COLUMN email text NOT NULL;\r\n"),
        ("migrations/20240103000000_orders.up.sql", "CREATE TABLE orders (id bigint);\n"),
        ("migrations/20240103000000_orders.down.sql", "DROP TABLE orders;\n"),
    ]);
    let set = project.set(FrameworkKind::Sqlx);
    let db = TestDb::new("ledger_sqlx");
    db.setup(
        "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
            version BIGINT PRIMARY KEY,
            description TEXT NOT NULL,
            installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
            success BOOLEAN NOT NULL,
            checksum BYTEA NOT NULL,
            execution_time BIGINT NOT NULL
        );",
    );
    let mut client = db.sync();
    let insert =
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
                  VALUES ($1, $2, $3::text::timestamptz, $4, $5, 1000)";
    let rows: [(i64, &str, &str, bool, Vec<u8>); 4] = [
        (20231201000000, "gone", "2023-12-01 00:00:00Z", true, checksum::sqlx(b"SELECT 1;").to_vec()),
        (20240101000000, "users", "2024-01-01 00:00:00Z", true, checksum::sqlx(SCRIPT.as_bytes()).to_vec()),
        // Applied with LF; sqlx hashes the exact bytes, so the CRLF file now differs (and the edit).
        (
            20240102000000,
            "email",
            "2024-01-02 00:00:00Z",
            true,
            checksum::sqlx(b"ALTER TABLE users ADD COLUMN email text;\n").to_vec(),
        ),
        (
            20240103000000,
            "orders",
            "2024-01-03 00:00:00Z",
            false,
            checksum::sqlx(b"CREATE TABLE orders (id bigint);\n").to_vec(),
        ),
    ];
    for (version, description, at, success, sum) in &rows {
        client.execute(insert, &[version, description, at, success, sum]).expect("insert");
    }
    let ledger = read(&db, &set).expect("a sqlx ledger");
    assert_eq!(ledger.entries[1].checksum.as_deref(), Some(SCRIPT_SHA384));
    assert_eq!(
        states(&ledger::statuses(&set, &ledger)),
        [
            "applied 2024-01-01 00:00 UTC",
            "applied 2024-01-02 00:00 UTC",
            "FAILED ",
            "no file: applied 2023-12-01 00:00 UTC"
        ]
    );
    let d = described(&set, &findings(&set, &ledger));
    assert_eq!(d.len(), 3, "{d:#?}");
    let edited = only(&d, "applied-migration-edited");
    assert_eq!(edited[0].0, "20240102000000_email.sql");
    assert!(
        edited[0].2.contains("\"migration 20240102000000 was previously applied but has been modified\""),
        "{}",
        edited[0].2
    );
    let failed = only(&d, "migration-failed");
    assert_eq!(failed[0].0, "20240103000000_orders.up.sql", "the up file carries the checksum and the finding");
    assert!(failed[0].2.contains("DELETE FROM _sqlx_migrations WHERE version = 20240103000000;"), "{}", failed[0].2);
    let missing = only(&d, "applied-migration-missing");
    assert_eq!(missing[0].0, "20240101000000_users.sql");
    assert!(missing[0].2.contains("was previously applied but is missing in the resolved migrations"));
}

// ---------------------------------------------------------------------------------------------
// Atlas

const ATLAS_DDL: &str = r#"
CREATE SCHEMA "atlas_schema_revisions";
CREATE TABLE "atlas_schema_revisions"."atlas_schema_revisions" (
    "version" character varying NOT NULL,
    "description" character varying NOT NULL,
    "type" bigint NOT NULL DEFAULT 2,
    "applied" bigint NOT NULL DEFAULT 0,
    "total" bigint NOT NULL DEFAULT 0,
    "executed_at" timestamptz NOT NULL,
    "execution_time" bigint NOT NULL,
    "error" text NULL,
    "error_stmt" text NULL,
    "hash" character varying NOT NULL,
    "partial_hashes" jsonb NULL,
    "operator_version" character varying NOT NULL,
    PRIMARY KEY ("version")
);
"#;

#[test]
fn atlas_running_hashes_and_partial_files() {
    let init = "CREATE TABLE t (id int);\n";
    let add = "ALTER TABLE t ADD COLUMN c int;\n";
    let idx = "CREATE INDEX t_c ON t (c);\nCREATE UNIQUE INDEX t_id ON t (id);\nALTER TABLE t ADD COLUMN d int;\n";
    let mut sum = checksum::AtlasSum::new();
    let hashes: Vec<String> =
        [("20240101000000_init.sql", init), ("20240102000000_add.sql", add), ("20240103000000_idx.sql", idx)]
            .iter()
            .map(|(n, t)| sum.add(n, t).expect("hashed"))
            .collect();
    // python3 (hashlib.sha256 fed name and content, base64 after each file).
    assert_eq!(hashes[0], "SHzK9HMd1VJXxyfkB4DdEsZDHvMZKf0Wuy5nmE70+m8=");
    assert_eq!(hashes[1], "GVABBxD8QtLtQX2r5BCsmohPCjUeeNvgQKnsQzE7LPA=");
    let project = Project::new(&[
        ("migrations/atlas.sum", "h1:placeholder\n"),
        ("migrations/20240101000000_init.sql", init),
        ("migrations/20240102000000_add.sql", add),
        ("migrations/20240103000000_idx.sql", idx),
    ]);
    let set = project.set(FrameworkKind::Atlas);
    let db = TestDb::new("ledger_atlas");
    let row = |v: &str, d: &str, applied: u32, total: u32, error: &str, stmt: &str, hash: &str| {
        format!(
            "INSERT INTO atlas_schema_revisions.atlas_schema_revisions (version, description, type, applied, total, \
             executed_at, execution_time, error, error_stmt, hash, operator_version) VALUES ('{v}', '{d}', 2, {applied}, \
             {total}, '2024-03-0{} 12:00:00Z', 1000, {error}, {stmt}, '{hash}', 'Atlas CLI v0.30.0');\n",
            &v[7..8]
        )
    };
    let mut sql = ATLAS_DDL.to_string();
    sql += &row("20240101000000", "init", 1, 1, "NULL", "NULL", &hashes[0]);
    sql += &row("20240102000000", "add", 1, 1, "NULL", "NULL", &hashes[1]);
    sql += &row(
        "20240103000000",
        "idx",
        1,
        3,
        "'pq: could not create unique index \"t_id\"'",
        "'CREATE UNIQUE INDEX t_id ON t (id);'",
        &hashes[2],
    );
    // Atlas's own bookkeeping row is not a migration.
    sql += "INSERT INTO atlas_schema_revisions.atlas_schema_revisions (version, description, type, executed_at, execution_time, hash, operator_version) VALUES ('.atlas_cloud_identifier', 'x', 2, now(), 0, '', 'x');\n";
    db.setup(&sql);
    let ledger = read(&db, &set).expect("an Atlas ledger");
    assert_eq!(ledger.table, "atlas_schema_revisions.atlas_schema_revisions");
    assert_eq!(ledger.entries.len(), 3);
    assert_eq!((ledger.entries[2].applied_statements, ledger.entries[2].total_statements), (Some(1), Some(3)));
    let got = states(&ledger::statuses(&set, &ledger));
    assert_eq!(got[..2], ["applied 2024-03-01 12:00 UTC", "applied 2024-03-02 12:00 UTC"]);
    assert_eq!(
        got[2],
        "FAILED pq: could not create unique index \"t_id\"\n(statement: CREATE UNIQUE INDEX t_id ON t (id);)"
    );
    let d = described(&set, &findings(&set, &ledger));
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].0, "20240103000000_idx.sql");
    assert!(d[0].2.starts_with("FAILED in the dev database at 2024-03-03 12:00 UTC after 1 of its 3 statements: pq: could not create unique index"), "{}", d[0].2);
    assert!(
        d[0].2.contains("`atlas migrate apply` resumes at statement 2")
            && d[0].2.contains("`atlas migrate set 20240103000000`")
    );

    // Editing the first file changes its hash and every later one; only the first is reported.
    project.write("migrations/20240101000000_init.sql", "CREATE TABLE t (id bigint);\n");
    let d = described(&set, &findings(&set, &ledger));
    let edited = only(&d, "applied-migration-edited");
    assert_eq!(edited.len(), 1, "{d:#?}");
    assert_eq!(edited[0].0, "20240101000000_init.sql");
    assert!(edited[0].2.contains(&format!("with checksum {}…", &hashes[0][..12])), "{}", edited[0].2);
}

// ---------------------------------------------------------------------------------------------
// Drizzle

#[test]
fn drizzle_hashes_and_the_skipped_older_entry() {
    let journal = r#"{"version":"7","dialect":"postgresql","entries":[
        {"idx":0,"version":"7","when":1700000000000,"tag":"0000_users","breakpoints":true},
        {"idx":1,"version":"7","when":1700000100000,"tag":"0001_email","breakpoints":true},
        {"idx":2,"version":"7","when":1700000200000,"tag":"0002_branch","breakpoints":true},
        {"idx":3,"version":"7","when":1700000300000,"tag":"0003_orders","breakpoints":true},
        {"idx":4,"version":"7","when":1700000400000,"tag":"0004_next","breakpoints":true}]}"#;
    let email = "ALTER TABLE \"users\" ADD COLUMN \"email\" text;";
    let project = Project::new(&[
        ("drizzle/meta/_journal.json", journal),
        ("drizzle/0000_users.sql", SCRIPT),
        ("drizzle/0001_email.sql", "ALTER TABLE \"users\" ADD COLUMN \"email\" text NOT NULL;"),
        ("drizzle/0002_branch.sql", "CREATE TABLE \"b\" (\"id\" int);"),
        ("drizzle/0003_orders.sql", "CREATE TABLE \"orders\" (\"id\" int);"),
        ("drizzle/0004_next.sql", "CREATE TABLE \"next\" (\"id\" int);"),
    ]);
    let set = project.set(FrameworkKind::Drizzle);
    let db = TestDb::new("ledger_drizzle");
    db.setup(&format!(
        "CREATE SCHEMA IF NOT EXISTS \"drizzle\";
         CREATE TABLE IF NOT EXISTS \"drizzle\".\"__drizzle_migrations\" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint);
         INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('{}', 1700000000000), ('{}', 1700000100000), ('{}', 1700000300000), ('{}', 1700000350000);",
        SCRIPT_SHA256,
        checksum::drizzle(email),
        checksum::drizzle("CREATE TABLE \"orders\" (\"id\" int);"),
        checksum::drizzle("SELECT 1;"),
    ));
    assert_eq!(checksum::drizzle(SCRIPT), SCRIPT_SHA256);
    let ledger = read(&db, &set).expect("a Drizzle ledger");
    assert_eq!(ledger.table, "drizzle.__drizzle_migrations");
    assert_eq!(
        states(&ledger::statuses(&set, &ledger)),
        ["applied", "applied", "skipped: never applied", "applied", "pending", "no file: applied"]
    );
    let d = described(&set, &findings(&set, &ledger));
    assert_eq!(d.len(), 2, "{d:#?}");
    let edited = only(&d, "applied-migration-edited");
    assert_eq!(edited[0].0, "0001_email.sql");
    assert!(edited[0].2.contains("Drizzle never compares this hash"), "{}", edited[0].2);
    let missing = only(&d, "applied-migration-missing");
    assert_eq!(missing[0].0, "0003_orders.sql");
    assert!(
        missing[0].2.contains("lists `1700000350000`") && missing[0].2.contains("WHERE created_at = 1700000350000;"),
        "{}",
        missing[0].2
    );
}

// ---------------------------------------------------------------------------------------------
// Supabase

const SUPABASE_DDL: &str = "CREATE SCHEMA IF NOT EXISTS supabase_migrations;
CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (version text NOT NULL PRIMARY KEY);";
const SUPABASE_COLUMNS: &str =
    "ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS statements text[];
ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS name text;";

#[test]
fn supabase_stored_statements_are_compared() {
    let project = Project::new(&[
        (
            "supabase/migrations/20240101000000_users.sql",
            "-- users\ncreate table users (id bigint primary key);\n\ncreate index users_id on users (id);\n",
        ),
        (
            "supabase/migrations/20240102000000_email.sql",
            "alter table users add column email text;\nalter table users add column name text not null;\n",
        ),
    ]);
    let set = project.set(FrameworkKind::Supabase);
    let db = TestDb::new("ledger_supabase");
    db.setup(&format!(
        "{SUPABASE_DDL}\n{SUPABASE_COLUMNS}
         INSERT INTO supabase_migrations.schema_migrations (version, name, statements) VALUES
           ('20240101000000', 'users', ARRAY['-- users\ncreate table users (id bigint primary key)', 'create index users_id on users (id)']),
           ('20240102000000', 'email', ARRAY['alter table users add column email text', 'alter table users add column name text']),
           ('20231231000000', 'gone', ARRAY['select 1']);"
    ));
    let ledger = read(&db, &set).expect("a Supabase ledger");
    assert_eq!(ledger.entries[1].statements.as_ref().map(Vec::len), Some(2));
    assert_eq!(states(&ledger::statuses(&set, &ledger)), ["applied", "applied", "no file: applied"]);
    let found = findings(&set, &ledger);
    let d = described(&set, &found);
    assert_eq!(d.len(), 2, "{d:#?}");
    let edited = only(&d, "applied-migration-edited");
    assert_eq!(edited[0].0, "20240102000000_email.sql");
    assert!(
        edited[0].2.contains("statement 2 differs: the ledger has `alter table users add column name text`, the file has `alter table users add column name text not null`"),
        "{}",
        edited[0].2
    );
    // Reported on the statement that differs.
    let (path, f) = found.iter().find(|(_, f)| f.rule == "applied-migration-edited").expect("edited");
    assert_eq!(
        &fs::read_to_string(path).expect("read")[f.range.clone()],
        "alter table users add column name text not null;"
    );
    assert_eq!(f.statement, 1);
    let missing = only(&d, "applied-migration-missing");
    assert!(
        missing[0].2.contains("lists `20231231000000` (gone)")
            && missing[0].2.contains("supabase migration repair --status reverted 20231231000000"),
        "{}",
        missing[0].2
    );
}

#[test]
fn supabase_ledgers_without_statements_still_read() {
    let project = Project::new(&[("supabase/migrations/20240101000000_users.sql", SCRIPT)]);
    let set = project.set(FrameworkKind::Supabase);
    let db = TestDb::new("ledger_supabase_old");
    db.setup(&format!(
        "{SUPABASE_DDL}\nINSERT INTO supabase_migrations.schema_migrations (version) VALUES ('20240101000000');"
    ));
    let ledger = read(&db, &set).expect("an older Supabase ledger");
    assert_eq!((ledger.entries[0].statements.as_ref(), ledger.entries[0].name.as_ref()), (None, None));
    assert_eq!(states(&ledger::statuses(&set, &ledger)), ["applied"]);
    assert!(findings(&set, &ledger).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Ledgers without checksums: goose, dbmate, Diesel, node-pg-migrate

#[test]
fn goose_latest_row_per_version() {
    let up = |sql: &str| format!("-- +goose Up\n{sql}\n-- +goose Down\nSELECT 1;\n");
    let project = Project::new(&[
        ("migrations/00001_users.sql", &up(SCRIPT)),
        ("migrations/00002_email.sql", &up("ALTER TABLE users ADD COLUMN email text;")),
        ("migrations/00004_orders.sql", &up("CREATE TABLE orders (id int);")),
    ]);
    let set = project.set(FrameworkKind::Goose);
    let db = TestDb::new("ledger_goose");
    db.setup(
        "CREATE TABLE goose_db_version (
            id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,
            version_id bigint NOT NULL,
            is_applied boolean NOT NULL,
            tstamp timestamp NOT NULL DEFAULT now()
         );
         INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES
           (0, true, '2024-01-01 00:00:00'), (1, true, '2024-01-01 00:00:01'), (2, true, '2024-01-01 00:00:02'),
           (3, true, '2024-01-01 00:00:03'), (2, false, '2024-01-01 00:00:04');",
    );
    let ledger = read(&db, &set).expect("a goose ledger");
    assert_eq!(ledger.entries.len(), 4, "the version 0 row is not a migration");
    assert_eq!(
        states(&ledger::statuses(&set, &ledger)),
        ["applied 2024-01-01 00:00 UTC", "pending", "pending", "no file: applied 2024-01-01 00:00 UTC"]
    );
    let d = described(&set, &findings(&set, &ledger));
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].0.as_str(), d[0].1), ("00002_email.sql", "applied-migration-missing"));
    assert!(d[0].2.contains("DELETE FROM goose_db_version WHERE version_id = 3;"), "{}", d[0].2);
}

#[test]
fn dbmate_diesel_and_node_pg_migrate_rows() {
    let db = TestDb::new("ledger_plain_ledgers");

    let dbmate = Project::new(&[
        (
            "db/migrations/20240101000000_users.sql",
            &format!("-- migrate:up\n{SCRIPT}\n-- migrate:down\nDROP TABLE users;\n"),
        ),
        ("db/migrations/20240102000000_email.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 1;\n"),
    ]);
    let set = dbmate.set(FrameworkKind::Dbmate);
    db.setup(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(128) PRIMARY KEY);
              INSERT INTO schema_migrations (version) VALUES ('20240101000000'), ('20231201000000');",
    );
    let ledger = read(&db, &set).expect("a dbmate ledger");
    assert_eq!(states(&ledger::statuses(&set, &ledger)), ["applied", "pending", "no file: applied"]);
    let d = described(&set, &findings(&set, &ledger));
    assert!(
        d.len() == 1 && d[0].2.contains("DELETE FROM schema_migrations WHERE version = '20231201000000';"),
        "{d:#?}"
    );

    let diesel = Project::new(&[
        ("migrations/2024-01-01-000000_users/up.sql", SCRIPT),
        ("migrations/2024-01-01-000000_users/down.sql", "DROP TABLE users;\n"),
        ("migrations/2024-01-02-000000_email/up.sql", "ALTER TABLE users ADD COLUMN email text;\n"),
    ]);
    let set = diesel.set(FrameworkKind::Diesel);
    db.setup("CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (
                version VARCHAR(50) PRIMARY KEY NOT NULL,
                run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
              );
              INSERT INTO __diesel_schema_migrations (version, run_on) VALUES ('20240101000000', '2024-01-05 10:00:00');");
    let ledger = read(&db, &set).expect("a Diesel ledger");
    assert_eq!(states(&ledger::statuses(&set, &ledger)), ["applied 2024-01-05 10:00 UTC", "pending"]);
    assert!(findings(&set, &ledger).is_empty());

    let npm = Project::new(&[
        (
            "migrations/1700000000000_users.sql",
            &format!("-- Up Migration\n{SCRIPT}\n-- Down Migration\nDROP TABLE users;\n"),
        ),
        ("migrations/1700000100000_seed.js", "exports.up = (pgm) => {};\n"),
        ("migrations/1700000200000_email.sql", "-- Up Migration\nSELECT 1;\n"),
    ]);
    let set = npm.set(FrameworkKind::NodePgMigrate);
    db.setup(
        "CREATE TABLE pgmigrations (id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
              INSERT INTO pgmigrations (name, run_on) VALUES ('1700000000000_users', '2024-01-01 00:00:00'),
                ('1700000100000_seed', '2024-01-01 00:00:01'), ('1700000300000_gone', '2024-01-01 00:00:02');",
    );
    let ledger = read(&db, &set).expect("a node-pg-migrate ledger");
    assert_eq!(
        states(&ledger::statuses(&set, &ledger)),
        ["applied 2024-01-01 00:00 UTC", "pending", "no file: applied 2024-01-01 00:00 UTC"],
        "the JS migration's row is not missing"
    );
    let d = described(&set, &findings(&set, &ledger));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].0, "1700000200000_email.sql");
    assert!(d[0].2.contains("DELETE FROM pgmigrations WHERE name = '1700000300000_gone';"), "{}", d[0].2);
}

// ---------------------------------------------------------------------------------------------
// pop / popx

#[test]
fn pop_rows_are_versions_of_the_set_s_dialect_and_fizz_rows_are_not_missing() {
    let pop = Project::new(&[
        ("migrations/20240101000000_users.postgres.up.sql", SCRIPT),
        ("migrations/20240101000000_users.postgres.down.sql", "DROP TABLE users;\n"),
        ("migrations/20240101000000_users.mysql.up.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\n"),
        ("migrations/20240101000000_users.mysql.down.sql", "DROP TABLE users;\n"),
        ("migrations/20240102000000_email.up.sql", "ALTER TABLE users ADD COLUMN email text;\n"),
        ("migrations/20240102000000_email.down.sql", "ALTER TABLE users DROP COLUMN email;\n"),
        ("migrations/20240103000000_seed.up.fizz", "sql(\"INSERT INTO users (id) VALUES (1)\")\n"),
        ("migrations/20240103000000_seed.down.fizz", "sql(\"DELETE FROM users\")\n"),
        ("migrations/20240104000000_index.postgres.up.sql", "CREATE INDEX users_email ON users (email);\n"),
        ("migrations/20240104000000_index.postgres.down.sql", "DROP INDEX users_email;\n"),
    ]);
    let set = pop.set(FrameworkKind::Pop);
    let db = TestDb::new("ledger_pop");
    // popx's transactional migration table, as `createTransactionalMigrationTable` writes it.
    db.setup(
        "CREATE TABLE schema_migration (version VARCHAR (48) NOT NULL, version_self INT NOT NULL DEFAULT 0);
         CREATE UNIQUE INDEX schema_migration_version_idx ON schema_migration (version);
         CREATE INDEX schema_migration_version_self_idx ON schema_migration (version_self);
         INSERT INTO schema_migration (version) VALUES ('20240101000000'), ('20240102000000'), ('20240103000000'),
           ('20231201000000');",
    );
    let ledger = read(&db, &set).expect("a pop ledger");
    assert_eq!(
        states(&ledger::statuses(&set, &ledger)),
        ["applied", "applied", "pending", "no file: applied"],
        "the fizz migration's row is not missing"
    );
    let d = described(&set, &findings(&set, &ledger));
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!((d[0].0.as_str(), d[0].1), ("20240101000000_users.postgres.up.sql", "applied-migration-missing"));
    assert!(d[0].2.contains("DELETE FROM schema_migration WHERE version = '20231201000000';"), "{}", d[0].2);
}

// ---------------------------------------------------------------------------------------------
// Two files, one version: only the one that ran is applied

#[test]
fn of_two_files_with_one_version_only_the_one_that_ran_is_applied() {
    // goose records only the version: the row goes to the file goose lists first; the other
    // is not applied (goose refuses to run while both exist).
    let up = |sql: &str| format!("-- +goose Up\n{sql}\n-- +goose Down\nSELECT 1;\n");
    let goose = Project::new(&[
        ("migrations/00001_users.sql", &up(SCRIPT)),
        ("migrations/00002_a_email.sql", &up("ALTER TABLE users ADD COLUMN email text;")),
        ("migrations/00002_b_phone.sql", &up("ALTER TABLE users ADD COLUMN phone text;")),
    ]);
    let set = goose.set(FrameworkKind::Goose);
    let db = TestDb::new("ledger_shared_goose");
    db.setup(
        "CREATE TABLE goose_db_version (id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, version_id bigint \
         NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NOT NULL DEFAULT now());
         INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES (0, true, '2024-01-01 00:00:00'),
           (1, true, '2024-01-01 00:00:01'), (2, true, '2024-01-01 00:00:02');",
    );
    let ledger = read(&db, &set).expect("a goose ledger");
    assert_eq!(
        states(&ledger::statuses(&set, &ledger)),
        ["applied 2024-01-01 00:00 UTC", "applied 2024-01-01 00:00 UTC", "pending"]
    );

    // golang-migrate keeps one current version: it covers one file per version, not both.
    let gm = Project::new(&[
        ("db/migrations/0001_users.up.sql", SCRIPT),
        ("db/migrations/0002_a_email.up.sql", "ALTER TABLE users ADD COLUMN email text;\n"),
        ("db/migrations/0002_b_phone.up.sql", "ALTER TABLE users ADD COLUMN phone text;\n"),
        ("db/migrations/0003_orders.up.sql", "CREATE TABLE orders (id int);\n"),
    ]);
    let set = gm.set(FrameworkKind::GolangMigrate);
    let db = TestDb::new("ledger_shared_migrate");
    db.setup(
        "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (3, false);",
    );
    let ledger = read(&db, &set).expect("a golang-migrate ledger");
    assert_eq!(states(&ledger::statuses(&set, &ledger)), ["applied", "applied", "pending", "applied"]);

    // dbmate records only the version and takes it as applied for every file that has it: the
    // second file is never run.
    let dbmate = Project::new(&[
        ("db/migrations/20240101000000_a_users.sql", &format!("-- migrate:up\n{SCRIPT}-- migrate:down\n")),
        (
            "db/migrations/20240101000000_b_email.sql",
            "-- migrate:up\nALTER TABLE users ADD COLUMN email text;\n-- migrate:down\n",
        ),
    ]);
    let set = dbmate.set(FrameworkKind::Dbmate);
    let db = TestDb::new("ledger_shared_dbmate");
    db.setup(
        "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);
         INSERT INTO schema_migrations (version) VALUES ('20240101000000');",
    );
    let ledger = read(&db, &set).expect("a dbmate ledger");
    assert_eq!(states(&ledger::statuses(&set, &ledger)), ["applied", "skipped: never applied"]);

    // Flyway records the script's description: the row names the file that ran, the second one.
    let flyway = Project::new(&[
        ("db/migration/V1__users.sql", SCRIPT),
        ("db/migration/V2__add_email.sql", "ALTER TABLE users ADD COLUMN email text;\n"),
        ("db/migration/V2__add_phone.sql", "ALTER TABLE users ADD COLUMN phone text;\n"),
    ]);
    let set = flyway.set(FrameworkKind::Flyway);
    let db = TestDb::new("ledger_shared_flyway");
    db.setup(&format!(
        "{FLYWAY_DDL}{}{}",
        flyway_row(1, Some("1"), "users", "SQL", Some(SCRIPT_CRC32), "2024-01-01 00:00:00", true),
        flyway_row(2, Some("2"), "add phone", "SQL", Some(0), "2024-01-02 00:00:00", true)
    ));
    let ledger = read(&db, &set).expect("a Flyway ledger");
    let got = states(&ledger::statuses(&set, &ledger));
    let files: Vec<String> = set
        .migrations
        .iter()
        .map(|m| {
            m.up.as_deref().and_then(Path::file_name).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        })
        .collect();
    let by_file: Vec<(&str, &str)> = files.iter().map(String::as_str).zip(got.iter().map(String::as_str)).collect();
    assert_eq!(
        by_file,
        [
            ("V1__users.sql", "applied 2024-01-01 00:00 UTC"),
            ("V2__add_email.sql", "pending"),
            ("V2__add_phone.sql", "applied 2024-01-02 00:00 UTC")
        ]
    );
}
