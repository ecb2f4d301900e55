//! Schema drift, the effects of a failed migration and its recovery migration, and `safemig
//! drift`, against a real PostgreSQL (127.0.0.1:5432, user `postgres`, trust).
//!
//! Every test builds a migration set in a temporary directory, applies it to a database of its
//! own (`safemig_drift_<test>_<pid>_<n>`, dropped by [`TestDb`]'s `Drop`, also when the test
//! fails) with the synchronous client, changes the database by hand, and checks what safemig
//! reads from it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use safemig::config::{Config, DatabaseConfig, Secret};
use safemig::fixes::verify::Verifier;
use safemig::fixes::{FileEdit, Fix, Safety};
use safemig::live::catalog::load_snapshot;
use safemig::live::connect::connect;
use safemig::live::drift::{diff, Basis, DriftKind, DriftObject};
use safemig::live::effects::{statement_effects, EffectState};
use safemig::live::ledger;
use safemig::live::recovery::recovery_migration;
use safemig::live::{LiveFacts, LiveSnapshot};
use safemig::project::{Disk, Project, ProjectAnalysis};
use safemig::schema::replay_file;
use safemig::sql::SqlFile;

#[path = "../../tests/support/pg.rs"]
mod pg;
use pg::TestDb;

/// The catalog as safemig reads it.
fn snapshot(db: &TestDb) -> LiveSnapshot {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let cfg = DatabaseConfig { statement_timeout_ms: 10_000, connect_timeout_ms: 10_000, ..DatabaseConfig::default() };
    runtime.block_on(async {
        let client = match connect(&Secret::new(db.url()), &cfg).await {
            Ok(c) => c,
            Err(e) => panic!("connect: {e}"),
        };
        match load_snapshot(&client).await {
            Ok(s) => s,
            Err(e) => panic!("snapshot: {e}"),
        }
    })
}

/// A golang-migrate project in a temporary directory: `db/migrations/<name>` for each file.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let migrations = dir.path().join("db/migrations");
    std::fs::create_dir_all(&migrations).expect("mkdir");
    for (name, text) in files {
        std::fs::write(migrations.join(name), text).expect("write a migration");
    }
    dir
}

/// What golang-migrate does for each file: the whole file as one `Exec`, then the ledger row.
fn migrate_up(db: &TestDb, files: &[(&str, &str)]) {
    let mut client = db.sync();
    client
        .batch_execute("CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)")
        .expect("ledger");
    for (name, text) in files {
        client.batch_execute(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let version: i64 = name.split('_').next().and_then(|v| v.parse().ok()).expect("numbered file");
        client
            .batch_execute(&format!(
                "DELETE FROM schema_migrations; INSERT INTO schema_migrations VALUES ({version}, false)"
            ))
            .expect("ledger row");
    }
}

fn analyse(root: &Path) -> (Project, ProjectAnalysis) {
    let project = Project::open(root, Config::default());
    assert_eq!(project.sets.len(), 1, "{:?}", project.messages);
    let analysis = project.analyze(&Disk, None);
    (project, analysis)
}

fn parsed(analysis: &ProjectAnalysis, path: &Path) -> Option<(Arc<str>, Arc<SqlFile>)> {
    let f = analysis.files.get(path)?;
    Some((Arc::clone(&f.analysis.file.text), Arc::clone(&f.analysis.file)))
}

const INIT: &str = "\
CREATE TABLE users (
  id serial PRIMARY KEY,
  email varchar(255) NOT NULL UNIQUE,
  name text DEFAULT 'anon',
  created_at timestamptz NOT NULL DEFAULT now(),
  score int DEFAULT -1 CHECK (score >= -1)
);
CREATE TABLE orders (
  id bigserial PRIMARY KEY,
  user_id int NOT NULL REFERENCES users (id),
  total numeric(10, 2) NOT NULL DEFAULT 0,
  status text NOT NULL DEFAULT 'new',
  placed_at timestamp DEFAULT CURRENT_TIMESTAMP,
  tags text[] DEFAULT '{}',
  flag boolean DEFAULT false,
  CHECK (total >= 0)
);
";

const INDEXES: &str = "\
CREATE INDEX orders_user_id_idx ON orders (user_id);
CREATE INDEX ON users (lower(email));
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('new', 'paid', 'pending'));
";

const MORE: &str = "\
ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'pending';
CREATE TABLE audit (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz DEFAULT CURRENT_TIMESTAMP,
  payload jsonb DEFAULT '{}'::jsonb,
  amount double precision,
  code char(3),
  CONSTRAINT audit_code_unique UNIQUE (code)
);
";

fn shop() -> Vec<(&'static str, &'static str)> {
    vec![("0001_init.up.sql", INIT), ("0002_indexes.up.sql", INDEXES), ("0003_more.up.sql", MORE)]
}

