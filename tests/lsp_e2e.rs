//! Starts the built `safemig lsp --stdio` and speaks LSP to it over stdio, as an editor would.

#[path = "support/lsp_client.rs"]
mod lsp_client;

use serde_json::{json, Value};

use lsp_client::{file_uri, LspClient};

/// A migration with non-ASCII text before the statement under test, on its own line and on the
/// same line, so UTF-16 and UTF-8 columns differ.
const MIGRATION: &str = "-- Index für Bestellungen 😀\n\
CREATE TABLE notes (id bigint PRIMARY KEY, body text);\n\
/* café 😀 */ CREATE INDEX orders_customer_idx ON orders (customer_id);\n";
/// What precedes `CREATE INDEX` on its line (line 2).
const PREFIX: &str = "/* café 😀 */ ";
const URI: &str = "file:///tmp/safemig-e2e/migrations/20240101_orders_index.sql";

fn utf16_len(s: &str) -> u32 {
    s.encode_utf16().count() as u32
}

fn init_params(extra_capabilities: Value) -> Value {
    json!({
        "processId": null,
        "rootUri": null,
        "capabilities": extra_capabilities,
        "clientInfo": {"name": "safemig-e2e"}
    })
}

fn start(capabilities: Value) -> (LspClient, Value) {
    let mut client = LspClient::spawn();
    let result = client.initialize(init_params(capabilities));
    (client, result)
}

fn with_rule<'d>(diagnostics: &'d Value, rule: &str) -> Vec<&'d Value> {
    diagnostics["diagnostics"].as_array().expect("a diagnostics array").iter().filter(|d| d["code"] == rule).collect()
}

fn hover_text(result: &Value) -> String {
    result["contents"]["value"].as_str().unwrap_or_default().to_string()
}

fn hover(client: &mut LspClient, uri: &str, line: u32, character: u32) -> Result<Value, Value> {
    client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
    )
}

/// (a) UTF-16 diagnostics, (c) hover, (d) document symbols, (b) an incremental edit, and didClose.
#[test]
fn utf16_diagnostics_hover_symbols_and_incremental_edits() {
    let (mut client, init) = start(json!({}));
    let caps = &init["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-16");
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental sync");
    assert_eq!(caps["hoverProvider"], true);
    assert_eq!(caps["documentSymbolProvider"], true);

    // (a)
    client.open(URI, 1, MIGRATION);
    let published = client.diagnostics(URI, Some(1));
    let found = with_rule(&published, "create-index-blocking");
    assert_eq!(found.len(), 1, "{published:#}");
    let d = found[0];
    let start = utf16_len(PREFIX);
    assert_eq!(start, 14);
    assert_eq!(
        d["range"],
        json!({"start": {"line": 2, "character": start}, "end": {"line": 2, "character": start + 12}}),
        "the range covers `CREATE INDEX` in UTF-16 units: {d:#}"
    );
    assert_eq!(d["codeDescription"]["href"], "https://safemig.dev/rules#create-index-blocking");
    assert_eq!(d["source"], "safemig");
    assert_eq!(d["severity"], 2, "warning");
    assert!(d["message"].as_str().is_some_and(|m| m.contains("orders")), "{d:#}");

    // (c) On the index: its lock and its finding. On the CREATE TABLE of a new table: nothing.
    let on_index = hover(&mut client, URI, 2, start + 3).expect("hover answers");
    let text = hover_text(&on_index);
    assert!(
        text.contains("SHARE on `orders`: blocks writes (INSERT, UPDATE, DELETE); reads continue until commit"),
        "{text}"
    );
    assert!(text.contains("create-index-blocking"), "{text}");
    assert_eq!(on_index["contents"]["kind"], "markdown");
    assert_eq!(hover(&mut client, URI, 1, 3), Ok(Value::Null));

    // (d)
    let symbols =
        client.request("textDocument/documentSymbol", json!({"textDocument": {"uri": URI}})).expect("symbols answer");
    let names: Vec<&str> =
        symbols.as_array().expect("a symbol list").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, ["CREATE TABLE", "CREATE INDEX"], "{symbols:#}");
    assert_eq!(symbols[1]["selectionRange"], d["range"]);
    assert_eq!(symbols[0]["range"]["start"], json!({"line": 1, "character": 0}));

    // (b) Type CONCURRENTLY after `CREATE INDEX `.
    let at = start + utf16_len("CREATE INDEX ");
    client.change(URI, 2, (2, at), (2, at), "CONCURRENTLY ");
    let published = client.diagnostics(URI, Some(2));
    assert!(with_rule(&published, "create-index-blocking").is_empty(), "{published:#}");
    let text = hover_text(&hover(&mut client, URI, 2, start + 3).expect("hover answers"));
    assert!(text.contains("SHARE UPDATE EXCLUSIVE on `orders`"), "{text}");

    // didClose clears the file's diagnostics.
    client.notify("textDocument/didClose", json!({"textDocument": {"uri": URI}}));
    let cleared = client.diagnostics(URI, None);
    assert_eq!(cleared["diagnostics"], json!([]));
    assert_eq!(hover(&mut client, URI, 2, start + 3), Ok(Value::Null));

    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// (e) A client that offers UTF-8 gets byte columns, both ways.
#[test]
fn utf8_negotiation_gives_byte_columns() {
    let (mut client, init) = start(json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}}));
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-8");

    client.open(URI, 1, MIGRATION);
    let published = client.diagnostics(URI, Some(1));
    let found = with_rule(&published, "create-index-blocking");
    assert_eq!(found.len(), 1, "{published:#}");
    let start = PREFIX.len() as u32;
    assert_eq!(start, 17);
    assert_eq!(
        found[0]["range"],
        json!({"start": {"line": 2, "character": start}, "end": {"line": 2, "character": start + 12}})
    );

    // Edits arrive in bytes too.
    let at = start + "CREATE INDEX ".len() as u32;
    client.change(URI, 2, (2, at), (2, at), "CONCURRENTLY ");
    let published = client.diagnostics(URI, Some(2));
    assert!(with_rule(&published, "create-index-blocking").is_empty(), "{published:#}");

    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// (f) Odd and broken input gets null, empty or an error response, and the server keeps working.
