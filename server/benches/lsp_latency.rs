//! Keystroke-to-diagnostics latency of `safemig lsp` on a large migration.
//!
//! Opens a generated 2,000-statement migration, then types one character at a time into two
//! statements far apart (alternating), and measures the wall time from sending each `didChange`
//! to receiving the `publishDiagnostics` for that version. Each edit waits for its own
//! diagnostics, so every measured version is analysed and published.
//!
//! Then the same edits run in-process through the engine alone, split into its phases, so the
//! report shows how much of the latency is the engine and how much the server around it.
//!
//! Run with `cargo bench --bench lsp_latency`. The target is p95 ≤ 30 ms.

#[path = "../../tests/support/big_migration.rs"]
mod big_migration;
#[path = "../../tests/support/lsp_client.rs"]
mod lsp_client;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::json;

use safemig::config::Config;
use safemig::engine;
use safemig::sql::{Dialect, SqlFile};

use big_migration::migration;
use lsp_client::LspClient;

// The in-process phases run with the binary's allocator, so the two halves of the report compare.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const STATEMENTS: usize = 2_000;
const EDITS: usize = 300;
const URI: &str = "file:///bench/migrations/20240101000000_big.sql";

fn main() {
    let text = migration(STATEMENTS);
    // A column name in an ALTER TABLE and a string in a COMMENT, about 1,400 statements apart.
    let targets = [typing_point(&text, "ADD COLUMN note_30 "), typing_point(&text, "of group 170'")];

    let mut client = LspClient::spawn();
    client.initialize(json!({"processId": null, "rootUri": null, "capabilities": {}}));

    let opened = Instant::now();
    client.open(URI, 1, &text);
    let first = client.diagnostics(URI, Some(1));
    let open_time = opened.elapsed();
    let diagnostics = first["diagnostics"].as_array().map_or(0, Vec::len);

    let mut typed = [0u32; 2];
    let mut latencies = Vec::with_capacity(EDITS);
    for edit in 0..EDITS {
        let version = edit as i64 + 2;
        let which = edit % 2;
        let (line, col) = targets[which];
        let at = (line, col + typed[which]);
        let sent = Instant::now();
        client.change(URI, version, at, at, &keystroke(edit).to_string());
        let published = client.diagnostics(URI, Some(version));
        latencies.push(sent.elapsed());
        typed[which] += 1;
        assert!(
            published["diagnostics"].as_array().is_some_and(|d| d.len() >= diagnostics),
            "version {version} lost findings: {published}"
        );
    }
    let status = client.shutdown_and_exit();
    assert!(status.success(), "the server exited with {status:?}");
    let phases = engine_phases(text.clone(), targets);

    latencies.sort();
    let mut report = String::new();
    let _ = writeln!(
        report,
        "lsp_latency: {} statements, {:.1} KB, {} lines, {} diagnostics",
        STATEMENTS,
        text.len() as f64 / 1024.0,
        text.lines().count(),
        diagnostics
    );
    let _ = writeln!(report, "  didOpen → diagnostics: {:.1} ms", ms(open_time));
    let _ = writeln!(report, "  {EDITS} keystrokes, didChange → publishDiagnostics of that version:");
    for (name, q) in [("p50", 0.50), ("p95", 0.95), ("p99", 0.99)] {
        let _ = writeln!(report, "    {name}: {:.1} ms", ms(percentile(&latencies, q)));
    }
    let _ = writeln!(report, "    max: {:.1} ms", ms(latencies[latencies.len() - 1]));
    let _ = writeln!(report, "  the same keystrokes in-process, engine only (p50 / p95):");
    for (name, mut samples) in phases {
        samples.sort();
        let _ = writeln!(
            report,
            "    {name}: {:.1} / {:.1} ms",
            ms(percentile(&samples, 0.50)),
            ms(percentile(&samples, 0.95))
        );
    }
    print!("{report}");
}

/// The character typed at edit `n`.
fn keystroke(n: usize) -> char {
    char::from(b'a' + (n / 2 % 26) as u8)
}

/// Replays the keystrokes on a string and times the engine on each version: a parse from scratch
/// (what an edit would cost without the incremental path), the incremental parse the server does,
/// and the full incremental analysis (parse plus every rule).
fn engine_phases(mut text: String, targets: [(u32, u32); 2]) -> Vec<(&'static str, Vec<Duration>)> {
    let config = Config::default();
    let settings = config.settings(Dialect::Postgres);
    let mut previous = engine::analyze(&text, &settings, &config, None);
    let offsets = targets.map(|(line, col)| {
        let line_start = text.split_inclusive('\n').take(line as usize).map(str::len).sum::<usize>();
        line_start + col as usize
    });
    assert!(offsets[0] < offsets[1], "the first target comes first in the file");
    let (mut tokenize, mut parse, mut analyze) = (Vec::new(), Vec::new(), Vec::new());
    let mut typed = [0usize; 2];
    for edit in 0..EDITS {
        let which = edit % 2;
        // Typing at the first target shifts the second. ASCII only, so columns are bytes.
        let shift = if which == 1 { typed[0] } else { 0 };
        text.insert(offsets[which] + shift + typed[which], keystroke(edit));
        typed[which] += 1;

        let started = Instant::now();
        drop(SqlFile::parse(&text, Dialect::Postgres, None));
        tokenize.push(started.elapsed());
        let started = Instant::now();
        drop(SqlFile::parse(&text, Dialect::Postgres, Some(&previous.file)));
        parse.push(started.elapsed());
        let started = Instant::now();
        let analysis = engine::analyze(&text, &settings, &config, Some(&previous.file));
        analyze.push(started.elapsed());
        previous = analysis;
    }
    vec![
        ("parse the file from scratch (for comparison)", tokenize),
        ("parse incrementally from the previous version", parse),
        ("analyze incrementally (parse + rules)", analyze),
    ]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The (line, column) just before `needle`'s last character: where typing extends a name or a
/// string.
fn typing_point(text: &str, needle: &str) -> (u32, u32) {
    let at = text.find(needle).expect("the generator writes the needle") + needle.len() - 1;
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    (text[..at].matches('\n').count() as u32, (at - line_start) as u32)
}