#[test]
fn drift_reports_exactly_the_hand_made_changes_on_the_right_statements() {
    let db = TestDb::new("drift_diff");
    let files = shop();
    let dir = project(&files);
    migrate_up(&db, &files);
    let (project, analysis) = analyse(dir.path());
    let replay = &analysis.replays[0];

    // Built from the migrations alone: nothing differs, whatever the spelling.
    let clean = diff(replay.final_schema(), &snapshot(&db));
    assert_eq!(clean, Vec::new(), "{clean:#?}");

    db.sync()
        .batch_execute(
            "ALTER TABLE users ADD COLUMN nickname text;
             ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'draft';
             DROP INDEX orders_user_id_idx;",
        )
        .expect("hand-made changes");
    let live = snapshot(&db);
    let drift = diff(replay.final_schema(), &live);
    let got: Vec<(&str, &DriftObject, DriftKind, Option<String>)> =
        drift.iter().map(|d| (d.table.as_str(), &d.object, d.kind, d.origin.as_ref().map(|o| o.to_string()))).collect();
    assert_eq!(
        got,
        [
            ("orders", &DriftObject::Column("status".into()), DriftKind::Default, Some("0003_more.up.sql:1".into())),
            (
                "orders",
                &DriftObject::Index("orders_user_id_idx".into()),
                DriftKind::Missing,
                Some("0002_indexes.up.sql:1".into())
            ),
            ("users", &DriftObject::Column("nickname".into()), DriftKind::Extra, None),
        ]
    );
    assert_eq!(drift[0].migrations.as_deref(), Some("`'pending'`"));
    assert_eq!(drift[0].database.as_deref(), Some("`'draft'::text`"));
    assert_eq!(drift[2].database.as_deref(), Some("text"));

    // The findings sit on the statements that define each object; the hand-made column on the
    // newest migration.
    let lookup = |p: &Path| parsed(&analysis, p);
    let mut findings = Vec::new();
    let basis = Basis::Ledger { applied: 3, pending: 0, failed: 0 };
    safemig::rules::schema_drift::findings(&project.sets[0], &drift, &basis, &live, &lookup, &mut findings);
    let placed: Vec<(String, String)> = findings
        .iter()
        .map(|(path, f)| {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let text = lookup(path).map(|(t, _)| t[f.range.clone()].to_string()).unwrap_or_default();
            (name, text)
        })
        .collect();
    assert_eq!(
        placed,
        [
            ("0003_more.up.sql".to_string(), "ALTER COLUMN status SET DEFAULT 'pending'".to_string()),
            ("0002_indexes.up.sql".to_string(), "CREATE INDEX orders_user_id_idx".to_string()),
            (
                "0003_more.up.sql".to_string(),
                "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'pending';".to_string()
            ),
        ]
    );
    assert!(findings.iter().all(|(_, f)| f.rule == "schema-drift"));
    assert!(
        findings[2].1.message.starts_with("column `users.nickname` (text) exists in the dev database"),
        "{}",
        findings[2].1.message
    );
}

/// The failed migration: its third statement, a concurrent unique index over duplicate emails,
/// fails and leaves an INVALID index; the two after it never run.
const FAILED: &str = "\
CREATE TABLE accounts (id serial PRIMARY KEY, owner_id int NOT NULL);
ALTER TABLE users ADD COLUMN nickname text;
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);
ALTER TABLE accounts ADD FOREIGN KEY (owner_id) REFERENCES users (id);
CREATE INDEX accounts_owner_id_idx ON accounts (owner_id);
";

/// A migration 2 that failed part-way, with what it ran on.
struct Failed {
    /// Before `db`: the connection closes before the database is dropped.
    client: postgres::Client,
    dir: tempfile::TempDir,
    db: TestDb,
    /// PostgreSQL's message for the statement that failed.
    failure: Option<String>,
}

/// A golang-migrate project: `0001_users.up.sql` (`users`) applied, the rows `rows` inserted, then
/// migration 2 run as golang-migrate with x-multi-statement runs it: the ledger row dirty first,
/// then each statement on its own, up to the first that fails.
fn failed_after_users(name: &str, users: &str, rows: &str, (file, text): (&str, &str)) -> Failed {
    let db = TestDb::new(name);
    let base = [("0001_users.up.sql", users)];
    let dir = project(&[base[0], (file, text)]);
    migrate_up(&db, &base);
    let mut client = db.sync();
    client.batch_execute(rows).expect("rows");
    client.batch_execute("UPDATE schema_migrations SET version = 2, dirty = true").expect("dirty");
    let parsed = SqlFile::parse(text, safemig::sql::Dialect::Postgres, None);
    let failure = parsed.statements.iter().find_map(|stmt| {
        let e = client.batch_execute(&stmt.parsed.text).err()?;
        Some(e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_string()))
    });
    Failed { client, dir, db, failure }
}

/// Applies the recovery as golang-migrate would (each file as one Exec), twice: it must be
/// re-runnable.
fn apply_twice(client: &mut postgres::Client, recovery: &safemig::live::recovery::Recovery) {
    for round in 1..=2 {
        for f in recovery.sql_files() {
            if let Err(e) = client.batch_execute(&f.text) {
                let why = e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_string());
                panic!("round {round}: {} failed: {why}\n{}", f.name, f.text);
            }
        }
    }
}

