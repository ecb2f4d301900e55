//! Unit tests of the history fixes (`object-already-exists`, `shipped-migration-edited`,
//! `applied-migration-edited`, `duplicate-migration-version`, `migration-out-of-order`): exact
//! edited texts, created and renamed files, titles and safety, in real temporary projects (git
//! repositories where the fix reads history).

use std::path::Path;

use crate::config::Config;
use crate::engine;
use crate::fixes::tests::{applied, pg, Applied};
use crate::fixes::verify::{Rejected, Verifier};
use crate::fixes::{for_finding, FixContext, Place, ProjectFacts, Safety};
use crate::live::checksum;
use crate::live::ledger::{EntryState, Ledger, LedgerEntry};
use crate::project::{Disk, Project};
use crate::workspace::FrameworkKind;

fn write(root: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
    }
}

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

/// A repository whose `main` (the shipped ref) holds `shipped`, checked out on a branch `work`.
fn repo(shipped: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), shipped);
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "shipped"]);
    git(dir.path(), &["checkout", "-q", "-b", "work"]);
    dir
}

fn commit(root: &Path, message: &str) {
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", message]);
}

/// The fixes of the first `rule` finding in `rel`, with git, the replayed schema and `ledger`.
/// Without such a finding (a ledger rule needs a live database) one is made up on the file.
fn fixes_at(root: &Path, rel: &str, rule: &str, ledger: Option<&Ledger>) -> Vec<Applied> {
    let project = Project::open(root, Config::default());
    let analysis = project.analyze(&Disk, None);
    let path = root.join(rel);
    let file = analysis.files.get(&path).unwrap_or_else(|| panic!("{rel} is no migration: {:?}", project.sets));
    let made_up;
    let finding = match file.analysis.findings.iter().find(|f| f.rule == rule) {
        Some(f) => f,
        None if ledger.is_some() => {
            let rule = crate::rules::by_id(rule).expect("a rule");
            made_up = crate::history::finding(rule, &file.analysis.file, 0..0, String::new(), None);
            &made_up
        }
        None => panic!("no {rule} in {rel}: {:?}", file.analysis.findings),
    };
    let schema = analysis.schema_for(&path);
    let place = Place { path: &path, set: &project.sets[file.set], sources: &Disk };
    let facts = ProjectFacts { git: project.git.as_ref(), ledger };
    let mut ctx = FixContext::of(&file.analysis).with(facts).at(place);
    if let Some(schema) = &schema {
        ctx = ctx.with_schema(schema);
    }
    applied(root, &file.analysis.file.text, for_finding(finding, &ctx))
}

/// The fixes of the first `object-already-exists` finding of a file checked on its own.
fn alone(text: &str) -> Vec<Applied> {
    let config = Config::default();
    let analysis = engine::analyze(text, &pg(), &config, None);
    let finding = analysis.findings.iter().find(|f| f.rule == "object-already-exists").expect("a finding");
    applied(Path::new(""), text, for_finding(finding, &FixContext::of(&analysis)))
}

fn titles(got: &[Applied]) -> Vec<&str> {
    got.iter().map(|g| g.title.as_str()).collect()
}

// ---------------------------------------------------------------------------------------------
// object-already-exists

#[test]
fn a_table_created_twice_the_same_way_is_guarded_or_removed_safely() {
    let text = "CREATE TABLE t (id int);\n-- again\ncreate table t (\n  id INT\n);\nSELECT 1;\n";
    let got = alone(text);
    assert_eq!(
        titles(&got),
        ["Guard with IF NOT EXISTS", "Remove this statement (line 1 of this migration already creates it)"]
    );
    assert_eq!(
        got[0].text,
        "CREATE TABLE t (id int);\n-- again\ncreate table IF NOT EXISTS t (\n  id INT\n);\nSELECT 1;\n"
    );
    assert_eq!((got[0].safety, got[0].preferred), (Safety::Safe, false));
    assert_eq!(got[1].text, "CREATE TABLE t (id int);\n-- again\nSELECT 1;\n");
    assert_eq!((got[1].safety, got[1].preferred), (Safety::Safe, true));
}

#[test]
fn a_trigger_created_twice_is_removed_not_guarded() {
    let text = "CREATE TABLE t (id int);\nCREATE TRIGGER audit AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();\nCREATE TRIGGER audit AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();\n";
    let got = alone(text);
    assert_eq!(titles(&got), ["Remove this statement (line 2 of this migration already creates it)"]);
    assert_eq!(
        got[0].text,
        "CREATE TABLE t (id int);\nCREATE TRIGGER audit AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();\n"
    );
    assert_eq!(got[0].safety, Safety::Safe);
}

