//! `safemig check`: finds the files and the configuration, analyses each file, and reports.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{self, Config, ConfigProblem};
use crate::engine::{self, FileAnalysis, CLI_MAX_BYTES};
use crate::project::{Disk, Project};
use crate::rules::Severity;
use crate::workspace;

use super::database::{self, DatabaseState};
use super::{github, human, json, sarif, CheckArgs, Format, Status};

/// Directories never searched for migrations.
const SKIPPED_DIRS: &[&str] = &[".git", "target", "node_modules"];

/// One analysed file, as the output formats see it.
pub(crate) struct CheckedFile {
    /// The path as the user wrote it (joined with what the directory walk found).
    pub path: String,
    /// The decoded text; `None` when the bytes were not analysed (binary, too large).
    pub text: Option<String>,
    pub analysis: FileAnalysis,
}

/// Counts for the summary line and the exit status.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub files: usize,
    pub by_severity: [usize; 4],
    pub suppressed: usize,
}

impl Tally {
    fn add(&mut self, file: &CheckedFile) {
        self.files += 1;
        for f in &file.analysis.findings {
            self.by_severity[f.severity as usize] += 1;
        }
        self.suppressed += file.analysis.suppressed.len();
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.by_severity[severity as usize]
    }

    fn fails(&self, threshold: Option<Severity>) -> bool {
        let Some(threshold) = threshold else { return false };
        [Severity::Hint, Severity::Info, Severity::Warning, Severity::Error]
            .into_iter()
            .any(|s| s >= threshold && self.count(s) > 0)
    }
}