#[test]
fn a_failed_migration_is_completed_by_a_re_runnable_recovery() {
    let Failed { mut client, dir, db, failure } = failed_after_users(
        "drift_recovery",
        "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);\n",
        "INSERT INTO users (email) VALUES ('a@x'), ('b@x'), ('a@x')",
        ("0002_accounts.up.sql", FAILED),
    );
    assert!(failure.as_deref().is_some_and(|e| e.contains("duplicate") || e.contains("unique")), "{failure:?}");

    let live = snapshot(&db);
    let (project, analysis) = analyse(dir.path());
    let set = &project.sets[0];
    let replay = &analysis.replays[0];
    let path = dir.path().join("db/migrations/0002_accounts.up.sql");
    let (_, file) = parsed(&analysis, &path).expect("the failed migration was analysed");
    let before = replay.before(1);
    let events = replay_file(&before, &file);
    let effects = statement_effects(&file, &events, &before, &live);
    let states: Vec<EffectState> = effects.iter().map(|e| e.state).collect();
    assert_eq!(
        states,
        [
            EffectState::Applied,
            EffectState::Applied,
            EffectState::Partial,
            EffectState::NotApplied,
            EffectState::NotApplied
        ],
        "{effects:#?}"
    );
    assert_eq!(effects[2].leftover.as_deref(), Some("users_email_key"));
    assert_eq!(effects[3].creates, ["accounts_owner_id_fkey"]);

    let recovery = recovery_migration(set, &set.migrations[1], &file, &effects, &before, &live);
    let names: Vec<&str> = recovery.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        ["0003_recover_accounts.up.sql", "0004_recover_accounts.up.sql", "0005_recover_accounts.up.sql"],
        "{recovery:#?}"
    );
    assert!(recovery.ledger_command.ends_with("force 2"), "{}", recovery.ledger_command);
    assert!(recovery.outside_transaction);
    let header = recovery.text();
    assert!(header.contains("0002_accounts.up.sql"), "{header}");
    assert!(header.contains("line 1: CREATE TABLE — table `accounts` exists"), "{header}");
    assert!(header.contains("line 2: ALTER TABLE — column `users.nickname` exists"), "{header}");
    assert!(header.contains(&recovery.ledger_command), "{header}");

    // Fix the data, then apply the recovery as golang-migrate would (each file as one Exec):
    // twice, since it must be re-runnable.
    client.batch_execute("DELETE FROM users WHERE id = 3").expect("fix the duplicate");
    client.batch_execute("UPDATE schema_migrations SET dirty = false").expect("force 2");
    apply_twice(&mut client, &recovery);

    // The database is now what the migrations meant, exactly.
    let after = snapshot(&db);
    let drift = diff(replay.final_schema(), &after);
    assert_eq!(drift, Vec::new(), "{drift:#?}");
    let users = after.table("users").expect("users");
    let index = users.indexes.iter().find(|i| i.name == "users_email_key").expect("the index");
    assert!(index.valid && index.unique, "{index:?}");
    let accounts = after.table("accounts").expect("accounts");
    assert!(accounts.constraints.iter().any(|c| c.name == "accounts_owner_id_fkey"));
    assert!(accounts.indexes.iter().any(|i| i.name == "accounts_owner_id_idx"));
    assert_eq!(users.indexes.len(), 2, "{:?}", users.indexes);
}

/// A failed migration that added a foreign key before seeding the table it references; the
/// check constraint after the seed has nothing to do with `roles`.
const FK_BEFORE_SEED: &str = "\
CREATE TABLE roles (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE audit (id int PRIMARY KEY, note text);
ALTER TABLE users ADD CONSTRAINT users_role_id_fkey FOREIGN KEY (role_id) REFERENCES roles (id);
INSERT INTO roles (id, name) VALUES (1, 'admin'), (2, 'member');
ALTER TABLE users ADD CONSTRAINT users_email_check CHECK (email <> '');
INSERT INTO audit (id, note) VALUES (1, 'roles added');
CREATE INDEX users_role_id_idx ON users (role_id);
";

