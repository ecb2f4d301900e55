//! The fix pipeline's invariants, through `safemig check --fix` on real git projects in temporary
//! directories: shipped migrations are read-only, no fix adds a finding anywhere in its set
//! (history and replay rules included), and a second run changes nothing.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_safemig");

#[path = "../../tests/support/git.rs"]
mod git;
use git::Repo;

impl Repo {
    fn safemig(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(BIN).args(args).current_dir(&self.root).env("NO_COLOR", "1").output().expect("runs");
        (
            out.status.code().expect("exit code"),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `check --fix` (with `extra` flags) on the whole root; returns the combined output.
    fn fix(&self, extra: &[&str]) -> String {
        let mut args = vec!["check", "--fix"];
        args.extend_from_slice(extra);
        args.push(".");
        let (_, stdout, stderr) = self.safemig(&args);
        format!("{stdout}\n{stderr}")
    }

    /// Rule ids of the JSON report, per file.
    fn rules(&self) -> BTreeMap<String, Vec<String>> {
        let (_, stdout, stderr) = self.safemig(&["check", "--format", "json", "--fail-on", "never", "."]);
        let json: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("JSON ({e}): {stdout}\n{stderr}"));
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for d in json["diagnostics"].as_array().expect("diagnostics") {
            let file = d["file"].as_str().or_else(|| d["path"].as_str()).unwrap_or_default().to_string();
            out.entry(file).or_default().push(d["rule"].as_str().expect("rule").to_string());
        }
        out
    }
}

const GOOSE_USERS: &str =
    "-- +goose Up\nCREATE TABLE users (id bigint PRIMARY KEY, email text);\n-- +goose Down\nDROP TABLE users;\n";
const GOOSE_NICKNAME: &str =
    "-- +goose Up\nALTER TABLE users ADD COLUMN nickname text;\n-- +goose Down\nALTER TABLE users DROP COLUMN nickname;\n";
const GOOSE_BIO: &str =
    "-- +goose Up\nALTER TABLE users ADD COLUMN bio text;\n-- +goose Down\nALTER TABLE users DROP COLUMN bio;\n";

fn goose_project() -> Repo {
    let repo = Repo::new();
    repo.write("go.mod", "module example.com/app\n\ngo 1.22\n");
    repo.write("db/migrations/00001_users.sql", GOOSE_USERS);
    repo
}

#[test]
fn a_shipped_migration_is_never_edited_by_check_fix() {
    let repo = goose_project();
    repo.write("db/migrations/00002_nickname.sql", GOOSE_NICKNAME);
    repo.ship();
    repo.write("db/migrations/00003_bio.sql", GOOSE_BIO);
    let before = repo.files();
    assert!(
        repo.rules()
            .get("db/migrations/00002_nickname.sql")
            .is_some_and(|r| r.iter().any(|r| r == "lock-timeout-missing")),
        "the shipped migration has a fixable finding: {:?}",
        repo.rules()
    );
    let log = repo.fix(&["--unsafe"]);
    let after = repo.files();
    assert_eq!(after["db/migrations/00002_nickname.sql"], GOOSE_NICKNAME, "{log}");
    assert_eq!(after["db/migrations/00001_users.sql"], GOOSE_USERS, "{log}");
    // The unshipped one is fixed.
    assert_ne!(after["db/migrations/00003_bio.sql"], before["db/migrations/00003_bio.sql"], "{log}");
    assert!(after["db/migrations/00003_bio.sql"].contains("lock_timeout"), "{log}");
    // The shipped file is told about, not silently skipped.
    assert!(log.contains("not fixed") && log.contains("00002_nickname.sql") && log.contains("shipped"), "{log}");
    assert!(!repo.rules().values().flatten().any(|r| r == "shipped-migration-edited"), "{:?}", repo.rules());
}

#[test]
fn a_shipped_prisma_migration_keeps_its_checksum() {
    let repo = Repo::new();
    repo.write(
        "prisma/schema.prisma",
        "datasource db {\n  provider = \"postgresql\"\n  url = env(\"DATABASE_URL\")\n}\n",
    );
    repo.write("prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n");
    let init = "CREATE TABLE \"User\" (\"id\" SERIAL NOT NULL, \"email\" TEXT NOT NULL, CONSTRAINT \"User_pkey\" PRIMARY KEY (\"id\"));\n";
    let shipped =
        "ALTER TABLE \"User\" ADD COLUMN \"name\" TEXT;\nCREATE INDEX \"User_email_idx\" ON \"User\"(\"email\");\n";
    repo.write("prisma/migrations/20260301000000_init/migration.sql", init);
    repo.write("prisma/migrations/20260302000000_name/migration.sql", shipped);
    repo.ship();
    let log = repo.fix(&["--unsafe"]);
    let after = repo.files();
    assert_eq!(after["prisma/migrations/20260302000000_name/migration.sql"], shipped, "{log}");
    assert_eq!(after["prisma/migrations/20260301000000_init/migration.sql"], init, "{log}");
}

#[test]
fn duplicate_flyway_versions_get_distinct_versions_and_a_second_run_changes_nothing() {
    let repo = Repo::new();
    repo.write("pom.xml", "<project><artifactId>app</artifactId></project>\n");
    let dir = "src/main/resources/db/migration";
    repo.write(&format!("{dir}/V1__users.sql"), "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    repo.ship();
    repo.write(&format!("{dir}/V2__a.sql"), "CREATE TABLE a (id bigint PRIMARY KEY);\n");
    repo.write(&format!("{dir}/V2__b.sql"), "CREATE TABLE b (id bigint PRIMARY KEY);\n");
    repo.write(&format!("{dir}/V3__c.sql"), "CREATE TABLE c (id bigint PRIMARY KEY);\n");
    repo.write(&format!("{dir}/V3__d.sql"), "CREATE TABLE d (id bigint PRIMARY KEY);\n");
    let dups = |repo: &Repo| repo.rules().values().flatten().filter(|r| *r == "duplicate-migration-version").count();
    assert_eq!(dups(&repo), 4);
    let log = repo.fix(&["--unsafe"]);
    let first = repo.files();
    assert_eq!(dups(&repo), 0, "{log}\n{first:#?}");
    // Every table still has exactly one migration, and every version is distinct.
    let versions: Vec<String> = first
        .keys()
        .filter_map(|k| k.strip_prefix(&format!("{dir}/V")))
        .map(|name| name.split("__").next().unwrap_or_default().to_string())
        .collect();
    let mut distinct = versions.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), versions.len(), "{versions:?}");
    assert_eq!(versions.len(), 5, "{first:#?}");
    let second = repo.fix(&["--unsafe"]);
    assert_eq!(repo.files(), first, "a second run changed something:\n{second}");
}

