//! Loads `../shared/corpus` (see its README): every SQL migration with the dialect `files.tsv`
//! assigns it. Shared by the corpus test and the throughput benchmark.

use std::path::{Path, PathBuf};

use safemig::sql::Dialect;

pub struct CorpusFile {
    #[allow(dead_code)] // read by the corpus test, not by the benchmark
    pub path: PathBuf,
    /// The dialect column of files.tsv (postgres, cockroach, generic, mysql, sqlite, clickhouse).
    pub corpus_dialect: String,
    pub bytes: Vec<u8>,
}

impl CorpusFile {
    /// The dialect safemig checks this file as; `None` for dialects it does not support.
    pub fn dialect(&self) -> Option<Dialect> {
        match self.corpus_dialect.as_str() {
            "postgres" | "cockroach" | "generic" => Some(Dialect::Postgres),
            "mysql" => Some(Dialect::Mysql),
            "sqlite" => Some(Dialect::Sqlite),
            _ => None,
        }
    }
}

/// The corpus directory: `$SAFEMIG_CORPUS`, else `../shared/corpus` next to the repository.
pub fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SAFEMIG_CORPUS") {
        return PathBuf::from(dir);
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let candidates = [repo.join("../shared/corpus"), PathBuf::from("/work/shared/corpus")];
    for c in &candidates {
        if c.join("files.tsv").is_file() {
            return c.clone();
        }
    }
    panic!("the migration corpus was not found (looked in {:?}); set SAFEMIG_CORPUS to its directory", candidates);
}

/// Every SQL file of the corpus, in files.tsv order.
pub fn load() -> Vec<CorpusFile> {
    let dir = corpus_dir();
    let index = std::fs::read_to_string(dir.join("files.tsv")).expect("files.tsv is readable");
    let mut files = Vec::new();
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [_framework, dialect, _repo, kind, path] = cols[..] else { continue };
        if kind != "sql" {
            continue;
        }
        let full = dir.join(path);
        let bytes = std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()));
        files.push(CorpusFile { path: full, corpus_dialect: dialect.to_string(), bytes });
    }
    files
}
