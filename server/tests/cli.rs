//! Drives the built `safemig` binary the way a user and CI do: files on disk in, text, JSON and an
//! exit code out.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// One statement that fires exactly one rule (`create-index-blocking`) at line 1, columns 1–13.
const INDEX_ON_ORDERS: &str = "CREATE INDEX orders_customer_id_idx ON orders (customer_id);\n";

#[path = "../../tests/support/binary.rs"]
mod binary;
use binary::Run;

fn safemig(cwd: &Path, args: &[&str]) -> Run {
    binary::run(cwd, args, &[])
}

fn write(dir: &Path, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("a parent directory")).expect("mkdir");
    std::fs::write(&path, content).expect("write fixture");
    path
}

/// `(rule, severity, start line, start column)` of every diagnostic, for compact assertions.
fn diagnostics(json: &Value) -> Vec<(String, String, u64, u64)> {
    json["diagnostics"]
        .as_array()
        .expect("diagnostics is an array")
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().expect("rule").to_string(),
                d["severity"].as_str().expect("severity").to_string(),
                d["range"]["start"]["line"].as_u64().expect("line"),
                d["range"]["start"]["column"].as_u64().expect("column"),
            )
        })
        .collect()
}

fn find<'j>(json: &'j Value, rule: &str) -> Vec<&'j Value> {
    json["diagnostics"].as_array().expect("diagnostics").iter().filter(|d| d["rule"] == rule).collect()
}

#[test]
fn exit_code_follows_fail_on_for_each_severity() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "m/0001_index.sql", INDEX_ON_ORDERS);
    // (level the config gives the finding, expected exit code for --fail-on error, warning, info, never)
    let cases = [("error", [1, 1, 1, 0]), ("warning", [0, 1, 1, 0]), ("info", [0, 0, 1, 0]), ("hint", [0, 0, 0, 0])];
    for (level, expected) in cases {
        let config =
            write(dir.path(), &format!("{level}.toml"), format!("[rules]\ncreate-index-blocking = \"{level}\"\n"));
        let config = config.to_str().expect("utf-8 temp path");
        let json = safemig(dir.path(), &["check", "m", "--config", config, "--format", "json"]).json();
        assert_eq!(diagnostics(&json), [("create-index-blocking".to_string(), level.to_string(), 1, 1)]);
        for (fail_on, code) in ["error", "warning", "info", "never"].into_iter().zip(expected) {
            let run = safemig(dir.path(), &["check", "m", "--config", config, "--fail-on", fail_on]);
            assert_eq!(run.code, code, "{level} finding with --fail-on {fail_on}\n{}{}", run.stdout, run.stderr);
        }
    }
    // The default is --fail-on warning.
    assert_eq!(safemig(dir.path(), &["check", "m"]).code, 1);
    write(dir.path(), "clean/0001.sql", "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);\n");
    let clean = safemig(dir.path(), &["check", "clean"]);
    assert_eq!(clean.code, 0, "{}", clean.stdout);
    assert_eq!(clean.stdout, "no findings in 1 file; database: not configured\n");
}

#[test]
fn json_has_the_documented_shape_and_counts_columns_in_characters() {
    let dir = tempfile::tempdir().expect("temp dir");
    // `CREATE` is character 17 of its line, byte 22, UTF-16 unit 18.
    write(dir.path(), "m/0001.sql", "SELECT 'café😀'; CREATE INDEX i ON orders (c);\nSELECT (1;\n");
    let run = safemig(dir.path(), &["check", "m", "--format", "json"]);
    assert_eq!(run.code, 1);
    let json = run.json();
    let keys: Vec<&str> = json.as_object().expect("an object").keys().map(String::as_str).collect();
    assert_eq!(keys, ["database", "diagnostics", "files", "suppressed"]);
    assert_eq!(json["files"], serde_json::json!([{"path": "m/0001.sql", "statements": 3, "parse_errors": 1}]));

    let index = find(&json, "create-index-blocking");
    assert_eq!(index.len(), 1, "{json:#}");
    let d = index[0];
    let mut fields: Vec<&str> = d.as_object().expect("object").keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["fix", "message", "path", "range", "rule", "severity"]);
    assert_eq!(d["path"], "m/0001.sql");
    assert_eq!(d["severity"], "warning");
    assert_eq!(d["range"], serde_json::json!({"start": {"line": 1, "column": 17}, "end": {"line": 1, "column": 29}}));
    assert!(d["message"].as_str().expect("message").contains("CONCURRENTLY"), "{d}");
    assert_eq!(d["fix"]["title"], "Build the index CONCURRENTLY");

    let syntax = find(&json, "syntax-error");
    assert_eq!(syntax.len(), 1, "{json:#}");
    assert_eq!(syntax[0]["severity"], "error");
    assert_eq!(syntax[0]["range"]["start"], serde_json::json!({"line": 2, "column": 10}));
    assert_eq!(syntax[0]["fix"], Value::Null);
}

#[test]
fn suppressed_findings_keep_their_reason_in_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        "m/0001.sql",
        format!("-- safemig: ignore create-index-blocking — orders is empty until launch\n{INDEX_ON_ORDERS}"),
    );
    let run = safemig(dir.path(), &["check", "m", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let json = run.json();
    assert_eq!(json["diagnostics"], serde_json::json!([]));
    let s = &json["suppressed"][0];
    assert_eq!(s["rule"], "create-index-blocking");
    assert_eq!(s["reason"], "orders is empty until launch");
    assert_eq!(s["range"]["start"], serde_json::json!({"line": 2, "column": 1}));
    let human = safemig(dir.path(), &["check", "m"]);
    assert_eq!(human.stdout, "no findings in 1 file (1 suppressed); database: not configured\n");
}

#[test]
fn human_output_shows_rule_location_source_and_caret() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "m/0002_orders.sql", format!("-- orders by customer\n  {INDEX_ON_ORDERS}"));
    let run = safemig(dir.path(), &["check", "m"]);
    assert_eq!(run.code, 1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("warning[create-index-blocking]: building this index takes a SHARE lock on `orders`"));
    assert_eq!(lines[1], " --> m/0002_orders.sql:2:3");
    assert_eq!(lines[3], "2 |   CREATE INDEX orders_customer_id_idx ON orders (customer_id);");
    assert_eq!(lines[4], "  |   ^^^^^^^^^^^^");
    assert!(lines.contains(&"  = fix: Build the index CONCURRENTLY"), "{}", run.stdout);
    assert_eq!(lines.last(), Some(&"1 warning in 1 file; database: not configured"));
    assert!(!run.stdout.contains('\u{1b}'), "no colour codes when stdout is not a terminal");
}

