//! No password reaches any output, whatever key a connection string was put under (issue 12,
//! item 10): a matrix of plausible misconfigurations, each run through `safemig check` (stdout and
//! stderr, human and JSON) and the language server (every message the client receives, and its
//! stderr). Each misconfiguration names an unreachable server (port 1), so nothing connects.

use std::time::Duration;

use serde_json::{json, Value};

#[path = "../../tests/support/binary.rs"]
mod binary;
#[path = "../../tests/support/lsp_client.rs"]
mod lsp_client;
use lsp_client::{file_uri, LspClient};

const SECRET: &str = "Sup3rSecretPw";

/// One misconfiguration: its name, `safemig.toml`, `.env` and environment variables.
type Case = (&'static str, String, Option<String>, Vec<(&'static str, String)>);

fn matrix() -> Vec<Case> {
    let url = format!("postgres://app:{SECRET}@127.0.0.1:1/dev");
    let bare = format!("app:{SECRET}@127.0.0.1:1/dev");
    let kv = format!("host=127.0.0.1 port=1 user=app password={SECRET} dbname=dev");
    vec![
        ("top-level database", format!("database = \"{url}\"\n"), None, vec![]),
        ("top-level database_url", format!("database_url = \"{url}\"\n"), None, vec![]),
        ("url in url_env", format!("[database]\nurl_env = \"{url}\"\n"), None, vec![]),
        (
            "url in url_env, malformed .env",
            format!("[database]\nurl_env = \"{url}\"\n"),
            Some(format!("this is not an entry\n=\"{url}\n")),
            vec![],
        ),
        ("url without scheme", format!("[database]\nurl = \"{bare}\"\n"), None, vec![]),
        ("keyword form", format!("[database]\nurl = \"{kv}\"\n"), None, vec![]),
        ("wrong database key", format!("[database]\ndatabase_url = \"{url}\"\n"), None, vec![]),
        ("url as an array", format!("[database]\nurl = [\"{url}\"]\n"), None, vec![]),
        ("url in [[migrations]] path", format!("[[migrations]]\npath = \"{url}\"\n"), None, vec![]),
        ("url as a rule id", format!("[rules]\n\"{url}\" = \"off\"\n"), None, vec![]),
        ("keyword form in lock_timeout", format!("lock_timeout = \"{kv}\"\n"), None, vec![]),
        ("invalid TOML around a url", format!("database = {url}\n"), None, vec![]),
        ("scheme-less DATABASE_URL", String::new(), None, vec![("DATABASE_URL", bare.clone())]),
        ("malformed .env with the url", String::new(), Some(format!("DATABASE_URL=\"{url}\nX\n")), vec![]),
    ]
}

fn project(toml: &str, env: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let migrations = dir.path().join("migrations");
    std::fs::create_dir_all(&migrations).expect("mkdir");
    std::fs::write(migrations.join("0001_users.up.sql"), "CREATE TABLE users (id bigint PRIMARY KEY);\n")
        .expect("write a migration");
    if !toml.is_empty() {
        std::fs::write(dir.path().join("safemig.toml"), toml).expect("write safemig.toml");
    }
    if let Some(env) = env {
        std::fs::write(dir.path().join(".env"), env).expect("write .env");
    }
    dir
}

#[test]
fn the_cli_never_prints_a_password() {
    let mut leaks = Vec::new();
    for (name, toml, env, vars) in matrix() {
        let dir = project(&toml, env.as_deref());
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        for args in [
            vec!["check", "migrations"],
            vec!["check", "migrations", "--format", "json"],
            vec!["check", "migrations", "--format", "sarif"],
        ] {
            let run = binary::run(dir.path(), &args, &vars);
            let all = format!("{}\n{}", run.stdout, run.stderr);
            if all.contains(SECRET) {
                leaks.push(format!("{name} ({args:?}):\n{all}"));
            }
        }
    }
    // The CLI flag naming the variable, given a URL by mistake.
    let dir = project("", None);
    let url = format!("postgres://app:{SECRET}@127.0.0.1:1/dev");
    let run = binary::run(dir.path(), &["check", "migrations", "--database-url-env", &url], &[]);
    let all = format!("{}\n{}", run.stdout, run.stderr);
    if all.contains(SECRET) {
        leaks.push(format!("--database-url-env:\n{all}"));
    }
    assert!(leaks.is_empty(), "{} outputs leak the password:\n{}", leaks.len(), leaks.join("\n---\n"));
}

/// The language server with each misconfiguration in `safemig.toml`, and with connection strings
/// under wrong keys of `initializationOptions` and `didChangeConfiguration`.
#[test]
fn the_language_server_never_sends_a_password() {
    let url = format!("postgres://app:{SECRET}@127.0.0.1:1/dev");
    let bare = format!("app:{SECRET}@127.0.0.1:1/dev");
    let kv = format!("host=127.0.0.1 port=1 user=app password={SECRET} dbname=dev");
    let mut cases: Vec<(String, String, Option<String>, Value)> =
        matrix().into_iter().map(|(n, t, e, _)| (n.to_string(), t, e, Value::Null)).collect();
    for options in [
        json!({"databaseUrl": url}),
        json!({"database": url}),
        json!({"database": {"url": bare}}),
        json!({"database": {"connectionString": kv}}),
        json!({"safemig": {"database": {"url_env": url}}}),
        json!({"lock_timeout": kv, "rules": {url.clone(): "off"}}),
    ] {
        cases.push((format!("initializationOptions {options}"), String::new(), None, options));
    }
    let mut leaks = Vec::new();
    for (name, toml, env, options) in cases {
        let dir = project(&toml, env.as_deref());
        let root = dir.path().canonicalize().expect("canonical");
        let mut client = LspClient::spawn();
        client.initialize(json!({
            "processId": null,
            "rootUri": file_uri(&root),
            "capabilities": {},
            "initializationOptions": options,
        }));
        client.notify("initialized", json!({}));
        if !options.is_null() {
            client.notify("workspace/didChangeConfiguration", json!({"settings": options}));
        }
        let uri = file_uri(&root.join("migrations").join("0001_users.up.sql"));
        client.open(&uri, 1, "CREATE TABLE users (id bigint PRIMARY KEY);\n");
        client.diagnostics(&uri, Some(1));
        // Let the background connection attempt report (port 1 refuses at once).
        std::thread::sleep(Duration::from_millis(1500));
        let mut seen = Vec::new();
        client.seen(|m| {
            seen.push(m.to_string());
            false
        });
        let received = seen.join("\n") + &format!("{:?}", client.server_requests);
        let stderr = client.stderr();
        client.shutdown_and_exit();
        if received.contains(SECRET) || stderr.contains(SECRET) {
            leaks.push(format!("{name}:\n{received}\nstderr:\n{stderr}"));
        }
    }
    assert!(leaks.is_empty(), "{} sessions leak the password:\n{}", leaks.len(), leaks.join("\n---\n"));
}