#[test]
fn a_column_added_again_with_another_type_keeps_the_earlier_definition_unsafely() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        &[
            ("migrations/001_users.sql", "CREATE TABLE users (id int);\nALTER TABLE users ADD COLUMN email text;\n"),
            ("migrations/002_email.sql", "ALTER TABLE users ADD email varchar(200);\n"),
        ],
    );
    let got = fixes_at(dir.path(), "migrations/002_email.sql", "object-already-exists", None);
    assert_eq!(
        titles(&got),
        [
            "Guard with IF NOT EXISTS (keeps the definition from migration 001_users.sql, not this one)",
            "Remove this statement (migration 001_users.sql already creates it)"
        ]
    );
    assert_eq!(got[0].text, "ALTER TABLE users ADD IF NOT EXISTS email varchar(200);\n");
    assert!(got.iter().all(|g| g.safety == Safety::Unsafe && !g.preferred));
    assert_eq!(got[1].text, "");

    // The same statement again: safe.
    write(dir.path(), &[("migrations/002_email.sql", "alter table users add column email TEXT;\n")]);
    let got = fixes_at(dir.path(), "migrations/002_email.sql", "object-already-exists", None);
    assert_eq!(got[0].title, "Guard with IF NOT EXISTS");
    assert_eq!(got[0].text, "alter table users add column IF NOT EXISTS email TEXT;\n");
    assert!(got.iter().all(|g| g.safety == Safety::Safe));
}

#[test]
fn a_constraint_has_no_guard_and_a_statement_with_other_actions_is_not_removed() {
    let text = "CREATE TABLE t (id int, a int);\nALTER TABLE t ADD CONSTRAINT a_pos CHECK (a > 0);\n\
                ALTER TABLE t ADD CONSTRAINT a_pos CHECK (a > 1);\n";
    let got = alone(text);
    assert_eq!(titles(&got), ["Remove this statement (line 2 of this migration already creates it)"]);
    assert_eq!(got[0].text, "CREATE TABLE t (id int, a int);\nALTER TABLE t ADD CONSTRAINT a_pos CHECK (a > 0);\n");
    assert_eq!(got[0].safety, Safety::Unsafe);

    let text = "CREATE TABLE t (id int, a int);\nALTER TABLE t ADD COLUMN b int, ADD COLUMN a int;\n";
    let got = alone(text);
    assert_eq!(
        titles(&got),
        ["Guard with IF NOT EXISTS (keeps the definition from line 1 of this migration, not this one)"]
    );
    assert_eq!(
        got[0].text,
        "CREATE TABLE t (id int, a int);\nALTER TABLE t ADD COLUMN b int, ADD COLUMN IF NOT EXISTS a int;\n"
    );
}

#[test]
fn views_indexes_sequences_and_enum_values() {
    let got = alone("CREATE VIEW v AS SELECT 1 AS x;\nCREATE VIEW v AS SELECT 2 AS x;\n");
    assert_eq!(got[0].title, "Use CREATE OR REPLACE VIEW (replaces the definition from line 1 of this migration)");
    assert_eq!(got[0].text, "CREATE VIEW v AS SELECT 1 AS x;\nCREATE OR REPLACE VIEW v AS SELECT 2 AS x;\n");
    assert_eq!(got[0].safety, Safety::Unsafe);

    let got = alone("CREATE TABLE t (a int);\nCREATE INDEX t_a ON t (a);\nCREATE INDEX t_a ON t (a);\n");
    assert_eq!(
        got[0].text,
        "CREATE TABLE t (a int);\nCREATE INDEX t_a ON t (a);\nCREATE INDEX IF NOT EXISTS t_a ON t (a);\n"
    );
    assert_eq!(got[0].safety, Safety::Safe);

    let got = alone("CREATE SEQUENCE s;\nCREATE SEQUENCE s START 5;\n");
    assert_eq!(got[0].text, "CREATE SEQUENCE s;\nCREATE SEQUENCE IF NOT EXISTS s START 5;\n");
    assert_eq!(got[0].safety, Safety::Unsafe);

    let got =
        alone("CREATE TYPE mood AS ENUM ('a');\nALTER TYPE mood ADD VALUE 'b';\nALTER TYPE mood ADD VALUE 'b';\n");
    assert_eq!(got[0].text, "CREATE TYPE mood AS ENUM ('a');\nALTER TYPE mood ADD VALUE 'b';\nALTER TYPE mood ADD VALUE IF NOT EXISTS 'b';\n");
    assert_eq!(got[0].safety, Safety::Safe);
}

/// The fixes of the first `rule` finding in `rel` as the fix pipeline sees them (git, the
/// replayed schema), each with the Verifier's verdict.
fn verified(root: &Path, rel: &str, rule: &str) -> Vec<(Applied, Result<(), Rejected>)> {
    let project = Project::open(root, Config::default());
    let path = root.join(rel);
    let verifier = Verifier::new(&project, &Disk, None, None, &path).expect("a migration");
    let analysis = verifier.analysis();
    let schema = verifier.baseline().schema_for(&path).expect("a replayed schema");
    let (set, _) = project.locate(&path).expect("in a set");
    let place = Place { path: &path, set: &project.sets[set], sources: &Disk };
    let facts = ProjectFacts { git: project.git.as_ref(), ledger: None };
    let ctx = FixContext::of(analysis).with(facts).at(place).with_schema(&schema);
    let finding = analysis.findings.iter().find(|f| f.rule == rule).unwrap_or_else(|| panic!("no {rule} in {rel}"));
    let fixes = for_finding(finding, &ctx);
    let verdicts: Vec<_> = fixes.iter().map(|fix| verifier.check(finding, fix, false)).collect();
    applied(root, &analysis.file.text, fixes).into_iter().zip(verdicts).collect()
}

