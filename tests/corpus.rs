//! safemig over the real-world corpus in `../shared/corpus` (about 7,000 migrations).
//!
//! - `safemig check` (the built binary) reads the whole corpus without crashing and emits valid JSON;
//! - no error-severity finding on statements that PostgreSQL accepts: every error-severity
//!   `syntax-error` in a PostgreSQL-dialect file is re-checked against the real PostgreSQL server,
//!   and must be rejected by its parser there (SQLSTATE 42601, or an error from scan.l/gram.y);
//! - the `syntax-error` findings per dialect and severity are printed (the numbers to compare when
//!   the parser's verdict changes);
//! - parse coverage (sqlparser parse, or understood from the tokens) is measured, written to
//!   `target/corpus-coverage.txt`, and must reach 99.5% on the PostgreSQL part.

#[path = "support/corpus.rs"]
mod corpus;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;

use safemig::config::Config;
use safemig::engine;
use safemig::rules::Severity;
use safemig::sql::{Dialect, ParseOutcome};

#[test]
fn check_binary_reads_the_whole_corpus() {
    let dir = corpus::corpus_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_safemig"))
        .args(["check", "--format", "json", "--fail-on", "never"])
        .arg(&dir)
        .output()
        .expect("safemig runs");
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object on stdout");
    let files = json["files"].as_array().expect("files array");
    let sql_on_disk = walk_sql(&dir);
    assert_eq!(files.len(), sql_on_disk, "every .sql file is reported once");
    let statements: u64 = files.iter().map(|f| f["statements"].as_u64().unwrap_or(0)).sum();
    // ~15k statements, less those of the files safemig does not check (ClickHouse, CockroachDB:
    // one note each, no statements) and of the other dialects' files of pop sets.
    assert!(statements > 12_500, "the corpus has ~13k statements safemig reads, got {statements}");
    assert!(json["diagnostics"].as_array().is_some_and(|d| !d.is_empty()));

    // What a user sees: safemig's own choice of database, from the layout and the text. A
    // ClickHouse migration is never read as PostgreSQL: it gets one note that it was not checked,
    // and no error.
    let dialect_of: std::collections::HashMap<std::path::PathBuf, String> =
        corpus::load().into_iter().filter_map(|f| Some((f.path.canonicalize().ok()?, f.corpus_dialect))).collect();
    let mut by_dialect: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut clickhouse_errors = Vec::new();
    for d in json["diagnostics"].as_array().expect("diagnostics") {
        let path = std::path::Path::new(d["path"].as_str().unwrap_or_default());
        let dialect = path.canonicalize().ok().and_then(|p| dialect_of.get(&p).cloned()).unwrap_or_default();
        if d["rule"] == "syntax-error" {
            *by_dialect
                .entry((dialect.clone(), d["severity"].as_str().unwrap_or_default().to_string()))
                .or_default() += 1;
        }
        if dialect == "clickhouse" && d["severity"] == "error" {
            clickhouse_errors.push(format!("{} {}", path.display(), d["message"]));
        }
    }
    eprintln!("`safemig check` syntax-error findings by corpus dialect and severity: {by_dialect:?}");
    assert!(clickhouse_errors.is_empty(), "errors on ClickHouse migrations:\n{}", clickhouse_errors.join("\n"));
    let clickhouse_files = dialect_of.values().filter(|d| *d == "clickhouse").count();
    let notes = by_dialect.get(&("clickhouse".to_string(), "info".to_string())).copied().unwrap_or(0);
    assert_eq!(notes, clickhouse_files, "one not-checked note per ClickHouse file");
}

fn walk_sql(dir: &std::path::Path) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "sql") {
                n += 1;
            }
        }
    }
    n
}

#[derive(Default)]
struct Coverage {
    files: usize,
    statements: usize,
    parsed: usize,
    understood: usize,
    invalid: usize,
}

impl Coverage {
    /// Share of the statements that are valid SQL (all but the confirmed syntax errors) that
    /// sqlparser parsed or the token fallback understood.
    fn covered(&self) -> f64 {
        (self.parsed + self.understood) as f64 / (self.statements - self.invalid).max(1) as f64
    }
    fn parsed_share(&self) -> f64 {
        self.parsed as f64 / (self.statements - self.invalid).max(1) as f64
    }
}

