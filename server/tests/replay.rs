//! Rules that see the schema replayed from earlier migrations: a set of migration texts is
//! replayed with `schema::replay`, then each migration is analysed with the snapshot before it as
//! its `SchemaView` (as the project layer does).

use std::path::PathBuf;

use safemig::config::Config;
use safemig::engine::{self, FileAnalysis};
use safemig::rules::{Finding, SchemaView, Severity};
use safemig::schema::{self, Baseline, ReplayInput};
use safemig::sql::facts::{Name, QualifiedName, Span};
use safemig::sql::{Dialect, SqlFile};

struct Set {
    paths: Vec<PathBuf>,
    texts: Vec<String>,
    files: Vec<SqlFile>,
    replay: schema::Replay,
}

/// Migrations named `0001_<name>.sql`, … in the order given.
fn set(migrations: &[(&str, &str)]) -> Set {
    let paths: Vec<PathBuf> = migrations
        .iter()
        .enumerate()
        .map(|(i, (name, _))| PathBuf::from(format!("db/migrations/{:04}_{name}.sql", i + 1)))
        .collect();
    let texts: Vec<String> = migrations.iter().map(|(_, sql)| sql.to_string()).collect();
    let files: Vec<SqlFile> = texts.iter().map(|t| SqlFile::parse(t, Dialect::Postgres, None)).collect();
    let inputs: Vec<ReplayInput> = paths.iter().zip(&files).map(|(p, f)| ReplayInput::whole(p, f)).collect();
    let replay = schema::replay(&inputs);
    Set { paths, texts, files, replay }
}

impl Set {
    /// Migration `i` analysed with the schema before it.
    fn analyze(&self, i: usize) -> FileAnalysis {
        let config = Config::default();
        let settings = config.settings(Dialect::Postgres);
        engine::analyze_with_schema(&self.texts[i], &settings, &config, &self.replay.before(i), Some(&self.files[i]))
    }

    /// `severity[rule] message @ text` for each finding of `rule` in migration `i`.
    fn findings(&self, i: usize, rule: &str) -> Vec<String> {
        let analysis = self.analyze(i);
        analysis.findings.iter().filter(|f| f.rule == rule).map(|f| self.render(i, f)).collect()
    }

    fn render(&self, i: usize, f: &Finding) -> String {
        format!("{}: {} @ `{}`", f.severity.name(), f.message, &self.texts[i][f.range.clone()])
    }
}

fn name(s: &str) -> QualifiedName {
    let parts = s.split('.').map(|p| Name { value: p.into(), quoted: false, span: Span::default() }).collect();
    QualifiedName { parts, span: Span::default() }
}

const ALREADY: &str = "object-already-exists";
const MISSING: &str = "object-does-not-exist";

#[test]
fn a_column_added_again_names_the_migration_that_added_it() {
    let s = set(&[
        ("create_users", "CREATE TABLE users (id bigint PRIMARY KEY);\n"),
        ("add_email", "-- contact\nALTER TABLE users ADD COLUMN email text;\n"),
        ("profile", "ALTER TABLE users ADD COLUMN bio text;\nALTER TABLE users ADD COLUMN email text;\n"),
    ]);
    assert_eq!(
        s.findings(2, ALREADY),
        ["error: column users.email already exists (created by 0002_add_email.sql:2) — this fails on deploy @ `email`"]
    );
    let analysis = s.analyze(2);
    let f = analysis.findings.iter().find(|f| f.rule == ALREADY).expect("finding");
    assert_eq!(f.fix.as_ref().map(|x| x.title.as_str()), Some("Guard with IF NOT EXISTS"));
    assert!(s.findings(1, ALREADY).is_empty());
}

