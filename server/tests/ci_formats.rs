//! The CI formats of `safemig check`: `--format sarif` (validated against the vendored SARIF 2.1.0
//! schema, `fixtures/sarif/`) and `--format github` (workflow commands), driven through the built
//! binary like `cli.rs` does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{json, Value};

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

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sarif/sarif-schema-2.1.0.json");
        let text = std::fs::read_to_string(&path).expect("the vendored SARIF schema is readable");
        let mut schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
        // The official file's `language` patterns (of `run` and `toolComponent`) have an
        // unescaped `]`, which ECMA-262 regular expressions (the `regex` format that the draft-07
        // meta-schema asserts here) reject. It stands for a literal `]` either way: escape it in
        // memory and keep the vendored file byte for byte.
        let patched = escape_bracket(&mut schema, "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$");
        assert_eq!(patched, 2, "the schema changed: revisit this patch");
        assert!(schema["title"].as_str().is_some_and(|t| t.contains("Version 2.1.0")), "{}", schema["title"]);
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(true)
            .build(&schema)
            .expect("the schema compiles without fetching anything")
    })
}

/// Replaces every `pattern` equal to `bad` by the same with its lone `]` escaped; returns how many.
fn escape_bracket(schema: &mut Value, bad: &str) -> usize {
    match schema {
        Value::Object(map) => {
            let mut n = 0;
            for (key, value) in map.iter_mut() {
                if key == "pattern" && value.as_str() == Some(bad) {
                    *value = Value::from(bad.replace("}]?", "}\\]?"));
                    n += 1;
                } else {
                    n += escape_bracket(value, bad);
                }
            }
            n
        }
        Value::Array(items) => items.iter_mut().map(|v| escape_bracket(v, bad)).sum(),
        _ => 0,
    }
}

/// The schema's complaints about `log`, one per line.
fn schema_errors(log: &Value) -> String {
    validator().iter_errors(log).map(|e| format!("{} at {}\n", e, e.instance_path())).collect()
}

/// Runs `safemig check … --format sarif`, checks the log against the schema and the invariants every
/// log must keep, and returns it.
fn sarif(cwd: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "sarif"]);
    let run = safemig(cwd, &all);
    let log: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}\nstderr:\n{}", run.stdout, run.stderr));
    let errors = schema_errors(&log);
    assert!(errors.is_empty(), "the log does not validate against SARIF 2.1.0:\n{errors}");
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let run_obj = &runs[0];
    assert_eq!(run_obj["columnKind"], "utf16CodeUnits");
    let rules = run_obj["tool"]["driver"]["rules"].as_array().expect("driver rules");
    for result in run_obj["results"].as_array().expect("results") {
        let id = result["ruleId"].as_str().expect("ruleId");
        let index = result["ruleIndex"].as_u64().unwrap_or_else(|| panic!("{id} has no ruleIndex")) as usize;
        assert_eq!(rules.get(index).map(|r| &r["id"]), Some(&Value::from(id)), "ruleIndex of {id}");
        let fingerprint = result["partialFingerprints"]["safemig/v1"].as_str().expect("a fingerprint");
        assert!(fingerprint.len() > 32 && fingerprint.contains(':'), "{fingerprint}");
    }
    (run.code, log)
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().expect("results")
}

fn uri(result: &Value) -> &str {
    result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().expect("uri")
}

fn region(result: &Value) -> [u64; 4] {
    let r = &result["locations"][0]["physicalLocation"]["region"];
    ["startLine", "startColumn", "endLine", "endColumn"].map(|k| r[k].as_u64().unwrap_or_else(|| panic!("{k}: {r}")))
}

fn fingerprint(result: &Value) -> String {
    result["partialFingerprints"]["safemig/v1"].as_str().expect("fingerprint").to_string()
}

/// One `::command k=v,…::message` line, unescaped.
#[derive(Debug, PartialEq)]
struct Annotation {
    command: String,
    properties: BTreeMap<String, String>,
    message: String,
}