pub(crate) fn run(args: &CheckArgs, out: &mut dyn Write) -> io::Result<Status> {
    let mut trouble = false;
    let mut config = match load_config(args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(Status::Trouble);
        }
    };
    if let Some(shipped_ref) = &args.shipped_ref {
        config.shipped_ref = Some(shipped_ref.clone());
    }
    let root = project_root(args);
    // Files that belong to a migration set are analysed as part of their ordered history.
    let mut project = Project::open(&root, config.clone());
    if let Some(wrong) = &project.unresolved_ref {
        // Checked before any fix: what counts as shipped (and so read-only) depends on the ref.
        let given_by = if args.shipped_ref.is_some() { "--shipped-ref" } else { "`shipped_ref` in safemig.toml" };
        let listed = match wrong.candidates.as_slice() {
            [] => "the repository has no branches or tags".to_string(),
            names => format!("refs that exist: {}", names.join(", ")),
        };
        eprintln!(
            "error: the shipped ref `{}` ({given_by}) names no commit in this repository ({listed}); fetch it or \
             fix the name",
            wrong.name
        );
        return Ok(Status::Trouble);
    }
    let mut files = collect_files(&args.paths, &mut trouble);
    // The dev database first: its ledger makes the applied migrations read-only for --fix too.
    let (database, live) = database::connect(args, &config, &project);
    if args.fix {
        // What changed goes before the report; machine formats keep stdout for the report alone.
        let mut stderr = io::stderr();
        let log: &mut dyn Write = if args.format == Format::Human { &mut *out } else { &mut stderr };
        let facts = live.as_ref().map(|l| Arc::clone(&l.facts));
        trouble |= super::fix::apply_fixes(&root, &config, &mut files, args.allow_unsafe, facts, log)?;
        project = Project::open(&root, config.clone());
    }
    for message in &project.messages {
        eprintln!("note: {message}");
    }
    if matches!(database, DatabaseState::Unreachable { .. } | DatabaseState::Error { .. }) {
        eprintln!("note: {}; checked without it (no ledger, drift or existing-rows findings)", database.summary());
    }
    let mut in_sets = project.analyze_live(&Disk, None, live.as_ref().map(|l| Arc::clone(&l.facts)));
    // Canonical path → the path the analysis knows the file by.
    let set_paths: HashMap<PathBuf, PathBuf> =
        in_sets.files.keys().filter_map(|path| Some((path.canonicalize().ok()?, path.clone()))).collect();
    if let Some(live) = &live {
        let checked: Vec<&Path> =
            files.iter().filter_map(|f| set_paths.get(&f.canonicalize().ok()?).map(PathBuf::as_path)).collect();
        match live.probe(&project, &in_sets, &checked) {
            // Parses are reused; the rules run again with the probes' outcomes.
            Ok(Some(facts)) => in_sets = project.analyze_live(&Disk, Some(&in_sets), Some(facts)),
            Ok(None) => {}
            Err(e) => eprintln!("note: the data probes (existing-rows-violate) did not run: {e}"),
        }
    }
    let by_canonical: HashMap<PathBuf, Arc<FileAnalysis>> = set_paths
        .into_iter()
        .filter_map(|(canonical, path)| Some((canonical, Arc::clone(&in_sets.files.get(&path)?.analysis))))
        .collect();

    let mut tally = Tally::default();
    let mut report = json::Report::default();
    let mut sarif = (args.format == Format::Sarif).then(|| sarif::Report::new(&config));
    let root = (args.format == Format::Github).then(sarif::RepoRoot::discover);
    let colour = human::use_colour();
    for path in files {
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                trouble = true;
                continue;
            }
        };
        let from_set = path.canonicalize().ok().and_then(|c| by_canonical.get(&c).cloned());
        let (analysis, text) = match from_set {
            // Bytes that are not clean UTF-8 text take the standalone path, which reports them.
            Some(analysis) if engine::decode(&bytes, CLI_MAX_BYTES).1.is_none() => {
                let text = analysis.file.text.to_string();
                (Arc::unwrap_or_clone(analysis), Some(text))
            }
            _ => {
                let standalone = engine::catch_panic(|| {
                    engine::analyze_standalone(&bytes, CLI_MAX_BYTES, &config, |t| project.database_for(&path, t))
                });
                match standalone {
                    Ok((analysis, text, _)) => (analysis, text),
                    // A bug in safemig costs this file its findings, not the others theirs.
                    Err(panic) => {
                        let text = engine::decode(&bytes, CLI_MAX_BYTES).0.map(|t| t.into_owned());
                        let dialect = engine::dialect_for_path(&path, &config);
                        (engine::internal_error(text.as_deref().unwrap_or(""), dialect, &panic), text)
                    }
                }
            }
        };
        drop(bytes);
        let file = CheckedFile { path: display_path(&path), text, analysis };
        tally.add(&file);
        match args.format {
            Format::Human => human::write_file(out, &file, colour)?,
            Format::Json => report.add(&file),
            Format::Sarif => sarif.iter_mut().for_each(|s| s.add(&file)),
            Format::Github => root.iter().try_for_each(|root| github::write_file(out, &file, root))?,
        }
    }
    match args.format {
        Format::Human => human::write_summary(out, &tally, &database)?,
        Format::Json => report.write(out, &database)?,
        Format::Sarif => sarif.into_iter().try_for_each(|s| s.write(out, !trouble, &database))?,
        Format::Github => github::write_summary(out, &tally, &database)?,
    }
    if args.require_database && !database.connected() {
        eprintln!("error: --require-database: {}", database.summary());
        trouble = true;
    }
    Ok(if trouble {
        Status::Trouble
    } else if tally.fails(args.fail_on.threshold()) {
        Status::Findings
    } else {
        Status::Clean
    })
}

/// `--config FILE`, else `safemig.toml` in the nearest ancestor of the first path (or the
/// current directory). Problems inside the file are warnings; an unreadable `--config` is an error.
fn load_config(args: &CheckArgs) -> Result<Config, String> {
    let (config, problems) = match &args.config {
        Some(path) => {
            let text = config::read_config_file(path)
                .map_err(|e| format!("cannot read the configuration file {}: {e}", path.display()))?;
            Config::from_toml(&text, &path.display().to_string())
        }
        None => {
            let start = args.paths.first().map(PathBuf::as_path).unwrap_or(Path::new("."));
            match find_config(start) {
                Some(path) => match config::read_config_file(&path) {
                    Ok(text) => Config::from_toml(&text, &display_path(&relative_to_cwd(&path))),
                    Err(e) => {
                        eprintln!("warning: cannot read {}: {e}; using the defaults", path.display());
                        (Config::default(), Vec::new())
                    }
                },
                None => (Config::default(), Vec::new()),
            }
        }
    };
    for problem in &problems {
        eprintln!("warning: {}", describe_problem(problem));
    }
    Ok(config)
}