const INIT: &str = "-- +goose Up\nCREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\nCREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id));\nCREATE INDEX orders_user_id ON orders (user_id);\n";

const ASSISTANT: &str = "db/migrations/00002_assistant.sql";

/// A project whose second migration (written by an assistant) re-creates the tables of the
/// first: `tables` is its SQL.
fn recreated(tables: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        &[
            ("go.mod", "module x\n"),
            ("db/migrations/00001_init.sql", INIT),
            (ASSISTANT, &format!("-- +goose Up\n{tables}")),
        ],
    );
    dir
}

#[test]
fn tables_re_created_with_a_new_column_become_alter_table_and_keep_it() {
    let users = "CREATE TABLE users (\n  id bigint PRIMARY KEY,\n  email text NOT NULL,\n  nickname text\n);\n";
    let orders = "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id), note text DEFAULT '');\n";
    let dir = recreated(&format!("{users}{orders}"));
    let got = verified(dir.path(), ASSISTANT, "object-already-exists");
    let titles: Vec<&str> = got.iter().map(|(a, _)| a.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Replace the CREATE TABLE with ALTER TABLE (keeps the new column `nickname`)",
            "Guard with IF NOT EXISTS (keeps the definition from migration 00001_init.sql, not this one)",
            "Remove this statement (migration 00001_init.sql already creates it)",
        ]
    );
    let (fix, verdict) = &got[0];
    assert_eq!(
        fix.text,
        format!("-- +goose Up\nSET LOCAL lock_timeout = '5s';\nALTER TABLE users ADD COLUMN nickname text;\n{orders}")
    );
    assert_eq!((fix.safety, fix.preferred), (Safety::Safe, true));
    assert_eq!(*verdict, Ok(()));
    // The old fixes lose the new column: not preferred, unsafe.
    assert!(got[1..].iter().all(|(a, _)| a.safety == Safety::Unsafe && !a.preferred));

    // The second table, once the first is fixed: its lock_timeout is set already.
    write(dir.path(), &[(ASSISTANT, &fix.text)]);
    let got = verified(dir.path(), ASSISTANT, "object-already-exists");
    let (fix, verdict) = &got[0];
    assert_eq!(fix.title, "Replace the CREATE TABLE with ALTER TABLE (keeps the new column `note`)");
    assert_eq!(
        fix.text,
        "-- +goose Up\nSET LOCAL lock_timeout = '5s';\nALTER TABLE users ADD COLUMN nickname text;\nALTER TABLE orders ADD COLUMN note text DEFAULT '';\n"
    );
    assert_eq!(*verdict, Ok(()));
}

#[test]
fn a_re_created_table_with_a_not_null_column_without_default_is_refused_by_the_verifier() {
    let dir = recreated("CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, nickname text NOT NULL);\n");
    let got = verified(dir.path(), ASSISTANT, "object-already-exists");
    let (fix, verdict) = &got[0];
    assert_eq!(
        fix.text,
        "-- +goose Up\nSET LOCAL lock_timeout = '5s';\nALTER TABLE users ADD COLUMN nickname text NOT NULL;\n"
    );
    // No default is invented: the statement fails on a table with rows, and the rules say so.
    assert!(
        matches!(verdict, Err(Rejected::AddsFinding { rule: "add-column-not-null-no-default", .. })),
        "{verdict:?}"
    );
}

#[test]
fn a_table_re_created_the_same_way_keeps_the_guard_and_the_removal() {
    let dir = recreated("CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n");
    let got = verified(dir.path(), ASSISTANT, "object-already-exists");
    let titles: Vec<&str> = got.iter().map(|(a, _)| a.title.as_str()).collect();
    assert_eq!(
        titles,
        ["Guard with IF NOT EXISTS", "Remove this statement (migration 00001_init.sql already creates it)"]
    );
    assert!(got.iter().all(|(a, v)| a.safety == Safety::Safe && v.is_ok()));
}

#[test]
fn a_re_created_table_without_a_column_drops_it_unsafely_and_says_so() {
    let dir = recreated("CREATE TABLE users (id bigint PRIMARY KEY, nickname text);\n");
    let got = verified(dir.path(), ASSISTANT, "object-already-exists");
    let (fix, _) = &got[0];
    assert_eq!(
        fix.title,
        "Replace the CREATE TABLE with ALTER TABLE (keeps the new column `nickname`; drops the column `email` and its data)"
    );
    assert_eq!(
        fix.text,
        "-- +goose Up\nSET LOCAL lock_timeout = '5s';\nALTER TABLE users ADD COLUMN nickname text;\nALTER TABLE users DROP COLUMN email;\n"
    );
    assert_eq!((fix.safety, fix.preferred), (Safety::Unsafe, false));
}