/// Reverses the runner's escaping: `%25`, `%0D`, `%0A`, and in properties `%3A` and `%2C`.
fn unescape(s: &str, property: bool) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let code = rest.get(i + 1..i + 3).unwrap_or_else(|| panic!("a bare % in {s:?}"));
        out.push(match (code, property) {
            ("25", _) => '%',
            ("0D", _) => '\r',
            ("0A", _) => '\n',
            ("3A", true) => ':',
            ("2C", true) => ',',
            _ => panic!("unexpected escape %{code} in {s:?}"),
        });
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    out
}

fn parse_annotation(line: &str) -> Annotation {
    let body = line.strip_prefix("::").unwrap_or_else(|| panic!("not a workflow command: {line:?}"));
    let (head, message) = body.split_once("::").unwrap_or_else(|| panic!("no `::` before the message: {line:?}"));
    assert!(!message.contains(['\n', '\r']), "{line:?}");
    let (command, props) = head.split_once(' ').unwrap_or_else(|| panic!("no properties: {line:?}"));
    let mut properties = BTreeMap::new();
    for prop in props.split(',') {
        let (key, value) = prop.split_once('=').unwrap_or_else(|| panic!("property without `=`: {prop:?}"));
        assert!(!value.contains(':'), "unescaped `:` in {prop:?}");
        assert!(properties.insert(key.to_string(), unescape(value, true)).is_none(), "{key} twice in {line:?}");
    }
    let keys: Vec<&str> = properties.keys().map(String::as_str).collect();
    assert_eq!(keys, ["col", "endColumn", "endLine", "file", "line", "title"], "{line}");
    Annotation { command: command.to_string(), properties, message: unescape(message, false) }
}

/// Runs `--format github` and splits its stdout into annotations and the summary line.
fn github(cwd: &Path, args: &[&str]) -> (i32, Vec<Annotation>, String) {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "github"]);
    let run = safemig(cwd, &all);
    let mut lines: Vec<&str> = run.stdout.lines().collect();
    let summary = lines.pop().unwrap_or_else(|| panic!("no output; stderr:\n{}", run.stderr)).to_string();
    assert!(summary.starts_with("safemig: ") && !summary.starts_with("::"), "{summary}");
    (run.code, lines.into_iter().map(parse_annotation).collect(), summary)
}

fn json(cwd: &Path, args: &[&str]) -> Value {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let run = safemig(cwd, &all);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout))
}

#[test]
fn the_vendored_schema_rejects_logs_that_break_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "m/0001.sql", INDEX_ON_ORDERS);
    let (_, log) = sarif(dir.path(), &["m"]);
    assert!(schema_errors(&log).is_empty());
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = json!("hint");
    assert!(!schema_errors(&broken).is_empty(), "`hint` is not a SARIF level");
    let mut broken = log.clone();
    broken.as_object_mut().expect("an object").remove("version");
    assert!(!schema_errors(&broken).is_empty(), "`version` is required");
    let mut broken = log;
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = json!(0);
    assert!(!schema_errors(&broken).is_empty(), "lines start at 1");
}