/// Where migration sets are discovered: the directory of `--config` or of the discovered
/// `safemig.toml`; else, when the first path is in a migration set, the project around that set
/// ([`workspace::project_root_of`]); else the first path (or its directory), else the current
/// directory.
fn project_root(args: &CheckArgs) -> PathBuf {
    let start = args.paths.first().map(PathBuf::as_path).unwrap_or(Path::new("."));
    let config_dir = match &args.config {
        Some(file) => file.parent().map(Path::to_path_buf),
        None => find_config(start).and_then(|p| p.parent().map(Path::to_path_buf)),
    };
    // A named migration belongs to its set: discover from its project, as a whole check would.
    let config_dir = config_dir.or_else(|| workspace::project_root_of(start));
    let root = config_dir.filter(|d| !d.as_os_str().is_empty()).unwrap_or_else(|| {
        if start.is_dir() {
            start.to_path_buf()
        } else {
            start.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf()
        }
    });
    // Absolute, so that git (run in the root) and the migration paths agree on where files are.
    std::path::absolute(&root).unwrap_or(root)
}

/// `path:line: key: message`, leaving out the parts a problem does not have.
fn describe_problem(p: &ConfigProblem) -> String {
    let mut s = p.source.clone();
    if let Some(line) = p.line {
        s.push_str(&format!(":{line}"));
    }
    if !p.key.is_empty() {
        s.push_str(&format!(": {}", p.key));
    }
    s.push_str(&format!(": {}", p.message));
    s
}

fn find_config(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok().or_else(|| std::path::absolute(start).ok())?;
    let dir = if start.is_dir() { start.as_path() } else { start.parent()? };
    dir.ancestors().map(|d| d.join(config::FILE_NAME)).find(|p| config::config_candidate(p))
}

fn relative_to_cwd(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| cwd.canonicalize().ok())
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
}

/// The files to check, in a deterministic order: explicit files as given, directories searched
/// for `*.sql` in sorted order. Paths that cannot be read are reported and set `trouble`.
fn collect_files(paths: &[PathBuf], trouble: &mut bool) -> Vec<PathBuf> {
    let mut seen = HashSet::new();
    let mut files = Vec::new();
    for path in paths {
        match fs::metadata(path) {
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                *trouble = true;
            }
            Ok(meta) if meta.is_dir() => {
                let mut found = Vec::new();
                walk(path, &mut found, trouble);
                found.sort();
                files.extend(found.into_iter().filter(|f| seen.insert(f.clone())));
            }
            // A file named on the command line is checked whatever its extension.
            Ok(_) => {
                if seen.insert(path.clone()) {
                    files.push(path.clone());
                }
            }
        }
    }
    files
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>, trouble: &mut bool) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            eprintln!("error: cannot read the directory {}: {e}", dir.display());
            *trouble = true;
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            let skipped = entry.file_name().to_str().is_some_and(|n| SKIPPED_DIRS.contains(&n));
            if !skipped {
                walk(&path, found, trouble);
            }
        } else if is_sql(&path) && (kind.is_file() || path.is_file()) {
            // Symlinked files are followed; symlinked directories are not, so a link cycle
            // cannot trap the walk.
            found.push(path);
        }
    }
}

fn is_sql(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("sql"))
}

/// `./migrations/a.sql` → `migrations/a.sql`.
fn display_path(path: &Path) -> String {
    let shown = path.strip_prefix(".").ok().filter(|p| !p.as_os_str().is_empty()).unwrap_or(path);
    shown.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_finds_sql_sorted_and_skips_build_dirs() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        for p in ["b/2.sql", "b/1.SQL", "a.sql", "notes.txt", "target/x.sql", "node_modules/y.sql", ".git/z.sql"] {
            let path = root.join(p);
            fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
            fs::write(&path, "SELECT 1;").expect("write");
        }
        let mut trouble = false;
        let files = collect_files(&[root.to_path_buf(), root.join("a.sql")], &mut trouble);
        let names: Vec<String> =
            files.iter().map(|f| f.strip_prefix(root).expect("under root").display().to_string()).collect();
        assert_eq!(names, ["a.sql", "b/1.SQL", "b/2.sql"]);
        assert!(!trouble);
    }

    #[test]
    fn paths_lose_their_leading_dot() {
        assert_eq!(display_path(Path::new("./m/a.sql")), "m/a.sql");
        assert_eq!(display_path(Path::new(".")), ".");
        assert_eq!(display_path(Path::new("m/a.sql")), "m/a.sql");
    }
}