#[test]
fn directories_are_walked_in_sorted_order_skipping_build_dirs() {
    let dir = tempfile::tempdir().expect("temp dir");
    for rel in
        ["db/b/0002.sql", "db/a.sql", "db/b/0001.sql", "db/target/x.sql", "db/node_modules/y.sql", "db/.git/z.sql"]
    {
        write(dir.path(), rel, INDEX_ON_ORDERS);
    }
    write(dir.path(), "db/README.md", "not sql");
    let json = safemig(dir.path(), &["check", "db", "--format", "json"]).json();
    let paths: Vec<&str> =
        json["files"].as_array().expect("files").iter().map(|f| f["path"].as_str().expect("path")).collect();
    assert_eq!(paths, ["db/a.sql", "db/b/0001.sql", "db/b/0002.sql"]);
    // With no PATH, the current directory is checked, and shown without a `./` prefix.
    let json = safemig(&dir.path().join("db"), &["check", "--format", "json"]).json();
    assert_eq!(json["files"][0]["path"], "a.sql");
}

#[test]
fn config_comes_from_the_flag_or_the_nearest_ancestor() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "proj/safemig.toml", "[rules]\ncreate-index-blocking = \"error\"\n");
    write(dir.path(), "proj/db/migrations/0001.sql", INDEX_ON_ORDERS);
    write(dir.path(), "elsewhere/quiet.toml", "[rules]\ncreate-index-blocking = \"off\"\n");

    // Discovered from the first PATH's ancestors, not from the current directory.
    let json = safemig(&dir.path().join("elsewhere"), &["check", "../proj/db/migrations", "--format", "json"]).json();
    let index_findings: Vec<_> = diagnostics(&json).into_iter().filter(|d| d.0 == "create-index-blocking").collect();
    assert_eq!(index_findings, [("create-index-blocking".to_string(), "error".to_string(), 1, 1)]);

    // --config wins over discovery.
    let run = safemig(dir.path(), &["check", "proj/db", "--config", "elsewhere/quiet.toml"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, "no findings in 1 file; database: not configured\n"));

    // A --config that cannot be read is a usage error.
    let run = safemig(dir.path(), &["check", "proj", "--config", "missing.toml"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("missing.toml"), "{}", run.stderr);
}

#[test]
fn config_problems_name_file_line_and_key_and_checking_continues() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        "safemig.toml",
        "postgres_version = 15\n[rules]\ncreate-index-blockin = \"error\"\nlock_timeout = 5\n",
    );
    write(dir.path(), "m/0001.sql", INDEX_ON_ORDERS);
    let run = safemig(dir.path(), &["check", "m", "--format", "json"]);
    assert!(
        run.stderr.contains("warning: safemig.toml:3: rules.create-index-blockin: unknown rule id"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("did you mean `create-index-blocking`"), "{}", run.stderr);
    // The misspelt key is ignored: the rule keeps its default severity.
    assert_eq!(run.code, 1);
    assert_eq!(diagnostics(&run.json()), [("create-index-blocking".to_string(), "warning".to_string(), 1, 1)]);
}

/// `lock_timeout = 5` is 5 ms to PostgreSQL: a warning says so and suggests '5s'; the check runs.
#[test]
fn a_unit_less_lock_timeout_is_a_warning_that_suggests_the_unit() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "m/0001.sql", INDEX_ON_ORDERS);
    write(dir.path(), "safemig.toml", "lock_timeout = 5\n");
    let run = safemig(dir.path(), &["check", "m", "--format", "json"]);
    assert!(run.stderr.contains("warning: safemig.toml:1: lock_timeout: 5 has no unit"), "{}", run.stderr);
    assert!(run.stderr.contains("5 ms") && run.stderr.contains("'5s'"), "{}", run.stderr);
    assert_eq!(find(&run.json(), "create-index-blocking").len(), 1);

    write(dir.path(), "safemig.toml", "lock_timeout = \"5s\"\n");
    let run = safemig(dir.path(), &["check", "m"]);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
}