#[test]
fn sarif_for_the_shop_example_describes_every_rule_and_matches_the_json_findings() {
    let root = repo_root();
    let (code, log) = sarif(&root, &["examples/shop"]);
    assert_eq!(code, 1);
    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "safemig");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert!(driver["informationUri"].as_str().is_some_and(|u| u.starts_with("https://")));

    // Every rule of the catalog, in catalog order, with its documentation.
    let rules = driver["rules"].as_array().expect("rules");
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().expect("id")).collect();
    let catalog: Vec<&str> = safemig::rules::all().iter().map(|r| r.id).collect();
    assert_eq!(ids, catalog);
    for (descriptor, rule) in rules.iter().zip(safemig::rules::all()) {
        assert_eq!(descriptor["shortDescription"]["text"], rule.summary);
        assert!(descriptor["name"].as_str().is_some_and(|n| !n.contains('-') && !n.is_empty()), "{descriptor}");
        let full = descriptor["fullDescription"]["text"].as_str().expect("fullDescription");
        assert!(!full.is_empty() && rule.docs.contains(full.lines().next().unwrap_or("")), "{}: {full}", rule.id);
        assert!(descriptor["helpUri"].as_str().is_some_and(|u| u.ends_with(&format!("#{}", rule.id))));
        let markdown = descriptor["help"]["markdown"].as_str().expect("help markdown");
        assert!(markdown.contains(rule.docs.trim_end()), "{}", rule.id);
        let text = descriptor["help"]["text"].as_str().expect("help text");
        assert!(text.contains("Why it hurts") && !text.contains("## ") && !text.contains("```"), "{}", rule.id);
        let level = match rule.default_severity.name() {
            "error" => "error",
            "warning" => "warning",
            _ => "note",
        };
        assert_eq!(descriptor["defaultConfiguration"]["level"], level, "{}", rule.id);
        let tags = descriptor["properties"]["tags"].as_array().expect("tags");
        assert!(tags.contains(&Value::from(rule.category.title())), "{}: {tags:?}", rule.id);
        assert!(descriptor["properties"]["problem.severity"].is_string());
    }

    // Paths are relative to the repository root, which the log names.
    let base = &run["originalUriBaseIds"]["%SRCROOT%"]["uri"];
    let canonical = root.canonicalize().expect("canonical root");
    assert_eq!(base.as_str(), Some(format!("file://{}/", canonical.display()).as_str()));

    let index = results(&log)
        .iter()
        .find(|r| r["ruleId"] == "create-index-blocking")
        .expect("create-index-blocking fires in the shop example");
    assert_eq!(uri(index), "examples/shop/migrations/0003_unique_user_email.sql");
    assert_eq!(index["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(region(index), [2, 1, 2, 13]);
    assert_eq!(index["level"], "warning");
    assert!(index["message"]["text"].as_str().is_some_and(|m| m.contains("SHARE lock on `users`")));
    assert!(index.get("suppressions").is_none());

    // The one suppressed finding carries its reason.
    let suppressed: Vec<&Value> = results(&log).iter().filter(|r| r.get("suppressions").is_some()).collect();
    assert_eq!(suppressed.len(), 1, "{suppressed:#?}");
    assert_eq!(suppressed[0]["ruleId"], "drop-column");
    assert_eq!(uri(suppressed[0]), "examples/shop/migrations/0008_drop_legacy.sql");
    assert_eq!(region(suppressed[0])[0], 4);
    let suppression = &suppressed[0]["suppressions"][0];
    assert_eq!(suppression["kind"], "inSource");
    assert!(suppression["justification"].as_str().is_some_and(|j| j.contains("PR #412")), "{suppression}");

    // The example's safemig.toml raises foreign-key-missing-index from its default.
    let overrides = run["invocations"][0]["ruleConfigurationOverrides"].as_array().expect("overrides");
    let fk = overrides.iter().find(|o| o["descriptor"]["id"] == "foreign-key-missing-index").expect("fk override");
    assert_eq!(fk["configuration"]["level"], "warning");
    assert_eq!(rules[fk["descriptor"]["index"].as_u64().expect("index") as usize]["id"], "foreign-key-missing-index");
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);

    // The same findings as the JSON format, at the same places (the example is ASCII, so
    // character and UTF-16 columns agree), and no two share a fingerprint.
    let json = json(&root, &["examples/shop"]);
    let expected: BTreeSet<(String, String, u64, u64, u64, u64, bool)> = [("diagnostics", false), ("suppressed", true)]
        .into_iter()
        .flat_map(|(key, suppressed)| {
            json[key].as_array().expect("list").iter().map(move |d| {
                let r = &d["range"];
                (
                    d["path"].as_str().expect("path").to_string(),
                    d["rule"].as_str().expect("rule").to_string(),
                    r["start"]["line"].as_u64().expect("line"),
                    r["start"]["column"].as_u64().expect("column"),
                    r["end"]["line"].as_u64().expect("line"),
                    r["end"]["column"].as_u64().expect("column"),
                    suppressed,
                )
            })
        })
        .collect();
    let actual: BTreeSet<(String, String, u64, u64, u64, u64, bool)> = results(&log)
        .iter()
        .map(|r| {
            let [a, b, c, d] = region(r);
            let rule = r["ruleId"].as_str().expect("ruleId").to_string();
            (uri(r).to_string(), rule, a, b, c, d, r.get("suppressions").is_some())
        })
        .collect();
    assert_eq!(actual, expected);
    assert_eq!(results(&log).len(), expected.len());
    let fingerprints: BTreeSet<String> = results(&log).iter().map(fingerprint).collect();
    assert_eq!(fingerprints.len(), results(&log).len(), "fingerprints are unique within a run");
}

