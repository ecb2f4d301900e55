//! The history fixes that change SQL, on PostgreSQL:
//! - `object-already-exists`: the original set fails with "already exists"; after the guard (or
//!   the removal) it applies, and builds the same catalog as the set without the repeated
//!   statement — also when the definitions differ: `IF NOT EXISTS` keeps the earlier one, which is
//!   why that case is unsafe.
//! - `shipped-migration-edited`, "Move the change into a new migration": the shipped file plus the
//!   new migration build the same schema as the edited file.
//!
//! Renumbering changes no SQL, and a revert restores text that already ran (it drops the change
//! by design): nothing to compare. Lock probes are not meaningful here: these fixes change which
//! statements run, not how they lock.

use super::*;

fn git(root: &Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(root)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run git");
    assert!(status.success(), "git {args:?}");
}

/// Applies the fix titled `title…` to `rel` in `root`; checks its safety, that the rule is gone
/// and that nothing new fires.
fn fix_in(root: &Path, rel: &str, rule: &str, title: &str, safety: Safety) {
    let before = all_findings(root);
    let offered = fixes_for(root, rel, rule);
    let fix = offered
        .iter()
        .find(|f| f.title.starts_with(title))
        .unwrap_or_else(|| panic!("no fix titled `{title}…` in {offered:#?}"));
    assert_eq!(fix.safety, safety, "{fix:#?}");
    write_fix(root, rel, fix);
    let after = all_findings(root);
    assert!(!after.iter().any(|(_, r)| r == rule), "{rule} still fires after the fix: {after:?}");
    let new: Vec<_> = after.iter().filter(|(_, r)| !before.iter().any(|(_, b)| b == r)).collect();
    assert!(new.is_empty(), "new findings after the fix: {new:?}");
}

const NOTES: &str = "CREATE TABLE notes (id bigint PRIMARY KEY);";

/// (name, first migration, the repeated statement, fix title, safety).
const REPEATS: &[(&str, &str, &str, &str, Safety)] = &[
    (
        "table",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text);",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text);",
        "Guard with IF NOT EXISTS",
        Safety::Safe,
    ),
    (
        "table_removed",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text);",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text);",
        "Remove this statement (migration 00001_first.sql already creates it)",
        Safety::Safe,
    ),
    (
        "column_other_type",
        "CREATE TABLE users (id bigint PRIMARY KEY);\nALTER TABLE users ADD COLUMN email text;",
        "ALTER TABLE users ADD COLUMN email varchar(20) NOT NULL DEFAULT '';",
        "Guard with IF NOT EXISTS (keeps the definition from migration 00001_first.sql",
        Safety::Unsafe,
    ),
    (
        "index",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text);\nCREATE INDEX users_email ON users (email);",
        "CREATE INDEX users_email ON users (email);",
        "Guard with IF NOT EXISTS",
        Safety::Safe,
    ),
    (
        "sequence",
        "CREATE SEQUENCE counter;",
        "CREATE SEQUENCE counter START 10;",
        "Guard with IF NOT EXISTS",
        Safety::Unsafe,
    ),
    (
        "enum_value",
        "CREATE TYPE mood AS ENUM ('sad');\nALTER TYPE mood ADD VALUE 'happy';",
        "ALTER TYPE mood ADD VALUE 'happy';",
        "Guard with IF NOT EXISTS",
        Safety::Safe,
    ),
    (
        "constraint",
        "CREATE TABLE users (id bigint PRIMARY KEY, age int);\nALTER TABLE users ADD CONSTRAINT age_positive CHECK (age > 0);",
        "ALTER TABLE users ADD CONSTRAINT age_positive CHECK (age > 0);",
        "Remove this statement (migration 00001_first.sql already creates it)",
        Safety::Safe,
    ),
    (
        "view",
        "CREATE TABLE users (id bigint PRIMARY KEY);\nCREATE VIEW user_ids AS SELECT id FROM users;",
        "CREATE VIEW user_ids AS SELECT id FROM users;",
        "Use CREATE OR REPLACE VIEW",
        Safety::Safe,
    ),
];

#[test]
fn a_repeated_create_fails_and_the_fixed_set_builds_the_set_without_it() {
    for &(name, first, repeated, title, safety) in REPEATS {
        let files = |second: &str| {
            workspace(&[
                ("db/migrations/00001_first.sql", goose(first).as_str()),
                ("db/migrations/00002_second.sql", goose(second).as_str()),
            ])
        };
        let original = files(&format!("{repeated}\n{NOTES}"));
        let without = files(NOTES);
        let db = TestDb::new(&format!("exists_{name}"));
        let failed = apply_set(&db, original.path()).expect_err("the repeated statement fails");
        assert!(failed.contains("already exists"), "{name}: {failed}");

        fix_in(original.path(), "db/migrations/00002_second.sql", "object-already-exists", title, safety);
        let fixed = TestDb::new(&format!("exists_{name}"));
        let expected = TestDb::new(&format!("exists_{name}"));
        apply_set(&fixed, original.path()).unwrap_or_else(|e| panic!("{name}: the fixed set fails: {e}"));
        apply_set(&expected, without.path()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let diff = differences(&expected, &fixed);
        assert!(diff.is_empty(), "{name}: the fixed set builds something else:\n{}", diff.join("\n"));
    }
}

#[test]
fn a_shipped_migration_and_the_moved_change_build_what_the_edited_file_built() {
    let users = "CREATE TABLE users (id bigint PRIMARY KEY);";
    let added = "CREATE TABLE notes (id bigint PRIMARY KEY, body text);\nCREATE INDEX notes_body ON notes (body);";
    let edited = workspace(&[
        ("db/migrations/00001_users.sql", goose(users).as_str()),
        ("db/migrations/00002_orders.sql", goose("CREATE TABLE orders (id bigint PRIMARY KEY);").as_str()),
    ]);
    git(edited.path(), &["init", "-q", "-b", "main"]);
    git(edited.path(), &["add", "."]);
    git(edited.path(), &["commit", "-q", "-m", "shipped"]);
    git(edited.path(), &["checkout", "-q", "-b", "work"]);
    std::fs::write(edited.path().join("db/migrations/00001_users.sql"), goose(&format!("{users}\n{added}")))
        .expect("edit");
    let fixed = tempfile::tempdir().expect("temp dir");
    copy_tree(edited.path(), fixed.path());

    fix_in(
        fixed.path(),
        "db/migrations/00001_users.sql",
        "shipped-migration-edited",
        "Move the change into a new migration 00003_users_followup.sql",
        Safety::Unsafe,
    );
    assert_eq!(
        std::fs::read_to_string(fixed.path().join("db/migrations/00001_users.sql")).expect("read"),
        goose(users)
    );
    let a = TestDb::new("moved_edit");
    let b = TestDb::new("moved_edit");
    apply_set(&a, edited.path()).expect("the edited set applies");
    apply_set(&b, fixed.path()).expect("the fixed set applies");
    let diff = differences(&a, &b);
    assert!(diff.is_empty(), "the moved change builds something else:\n{}", diff.join("\n"));
}