#[test]
fn odd_requests_do_not_break_the_server() {
    let (mut client, _) = start(json!({}));
    client.open(URI, 1, MIGRATION);
    client.diagnostics(URI, Some(1));

    // Unknown document, position far out of range.
    assert_eq!(hover(&mut client, "file:///nowhere/unopened.sql", 0, 0), Ok(Value::Null));
    assert_eq!(hover(&mut client, URI, 10_000, 10_000), Ok(Value::Null));
    // A column past the end of a line means the line's end: right after the `;`, still on the statement.
    let past_eol = hover_text(&hover(&mut client, URI, 2, 10_000).expect("hover answers"));
    assert!(past_eol.contains("SHARE on `orders`"), "{past_eol}");
    let symbols =
        client.request("textDocument/documentSymbol", json!({"textDocument": {"uri": "file:///nowhere/unopened.sql"}}));
    assert_eq!(symbols, Ok(Value::Null));

    // An unknown method, and malformed params on a request and on notifications.
    let unknown = client.request("safemig/noSuchMethod", json!({})).expect_err("an error response");
    assert_eq!(unknown["code"], -32601, "MethodNotFound: {unknown:#}");
    let malformed = client.request("textDocument/hover", json!({"textDocument": 5})).expect_err("an error response");
    assert_eq!(malformed["code"], -32602, "InvalidParams: {malformed:#}");
    client.notify("textDocument/didOpen", json!({"textDocument": {"uri": 7}}));
    client.notify("textDocument/didChange", json!("not an object"));
    client.send_raw(b"{\"jsonrpc\": \"2.0\", \"method\": \"textDocument/didChange\", \"params\": ");

    // An edit to a document that is not open is ignored, with a log line.
    client.change("file:///nowhere/unopened.sql", 2, (0, 0), (0, 0), "x");
    let log =
        client.notification("window/logMessage", |p| p["message"].as_str().is_some_and(|m| m.contains("not open")));
    assert_eq!(log["type"], 2, "a warning");

    // A range past the end of the text clamps to the end: the text is appended, never lost.
    client.change(URI, 2, (500, 0), (600, 3), "\nCREATE INDEX late_idx ON orders (id);");
    let published = client.diagnostics(URI, Some(2));
    let found = with_rule(&published, "create-index-blocking");
    assert_eq!(found.len(), 2, "{published:#}");
    assert_eq!(found[1]["range"]["start"], json!({"line": 4, "character": 0}));

    // A reversed range is refused with a log line; the text stays as it was.
    client.change(URI, 3, (2, 5), (1, 0), "garbage");
    client.notification("window/logMessage", |p| p["message"].as_str().is_some_and(|m| m.contains("reversed")));
    let published = client.diagnostics(URI, Some(3));
    assert_eq!(with_rule(&published, "create-index-blocking").len(), 2, "{published:#}");

    // The server still answers correctly.
    let text = hover_text(&hover(&mut client, URI, 2, 16).expect("hover answers"));
    assert!(text.contains("SHARE on `orders`"), "{text}");

    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// (g) `safemig.toml` in the workspace, reloads through the file watcher, client settings, and
/// problems in each source reported where the user can see them.
#[test]
fn workspace_config_file_settings_and_their_problems() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let toml_path = dir.path().join("safemig.toml");
    std::fs::write(&toml_path, "[rules]\ncreate-index-blocking = \"off\"\n").expect("write safemig.toml");
    let root = file_uri(dir.path());
    let toml_uri = file_uri(&toml_path);
    let sql_uri = file_uri(&dir.path().join("migrations").join("001_orders_index.sql"));

    let mut client = LspClient::spawn();
    client.initialize(json!({
        "processId": null,
        "rootUri": root,
        "workspaceFolders": [{"uri": root, "name": "e2e"}],
        "initializationOptions": {"safemig": {"postgres_version": "eleven"}},
        "capabilities": {"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}, "configuration": true}}
    }));

    // A bad initialization option is shown to the user.
    let shown = client.notification("window/showMessage", |_| true);
    assert_eq!(shown["type"], 2, "a warning");
    let message = shown["message"].as_str().unwrap_or_default();
    assert!(message.contains("postgres_version") && message.contains("initializationOptions"), "{message}");

    // The rule is off in safemig.toml.
    client.open(&sql_uri, 1, "CREATE INDEX orders_customer_idx ON orders (customer_id);\n");
    let published = client.diagnostics(&sql_uri, Some(1));
    assert!(with_rule(&published, "create-index-blocking").is_empty(), "{published:#}");

    // The server asked to watch safemig.toml.
    client.wait_for("the watcher registration", |m| m["method"] == "client/registerCapability");
    let registration = &client.server_requests.last().expect("a recorded request")["params"]["registrations"][0];
    assert_eq!(registration["method"], "workspace/didChangeWatchedFiles");
    assert_eq!(registration["registerOptions"]["watchers"][0]["globPattern"], "**/safemig.toml");

    // A broken safemig.toml: diagnostics on that file name the keys; the rule is back on.
    std::fs::write(&toml_path, "lock_timout = \"5s\"\n\n[rules]\ncreate-index-blockin = \"off\"\n").expect("rewrite");
    client.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": toml_uri, "type": 2}]}));
    let on_toml = client.diagnostics(&toml_uri, None);
    let problems = on_toml["diagnostics"].as_array().expect("a diagnostics array");
    assert_eq!(problems.len(), 2, "{on_toml:#}");
    assert_eq!(problems[0]["range"]["start"]["line"], 0);
    assert!(problems[0]["message"].as_str().is_some_and(|m| m.contains("lock_timout")), "{on_toml:#}");
    assert_eq!(problems[1]["range"]["start"]["line"], 3);
    assert!(problems[1]["message"].as_str().is_some_and(|m| m.contains("create-index-blockin")), "{on_toml:#}");
    let published = client.diagnostics(&sql_uri, Some(1));
    assert_eq!(with_rule(&published, "create-index-blocking").len(), 1, "{published:#}");

    // Client settings apply over the file; a bad one is shown to the user.
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"safemig": {"rules": {"create-index-blocking": "error"}, "dialekt": "mysql"}}}),
    );
    let shown =
        client.notification("window/showMessage", |p| p["message"].as_str().is_some_and(|m| m.contains("dialekt")));
    assert!(shown["message"].as_str().is_some_and(|m| m.contains("did you mean `dialect`")), "{shown:#}");
    let published = client.diagnostics(&sql_uri, Some(1));
    let found = with_rule(&published, "create-index-blocking");
    assert_eq!(found.len(), 1, "{published:#}");
    assert_eq!(found[0]["severity"], 1, "error, from the settings");

    // A client that pulls settings sends null; the server asks for its section.
    client.settings = json!({"rules": {"create-index-blocking": "hint"}});
    client.notify("workspace/didChangeConfiguration", json!({"settings": null}));
    let published = client.diagnostics(&sql_uri, Some(1));
    assert_eq!(with_rule(&published, "create-index-blocking")[0]["severity"], 4, "hint, pulled: {published:#}");

    // Fixing the file clears its diagnostics.
    client.clear_backlog();
    std::fs::write(&toml_path, "[rules]\ncreate-index-blocking = \"off\"\n").expect("rewrite");
    client.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": toml_uri, "type": 2}]}));
    assert_eq!(client.diagnostics(&toml_uri, None)["diagnostics"], json!([]));

    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// (h) A 20 MB buffer gets one "too large" diagnostic, keeps its text, and the server stays