#[test]
fn sarif_columns_count_utf16_code_units() {
    let dir = tempfile::tempdir().expect("temp dir");
    // `CREATE` is character 17 of its line, UTF-16 unit 18 (😀 is two units).
    write(dir.path(), "m/0001.sql", "SELECT 'café😀'; CREATE INDEX i ON orders (c);\n");
    let (code, log) = sarif(dir.path(), &["m"]);
    assert_eq!(code, 1);
    let index: Vec<&Value> = results(&log).iter().filter(|r| r["ruleId"] == "create-index-blocking").collect();
    assert_eq!(index.len(), 1, "{log:#}");
    assert_eq!(region(index[0]), [1, 18, 1, 30]);
    assert_eq!(uri(index[0]), "m/0001.sql");

    let (_, annotations, _) = github(dir.path(), &["m"]);
    let a = annotations.iter().find(|a| a.properties["title"] == "safemig(create-index-blocking)").expect("annotation");
    let at: Vec<&str> = ["line", "col", "endLine", "endColumn"].iter().map(|k| a.properties[*k].as_str()).collect();
    assert_eq!(at, ["1", "18", "1", "30"]);
}

/// The findings of a run as (rule, fingerprint) → start line.
fn fingerprinted(log: &Value) -> BTreeMap<(String, String), u64> {
    results(log)
        .iter()
        .map(|r| ((r["ruleId"].as_str().expect("ruleId").to_string(), fingerprint(r)), region(r)[0]))
        .collect()
}

#[test]
fn fingerprints_survive_moved_lines_and_follow_the_statement() {
    let dir = tempfile::tempdir().expect("temp dir");
    let original = "CREATE INDEX a_idx ON orders (a);\nALTER TABLE users RENAME COLUMN x TO y;\n\
                    DROP TABLE old_carts;\nDROP TABLE old_carts;\n";
    write(dir.path(), "m/0001.sql", original);
    let (_, log) = sarif(dir.path(), &["m"]);
    let before = fingerprinted(&log);
    assert_eq!(before.len(), results(&log).len(), "no two findings share a fingerprint");
    for rule in ["create-index-blocking", "rename-column", "drop-table"] {
        assert!(before.keys().any(|(r, _)| r == rule), "{rule} fires: {before:?}");
    }
    // The two identical DROP TABLE statements get two alerts, told apart by their occurrence.
    assert_eq!(before.keys().filter(|(r, _)| r == "drop-table").count(), 2, "{before:?}");

    // A blank line above everything, a comment, and a statement re-flowed over two lines: every
    // finding moves down and keeps its fingerprint.
    let moved = format!(
        "\n-- carts are archived\n{}",
        original.replace("ALTER TABLE users RENAME", "\nALTER TABLE users\n    RENAME")
    );
    write(dir.path(), "m/0001.sql", &moved);
    let (_, after) = sarif(dir.path(), &["m"]);
    let after = fingerprinted(&after);
    assert_eq!(after.keys().collect::<Vec<_>>(), before.keys().collect::<Vec<_>>());
    for (key, line) in &before {
        assert!(after[key] > *line, "{key:?} moved from line {line} to {}", after[key]);
    }

    // Another statement is another alert; the untouched ones keep theirs.
    write(dir.path(), "m/0001.sql", original.replace("orders (a)", "orders (b)"));
    let (_, edited) = sarif(dir.path(), &["m"]);
    let edited = fingerprinted(&edited);
    let index = |map: &BTreeMap<(String, String), u64>| -> Vec<String> {
        map.keys().filter(|(r, _)| r == "create-index-blocking").map(|(_, f)| f.clone()).collect()
    };
    assert_ne!(index(&edited), index(&before));
    let others = |map: &BTreeMap<(String, String), u64>| -> BTreeSet<(String, String)> {
        map.keys().filter(|(r, _)| r == "rename-column" || r == "drop-table").cloned().collect()
    };
    assert_eq!(others(&edited), others(&before));

    // The same statement in another file is another alert.
    write(dir.path(), "n/0001.sql", INDEX_ON_ORDERS);
    write(dir.path(), "o/0001.sql", INDEX_ON_ORDERS);
    let (_, two) = sarif(dir.path(), &["n", "o"]);
    let prints: Vec<String> = results(&two).iter().map(fingerprint).collect();
    assert_eq!(prints.len(), 2, "{two:#}");
    assert_ne!(prints[0], prints[1]);
}