#[test]
fn usage_and_io_errors_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = safemig(dir.path(), &["check", "no/such/dir"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no/such/dir"), "{}", run.stderr);

    // A missing path next to a good one: the good one is still checked, and the exit code is 2.
    write(dir.path(), "m/0001.sql", INDEX_ON_ORDERS);
    let run = safemig(dir.path(), &["check", "m", "gone.sql", "--format", "json"]);
    assert_eq!(run.code, 2);
    assert_eq!(find(&run.json(), "create-index-blocking").len(), 1);

    for args in [&["check", "--fail-on", "sometimes"][..], &["check", "--frobnicate"], &["bogus"], &[]] {
        let run = safemig(dir.path(), args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
    }
    let version = safemig(dir.path(), &["--version"]);
    assert_eq!((version.code, version.stdout.trim()), (0, concat!("safemig ", env!("CARGO_PKG_VERSION"))));
}

#[test]
fn explain_prints_docs_and_suggests_near_misses() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = safemig(dir.path(), &["explain", "create-index-blocking"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.starts_with("# create-index-blocking\n"), "{}", run.stdout);
    for section in ["## What it flags", "## Why it hurts", "## Example", "## Instead", "## Quick fix"] {
        assert!(run.stdout.contains(section), "missing {section}");
    }
    let run = safemig(dir.path(), &["explain", "create-index-blockng"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("there is no rule `create-index-blockng`"), "{}", run.stderr);
    assert!(run.stderr.contains("did you mean `create-index-blocking`?"), "{}", run.stderr);
}

#[test]
fn rules_lists_every_rule_by_category() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = safemig(dir.path(), &["rules"]);
    assert_eq!(run.code, 0);
    for rule in safemig::rules::all() {
        let row = run.stdout.lines().find(|l| l.split_whitespace().next() == Some(rule.id));
        let row = row.unwrap_or_else(|| panic!("{} missing from `safemig rules`", rule.id));
        assert!(row.contains(rule.default_severity.name()) && row.contains(rule.summary), "{row}");
    }
    assert!(run.stdout.contains("\nLocks and rewrites\n"));
    assert!(run.stdout.contains("\nTransactions and robustness\n"));
}

#[test]
fn docs_rules_md_is_generated_from_the_rules() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/rules.md");
    let dir = tempfile::tempdir().expect("temp dir");
    let generated = safemig(dir.path(), &["rules", "--markdown"]).stdout;
    if std::env::var_os("SAFEMIG_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).expect("write docs/rules.md");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()))
            + 1;
        panic!(
            "docs/rules.md is stale (first difference at line {line}); regenerate it with \
             `cargo run -q -p safemig -- rules --markdown > docs/rules.md` \
             (or `SAFEMIG_UPDATE_DOCS=1 cargo test -p safemig --test cli docs_rules_md`)"
        );
    }
}

// pop / popx files tagged for one database dialect.

/// A CockroachDB migration of a pop project: `INVERTED INDEX`, `STORING`, `table@index`.
const COCKROACH_UP: &str = "CREATE TABLE networks (id UUID PRIMARY KEY, traits JSONB, INVERTED INDEX \
                            networks_traits_idx (traits));\nCREATE INDEX networks_id_idx ON networks (id) STORING \
                            (traits);\nDROP INDEX networks@networks_id_idx;\n";

#[test]
fn a_cockroach_file_of_a_pop_project_is_not_checked_and_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "m/20200101000001_networks.cockroach.up.sql", COCKROACH_UP);
    let run = safemig(dir.path(), &["check", "m/20200101000001_networks.cockroach.up.sql", "--format", "json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(diagnostics(&json), [("syntax-error".to_string(), "info".to_string(), 1, 1)], "{json:#}");
    let message = json["diagnostics"][0]["message"].as_str().expect("message");
    assert!(message.contains("CockroachDB") && message.contains("not checked"), "{message}");

    // Next to the PostgreSQL files of its version, in a whole-directory check: the same note,
    // no PostgreSQL syntax errors and no duplicates.
    write(dir.path(), "m/20200101000001_networks.postgres.up.sql", "CREATE TABLE networks (id uuid PRIMARY KEY);\n");
    write(dir.path(), "m/20200101000001_networks.postgres.down.sql", "DROP TABLE networks;\n");
    write(dir.path(), "m/20200101000001_networks.cockroach.down.sql", "DROP TABLE networks;\n");
    let json = safemig(dir.path(), &["check", "m", "--format", "json", "--fail-on", "never"]).json();
    let all = json["diagnostics"].as_array().expect("diagnostics");
    let on = |tag: &str| -> Vec<(String, String)> {
        all.iter()
            .filter(|d| d["path"].as_str().is_some_and(|p| p.contains(tag)))
            .map(|d| (d["rule"].as_str().unwrap_or("").to_string(), d["severity"].as_str().unwrap_or("").to_string()))
            .collect()
    };
    let note = ("syntax-error".to_string(), "info".to_string());
    assert_eq!(on(".cockroach."), [note.clone(), note], "{json:#}");
    assert!(all.iter().all(|d| d["severity"] != "error"), "{json:#}");
    assert!(on(".postgres.").iter().all(|(rule, _)| rule != "duplicate-migration-version"), "{json:#}");
}

#[test]
fn a_pop_file_is_checked_in_the_dialect_its_name_is_tagged_with() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The project is PostgreSQL; the MySQL file is read as MySQL all the same.
    write(dir.path(), "safemig.toml", "dialect = \"postgres\"\n");
    let mysql = "CREATE TABLE `networks` (`id` char(36) NOT NULL, PRIMARY KEY(`id`)) ENGINE=InnoDB;\n";
    write(dir.path(), "m/20200101000001_networks.mysql.up.sql", mysql);
    let json = safemig(dir.path(), &["check", "m/20200101000001_networks.mysql.up.sql", "--format", "json"]).json();
    assert!(find(&json, "syntax-error").is_empty(), "{json:#}");
    // Invalid SQL in a PostgreSQL-tagged file is still an error.
    write(dir.path(), "m/20200101000001_networks.postgres.up.sql", "CREATE TABLE networks (id uuid PRIMARY KEY,);\n");
    let run = safemig(dir.path(), &["check", "m/20200101000001_networks.postgres.up.sql", "--format", "json"]);
    let errors = find(&run.json(), "syntax-error").iter().filter(|d| d["severity"] == "error").count();
    assert_eq!(errors, 1, "{}", run.stdout);
}

// Bad input: every case yields a clear finding at a known place and exit 1, never a crash.

#[test]
fn a_20_mb_seed_file_is_checked_to_the_end() {
    let dir = tempfile::tempdir().expect("temp dir");
    let row = format!("(1, '{}')", "x".repeat(130));
    let insert = format!("INSERT INTO events (id, payload) VALUES\n{};\n", vec![row.as_str(); 100].join(",\n"));
    let copies = 20 * 1024 * 1024 / insert.len() + 1;
    let mut sql = insert.repeat(copies);
    sql.push_str(INDEX_ON_ORDERS);
    assert!(sql.len() > 20 * 1024 * 1024);
    write(dir.path(), "seed.sql", &sql);
    let run = safemig(dir.path(), &["check", "seed.sql", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["files"][0]["statements"], copies as u64 + 1);
    assert_eq!(json["files"][0]["parse_errors"], 0);
    let index = find(&json, "create-index-blocking");
    assert_eq!(index.len(), 1);
    assert_eq!(index[0]["range"]["start"], serde_json::json!({"line": copies as u64 * 101 + 1, "column": 1}));
}

#[test]
fn a_binary_file_named_sql_is_reported_not_parsed() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "x.sql", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00");
    let run = safemig(dir.path(), &["check", "x.sql", "--format", "json"]);
    assert_eq!(run.code, 1);
    let json = run.json();
    assert_eq!(diagnostics(&json), [("syntax-error".to_string(), "error".to_string(), 1, 1)]);
    let message = json["diagnostics"][0]["message"].as_str().expect("message");
    assert!(message.contains("binary file") && message.contains("offset 8"), "{message}");
    assert_eq!(json["files"][0]["statements"], 0);

    let human = safemig(dir.path(), &["check", "x.sql"]);
    assert!(human.stdout.starts_with("error[syntax-error]: this is a binary file"), "{}", human.stdout);
    assert!(human.stdout.contains("x.sql:1:1"), "{}", human.stdout);
}

#[test]
fn invalid_utf8_is_reported_where_it_starts_and_the_rest_is_checked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut bytes = b"CREATE TABLE a (id int);\nALTER TABLE a RENAME COLUMN \xff\xfe TO b;\n".to_vec();
    bytes.extend_from_slice(INDEX_ON_ORDERS.as_bytes());
    write(dir.path(), "m/0001.sql", &bytes);
    let run = safemig(dir.path(), &["check", "m", "--format", "json"]);
    assert_eq!(run.code, 1);
    let json = run.json();
    let utf8 = find(&json, "syntax-error");
    assert_eq!(utf8.len(), 1, "{json:#}");
    assert!(utf8[0]["message"].as_str().expect("message").contains("not valid UTF-8"));
    assert_eq!(utf8[0]["range"]["start"], serde_json::json!({"line": 2, "column": 29}));
    assert_eq!(find(&json, "create-index-blocking")[0]["range"]["start"]["line"], 3);
    let human = safemig(dir.path(), &["check", "m"]);
    assert!(human.stdout.contains("2 | ALTER TABLE a RENAME COLUMN \u{fffd}\u{fffd} TO b;"), "{}", human.stdout);
}