/// responsive.
#[test]
fn a_huge_document_is_reported_not_analysed_and_not_lost() {
    let (mut client, _) = start(json!({}));
    let first = "CREATE INDEX orders_customer_idx ON orders (customer_id);\n";
    let filler = "SELECT 1;\n";
    let lines = 20 * 1024 * 1024 / filler.len();
    let mut text = String::with_capacity(first.len() + lines * filler.len());
    text.push_str(first);
    for _ in 0..lines {
        text.push_str(filler);
    }
    let big = "file:///tmp/safemig-e2e/huge.sql";
    client.open(big, 1, &text);
    let published = client.diagnostics(big, Some(1));
    let all = published["diagnostics"].as_array().expect("a diagnostics array");
    assert_eq!(all.len(), 1, "{published:#}");
    let message = all[0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("MB") && message.contains("safemig check"), "{message}");
    assert_eq!(hover(&mut client, big, 0, 3), Ok(Value::Null));

    // Other documents are served meanwhile.
    client.open(URI, 1, MIGRATION);
    assert_eq!(with_rule(&client.diagnostics(URI, Some(1)), "create-index-blocking").len(), 1);

    // The text was kept: cut everything after the first line and the first line is analysed.
    let end_line = lines as u32 + 1;
    client.change(big, 2, (1, 0), (end_line, 0), "");
    let published = client.diagnostics(big, Some(2));
    let found = with_rule(&published, "create-index-blocking");
    assert_eq!(found.len(), 1, "{published:#}");
    assert_eq!(found[0]["range"]["start"], json!({"line": 0, "character": 0}));

    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// A pop/popx file opened alone: a CockroachDB file gets one hint that it is not checked, a
/// MySQL-tagged file is read as MySQL, a PostgreSQL-tagged one as PostgreSQL.
#[test]
fn pop_files_opened_alone_follow_their_dialect_tag() {
    let (mut client, _) = start(json!({}));
    let cockroach = "file:///tmp/safemig-e2e/pop/20200101000001_networks.cockroach.up.sql";
    client.open(cockroach, 1, "CREATE INDEX i ON networks (id) STORING (traits);\nDROP INDEX networks@i;\n");
    let published = client.diagnostics(cockroach, Some(1));
    let all = published["diagnostics"].as_array().expect("a diagnostics array");
    assert_eq!(all.len(), 1, "{published:#}");
    assert_eq!((&all[0]["code"], &all[0]["severity"]), (&json!("syntax-error"), &json!(3)), "{published:#}");
    assert!(all[0]["message"].as_str().unwrap_or_default().contains("CockroachDB"), "{published:#}");

    let mysql = "file:///tmp/safemig-e2e/pop/20200101000001_networks.mysql.up.sql";
    client.open(mysql, 1, "CREATE TABLE `networks` (`id` char(36) NOT NULL, PRIMARY KEY(`id`)) ENGINE=InnoDB;\n");
    assert!(with_rule(&client.diagnostics(mysql, Some(1)), "syntax-error").is_empty());
    let postgres = "file:///tmp/safemig-e2e/pop/20200101000001_networks.postgres.up.sql";
    client.open(postgres, 1, "CREATE TABLE `networks` (`id` char(36));\n");
    let published = client.diagnostics(postgres, Some(1));
    let errors = with_rule(&published, "syntax-error");
    assert!(errors.iter().any(|d| d["severity"] == 1), "{errors:#?}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// (i) `shutdown` then `exit` ends the process with 0; `exit` alone or a vanished client also ends it.
#[test]
fn shutdown_and_exit_end_the_process() {
    let (client, _) = start(json!({}));
    assert_eq!(client.shutdown_and_exit().code(), Some(0));

    // Some clients send `"params": null` on the parameterless messages.
    let (mut client, _) = start(json!({}));
    client.send(&json!({"jsonrpc": "2.0", "id": 99, "method": "shutdown", "params": null}));
    let response = client.wait_for("the shutdown response", |m| m["id"] == 99);
    assert_eq!(response.get("error"), None, "{response:#}");
    client.send(&json!({"jsonrpc": "2.0", "method": "exit", "params": null}));
    assert_eq!(client.wait_exit().code(), Some(0));

    let (mut client, _) = start(json!({}));
    client.notify("exit", Value::Null);
    assert_eq!(client.wait_exit().code(), Some(1), "exit without shutdown exits with 1, as the specification says");

    let (mut client, _) = start(json!({}));
    client.close_stdin();
    assert_eq!(client.wait_exit().code(), Some(0), "stdin closed: the client is gone");
}

/// A migration with one `create-index-blocking` finding.
fn blocking_index(table: &str) -> String {
    format!("CREATE INDEX {table}_created_idx ON {table} (created_at);\n")
}

/// How many `create-index-blocking` diagnostics a publication has.
fn blocking(published: &Value) -> usize {
    with_rule(published, "create-index-blocking").len()
}

fn is_empty(published: &Value) -> bool {
    published["diagnostics"] == json!([])
}

/// Writes `files` (relative path, text) under a new temp dir.
fn workspace(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temp dir");
    for (name, text) in files {
        write(&dir.path().join(name), text);
    }
    dir
}

fn write(path: &std::path::Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create directories");
    }
    std::fs::write(path, text).expect("write a file");
}

fn start_in(dir: &std::path::Path, capabilities: Value) -> LspClient {
    let root = file_uri(dir);
    let mut client = LspClient::spawn();
    client.initialize(json!({
        "processId": null,
        "rootUri": root,
        "workspaceFolders": [{"uri": root, "name": "e2e"}],
        "capabilities": capabilities,
    }));
    client
}

fn is_unversioned_publish_for(message: &Value, uri: &str) -> bool {
    message["method"] == "textDocument/publishDiagnostics"
        && message["params"]["uri"] == uri
        && message["params"]["version"].is_null()
}

/// (j) Every migration of the workspace gets diagnostics at start-up, without being opened; a
/// client that watches files for us reports files written, changed and deleted on disk; open
/// buffers win over the disk until they are closed.
#[test]
fn workspace_migrations_follow_the_disk_through_the_clients_watcher() {
    let dir = workspace(&[
        ("db/migrations/001_orders.sql", blocking_index("orders")),
        ("db/migrations/002_users.sql", blocking_index("users")),
        ("db/migrations/003_clean.sql", "CREATE TABLE notes (id bigint PRIMARY KEY);\n".into()),
        ("other/migrations/001_items.sql", blocking_index("items")),
        ("node_modules/pkg/migrations/001_ignored.sql", blocking_index("ignored")),
    ]);
    let uri = |name: &str| file_uri(&dir.path().join(name));
    let mut client =
        start_in(dir.path(), json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}}));

    // Start-up: every migration with a finding, none opened.
    for (name, table) in [
        ("db/migrations/001_orders.sql", "orders"),
        ("db/migrations/002_users.sql", "users"),
        ("other/migrations/001_items.sql", "items"),
    ] {
        let published = client.diagnostics(&uri(name), None);
        let found = with_rule(&published, "create-index-blocking");
        assert_eq!(found.len(), 1, "{published:#}");
        assert!(found[0]["message"].as_str().is_some_and(|m| m.contains(table)), "{published:#}");
    }

    // The server asked the client to watch the config, the migrations and the layout markers.
    let registration = client.wait_for("the watcher registration", |m| m["method"] == "client/registerCapability");
    let globs: Vec<&str> = registration["params"]["registrations"][0]["registerOptions"]["watchers"]
        .as_array()
        .expect("watchers")
        .iter()
        .filter_map(|w| w["globPattern"].as_str())
        .collect();
    for glob in ["**/safemig.toml", "**/*.sql", "**/migration_lock.toml", "**/atlas.sum", "**/_journal.json"] {
        assert!(globs.contains(&glob), "{globs:?}");
    }

    // A generator writes a new migration; the editor reports it.
    let created = dir.path().join("db/migrations/004_payments.sql");
    write(&created, &blocking_index("payments"));
    client.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": file_uri(&created), "type": 1}]}));
    client.diagnostics_where(&file_uri(&created), |p| blocking(p) == 1);

    // It is fixed on disk: the finding goes away.
    write(&created, "CREATE INDEX CONCURRENTLY payments_created_idx ON payments (created_at);\n");
    client.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": file_uri(&created), "type": 2}]}));
    client.diagnostics_where(&file_uri(&created), |p| blocking(p) == 0);

    // A deleted migration's diagnostics are cleared.
    let deleted = dir.path().join("db/migrations/001_orders.sql");
    std::fs::remove_file(&deleted).expect("delete a migration");
    client.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": file_uri(&deleted), "type": 3}]}));
    client.diagnostics_where(&file_uri(&deleted), is_empty);

    // An open buffer wins over the disk: a change on disk does not replace its diagnostics…
    let users = uri("db/migrations/002_users.sql");
    client.open(&users, 1, "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    client.diagnostics_where(&users, |p| p["version"] == 1 && blocking(p) == 0);
    client.clear_backlog();
    let users_path = dir.path().join("db/migrations/002_users.sql");
    write(&users_path, &format!("{}{}", blocking_index("users"), blocking_index("accounts")));
    client.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": users, "type": 2}]}));
    // (a later change to another file is published after this one was handled)
    let items = uri("other/migrations/001_items.sql");
    write(&dir.path().join("other/migrations/001_items.sql"), "SELECT 1;\n");
    client.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": items, "type": 2}]}));
    client.diagnostics_where(&items, is_empty);
    assert!(!client.seen(|m| is_unversioned_publish_for(m, &users)), "the disk replaced an open buffer's diagnostics");
    // …until it is closed: then the file on disk is what counts.
    client.notify("textDocument/didClose", json!({"textDocument": {"uri": users}}));
    client.diagnostics_where(&users, |p| blocking(p) == 2);

    // Nothing under node_modules was published.
    let ignored = uri("node_modules/pkg/migrations/001_ignored.sql");
    assert!(!client.seen(|m| m["params"]["uri"] == ignored));
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// (k) A client that cannot watch files: the server's own watcher notices files written in
/// existing and new directories, and deletions.
#[test]
fn workspace_migrations_follow_the_disk_through_the_servers_own_watcher() {
    let dir = workspace(&[("db/migrations/001_orders.sql", blocking_index("orders"))]);
    let mut client = start_in(dir.path(), json!({}));
    let first = file_uri(&dir.path().join("db/migrations/001_orders.sql"));
    client.diagnostics_where(&first, |p| blocking(p) == 1);

    // Written by "an assistant", nothing reported by the client.
    let created = dir.path().join("db/migrations/002_users.sql");
    write(&created, &blocking_index("users"));
    client.diagnostics_where(&file_uri(&created), |p| blocking(p) == 1);

    // A new directory with a migration in it.
    let nested = dir.path().join("services/billing/migrations/001_invoices.sql");
    write(&nested, &blocking_index("invoices"));
    client.diagnostics_where(&file_uri(&nested), |p| blocking(p) == 1);

    // Rewritten on disk, then deleted.
    write(&created, &format!("{}{}", blocking_index("users"), blocking_index("teams")));
    client.diagnostics_where(&file_uri(&created), |p| blocking(p) == 2);
    std::fs::remove_file(dir.path().join("db/migrations/001_orders.sql")).expect("delete a migration");
    client.diagnostics_where(&first, is_empty);

    // No request to watch files went to a client that cannot.
    assert!(client.server_requests.iter().all(|r| r["method"] != "client/registerCapability"));
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .args(["-c", "user.name=e2e", "-c", "user.email=e2e@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run git");
    assert!(status.success(), "git {args:?} failed");
}

/// A plain numbered set in a git repository: 001 and 002 shipped on `main`, 003 committed on a
/// branch, 004 not committed.
fn navigation_project() -> tempfile::TempDir {
    let dir = workspace(&[
        (
            "db/migrations/001_create_users.sql",
            "CREATE TABLE users (\n    id bigint PRIMARY KEY,\n    email text NOT NULL DEFAULT '',\n    created_at timestamptz\n);\n"
                .into(),
        ),
        (
            "db/migrations/002_add_name.sql",
            "ALTER TABLE users ADD COLUMN name text;\nCREATE UNIQUE INDEX users_email_idx ON users (email);\n".into(),
        ),
    ]);
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "users"]);
    git(dir.path(), &["checkout", "-q", "-b", "feature"]);
    write(
        &dir.path().join("db/migrations/003_create_orders.sql"),
        "CREATE TABLE orders (\n    id bigint PRIMARY KEY,\n    user_id bigint REFERENCES users (id),\n    total numeric\n);\n",
    );
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "orders"]);
    write(&dir.path().join("db/migrations/004_require_name.sql"), NAVIGATION_004);
    dir
}