#[test]
fn a_re_created_table_whose_change_cannot_be_derived_gets_no_alter_fix() {
    // A check constraint the first migration added later: its expression is unknown.
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        &[
            ("go.mod", "module x\n"),
            (
                "db/migrations/00001_init.sql",
                "-- +goose Up\nCREATE TABLE users (id bigint PRIMARY KEY, age int);\nALTER TABLE users ADD CONSTRAINT adult CHECK (age >= 18);\n",
            ),
            (
                ASSISTANT,
                "-- +goose Up\nCREATE TABLE users (id bigint PRIMARY KEY, age int, nickname text, CONSTRAINT adult CHECK (age >= 21));\n",
            ),
        ],
    );
    let got = verified(dir.path(), ASSISTANT, "object-already-exists");
    assert!(got.iter().all(|(a, _)| !a.title.starts_with("Replace")), "{got:#?}");
    assert_eq!(got.len(), 2);
}

// ---------------------------------------------------------------------------------------------
// shipped-migration-edited

const USERS: &str = "-- +goose Up\nCREATE TABLE users (id bigint PRIMARY KEY);\n\n-- +goose Down\nDROP TABLE users;\n";

#[test]
fn an_edit_that_adds_statements_is_reverted_or_moved_into_a_new_migration() {
    let dir = repo(&[
        ("db/migrations/00001_users.sql", USERS),
        ("db/migrations/00002_orders.sql", "-- +goose Up\nCREATE TABLE orders (id int);\n"),
    ]);
    let edited = "-- +goose Up\nCREATE TABLE users (id bigint PRIMARY KEY);\nALTER TABLE users ADD COLUMN email text;\nCREATE INDEX users_email ON users (email);\n\n-- +goose Down\nDROP TABLE users;\n";
    write(dir.path(), &[("db/migrations/00001_users.sql", edited)]);
    let got = fixes_at(dir.path(), "db/migrations/00001_users.sql", "shipped-migration-edited", None);
    assert_eq!(
        titles(&got),
        [
            "Revert the edit (drops the change: restores the text shipped in main)",
            "Move the change into a new migration 00003_users_followup.sql"
        ]
    );
    assert_eq!(got[0].text, USERS);
    assert_eq!((got[0].safety, got[0].preferred), (Safety::Unsafe, false));
    assert_eq!(got[1].text, USERS);
    assert_eq!((got[1].safety, got[1].preferred), (Safety::Unsafe, true));
    assert_eq!(
        got[1].created,
        [(
            "db/migrations/00003_users_followup.sql".to_string(),
            "-- +goose Up\n-- Moved from 00001_users.sql by safemig: that migration already ran (shipped in main).\n\n\
             SET LOCAL lock_timeout = '5s';\nALTER TABLE users ADD COLUMN email text;\nCREATE INDEX users_email ON users (email);\n\n-- +goose Down\n\
             -- Undo the statements moved from 00001_users.sql here.\n"
                .to_string()
        )]
    );
}

#[test]
fn a_layout_or_comment_edit_is_reverted_safely_and_a_changed_statement_only_reverted() {
    let dir = repo(&[("db/migrations/00001_users.sql", USERS)]);
    let cosmetic = "-- +goose Up\n-- the users\nCREATE TABLE users (\n    id bigint PRIMARY KEY\n);\n\n-- +goose Down\nDROP TABLE users;\n";
    write(dir.path(), &[("db/migrations/00001_users.sql", cosmetic)]);
    let got = fixes_at(dir.path(), "db/migrations/00001_users.sql", "shipped-migration-edited", None);
    assert_eq!(titles(&got), ["Revert the edit (only layout or comments changed)"]);
    assert_eq!(got[0].text, USERS);
    assert_eq!((got[0].safety, got[0].preferred), (Safety::Safe, true));

    // A directive is not a comment.
    write(dir.path(), &[("db/migrations/00001_users.sql", &format!("-- +goose NO TRANSACTION\n{USERS}"))]);
    let got = fixes_at(dir.path(), "db/migrations/00001_users.sql", "shipped-migration-edited", None);
    assert_eq!(got[0].safety, Safety::Unsafe);

    // A statement replaced by another (a table renamed in its CREATE TABLE): nothing to derive.
    let changed = USERS.replace("TABLE users", "TABLE people");
    write(dir.path(), &[("db/migrations/00001_users.sql", &changed)]);
    let got = fixes_at(dir.path(), "db/migrations/00001_users.sql", "shipped-migration-edited", None);
    assert_eq!(titles(&got), ["Revert the edit (drops the change: restores the text shipped in main)"]);
    assert_eq!(got[0].text, USERS);

    // Added to the down part: nothing to move.
    write(dir.path(), &[("db/migrations/00001_users.sql", &format!("{USERS}SELECT 1;\n"))]);
    let got = fixes_at(dir.path(), "db/migrations/00001_users.sql", "shipped-migration-edited", None);
    assert_eq!(got.len(), 1);
}

