//! Input that once hung, exhausted memory or crashed safemig (issue 12, items 1–3), run through
//! the built binary as a child process under a memory limit and a deadline: a regression fails
//! the test instead of taking the machine or the test runner with it.

#[path = "support/lsp_client.rs"]
mod lsp_client;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use lsp_client::{file_uri, LspClient};

/// The address space a child may use (the debug binary reserves thread stacks too).
const MEMORY: &str = "4294967296";
/// How long a child may run; the reproducers hung forever, a fixed run takes seconds.
const DEADLINE: Duration = Duration::from_secs(120);

const INDEX: &str = "CREATE INDEX orders_customer_idx ON orders (customer_id);\n";

/// The two tests run one after the other: each child is busy enough to share two cores alone.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The reproducers, each as the file it was found in; the long expressions have `long`
/// terms (32,500 killed the language server, 130,000 the CLI), the `AND` chain 32,500 always.
fn reproducers(long: usize) -> Vec<(&'static str, String)> {
    let chain = |n: usize, op: &str| format!("SELECT {} FROM t;\n", vec!["a"; n].join(op));
    vec![
        // Item 1: a stray `]` (unbounded allocation, then three that pegged a core).
        ("0002_index_bracket.sql", "CREATE INDEX ON o(];\n".to_string()),
        ("0003_unique_bracket.sql", "ALTER TABLE t ADD CONSTRAINT c UNIQUE (a ]);\n".to_string()),
        ("0004_table_bracket.sql", "CREATE TABLE t (]);\n".to_string()),
        ("0005_fk_bracket.sql", "ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES u (id]);\n".to_string()),
        // Item 2: a panic at the end of the file (exit 101, nothing reported for any file).
        ("0006_drop_materialized.sql", "DROP MATERIALIZED".to_string()),
        // Item 3: long flat expressions (the server died at ~32,500 terms, the CLI at ~130,000).
        ("0007_and.sql", chain(32_500, " AND ")),
        ("0008_concat.sql", chain(long, " || ")),
        ("0009_plus.sql", chain(long, " + ")),
        ("0010_cast.sql", format!("SELECT 1{} FROM t;\n", "::int".repeat(long))),
        ("0011_or.sql", chain(long, " OR ")),
    ]
}

fn workspace(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let migrations = dir.path().join("migrations");
    std::fs::create_dir_all(&migrations).expect("mkdir");
    std::fs::write(migrations.join("0001_index.sql"), INDEX).expect("write");
    for (name, text) in files {
        std::fs::write(migrations.join(name), text).expect("write");
    }
    dir
}

/// `safemig args…` in `cwd` under [`MEMORY`] and [`DEADLINE`]: its exit code (`None`: killed by
/// a signal) and stdout.
fn limited_check(cwd: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new("prlimit")
        .arg(format!("--as={MEMORY}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_safemig"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("prlimit runs the safemig binary");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("safemig {args:?} ran past {DEADLINE:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("output");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (output.status.code(), text(&output.stdout), text(&output.stderr))
}

fn rules_by_file(report: &Value) -> Vec<(String, String, String)> {
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            let file = d["path"].as_str().unwrap_or_default().to_string();
            (
                file,
                d["rule"].as_str().unwrap_or_default().to_string(),
                d["severity"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Each reproducer alone, and all of them beside a file with a real finding: `safemig check`
/// finishes, exits with its findings status, and reports the other file's finding.
#[test]
fn the_cli_checks_every_reproducer_and_still_reports_the_other_files() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let all = reproducers(130_000);
    for one in &all {
        let dir = workspace(std::slice::from_ref(one));
        let (code, stdout, stderr) = limited_check(dir.path(), &["check", "migrations", "--format", "json"]);
        assert_eq!(code, Some(1), "{}: exit {code:?}\n{stderr}", one.0);
        let found = rules_by_file(&serde_json::from_str(&stdout).expect("one JSON report"));
        assert!(
            found.iter().any(|(f, r, _)| f.ends_with("0001_index.sql") && r == "create-index-blocking"),
            "{}: {found:?}",
            one.0
        );
        // Negative: no file failed inside safemig.
        assert!(found.iter().all(|(_, r, _)| r != "internal-error"), "{}: {found:?}", one.0);
    }
    let dir = workspace(&all);
    let (code, stdout, stderr) = limited_check(dir.path(), &["check", "migrations", "--format", "json"]);
    assert_eq!(code, Some(1), "exit {code:?}\n{stderr}");
    let found = rules_by_file(&serde_json::from_str(&stdout).expect("one JSON report"));
    assert!(found.iter().any(|(f, r, _)| f.ends_with("0001_index.sql") && r == "create-index-blocking"), "{found:?}");
    // The long expressions are valid SQL: a hint that the parser stopped, never an error.
    for name in ["0007_and.sql", "0008_concat.sql", "0009_plus.sql", "0010_cast.sql", "0011_or.sql"] {
        let about: Vec<_> = found.iter().filter(|(f, _, _)| f.ends_with(name)).collect();
        assert!(
            about.iter().any(|(_, r, s)| r == "syntax-error" && s == "hint")
                && about.iter().all(|(_, _, s)| s != "error"),
            "{name}: {about:?}"
        );
    }
}

/// The same workspace in the language server, none of the files opened: the project pass
/// completes (every file gets its diagnostics), and the server stays up for the next request.
#[test]
fn the_language_server_project_pass_completes_over_every_reproducer() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = workspace(&reproducers(32_500));
    let mut client = LspClient::spawn();
    let limited = Command::new("prlimit")
        .args(["--pid", &client.pid().to_string(), &format!("--as={MEMORY}")])
        .status()
        .expect("prlimit runs");
    assert!(limited.success());
    client.initialize(json!({
        "processId": null,
        "rootUri": file_uri(dir.path()),
        "capabilities": {},
        "clientInfo": {"name": "safemig-hostile-input"}
    }));
    let migrations = dir.path().join("migrations");
    let index = file_uri(&migrations.join("0001_index.sql"));
    let published = client.diagnostics_where(&index, |p| {
        p["diagnostics"].as_array().is_some_and(|d| d.iter().any(|d| d["code"] == "create-index-blocking"))
    });
    assert!(published["diagnostics"].as_array().is_some_and(|d| d.iter().all(|d| d["code"] != "internal-error")));
    for (name, _) in reproducers(32_500) {
        let uri = file_uri(&migrations.join(name));
        let published = client.diagnostics(&uri, None);
        let codes: Vec<&Value> =
            published["diagnostics"].as_array().expect("diagnostics").iter().map(|d| &d["code"]).collect();
        assert!(codes.iter().all(|c| *c != "internal-error"), "{name}: {codes:?}");
    }
    // Opened, a reproducer gets its diagnostics on the buffer too, and the server answers after.
    let uri = file_uri(&migrations.join("0002_index_bracket.sql"));
    client.open(&uri, 1, "CREATE INDEX ON o(];\n");
    client.diagnostics(&uri, Some(1));
    assert!(client.shutdown_and_exit().success(), "the server exits cleanly");
}