#[test]
fn no_foreign_key_index_that_a_later_migration_creates() {
    let repo = goose_project();
    repo.write(
        "db/migrations/00002_orders.sql",
        "-- +goose Up\nCREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);\n-- +goose Down\nDROP TABLE orders;\n",
    );
    repo.ship();
    let fk = "-- +goose Up\nALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\n-- +goose Down\nALTER TABLE orders DROP CONSTRAINT orders_user_id_fkey;\n";
    let index = "-- +goose Up\n-- +goose NO TRANSACTION\nCREATE INDEX CONCURRENTLY orders_user_id_idx ON orders (user_id);\n-- +goose Down\nDROP INDEX orders_user_id_idx;\n";
    repo.write("db/migrations/00010_fk.sql", fk);
    repo.write("db/migrations/00011_index.sql", index);
    let log = repo.fix(&["--unsafe"]);
    let after = repo.files();
    assert!(
        !repo.rules().values().flatten().any(|r| r == "object-already-exists"),
        "{log}\n{:?}\n{after:#?}",
        repo.rules()
    );
    assert!(log.contains("not fixed") && log.contains("object-already-exists"), "{log}");
    let creations = after.values().map(|t| t.matches("CREATE INDEX").count()).sum::<usize>();
    assert_eq!(creations, 1, "the index is created once, by the later migration:\n{log}\n{after:#?}");
    // Negative: without the later index, the fix is applied.
    let repo = goose_project();
    repo.write(
        "db/migrations/00002_orders.sql",
        "-- +goose Up\nCREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);\n-- +goose Down\nDROP TABLE orders;\n",
    );
    repo.ship();
    repo.write("db/migrations/00010_fk.sql", fk);
    let before = repo.files();
    let log = repo.fix(&["--unsafe"]);
    let after = repo.files();
    assert!(
        after.len() > before.len() || after["db/migrations/00010_fk.sql"] != fk,
        "the foreign-key index fix applies where nothing else creates the index:\n{log}"
    );
    assert!(!repo.rules().values().flatten().any(|r| r == "foreign-key-missing-index"), "{log}\n{:?}", repo.rules());
}

