//! `safemig check` with a dev database, against a real PostgreSQL (127.0.0.1:5432, user
//! `postgres`, trust): the built binary reads the database from `[database]`, `DATABASE_URL`,
//! `.env` or `--database-url-env`, reports the live findings the editor reports, shows the
//! connection state on the summary line and in JSON, and never shows a password.
//!
//! Every test builds a golang-migrate set in a temporary directory, applies part of it to a
//! database of its own (dropped by [`TestDb`]'s `Drop`, also when the test fails) with the
//! synchronous client and writes the ledger as golang-migrate does.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use safemig::config::{Config, Secret};
use safemig::live::connect::connect;
use safemig::live::{load, LiveFacts};
use safemig::project::{Disk, Project};

#[path = "../../tests/support/pg.rs"]
mod pg;
use pg::TestDb;

const USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n";
/// Pending: 3 of the rows the applied migration's table holds break it.
const CHECK: &str = "ALTER TABLE users ADD CONSTRAINT users_email_at CHECK (email LIKE '%@%');\n";

#[path = "../../tests/support/binary.rs"]
mod binary;
use binary::Run;

trait Report {
    /// The rule of every diagnostic in the JSON report.
    fn rules(&self) -> Vec<String>;
    /// The last line of the human report.
    fn summary(&self) -> &str;
}

impl Report for Run {
    fn rules(&self) -> Vec<String> {
        let json = self.json();
        let diagnostics = json["diagnostics"].as_array().expect("diagnostics");
        diagnostics.iter().map(|d| d["rule"].as_str().expect("rule").to_string()).collect()
    }

    fn summary(&self) -> &str {
        self.stdout.lines().last().unwrap_or_default()
    }
}

fn safemig(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    binary::run(cwd, args, env)
}

/// A golang-migrate project: `migrations/0001_users` (applied, with rows) and `0002_check`
/// (pending).
fn project(db: &TestDb) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let migrations = dir.path().join("migrations");
    std::fs::create_dir_all(&migrations).expect("mkdir");
    for (name, text) in [
        ("0001_users.up.sql", USERS),
        ("0001_users.down.sql", "DROP TABLE users;\n"),
        ("0002_check.up.sql", CHECK),
        ("0002_check.down.sql", "ALTER TABLE users DROP CONSTRAINT users_email_at;\n"),
    ] {
        std::fs::write(migrations.join(name), text).expect("write a migration");
    }
    db.setup(&format!(
        "{USERS}INSERT INTO users SELECT g, CASE WHEN g % 10 = 0 THEN 'nobody' ELSE 'u' || g || '@example.com' END \
         FROM generate_series(1, 30) g;\n\
         CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);\n\
         INSERT INTO schema_migrations VALUES (1, false);"
    ));
    dir
}

fn canonical(dir: &Path) -> PathBuf {
    dir.canonicalize().expect("canonical")
}

/// The whole check reads the database: the pending CHECK's probe finds the 3 rows, the summary
/// line and the JSON say where it connected; the findings are those the library computes with
/// the facts the shared loader reads (what the language server uses).
#[test]
fn check_reports_the_live_findings_of_the_configured_database() {
    let db = TestDb::new("check_live");
    let dir = project(&db);
    let root = canonical(dir.path());
    let url = db.url();

    let human = safemig(&root, &["check", "migrations"], &[("DATABASE_URL", &url)]);
    assert_eq!(human.code, 1, "{}\n{}", human.stdout, human.stderr);
    assert!(human.stdout.contains("existing-rows-violate"), "{}", human.stdout);
    assert!(human.stdout.contains("3 existing rows of `users` violate"), "{}", human.stdout);
    let target = format!("postgres@127.0.0.1:5432/{}", db.name);
    assert!(human.summary().ends_with(&format!("; database: connected ({target})")), "{}", human.summary());

    let run = safemig(&root, &["check", "migrations", "--format", "json"], &[("DATABASE_URL", &url)]);
    let json = run.json();
    assert_eq!(json["database"]["state"], "connected", "{}", run.stdout);
    assert_eq!(json["database"]["target"], target.as_str());
    // Only the pending migration is probed: the applied one's table is not re-checked.
    let live: Vec<&Value> = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "existing-rows-violate")
        .collect();
    assert_eq!(live.len(), 1, "{}", run.stdout);
    assert_eq!(live[0]["path"], "migrations/0002_check.up.sql");

    // The same findings as the library with the facts the shared loader reads, as the language
    // server reads them: snapshot and ledgers, the probes of the pending migrations.
    let config = Config::default();
    let project = Project::open(&root, config.clone());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let (client, facts) = runtime.block_on(async {
        let client = connect(&Secret::new(url.clone()), &config.database).await.unwrap_or_else(|e| panic!("{e}"));
        let facts = load::read_facts(&client, &project.sets, config.small_table_rows, Arc::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        (client, facts)
    });
    assert_eq!(client.display_name(), target);
    let analysis = project.analyze_live(&Disk, None, Some(Arc::new(facts.clone())));
    let file_of = |p: &Path| analysis.files.get(p).map(|f| Arc::clone(&f.analysis.file));
    let files = load::probe_targets(&project.sets, &facts, &[], &file_of);
    assert_eq!(files.len(), 1, "the pending migration");
    let outcomes = runtime
        .block_on(load::run_probes(&client, &facts, &files, true, usize::MAX, Duration::MAX))
        .unwrap_or_else(|e| panic!("{e}"))
        .expect("the CHECK plans a probe");
    let facts = LiveFacts { probes: Arc::new(outcomes), ..facts };
    let live = project.analyze_live(&Disk, Some(&analysis), Some(Arc::new(facts)));
    let mut expected: Vec<(String, String, String)> = live
        .files
        .iter()
        .flat_map(|(path, f)| {
            let rel = path.strip_prefix(&root).expect("under root").display().to_string();
            f.analysis.findings.iter().map(move |x| (rel.clone(), x.rule.to_string(), x.message.clone()))
        })
        .collect();
    expected.sort();
    let mut shown: Vec<(String, String, String)> = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["path"].as_str().expect("path").to_string(),
                d["rule"].as_str().expect("rule").to_string(),
                d["message"].as_str().expect("message").to_string(),
            )
        })
        .collect();
    shown.sort();
    assert_eq!(shown, expected);

    // --no-database: the static check alone.
    let off = safemig(&root, &["check", "migrations", "--no-database"], &[("DATABASE_URL", &url)]);
    assert!(!off.stdout.contains("existing-rows-violate"), "{}", off.stdout);
    assert!(off.summary().ends_with("; database: off (--no-database)"), "{}", off.summary());
    let off = safemig(&root, &["check", "migrations", "--no-database", "--format", "json"], &[("DATABASE_URL", &url)]);
    assert_eq!(off.json()["database"]["state"], "off");
}

