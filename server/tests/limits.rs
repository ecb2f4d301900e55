//! Hostile and odd input that once took quadratic time, read without limit, or wrote outside the
//! workspace (issue 12, items 4, 5, 11 and 12). Every reproducer runs the built binary as a child
//! process under a deadline (and, where it could allocate without bound, a memory limit), so a
//! regression fails instead of hanging or taking the machine. The deadlines are generous: they
//! tell linear from quadratic, they measure nothing.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[path = "../../tests/support/lsp_client.rs"]
mod lsp_client;
use lsp_client::{file_uri, LspClient};

/// What a bounded run of the binary gave.
struct Bounded {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `safemig args…` in `cwd` under `ulimit -v` (4 GiB of address space) and fails the test if
/// it has not finished after `deadline`.
fn run_bounded(cwd: &Path, args: &[&str], deadline: Duration) -> Bounded {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 4194304 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_safemig"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the safemig binary");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = pipe.read_to_end(&mut out);
            String::from_utf8_lossy(&out).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            break status;
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`safemig {}` did not finish within {deadline:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Bounded {
        code: status.code(),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

fn write(dir: &Path, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("a parent directory")).expect("mkdir");
    std::fs::write(&path, content).expect("write fixture");
    path
}

/// `n` index builds on one line after a non-ASCII comment: 2n − 1 findings
/// (`create-index-blocking` each, `object-already-exists` from the second on), all on line 2,
/// whose columns need counting in characters and UTF-16 units.
fn findings_on_one_line(n: usize) -> String {
    format!("-- é😀 one line of index builds\n{}\n", "CREATE INDEX i ON t (a);".repeat(n))
}

// ---------------------------------------------------------------------------------------------
// Item 4: quadratic paths.

/// 20,000 findings on one line: every report format converts each finding's offsets to a line and
/// column. Counting from the line start per finding took 1,207 s for SARIF (debug build).
#[test]
fn twenty_thousand_findings_on_one_line_report_in_linear_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "one_line.sql", findings_on_one_line(10_000));
    for format in ["sarif", "json", "github"] {
        let run = run_bounded(dir.path(), &["check", "one_line.sql", "--format", format], Duration::from_secs(150));
        assert_eq!(run.code, Some(1), "{format}: findings exit 1\n{}", run.stderr);
        match format {
            "sarif" => {
                let log: Value = serde_json::from_str(&run.stdout).expect("one SARIF log");
                let results = log["runs"][0]["results"].as_array().expect("results");
                assert_eq!(results.len(), 19_999);
                // The last statement's index build: columns in UTF-16 units, 1-based.
                let last = &results[results.len() - 2]["locations"][0]["physicalLocation"]["region"];
                let start = 24 * 9_999 + 1;
                assert_eq!((last["startLine"].as_u64(), last["startColumn"].as_u64()), (Some(2), Some(start)));
            }
            "json" => {
                let json: Value = serde_json::from_str(&run.stdout).expect("one JSON object");
                assert_eq!(json["diagnostics"].as_array().map(Vec::len), Some(19_999));
            }
            _ => assert_eq!(run.stdout.lines().filter(|l| l.starts_with("::")).count(), 19_999),
        }
    }
}

/// A suppression comment naming 50,000 rule ids: each unknown id is a finding on the comment,
/// whose fingerprint and position must not cost the comment's length each.
#[test]
fn a_suppression_of_fifty_thousand_ids_is_checked_in_linear_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ids: Vec<String> = (0..50_000).map(|i| format!("no-such-rule-{i}")).collect();
    let text = format!("CREATE INDEX i ON t (a); -- safemig: ignore create-index-blocking, {}\n", ids.join(", "));
    write(dir.path(), "wide.sql", text);
    for format in ["sarif", "json"] {
        let run = run_bounded(dir.path(), &["check", "wide.sql", "--format", format], Duration::from_secs(120));
        assert_eq!(run.code, Some(1), "{format}\n{}", run.stderr);
        let out: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
        let (findings, suppressed) = match format {
            "sarif" => {
                let results = out["runs"][0]["results"].as_array().expect("results").clone();
                let (suppressed, active): (Vec<Value>, Vec<Value>) =
                    results.into_iter().partition(|r| r["suppressions"].as_array().is_some_and(|s| !s.is_empty()));
                (active, suppressed)
            }
            _ => (
                out["diagnostics"].as_array().expect("diagnostics").clone(),
                out["suppressed"].as_array().expect("suppressed").clone(),
            ),
        };
        // The id that exists silences its finding; every other id is reported, once.
        let rule = |v: &Value| v.get("ruleId").or_else(|| v.get("rule")).and_then(Value::as_str).map(str::to_string);
        assert_eq!(suppressed.iter().filter_map(rule).collect::<Vec<_>>(), ["create-index-blocking"], "{format}");
        assert_eq!(findings.len(), 50_000, "{format}");
        assert!(findings.iter().all(|f| rule(f).as_deref() == Some("unused-suppression")), "{format}");
    }
}