#[test]
fn check_fix_on_the_example_reaches_a_fixed_point_without_new_findings() {
    let repo = Repo::new();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/shop");
    let copy = |from: &Path, to: &Path| {
        let status = Command::new("cp").arg("-R").arg(from).arg(to).status().expect("cp runs");
        assert!(status.success());
    };
    for entry in fs::read_dir(&example).expect("example").flatten() {
        copy(&entry.path(), &repo.root);
    }
    let count = |rules: &BTreeMap<String, Vec<String>>| {
        let mut out: BTreeMap<String, usize> = BTreeMap::new();
        for r in rules.values().flatten() {
            *out.entry(r.clone()).or_default() += 1;
        }
        out
    };
    let before = count(&repo.rules());
    let log = repo.fix(&["--unsafe"]);
    let first = repo.files();
    let after = count(&repo.rules());
    for (rule, n) in &after {
        assert!(n <= before.get(rule).unwrap_or(&0), "{rule}: {n} after, {:?} before\n{log}", before.get(rule));
    }
    assert!(after.values().sum::<usize>() < before.values().sum::<usize>(), "{log}");
    let second = repo.fix(&["--unsafe"]);
    assert_eq!(repo.files(), first, "a second run changed something:\n{second}");
}

#[test]
fn a_down_file_that_drops_what_its_own_up_file_created_is_its_inverse() {
    let repo = Repo::new();
    repo.write("go.mod", "module example.com/app\n\ngo 1.22\n");
    repo.write("migrations/000001_users.up.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    repo.write("migrations/000001_users.down.sql", "DROP TABLE users;\n");
    repo.write("migrations/000002_email.up.sql", "ALTER TABLE users ADD COLUMN email text;\n");
    repo.write("migrations/000002_email.down.sql", "ALTER TABLE users DROP COLUMN email;\n");
    // Negative: a down file that drops what an earlier migration created is still a hazard.
    repo.write("migrations/000003_cleanup.up.sql", "SELECT 1;\n");
    repo.write("migrations/000003_cleanup.down.sql", "DROP TABLE users;\nALTER TABLE users DROP COLUMN id;\n");
    let rules = repo.rules();
    let drops = |file: &str| {
        rules.get(file).into_iter().flatten().filter(|r| *r == "drop-table" || *r == "drop-column").count()
    };
    assert_eq!(drops("migrations/000001_users.down.sql"), 0, "{rules:?}");
    assert_eq!(drops("migrations/000002_email.down.sql"), 0, "{rules:?}");
    let cleanup = &rules["migrations/000003_cleanup.down.sql"];
    assert!(cleanup.iter().any(|r| r == "drop-table") && cleanup.iter().any(|r| r == "drop-column"), "{rules:?}");
}

/// `extension-missing`: `check --fix` adds the `CREATE EXTENSION` to the unshipped migration that
/// uses the extension first, and leaves a shipped one alone (saying so).
#[test]
fn create_extension_is_added_to_an_unshipped_migration_only() {
    const TRGM: &str = "-- +goose Up\nCREATE INDEX users_email_trgm ON users USING gin (email gin_trgm_ops);\n-- +goose Down\nDROP INDEX users_email_trgm;\n";
    const CITEXT: &str =
        "-- +goose Up\nALTER TABLE users ADD COLUMN handle citext;\n-- +goose Down\nALTER TABLE users DROP COLUMN handle;\n";
    let repo = goose_project();
    repo.write("db/migrations/00002_trgm.sql", TRGM);
    repo.ship();
    repo.write("db/migrations/00003_handle.sql", CITEXT);
    let rules = repo.rules();
    assert!(rules["db/migrations/00002_trgm.sql"].contains(&"extension-missing".to_string()), "{rules:?}");
    assert!(rules["db/migrations/00003_handle.sql"].contains(&"extension-missing".to_string()), "{rules:?}");
    let log = repo.fix(&[]);
    let after = repo.files();
    assert_eq!(after["db/migrations/00002_trgm.sql"], TRGM, "{log}");
    assert_eq!(
        after["db/migrations/00003_handle.sql"],
        "-- +goose Up\nCREATE EXTENSION IF NOT EXISTS citext;\nSET LOCAL lock_timeout = '5s';\nALTER TABLE users ADD COLUMN handle citext;\n-- +goose Down\nALTER TABLE users DROP COLUMN handle;\n",
        "{log} (lock-timeout-missing's fix applies too)"
    );
    assert!(log.contains("not fixed") && log.contains("00002_trgm.sql") && log.contains("shipped"), "{log}");
    let rules = repo.rules();
    assert!(
        !rules.get("db/migrations/00003_handle.sql").is_some_and(|r| r.contains(&"extension-missing".to_string())),
        "{rules:?}"
    );
    // A second run changes nothing.
    repo.fix(&[]);
    assert_eq!(repo.files(), after);
}