const NAVIGATION_004: &str =
    "ALTER TABLE users ALTER COLUMN name SET NOT NULL;\nUPDATE orders SET total = 0 WHERE id = 1;\n";

fn position(line: u32, character: u32) -> Value {
    json!({"line": line, "character": character})
}

fn at(uri: &str, line: u32, character: u32) -> Value {
    json!({"textDocument": {"uri": uri}, "position": position(line, character)})
}

/// (l) Navigation from the replayed schema: hover on tables and columns (with the statement's
/// locks), go-to-definition, find-references, completion in DDL positions and code lenses with
/// each migration's place and git status.
#[test]
fn navigation_from_the_replayed_schema() {
    let dir = navigation_project();
    let uri = |n: &str| file_uri(&dir.path().join("db/migrations").join(n));
    let (m1, m2, m3, m4) = (
        uri("001_create_users.sql"),
        uri("002_add_name.sql"),
        uri("003_create_orders.sql"),
        uri("004_require_name.sql"),
    );
    let mut client = start_in(dir.path(), json!({}));
    // The project has been analysed once 002's blocking index is published.
    client.diagnostics_where(&m2, |p| blocking(p) == 1);
    client.open(&m4, 1, NAVIGATION_004);
    client.diagnostics(&m4, Some(1));

    // Hover on a table: its definition as of this migration, then the statement's locks.
    let table = hover_text(&client.request("textDocument/hover", at(&m4, 0, 14)).expect("hover answers"));
    for expected in [
        "table `users`",
        "`id` bigint NOT NULL",
        "`email` text NOT NULL DEFAULT ''",
        "`name` text",
        "`users_email_idx` UNIQUE (email)",
        "PRIMARY KEY (id)",
        "created by 001_create_users.sql:1",
        "altered by 002_add_name.sql:1",
        "Locks taken",
    ] {
        assert!(table.contains(expected), "{expected:?} missing from:\n{table}");
    }

    // Hover on a column: its type and where it comes from.
    let column = hover_text(&client.request("textDocument/hover", at(&m4, 0, 32)).expect("hover answers"));
    assert!(column.contains("column `users.name`") && column.contains("text"), "{column}");
    assert!(column.contains("created by 002_add_name.sql:1"), "{column}");

    // Go to definition: the creating statement.
    let definition = client.request("textDocument/definition", at(&m4, 1, 8)).expect("definition answers");
    assert_eq!(definition["uri"], m3, "{definition:#}");
    assert_eq!(definition["range"]["start"], position(0, 0), "{definition:#}");
    let column_definition = client.request("textDocument/definition", at(&m4, 0, 32)).expect("definition answers");
    assert_eq!(column_definition["uri"], m2, "{column_definition:#}");

    // Find references: every statement that touches `users`, in migration order.
    let mut params = at(&m4, 0, 14);
    params["context"] = json!({"includeDeclaration": true});
    let references = client.request("textDocument/references", params).expect("references answer");
    let found: Vec<(String, u64)> = references
        .as_array()
        .expect("a location list")
        .iter()
        .map(|l| {
            (l["uri"].as_str().unwrap_or_default().to_string(), l["range"]["start"]["line"].as_u64().unwrap_or(99))
        })
        .collect();
    let expected = [(m1.clone(), 0), (m2.clone(), 0), (m2.clone(), 1), (m3.clone(), 2), (m4.clone(), 0)];
    assert_eq!(found, expected.map(|(u, l)| (u, l)).to_vec(), "{references:#}");

    // Completion: tables after ON, columns in an index's column list and after DROP COLUMN.
    let mut text = NAVIGATION_004.to_string();
    let mut version = 1;
    let end_of =
        |text: &str| (text.matches('\n').count() as u32, text.rsplit('\n').next().map_or(0, |l| l.len() as u32));
    let mut complete = |client: &mut LspClient, typed: &str| -> Vec<String> {
        let end = end_of(&text);
        version += 1;
        client.change(&m4, version, end, end, typed);
        text.push_str(typed);
        client.diagnostics(&m4, Some(version));
        let (line, character) = end_of(&text);
        let items = client.request("textDocument/completion", at(&m4, line, character)).expect("completion answers");
        items.as_array().map_or_else(Vec::new, |items| {
            items.iter().filter_map(|i| i["label"].as_str().map(str::to_string)).collect()
        })
    };
    let tables = complete(&mut client, "CREATE INDEX CONCURRENTLY orders_user_idx ON ");
    assert!(tables.contains(&"users".to_string()) && tables.contains(&"orders".to_string()), "{tables:?}");
    let columns =
        complete(&mut client, "orders (user_id);\nCREATE INDEX CONCURRENTLY orders_total_idx ON orders (total, ");
    let mut sorted = columns.clone();
    sorted.sort();
    assert_eq!(sorted, ["id", "total", "user_id"], "{columns:?}");
    let columns = complete(&mut client, "id);\nALTER TABLE users DROP COLUMN ");
    assert!(columns.contains(&"email".to_string()) && columns.contains(&"name".to_string()), "{columns:?}");
    assert!(!columns.contains(&"user_id".to_string()), "{columns:?}");

    // Code lenses: place in the set and git status.
    let lens = |client: &mut LspClient, uri: &str| -> String {
        let lenses =
            client.request("textDocument/codeLens", json!({"textDocument": {"uri": uri}})).expect("code lens answers");
        assert_eq!(lenses[0]["range"]["start"], position(0, 0), "{lenses:#}");
        lenses[0]["command"]["title"].as_str().unwrap_or_default().to_string()
    };
    let first = lens(&mut client, &m1);
    assert!(first.starts_with("#1 of 4 · shipped in main"), "{first}");
    let third = lens(&mut client, &m3);
    assert!(third.starts_with("#3 of 4 · not shipped"), "{third}");
    let fourth = lens(&mut client, &m4);
    assert!(fourth.starts_with("#4 of 4 · uncommitted"), "{fourth}");

    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// A quick fix through the real server: offered on the finding, applied, and the rule goes quiet.
#[test]
fn quick_fix_rewrites_the_statement_and_silences_the_rule() {
    let (mut client, init) = start(json!({"workspace": {"workspaceEdit": {"documentChanges": true}}}));
    assert_eq!(init["capabilities"]["codeActionProvider"]["codeActionKinds"], json!(["quickfix"]));
    let uri = "file:///tmp/safemig-e2e-fix/0003_index.sql";
    let text = "-- email lookups\nCREATE INDEX users_email_idx ON users (email);\n";
    client.open(uri, 1, text);
    let published = client.diagnostics(uri, Some(1));
    assert_eq!(with_rule(&published, "create-index-blocking").len(), 1, "{published}");
    let fix = concurrently_fix(&mut client, uri, 1, 3);
    assert_eq!(fix["kind"], "quickfix");
    assert_eq!(fix["isPreferred"], true);
    assert_eq!(fix["diagnostics"][0]["code"], "create-index-blocking");
    let edit = &fix["edit"]["documentChanges"][0];
    assert_eq!(edit["textDocument"], json!({"uri": uri, "version": 1}));
    let edits = edit["edits"].as_array().expect("text edits");
    assert_eq!(edits.len(), 1);
    // The edit inserts the keyword right after INDEX on line 1, and nothing else.
    assert_eq!(edits[0]["newText"], " CONCURRENTLY");
    assert_eq!(edits[0]["range"], json!({"start": position(1, 12), "end": position(1, 12)}));
    client.change(uri, 2, (1, 12), (1, 12), " CONCURRENTLY");
    let after = client.diagnostics(uri, Some(2));
    assert!(with_rule(&after, "create-index-blocking").is_empty(), "{after}");
    // Elsewhere (a comment line) there is nothing to fix.
    let none = client
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": {"start": position(0, 0), "end": position(0, 2)},
                   "context": {"diagnostics": [], "only": ["refactor"]}}),
        )
        .expect("codeAction answers");
    assert_eq!(none, json!([]));
    client.shutdown_and_exit();
}