fn unknown_rule_keys(n: usize) -> String {
    let mut toml = String::from("[rules]\ncreate-index-blocking = \"off\"\n");
    for i in 0..n {
        // Short keys: 40,000 of them stay under the 1 MB a configuration file may hold.
        toml.push_str(&format!("x{i} = \"off\"\n"));
    }
    toml
}

/// 40,000 unknown rule keys in `safemig.toml`: each problem's line was counted from the top of the
/// file (more than 600 s in a debug build); the keys that are right still apply.
#[test]
fn forty_thousand_unknown_rule_keys_are_read_in_linear_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "safemig.toml", unknown_rule_keys(40_000));
    write(dir.path(), "m.sql", "CREATE INDEX i ON t (a);\n");
    let run = run_bounded(dir.path(), &["check", "m.sql", "--format", "json"], Duration::from_secs(90));
    assert_eq!(run.code, Some(0), "create-index-blocking is off: nothing to report\n{}", run.stdout);
    let last = "safemig.toml:40002: rules.x39999: unknown rule id";
    assert!(run.stderr.contains(last), "{}", run.stderr.chars().take(2000).collect::<String>());
    // A near miss among the first keys still gets its hint.
    write(dir.path(), "safemig.toml", "[rules]\ncreate-index-blockin = \"off\"\n");
    let run = run_bounded(dir.path(), &["check", "m.sql"], Duration::from_secs(60));
    assert!(run.stderr.contains("did you mean `create-index-blocking`"), "{}", run.stderr);
}

fn start_in(dir: &Path) -> LspClient {
    let root = file_uri(dir);
    let mut client = LspClient::spawn();
    client.initialize(json!({
        "processId": null,
        "rootUri": root,
        "workspaceFolders": [{"uri": root, "name": "limits"}],
        "capabilities": {"workspace": {"configuration": true}}
    }));
    client
}

/// The language server: `initialize` with 40,000 unknown keys, then a buffer with 20,000
/// findings on one line and an edit to it, each answered within the client's 30 s wait.
#[test]
fn the_server_answers_many_findings_on_one_line_and_many_config_problems() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "safemig.toml", unknown_rule_keys(40_000));
    let mut client = start_in(dir.path());
    let toml = client.diagnostics(&file_uri(&dir.path().join("safemig.toml")), None);
    assert_eq!(toml["diagnostics"].as_array().map(Vec::len), Some(40_000));

    let uri = file_uri(&dir.path().join("one_line.sql"));
    client.open(&uri, 1, &findings_on_one_line(10_000));
    // create-index-blocking is off: the object-already-exists findings remain.
    let published = client.diagnostics(&uri, Some(1));
    assert_eq!(published["diagnostics"].as_array().map(Vec::len), Some(9_999));
    let last = &published["diagnostics"][9_998]["range"]["start"];
    // UTF-16 columns: the index name of the last statement, on line 1.
    assert_eq!((last["line"].as_u64(), last["character"].as_u64()), (Some(1), Some(24 * 9_999 + 13)));
    // A keystroke at the end of the line: still 9,999 findings, published for version 2.
    client.change(&uri, 2, (1, 24 * 10_000), (1, 24 * 10_000), " ");
    let published = client.diagnostics(&uri, Some(2));
    assert_eq!(published["diagnostics"].as_array().map(Vec::len), Some(9_999));
    client.shutdown_and_exit();
}

// ---------------------------------------------------------------------------------------------
// Item 5: configuration files are read with a size cap, and only when they are regular files.

/// What a hostile file is, how to make it at a path, and the words its refusal names.
type Hostile = (&'static str, fn(&Path), &'static str);

/// The hostile things a `safemig.toml` or `.env` can be, made at `path`, each with the word its
/// refusal names.
fn hostile_files() -> [Hostile; 3] {
    [
        (
            "a symlink to /dev/zero",
            |p: &Path| std::os::unix::fs::symlink("/dev/zero", p).expect("symlink"),
            "not a regular file",
        ),
        (
            "a FIFO without a writer",
            |p: &Path| {
                let made = Command::new("mkfifo").arg(p).status().expect("mkfifo runs");
                assert!(made.success(), "mkfifo {}", p.display());
            },
            "not a regular file",
        ),
        (
            "a 2 MB file",
            |p: &Path| std::fs::write(p, format!("# {}\n", "x".repeat(2 << 20))).expect("write"),
            "more than the 1048576",
        ),
    ]
}