#[test]
fn a_crlf_checkout_is_reverted_with_its_line_endings() {
    let dir = repo(&[("migrations/0001_users.up.sql", "CREATE TABLE users (id int);\n")]);
    write(
        dir.path(),
        &[("migrations/0001_users.up.sql", "CREATE TABLE users (id int);\r\nCREATE TABLE b (id int);\r\n")],
    );
    let got = fixes_at(dir.path(), "migrations/0001_users.up.sql", "shipped-migration-edited", None);
    assert_eq!(got[0].text, "CREATE TABLE users (id int);\r\n");
    assert_eq!(
        got[1].created,
        [(
            "migrations/0002_users_followup.up.sql".to_string(),
            "-- Moved from 0001_users.up.sql by safemig: that migration already ran (shipped in main).\r\n\r\n\
             CREATE TABLE b (id int);\r\n"
                .to_string()
        )]
    );
}

// ---------------------------------------------------------------------------------------------
// applied-migration-edited

fn entry(version: &str, checksum: Option<String>, statements: Option<Vec<String>>) -> LedgerEntry {
    LedgerEntry {
        version: Some(version.to_string()),
        name: Some(version.to_string()),
        applied_at: None,
        state: EntryState::Applied,
        checksum,
        detail: None,
        applied_statements: None,
        total_statements: None,
        statements,
    }
}

#[test]
fn an_applied_prisma_migration_is_restored_from_head_when_its_checksum_matches() {
    let applied = "CREATE TABLE users (id int);\n";
    let dir = repo(&[
        ("prisma/migrations/20240101000000_users/migration.sql", applied),
        ("prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n"),
    ]);
    write(
        dir.path(),
        &[(
            "prisma/migrations/20240101000000_users/migration.sql",
            "CREATE TABLE users (id int);\nCREATE TABLE b (id int);\n",
        )],
    );
    let rel = "prisma/migrations/20240101000000_users/migration.sql";
    let ledger = Ledger {
        framework: FrameworkKind::Prisma,
        table: "_prisma_migrations".into(),
        entries: vec![entry("20240101000000_users", Some(checksum::prisma(applied)), None)],
    };
    let got = fixes_at(dir.path(), rel, "applied-migration-edited", Some(&ledger));
    assert_eq!(
        titles(&got),
        [
            "Revert the edit (drops the change: restores the text applied to the dev database)",
            "Move the change into a new migration 20240101000001_users_followup/migration.sql"
        ]
    );
    assert_eq!(got[0].text, applied);
    assert_eq!(got[1].created[0].0, "prisma/migrations/20240101000001_users_followup/migration.sql");
    assert!(got[1].created[0].1.ends_with("\nCREATE TABLE b (id int);\n"), "{}", got[1].created[0].1);

    // HEAD is not what ran: the applied text is unknown.
    let other =
        Ledger { entries: vec![entry("20240101000000_users", Some(checksum::prisma("SELECT 1;\n")), None)], ..ledger };
    assert!(fixes_at(dir.path(), rel, "applied-migration-edited", Some(&other)).is_empty());
}

#[test]
fn an_applied_supabase_migration_is_restored_from_its_stored_statements() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        &[
            ("supabase/config.toml", "project_id = \"x\"\n"),
            (
                "supabase/migrations/20240101000000_users.sql",
                "CREATE TABLE users (id int);\nCREATE TABLE b (id int);\n",
            ),
        ],
    );
    let ledger = Ledger {
        framework: FrameworkKind::Supabase,
        table: "supabase_migrations.schema_migrations".into(),
        entries: vec![entry("20240101000000", None, Some(vec!["CREATE TABLE users (id int)".into()]))],
    };
    let got =
        fixes_at(dir.path(), "supabase/migrations/20240101000000_users.sql", "applied-migration-edited", Some(&ledger));
    assert_eq!(got[0].text, "CREATE TABLE users (id int);\n");
    assert_eq!(got[1].title, "Move the change into a new migration 20240101000001_users_followup.sql");
    assert_eq!(
        got[1].created[0].1,
        "-- Moved from 20240101000000_users.sql by safemig: that migration already ran (applied to the dev database).\n\nCREATE TABLE b (id int);\n"
    );
}

// ---------------------------------------------------------------------------------------------
// Renumbering

#[test]
fn a_duplicate_version_is_renamed_after_the_newest_with_all_its_files() {
    let dir = repo(&[
        ("migrations/0001_a.up.sql", "CREATE TABLE a (id int);\n"),
        ("migrations/0001_a.down.sql", "DROP TABLE a;\n"),
    ]);
    write(
        dir.path(),
        &[
            ("migrations/0002_b.up.sql", "CREATE TABLE b (id int);\n"),
            ("migrations/0002_c.up.sql", "CREATE TABLE c (id int);\n"),
            ("migrations/0002_c.down.sql", "DROP TABLE c;\n"),
        ],
    );
    let got = fixes_at(dir.path(), "migrations/0002_c.up.sql", "duplicate-migration-version", None);
    assert_eq!(titles(&got), ["Renumber to the next version (0003_c.up.sql)"]);
    assert_eq!(
        got[0].renamed,
        [
            ("migrations/0002_c.up.sql".to_string(), "migrations/0003_c.up.sql".to_string()),
            ("migrations/0002_c.down.sql".to_string(), "migrations/0003_c.down.sql".to_string())
        ]
    );
    assert_eq!((got[0].safety, got[0].preferred), (Safety::Safe, true));

    // A migration after the clash: renumbering moves it past that one.
    write(dir.path(), &[("migrations/0003_d.up.sql", "CREATE TABLE d (id int);\n")]);
    let got = fixes_at(dir.path(), "migrations/0002_c.up.sql", "duplicate-migration-version", None);
    assert_eq!(got[0].renamed[0].1, "migrations/0004_c.up.sql");
    assert_eq!(got[0].safety, Safety::Unsafe);

    // The shipped one of a clash is never renumbered (and not reported).
    write(dir.path(), &[("migrations/0001_z.up.sql", "CREATE TABLE z (id int);\n")]);
    let got = fixes_at(dir.path(), "migrations/0001_z.up.sql", "duplicate-migration-version", None);
    assert_eq!(got[0].renamed, [("migrations/0001_z.up.sql".to_string(), "migrations/0004_z.up.sql".to_string())]);
}