#[test]
fn regenerated_schema_repeats_tables_indexes_and_constraints() {
    let s = set(&[
        (
            "init",
            "CREATE TABLE orgs (id bigint PRIMARY KEY);\nCREATE TABLE users (id bigint PRIMARY KEY, org_id bigint);\nCREATE INDEX users_org_id_idx ON users (org_id);\nALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id);\n",
        ),
        (
            "regenerated",
            "CREATE TABLE IF NOT EXISTS orgs (id bigint PRIMARY KEY);\nCREATE TABLE users (id bigint PRIMARY KEY, org_id bigint);\nCREATE INDEX users_org_id_idx ON users (org_id);\nCREATE INDEX IF NOT EXISTS users_org_id_idx ON users (org_id);\nALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id);\n",
        ),
    ]);
    assert_eq!(
        s.findings(1, ALREADY),
        [
            "error: table users already exists (created by 0001_init.sql:2) — this fails on deploy @ `users`",
            "error: index users_org_id_idx already exists (created by 0001_init.sql:3) — this fails on deploy @ `users_org_id_idx`",
            "error: constraint users_org_fk on users already exists (created by 0001_init.sql:4) — this fails on deploy @ `users_org_fk`",
        ]
    );
}

#[test]
fn dropped_since_means_free_again() {
    let s = set(&[
        ("init", "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n"),
        ("drop_email", "ALTER TABLE users DROP COLUMN email;\n"),
        ("re_add", "ALTER TABLE users ADD COLUMN email text;\n"),
        ("swap", "ALTER TABLE users RENAME TO old_users;\nCREATE TABLE users (id bigint PRIMARY KEY);\n"),
    ]);
    assert!(s.findings(2, ALREADY).is_empty());
    assert!(s.findings(3, ALREADY).is_empty());
    assert!(s.findings(3, MISSING).is_empty());
}

#[test]
fn missing_tables_and_columns_across_migrations() {
    let s = set(&[
        ("init", "CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL);\n"),
        ("rename", "ALTER TABLE customers RENAME TO clients;\n"),
        (
            "index",
            "CREATE INDEX customers_email_idx ON customers (email);\nALTER TABLE clients ALTER COLUMN emial SET NOT NULL;\nALTER TABLE invoices ADD COLUMN client_id bigint REFERENCES clients (id);\n",
        ),
    ]);
    assert_eq!(
        s.findings(2, MISSING),
        [
            "warning: table customers does not exist: 0002_rename.sql:1 renames it to clients — this fails on deploy @ `customers`",
            "warning: column clients.emial does not exist: table clients (created by 0001_init.sql:1) has no such column (did you mean `email`?) — this fails on deploy @ `emial`",
            "warning: table invoices does not exist: no earlier migration creates it — this fails on deploy @ `invoices`",
        ]
    );
    assert_eq!(s.replay.baseline(), Baseline::Empty);
}

#[test]
fn a_set_that_starts_from_an_unseen_baseline_says_so_at_info() {
    let s = set(&[
        ("add_plan", "ALTER TABLE accounts ADD COLUMN plan text;\n"),
        (
            "index_plan",
            "CREATE INDEX accounts_plan_idx ON accounts (plan);\nALTER TABLE invoices ADD COLUMN note text;\n",
        ),
    ]);
    assert!(matches!(s.replay.baseline(), Baseline::Unknown { missing: 2 }));
    let first = s.findings(0, MISSING);
    assert_eq!(first.len(), 1);
    assert!(first[0].starts_with("info: table accounts is not created by any earlier migration: this set starts from a baseline safemig cannot see (it uses 2 tables no migration creates)"), "{first:?}");
    // accounts was adopted once; invoices is reported where it first appears, at info.
    let second = s.findings(1, MISSING);
    assert_eq!(second.len(), 1, "{second:?}");
    assert!(second[0].starts_with("info: table invoices"), "{second:?}");
}

#[test]
fn supabase_auth_tables_belong_to_someone_else() {
    let s = set(&[
        ("profiles", "CREATE TABLE profiles (id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE);\n"),
        ("policy", "ALTER TABLE auth.users ADD COLUMN nickname text;\n"),
    ]);
    assert!(s.findings(0, MISSING).is_empty());
    assert!(s.findings(1, MISSING).is_empty());
    assert_eq!(s.replay.baseline(), Baseline::Empty);
}