#[test]
fn the_cli_refuses_a_config_file_that_is_a_device_a_fifo_or_huge() {
    for (what, make, why) in hostile_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        make(&dir.path().join("safemig.toml"));
        write(dir.path(), "m.sql", "CREATE INDEX i ON t (a);\n");
        // Found by the upward search: a warning, the defaults, the check runs.
        let run = run_bounded(dir.path(), &["check", "m.sql", "--format", "json"], Duration::from_secs(60));
        assert_eq!(run.code, Some(1), "{what}: the defaults find the index build\n{}", run.stderr);
        assert!(run.stderr.contains("safemig.toml") && run.stderr.contains(why), "{what}: {}", run.stderr);
        // Named with --config: an error (exit 2) that says why.
        let run = run_bounded(dir.path(), &["check", "m.sql", "--config", "safemig.toml"], Duration::from_secs(60));
        assert_eq!(run.code, Some(2), "{what}\n{}", run.stderr);
        assert!(run.stderr.contains(why), "{what}: {}", run.stderr);
    }
    // Negative: a regular safemig.toml just under the cap is read and applied.
    let dir = tempfile::tempdir().expect("temp dir");
    let padding = format!("# {}\n", "x".repeat(1_000_000));
    write(dir.path(), "safemig.toml", format!("{padding}[rules]\ncreate-index-blocking = \"off\"\n"));
    write(dir.path(), "m.sql", "CREATE INDEX i ON t (a);\n");
    let run = run_bounded(dir.path(), &["check", "m.sql"], Duration::from_secs(60));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn the_cli_refuses_a_dotenv_that_is_a_device_a_fifo_or_huge() {
    for (what, make, why) in hostile_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        write(dir.path(), "safemig.toml", "[database]\nurl_env = \"SAFEMIG_LIMITS_TEST_URL\"\n");
        make(&dir.path().join(".env"));
        write(dir.path(), "m.sql", "SELECT 1;\n");
        let run = run_bounded(dir.path(), &["check", "m.sql"], Duration::from_secs(60));
        assert_eq!(run.code, Some(0), "{what}: the static check decides\n{}", run.stderr);
        assert!(run.stderr.contains(".env") && run.stderr.contains(why), "{what}: {}", run.stderr);
    }
}

#[test]
fn the_server_initializes_beside_a_config_file_that_is_a_device_a_fifo_or_huge() {
    for (what, make, why) in hostile_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        make(&dir.path().join("safemig.toml"));
        write(dir.path(), "migrations/001_index.sql", "CREATE INDEX i ON t (a);\n");
        // `initialize` is answered within the client's 30 s wait, and the file is reported.
        let mut client = start_in(dir.path());
        let toml = client.diagnostics(&file_uri(&dir.path().join("safemig.toml")), None);
        let message = toml["diagnostics"][0]["message"].as_str().unwrap_or_default().to_string();
        assert!(message.contains(why), "{what}: {message}");
        // The defaults apply to the migrations.
        let uri = file_uri(&dir.path().join("migrations/001_index.sql"));
        client.open(&uri, 1, "CREATE INDEX i ON t (a);\n");
        let published = client.diagnostics(&uri, Some(1));
        assert!(
            published["diagnostics"].as_array().is_some_and(|d| d.iter().any(|d| d["code"] == "create-index-blocking")),
            "{what}"
        );
        client.shutdown_and_exit();
    }
}

// ---------------------------------------------------------------------------------------------
// Items 11 and 12: configured migration sets, absolute or through symlinks, inside the workspace
// only, read the same way by the CLI and the language server.

/// A goose migration whose `CONCURRENTLY` runs in goose's transaction: `concurrently-in-
/// transaction` fires only when the directory is read as a goose set.
const GOOSE_CONCURRENTLY: &str = "-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (a);\n";

fn rules_of(json: &Value, file: &str) -> Vec<String> {
    let diagnostics = json["diagnostics"].as_array().expect("diagnostics");
    diagnostics.iter().filter(|d| d["path"] == file).filter_map(|d| d["rule"].as_str().map(str::to_string)).collect()
}