#[test]
fn an_out_of_order_migration_goes_after_the_newest_shipped_one() {
    // goose refuses to migrate: the rename is what lets it run (safe).
    let dir = repo(&[("db/migrations/00001_a.sql", "-- +goose Up\nSELECT 1;\n")]);
    write(dir.path(), &[("db/migrations/00002_b.sql", "-- +goose Up\nSELECT 2;\n")]);
    commit(dir.path(), "b");
    git(dir.path(), &["checkout", "-q", "main"]);
    write(dir.path(), &[("db/migrations/00003_c.sql", "-- +goose Up\nSELECT 3;\n")]);
    commit(dir.path(), "c");
    git(dir.path(), &["checkout", "-q", "work"]);
    // 00003 shipped after this branch forked: the branch does not have it.
    let got = fixes_at(dir.path(), "db/migrations/00002_b.sql", "migration-out-of-order", None);
    assert_eq!(titles(&got), ["Renumber to the next version (00004_b.sql)"]);
    assert_eq!(got[0].renamed, [("db/migrations/00002_b.sql".to_string(), "db/migrations/00004_b.sql".to_string())]);
    assert_eq!(got[0].safety, Safety::Safe);
}

#[test]
fn diesel_renames_the_directory_and_flyway_its_conf_file() {
    let dir = repo(&[
        ("migrations/2024-01-01-000000_a/up.sql", "SELECT 1;\n"),
        ("migrations/2024-01-03-000000_c/up.sql", "SELECT 3;\n"),
    ]);
    write(
        dir.path(),
        &[
            ("migrations/2024-01-02-000000_b/up.sql", "SELECT 2;\n"),
            ("migrations/2024-01-02-000000_b/down.sql", "SELECT 0;\n"),
        ],
    );
    let got = fixes_at(dir.path(), "migrations/2024-01-02-000000_b/up.sql", "migration-out-of-order", None);
    assert_eq!(
        got[0].renamed,
        [("migrations/2024-01-02-000000_b".to_string(), "migrations/2024-01-03-000001_b".to_string())]
    );
    // Diesel would have applied it after the newer one: the order changes.
    assert_eq!(got[0].safety, Safety::Unsafe);

    let dir = repo(&[("db/migration/V1__a.sql", "SELECT 1;\n"), ("db/migration/V3__c.sql", "SELECT 3;\n")]);
    write(
        dir.path(),
        &[("db/migration/V2__b.sql", "SELECT 2;\n"), ("db/migration/V2__b.sql.conf", "executeInTransaction=false\n")],
    );
    let got = fixes_at(dir.path(), "db/migration/V2__b.sql", "migration-out-of-order", None);
    assert_eq!(
        got[0].renamed,
        [
            ("db/migration/V2__b.sql".to_string(), "db/migration/V4__b.sql".to_string()),
            ("db/migration/V2__b.sql.conf".to_string(), "db/migration/V4__b.sql.conf".to_string())
        ]
    );
    assert_eq!(got[0].safety, Safety::Safe);
}

#[test]
fn dbmate_renames_its_single_file_and_prisma_its_directory() {
    let dir = repo(&[("db/migrations/20240101000000_a.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\n")]);
    write(
        dir.path(),
        &[
            ("db/migrations/20240102000000_b.sql", "-- migrate:up\nSELECT 2;\n-- migrate:down\n"),
            ("db/migrations/20240102000000_c.sql", "-- migrate:up\nSELECT 3;\n-- migrate:down\n"),
        ],
    );
    let got = fixes_at(dir.path(), "db/migrations/20240102000000_c.sql", "duplicate-migration-version", None);
    assert_eq!(
        got[0].renamed,
        [("db/migrations/20240102000000_c.sql".to_string(), "db/migrations/20240102000001_c.sql".to_string())]
    );

    let lock = ("prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n");
    let dir = repo(&[
        lock,
        ("prisma/migrations/20240101000000_a/migration.sql", "SELECT 1;\n"),
        ("prisma/migrations/20240103000000_c/migration.sql", "SELECT 3;\n"),
    ]);
    write(dir.path(), &[("prisma/migrations/20240102000000_b/migration.sql", "SELECT 2;\n")]);
    let got = fixes_at(dir.path(), "prisma/migrations/20240102000000_b/migration.sql", "migration-out-of-order", None);
    assert_eq!(titles(&got), ["Renumber to the next version (20240103000001_b/migration.sql)"]);
    assert_eq!(
        got[0].renamed,
        [("prisma/migrations/20240102000000_b".to_string(), "prisma/migrations/20240103000001_b".to_string())]
    );
    assert_eq!(got[0].safety, Safety::Unsafe);
}

