//! The migration-history quick fixes through the editor: reverting or moving an edit of a shipped
//! migration (a git repository whose `main` is the shipped ref), renumbering a migration
//! (`RenameFile`), and guarding a statement that creates an object that already exists.

use super::*;

/// A repository whose `main` holds `shipped`, checked out on a branch `work`.
fn shipped_repo(shipped: &[(&str, String)]) -> tempfile::TempDir {
    let dir = workspace(shipped);
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "shipped"]);
    git(dir.path(), &["checkout", "-q", "-b", "work"]);
    dir
}

const USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY);";

#[test]
fn a_shipped_edit_is_moved_into_a_new_migration_or_reverted() {
    let rel = "db/migrations/00001_users.sql";
    let edited = goose_file(&format!("{USERS}\nCREATE TABLE notes (id bigint PRIMARY KEY);"));
    let dir = shipped_repo(&[(rel, goose_file(USERS))]);
    write(&dir.path().join(rel), &edited);
    fix_in_workspace(
        dir.path(),
        rel,
        "shipped-migration-edited",
        "Move the change into a new migration 00002_users_followup.sql",
    );
    assert_eq!(std::fs::read_to_string(dir.path().join(rel)).expect("read"), goose_file(USERS));
    let created = std::fs::read_to_string(dir.path().join("db/migrations/00002_users_followup.sql")).expect("created");
    assert!(created.contains("\nCREATE TABLE notes (id bigint PRIMARY KEY);\n"), "{created}");

    let dir = shipped_repo(&[(rel, goose_file(USERS))]);
    write(&dir.path().join(rel), &edited);
    fix_in_workspace(dir.path(), rel, "shipped-migration-edited", "Revert the edit (drops the change");
    assert_eq!(std::fs::read_to_string(dir.path().join(rel)).expect("read"), goose_file(USERS));
}

#[test]
fn a_duplicate_or_out_of_order_migration_is_renamed_after_the_newest() {
    // golang-migrate: both files of the migration move.
    let dir = shipped_repo(&[("migrations/0001_a.up.sql", format!("{USERS}\n"))]);
    write(&dir.path().join("migrations/0002_b.up.sql"), "CREATE TABLE b (id bigint PRIMARY KEY);\n");
    write(&dir.path().join("migrations/0002_c.up.sql"), "CREATE TABLE c (id bigint PRIMARY KEY);\n");
    write(&dir.path().join("migrations/0002_c.down.sql"), "DROP TABLE c;\n");
    fix_in_workspace(
        dir.path(),
        "migrations/0002_c.up.sql",
        "duplicate-migration-version",
        "Renumber to the next version (0003_c.up.sql)",
    );
    assert!(
        dir.path().join("migrations/0003_c.up.sql").exists() && dir.path().join("migrations/0003_c.down.sql").exists()
    );
    assert!(
        !dir.path().join("migrations/0002_c.up.sql").exists()
            && !dir.path().join("migrations/0002_c.down.sql").exists()
    );

    // goose: 00003 shipped after the branch forked.
    let dir = shipped_repo(&[("db/migrations/00001_a.sql", goose_file(USERS))]);
    write(&dir.path().join("db/migrations/00002_b.sql"), &goose_file("CREATE TABLE b (id bigint PRIMARY KEY);"));
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "b"]);
    git(dir.path(), &["checkout", "-q", "main"]);
    write(&dir.path().join("db/migrations/00003_c.sql"), &goose_file("CREATE TABLE c (id bigint PRIMARY KEY);"));
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "c"]);
    git(dir.path(), &["checkout", "-q", "work"]);
    fix_in_workspace(
        dir.path(),
        "db/migrations/00002_b.sql",
        "migration-out-of-order",
        "Renumber to the next version (00004_b.sql)",
    );
    assert!(dir.path().join("db/migrations/00004_b.sql").exists());
}

#[test]
fn an_object_that_already_exists_is_guarded_or_its_statement_removed() {
    let files = [
        ("db/migrations/001_users.sql", format!("{USERS}\nALTER TABLE users ADD COLUMN email text;\n")),
        ("db/migrations/002_again.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\nSELECT 1;\n".to_string()),
    ];
    fix_in_editor(&files, "db/migrations/002_again.sql", "object-already-exists", "Guard with IF NOT EXISTS");
    fix_in_editor(
        &files,
        "db/migrations/002_again.sql",
        "object-already-exists",
        "Remove this statement (migration 001_users.sql already creates it)",
    );
}

#[test]
fn a_client_that_cannot_rename_files_gets_the_renumbering_done_by_the_server() {
    let dir = shipped_repo(&[("migrations/0001_a.up.sql", format!("{USERS}\n"))]);
    write(&dir.path().join("migrations/0002_b.up.sql"), "CREATE TABLE b (id bigint PRIMARY KEY);\n");
    write(&dir.path().join("migrations/0002_c.up.sql"), "CREATE TABLE c (id bigint PRIMARY KEY);\n");
    let mut client = start_in(
        dir.path(),
        json!({"workspace": {"workspaceEdit": {"documentChanges": true, "resourceOperations": ["create"]}}}),
    );
    let uri = file_uri(&dir.path().join("migrations/0002_c.up.sql"));
    let published = client.diagnostics_where(&uri, |p| !with_rule(p, "duplicate-migration-version").is_empty());
    let finding = with_rule(&published, "duplicate-migration-version")[0].clone();
    client.open(&uri, 1, "CREATE TABLE c (id bigint PRIMARY KEY);\n");
    client.diagnostics_where(&uri, |p| p["version"] == 1 && !with_rule(p, "duplicate-migration-version").is_empty());
    let actions = client
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": finding["range"], "context": {"diagnostics": [finding]}}),
        )
        .expect("codeAction answers");
    // No RenameFile the client cannot apply: the server renames, never over a file.
    let action = actions
        .as_array()
        .and_then(|a| a.iter().find(|a| a["title"].as_str().is_some_and(|t| t.starts_with("Renumber"))))
        .unwrap_or_else(|| panic!("a renumbering through the server: {actions:#}"))
        .clone();
    assert!(action["edit"].is_null(), "{action:#}");
    assert_eq!(action["command"]["command"], "safemig.applyFix");
    client
        .request(
            "workspace/executeCommand",
            json!({"command": action["command"]["command"], "arguments": action["command"]["arguments"]}),
        )
        .expect("the command runs");
    assert!(!dir.path().join("migrations/0002_c.up.sql").exists());
    assert!(dir.path().join("migrations/0002_b.up.sql").exists());
    let renamed: Vec<String> = std::fs::read_dir(dir.path().join("migrations"))
        .expect("read dir")
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.ends_with("_c.up.sql"))
        .collect();
    assert_eq!(renamed.len(), 1, "{renamed:?}");
    assert_ne!(renamed[0], "0002_c.up.sql");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}