#[test]
fn an_absolute_migrations_path_inside_the_workspace_is_read_like_a_relative_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("canonical temp dir");
    write(&root, "db/001_index.sql", GOOSE_CONCURRENTLY);
    let absolute = root.join("db");
    for path in ["db".to_string(), absolute.display().to_string()] {
        write(&root, "safemig.toml", format!("[[migrations]]\npath = \"{path}\"\nframework = \"goose\"\n"));
        let run = run_bounded(&root, &["check", "--format", "json"], Duration::from_secs(60));
        let json: Value = serde_json::from_str(&run.stdout).expect("one JSON object");
        assert!(
            rules_of(&json, "db/001_index.sql").contains(&"concurrently-in-transaction".to_string()),
            "{path}: {json}"
        );
        assert!(!run.stderr.contains("outside the workspace"), "{path}: {}", run.stderr);
    }
    // The language server reads the absolute entry the same way.
    let mut client = start_in(&root);
    let published = client.diagnostics(&file_uri(&absolute.join("001_index.sql")), None);
    let codes: Vec<&Value> =
        published["diagnostics"].as_array().expect("diagnostics").iter().map(|d| &d["code"]).collect();
    assert!(codes.contains(&&json!("concurrently-in-transaction")), "{codes:?}");
    client.shutdown_and_exit();
}

#[test]
fn a_migrations_path_outside_the_workspace_is_refused_by_the_cli_and_the_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let top = dir.path().canonicalize().expect("canonical temp dir");
    let root = top.join("project");
    write(&top, "outside/db/001_index.sql", GOOSE_CONCURRENTLY);
    write(&root, "local.sql", "SELECT 1;\n");
    std::os::unix::fs::symlink(top.join("outside/db"), root.join("linked")).expect("symlink");
    let outside = top.join("outside/db").display().to_string();
    for path in [outside.as_str(), "../outside/db", "linked"] {
        write(&root, "safemig.toml", format!("[[migrations]]\npath = \"{path}\"\nframework = \"goose\"\n"));
        // The CLI says so, and reads the outside file (named explicitly) as no goose set.
        let named = top.join("outside/db/001_index.sql").display().to_string();
        let run = run_bounded(&root, &["check", ".", &named, "--format", "json"], Duration::from_secs(60));
        assert!(run.stderr.contains("outside the workspace"), "{path}: {}", run.stderr);
        let json: Value = serde_json::from_str(&run.stdout).expect("one JSON object");
        assert!(!rules_of(&json, &named).contains(&"concurrently-in-transaction".to_string()), "{path}: {json}");
        // The server says so in its log, and publishes nothing for the outside set.
        let mut client = start_in(&root);
        let logged = client.notification("window/logMessage", |p| {
            p["message"].as_str().is_some_and(|m| m.contains("outside the workspace"))
        });
        assert!(logged["message"].as_str().is_some_and(|m| m.contains(path)), "{path}: {logged}");
        let outside_uri = file_uri(&top.join("outside/db/001_index.sql"));
        assert!(
            !client.seen(|m| m["params"]["uri"] == outside_uri.as_str()),
            "{path}: published outside the workspace"
        );
        client.shutdown_and_exit();
    }
}

/// `check --fix` on a migration that is a symlink to a file outside the repository: refused with
/// a message, the outside file untouched; the same migration as a real file is fixed.
#[test]
fn check_fix_never_writes_through_a_symlink_to_outside_the_workspace() {
    let dir = tempfile::tempdir().expect("temp dir");
    let top = dir.path().canonicalize().expect("canonical temp dir");
    let (root, elsewhere) = (top.join("repo"), top.join("elsewhere"));
    let index = "CREATE INDEX i ON orders (customer_id);\n";
    let target = write(&elsewhere, "001_index.sql", index);
    write(&root, "safemig.toml", "");
    std::fs::create_dir_all(root.join("db")).expect("mkdir");
    std::os::unix::fs::symlink(&target, root.join("db/001_index.sql")).expect("symlink");
    let run = run_bounded(&root, &["check", "--fix"], Duration::from_secs(60));
    assert!(run.stderr.contains("outside the workspace"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&target).expect("read"), index, "written through the symlink");
    // Negative: a real file in its place is fixed.
    std::fs::remove_file(root.join("db/001_index.sql")).expect("unlink");
    write(&root, "db/001_index.sql", index);
    let run = run_bounded(&root, &["check", "--fix"], Duration::from_secs(60));
    let fixed = std::fs::read_to_string(root.join("db/001_index.sql")).expect("read");
    assert!(fixed.contains("CONCURRENTLY"), "{fixed}\n{}", run.stderr);
}