/// The byte offset of an LSP position (UTF-8 columns, as negotiated below).
fn byte_offset(text: &str, position: &Value) -> usize {
    let line = position["line"].as_u64().unwrap_or(0) as usize;
    let character = position["character"].as_u64().unwrap_or(0) as usize;
    let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    (start + character).min(text.len())
}

/// `text` with LSP text edits applied (ranges of the original text).
fn apply_text_edits(text: &str, edits: &[Value]) -> String {
    let mut ranges: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| {
            (
                byte_offset(text, &e["range"]["start"]),
                byte_offset(text, &e["range"]["end"]),
                e["newText"].as_str().unwrap_or(""),
            )
        })
        .collect();
    ranges.sort_by_key(|r| std::cmp::Reverse(r.0));
    let mut out = text.to_string();
    for (start, end, new) in ranges {
        out.replace_range(start..end, new);
    }
    out
}

/// The (line, character) of the end of `text` in UTF-8 columns.
fn end_position(text: &str) -> (u32, u32) {
    let line = text.matches('\n').count() as u32;
    let last = text.rsplit('\n').next().unwrap_or("");
    (line, last.len() as u32)
}

fn codes(published: &Value) -> Vec<String> {
    let mut out: Vec<String> = published["diagnostics"]
        .as_array()
        .map(|d| d.iter().filter_map(|x| x["code"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    out.sort();
    out.dedup();
    out
}

/// One quick fix applied through the editor: the code action's `documentChanges` (versioned
/// buffer edits, `CreateFile` and edits of new and other files) are carried out as an editor
/// does; then the rule must be gone from the buffer, and neither the buffer nor any file the fix
/// created may show a rule the buffer did not show before. A `RenameFile` of the buffer's file
/// (or its directory) moves the buffer to the new name, as an editor does.
fn fix_in_editor(files: &[(&str, String)], rel: &str, rule: &str, title: &str) {
    let dir = workspace(files);
    fix_in_workspace(dir.path(), rel, rule, title);
}

/// [`fix_in_editor`] in a workspace already written (a git repository with a shipped ref).
fn fix_in_workspace(dir: &std::path::Path, rel: &str, rule: &str, title: &str) {
    let mut client = start_in(
        dir,
        json!({
            "general": {"positionEncodings": ["utf-8"]},
            "workspace": {
                "workspaceEdit": {"documentChanges": true, "resourceOperations": ["create", "rename"]},
                "didChangeWatchedFiles": {"dynamicRegistration": true}
            }
        }),
    );
    let mut path = dir.join(rel);
    let mut uri = file_uri(&path);
    let mut text = std::fs::read_to_string(&path).expect("read the migration");
    // The project pass has seen the migration set (its framework decides the fix).
    client.diagnostics_where(&uri, |p| p["version"].is_null() && !with_rule(p, rule).is_empty());
    client.open(&uri, 1, &text);
    let published = client.diagnostics_where(&uri, |p| p["version"] == 1 && !with_rule(p, rule).is_empty());
    let before = codes(&published);
    let finding = with_rule(&published, rule)[0].clone();
    let actions = client
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": finding["range"], "context": {"diagnostics": [finding]}}),
        )
        .expect("codeAction answers");
    let action = actions
        .as_array()
        .and_then(|a| a.iter().find(|a| a["title"].as_str().is_some_and(|t| t.starts_with(title))))
        .unwrap_or_else(|| panic!("no action titled `{title}…` in {actions:#}"))
        .clone();
    assert_eq!(action["kind"], "quickfix");
    assert_eq!(action["diagnostics"][0]["code"], rule);

    let mut version = 1;
    let mut created = Vec::new();
    let mut changed = Vec::new();
    let mut renamed = Vec::new();
    for op in action["edit"]["documentChanges"].as_array().expect("documentChanges") {
        if op["kind"] == "rename" {
            assert_eq!(op["options"]["overwrite"], false);
            let from = std::path::PathBuf::from(op["oldUri"].as_str().unwrap_or("").trim_start_matches("file://"));
            let to = std::path::PathBuf::from(op["newUri"].as_str().unwrap_or("").trim_start_matches("file://"));
            assert!(!to.exists(), "the fix would overwrite {}", to.display());
            std::fs::rename(&from, &to).expect("rename");
            if let Ok(rest) = path.strip_prefix(&from) {
                // The buffer follows its file.
                let moved = if rest.as_os_str().is_empty() { to.clone() } else { to.join(rest) };
                client.notify("textDocument/didClose", json!({"textDocument": {"uri": uri}}));
                renamed.push((path.clone(), moved.clone()));
                path = moved;
                uri = file_uri(&path);
                client.open(&uri, version, &text);
            } else {
                renamed.push((from, to));
            }
            continue;
        }
        if op["kind"] == "create" {
            assert_eq!(op["options"]["overwrite"], false);
            let target = std::path::PathBuf::from(op["uri"].as_str().unwrap_or("").trim_start_matches("file://"));
            assert!(!target.exists(), "the fix would overwrite {}", target.display());
            write(&target, "");
            created.push(target);
            continue;
        }
        let edits = op["edits"].as_array().expect("edits");
        if op["textDocument"]["uri"] == uri {
            assert_eq!(op["textDocument"]["version"], version, "an edit of the buffer is versioned");
            let new = apply_text_edits(&text, edits);
            version += 1;
            client.change(&uri, version, (0, 0), end_position(&text), &new);
            text = new;
        } else {
            let other = std::path::PathBuf::from(
                op["textDocument"]["uri"].as_str().unwrap_or("").trim_start_matches("file://"),
            );
            let old = std::fs::read_to_string(&other).unwrap_or_default();
            write(&other, &apply_text_edits(&old, edits));
            changed.push(other);
        }
    }
    // The editor saves the buffer; the watcher reports every file written.
    write(&path, &text);
    let mut changes = vec![json!({"uri": uri, "type": 2})];
    changes.extend(created.iter().map(|p| json!({"uri": file_uri(p), "type": 1})));
    changes.extend(changed.iter().filter(|p| !created.contains(p)).map(|p| json!({"uri": file_uri(p), "type": 2})));
    for (from, to) in &renamed {
        changes.push(json!({"uri": file_uri(from), "type": 3}));
        changes.push(json!({"uri": file_uri(to), "type": 1}));
    }
    client.notify("workspace/didChangeWatchedFiles", json!({"changes": changes}));

    // The buffer's own analysis can publish before the project pass has read the files the fix
    // created (a Flyway .conf, a Diesel metadata.toml); the project pass publishes again.
    let settled = |p: &Value| {
        p["version"] == version && with_rule(p, rule).is_empty() && codes(p).iter().all(|c| before.contains(c))
    };
    // A fix that brings a new finding never settles: the wait times out and names what it saw.
    let after = client.diagnostics_where(&uri, settled);
    let new: Vec<String> = codes(&after).into_iter().filter(|c| !before.contains(c)).collect();
    assert!(new.is_empty(), "{rel}: new findings {new:?} in {after:#}");
    for file in created.iter().filter(|p| p.extension().is_some_and(|e| e == "sql")) {
        let new_uri = file_uri(file);
        let new_text = std::fs::read_to_string(file).expect("read the created file");
        client.open(&new_uri, 1, &new_text);
        // A file that reads what an earlier created file did (a constraint it added) is analysed
        // again once the project pass has read that file: the first publication may predate it.
        // A fix that brings a new finding never settles: the wait times out and names it.
        let settled = |p: &Value| {
            p["version"] == 1 && with_rule(p, rule).is_empty() && codes(p).iter().all(|c| before.contains(c))
        };
        let published = client.diagnostics_where(&new_uri, settled);
        let new: Vec<String> = codes(&published).into_iter().filter(|c| !before.contains(c)).collect();
        assert!(new.is_empty(), "{}: new findings {new:?} in {published:#}", file.display());
        assert!(with_rule(&published, rule).is_empty(), "{published:#}");
    }
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

const SHOP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, total numeric, note text);\n";

fn goose_file(sql: &str) -> String {
    format!("-- +goose Up\n{sql}\n\n-- +goose Down\nSELECT 1;\n")
}

/// Every kind of quick fix, applied in the editor in migration sets of several frameworks.
#[test]
fn quick_fixes_in_migration_sets_apply_through_the_editor() {
    let index = "CREATE INDEX orders_customer_idx ON orders (customer_id);";
    // goose: the opt-out in the header.
    fix_in_editor(
        &[("db/migrations/00001_shop.sql", goose_file(SHOP)), ("db/migrations/00002_index.sql", goose_file(index))],
        "db/migrations/00002_index.sql",
        "create-index-blocking",
        "Use CREATE INDEX CONCURRENTLY, outside the migration's transaction: add `-- +goose NO TRANSACTION`",
    );
    // golang-migrate: a new migration file (CreateFile).
    fix_in_editor(
        &[
            ("db/migrations/0001_shop.up.sql", SHOP.into()),
            ("db/migrations/0002_index.up.sql", format!("ALTER TABLE orders ADD COLUMN paid boolean;\n{index}\n")),
        ],
        "db/migrations/0002_index.up.sql",
        "create-index-blocking",
        "Use CREATE INDEX CONCURRENTLY, in a new migration 0003_create_index_orders_customer_idx.up.sql",
    );
    // Diesel: metadata.toml created; Flyway: an existing .sql.conf edited.
    fix_in_editor(
        &[
            ("migrations/2024-01-01-000000_shop/up.sql", SHOP.into()),
            ("migrations/2024-01-02-000000_drop/up.sql", "DROP INDEX orders_customer_idx;\n".into()),
        ],
        "migrations/2024-01-02-000000_drop/up.sql",
        "drop-index-blocking",
        "Use DROP INDEX CONCURRENTLY, outside the migration's transaction: set `run_in_transaction = false`",
    );
    fix_in_editor(
        &[
            ("db/migration/V1__shop.sql", SHOP.into()),
            ("db/migration/V2__reindex.sql", "REINDEX INDEX orders_pkey;\n".into()),
            ("db/migration/V2__reindex.sql.conf", "executeInTransaction=true\n".into()),
        ],
        "db/migration/V2__reindex.sql",
        "reindex-blocking",
        "Use REINDEX INDEX CONCURRENTLY, outside the migration's transaction: set `executeInTransaction=false`",
    );
    // NOT VALID with the VALIDATE in the next goose migration.
    fix_in_editor(
        &[
            ("db/migrations/00001_shop.sql", goose_file(SHOP)),
            (
                "db/migrations/00002_check.sql",
                goose_file("ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0);"),
            ),
        ],
        "db/migrations/00002_check.sql",
        "constraint-validated-on-add",
        "Add `orders_total_check` NOT VALID and VALIDATE it in a new migration 00003_validate_orders_total_check.sql",
    );
    // SET NOT NULL after an explicit block's COMMIT; lock_timeout in a plain file.
    fix_in_editor(
        &[
            ("db/migrations/001_shop.sql", SHOP.into()),
            ("db/migrations/002_nn.sql", "BEGIN;\nALTER TABLE orders ALTER COLUMN note SET NOT NULL;\nCOMMIT;\n".into()),
        ],
        "db/migrations/002_nn.sql",
        "set-not-null-scan",
        "Enforce NOT NULL through a validated CHECK: add it NOT VALID here, VALIDATE it, SET NOT NULL and drop it after the COMMIT",
    );
    fix_in_editor(
        &[
            ("db/migrations/001_shop.sql", SHOP.into()),
            ("db/migrations/002_paid.sql", "ALTER TABLE orders ADD COLUMN paid boolean;\n".into()),
        ],
        "db/migrations/002_paid.sql",
        "lock-timeout-missing",
        "Insert `SET lock_timeout = '5s';` before this statement",
    );
}

// Quick fixes by family, each applied through the editor with `fix_in_editor`: one module per
// family in tests/lsp_e2e/.
#[path = "lsp_e2e/history.rs"]
mod history;
#[path = "lsp_e2e/unique.rs"]
mod unique;

#[path = "lsp_e2e/backfill.rs"]
mod backfill;
#[path = "lsp_e2e/columns.rs"]
mod columns;
#[path = "lsp_e2e/expand.rs"]
mod expand;
#[path = "lsp_e2e/protocol.rs"]
mod protocol;
#[path = "lsp_e2e/transactions.rs"]
mod transactions;
#[path = "lsp_e2e/trust.rs"]
mod trust;

/// The range of `create-index-blocking` in a publication, and that nothing reads as a syntax error.
fn blocking_range(published: &Value) -> Value {
    assert!(with_rule(published, "syntax-error").is_empty(), "{published:#}");
    let found = with_rule(published, "create-index-blocking");
    assert_eq!(found.len(), 1, "{published:#}");
    found[0]["range"].clone()
}

/// The CONCURRENTLY quick fix offered at `line`, `character`.
fn concurrently_fix(client: &mut LspClient, uri: &str, line: u32, character: u32) -> Value {
    let actions = client
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": {"start": position(line, character), "end": position(line, character)},
                   "context": {"diagnostics": []}}),
        )
        .expect("codeAction answers");
    let actions = actions.as_array().expect("an array of actions");
    actions
        .iter()
        .find(|a| a["title"].as_str().is_some_and(|t| t.starts_with("Use CREATE INDEX CONCURRENTLY")))
        .unwrap_or_else(|| panic!("no CONCURRENTLY fix in {actions:?}"))
        .clone()
}