#[test]
fn suppressed_findings_are_results_with_in_source_suppressions() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        "m/0001.sql",
        format!("-- safemig: ignore create-index-blocking — orders is empty until launch\n{INDEX_ON_ORDERS}"),
    );
    let (code, log) = sarif(dir.path(), &["m"]);
    assert_eq!(code, 0, "a suppressed finding does not fail the check");
    let all = results(&log);
    assert_eq!(all.len(), 1, "{log:#}");
    assert_eq!(all[0]["ruleId"], "create-index-blocking");
    assert_eq!(all[0]["level"], "warning");
    assert_eq!(region(&all[0]), [2, 1, 2, 13]);
    assert_eq!(
        all[0]["suppressions"],
        json!([{"kind": "inSource", "status": "accepted", "justification": "orders is empty until launch"}])
    );

    // GitHub annotations leave it out; the summary counts it.
    let (code, annotations, summary) = github(dir.path(), &["m"]);
    assert_eq!(code, 0);
    assert_eq!(annotations, []);
    assert_eq!(summary, "safemig: no findings in 1 file (1 suppressed); database: not configured");
}

#[test]
fn levels_follow_the_configured_severity_and_turned_off_rules_are_overrides() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "m/0001.sql", INDEX_ON_ORDERS);
    let index = safemig::rules::all().iter().position(|r| r.id == "create-index-blocking").expect("in the catalog");
    for (configured, sarif_level, command, code) in [
        ("error", "error", "error", 1),
        ("warning", "warning", "warning", 1),
        ("info", "note", "notice", 0),
        ("hint", "note", "notice", 0),
    ] {
        let config = write(dir.path(), "safemig.toml", format!("[rules]\ncreate-index-blocking = \"{configured}\"\n"));
        let (exit, log) = sarif(dir.path(), &["m"]);
        assert_eq!(exit, code, "{configured}");
        let index_results: Vec<&Value> =
            results(&log).iter().filter(|r| r["ruleId"] == "create-index-blocking").collect();
        assert_eq!(index_results.len(), 1, "{configured}: {log:#}");
        assert_eq!(index_results[0]["level"], sarif_level, "{configured}");
        assert_eq!(index_results[0]["properties"]["severity"], configured);
        let overrides = &log["runs"][0]["invocations"][0]["ruleConfigurationOverrides"];
        let expected = (configured != "warning")
            .then(|| json!({"descriptor": {"id": "create-index-blocking", "index": index}, "configuration": {"level": sarif_level}}));
        let found =
            overrides.as_array().and_then(|o| o.iter().find(|o| o["descriptor"]["id"] == "create-index-blocking"));
        assert_eq!(found, expected.as_ref(), "{configured}");

        let (exit, annotations, _) = github(dir.path(), &["m"]);
        assert_eq!(exit, code, "{configured}");
        assert_eq!(annotations.len(), 1, "{configured}: {annotations:?}");
        assert_eq!(annotations[0].command, command, "{configured}");
        std::fs::remove_file(config).expect("remove config");
    }

    write(dir.path(), "safemig.toml", "[rules]\ncreate-index-blocking = \"off\"\n");
    let (code, log) = sarif(dir.path(), &["m"]);
    assert_eq!(code, 0);
    assert!(results(&log).iter().all(|r| r["ruleId"] != "create-index-blocking"), "{log:#}");
    let overrides = log["runs"][0]["invocations"][0]["ruleConfigurationOverrides"].as_array().expect("overrides");
    assert!(overrides.contains(
        &json!({"descriptor": {"id": "create-index-blocking", "index": index}, "configuration": {"enabled": false}})
    ));
}