#[test]
fn without_git_a_renumbering_is_unsafe_and_shipped_migrations_are_not_renumbered() {
    // Without git nothing is known to have shipped: offered, but unsafe.
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), &[("migrations/0001_a.up.sql", "SELECT 1;\n"), ("migrations/0001_b.up.sql", "SELECT 2;\n")]);
    let got = fixes_at(dir.path(), "migrations/0001_b.up.sql", "duplicate-migration-version", None);
    assert_eq!(got[0].renamed, [("migrations/0001_b.up.sql".to_string(), "migrations/0002_b.up.sql".to_string())]);
    assert_eq!(got[0].safety, Safety::Unsafe);
    // Both shipped: the rule offers no fix, and neither does the fixer.
    let dir = repo(&[("migrations/0001_a.up.sql", "SELECT 1;\n"), ("migrations/0001_b.up.sql", "SELECT 2;\n")]);
    assert!(fixes_at(dir.path(), "migrations/0001_b.up.sql", "duplicate-migration-version", None).is_empty());
}

#[test]
fn the_guard_goes_before_a_qualified_name() {
    let got = alone("CREATE TABLE public.t (id int);\nCREATE TABLE public.t (id int);\n");
    assert_eq!(got[0].text, "CREATE TABLE public.t (id int);\nCREATE TABLE IF NOT EXISTS public.t (id int);\n");
    let got = alone("CREATE TABLE t (id int);\nALTER TABLE public.t ADD COLUMN \"id\" int;\n");
    assert_eq!(got[0].text, "CREATE TABLE t (id int);\nALTER TABLE public.t ADD COLUMN IF NOT EXISTS \"id\" int;\n");
}

#[test]
fn an_edited_down_file_is_only_reverted() {
    let dir = repo(&[
        ("migrations/0001_a.up.sql", "CREATE TABLE a (id int);\n"),
        ("migrations/0001_a.down.sql", "DROP TABLE a;\n"),
    ]);
    write(dir.path(), &[("migrations/0001_a.down.sql", "DROP TABLE a;\nDROP TABLE b;\n")]);
    let got = fixes_at(dir.path(), "migrations/0001_a.down.sql", "shipped-migration-edited", None);
    assert_eq!(titles(&got), ["Revert the edit (drops the change: restores the text shipped in main)"]);
    assert_eq!(got[0].text, "DROP TABLE a;\n");
}

#[test]
fn a_moved_function_keeps_goose_statement_markers() {
    let dir = repo(&[("db/migrations/00001_users.sql", USERS)]);
    let function = "CREATE FUNCTION one() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;";
    let edited = USERS.replace(
        "\n\n-- +goose Down",
        &format!("\n-- +goose StatementBegin\n{function}\n-- +goose StatementEnd\n\n-- +goose Down"),
    );
    write(dir.path(), &[("db/migrations/00001_users.sql", &edited)]);
    let got = fixes_at(dir.path(), "db/migrations/00001_users.sql", "shipped-migration-edited", None);
    let created = &got[1].created[0].1;
    assert!(
        created.contains(&format!("\n-- +goose StatementBegin\n{function}\n-- +goose StatementEnd\n")),
        "{created}"
    );
}

/// The shipped `USERS` edited into `edited`: the move's title, the restored file and the new
/// migration, with the Verifier's verdict.
fn moved(edited_sql: &str) -> (Applied, Result<(), Rejected>) {
    let dir = repo(&[("go.mod", "module x\n"), ("db/migrations/00001_users.sql", USERS)]);
    let edited = USERS.replace("CREATE TABLE users (id bigint PRIMARY KEY);\n", edited_sql);
    write(dir.path(), &[("db/migrations/00001_users.sql", &edited)]);
    let got = verified(dir.path(), "db/migrations/00001_users.sql", "shipped-migration-edited");
    let (fix, verdict) = got.into_iter().find(|(a, _)| a.title.starts_with("Move")).expect("a move is offered");
    assert_eq!((fix.safety, fix.preferred), (Safety::Unsafe, true));
    (fix, verdict)
}

/// The new goose migration holding `sql` moved from 00001_users.sql.
fn followup(sql: &str) -> Vec<(String, String)> {
    vec![(
        "db/migrations/00002_users_followup.sql".to_string(),
        format!(
            "-- +goose Up\n-- Moved from 00001_users.sql by safemig: that migration already ran (shipped in main).\n\n\
             SET LOCAL lock_timeout = '5s';\n{sql}\n-- +goose Down\n-- Undo the statements moved from 00001_users.sql here.\n"
        ),
    )]
}

