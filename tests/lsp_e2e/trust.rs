//! What the server may offer: the fixes of the request's own diagnostics, never a fix planned
//! before the workspace's facts are known, never one that edits a shipped migration.

use super::*;

const PRISMA_SCHEMA: &str = "datasource db {\n  provider = \"postgresql\"\n  url = env(\"DATABASE_URL\")\n}\n";
const PRISMA_INIT: &str =
    "CREATE TABLE \"User\" (\"id\" BIGINT NOT NULL, \"email\" TEXT, CONSTRAINT \"User_pkey\" PRIMARY KEY (\"id\"));\n";
/// A multi-statement Prisma migration: Prisma sends it as one query string, so an in-place
/// `CREATE INDEX CONCURRENTLY` here fails on deploy.
const PRISMA_INDEX: &str =
    "CREATE INDEX \"User_email_idx\" ON \"User\"(\"email\");\nALTER TABLE \"User\" ADD COLUMN \"name\" TEXT;\n";

fn prisma() -> tempfile::TempDir {
    workspace(&[
        ("prisma/schema.prisma", PRISMA_SCHEMA.into()),
        ("prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n".into()),
        ("prisma/migrations/20260301000000_init/migration.sql", PRISMA_INIT.into()),
        ("prisma/migrations/20260302000000_index/migration.sql", PRISMA_INDEX.into()),
    ])
}

/// The code actions for one published diagnostic, asked with it in the context.
fn actions_for(client: &mut LspClient, uri: &str, finding: &Value) -> Value {
    client
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": finding["range"], "context": {"diagnostics": [finding]}}),
        )
        .expect("codeAction answers")
}

fn capabilities() -> Value {
    json!({
        "general": {"positionEncodings": ["utf-8"]},
        "workspace": {"workspaceEdit": {"documentChanges": true, "resourceOperations": ["create", "rename"]}},
    })
}

/// Whether an action edits `uri` in place to add `CONCURRENTLY`, creating no file.
fn in_place_concurrently(action: &Value, uri: &str) -> bool {
    let changes = action["edit"]["documentChanges"].as_array().cloned().unwrap_or_default();
    let creates = changes.iter().any(|c| c["kind"] == "create");
    let inserts = changes.iter().any(|c| {
        c["textDocument"]["uri"] == uri
            && c["edits"].as_array().is_some_and(|e| e.iter().any(|e| e["newText"].as_str() == Some(" CONCURRENTLY")))
    });
    inserts && !creates
}

