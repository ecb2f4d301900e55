//! The history fixes that change SQL, on PostgreSQL:
//! - `object-already-exists`: the original set fails with "already exists"; after the guard (or
//!   the removal) it applies, and builds the same catalog as the set without the repeated
//!   statement — also when the definitions differ: `IF NOT EXISTS` keeps the earlier one, which is
//!   why that case is unsafe.
//! - `object-already-exists` on a re-created table, "Replace the CREATE TABLE with ALTER TABLE":
//!   the fixed set builds what a set that created the tables as re-declared builds.
//! - `shipped-migration-edited`, "Move the change into a new migration": the shipped file plus the
//!   new migration build the same schema as the edited file, also when the edit changed a
//!   `CREATE TABLE` in place (the move writes the derived `ALTER TABLE` statements).
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

/// A set whose `00001_users.sql` shipped (git `main`) as `goose(shipped)`, next to `others`, and was
/// then edited to `goose(edited)`: after "Move the change into a new migration" (titled
/// `title…`), the shipped file is back byte for byte and the set builds what the edited set
/// built, on PostgreSQL. Returns the fixed workspace.
fn moved_edit_builds_the_same(
    name: &str,
    shipped: &str,
    edited: &str,
    others: &[(&str, &str)],
    title: &str,
) -> tempfile::TempDir {
    let rel = "db/migrations/00001_users.sql";
    let mut files = vec![(rel, goose(shipped))];
    files.extend(others.iter().map(|(p, t)| (*p, t.to_string())));
    let edited_set = workspace(&files.iter().map(|(p, t)| (*p, t.as_str())).collect::<Vec<_>>());
    git(edited_set.path(), &["init", "-q", "-b", "main"]);
    git(edited_set.path(), &["add", "."]);
    git(edited_set.path(), &["commit", "-q", "-m", "shipped"]);
    git(edited_set.path(), &["checkout", "-q", "-b", "work"]);
    std::fs::write(edited_set.path().join(rel), goose(edited)).expect("edit");
    let fixed = tempfile::tempdir().expect("temp dir");
    copy_tree(edited_set.path(), fixed.path());

    fix_in(fixed.path(), rel, "shipped-migration-edited", title, Safety::Unsafe);
    assert_eq!(std::fs::read_to_string(fixed.path().join(rel)).expect("read"), goose(shipped));
    let a = TestDb::new(name);
    let b = TestDb::new(name);
    apply_set(&a, edited_set.path()).expect("the edited set applies");
    apply_set(&b, fixed.path()).expect("the fixed set applies");
    let diff = differences(&a, &b);
    assert!(diff.is_empty(), "the moved change builds something else:\n{}", diff.join("\n"));
    fixed
}

#[test]
fn a_shipped_migration_and_the_moved_change_build_what_the_edited_file_built() {
    let users = "CREATE TABLE users (id bigint PRIMARY KEY);";
    let added = "CREATE TABLE notes (id bigint PRIMARY KEY, body text);\nCREATE INDEX notes_body ON notes (body);";
    let orders = goose("CREATE TABLE orders (id bigint PRIMARY KEY);");
    moved_edit_builds_the_same(
        "moved_edit",
        users,
        &format!("{users}\n{added}"),
        &[("db/migrations/00002_orders.sql", &orders)],
        "Move the change into a new migration 00003_users_followup.sql",
    );
}

/// An assistant's migration re-creates every table with one new column: the original set fails
/// with "already exists"; after "Replace the CREATE TABLE with ALTER TABLE" on each, the set
/// applies and builds what a set that created the tables with the new columns builds (the new
/// columns survive).
#[test]
fn re_created_tables_become_alter_table_and_build_the_new_definitions() {
    let users = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, age int);";
    let orders = "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE, total numeric(10, 2));";
    let index = "CREATE INDEX orders_user_id ON orders (user_id);";
    let users_new = "CREATE TABLE users (\n  id bigint PRIMARY KEY,\n  email text NOT NULL,\n  age int DEFAULT 0,\n  nickname text COLLATE \"C\" DEFAULT 'anon'\n);";
    let orders_new = "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE, total numeric(12, 2), note text);";
    let original = workspace(&[
        ("db/migrations/00001_first.sql", goose(&format!("{users}\n{orders}\n{index}")).as_str()),
        ("db/migrations/00002_second.sql", goose(&format!("{users_new}\n{orders_new}")).as_str()),
    ]);
    let db = TestDb::new("recreated");
    let failed = apply_set(&db, original.path()).expect_err("the re-created table fails");
    assert!(failed.contains("already exists"), "{failed}");

    let rel = "db/migrations/00002_second.sql";
    let before = all_findings(original.path());
    for (title, safety) in [
        ("Replace the CREATE TABLE with ALTER TABLE (keeps the new column `nickname`)", Safety::Safe),
        // A type change converts values: unsafe.
        (
            "Replace the CREATE TABLE with ALTER TABLE (keeps the new column `note`; changes the type of `total`)",
            Safety::Unsafe,
        ),
    ] {
        let offered = fixes_for(original.path(), rel, "object-already-exists");
        let fix = offered.iter().find(|f| f.title == title).unwrap_or_else(|| panic!("no `{title}` in {offered:#?}"));
        assert_eq!(fix.safety, safety, "{fix:#?}");
        write_fix(original.path(), rel, fix);
    }
    let after = all_findings(original.path());
    assert!(!after.iter().any(|(_, r)| r == "object-already-exists"), "{after:?}");
    let new: Vec<_> = after.iter().filter(|(_, r)| !before.iter().any(|(_, b)| b == r)).collect();
    assert!(new.is_empty(), "new findings after the fix: {new:?}");

    let intended =
        workspace(&[("db/migrations/00001_first.sql", goose(&format!("{users_new}\n{orders_new}\n{index}")).as_str())]);
    let fixed = TestDb::new("recreated");
    let expected = TestDb::new("recreated");
    apply_set(&fixed, original.path()).expect("the fixed set applies");
    apply_set(&expected, intended.path()).expect("the intended set applies");
    let diff = differences(&expected, &fixed);
    assert!(diff.is_empty(), "the fixed set builds something else:\n{}", diff.join("\n"));
}

/// A shipped `CREATE TABLE` edited in place (a column added, a type widened, a default changed,
/// NOT NULL dropped): the shipped file plus the moved change build what the edited file built.
#[test]
fn an_edited_shipped_create_table_and_the_derived_alters_build_the_same_table() {
    let shipped = "CREATE TABLE users (id bigint PRIMARY KEY, name varchar(100) DEFAULT 'a', age int NOT NULL);";
    let edited = "CREATE TABLE users (id bigint PRIMARY KEY, name varchar(200) DEFAULT 'b', age int, email text COLLATE \"C\" DEFAULT 'x');";
    let fixed = moved_edit_builds_the_same(
        "derived_edit",
        shipped,
        edited,
        &[],
        "Move the change into a new migration 00002_users_followup.sql",
    );
    let moved = std::fs::read_to_string(fixed.path().join("db/migrations/00002_users_followup.sql")).expect("moved");
    assert!(moved.contains("ALTER TABLE users ADD COLUMN email text COLLATE \"C\" DEFAULT 'x';"), "{moved}");
}
