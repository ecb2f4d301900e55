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
    let status = client.wait_exit();
    assert!(!status.success(), "exit without shutdown is an error exit: {status:?}");

    let (mut client, _) = start(json!({}));
    client.close_stdin();
    assert_eq!(client.wait_exit().code(), Some(0), "stdin closed: the client is gone");
}