#[test]
fn ten_thousand_nested_parentheses_do_not_overflow_the_stack() {
    let dir = tempfile::tempdir().expect("temp dir");
    let nested = |n: usize| format!("SELECT {}1{};\n", "(".repeat(n), ")".repeat(n));
    let unbalanced = format!("SELECT {}1;\n", "(".repeat(10_000));
    write(dir.path(), "m/0001_deep.sql", format!("{}{INDEX_ON_ORDERS}", nested(5_000)));
    write(dir.path(), "m/0002_unbalanced.sql", format!("{unbalanced}{INDEX_ON_ORDERS}"));
    write(dir.path(), "m/0003_deeper_than_postgres.sql", format!("{}{INDEX_ON_ORDERS}", nested(10_000)));
    let run = safemig(dir.path(), &["check", "m", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    let syntax = find(&json, "syntax-error");
    assert_eq!(syntax.len(), 3, "{json:#}");
    // Valid, deeper than safemig's parser follows: checked from its tokens, said plainly.
    assert_eq!(syntax[0]["path"], "m/0001_deep.sql");
    assert_eq!(syntax[0]["severity"], "hint");
    assert_eq!(syntax[0]["range"]["start"], serde_json::json!({"line": 1, "column": 1}));
    assert!(syntax[0]["message"].as_str().expect("message").contains("nest"), "{}", syntax[0]);
    // Unbalanced: a real syntax error.
    assert_eq!(syntax[1]["path"], "m/0002_unbalanced.sql");
    assert_eq!(syntax[1]["severity"], "error");
    // Balanced, and deeper than PostgreSQL's own parser goes (it says "memory exhausted").
    assert_eq!(syntax[2]["path"], "m/0003_deeper_than_postgres.sql");
    assert_eq!(syntax[2]["severity"], "error");
    assert!(syntax[2]["message"].as_str().expect("message").contains("memory exhausted"), "{}", syntax[2]);
    // The statement after each one is still checked.
    let index: Vec<(&str, u64)> = find(&json, "create-index-blocking")
        .iter()
        .map(|d| (d["path"].as_str().unwrap_or_default(), d["range"]["start"]["line"].as_u64().unwrap_or(0)))
        .collect();
    assert_eq!(index, [("m/0001_deep.sql", 2), ("m/0002_unbalanced.sql", 2), ("m/0003_deeper_than_postgres.sql", 2)]);
    // The human format does not try to print a 20,000-character line.
    let human = safemig(dir.path(), &["check", "m"]);
    assert!(human.stdout.contains("line 1 is 20009 bytes long and not shown"), "{}", human.stdout);
}

#[test]
fn an_unterminated_dollar_quote_is_a_syntax_error_at_its_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        "m/0001.sql",
        format!("{INDEX_ON_ORDERS}CREATE FUNCTION touch() RETURNS trigger AS $$\nBEGIN\n  NEW.updated_at = now();\n"),
    );
    let run = safemig(dir.path(), &["check", "m", "--format", "json"]);
    assert_eq!(run.code, 1);
    let json = run.json();
    let syntax = find(&json, "syntax-error");
    assert_eq!(syntax.len(), 1, "{json:#}");
    assert_eq!(syntax[0]["severity"], "error");
    assert!(syntax[0]["message"].as_str().expect("message").contains("dollar"), "{}", syntax[0]);
    assert_eq!(syntax[0]["range"]["start"], serde_json::json!({"line": 2, "column": 44}));
    assert_eq!(find(&json, "create-index-blocking").len(), 1);
}