#[test]
fn a_column_added_inside_a_shipped_create_table_moves_as_add_column() {
    let (fix, verdict) = moved("CREATE TABLE users (id bigint PRIMARY KEY, email text);\n");
    assert_eq!(fix.title, "Move the change into a new migration 00002_users_followup.sql");
    // The shipped file byte for byte.
    assert_eq!(fix.text, USERS);
    assert_eq!(fix.created, followup("ALTER TABLE users ADD COLUMN email text;\n"));
    assert_eq!(verdict, Ok(()));
}

#[test]
fn a_type_changed_in_a_shipped_create_table_moves_as_alter_column_type() {
    let dir = repo(&[
        ("go.mod", "module x\n"),
        (
            "db/migrations/00001_users.sql",
            "-- +goose Up\nCREATE TABLE users (id bigint PRIMARY KEY, name varchar(100));\n",
        ),
    ]);
    write(
        dir.path(),
        &[(
            "db/migrations/00001_users.sql",
            "-- +goose Up\nCREATE TABLE users (id bigint PRIMARY KEY, name varchar(200) NOT NULL DEFAULT '');\n",
        )],
    );
    let got = verified(dir.path(), "db/migrations/00001_users.sql", "shipped-migration-edited");
    let (fix, _) = got.iter().find(|(a, _)| a.title.starts_with("Move")).expect("a move is offered");
    assert_eq!(fix.text, "-- +goose Up\nCREATE TABLE users (id bigint PRIMARY KEY, name varchar(100));\n");
    assert_eq!(
        fix.created[0].1,
        "-- +goose Up\n-- Moved from 00001_users.sql by safemig: that migration already ran (shipped in main).\n\n\
         SET LOCAL lock_timeout = '5s';\nALTER TABLE users ALTER COLUMN name TYPE varchar(200);\n\
         ALTER TABLE users ALTER COLUMN name SET DEFAULT '';\nALTER TABLE users ALTER COLUMN name SET NOT NULL;\n\n\
         -- +goose Down\n-- Undo the statements moved from 00001_users.sql here.\n"
    );
    // The rules judge the moved statements on a table that has rows by now: SET NOT NULL scans it.
    let verdict = got.iter().find(|(a, _)| a.title.starts_with("Move")).map(|(_, v)| v.clone());
    assert!(matches!(verdict, Some(Err(Rejected::AddsFinding { rule: "set-not-null-scan", .. }))), "{verdict:?}");

    // A longer varchar rewrites nothing: offered.
    write(
        dir.path(),
        &[(
            "db/migrations/00001_users.sql",
            "-- +goose Up\nCREATE TABLE users (id bigint PRIMARY KEY, name varchar(200));\n",
        )],
    );
    let got = verified(dir.path(), "db/migrations/00001_users.sql", "shipped-migration-edited");
    let (fix, verdict) = got.iter().find(|(a, _)| a.title.starts_with("Move")).expect("a move is offered");
    assert!(
        fix.created[0].1.contains("\nALTER TABLE users ALTER COLUMN name TYPE varchar(200);\n\n"),
        "{:?}",
        fix.created
    );
    assert_eq!(*verdict, Ok(()));
}

#[test]
fn an_edited_create_table_and_added_statements_move_together_in_order() {
    let (fix, verdict) = moved(
        "CREATE TABLE users (id bigint PRIMARY KEY, email text, CONSTRAINT email_lower CHECK (email = lower(email)));\nCREATE INDEX users_email ON users (email);\n",
    );
    assert_eq!(fix.text, USERS);
    assert_eq!(
        fix.created,
        followup(
            "ALTER TABLE users ADD COLUMN email text;\nALTER TABLE users ADD CONSTRAINT email_lower CHECK (email = lower(email));\nCREATE INDEX users_email ON users (email);\n"
        )
    );
    // The rules judge the moved statements: a CHECK validated on add and a blocking index build.
    assert!(matches!(verdict, Err(Rejected::AddsFinding { .. })), "{verdict:?}");
}

#[test]
fn a_column_removed_from_a_shipped_create_table_moves_as_a_drop_that_the_title_names() {
    let dir = repo(&[
        ("go.mod", "module x\n"),
        ("db/migrations/00001_users.sql", "-- +goose Up\nCREATE TABLE users (id bigint PRIMARY KEY, legacy text);\n"),
    ]);
    write(
        dir.path(),
        &[("db/migrations/00001_users.sql", "-- +goose Up\nCREATE TABLE users (id bigint PRIMARY KEY);\n")],
    );
    let got = verified(dir.path(), "db/migrations/00001_users.sql", "shipped-migration-edited");
    let (fix, _) = got.iter().find(|(a, _)| a.title.starts_with("Move")).expect("a move is offered");
    assert_eq!(
        fix.title,
        "Move the change into a new migration 00002_users_followup.sql (drops the column `legacy` and its data)"
    );
    assert!(fix.created[0].1.contains("\nALTER TABLE users DROP COLUMN legacy;\n"), "{:?}", fix.created);
    assert_eq!(fix.safety, Safety::Unsafe);
}
