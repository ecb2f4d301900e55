//! Code-action latency of `safemig lsp` on a large migration.
//!
//! A workspace with a migration set: a first migration creates the 50 tables the second one — a
//! generated 2,000-statement migration (`tests/support/big_migration.rs`) — alters, indexes and
//! backfills. The real stdio server opens the big file; then, for findings spread over the whole
//! file, the client asks `textDocument/codeAction` for the finding's range with the finding as
//! context (what an editor does when the cursor rests on a squiggle), and finally for the whole
//! file at once (a "fix all" menu). Each request is timed from sending to its answer.
//!
//! Run with `cargo bench --bench lsp_code_actions`. The target is p95 < 20 ms per request.

#[path = "../../tests/support/big_migration.rs"]
mod big_migration;
#[path = "../../tests/support/lsp_client.rs"]
mod lsp_client;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use big_migration::migration;
use lsp_client::{file_uri, LspClient};

const STATEMENTS: usize = 2_000;
/// Requests at single findings.
const REQUESTS: usize = 400;
/// Requests over the whole file.
const WHOLE_FILE: usize = 20;

fn main() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut base = String::new();
    for n in 0..50 {
        let _ = writeln!(
            base,
            "CREATE TABLE orders_{n} (id bigint PRIMARY KEY, account_id bigint, status text, created_at timestamptz);"
        );
    }
    let migrations = dir.path().join("migrations");
    std::fs::create_dir_all(&migrations).expect("mkdir");
    std::fs::write(migrations.join("0001_base.sql"), base).expect("write");
    let text = migration(STATEMENTS);
    let big = migrations.join("0002_big.sql");
    std::fs::write(&big, &text).expect("write");
    let uri = file_uri(&big);

    let root = file_uri(dir.path());
    let mut client = LspClient::spawn();
    client.initialize(json!({
        "processId": null,
        "rootUri": root,
        "workspaceFolders": [{"uri": root, "name": "bench"}],
        "capabilities": {
            "general": {"positionEncodings": ["utf-16"]},
            "workspace": {"workspaceEdit": {"documentChanges": true, "resourceOperations": ["create"]}}
        },
    }));
    // The project pass has read both migrations from disk (the big one's tables exist), then the
    // editor opens the big one.
    client.diagnostics_where(&uri, |p| p["version"].is_null());
    client.open(&uri, 1, &text);
    let published = client.diagnostics_where(&uri, |p| p["version"] == 1);
    let diagnostics: Vec<Value> = published["diagnostics"].as_array().cloned().unwrap_or_default();
    assert!(diagnostics.len() >= 100, "the generated file has hundreds of findings: {}", diagnostics.len());

    // Findings spread over the file, each asked about REQUESTS / findings times (at least once).
    let rounds = REQUESTS.div_ceil(diagnostics.len());
    let mut at_finding = Vec::with_capacity(REQUESTS);
    let mut actions = 0usize;
    for d in diagnostics.iter().cycle().take(rounds * diagnostics.len()) {
        let params = json!({"textDocument": {"uri": uri}, "range": d["range"], "context": {"diagnostics": [d]}});
        let sent = Instant::now();
        let answer = client.request("textDocument/codeAction", params).expect("codeAction answers");
        at_finding.push(sent.elapsed());
        actions += answer.as_array().map_or(0, Vec::len);
    }
    let lines = text.lines().count() as u32;
    let mut whole = Vec::with_capacity(WHOLE_FILE);
    let mut whole_actions = 0usize;
    let mut whole_bytes = 0usize;
    for _ in 0..WHOLE_FILE {
        let params = json!({
            "textDocument": {"uri": uri},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": lines, "character": 0}},
            "context": {"diagnostics": diagnostics},
        });
        let sent = Instant::now();
        let answer = client.request("textDocument/codeAction", params).expect("codeAction answers");
        whole.push(sent.elapsed());
        whole_actions = answer.as_array().map_or(0, Vec::len);
        whole_bytes = serde_json::to_string(&answer).map_or(0, |j| j.len());
    }
    let status = client.shutdown_and_exit();
    assert!(status.success(), "the server exited with {status:?}");

    // The fixes alone, in-process: every finding of the file, as the whole-file request computes
    // them (without the project: no migration set, no replayed schema).
    let config = safemig::config::Config::default();
    let settings = config.settings(safemig::sql::Dialect::Postgres);
    let analysis = safemig::engine::analyze(&text, &settings, &config, None);
    let mut in_process = Vec::with_capacity(WHOLE_FILE);
    let mut computed = 0usize;
    for _ in 0..WHOLE_FILE {
        let started = Instant::now();
        let ctx = safemig::fixes::FixContext::of(&analysis);
        computed = analysis.findings.iter().map(|f| safemig::fixes::for_finding(f, &ctx).len()).sum();
        in_process.push(started.elapsed());
    }

    let mut report = String::new();
    let _ = writeln!(
        report,
        "lsp_code_actions: {STATEMENTS} statements, {} lines, {} diagnostics",
        lines,
        diagnostics.len()
    );
    let _ = writeln!(report, "  {} requests at one finding ({actions} actions in all):", at_finding.len());
    summary(&mut report, &mut at_finding);
    let _ = writeln!(
        report,
        "  {WHOLE_FILE} requests over the whole file ({whole_actions} actions each, {:.0} KB of JSON):",
        whole_bytes as f64 / 1024.0
    );
    summary(&mut report, &mut whole);
    let _ = writeln!(
        report,
        "  the fixes of all {} findings in-process, no project ({computed} fixes):",
        analysis.findings.len()
    );
    summary(&mut report, &mut in_process);
    print!("{report}");
}

fn summary(report: &mut String, samples: &mut [Duration]) {
    samples.sort();
    for (name, q) in [("p50", 0.50), ("p95", 0.95)] {
        let _ = writeln!(report, "    {name}: {:.2} ms", ms(percentile(samples, q)));
    }
    let _ = writeln!(report, "    max: {:.2} ms", ms(samples[samples.len() - 1]));
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