/// The README's first command: the example project shows most rules, and its safe migrations stay
/// quiet.
#[test]
fn the_shop_example_shows_the_rules_and_its_safe_migrations_are_quiet() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let run = safemig(&root, &["check", "examples/shop", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stderr, "", "the example's safemig.toml has no problems");
    let json = run.json();
    assert_eq!(json["files"].as_array().map(Vec::len), Some(10));
    let fired: std::collections::BTreeSet<String> = diagnostics(&json).into_iter().map(|d| d.0).collect();
    for rule in [
        "create-index-blocking",
        "add-column-not-null-no-default",
        "add-column-rewrite",
        "constraint-validated-on-add",
        "unique-constraint-blocking",
        "set-not-null-scan",
        "column-type-rewrite",
        "lock-timeout-missing",
        "foreign-key-missing-index",
        "rename-column",
        "drop-table",
        "drop-index-blocking",
        "table-rewrite-command",
        "backfill-in-schema-migration",
        "unbatched-backfill",
        "concurrently-in-transaction",
        "prefer-bigint",
        "prefer-identity",
        "prefer-text",
        "prefer-timestamptz",
        "prefer-jsonb",
        "ban-char",
    ] {
        assert!(fired.contains(rule), "{rule} does not fire in examples/shop; it fires: {fired:?}");
    }
    for quiet in ["0009_add_shipping_safely.sql", "0010_validate_shipping_check.sql"] {
        let said: Vec<&Value> = json["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .filter(|d| d["path"].as_str().is_some_and(|p| p.ends_with(quiet)))
            .collect();
        assert!(said.is_empty(), "{quiet} is the safe way and should be quiet: {said:#?}");
    }
    let suppressed = json["suppressed"].as_array().expect("suppressed");
    assert_eq!(suppressed.len(), 1, "{suppressed:#?}");
    assert_eq!(suppressed[0]["rule"], "drop-column");
    assert!(suppressed[0]["reason"].as_str().is_some_and(|r| r.contains("PR #412")));
}

/// `check --fix`: safe fixes only, files written and created, what changed said before the
/// report; `--unsafe` adds the rest; JSON stays one object on stdout.
#[test]
fn check_fix_applies_safe_fixes_and_unsafe_ones_on_request() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(
        root,
        "db/migrations/00001_orders.sql",
        "-- +goose Up\nCREATE TABLE orders (id bigint, customer_id bigint);\n",
    );
    // goose: the index moves to a new migration (safe); lock_timeout goes in (safe).
    let mixed = "-- +goose Up\nALTER TABLE orders ADD COLUMN note text;\nCREATE INDEX orders_customer_idx ON orders (customer_id);\n";
    write(root, "db/migrations/00002_note.sql", mixed);
    // A standalone file outside any set, and one the fix must not touch (not asked about).
    write(root, "scratch/drop.sql", "DROP INDEX orders_customer_idx;\n");

    let run = safemig(root, &["check", "--fix", "db"]);
    assert!(run.stdout.starts_with("fixed db/migrations/00002_note.sql: "), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("  created "), "{}", run.stdout);
    let fixed = std::fs::read_to_string(root.join("db/migrations/00002_note.sql")).expect("read");
    assert_eq!(fixed, "-- +goose Up\nSET LOCAL lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN note text;\n");
    let created = std::fs::read_to_string(root.join("db/migrations/00003_create_index_orders_customer_idx.sql"))
        .expect("created");
    assert!(created.starts_with("-- +goose NO TRANSACTION\n-- +goose Up\n"), "{created}");
    assert!(
        created.contains("\nCREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);\n"),
        "{created}"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("scratch/drop.sql")).expect("read"),
        "DROP INDEX orders_customer_idx;\n"
    );
    // Nothing left to report in the set.
    let again = safemig(root, &["check", "--format", "json", "db"]);
    assert_eq!(diagnostics(&again.json()), [], "{}", again.stdout);

    // An unsafe fix (the whole goose migration out of its transaction) needs --unsafe.
    write(
        root,
        "db/migrations/00004_two.sql",
        "-- +goose Up\nCREATE INDEX a_idx ON orders (id);\nCREATE INDEX b_idx ON orders (customer_id);\n",
    );
    write(root, "db/migrations/00005_taken.sql", "-- +goose Up\nSELECT 1;\n");
    let safe_only = safemig(root, &["check", "--fix", "--format", "json", "db/migrations/00004_two.sql"]);
    safe_only.json();
    assert!(!safe_only.stderr.contains("fixed "), "{}", safe_only.stderr);
    let with_unsafe = safemig(root, &["check", "--fix", "--unsafe", "--format", "json", "db/migrations/00004_two.sql"]);
    let report = with_unsafe.json();
    assert!(with_unsafe.stderr.contains("(unsafe)"), "{}", with_unsafe.stderr);
    let two = std::fs::read_to_string(root.join("db/migrations/00004_two.sql")).expect("read");
    assert_eq!(
        two,
        "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY a_idx ON orders (id);\nCREATE INDEX CONCURRENTLY b_idx ON orders (customer_id);\n"
    );
    assert!(diagnostics(&report).iter().all(|d| d.0 != "create-index-blocking"), "{report}");
    // --unsafe alone is a usage error.
    assert_eq!(safemig(root, &["check", "--unsafe", "db"]).code, 2);
}