/// The text edits of the CONCURRENTLY quick fix offered at `line`, `character`.
fn concurrently_edits(client: &mut LspClient, uri: &str, line: u32, character: u32) -> Vec<Value> {
    let fix = concurrently_fix(client, uri, line, character);
    fix["edit"]["documentChanges"][0]["edits"].as_array().expect("text edits").clone()
}

/// Issue 12, items 7 and 8. LSP lines end at `\n`, `\r\n` and `\r` only: a U+2028 (or U+2029,
/// NEL, VT, FF) in a comment does not move a later incremental edit or the quick fix to another
/// line, and a CR-only file gets its diagnostics on the right line. A byte order mark the client
/// kept in its buffer is a character of line 0; one in a file read from disk is not.
#[test]
fn odd_line_breaks_and_a_byte_order_mark_keep_edits_and_positions_right() {
    let dir = workspace(&[("db/migrations/001_index.sql", format!("\u{feff}{}", blocking_index("disk")))]);
    let mut client = start_in(dir.path(), json!({"workspace": {"workspaceEdit": {"documentChanges": true}}}));
    let range = |l1: u32, c1: u32, l2: u32, c2: u32| json!({"start": position(l1, c1), "end": position(l2, c2)});

    // A file from disk with a byte order mark: the index at column 0, as editors show it.
    let disk = client.diagnostics(&file_uri(&dir.path().join("db/migrations/001_index.sql")), None);
    assert_eq!(blocking_range(&disk), range(0, 0, 0, 12));

    for separator in ["\u{2028}", "\u{2029}", "\u{85}", "\u{b}", "\u{c}"] {
        let uri = format!("file:///tmp/safemig-e2e-lines/u{:04x}.sql", separator.chars().next().map_or(0, u32::from));
        client.open(&uri, 1, &format!("-- note{separator}more\nSELECT 1;\nCREATE INDEX i ON orders (a);\n"));
        assert_eq!(blocking_range(&client.diagnostics(&uri, Some(1))), range(2, 0, 2, 12));
        // Rename the index on line 2: the edit lands on line 2.
        client.change(&uri, 2, (2, 13), (2, 14), "orders_a_idx");
        assert_eq!(blocking_range(&client.diagnostics(&uri, Some(2))), range(2, 0, 2, 12));
        let edits = concurrently_edits(&mut client, &uri, 2, 3);
        assert_eq!(edits, [json!({"range": range(2, 12, 2, 12), "newText": " CONCURRENTLY"})]);
        client.change(&uri, 3, (2, 12), (2, 12), " CONCURRENTLY");
        let fixed = client.diagnostics(&uri, Some(3));
        assert!(
            with_rule(&fixed, "create-index-blocking").is_empty() && with_rule(&fixed, "syntax-error").is_empty(),
            "{fixed:#}"
        );
    }

    // CR-only line ends.
    let cr = "file:///tmp/safemig-e2e-lines/cr.sql";
    client.open(cr, 1, "-- one\rSELECT 1;\rCREATE INDEX i ON orders (a);\r");
    assert_eq!(blocking_range(&client.diagnostics(cr, Some(1))), range(2, 0, 2, 12));
    client.change(cr, 2, (2, 13), (2, 14), "orders_a_idx");
    assert_eq!(blocking_range(&client.diagnostics(cr, Some(2))), range(2, 0, 2, 12));
    assert_eq!(
        concurrently_edits(&mut client, cr, 2, 3),
        [json!({"range": range(2, 12, 2, 12), "newText": " CONCURRENTLY"})]
    );

    // A byte order mark the client kept in its buffer: one UTF-16 unit of line 0, no syntax error.
    let bom = "file:///tmp/safemig-e2e-lines/bom.sql";
    client.open(bom, 1, "\u{feff}CREATE INDEX i ON orders (a);\n");
    assert_eq!(blocking_range(&client.diagnostics(bom, Some(1))), range(0, 1, 0, 13));
    assert_eq!(
        concurrently_edits(&mut client, bom, 0, 3),
        [json!({"range": range(0, 13, 0, 13), "newText": " CONCURRENTLY"})]
    );
    client.change(bom, 2, (0, 13), (0, 13), " CONCURRENTLY");
    assert!(with_rule(&client.diagnostics(bom, Some(2)), "create-index-blocking").is_empty());
    client.shutdown_and_exit();
}