/// Every source of the URL: `[database] url`, `.env`, `--database-url-env NAME`; none at all;
/// `enabled = false`.
#[test]
fn the_url_comes_from_config_env_file_or_a_named_variable() {
    let db = TestDb::new("check_sources");
    let dir = project(&db);
    let root = canonical(dir.path());
    let url = db.url();
    let connected = |run: &Run, how: &str| {
        assert_eq!(run.json()["database"]["state"], "connected", "{how}: {}\n{}", run.stdout, run.stderr);
        assert!(run.rules().iter().any(|r| r == "existing-rows-violate"), "{how}: {}", run.stdout);
    };
    let json = ["check", "migrations", "--format", "json"];

    let none = safemig(&root, &json, &[]);
    assert_eq!(none.json()["database"]["state"], "not-configured", "{}", none.stdout);
    assert!(!none.rules().iter().any(|r| r == "existing-rows-violate"));
    assert!(safemig(&root, &["check", "migrations"], &[]).summary().ends_with("; database: not configured"));

    std::fs::write(root.join(".env"), format!("OTHER=1\nDATABASE_URL={url}\n")).expect(".env");
    connected(&safemig(&root, &json, &[]), ".env");
    std::fs::remove_file(root.join(".env")).expect("rm .env");

    let mut args = json.to_vec();
    args.extend(["--database-url-env", "MY_DEV_DB"]);
    connected(&safemig(&root, &args, &[("MY_DEV_DB", &url)]), "--database-url-env");
    // The named variable, not DATABASE_URL: unset, it is "not configured" even with DATABASE_URL set.
    let unset = safemig(&root, &args, &[("DATABASE_URL", &url)]);
    assert_eq!(unset.json()["database"]["state"], "not-configured", "{}", unset.stdout);

    std::fs::write(root.join("safemig.toml"), format!("[database]\nurl = \"{url}\"\n")).expect("toml");
    connected(&safemig(&root, &json, &[]), "[database] url");
    std::fs::write(root.join("safemig.toml"), format!("[database]\nurl = \"{url}\"\nenabled = false\n")).expect("toml");
    let disabled = safemig(&root, &json, &[]);
    assert_eq!(disabled.json()["database"]["state"], "off", "{}", disabled.stdout);
}