#[test]
fn a_recovery_seeds_the_referenced_table_before_the_foreign_key_and_runs_twice() {
    // The foreign key fails: the users reference roles the migration seeds only after it.
    let Failed { mut client, dir, db, failure } = failed_after_users(
        "drift_fk_seed",
        "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL, role_id int);\n",
        "INSERT INTO users (email, role_id) VALUES ('a@x', 1), ('b@x', 2), ('c@x', NULL)",
        ("0002_roles.up.sql", FK_BEFORE_SEED),
    );
    assert!(failure.as_deref().is_some_and(|e| e.contains("foreign key")), "{failure:?}");

    let project = Project::open(dir.path(), Config::default());
    let live = facts(&db, &project);
    let analysis = project.analyze_live(&Disk, None, Some(Arc::clone(&live)));
    let set = &project.sets[0];
    let path = dir.path().join("db/migrations/0002_roles.up.sql");
    let (_, file) = parsed(&analysis, &path).expect("the failed migration was analysed");
    let before = analysis.schema_for(&path).expect("the schema before it");
    let effects = safemig::project::failed_effects(set, &path, &file, &before, &live.snapshot);
    let recovery = recovery_migration(set, &set.migrations[1], &file, &effects, &before, &live.snapshot);
    assert_eq!(recovery.files.len(), 1, "{recovery:#?}");
    let text = recovery.text();
    let at = |what: &str| text.find(what).unwrap_or_else(|| panic!("missing `{what}` in\n{text}"));
    // The seed runs before the foreign key, guarded; the unrelated insert keeps its place after
    // the check.
    let seed = at("INSERT INTO roles (id, name) VALUES (1, 'admin'), (2, 'member') ON CONFLICT DO NOTHING;");
    let fk = at("    ALTER TABLE users ADD CONSTRAINT users_role_id_fkey");
    let check = at("    ALTER TABLE users ADD CONSTRAINT users_email_check");
    let audit = at("INSERT INTO audit (id, note) VALUES (1, 'roles added') ON CONFLICT DO NOTHING;");
    let index = at("CREATE INDEX IF NOT EXISTS users_role_id_idx");
    assert!(seed < fk && fk < check && check < audit && audit < index, "{text}");
    assert!(recovery.unguarded.is_empty(), "{recovery:#?}");

    // The recovery is analysed like any migration: the Verifier (as the editor's quick fix runs
    // it) accepts it, and the constraints inside its guards are seen by the rules.
    let finding = analysis.files[&path]
        .analysis
        .findings
        .iter()
        .find(|f| f.rule == "migration-failed")
        .expect("migration-failed")
        .clone();
    let fix = Fix {
        rule: finding.rule,
        title: "recovery".into(),
        preferred: true,
        safety: Safety::Unsafe,
        edits: recovery.files.iter().map(|f| FileEdit::Create { path: f.path.clone(), text: f.text.clone() }).collect(),
    };
    let verifier = Verifier::new(&project, &Disk, Some(&analysis), Some(Arc::clone(&live)), &path).expect("a verifier");
    assert_eq!(verifier.check(&finding, &fix, false), Ok(()));
    let written = SqlFile::parse(text, safemig::sql::Dialect::Postgres, None);
    let guarded = written.statements.iter().filter(|s| s.facts().guard.is_some()).count();
    assert_eq!(guarded, 2, "{text}");

    // Mark it resolved, then apply the recovery as golang-migrate would (the file as one Exec),
    // twice: it must be re-runnable.
    client.batch_execute("UPDATE schema_migrations SET dirty = false").expect("force 2");
    apply_twice(&mut client, &recovery);
    // The database is what the failed migration meant, exactly, and the seed ran once.
    let after = snapshot(&db);
    let replay = &analysis.replays[0];
    let drift = diff(replay.final_schema(), &after);
    assert_eq!(drift, Vec::new(), "{drift:#?}");
    let roles: i64 = client.query_one("SELECT count(*) FROM roles", &[]).expect("count").get(0);
    let audit_rows: i64 = client.query_one("SELECT count(*) FROM audit", &[]).expect("count").get(0);
    assert_eq!((roles, audit_rows), (2, 1));
}