/// `check --fix` renumbers an unshipped migration that shares its version with another: every
/// file of the migration is renamed (never over an existing file), said before the report, and
/// the report reads the file under its new name.
#[test]
fn check_fix_renumbers_a_duplicate_version() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let git = |args: &[&str]| git(root, args);
    write(root, "migrations/0001_a.up.sql", "CREATE TABLE a (id bigint PRIMARY KEY);\n");
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "shipped"]);
    git(&["checkout", "-q", "-b", "work"]);
    write(root, "migrations/0002_b.up.sql", "CREATE TABLE b (id bigint PRIMARY KEY);\n");
    write(root, "migrations/0002_c.up.sql", "CREATE TABLE c (id bigint PRIMARY KEY);\n");
    write(root, "migrations/0002_c.down.sql", "DROP TABLE c;\n");

    let run = safemig(root, &["check", "--fix", "migrations/0002_c.up.sql"]);
    assert!(
        run.stdout.starts_with(
            "fixed migrations/0002_c.up.sql: duplicate-migration-version (safe): Renumber to the next version (0003_c.up.sql)\n"
        ),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(run.stdout.contains("0003_c.down.sql"), "{}", run.stdout);
    assert!(!run.stderr.contains("cannot read"), "{}", run.stderr);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for (gone, there) in [("0002_c.up.sql", "0003_c.up.sql"), ("0002_c.down.sql", "0003_c.down.sql")] {
        assert!(!root.join("migrations").join(gone).exists(), "{gone}");
        assert!(root.join("migrations").join(there).exists(), "{there}");
    }
    let again = safemig(root, &["check", "--format", "json", "migrations"]);
    let rules: Vec<String> = diagnostics(&again.json()).into_iter().map(|d| d.0).collect();
    assert!(!rules.iter().any(|r| r == "duplicate-migration-version"), "{}", again.stdout);
}

/// Runs git in `root` with a fixed identity and no user or system configuration.
fn git(root: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(root)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// A golang-migrate set committed on `main` (`branch`), then a branch `work` with one more migration.
fn shipped_repo(branch: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(root, "migrations/0001_a.up.sql", "CREATE TABLE a (id bigint PRIMARY KEY);\n");
    git(root, &["init", "-q", "-b", branch]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "shipped"]);
    git(root, &["tag", "v1"]);
    git(root, &["checkout", "-q", "-b", "work"]);
    write(root, "migrations/0002_b.up.sql", "CREATE TABLE b (id bigint PRIMARY KEY);\n");
    dir
}

/// A `--shipped-ref` or `shipped_ref` that names no commit is a usage error naming the ref and
/// the refs that exist: a typo must not turn the history rules off while the check passes.
#[test]
fn a_shipped_ref_that_names_nothing_exits_2_with_the_candidates() {
    let dir = shipped_repo("main");
    let root = dir.path();
    for format in ["human", "json"] {
        let run = safemig(root, &["check", "--shipped-ref", "origin/mian", "--format", format, "migrations"]);
        assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains("error: the shipped ref `origin/mian`"), "{}", run.stderr);
        for candidate in ["main", "work", "v1"] {
            assert!(run.stderr.contains(candidate), "{candidate}: {}", run.stderr);
        }
        assert!(run.stdout.is_empty(), "no report on a usage error: {}", run.stdout);
    }
    write(root, "safemig.toml", "shipped_ref = \"relase\"\n");
    let run = safemig(root, &["check", "migrations"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("`relase`") && run.stderr.contains("shipped_ref"), "{}", run.stderr);
    // --fix must not edit anything on the strength of a ref that does not exist.
    let before = std::fs::read_to_string(root.join("migrations/0002_b.up.sql")).expect("read");
    assert_eq!(safemig(root, &["check", "--fix", "migrations"]).code, 2);
    assert_eq!(std::fs::read_to_string(root.join("migrations/0002_b.up.sql")).expect("read"), before);

    // --shipped-ref overrides the configured one; a ref that resolves checks as usual.
    for good in ["main", "v1"] {
        let run = safemig(root, &["check", "--shipped-ref", good, "migrations"]);
        assert_eq!(run.code, 0, "{good}: {}\n{}", run.stdout, run.stderr);
        assert!(!run.stderr.contains("history checks"), "{}", run.stderr);
    }
}