/// An unreachable server and a refused login are a note and a summary state, not a crash and not
/// a failure of their own: the static check runs and decides the exit status, unless
/// `--require-database`. The password appears nowhere.
#[test]
fn an_unusable_database_is_a_note_and_never_shows_the_password() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = canonical(dir.path());
    std::fs::create_dir_all(root.join("migrations")).expect("mkdir");
    std::fs::write(root.join("migrations/0001_users.up.sql"), USERS).expect("write");
    let pid = std::process::id();
    let cases = [
        ("unreachable", "postgres://app:hunter2secret@127.0.0.1:1/app".to_string(), "hunter2secret"),
        (
            "refused",
            format!("postgres://safemig_no_role_{pid}:sekrit77pw@127.0.0.1:5432/postgres?connect_timeout=3"),
            "sekrit77pw",
        ),
    ];
    for (what, url, password) in &cases {
        let env = [("DATABASE_URL", url.as_str())];
        for format in ["human", "json", "sarif", "github"] {
            let run = safemig(&root, &["check", "migrations", "--format", format], &env);
            assert_eq!(run.code, 0, "{what} {format}: the clean static check decides\n{}\n{}", run.stdout, run.stderr);
            assert!(
                !run.stdout.contains(password) && !run.stderr.contains(password),
                "{what} {format}: {}\n{}",
                run.stdout,
                run.stderr
            );
            assert!(run.stderr.contains("note: database: unreachable ("), "{what} {format}: {}", run.stderr);
        }
        let human = safemig(&root, &["check", "migrations"], &env);
        assert!(
            human.summary().starts_with("no findings in 1 file; database: unreachable ("),
            "{what}: {}",
            human.summary()
        );
        let json = safemig(&root, &["check", "migrations", "--format", "json"], &env).json();
        assert_eq!(json["database"]["state"], "unreachable", "{what}");
        assert!(json["database"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {json}");

        let required = safemig(&root, &["check", "migrations", "--require-database"], &env);
        assert_eq!(required.code, 2, "{what}: {}\n{}", required.stdout, required.stderr);
        assert!(!required.stdout.contains(password) && !required.stderr.contains(password));
    }
    // --require-database with no database configured is an error too; with one it is not.
    assert_eq!(safemig(&root, &["check", "migrations", "--require-database"], &[]).code, 2);
}

/// The ledger decides: a migration golang-migrate marked dirty is `migration-failed`; once the
/// ledger says it is applied, it is neither failed nor probed again.
#[test]
fn the_ledger_marks_a_failed_migration_and_an_applied_one_is_not_probed() {
    let db = TestDb::new("check_ledger");
    let dir = project(&db);
    let root = canonical(dir.path());
    let url = db.url();
    let args = ["check", "migrations", "--format", "json"];
    db.setup("UPDATE schema_migrations SET version = 2, dirty = true");
    let failed = safemig(&root, &args, &[("DATABASE_URL", &url)]);
    let json = failed.json();
    let on_two: Vec<&str> = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["path"] == "migrations/0002_check.up.sql")
        .filter_map(|d| d["rule"].as_str())
        .collect();
    assert!(on_two.contains(&"migration-failed"), "{}", failed.stdout);
    // A failed migration will run again: its probe still runs.
    assert!(on_two.contains(&"existing-rows-violate"), "{}", failed.stdout);

    db.setup("UPDATE schema_migrations SET dirty = false");
    let applied = safemig(&root, &args, &[("DATABASE_URL", &url)]);
    let rules = applied.rules();
    assert!(!rules.iter().any(|r| r == "migration-failed" || r == "existing-rows-violate"), "{}", applied.stdout);
    assert_eq!(applied.json()["database"]["state"], "connected");
}

/// A Prisma migration edited after the ledger recorded it is `applied-migration-edited` in a
/// check naming only that file (found with its set); the untouched one is not.
#[test]
fn an_applied_migration_edited_since_is_reported_on_the_named_file() {
    let db = TestDb::new("check_edited");
    let dir = tempfile::tempdir().expect("temp dir");
    let root = canonical(dir.path());
    let first = "prisma/migrations/20240101000000_users/migration.sql";
    let second = "prisma/migrations/20240102000000_email/migration.sql";
    let add_email = "ALTER TABLE users ADD COLUMN nickname text;\n";
    for (path, text) in [
        ("package.json", "{}\n"),
        ("prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n"),
        (first, USERS),
        (second, add_email),
    ] {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    let mut setup = format!(
        "{USERS}{add_email}CREATE TABLE _prisma_migrations (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, \
         finished_at timestamptz, migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, \
         started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0);\n"
    );
    for (id, path, text) in [(1, first, USERS), (2, second, add_email)] {
        let name = path.split('/').nth(2).expect("migration directory");
        setup += &format!(
            "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES \
             ('{id}', '{}', now(), '{name}', 1);\n",
            safemig::live::checksum::prisma(text)
        );
    }
    db.setup(&setup);
    let url = db.url();
    let env = [("DATABASE_URL", url.as_str())];
    let clean = safemig(&root, &["check", "--format", "json", second], &env);
    assert!(!clean.rules().iter().any(|r| r == "applied-migration-edited"), "{}\n{}", clean.stdout, clean.stderr);
    assert_eq!(clean.json()["database"]["state"], "connected");

    std::fs::write(root.join(second), "ALTER TABLE users ADD COLUMN nickname text NOT NULL;\n").expect("edit");
    let edited = safemig(&root, &["check", "--format", "json", second], &env);
    assert!(edited.rules().iter().any(|r| r == "applied-migration-edited"), "{}\n{}", edited.stdout, edited.stderr);
    let reported: Vec<Value> = edited.json()["files"].as_array().expect("files").clone();
    assert_eq!(reported.len(), 1, "only the named file: {reported:?}");
}