#[test]
fn existing_table_means_existing_in_the_replayed_schema() {
    let s = set(&[
        ("init", "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n"),
        (
            "regenerated",
            "CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY, email text);\nCREATE INDEX users_email_idx ON users (email);\n",
        ),
        ("fresh", "DROP TABLE IF EXISTS users;\nCREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY, email text);\nCREATE INDEX users_email_idx2 ON users (email);\n"),
    ]);
    // The guarded CREATE TABLE was a no-op: users has rows, and the index build blocks writes.
    assert_eq!(s.findings(1, "create-index-blocking").len(), 1);
    // Dropped and created again in the same migration: new, and empty.
    assert!(s.findings(2, "create-index-blocking").is_empty());
    // Without a schema the guarded CREATE TABLE looks like a new table.
    let config = Config::default();
    let alone = engine::analyze(&s.texts[1], &config.settings(Dialect::Postgres), &config, None);
    assert!(alone.findings.iter().all(|f| f.rule != "create-index-blocking"));
}

#[test]
fn foreign_key_missing_index_sees_indexes_from_earlier_migrations() {
    let s = set(&[
        ("init", "CREATE TABLE orgs (id bigint PRIMARY KEY);\nCREATE TABLE users (id bigint PRIMARY KEY, org_id bigint);\n"),
        ("index", "CREATE INDEX CONCURRENTLY users_org_id_idx ON users (org_id);\n"),
        ("fk", "ALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID;\n"),
        ("other_fk", "ALTER TABLE orgs ADD COLUMN owner_id bigint;\nALTER TABLE orgs ADD CONSTRAINT orgs_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id) NOT VALID;\n"),
    ]);
    assert!(s.findings(2, "foreign-key-missing-index").is_empty());
    assert_eq!(s.findings(3, "foreign-key-missing-index").len(), 1);
}

#[test]
fn column_types_and_checks_come_from_the_replay() {
    let s = set(&[
        ("init", "CREATE TABLE events (id int PRIMARY KEY, payload json, kind varchar(20));\n"),
        ("check", "ALTER TABLE events ADD CONSTRAINT kind_nn CHECK (kind IS NOT NULL) NOT VALID;\nALTER TABLE events VALIDATE CONSTRAINT kind_nn;\n"),
        ("later", "ALTER TABLE events ALTER COLUMN kind SET NOT NULL;\n"),
    ]);
    let before = s.replay.before(2);
    let events = name("events");
    assert_eq!(before.column_type(&events, "payload").map(|t| t.canonical), Some("json".to_string()));
    assert_eq!(before.has_validated_not_null_check(&events, "kind"), Some(true));
    assert_eq!(before.has_table(&events), Some(true));
    assert_eq!(before.has_table(&name("nope")), Some(false));
    assert!(s.findings(2, "set-not-null-scan").is_empty());
    let table = before.table(&events).expect("events");
    assert_eq!(table.history.to_string(), "created by 0001_init.sql:1 · altered by 0002_check.sql:1, 0002_check.sql:2");
    assert_eq!(s.paths.len(), 3);
}

#[test]
fn a_separate_down_file_sees_the_schema_after_its_migration() {
    let s = set(&[("init", "CREATE TABLE a (id int);\n"), ("add_b", "CREATE TABLE b (id int);\n")]);
    let config = Config::default();
    let settings = config.settings(Dialect::Postgres);
    let down = "DROP TABLE b;\n";
    let after = engine::analyze_with_schema(down, &settings, &config, &s.replay.after(1), None);
    assert!(after.findings.iter().all(|f| f.rule != MISSING));
    let before = engine::analyze_with_schema(down, &settings, &config, &s.replay.before(1), None);
    let missing: Vec<&Finding> = before.findings.iter().filter(|f| f.rule == MISSING).collect();
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].severity, Severity::Warning);
}