/// A statement safemig reports at error severity.
struct ErrorFinding {
    path: String,
    rule: &'static str,
    message: String,
    statement: String,
}

#[test]
fn no_error_findings_on_valid_sql_and_coverage_target() {
    let files = corpus::load();
    let config = Config::default();
    let mut coverage: BTreeMap<String, Coverage> = BTreeMap::new();
    let mut pg_errors: Vec<ErrorFinding> = Vec::new();
    let mut other_errors: Vec<ErrorFinding> = Vec::new();
    // `syntax-error` findings per corpus dialect and severity: the numbers a change of the
    // parser's verdict is judged by.
    let mut syntax_findings: BTreeMap<(String, &'static str), usize> = BTreeMap::new();
    for f in &files {
        let Some(dialect) = f.dialect() else { continue };
        let settings = config.settings(dialect);
        let (analysis, text) = engine::analyze_bytes(&f.bytes, engine::CLI_MAX_BYTES, &settings, &config);
        let text = text.unwrap_or_default();
        let cov = coverage.entry(f.corpus_dialect.clone()).or_default();
        cov.files += 1;
        for s in &analysis.file.statements {
            if matches!(s.kind(), safemig::sql::StatementKind::Empty) {
                continue;
            }
            cov.statements += 1;
            match s.parsed.outcome {
                ParseOutcome::Parsed => cov.parsed += 1,
                ParseOutcome::Unsupported { .. } => cov.understood += 1,
                ParseOutcome::Invalid { .. } => cov.invalid += 1,
            }
        }
        for finding in analysis.findings.iter().filter(|x| x.rule == "syntax-error") {
            *syntax_findings.entry((f.corpus_dialect.clone(), finding.severity.name())).or_default() += 1;
        }
        for finding in analysis.findings.iter().filter(|x| x.severity == Severity::Error) {
            let statement = analysis
                .file
                .statements
                .get(finding.statement)
                .map(|s| text[s.range.clone()].to_string())
                .unwrap_or_default();
            let e = ErrorFinding {
                path: f.path.display().to_string(),
                rule: finding.rule,
                message: finding.message.clone(),
                statement,
            };
            if dialect == Dialect::Postgres && f.corpus_dialect == "postgres" && finding.rule == "syntax-error" {
                pg_errors.push(e);
            } else {
                other_errors.push(e);
            }
        }
    }

    let mut report = String::new();
    writeln!(
        report,
        "dialect      files  statements  parsed  understood  invalid  sqlparser  parsed-or-understood (of valid SQL)"
    )
    .ok();
    for (d, c) in &coverage {
        writeln!(
            report,
            "{d:<12} {:>5}  {:>10}  {:>6}  {:>10}  {:>7}  {:>8.2}%  {:>8.2}%",
            c.files,
            c.statements,
            c.parsed,
            c.understood,
            c.invalid,
            c.parsed_share() * 100.0,
            c.covered() * 100.0
        )
        .ok();
    }
    writeln!(report, "invalid = a real syntax error (PostgreSQL files: PostgreSQL's own parser says so, and the server confirms it).").ok();
    writeln!(report, "syntax-error findings by corpus dialect and severity:").ok();
    for ((d, severity), n) in &syntax_findings {
        writeln!(report, "  {d:<12} {severity:<8} {n:>6}").ok();
    }
    let target_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    std::fs::create_dir_all(&target_dir).ok();
    std::fs::write(target_dir.join("corpus-coverage.txt"), &report).ok();
    eprintln!("{report}");

    // Error findings outside PostgreSQL syntax errors: none allowed on production SQL, except
    // real syntax errors in MySQL/SQLite files (listed, not verifiable against PostgreSQL).
    let unexpected: Vec<&ErrorFinding> = other_errors.iter().filter(|e| e.rule != "syntax-error").collect();
    assert!(
        unexpected.is_empty(),
        "{} error-severity findings on corpus SQL that ran in production:\n{}",
        unexpected.len(),
        unexpected
            .iter()
            .take(20)
            .map(|e| format!("{} [{}] {}\n  {}\n", e.path, e.rule, e.message, e.statement))
            .collect::<String>()
    );
    for e in other_errors.iter().filter(|e| e.rule == "syntax-error") {
        eprintln!("non-PostgreSQL syntax error (unverified): {} {}", e.path, e.message);
    }

    // Every PostgreSQL syntax error must be one for PostgreSQL itself.
    let accepted = postgres_accepts(&pg_errors);
    assert!(
        accepted.is_empty(),
        "{} statements reported as syntax errors are accepted by PostgreSQL:\n{}",
        accepted.len(),
        accepted
            .iter()
            .take(20)
            .map(|(e, why)| format!("{} ({why}): {}\n  {}\n", e.path, e.message, e.statement))
            .collect::<String>()
    );

    let pg = &coverage["postgres"];
    assert!(pg.covered() >= 0.995, "PostgreSQL coverage {:.2}% is below 99.5%\n{report}", pg.covered() * 100.0);
}

/// Runs each statement in a rolled-back transaction on a throwaway database and returns those
/// PostgreSQL's parser did not reject (SQLSTATE 42601, or any error raised by the scanner or the
/// grammar). Only statements safemig calls syntax errors run here: PostgreSQL stops them before
/// they execute.
fn postgres_accepts(errors: &[ErrorFinding]) -> Vec<(&ErrorFinding, String)> {
    if errors.is_empty() {
        return Vec::new();
    }
    let db = TempDatabase::create();
    let mut client = db.connect();
    let mut accepted = Vec::new();
    for e in errors {
        let mut tx = client.transaction().expect("BEGIN");
        tx.batch_execute("SET LOCAL check_function_bodies = off; SET LOCAL statement_timeout = '5s'").expect("SET");
        match tx.simple_query(&e.statement) {
            Ok(_) => accepted.push((e, "PostgreSQL ran it".to_string())),
            Err(err) => match (err.code(), err.as_db_error().and_then(|db| db.file())) {
                (Some(code), _) if *code == postgres::error::SqlState::SYNTAX_ERROR => {}
                // Rejected by the raw parser with another SQLSTATE (a grammar-level check).
                (Some(_), Some("scan.l" | "gram.y" | "parser.c" | "scansup.c")) => {}
                (Some(code), _) => {
                    accepted.push((e, format!("PostgreSQL parsed it, then failed with {}", code.code())))
                }
                (None, _) => accepted.push((e, format!("no SQLSTATE: {err}"))),
            },
        }
        let _ = tx.rollback();
    }
    accepted
}

/// A uniquely named database on the local PostgreSQL, dropped on drop.
struct TempDatabase {
    name: String,
}

const ADMIN_URL: &str = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=10";

impl TempDatabase {
    fn create() -> Self {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let name = format!("safemig_corpus_{}_{}", std::process::id(), nanos);
        let mut admin = postgres::Client::connect(ADMIN_URL, postgres::NoTls)
            .expect("PostgreSQL must run on 127.0.0.1:5432 with trust auth for user postgres (.ci/run starts it)");
        admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("CREATE DATABASE");
        TempDatabase { name }
    }

    fn connect(&self) -> postgres::Client {
        let url = format!("host=127.0.0.1 port=5432 user=postgres dbname={} connect_timeout=10", self.name);
        postgres::Client::connect(&url, postgres::NoTls).expect("connect to the test database")
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(ADMIN_URL, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

// ---- quick fixes over the corpus --------------------------------------------------------------

/// One fix that broke one of the three promises.
struct FixFailure {
    path: String,
    rule: &'static str,
    title: String,
    what: String,
}

/// Error-severity `syntax-error` findings: statements the fix made unreadable.
fn syntax_errors(analysis: &safemig::engine::FileAnalysis) -> usize {
    analysis.findings.iter().filter(|f| f.rule == "syntax-error" && f.severity == Severity::Error).count()
}

fn count(analysis: &safemig::engine::FileAnalysis, rule: &str) -> usize {
    analysis.findings.iter().filter(|f| f.rule == rule).count()
}

/// The schema after the up part of `file` (at `path` in `set`), from the schema before it.
fn schema_after(
    before: &dyn safemig::rules::SchemaView,
    set: &safemig::workspace::MigrationSet,
    path: &std::path::Path,
    file: &safemig::sql::SqlFile,
) -> safemig::schema::Schema {
    let mut schema = before.replayed().cloned().unwrap_or_else(|| safemig::schema::Schema::new(set.dialect));
    let sections = safemig::workspace::frameworks::framework(set.framework).sections(path, &file.text);
    let origin = safemig::schema::Origin::here(1);
    for s in &file.statements {
        let up = sections
            .iter()
            .find(|x| x.range.contains(&s.range.start))
            .is_none_or(|x| x.direction == safemig::workspace::Direction::Up);
        if up {
            schema.apply(s, &origin);
        }
    }
    schema
}

/// Every fixable finding in the corpus, in its migration set (framework, replayed schema): each
/// of its fixes is computed without a panic, its edits leave the file readable (no new
/// error-severity syntax error), its rule fires fewer times in the file, and every `.sql` file it
/// creates is readable and free of the rule. The fixed file is re-analysed over the schema the
/// original started from, with the settings its text now gives it (an opt-out header); the
/// migrations it creates, in name order, each over that schema with the up parts of the fixed
/// file and of the created ones before it folded in (they run right after the file, or for a
/// history fix after the newest migration: tables in between are unknown to the check). A fix that edits a framework's configuration file (Flyway `.sql.conf`,
/// Diesel `metadata.toml`) is checked with the configuration on disk.
/// The counts go to `target/corpus-fixes.txt`.
#[test]
fn every_fix_on_the_corpus_parses_and_silences_its_rule() {
    use safemig::fixes::{self, FileEdit, FixContext, Place};
    use safemig::project::{Disk, Project};

    let dir = corpus::corpus_dir();
    let config = Config::default();
    let project = Project::open(&dir, config.clone());
    let analysis = project.analyze(&Disk, None);
    let mut paths: Vec<_> = analysis.files.keys().cloned().collect();
    paths.sort();

    let (mut findings, mut fixable, mut fixes_tried) = (0usize, 0usize, 0usize);
    let mut by_rule: BTreeMap<&'static str, (usize, usize)> = BTreeMap::new();
    // "rule fixed → rule new": how often, and one example.
    let mut new_rules: BTreeMap<String, (usize, String)> = BTreeMap::new();
    let mut config_edits = 0usize;
    // Renumbering fixes only rename files: whether the history rule goes quiet needs the set's
    // next analysis (`tests/lsp_e2e/history.rs`, `server/tests/cli.rs` check it), not this one.
    let mut renames = 0usize;
    let mut failures: Vec<FixFailure> = Vec::new();
    // Fixes the pipeline refuses (what an editor and `check --fix` never see), by rule and why.
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    let mut verified = 0usize;
    // "rule fixed → rule the file-by-file check sees more of", for fixes the set check passed.
    let mut disagree: BTreeMap<String, usize> = BTreeMap::new();
    // Verifying a fix analyses its set again from the fixed file on: in a debug build that is
    // minutes over the longest sets of the corpus. By default the sets of at most
    // `VERIFY_SETS_UP_TO` migrations are verified (the report says how many fixes that leaves
    // out); SAFEMIG_CORPUS_VERIFY_ALL=1 verifies every fix.
    const VERIFY_SETS_UP_TO: usize = 200;
    let verify_all = std::env::var_os("SAFEMIG_CORPUS_VERIFY_ALL").is_some();
    let mut unverified = 0usize;
    for path in &paths {
        let file = &analysis.files[path];
        let set = &project.sets[file.set];
        let verify_here = verify_all || set.migrations.len() <= VERIFY_SETS_UP_TO;
        let verifier = std::cell::OnceCell::new();
        let verifier = || {
            verifier.get_or_init(|| {
                verify_here
                    .then(|| safemig::fixes::verify::Verifier::new(&project, &Disk, Some(&analysis), None, path))
                    .flatten()
            })
        };
        let schema = analysis.schema_for(path);
        let place = Place { path, set, sources: &Disk };
        let mut ctx = FixContext::of(&file.analysis).at(place);
        if let Some(schema) = &schema {
            ctx = ctx.with_schema(schema);
        }
        let view: &dyn safemig::rules::SchemaView = match &schema {
            Some(s) => s,
            None => &safemig::rules::NoSchema,
        };
        let text = &file.analysis.file.text;
        for finding in &file.analysis.findings {
            findings += 1;
            let computed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fixes::for_finding(finding, &ctx)));
            let fail = |title: &str, what: String| FixFailure {
                path: path.strip_prefix(&dir).unwrap_or(path).display().to_string(),
                rule: finding.rule,
                title: title.to_string(),
                what,
            };
            let offered = match computed {
                Ok(offered) => offered,
                Err(_) => {
                    failures.push(fail("-", "computing the fixes panicked".into()));
                    continue;
                }
            };
            if offered.is_empty() {
                continue;
            }
            fixable += 1;
            let entry = by_rule.entry(finding.rule).or_default();
            entry.0 += 1;
            entry.1 += offered.len();
            for fix in &offered {
                fixes_tried += 1;
                // The pipeline's verdict over the whole set: an offered fix adds no finding
                // anywhere. What it lets through is checked again below, file by file.
                let passed = match verifier().as_ref().map(|v| v.check(finding, fix, false)) {
                    Some(Ok(())) => true,
                    Some(Err(rejected)) => {
                        let why = match &rejected {
                            safemig::fixes::verify::Rejected::AddsFinding { rule, .. } => format!("adds {rule}"),
                            other => other.to_string().split(':').next().unwrap_or_default().to_string(),
                        };
                        *refused.entry(format!("{}: {why}", finding.rule)).or_default() += 1;
                        false
                    }
                    None => {
                        unverified += usize::from(!verify_here);
                        false
                    }
                };
                verified += usize::from(passed);
                let fixed = fixes::apply(text, &fix.edits);
                // An opt-out the fix wrote into the file changes how it runs.
                let settings = project.settings_for(set, path, &fixed);
                let after = engine::analyze_with_schema(&fixed, &settings, &config, view, None);
                // A fix that edits a framework's configuration file changes how the file runs in
                // a way this in-memory check cannot see: its new findings are not counted.
                let edits_config = fix.edits.iter().any(|e| match e {
                    FileEdit::ReplaceIn { .. } | FileEdit::Rename { .. } => true,
                    FileEdit::Create { path, .. } => path.extension().is_none_or(|e| e != "sql"),
                    FileEdit::Replace { .. } => false,
                });
                if syntax_errors(&after) > syntax_errors(&file.analysis) {
                    failures.push(fail(&fix.title, format!("the fixed file does not parse:\n{fixed}")));
                }
                // Its rule is re-checked where the fix is all in this file and the new files.
                if fix.edits.iter().any(|e| matches!(e, FileEdit::Replace { .. }))
                    && !edits_config
                    && count(&after, finding.rule) >= count(&file.analysis, finding.rule)
                {
                    failures.push(fail(&fix.title, format!("{} still fires as often:\n{fixed}", finding.rule)));
                }
                if fix.edits.iter().any(|e| matches!(e, FileEdit::Rename { .. })) {
                    renames += 1;
                }
                if edits_config {
                    config_edits += 1;
                } else {
                    for code in after.findings.iter().map(|f| f.rule) {
                        if count(&file.analysis, code) == 0 {
                            let example =
                                format!("{} `{}`", path.strip_prefix(&dir).unwrap_or(path).display(), fix.title);
                            new_rules.entry(format!("{} → {code}", finding.rule)).or_insert((0, example)).0 += 1;
                        }
                    }
                }
                // Created migrations run in name order after the fixed file, each over the schema
                // the ones before it leave.
                let mut created: Vec<(&std::path::PathBuf, &String)> = fix
                    .edits
                    .iter()
                    .filter_map(|e| match e {
                        FileEdit::Create { path, text } if path.extension().is_some_and(|e| e == "sql") => {
                            Some((path, text))
                        }
                        _ => None,
                    })
                    .collect();
                created.sort();
                let mut later = schema_after(view, set, path, &after.file);
                // Rule → findings in the fixed file and the files it creates.
                let mut unit: BTreeMap<&'static str, usize> = BTreeMap::new();
                for f in &after.findings {
                    *unit.entry(f.rule).or_default() += 1;
                }
                for (created, new) in created {
                    if created.exists() {
                        failures.push(fail(&fix.title, format!("it would overwrite {}", created.display())));
                    }
                    let settings = project.settings_for(set, created, new);
                    let made = engine::analyze_with_schema(new, &settings, &config, &later, None);
                    later = schema_after(&later, set, created, &made.file);
                    if syntax_errors(&made) > 0 {
                        failures.push(fail(&fix.title, format!("{} does not parse:\n{new}", created.display())));
                    }
                    for f in &made.findings {
                        *unit.entry(f.rule).or_default() += 1;
                    }
                    if count(&made, finding.rule) > 0 {
                        failures
                            .push(fail(&fix.title, format!("{} fires in {}:\n{new}", finding.rule, created.display())));
                    }
                }
                // The same question asked file by file (no history, the created files over the
                // schema the fixed one leaves): where it disagrees with the set's verdict, the
                // report lists it for a look.
                if passed && !edits_config {
                    for (rule, n) in &unit {
                        if *n > count(&file.analysis, rule) {
                            *disagree.entry(format!("{} → {rule}", finding.rule)).or_default() += 1;
                        }
                    }
                }
            }
        }
    }

    let mut report = String::new();
    let _ = writeln!(
        report,
        "{} migration files, {findings} findings, {fixable} with a fix, {fixes_tried} fixes applied, {} failed",
        paths.len(),
        failures.len()
    );
    let _ = writeln!(report, "  ({renames} of the fixes only rename files: checked for panics here, not re-analysed)");
    let _ = writeln!(
        report,
        "{verified} fixes pass the pipeline's verification over their whole set; {} are refused (never offered); \
         {unverified} in sets of more than {VERIFY_SETS_UP_TO} migrations not verified here (SAFEMIG_CORPUS_VERIFY_ALL=1):",
        fixes_tried - verified - unverified
    );
    for (why, n) in &refused {
        let _ = writeln!(report, "  refused {n}× {why}");
    }
    let _ = writeln!(report, "passed fixes the file-by-file check sees adding a rule (for a look): {}", disagree.len());
    for (pair, n) in &disagree {
        let _ = writeln!(report, "  {n}× {pair}");
    }
    for (rule, (n, offered)) in &by_rule {
        let _ = writeln!(report, "  {rule}: {n} findings fixable, {offered} fixes");
    }
    let _ = writeln!(
        report,
        "findings new to the fixed file (rule fixed → rule new: count, an example; not counted: {config_edits} fixes that rename files or edit a framework's configuration file, whose effect needs the next analysis of the set):"
    );
    for (pair, (n, example)) in &new_rules {
        let _ = writeln!(report, "  {pair}: {n}, e.g. {example}");
    }
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for f in &failures {
        *kinds.entry(format!("{}: {}", f.rule, f.what.lines().next().unwrap_or(""))).or_default() += 1;
    }
    for (kind, n) in &kinds {
        let _ = writeln!(report, "  FAILED {n}× {kind}");
    }
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/corpus-fixes.txt");
    let _ = std::fs::write(&out, &report);
    print!("{report}");
    let shown: Vec<String> = failures
        .iter()
        .take(if std::env::var_os("SAFEMIG_ALL_FAILURES").is_some() { usize::MAX } else { 10 })
        .map(|f| format!("{} [{}] `{}`: {}", f.path, f.rule, f.title, f.what))
        .collect();
    assert!(failures.is_empty(), "{} fixes failed; the first:\n{}", failures.len(), shown.join("\n\n"));
    assert!(fixable > 100, "the corpus has hundreds of fixable findings, got {fixable}");
}