fn safemig(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_safemig"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .output()
        .expect("run safemig")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write_config(root: &Path, url: &str) -> PathBuf {
    let path = root.join("safemig.toml");
    std::fs::write(&path, format!("[database]\nurl = \"{url}\"\n")).expect("write safemig.toml");
    path
}

#[test]
fn the_drift_command_reports_and_exits_by_what_it_found() {
    let db = TestDb::new("drift_cli");
    let files = shop();
    let dir = project(&files);
    migrate_up(&db, &files);
    write_config(dir.path(), &db.url());
    let root = dir.path().to_string_lossy().into_owned();

    let out = safemig(&["drift", &root]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).ends_with("No drift.\n"), "{}", text(&out.stdout));

    db.sync()
        .batch_execute("ALTER TABLE users ADD COLUMN nickname text; ALTER TABLE audit ALTER COLUMN amount TYPE real;")
        .expect("hand-made changes");
    let out = safemig(&["drift", &root]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(
            "\n  audit\n    ~ column amount type: migrations double precision (0003_more.up.sql:2) · database real\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("\n  users\n    + column nickname: only in the database (text)"), "{stdout}");
    assert!(stdout.ends_with("2 differences in 2 tables.\n"), "{stdout}");

    let out = safemig(&["drift", &root, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(report["total"], 2);
    assert_eq!(report["database"], db.name.as_str());
    let drift = &report["sets"][0]["drift"];
    assert_eq!(report["sets"][0]["framework"], "golang-migrate");
    assert_eq!(drift[0]["table"], "audit");
    assert_eq!(drift[0]["kind"], "type");
    assert_eq!(drift[0]["defined_by"]["line"], 2);
    assert!(drift[0]["defined_by"]["path"].as_str().is_some_and(|p| p.ends_with("0003_more.up.sql")));
    assert_eq!(drift[1]["object"], "column");
    assert_eq!(drift[1]["name"], "nickname");
    assert_eq!(drift[1]["kind"], "extra");
    assert!(drift[1]["defined_by"].is_null());

    // A database that cannot be reached: exit 2, and the password shows nowhere.
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let config = write_config(elsewhere.path(), "postgres://u:secret@127.0.0.1:1/x");
    for format in ["human", "json"] {
        let out = safemig(&["drift", &root, "--config", &config.to_string_lossy(), "--format", format]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
        assert!(stderr.contains("cannot reach the database at 127.0.0.1:1"), "{stderr}");
        assert!(!stdout.contains("secret") && !stderr.contains("secret"), "{stdout}{stderr}");
    }

    // No database configured at all.
    std::fs::remove_file(dir.path().join("safemig.toml")).expect("remove the config");
    let out = safemig(&["drift", &root]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no dev database is configured"), "{}", text(&out.stderr));
}

#[test]
fn a_database_built_from_other_migrations_is_not_compared() {
    let db = TestDb::new("drift_other");
    db.sync().batch_execute("CREATE TABLE something_else (id int)").expect("setup");
    let files = shop();
    let dir = project(&files);
    write_config(dir.path(), &db.url());
    let out = safemig(&["drift", &dir.path().to_string_lossy()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("not compared — none of its tables exist"), "{stdout}");
    assert!(stdout.contains("No migration set matches"), "{stdout}");
}

// ---------------------------------------------------------------------------------------------
// The ledger decides what is drift

/// The snapshot and every set's ledger, read as the editor reads them.
fn facts(db: &TestDb, project: &Project) -> Arc<LiveFacts> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let cfg = DatabaseConfig { statement_timeout_ms: 10_000, connect_timeout_ms: 10_000, ..DatabaseConfig::default() };
    runtime.block_on(async {
        let client = match connect(&Secret::new(db.url()), &cfg).await {
            Ok(c) => c,
            Err(e) => panic!("connect: {e}"),
        };
        let snapshot = match load_snapshot(&client).await {
            Ok(s) => s,
            Err(e) => panic!("snapshot: {e}"),
        };
        let txn = client.read().await.expect("a read-only transaction");
        let mut ledgers = Vec::new();
        for set in &project.sets {
            let session = txn.client().expect("open");
            if let Some(l) = ledger::read(session, set).await.expect("the ledger query runs") {
                ledgers.push((set.dir.clone(), l));
            }
        }
        txn.finish().await.expect("finish");
        Arc::new(LiveFacts { snapshot: Arc::new(snapshot), ledgers, ..LiveFacts::default() })
    })
}

/// (file name, rule, message) of every finding of `rules` with the database as it is now, sorted.
fn findings_now(db: &TestDb, project: &Project, rules: &[&str]) -> Vec<(String, String, String)> {
    let analysis = project.analyze_live(&Disk, None, Some(facts(db, project)));
    live_findings(&analysis, rules)
}

/// (file name, rule, message) of every finding of `rules`, sorted.
fn live_findings(analysis: &ProjectAnalysis, rules: &[&str]) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = analysis
        .files
        .iter()
        .flat_map(|(path, f)| {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            f.analysis
                .findings
                .iter()
                .filter(|x| rules.contains(&x.rule))
                .map(move |x| (name.clone(), x.rule.to_string(), x.message.clone()))
        })
        .collect();
    out.sort();
    out
}

const PENDING_CREATES: &str = "\
CREATE TABLE coupons (id bigint PRIMARY KEY, code text NOT NULL);
ALTER TABLE users ADD COLUMN phone text;
CREATE INDEX users_name_idx ON users (name);
";
const PENDING_RENAME: &str = "ALTER TABLE orders RENAME COLUMN status TO state;\n";

fn shop_with_pending() -> Vec<(&'static str, &'static str)> {
    let mut files = shop();
    files.push(("0004_coupons.up.sql", PENDING_CREATES));
    files.push(("0005_rename.up.sql", PENDING_RENAME));
    files
}

#[test]
fn pending_migrations_are_not_drift_but_a_hand_made_column_still_is() {
    let db = TestDb::new("drift_pending");
    let files = shop_with_pending();
    let dir = project(&files);
    migrate_up(&db, &files[..3]);
    let project = Project::open(dir.path(), Config::default());

    // Two pending migrations: a table, a column and an index to create, a column to rename.
    assert_eq!(findings_now(&db, &project, &["schema-drift"]), Vec::<(String, String, String)>::new());

    // A column added by hand next to them is drift all the same.
    db.sync().batch_execute("ALTER TABLE users ADD COLUMN nickname text").expect("by hand");
    let found = findings_now(&db, &project, &["schema-drift"]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, "0005_rename.up.sql");
    assert!(found[0].2.starts_with("column `users.nickname` (text) exists in the dev database"), "{}", found[0].2);
}

#[test]
fn without_a_ledger_the_whole_chain_counts_and_the_finding_says_so() {
    let db = TestDb::new("drift_no_ledger");
    let files = shop_with_pending();
    let dir = project(&files);
    migrate_up(&db, &files[..3]);
    db.sync().batch_execute("DROP TABLE schema_migrations").expect("no ledger");
    let project = Project::open(dir.path(), Config::default());
    let found = findings_now(&db, &project, &["schema-drift"]);
    let about = |needle: &str| found.iter().filter(|f| f.2.contains(needle)).count();
    assert_eq!(about("table `coupons` is missing"), 1, "{found:#?}");
    assert_eq!(about("column `orders.state` is missing"), 1, "{found:#?}");
    assert!(
        found.iter().all(|f| f.2.ends_with(
            "(the database has no ledger rows for this set (`schema_migrations` is missing or empty), so it is \
             compared with every migration)"
        )),
        "{found:#?}"
    );
}

#[test]
fn an_out_of_order_ledger_is_replayed_migration_by_migration() {
    let db = TestDb::new("drift_out_of_order");
    let up = |sql: &str| format!("-- +goose Up\n{sql}\n-- +goose Down\nSELECT 1;\n");
    let files = [
        ("00001_a.sql", up("CREATE TABLE a (id int);")),
        ("00002_b.sql", up("CREATE TABLE b (id int);")),
        ("00003_c.sql", up("CREATE TABLE c (id int);")),
    ];
    // goose -allow-missing ran 1 and 3; 2 is pending.
    let named: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let dir = goose_project(&db, &named, &[1, 3]);
    db.setup("CREATE TABLE a (id int); CREATE TABLE c (id int);");
    let project = Project::open(dir.path(), Config::default());
    assert_eq!(project.sets.len(), 1);
    assert_eq!(findings_now(&db, &project, &["schema-drift"]), Vec::<(String, String, String)>::new());

    // Table `c` dropped by hand: its migration ran, so that is drift.
    db.sync().batch_execute("DROP TABLE c").expect("by hand");
    let found = findings_now(&db, &project, &["schema-drift"]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].2.starts_with("table `c` is missing"), "{found:#?}");
}

#[test]
fn the_drift_command_passes_when_only_migrations_are_pending() {
    let db = TestDb::new("drift_cli_pending");
    let files = shop_with_pending();
    let dir = project(&files);
    migrate_up(&db, &files[..3]);
    write_config(dir.path(), &db.url());
    let root = dir.path().to_string_lossy().into_owned();

    let out = safemig(&["drift", &root]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("no drift from database")
            && stdout.contains("2 migrations are pending (not applied yet): their changes were not counted"),
        "{stdout}"
    );
    assert!(stdout.ends_with("No drift.\n"), "{stdout}");
    let out = safemig(&["drift", &root, "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!((report["total"].as_u64(), report["sets"][0]["pending"].as_u64()), (Some(0), Some(2)));

    db.sync().batch_execute("ALTER TABLE users ADD COLUMN nickname text").expect("by hand");
    let out = safemig(&["drift", &root]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("+ column nickname: only in the database (text)"), "{stdout}");
    assert!(stdout.ends_with("1 difference in 1 table.\n"), "{stdout}");
}

// ---------------------------------------------------------------------------------------------
// Pending migrations against the database: partially applied, will fail, baseline needed

/// A goose project (`migrations/`) with `files`; `goose_db_version` records `applied`.
fn goose_project(db: &TestDb, files: &[(&str, &str)], applied: &[i64]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("migrations")).expect("mkdir");
    for (name, text) in files {
        std::fs::write(dir.path().join("migrations").join(name), text).expect("write");
    }
    let rows: Vec<String> = std::iter::once(0).chain(applied.iter().copied()).map(|v| format!("({v}, true)")).collect();
    db.setup(&format!(
        "CREATE TABLE goose_db_version (id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, version_id bigint \
         NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NOT NULL DEFAULT now());
         INSERT INTO goose_db_version (version_id, is_applied) VALUES {};",
        rows.join(", ")
    ));
    dir
}

const GOOSE_INIT: &str =
    "-- +goose Up\nCREATE TABLE users (id bigint PRIMARY KEY, name text);\n-- +goose Down\nDROP TABLE users;\n";

fn goose_email(no_transaction: bool) -> String {
    format!(
        "{}-- +goose Up\nALTER TABLE users ADD COLUMN email text;\nCREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users \
         (email);\nALTER TABLE users ADD COLUMN verified boolean;\n-- +goose Down\nSELECT 1;\n",
        if no_transaction { "-- +goose NO TRANSACTION\n" } else { "" }
    )
}

#[test]
fn a_pending_migration_outside_a_transaction_that_shows_in_part_is_partially_applied() {
    let db = TestDb::new("pending_partial");
    let email = goose_email(true);
    let dir = goose_project(&db, &[("00001_init.sql", GOOSE_INIT), ("00002_email.sql", &email)], &[1]);
    // goose ran 00002 statement by statement: the column went in, the index failed, nothing was
    // recorded.
    db.setup("CREATE TABLE users (id bigint PRIMARY KEY, name text); ALTER TABLE users ADD COLUMN email text;");
    let project = Project::open(dir.path(), Config::default());
    let facts = facts(&db, &project);
    let analysis = project.analyze_live(&Disk, None, Some(Arc::clone(&facts)));
    let found = live_findings(&analysis, &["migration-partially-applied", "migration-will-fail", "schema-drift"]);
    assert_eq!(found.len(), 1, "{found:#?}");
    let (file, rule, message) = &found[0];
    assert_eq!((file.as_str(), rule.as_str()), ("00002_email.sql", "migration-partially-applied"));
    assert!(message.contains(&format!("partly applied in the dev database `{}`", db.name)), "{message}");
    assert!(message.contains("(`-- +goose NO TRANSACTION`)"), "{message}");
    assert!(message.contains("INSERT INTO goose_db_version (version_id, is_applied) VALUES (2, true)"), "{message}");
    assert!(
        message.contains("already in the database: line 3 (column `users.email` exists)")
            && message.contains("not yet: line 4 (index `users_email_key` does not exist)"),
        "{message}"
    );
    assert!(!message.contains("postgres://"), "{message}");
    let f = analysis.files.iter().find(|(p, _)| p.ends_with("00002_email.sql")).map(|(_, f)| f).expect("analysed");
    let finding = f.analysis.findings.iter().find(|x| x.rule == "migration-partially-applied").expect("found");
    assert_eq!(finding.fix.as_ref().map(|h| h.title.as_str()), Some("Write a recovery migration"));

    // The recovery the quick fix writes completes the rest, and runs on the database twice.
    let set = &project.sets[0];
    let (path, parsed_file) = {
        let p = set.migrations[1].up.clone().expect("an up file");
        let parsed = parsed(&analysis, &p).expect("parsed").1;
        (p, parsed)
    };
    let before = analysis.schema_for(&path).expect("a schema");
    let effects = safemig::project::failed_effects(set, &path, &parsed_file, &before, &facts.snapshot);
    let recovery = recovery_migration(set, &set.migrations[1], &parsed_file, &effects, &before, &facts.snapshot);
    for _ in 0..2 {
        for f in recovery.sql_files() {
            // goose runs a NO TRANSACTION file statement by statement; the recovery's own
            // statements are each complete, so sending them one by one is what goose does.
            let file = SqlFile::parse(&f.text, safemig::sql::Dialect::Postgres, None);
            for stmt in &file.statements {
                let sql = &f.text[stmt.range.clone()];
                if sql.trim().trim_end_matches(';').trim().is_empty()
                    || sql.trim_start().starts_with("--") && !sql.contains('\n')
                {
                    continue;
                }
                db.sync().batch_execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
        }
    }
    let after = snapshot(&db);
    let users = after.table("users").expect("users");
    assert!(users.column("verified").is_some() && users.indexes.iter().any(|i| i.name == "users_email_key" && i.valid));
}

#[test]
fn a_pending_migration_in_a_transaction_is_not_partially_applied_it_will_fail() {
    let db = TestDb::new("pending_transactional");
    let email = goose_email(false).replace("CONCURRENTLY ", "");
    let dir = goose_project(&db, &[("00001_init.sql", GOOSE_INIT), ("00002_email.sql", &email)], &[1]);
    db.setup("CREATE TABLE users (id bigint PRIMARY KEY, name text); ALTER TABLE users ADD COLUMN email text;");
    let project = Project::open(dir.path(), Config::default());
    let found = findings_now(&db, &project, &["migration-partially-applied", "migration-will-fail", "schema-drift"]);
    assert_eq!(found.len(), 1, "{found:#?}");
    let (file, rule, message) = &found[0];
    assert_eq!((file.as_str(), rule.as_str()), ("00002_email.sql", "migration-will-fail"));
    assert!(
        message.starts_with(&format!(
            "will fail on the dev database `{}`: column users.email already exists there, though no migration the \
             ledger lists as applied creates it",
            db.name
        )),
        "{message}"
    );
}

#[test]
fn pending_migrations_that_conflict_with_the_database_will_fail() {
    let db = TestDb::new("pending_will_fail");
    let mut files = shop();
    files.push(("0004_coupons.up.sql", PENDING_CREATES));
    files.push((
        "0005_coupon_codes.up.sql",
        "CREATE UNIQUE INDEX coupons_code_key ON coupons (code);\nALTER TABLE audit ADD COLUMN note text;\n",
    ));
    let dir = project(&files);
    migrate_up(&db, &files[..3]);
    let project = Project::open(dir.path(), Config::default());

    // Nothing conflicts: 0005 indexes the table 0004 creates.
    assert_eq!(findings_now(&db, &project, &["migration-will-fail"]), Vec::<(String, String, String)>::new());

    db.sync().batch_execute("CREATE TABLE coupons (id bigint); DROP TABLE audit;").expect("by hand");
    let found = findings_now(&db, &project, &["migration-will-fail"]);
    let summary: Vec<(&str, bool)> = found
        .iter()
        .map(|(file, _, m)| (file.as_str(), m.contains(&format!("the dev database `{}`", db.name))))
        .collect();
    // The runner stops at 0004: what 0005 would meet is judged once 0004 can run.
    assert_eq!(summary, [("0004_coupons.up.sql", true)], "{found:#?}");
    assert!(found[0].2.contains("table coupons already exists there"), "{}", found[0].2);
    assert!(found.iter().all(|f| !f.2.contains("postgres://") && !f.2.contains("127.0.0.1")), "{found:#?}");

    db.sync().batch_execute("DROP TABLE coupons").expect("by hand");
    let found = findings_now(&db, &project, &["migration-will-fail"]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, "0005_coupon_codes.up.sql");
    assert!(found[0].2.contains("table audit does not exist there"), "{}", found[0].2);
}

#[test]
fn a_schema_without_ledger_rows_needs_a_baseline_not_a_flood_of_failures() {
    let db = TestDb::new("pending_baseline");
    let files = shop();
    let dir = project(&files);
    migrate_up(&db, &files);
    db.sync().batch_execute("DROP TABLE schema_migrations").expect("no ledger");
    let project = Project::open(dir.path(), Config::default());
    let found = findings_now(&db, &project, &["baseline-needed", "migration-will-fail", "migration-partially-applied"]);
    assert_eq!(found.len(), 1, "{found:#?}");
    let (file, rule, message) = &found[0];
    assert_eq!((file.as_str(), rule.as_str()), ("0001_init.up.sql", "baseline-needed"));
    let dir_shown = project.sets[0].dir.display().to_string();
    assert!(
        message.contains(&format!(
            "the dev database `{}` already holds every table, view and column of the first 3 migrations \
             (0001_init.up.sql, 0002_indexes.up.sql, 0003_more.up.sql), but has no golang-migrate ledger rows (`schema_migrations` is \
             missing or empty)",
            db.name
        )) && message.ends_with(&format!("migrate -path {dir_shown} -database \"$DATABASE_URL\" force 3")),
        "{message}"
    );

    // A database of something else that happens to have a `users` table: no baseline, and
    // without a ledger nothing says this set is meant to run there, so no failures either.
    let other = TestDb::new("pending_baseline_other");
    other.setup("CREATE TABLE users (id int, login text)");
    let found = findings_now(&other, &project, &["baseline-needed", "migration-will-fail"]);
    assert_eq!(found, Vec::<(String, String, String)>::new());

    // An empty database needs no baseline.
    let empty = TestDb::new("pending_baseline_empty");
    let found = findings_now(&empty, &project, &["baseline-needed", "migration-will-fail"]);
    assert_eq!(found, Vec::<(String, String, String)>::new());
}

#[test]
fn a_prisma_database_built_by_db_push_gets_migrate_resolve() {
    let db = TestDb::new("pending_baseline_prisma");
    let dir = tempfile::tempdir().expect("temp dir");
    let migrations = dir.path().join("prisma/migrations");
    for (name, sql) in [
        ("0_init", "CREATE TABLE \"User\" (\"id\" SERIAL NOT NULL, \"email\" TEXT NOT NULL, CONSTRAINT \"User_pkey\" PRIMARY KEY (\"id\"));\n"),
        ("20240301000000_posts", "CREATE TABLE \"Post\" (\"id\" SERIAL NOT NULL, \"title\" TEXT NOT NULL);\n"),
    ] {
        std::fs::create_dir_all(migrations.join(name)).expect("mkdir");
        std::fs::write(migrations.join(name).join("migration.sql"), sql).expect("write");
    }
    std::fs::write(migrations.join("migration_lock.toml"), "provider = \"postgresql\"\n").expect("lock");
    // `prisma db push` built the first table; `_prisma_migrations` does not exist.
    db.setup("CREATE TABLE \"User\" (\"id\" SERIAL NOT NULL, \"email\" TEXT NOT NULL, CONSTRAINT \"User_pkey\" PRIMARY KEY (\"id\"));");
    let project = Project::open(dir.path(), Config::default());
    assert_eq!(project.sets.len(), 1, "{:?}", project.messages);
    let found = findings_now(&db, &project, &["baseline-needed", "migration-will-fail"]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].1, "baseline-needed");
    assert!(found[0].2.contains("of the first migration (0_init)"), "{}", found[0].2);
    assert!(found[0].2.ends_with("npx prisma migrate resolve --applied 0_init"), "{}", found[0].2);
}

/// Indexes with an extension's operator class, a collation, a non-default opclass or DESC NULLS
/// LAST read back (through `pg_get_indexdef`) as the indexes the migrations build: no drift.
#[test]
fn opclass_collation_and_order_of_index_keys_are_no_drift() {
    let db = TestDb::new("drift_opclass");
    let files = vec![
        (
            "0001_users.up.sql",
            "CREATE EXTENSION IF NOT EXISTS pg_trgm;\nCREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL, email text);\n",
        ),
        (
            "0002_indexes.up.sql",
            "CREATE INDEX users_name_trgm ON users USING gin (name gin_trgm_ops);\n\
             CREATE INDEX users_name_gist ON public.users USING GIST (name public.gist_trgm_ops);\n\
             CREATE INDEX users_name_desc ON users (name COLLATE \"C\" DESC NULLS LAST);\n\
             CREATE INDEX users_email_pattern ON users (email text_pattern_ops, id DESC);\n\
             CREATE INDEX users_lower_email ON users USING btree (lower(email) DESC NULLS LAST) WHERE email IS NOT NULL;\n",
        ),
    ];
    let dir = project(&files);
    migrate_up(&db, &files);
    let (project, analysis) = analyse(dir.path());
    let live = snapshot(&db);
    let defs: Vec<&str> = live.table("users").expect("users").indexes.iter().map(|i| i.definition.as_str()).collect();
    assert!(defs.iter().any(|d| d.contains("USING gin (name gin_trgm_ops)")), "{defs:?}");
    assert!(defs.iter().any(|d| d.contains("(name COLLATE \"C\" DESC NULLS LAST)")), "{defs:?}");
    let clean = diff(analysis.replays[0].final_schema(), &live);
    assert_eq!(clean, Vec::new(), "{clean:#?}");
    // extension-missing is quiet: the chain creates pg_trgm first.
    assert!(live_findings(
        &project.analyze_live(&Disk, None, Some(facts(&db, &project))),
        &["extension-missing", "schema-drift"]
    )
    .is_empty());

    // A real difference still shows: the trigram index dropped by hand.
    db.sync().batch_execute("DROP INDEX users_name_trgm;").expect("drop");
    let drift = diff(analysis.replays[0].final_schema(), &snapshot(&db));
    let got: Vec<(&DriftObject, DriftKind)> = drift.iter().map(|d| (&d.object, d.kind)).collect();
    assert_eq!(got, [(&DriftObject::Index("users_name_trgm".into()), DriftKind::Missing)]);
}
