//! The project layer: discovery + replay + engine over a real directory tree.

use std::fs;
use std::path::Path;

use safemig::config::Config;
use safemig::project::{Disk, Project};

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

#[test]
fn the_framework_decides_transactions_and_the_replay_decides_existing_tables() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(
        root,
        "db/migrations/00001_users.sql",
        "-- +goose Up\nCREATE TABLE users (id bigint PRIMARY KEY, email text);\n-- +goose Down\nDROP TABLE users;\n",
    );
    write(
        root,
        "db/migrations/00002_index.sql",
        "-- +goose Up\nCREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n",
    );
    write(
        root,
        "db/migrations/00003_index_outside.sql",
        "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY users_id_email_idx ON users (id, email);\n",
    );
    write(root, "db/migrations/00004_again.sql", "-- +goose Up\nALTER TABLE users ADD COLUMN email text;\n");

    let project = Project::open(root, Config::default());
    assert_eq!(project.sets.len(), 1);
    let analysis = project.analyze(&Disk, None);
    let rules_of = |name: &str| -> Vec<(&'static str, String)> {
        let path = project.sets[0].dir.join(name);
        let file = analysis.files.get(&path).unwrap_or_else(|| panic!("{name} analysed"));
        file.analysis.findings.iter().map(|f| (f.rule, f.message.clone())).collect()
    };

    // goose wraps each migration: CONCURRENTLY fails there, and the message names goose's way out.
    let second = rules_of("00002_index.sql");
    let conc: Vec<_> = second.iter().filter(|(r, _)| *r == "concurrently-in-transaction").collect();
    assert_eq!(conc.len(), 1, "{second:?}");
    assert!(conc[0].1.contains("-- +goose NO TRANSACTION"), "{}", conc[0].1);
    // The opted-out migration is quiet about transactions.
    assert!(rules_of("00003_index_outside.sql").iter().all(|(r, _)| *r != "concurrently-in-transaction"));
    // Adding a column 00001 already created fails on deploy.
    let fourth = rules_of("00004_again.sql");
    let exists: Vec<_> = fourth.iter().filter(|(r, _)| *r == "object-already-exists").collect();
    assert_eq!(exists.len(), 1, "{fourth:?}");
    assert!(exists[0].1.contains("00001_users.sql:2"), "{}", exists[0].1);
}

/// `extension-missing` and the platform: Supabase creates `uuid-ossp` and `pgcrypto` (in its
/// `extensions` schema) before the first migration; `citext` it does not.
#[test]
fn supabase_preinstalled_extensions_need_no_create_extension() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(
        root,
        "supabase/migrations/20240101000000_users.sql",
        "CREATE TABLE users (\n  id uuid PRIMARY KEY DEFAULT extensions.uuid_generate_v4(),\n  secret text CHECK (secret = crypt(secret, gen_salt('bf'))),\n  email citext\n);\n",
    );
    let project = Project::open(root, Config::default());
    assert_eq!(project.sets.len(), 1);
    let analysis = project.analyze(&Disk, None);
    let file = analysis.files.get(&project.sets[0].dir.join("20240101000000_users.sql")).expect("analysed");
    let ext: Vec<&str> =
        file.analysis.findings.iter().filter(|f| f.rule == "extension-missing").map(|f| f.message.as_str()).collect();
    assert_eq!(ext.len(), 1, "{ext:?}");
    assert!(ext[0].starts_with("`citext` is a type of the `citext` extension"), "{ext:?}");

    // The same file in a plain set: every extension is missing.
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(
        root,
        "migrations/0001_users.sql",
        &fs::read_to_string(project.sets[0].dir.join("20240101000000_users.sql")).expect("read"),
    );
    let project = Project::open(root, Config::default());
    let analysis = project.analyze(&Disk, None);
    let file = analysis.files.get(&project.sets[0].dir.join("0001_users.sql")).expect("analysed");
    let mut missing: Vec<&str> = file
        .analysis
        .findings
        .iter()
        .filter(|f| f.rule == "extension-missing")
        .map(|f| f.message.split('`').nth(3).unwrap_or_default())
        .collect();
    missing.sort();
    assert_eq!(missing, ["citext", "pgcrypto", "uuid-ossp"]);
}

/// `gen_random_uuid()` needs pgcrypto only before PostgreSQL 13.
#[test]
fn gen_random_uuid_needs_pgcrypto_only_before_postgres_13() {
    let findings = |version: &str| -> Vec<String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        write(root, "safemig.toml", &format!("postgres_version = \"{version}\"\n"));
        write(root, "migrations/0001_t.sql", "CREATE TABLE t (id uuid PRIMARY KEY DEFAULT gen_random_uuid());\n");
        let project = Project::open(root, Config::discover(root).0);
        let analysis = project.analyze(&Disk, None);
        let file = analysis.files.get(&project.sets[0].dir.join("0001_t.sql")).expect("analysed");
        file.analysis.findings.iter().filter(|f| f.rule == "extension-missing").map(|f| f.message.clone()).collect()
    };
    let old = findings("12");
    assert!(
        old.len() == 1 && old[0].starts_with("`gen_random_uuid` is a function of the `pgcrypto` extension"),
        "{old:?}"
    );
    assert!(findings("13").is_empty());
}