/// With no ref configured, finding none is still a note: the history rules are off, the check runs.
#[test]
fn no_shipped_ref_found_automatically_is_a_note() {
    let dir = shipped_repo("trunk");
    let run = safemig(dir.path(), &["check", "migrations"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("note: history checks") && run.stderr.contains("no shipped ref found"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// A named file belongs to its set

/// A migration whose findings depend on its set: it backfills (the message depends on whether
/// the runner wraps it in a transaction), builds an index CONCURRENTLY (an error inside the
/// runner's transaction) and types a column the previous migration created.
const SECOND: &str = "ALTER TABLE users ADD COLUMN name text;\nUPDATE users SET name = email;\nCREATE INDEX CONCURRENTLY users_name_idx ON users (name);\nALTER TABLE users ALTER COLUMN email TYPE varchar(100);\n";
const FIRST: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n";

/// A project in one framework's layout: its files, the ones a CI job would name, and the
/// directory a developer might run from (relative to the project root).
struct NamedLayout {
    name: &'static str,
    files: Vec<(String, String)>,
    named: Vec<&'static str>,
    git: bool,
}

fn named_layouts() -> Vec<NamedLayout> {
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    vec![
        NamedLayout {
            name: "diesel",
            files: vec![
                s("Cargo.toml", "[package]\nname = \"app\"\n"),
                s("migrations/2024-01-01-000000_users/up.sql", FIRST),
                s("migrations/2024-01-01-000000_users/down.sql", "DROP TABLE users;\n"),
                s("migrations/2024-01-02-000000_name/up.sql", SECOND),
                s("migrations/2024-01-02-000000_name/down.sql", "ALTER TABLE users DROP COLUMN name;\n"),
            ],
            named: vec!["migrations/2024-01-02-000000_name/up.sql"],
            git: false,
        },
        NamedLayout {
            name: "prisma",
            files: vec![
                s("package.json", "{}\n"),
                s("prisma/schema.prisma", "datasource db {\n  provider = \"postgresql\"\n}\n"),
                s("prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n"),
                s("prisma/migrations/20240101000000_users/migration.sql", FIRST),
                s("prisma/migrations/20240102000000_name/migration.sql", SECOND),
            ],
            named: vec!["prisma/migrations/20240102000000_name/migration.sql"],
            git: false,
        },
        NamedLayout {
            name: "goose",
            files: vec![
                s("go.mod", "module app\n"),
                s(
                    "db/migrations/00001_users.sql",
                    &format!("-- +goose Up\n{FIRST}-- +goose Down\nDROP TABLE users;\n"),
                ),
                s("db/migrations/00002_name.sql", &format!("-- +goose Up\n{SECOND}")),
                s(
                    "db/migrations/00003_more.sql",
                    "-- +goose NO TRANSACTION\n-- +goose Up\nUPDATE users SET name = 'x';\n",
                ),
            ],
            named: vec!["db/migrations/00002_name.sql", "db/migrations/00003_more.sql"],
            git: false,
        },
        // No project file at all: the set's own directory is the project.
        NamedLayout {
            name: "golang-migrate",
            files: vec![
                s("migrations/0001_users.up.sql", FIRST),
                s("migrations/0001_users.down.sql", "DROP TABLE users;\n"),
                s("migrations/0002_name.up.sql", SECOND),
                s("migrations/0002_name.down.sql", "ALTER TABLE users DROP COLUMN name;\n"),
            ],
            named: vec!["migrations/0002_name.up.sql", "migrations/0002_name.down.sql"],
            git: false,
        },
        // A git repository with nothing else: its top level is the project.
        NamedLayout {
            name: "flyway in git",
            files: vec![
                s("src/main/resources/db/migration/V1__users.sql", FIRST),
                s("src/main/resources/db/migration/V2__name.sql", SECOND),
            ],
            named: vec!["src/main/resources/db/migration/V2__name.sql"],
            git: true,
        },
    ]
}

/// Each diagnostic as (canonical file, rule, severity, range, message), sorted.
fn comparable(cwd: &Path, json: &Value) -> Vec<(PathBuf, String, String, String, String)> {
    let mut out: Vec<_> = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            let path = cwd.join(d["path"].as_str().expect("path"));
            (
                path.canonicalize().unwrap_or(path),
                d["rule"].as_str().expect("rule").to_string(),
                d["severity"].as_str().expect("severity").to_string(),
                d["range"].to_string(),
                d["message"].as_str().expect("message").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// `safemig check FILE…` gives, for those files, exactly the findings of `safemig check` over the
/// whole project: the same framework transaction settings, the same schema before them, the same
/// history; and it reports only the named files. From the project root and from inside the set.
#[test]
fn named_files_get_the_findings_of_a_whole_check() {
    for layout in named_layouts() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().canonicalize().expect("canonical temp dir");
        for (path, text) in &layout.files {
            write(&root, path, text);
        }
        if layout.git {
            git(&root, &["init", "-q", "-b", "main"]);
            git(&root, &["add", "."]);
            git(&root, &["commit", "-q", "-m", "all"]);
        }
        let whole = safemig(&root, &["check", "--format", "json"]);
        assert_ne!(whole.code, 2, "{}: {}", layout.name, whole.stderr);
        let named: Vec<PathBuf> = layout.named.iter().map(|n| root.join(n)).collect();
        let expected: Vec<_> = comparable(&root, &whole.json()).into_iter().filter(|d| named.contains(&d.0)).collect();
        assert!(
            expected.iter().any(|d| d.1 == "backfill-in-schema-migration"),
            "{}: the fixture must have set-dependent findings: {expected:#?}",
            layout.name
        );

        let mut args = vec!["check", "--format", "json"];
        args.extend(layout.named.iter().copied());
        let alone = safemig(&root, &args);
        assert_ne!(alone.code, 2, "{}: {}", layout.name, alone.stderr);
        let json = alone.json();
        assert_eq!(comparable(&root, &json), expected, "{}: named from the root", layout.name);
        let files: Vec<&str> =
            json["files"].as_array().expect("files").iter().filter_map(|f| f["path"].as_str()).collect();
        assert_eq!(files, layout.named, "{}: only the named files are reported", layout.name);
        let fails = expected.iter().any(|d| d.2 == "warning" || d.2 == "error");
        assert_eq!(alone.code, i32::from(fails), "{}: {}", layout.name, alone.stderr);

        // From inside the migration's directory, naming it relatively.
        let inside = named[0].parent().expect("a directory");
        let file_name = named[0].file_name().and_then(|n| n.to_str()).expect("a name");
        let from_inside = safemig(inside, &["check", "--format", "json", file_name]);
        let only_first: Vec<_> = expected.iter().filter(|d| d.0 == named[0]).cloned().collect();
        assert_eq!(comparable(inside, &from_inside.json()), only_first, "{}: named from inside", layout.name);
    }
}

/// A file that belongs to no set is still checked on its own, and only it is reported.
#[test]
fn a_named_file_outside_any_set_is_checked_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(root, "migrations/0001_users.up.sql", FIRST);
    write(root, "scratch/query.sql", INDEX_ON_ORDERS);
    let run = safemig(root, &["check", "--format", "json", "scratch/query.sql"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    assert_eq!(diagnostics(&json), [("create-index-blocking".to_string(), "warning".to_string(), 1, 1)]);
    assert_eq!(json["files"].as_array().map(Vec::len), Some(1));
}

/// Migrations written for another database than PostgreSQL are never read as PostgreSQL: a
/// ClickHouse or CockroachDB set is not checked (and says so), a set whose text is SQLite's or
/// MySQL's is read in that dialect, and PostgreSQL stays PostgreSQL.
#[test]
fn migrations_for_other_databases_are_not_read_as_postgresql() {
    let dir = tempfile::tempdir().expect("temp dir");
    // ClickHouse, told by its text (the directory's name says nothing).
    write(
        dir.path(),
        "analytics/migrations/0001_events.up.sql",
        "CREATE TABLE events ON CLUSTER default (id UUID, at DateTime64(3))\nENGINE = ReplicatedMergeTree ORDER BY id;\n",
    );
    write(dir.path(), "analytics/migrations/0001_events.down.sql", "DROP TABLE events ON CLUSTER default;\n");
    write(
        dir.path(),
        "analytics/migrations/0002_idx.up.sql",
        "ALTER TABLE events ADD INDEX IF NOT EXISTS idx_at at TYPE minmax GRANULARITY 1;\n",
    );
    write(dir.path(), "analytics/migrations/0002_idx.down.sql", "ALTER TABLE events DROP INDEX idx_at;\n");
    // SQLite, told by its text.
    write(
        dir.path(),
        "kuma/migrations/0001_init.sql",
        "CREATE TABLE [monitor] ([id] INTEGER PRIMARY KEY AUTOINCREMENT, [name] TEXT);\n",
    );
    write(dir.path(), "kuma/migrations/0002_user.sql", "ALTER TABLE monitor ADD COLUMN weight INTEGER DEFAULT 0;\n");
    // CockroachDB, told by the directory's name.
    write(dir.path(), "crdb/cockroach/0001_init.sql", "CREATE TABLE t (id UUID PRIMARY KEY, tags JSONB);\n");
    write(dir.path(), "crdb/cockroach/0002_idx.sql", "CREATE INVERTED INDEX t_tags ON t (tags);\n");
    // PostgreSQL next to them keeps its findings.
    write(dir.path(), "db/migrations/0001_index.sql", INDEX_ON_ORDERS);

    let run = safemig(dir.path(), &["check", ".", "--format", "json", "--fail-on", "error"]);
    let json = run.json();
    let errors: Vec<_> =
        json["diagnostics"].as_array().expect("diagnostics").iter().filter(|d| d["severity"] == "error").collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let of = |needle: &str| -> Vec<(String, String, String)> {
        json["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .filter(|d| d["path"].as_str().is_some_and(|p| p.contains(needle)))
            .map(|d| {
                let s = |k: &str| d[k].as_str().unwrap_or_default().to_string();
                (s("rule"), s("severity"), s("message"))
            })
            .collect()
    };
    // Each ClickHouse and CockroachDB file: one note that it was not checked, nothing else.
    for (needle, files, db) in [("analytics/", 4, "ClickHouse"), ("crdb/", 2, "CockroachDB")] {
        let found = of(needle);
        assert_eq!(found.len(), files, "{needle}: {found:#?}");
        for (rule, severity, message) in &found {
            assert_eq!((rule.as_str(), severity.as_str()), ("syntax-error", "info"), "{message}");
            assert!(message.contains(&format!("this is {db} SQL")) && message.contains("not checked"), "{message}");
        }
    }
    // The set-level note names the database and the evidence.
    assert!(
        run.stderr.contains("ClickHouse migrations (`ON CLUSTER` on line 1 in 0001_events.up.sql says so)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("CockroachDB migrations (the directory's name says so)"), "{}", run.stderr);
    // SQLite: no syntax error on `[name]` or AUTOINCREMENT.
    assert!(of("kuma/").iter().all(|(rule, ..)| rule != "syntax-error"), "{:#?}", of("kuma/"));
    // PostgreSQL: the index still blocks writes.
    assert!(of("db/migrations").iter().any(|f| f.0 == "create-index-blocking"), "{:#?}", of("db/migrations"));

    // Configured as PostgreSQL, the ClickHouse text is PostgreSQL's to judge: errors, as it should.
    write(dir.path(), "safemig.toml", "dialect = \"postgres\"\n");
    let json = safemig(dir.path(), &["check", "analytics", "--format", "json", "--fail-on", "never"]).json();
    assert!(find(&json, "syntax-error").iter().any(|d| d["severity"] == "error"), "{json:#}");
}

/// A leading byte order mark is the file's encoding mark, not SQL: the real finding at line 1,
/// column 1 (the mark is not a column), no syntax error, and `check --fix` keeps the mark.
#[test]
fn a_byte_order_mark_is_skipped_and_check_fix_keeps_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let path = write(root, "migrations/001_index.sql", format!("\u{feff}{INDEX_ON_ORDERS}"));
    let run = safemig(root, &["check", "--format", "json", "migrations"]);
    let json = run.json();
    let found = diagnostics(&json);
    assert!(found.contains(&("create-index-blocking".into(), "warning".into(), 1, 1)), "{json}");
    assert!(found.iter().all(|d| d.0 != "syntax-error"), "{json}");
    let human = safemig(root, &["check", "migrations"]);
    assert!(human.stdout.contains(" --> migrations/001_index.sql:1:1\n"), "{}", human.stdout);

    let fix = safemig(root, &["check", "--fix", "migrations"]);
    assert!(fix.stdout.starts_with("fixed migrations/001_index.sql: "), "{}\n{}", fix.stdout, fix.stderr);
    let fixed = std::fs::read(&path).expect("read");
    let expected = format!("\u{feff}{}", INDEX_ON_ORDERS.replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY"));
    assert_eq!(String::from_utf8_lossy(&fixed), expected);
}

/// Lines end at `\n`, `\r\n` and a lone `\r` (old Mac files), and nowhere else: not at U+2028,
/// U+2029, NEL, VT or FF, which sit inside their line.
#[test]
fn findings_are_on_their_line_whatever_ends_the_lines() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(root, "cr.sql", format!("-- one\rSELECT 1;\r{INDEX_ON_ORDERS}"));
    write(root, "crlf.sql", format!("-- one\r\nSELECT 1;\r\n{}", INDEX_ON_ORDERS.replace('\n', "\r\n")));
    write(root, "separators.sql", format!("-- a\u{2028}b\u{2029}c\u{85}d\u{b}e\u{c}f\nSELECT 1; {INDEX_ON_ORDERS}"));
    for (file, line, column) in [("cr.sql", 3, 1), ("crlf.sql", 3, 1), ("separators.sql", 2, 11)] {
        let json = safemig(root, &["check", "--format", "json", file]).json();
        assert_eq!(diagnostics(&json), [("create-index-blocking".into(), "warning".into(), line, column)], "{file}");
        let human = safemig(root, &["check", file]);
        assert!(human.stdout.contains(&format!(" --> {file}:{line}:{column}\n")), "{}", human.stdout);
    }
}