#[test]
fn uris_are_relative_to_the_repository_root_and_percent_encoded() {
    let repo = tempfile::tempdir().expect("temp dir");
    let init = Command::new("git").args(["init", "-q"]).current_dir(repo.path()).status().expect("git runs");
    assert!(init.success());
    write(repo.path(), "db/migrations/0001 add index.sql", INDEX_ON_ORDERS);
    let outside = tempfile::tempdir().expect("temp dir");
    let elsewhere = write(outside.path(), "0001.sql", INDEX_ON_ORDERS);
    let elsewhere = elsewhere.to_str().expect("a UTF-8 temp path");

    // Run from a subdirectory: paths still start at the repository root.
    let db = repo.path().join("db");
    let (code, log) = sarif(&db, &[".", elsewhere]);
    assert_eq!(code, 1);
    let canonical = repo.path().canonicalize().expect("canonical");
    assert_eq!(
        log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str(),
        Some(format!("file://{}/", canonical.display()).as_str())
    );
    let locations: Vec<(&str, &Value)> = results(&log)
        .iter()
        .filter(|r| r["ruleId"] == "create-index-blocking")
        .map(|r| (uri(r), &r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"]))
        .collect();
    let outside_uri =
        format!("file://{}", outside.path().canonicalize().expect("canonical").join("0001.sql").display());
    assert_eq!(
        locations,
        [("db/migrations/0001%20add%20index.sql", &json!("%SRCROOT%")), (outside_uri.as_str(), &Value::Null)]
    );

    let (_, annotations, _) = github(&db, &[".", elsewhere]);
    let files: Vec<&str> = annotations
        .iter()
        .filter(|a| a.properties["title"] == "safemig(create-index-blocking)")
        .map(|a| a.properties["file"].as_str())
        .collect();
    let outside_path = outside.path().canonicalize().expect("canonical").join("0001.sql");
    assert_eq!(files, ["db/migrations/0001 add index.sql", outside_path.to_str().expect("utf-8")]);
}

#[test]
fn undecodable_files_are_syntax_error_results_at_line_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "x.sql", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00");
    let (code, log) = sarif(dir.path(), &["x.sql"]);
    assert_eq!(code, 1);
    let all = results(&log);
    assert_eq!(all.len(), 1, "{log:#}");
    assert_eq!(all[0]["ruleId"], "syntax-error");
    assert_eq!(all[0]["level"], "error");
    assert_eq!(region(&all[0]), [1, 1, 1, 1]);
    assert!(all[0]["message"]["text"].as_str().is_some_and(|m| m.contains("binary file")));

    let (code, annotations, summary) = github(dir.path(), &["x.sql"]);
    assert_eq!(code, 1);
    assert_eq!(annotations.len(), 1);
    assert_eq!(annotations[0].command, "error");
    assert_eq!(annotations[0].properties["file"], "x.sql");
    assert_eq!(annotations[0].properties["line"], "1");
    assert!(annotations[0].message.starts_with("this is a binary file"), "{:?}", annotations[0]);
    assert_eq!(summary, "safemig: 1 error in 1 file; database: not configured");
}

#[test]
fn github_annotations_for_the_shop_example_match_the_json_findings() {
    let root = repo_root();
    let (code, annotations, summary) = github(&root, &["examples/shop"]);
    assert_eq!(code, 1);
    let json = json(&root, &["examples/shop"]);
    let diagnostics = json["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(annotations.len(), diagnostics.len());
    for (a, d) in annotations.iter().zip(diagnostics) {
        let command = match d["severity"].as_str() {
            Some("error") => "error",
            Some("warning") => "warning",
            _ => "notice",
        };
        assert_eq!(a.command, command, "{a:?}");
        assert_eq!(a.properties["file"], d["path"].as_str().expect("path"));
        assert_eq!(a.properties["title"], format!("safemig({})", d["rule"].as_str().expect("rule")));
        let r = &d["range"];
        let at: Vec<String> =
            ["line", "col", "endLine", "endColumn"].iter().map(|k| a.properties[*k].clone()).collect();
        let expected: Vec<String> =
            [&r["start"]["line"], &r["start"]["column"], &r["end"]["line"], &r["end"]["column"]]
                .iter()
                .map(|v| v.to_string())
                .collect();
        assert_eq!(at, expected, "{a:?}");
        let mut message = d["message"].as_str().expect("message").to_string();
        if let Some(fix) = d["fix"]["title"].as_str() {
            message.push_str(&format!("\nfix: {fix}"));
        }
        assert_eq!(a.message, message);
    }
    let known = annotations
        .iter()
        .find(|a| a.properties["title"] == "safemig(create-index-blocking)")
        .expect("create-index-blocking annotation");
    assert_eq!(known.command, "warning");
    assert_eq!(known.properties["file"], "examples/shop/migrations/0003_unique_user_email.sql");
    assert_eq!((known.properties["line"].as_str(), known.properties["endColumn"].as_str()), ("2", "13"));

    let human = safemig(&root, &["check", "examples/shop"]);
    assert_eq!(Some(summary.strip_prefix("safemig: ").expect("prefix")), human.stdout.lines().last());
}

#[test]
fn github_commands_escape_messages_and_properties() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A quoted table name with `%`, `,`, `:`, CR and LF lands in the message; the file name has a
    // `,` and a `:`, which would end a property.
    let table = "or%d,e:rs\r\nx";
    write(dir.path(), "m/0001_a,b:c.sql", format!("CREATE INDEX i ON \"{table}\" (c);\n"));
    let run = safemig(dir.path(), &["check", "m", "--format", "github"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 2, "one annotation, one summary: {}", run.stdout);
    let line = run.stdout.lines().next().expect("annotation");
    assert!(line.starts_with("::warning file=m/0001_a%2Cb%3Ac.sql,line=1,col=1,"), "{line}");
    assert!(line.contains("`or%25d,e:rs%0D%0Ax`"), "{line}");

    let a = parse_annotation(line);
    assert_eq!(a.properties["file"], "m/0001_a,b:c.sql");
    assert_eq!(a.properties["title"], "safemig(create-index-blocking)");
    let json = json(dir.path(), &["m"]);
    let d = &json["diagnostics"][0];
    assert!(d["message"].as_str().is_some_and(|m| m.contains(table)), "{d}");
    assert_eq!(
        a.message,
        format!("{}\nfix: {}", d["message"].as_str().expect("message"), d["fix"]["title"].as_str().expect("fix"))
    );

    // SARIF keeps the text as it is and percent-encodes the URI.
    let (_, log) = sarif(dir.path(), &["m"]);
    assert_eq!(results(&log)[0]["message"]["text"], d["message"]);
    assert_eq!(uri(&results(&log)[0]), "m/0001_a,b%3Ac.sql");
}

#[test]
fn exit_codes_are_those_of_the_other_formats() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "m/0001.sql", INDEX_ON_ORDERS);
    write(dir.path(), "clean/0001.sql", "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);\n");
    for format in ["sarif", "github", "json", "human"] {
        let code = |args: &[&str]| {
            let mut all = vec!["check"];
            all.extend_from_slice(args);
            all.extend_from_slice(&["--format", format]);
            safemig(dir.path(), &all).code
        };
        assert_eq!(code(&["m"]), 1, "{format}: a warning fails by default");
        assert_eq!(code(&["m", "--fail-on", "error"]), 0, "{format}");
        assert_eq!(code(&["m", "--fail-on", "never"]), 0, "{format}");
        assert_eq!(code(&["clean"]), 0, "{format}");
        assert_eq!(code(&["m", "missing.sql"]), 2, "{format}: an unreadable path");
    }

    // A clean run: an empty but valid log, and only the summary line.
    let (code, log) = sarif(dir.path(), &["clean"]);
    assert_eq!(code, 0);
    assert_eq!(results(&log), &Vec::<Value>::new());
    let (code, annotations, summary) = github(dir.path(), &["clean"]);
    assert_eq!(
        (code, annotations.len(), summary.as_str()),
        (0, 0, "safemig: no findings in 1 file; database: not configured")
    );

    // An unreadable path: the readable files are still reported, and the log says the run failed.
    let (code, log) = sarif(dir.path(), &["m", "missing.sql"]);
    assert_eq!(code, 2);
    assert_eq!(results(&log).len(), 1);
    assert_eq!(log["runs"][0]["invocations"][0]["executionSuccessful"], false);
    let (code, annotations, summary) = github(dir.path(), &["m", "missing.sql"]);
    assert_eq!(
        (code, annotations.len(), summary.as_str()),
        (2, 1, "safemig: 1 warning in 1 file; database: not configured")
    );
}