#[test]
fn no_fix_is_planned_before_the_workspace_facts_are_known() {
    let dir = prisma();
    let path = dir.path().join("prisma/migrations/20260302000000_index/migration.sql");
    let uri = file_uri(&path);
    let mut client = start_in(dir.path(), capabilities());
    client.open(&uri, 1, PRISMA_INDEX);
    let whole = json!({"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}});
    // Asked at once, and again until the set's diagnostics are in: never the in-place keyword.
    let mut answered_with_facts = false;
    for _ in 0..200 {
        let actions = client
            .request(
                "textDocument/codeAction",
                json!({"textDocument": {"uri": uri}, "range": whole, "context": {"diagnostics": []}}),
            )
            .expect("codeAction answers");
        let actions = actions.as_array().cloned().unwrap_or_default();
        assert!(!actions.iter().any(|a| in_place_concurrently(a, &uri)), "{actions:#?}");
        if actions.iter().any(|a| a["title"].as_str().is_some_and(|t| t.contains("new migration"))) {
            answered_with_facts = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert!(answered_with_facts, "the set-aware fix (a new migration) is offered once the workspace is analysed");
    client.shutdown_and_exit();
}

#[test]
fn each_diagnostic_gets_only_its_own_fixes() {
    let dir = workspace(&[
        ("migrations/001_users.sql", "CREATE TABLE users (id bigint PRIMARY KEY, name text);\n".into()),
        ("migrations/002_country.sql", "ALTER TABLE users ADD COLUMN country text NOT NULL;\n".into()),
    ]);
    let path = dir.path().join("migrations/002_country.sql");
    let uri = file_uri(&path);
    let text = std::fs::read_to_string(&path).expect("read");
    let mut client = start_in(dir.path(), capabilities());
    // The workspace's analysis first (unversioned), then the buffer's.
    client.diagnostics_where(&uri, |p| p["version"].is_null() && !with_rule(p, "lock-timeout-missing").is_empty());
    client.open(&uri, 1, &text);
    let published = client.diagnostics_where(&uri, |p| {
        p["version"] == 1
            && !with_rule(p, "add-column-not-null-no-default").is_empty()
            && !with_rule(p, "lock-timeout-missing").is_empty()
    });
    let column = with_rule(&published, "add-column-not-null-no-default")[0].clone();
    let whole = json!({"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}});
    let ask = |client: &mut LspClient, diagnostics: Value| {
        client
            .request(
                "textDocument/codeAction",
                json!({"textDocument": {"uri": uri}, "range": whole, "context": {"diagnostics": diagnostics}}),
            )
            .expect("codeAction answers")
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let codes = |actions: &[Value]| {
        let mut codes: Vec<String> =
            actions.iter().filter_map(|a| a["diagnostics"][0]["code"].as_str().map(str::to_string)).collect();
        codes.sort();
        codes.dedup();
        codes
    };
    // One diagnostic in the context: its fixes only, though the range covers both findings.
    let own = ask(&mut client, json!([column]));
    assert_eq!(codes(&own), ["add-column-not-null-no-default"], "{own:#?}");
    // No diagnostic of ours in the context: every finding the range touches.
    let all = ask(&mut client, json!([]));
    assert_eq!(codes(&all), ["add-column-not-null-no-default", "lock-timeout-missing"], "{all:#?}");
    client.shutdown_and_exit();
}

#[test]
fn a_shipped_migration_is_offered_no_edit() {
    let dir = workspace(&[
        ("go.mod", "module x\n".into()),
        (
            "db/migrations/00001_users.sql",
            "-- +goose Up\nCREATE TABLE users (id bigint PRIMARY KEY);\n-- +goose Down\nDROP TABLE users;\n".into(),
        ),
        (
            "db/migrations/00002_nickname.sql",
            "-- +goose Up\nALTER TABLE users ADD COLUMN nickname text;\n-- +goose Down\nSELECT 1;\n".into(),
        ),
    ]);
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"])
            .args(["-c", "init.defaultBranch=main"])
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "shipped"]);
    git(&["checkout", "-q", "-b", "work"]);
    // Negative: the same statement in a new migration gets its fix.
    let new = dir.path().join("db/migrations/00003_bio.sql");
    let new_text = "-- +goose Up\nALTER TABLE users ADD COLUMN bio text;\n-- +goose Down\nSELECT 1;\n";
    write(&new, new_text);
    let shipped = dir.path().join("db/migrations/00002_nickname.sql");
    let uri = file_uri(&shipped);
    let text = std::fs::read_to_string(&shipped).expect("read");
    let mut client = start_in(dir.path(), capabilities());
    let new_uri = file_uri(&new);
    client.diagnostics_where(&new_uri, |p| p["version"].is_null() && !with_rule(p, "lock-timeout-missing").is_empty());
    client.open(&uri, 1, &text);
    let published =
        client.diagnostics_where(&uri, |p| p["version"] == 1 && !with_rule(p, "lock-timeout-missing").is_empty());
    let finding = with_rule(&published, "lock-timeout-missing")[0].clone();
    let actions = actions_for(&mut client, &uri, &finding);
    assert_eq!(actions, json!([]), "a shipped migration gets no edit");
    let uri = new_uri;
    client.open(&uri, 1, new_text);
    let published =
        client.diagnostics_where(&uri, |p| p["version"] == 1 && !with_rule(p, "lock-timeout-missing").is_empty());
    let finding = with_rule(&published, "lock-timeout-missing")[0].clone();
    let actions = actions_for(&mut client, &uri, &finding);
    assert!(actions.as_array().is_some_and(|a| !a.is_empty()), "{actions:#}");
    client.shutdown_and_exit();
}

/// A client that announces no `documentChanges` (Neovim up to 0.11 with the README's config)
/// still gets fixes that create files: the server writes them, never over anything, and applies
/// the buffer's edits through `workspace/applyEdit`; refused, the files are taken back.
#[test]
fn a_client_without_document_changes_gets_new_migrations_through_the_server() {
    let index = "CREATE INDEX users_email_idx ON users (email);\nALTER TABLE users ADD COLUMN note text;\n";
    let files = [
        ("go.mod", "module x\n".to_string()),
        ("db/migrations/000001_users.up.sql", "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n".into()),
        ("db/migrations/000002_index.up.sql", index.into()),
    ];
    for refuse in [false, true] {
        let dir = workspace(&files);
        let path = dir.path().join("db/migrations/000002_index.up.sql");
        let uri = file_uri(&path);
        // Neovim 0.11's workspaceEdit capability: resource operations, no documentChanges.
        let caps = json!({
            "general": {"positionEncodings": ["utf-8"]},
            "workspace": {"workspaceEdit": {"resourceOperations": ["rename", "create", "delete"]}, "applyEdit": true},
        });
        let mut client = start_in(dir.path(), caps);
        client.apply_edits = !refuse;
        client.diagnostics_where(&uri, |p| p["version"].is_null() && !with_rule(p, "create-index-blocking").is_empty());
        client.open(&uri, 1, index);
        let published =
            client.diagnostics_where(&uri, |p| p["version"] == 1 && !with_rule(p, "create-index-blocking").is_empty());
        let finding = with_rule(&published, "create-index-blocking")[0].clone();
        let actions = actions_for(&mut client, &uri, &finding);
        let action = actions
            .as_array()
            .and_then(|a| a.iter().find(|a| a["title"].as_str().is_some_and(|t| t.contains("new migration"))))
            .unwrap_or_else(|| panic!("a new-migration fix is offered: {actions:#}"))
            .clone();
        assert!(action["edit"].is_null(), "no documentChanges the client cannot apply: {action:#}");
        assert_eq!(action["command"]["command"], "safemig.applyFix");
        let command = &action["command"];
        client
            .request(
                "workspace/executeCommand",
                json!({"command": command["command"], "arguments": command["arguments"]}),
            )
            .expect("the command runs");
        let created: Vec<std::path::PathBuf> = std::fs::read_dir(dir.path().join("db/migrations"))
            .expect("read dir")
            .flatten()
            .map(|e| e.path())
            .filter(|p| !files.iter().any(|(rel, _)| dir.path().join(rel) == *p))
            .collect();
        let applied_edits: Vec<Value> =
            client.server_requests.iter().filter(|r| r["method"] == "workspace/applyEdit").cloned().collect();
        assert_eq!(applied_edits.len(), 1, "{:#?}", client.server_requests);
        let edits = applied_edits[0]["params"]["edit"]["changes"][&uri].as_array().cloned().unwrap_or_default();
        let buffer = apply_text_edits(index, &edits);
        assert!(!buffer.contains("CREATE INDEX"), "{buffer}");
        if refuse {
            assert!(created.is_empty(), "a refused edit leaves no file behind: {created:?}");
            client.wait_for("the warning that the fix was not applied", |m| {
                m["method"] == "window/showMessage"
                    && m["params"]["message"].as_str().is_some_and(|t| t.contains("did not apply"))
            });
        } else {
            assert_eq!(created.len(), 1, "{created:?}");
            let new = std::fs::read_to_string(&created[0]).expect("read the new migration");
            assert!(new.contains("CREATE INDEX CONCURRENTLY users_email_idx ON users (email);"), "{new}");
            // Asked again with the old version: the fix is not applied twice.
            client
                .request(
                    "workspace/executeCommand",
                    json!({"command": command["command"], "arguments": command["arguments"]}),
                )
                .expect("the command runs");
            let files_now = std::fs::read_dir(dir.path().join("db/migrations")).expect("read dir").count();
            assert_eq!(files_now, 3, "nothing written twice");
        }
        client.shutdown_and_exit();
    }
}

/// A plain numbered `migrations/` directory gets the rename-column expand/contract fix just as
/// the framework layouts do, whenever the replay knows the column.
#[test]
fn a_rename_in_a_plain_numbered_directory_gets_its_expand_fix() {
    let dir = workspace(&[
        (
            "migrations/001_users.sql",
            "CREATE TABLE users (id bigint PRIMARY KEY, email text, name text, created_at timestamptz);\n".into(),
        ),
        ("migrations/002_rename.sql", "ALTER TABLE users RENAME COLUMN name TO full_name;\n".into()),
    ]);
    let path = dir.path().join("migrations/002_rename.sql");
    let uri = file_uri(&path);
    let mut client = start_in(dir.path(), capabilities());
    client.diagnostics_where(&uri, |p| p["version"].is_null() && !with_rule(p, "rename-column").is_empty());
    client.open(&uri, 1, "ALTER TABLE users RENAME COLUMN name TO full_name;\n");
    let published = client.diagnostics_where(&uri, |p| p["version"] == 1 && !with_rule(p, "rename-column").is_empty());
    let finding = with_rule(&published, "rename-column")[0].clone();
    let actions = actions_for(&mut client, &uri, &finding);
    assert!(
        actions
            .as_array()
            .is_some_and(|a| a.iter().any(|a| a["title"].as_str().is_some_and(|t| t.starts_with("Expand/contract")))),
        "{actions:#}"
    );
    client.shutdown_and_exit();
}
