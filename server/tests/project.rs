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
