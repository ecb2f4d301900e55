//! Throughput of the whole check (split, parse, recognise, every rule, suppressions) over the
//! real-world corpus, on one thread. Run: `cargo bench --bench check_corpus`.
//!
//! Each file is analysed from scratch (no statement cache carried between files), as
//! `safemig check` does. Reports MB/s and statements/s, best and median of the runs.

#[path = "../../tests/support/corpus.rs"]
mod corpus;

use std::time::{Duration, Instant};

use safemig::config::Config;
use safemig::engine;

// The same allocator as the shipped binary (server/src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs per measurement (`SAFEMIG_BENCH_RUNS` overrides, e.g. 1 under callgrind).
fn runs() -> usize {
    std::env::var("SAFEMIG_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(5)
}

fn main() {
    let files = corpus::load();
    let config = Config::default();
    let selected: Vec<&corpus::CorpusFile> = files.iter().filter(|f| f.dialect().is_some()).collect();
    let pg: Vec<&corpus::CorpusFile> = selected.iter().copied().filter(|f| f.corpus_dialect == "postgres").collect();
    println!("corpus: {}", corpus::corpus_dir().display());
    for (label, set) in [("all supported dialects", &selected), ("postgres only", &pg)] {
        let bytes: usize = set.iter().map(|f| f.bytes.len()).sum();
        let runs = runs();
        let mut times = Vec::with_capacity(runs);
        let mut statements = 0usize;
        let mut findings = 0usize;
        for _ in 0..runs {
            statements = 0;
            findings = 0;
            let start = Instant::now();
            for f in set.iter() {
                let settings = config.settings(f.dialect().unwrap_or_default());
                let (analysis, _) = engine::analyze_bytes(&f.bytes, engine::CLI_MAX_BYTES, &settings, &config);
                statements += analysis.file.statements.len();
                findings += analysis.findings.len();
                std::hint::black_box(&analysis);
            }
            times.push(start.elapsed());
        }
        times.sort();
        let best = times[0];
        let median = times[runs / 2];
        let mbps = |d: Duration| bytes as f64 / 1e6 / d.as_secs_f64();
        let sps = |d: Duration| statements as f64 / d.as_secs_f64();
        println!(
            "{label}: {} files, {:.2} MB, {statements} statements, {findings} findings\n  best   {:>8.1} ms  {:>6.1} MB/s  {:>9.0} statements/s\n  median {:>8.1} ms  {:>6.1} MB/s  {:>9.0} statements/s",
            set.len(),
            bytes as f64 / 1e6,
            best.as_secs_f64() * 1e3,
            mbps(best),
            sps(best),
            median.as_secs_f64() * 1e3,
            mbps(median),
            sps(median),
        );
    }
}
