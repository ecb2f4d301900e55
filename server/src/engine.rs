//! One file in, findings out. Everything here is synchronous and free of LSP types, so the CLI,
//! the language server and tests drive the same code with plain strings.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use crate::config::Config;
use crate::rules::context::NoSchema;
use crate::rules::{self, suppression, Finding, MigrationContext, MigrationSettings, SchemaView, Severity};
use crate::sql::sniff::{sniff, OtherDatabase, Sniff, Sniffed};
use crate::sql::{Dialect, ParseOutcome, SqlFile};
use crate::workspace::frameworks::pop::{self, Tag};

/// Largest file the language server analyses on every keystroke.
pub const LSP_MAX_BYTES: usize = 8 * 1024 * 1024;
/// Largest file `safemig check` analyses.
pub const CLI_MAX_BYTES: usize = 256 * 1024 * 1024;

/// A finding that a suppression comment silenced, with the reason given there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressed {
    pub finding: Finding,
    pub reason: Option<String>,
}

/// The analysis of one file.
#[derive(Debug, Clone, Default)]
pub struct FileAnalysis {
    /// Shared with the project's parse of the same text: no copy per analysis.
    pub file: Arc<SqlFile>,
    /// Sorted by position.
    pub findings: Vec<Finding>,
    pub suppressed: Vec<Suppressed>,
    /// How the file runs (dialect, transaction wrapping): what its quick fixes must respect.
    pub settings: MigrationSettings,
}

impl FileAnalysis {
    pub fn parse_errors(&self) -> usize {
        self.file.statements.iter().filter(|s| !s.parsed.is_parsed()).count()
    }
}

/// What was wrong with the bytes before any SQL was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputProblem {
    Binary { offset: usize },
    InvalidUtf8 { offset: usize },
    TooLarge { bytes: usize, limit: usize },
}

impl InputProblem {
    pub fn message(&self) -> String {
        match self {
            InputProblem::Binary { offset } => {
                format!("this is a binary file (NUL byte at offset {offset}), not a SQL migration; it was not checked")
            }
            InputProblem::InvalidUtf8 { offset } => format!(
                "the file is not valid UTF-8 (first bad byte at offset {offset}); it was checked with the bad bytes replaced by U+FFFD"
            ),
            InputProblem::TooLarge { bytes, limit } => format!(
                "the file is {:.1} MB, more than the {:.0} MB safemig analyses here; run `safemig check` on it instead",
                *bytes as f64 / 1e6,
                *limit as f64 / 1e6
            ),
        }
    }
}

/// Decodes file bytes. Binary and oversized input yield no text to analyse.
pub fn decode(bytes: &[u8], limit: usize) -> (Option<Cow<'_, str>>, Option<InputProblem>) {
    if bytes.len() > limit {
        return (None, Some(InputProblem::TooLarge { bytes: bytes.len(), limit }));
    }
    let head = &bytes[..bytes.len().min(8192)];
    if let Some(offset) = head.iter().position(|b| *b == 0) {
        return (None, Some(InputProblem::Binary { offset }));
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => (Some(Cow::Borrowed(s)), None),
        Err(e) => {
            let offset = e.valid_up_to();
            (Some(String::from_utf8_lossy(bytes)), Some(InputProblem::InvalidUtf8 { offset }))
        }
    }
}

/// The dialect for a file: the dialect a pop/popx file name is tagged with (`….mysql.up.sql`:
/// the runner runs it only on MySQL, whatever the project's dialect), then config, then what its
/// path says (`mysql/…`, `sqlite/…`), else PostgreSQL.
pub fn dialect_for_path(path: &Path, config: &Config) -> Dialect {
    if let Some(d) = pop::tag_of(path).and_then(Tag::dialect) {
        return d;
    }
    if let Some(d) = config.dialect {
        return d;
    }
    let lower = path.to_string_lossy().to_ascii_lowercase();
    let parts: Vec<&str> = lower.split(['/', '\\', '.', '_', '-']).collect();
    if parts.iter().any(|p| *p == "mysql" || *p == "mariadb") {
        Dialect::Mysql
    } else if parts.iter().any(|p| *p == "sqlite" || *p == "sqlite3") {
        Dialect::Sqlite
    } else {
        Dialect::Postgres
    }
}

/// What a file outside every migration set is written for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A dialect safemig checks.
    Checked(Dialect),
    /// A database safemig does not check, and what says so ("`ENGINE = MergeTree` on line 3",
    /// "its directory's name").
    Unchecked(OtherDatabase, String),
}

/// The database a file is written for: a pop/popx dialect tag in its name first (`….mysql.up.sql`,
/// `….cockroach.up.sql`); then `dialect` in safemig.toml; then its path (a directory or file name
/// that says ClickHouse or CockroachDB, then [`dialect_for_path`]'s MySQL and SQLite names); then
/// the markers in its text ([`crate::sql::sniff`]); else PostgreSQL.
pub fn database_for(path: &Path, text: &str, config: &Config) -> Database {
    // A pop/popx file name's tag: the runner runs it only on that database, whatever the
    // project's dialect.
    match pop::tag_of(path) {
        Some(Tag::Cockroach) => {
            return Database::Unchecked(OtherDatabase::CockroachDb, "`.cockroach.` in its pop/popx file name".into())
        }
        Some(tag) => {
            if let Some(d) = tag.dialect() {
                return Database::Checked(d);
            }
        }
        None => {}
    }
    if let Some(d) = config.dialect {
        return Database::Checked(d);
    }
    if let Some(other) = OtherDatabase::named_by(path).or_else(|| path.parent().and_then(OtherDatabase::named_by)) {
        return Database::Unchecked(other, "its path".to_string());
    }
    match dialect_for_path(path, config) {
        Dialect::Postgres => {}
        named => return Database::Checked(named),
    }
    match sniff(text) {
        Some(s @ Sniff { verdict: Sniffed::Other(other), .. }) => Database::Unchecked(other, s.describe()),
        Some(Sniff { verdict: Sniffed::Dialect(d), .. }) => Database::Checked(d),
        None => Database::Checked(Dialect::Postgres),
    }
}

/// The analysis of a file written for a database safemig does not check: one `info` note that
/// says so, at its start (none when `syntax-error` is off).
pub fn unchecked_analysis(other: OtherDatabase, evidence: &str, config: &Config) -> FileAnalysis {
    let note = Finding {
        rule: rules::syntax_error::RULE.id,
        severity: Severity::Info,
        range: 0..0,
        statement: 0,
        message: format!(
            "this is {} SQL ({evidence} says so): safemig checks PostgreSQL, MySQL and SQLite migrations, so it was not checked; \
             set `dialect` in safemig.toml to check it as one of those",
            other.name()
        ),
        fix: None,
    };
    let findings = config.level(&rules::syntax_error::RULE).map(|_| note).into_iter().collect();
    FileAnalysis { findings, ..FileAnalysis::default() }
}

/// Runs one file's analysis, containing a panic in it: a bug in safemig must cost that file its
/// findings, not every other file theirs (nor the language server its project analysis). On a
/// panic the file gets one `internal-error` finding, at its start, with the panic's message and a
/// request for a bug report; `text` and `dialect` are the file's.
pub fn contained(text: &str, dialect: Dialect, analysis: impl FnOnce() -> FileAnalysis) -> FileAnalysis {
    match catch_panic(analysis) {
        Ok(analysis) => analysis,
        Err(panic) => internal_error(text, dialect, &panic),
    }
}

/// Runs `work`, turning a panic in it into `Err(its message)`.
pub fn catch_panic<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    // Unwind safety: the work builds its result from shared, read-only inputs (texts, parses,
    // schemas); a half-run analysis leaves nothing behind but what it allocated.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).map_err(panic_message)
}

/// A panic's message, from its payload.
pub fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_string()
    }
}

/// The analysis of a file safemig failed on: its text, no statements, and the `internal-error`
/// finding (reported whatever the config says: the file was not checked either way).
pub fn internal_error(text: &str, dialect: Dialect, panic: &str) -> FileAnalysis {
    let finding = Finding {
        rule: rules::internal_error::RULE.id,
        severity: rules::internal_error::RULE.default_severity,
        range: 0..0,
        statement: 0,
        message: rules::internal_error::message(panic),
        fix: None,
    };
    let file = Arc::new(SqlFile { dialect, text: Arc::from(text), statements: Vec::new(), comments: Vec::new() });
    let settings = MigrationSettings { dialect, ..MigrationSettings::default() };
    FileAnalysis { file, findings: vec![finding], suppressed: Vec::new(), settings }
}

/// Unit tests only: a text that holds `-- safemig-test: panic in <stage>` makes that stage panic,
/// so the containment of a bug can be tested without keeping one.
#[cfg(test)]
pub(crate) fn test_panic(text: &str, stage: &str) {
    if text.contains(&format!("-- safemig-test: panic in {stage}")) {
        panic!("a test panic in {stage}");
    }
}

/// A file outside every migration set, from its text, for the database [`database_for`] (or
/// `Project::database_for`) gives it.
pub fn analyze_in(database: Database, text: &str, config: &Config, previous: Option<&SqlFile>) -> FileAnalysis {
    match database {
        Database::Checked(dialect) => analyze(text, &config.settings(dialect), config, previous),
        Database::Unchecked(other, evidence) => unchecked_analysis(other, &evidence, config),
    }
}

/// A file outside every migration set, from its bytes: decoded ([`analyze_bytes`]) and analysed
/// in the dialect `database` gives its text ([`database_for`], or the project's
/// `Project::database_for`), or, for a database safemig does not check, only the finding that
/// says so. The settings are `None` when it was not analysed.
pub fn analyze_standalone(
    bytes: &[u8],
    limit: usize,
    config: &Config,
    database: impl FnOnce(&str) -> Database,
) -> (FileAnalysis, Option<String>, Option<MigrationSettings>) {
    let (text, _) = decode(bytes, limit);
    // Undecodable bytes are reported by `analyze_bytes`, in PostgreSQL's dialect.
    let database = text.as_deref().map_or(Database::Checked(Dialect::Postgres), database);
    match database {
        Database::Unchecked(other, evidence) => {
            (unchecked_analysis(other, &evidence, config), text.map(Cow::into_owned), None)
        }
        Database::Checked(dialect) => {
            let settings = config.settings(dialect);
            let (analysis, text) = analyze_bytes(bytes, limit, &settings, config);
            (analysis, text, Some(settings))
        }
    }
}

/// Analyses one migration's text.
pub fn analyze(text: &str, settings: &MigrationSettings, config: &Config, previous: Option<&SqlFile>) -> FileAnalysis {
    analyze_with_schema(text, settings, config, &NoSchema, previous)
}

pub fn analyze_with_schema(
    text: &str,
    settings: &MigrationSettings,
    config: &Config,
    schema: &dyn SchemaView,
    previous: Option<&SqlFile>,
) -> FileAnalysis {
    let file = Arc::new(SqlFile::parse(text, settings.dialect, previous));
    analyze_parsed(file, settings, config, schema, Vec::new())
}

/// Runs the rules on an already parsed file. `external` are findings about this file that were
/// computed across the migration set (history rules); they get configured levels and
/// suppressions like any other finding.
pub fn analyze_parsed(
    file: Arc<SqlFile>,
    settings: &MigrationSettings,
    config: &Config,
    schema: &dyn SchemaView,
    external: Vec<Finding>,
) -> FileAnalysis {
    #[cfg(test)]
    test_panic(&file.text, "rules");
    let ctx = MigrationContext::new(&file, settings, schema);
    let active: Vec<(&rules::Rule, Severity)> = rules::all()
        .iter()
        .filter(|r| r.dialects.contains(&settings.dialect))
        .filter_map(|r| config.level(r).map(|sev| (*r, sev)))
        .collect();
    let mut raw = Vec::new();
    for index in 0..file.statements.len() {
        let sctx = ctx.statement(index);
        for (rule, level) in &active {
            for mut f in sctx.run(rule) {
                // A configured level replaces the default; a level the rule chose for the case
                // (a parser limitation, a tiny table) stays.
                if f.severity == rule.default_severity {
                    f.severity = *level;
                }
                raw.push(f);
            }
        }
    }
    drop(ctx);
    if let Some(small) = schema.small_table_rows() {
        for f in &mut raw {
            relax_on_small_table(f, &file, schema, small);
        }
    }
    for mut f in external {
        let Some(rule) = rules::by_id(f.rule) else { continue };
        let Some(level) = config.level(rule) else { continue };
        if f.severity == rule.default_severity {
            f.severity = level;
        }
        raw.push(f);
    }
    let suppressions = suppression::collect(&file, &file.text);
    let (mut findings, suppressed) = rules::unused_suppression::apply(raw, &suppressions, config, &file);
    findings.sort_by_key(|f| (f.range.start, f.range.end, f.rule));
    FileAnalysis { file, findings, suppressed, settings: settings.clone() }
}

/// A lock finding on tables the live database knows to be small drops to info: the lock is held
/// for as long as it takes to scan or rewrite a few thousand rows. The message says why.
fn relax_on_small_table(f: &mut Finding, file: &SqlFile, schema: &dyn SchemaView, small: u64) {
    let is_lock_rule = rules::by_id(f.rule).is_some_and(|r| r.category == rules::Category::Locks);
    if !is_lock_rule || f.severity <= Severity::Info {
        return;
    }
    let Some(statement) = file.statements.get(f.statement) else { return };
    let locks = crate::sql::locks::locks_taken(statement.kind());
    let mut sizes = Vec::with_capacity(locks.len());
    for lock in &locks {
        match schema.table_size(&lock.table) {
            Some(size) if size.rows < small as f64 => sizes.push((lock.table.to_string(), size.rows)),
            _ => return,
        }
    }
    if sizes.is_empty() {
        return;
    }
    let tables: Vec<String> =
        sizes.iter().map(|(t, rows)| format!("`{t}` has ~{} rows", crate::live::format_count(*rows))).collect();
    f.severity = Severity::Info;
    f.message.push_str(&format!(
        " — info here: in the dev database {}, under small_table_rows = {small}, so the lock is brief",
        tables.join(", ")
    ));
}

/// Analyses raw bytes: binary, oversized and non-UTF-8 input get a clear finding instead of a
/// crash or silence.
pub fn analyze_bytes(
    bytes: &[u8],
    limit: usize,
    settings: &MigrationSettings,
    config: &Config,
) -> (FileAnalysis, Option<String>) {
    let (text, problem) = decode(bytes, limit);
    let mut analysis = match &text {
        Some(t) => analyze(t, settings, config, None),
        None => FileAnalysis::default(),
    };
    if let Some(p) = &problem {
        let severity = match p {
            InputProblem::TooLarge { .. } => Severity::Warning,
            _ => Severity::Error,
        };
        let offset = match p {
            InputProblem::InvalidUtf8 { offset } => *offset,
            _ => 0,
        };
        analysis.findings.insert(
            0,
            Finding {
                rule: rules::syntax_error::RULE.id,
                severity,
                range: offset..offset,
                statement: 0,
                message: p.message(),
                fix: None,
            },
        );
    }
    (analysis, text.map(Cow::into_owned))
}

/// Whether any parse problem in the file is a real syntax error (not a parser limitation).
pub fn has_invalid_statements(file: &SqlFile) -> bool {
    file.statements.iter().any(|s| matches!(s.parsed.outcome, ParseOutcome::Invalid { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contained_panic_is_an_internal_error_finding_and_a_clean_run_is_untouched() {
        let config = Config::default();
        let text = "-- safemig-test: panic in rules\nCREATE INDEX i ON t (a);\n";
        let analysis =
            contained(text, Dialect::Postgres, || analyze(text, &config.settings(Dialect::Postgres), &config, None));
        let rules: Vec<_> = analysis.findings.iter().map(|f| f.rule).collect();
        assert_eq!(rules, ["internal-error"]);
        assert!(analysis.findings[0].message.contains("a test panic in rules"));
        assert_eq!(&*analysis.file.text, text);
        // Negative: without a panic the analysis is the engine's own.
        let clean = "CREATE INDEX i ON t (a);\n";
        let analysis =
            contained(clean, Dialect::Postgres, || analyze(clean, &config.settings(Dialect::Postgres), &config, None));
        let rules: Vec<_> = analysis.findings.iter().map(|f| f.rule).collect();
        assert!(rules.contains(&"create-index-blocking") && !rules.contains(&"internal-error"), "{rules:?}");
    }

    /// A live snapshot where `users` has `rows` rows.
    fn live_with_users(rows: f64) -> crate::live::LiveFacts {
        let mut snapshot = crate::live::LiveSnapshot::default();
        snapshot.tables.insert(
            "users".into(),
            crate::live::LiveTable {
                key: "users".into(),
                schema: "public".into(),
                name: "users".into(),
                kind: crate::live::RelationKind::Table,
                row_estimate: Some(rows),
                total_bytes: 8192,
                columns: Vec::new(),
                indexes: Vec::new(),
                constraints: Vec::new(),
                triggers: Vec::new(),
                referenced_by: Vec::new(),
            },
        );
        crate::live::LiveFacts { snapshot: Arc::new(snapshot), small_table_rows: 10_000, ..Default::default() }
    }

    #[test]
    fn lock_findings_on_a_small_live_table_drop_to_info_and_say_why() {
        let text = "CREATE INDEX users_email_idx ON users (email);\n";
        let config = Config::default();
        let settings = config.settings(Dialect::Postgres);
        let schema = crate::schema::Schema::new(Dialect::Postgres);
        let run = |live: &crate::live::LiveFacts| {
            let view = crate::live::LiveView { replayed: &schema, live: Some(live) };
            let file = Arc::new(SqlFile::parse(text, Dialect::Postgres, None));
            let analysis = analyze_parsed(file, &settings, &config, &view, Vec::new());
            analysis.findings.into_iter().find(|f| f.rule == "create-index-blocking").expect("the lock finding")
        };
        let small = run(&live_with_users(120.0));
        assert_eq!(small.severity, Severity::Info);
        assert!(small.message.contains("`users` has ~120 rows"), "{}", small.message);
        assert!(small.message.contains("small_table_rows = 10000"), "{}", small.message);
        let large = run(&live_with_users(8_200_000.0));
        assert_eq!(large.severity, Severity::Warning);
        assert!(!large.message.contains("small_table_rows"), "{}", large.message);
    }

    #[test]
    fn a_pop_file_is_analysed_in_its_tagged_dialect_and_a_cockroach_one_not_at_all() {
        let config = Config { dialect: Some(Dialect::Postgres), ..Config::default() };
        let cockroach = "CREATE INDEX i ON t (a) STORING (b);\nDROP INDEX t@i;\n";
        let a =
            analyze_in(database_for(Path::new("m/1_x.cockroach.up.sql"), cockroach, &config), cockroach, &config, None);
        let found: Vec<_> = a.findings.iter().map(|f| (f.rule, f.severity)).collect();
        assert_eq!(found, [("syntax-error", Severity::Info)]);
        assert!(a.findings[0].message.contains("CockroachDB"), "{}", a.findings[0].message);
        // The same text in a PostgreSQL file is an error, and a MySQL-tagged file is MySQL.
        let pg =
            analyze_in(database_for(Path::new("m/1_x.postgres.up.sql"), cockroach, &config), cockroach, &config, None);
        assert!(pg.findings.iter().any(|f| f.rule == "syntax-error" && f.severity == Severity::Error));
        let my = analyze_in(
            database_for(Path::new("m/1_x.mysql.up.sql"), "SELECT 1;\n", &config),
            "SELECT 1;\n",
            &config,
            None,
        );
        assert_eq!(my.settings.dialect, Dialect::Mysql);
        // Turned off, the rule says nothing.
        let mut off = config.clone();
        off.rules.insert("syntax-error".into(), crate::config::RuleLevel::Off);
        assert!(analyze_in(database_for(Path::new("m/1_x.cockroach.up.sql"), cockroach, &off), cockroach, &off, None)
            .findings
            .is_empty());
    }

    /// A leading byte order mark is skipped, not read as SQL: the same findings and suppressions
    /// as without it, three bytes later, and no syntax error.
    #[test]
    fn a_byte_order_mark_is_not_sql() {
        let config = Config::default();
        let settings = config.settings(Dialect::Postgres);
        let texts = [
            "CREATE INDEX i ON t (a);\n",
            "-- safemig: ignore create-index-blocking\nCREATE INDEX i ON t (a);\nALTER TABLE t ADD COLUMN c int NOT NULL;\n",
            "ALTER TABLE t ADD COLUMN c int NOT NULL;\r\nCREATE INDEX CONCURRENTLY j ON t (c);\r\n",
            "/* header */ UPDATE t SET a = 1;",
        ];
        let shifted = |a: &FileAnalysis, by: usize| -> (Vec<String>, Vec<String>) {
            let show = |f: &Finding| {
                format!("{} {:?} {:?} {}", f.rule, f.severity, f.range.start + by..f.range.end + by, f.message)
            };
            (a.findings.iter().map(show).collect(), a.suppressed.iter().map(|s| show(&s.finding)).collect())
        };
        for text in texts {
            let plain = analyze(text, &settings, &config, None);
            let with_bom = analyze(&format!("{}{text}", crate::text::BOM), &settings, &config, None);
            assert!(!plain.findings.is_empty() || !plain.suppressed.is_empty(), "{text}");
            assert_eq!(shifted(&with_bom, 0), shifted(&plain, 3), "{text}");
            assert_eq!(with_bom.parse_errors(), 0, "{text}");
        }
        // A U+FEFF anywhere else is not a byte order mark: PostgreSQL reads it as part of a name.
        let inside = analyze("SELECT 1;\n\u{feff}CREATE INDEX i ON t (a);\n", &settings, &config, None);
        assert_eq!(inside.parse_errors(), 1);
    }

    /// Keyword soup: every rule and the recogniser see statements that stop anywhere, repeat
    /// clauses, and nest oddly. None of it may panic.
    #[test]
    fn keyword_soup_never_panics() {
        const WORDS: &[&str] = &[
            "CREATE",
            "ALTER",
            "DROP",
            "TABLE",
            "INDEX",
            "UNIQUE",
            "CONCURRENTLY",
            "IF",
            "NOT",
            "EXISTS",
            "ON",
            "ONLY",
            "ADD",
            "COLUMN",
            "CONSTRAINT",
            "CHECK",
            "FOREIGN",
            "KEY",
            "PRIMARY",
            "REFERENCES",
            "DEFAULT",
            "NULL",
            "SET",
            "TYPE",
            "USING",
            "VALID",
            "VALIDATE",
            "RENAME",
            "TO",
            "BEGIN",
            "COMMIT",
            "UPDATE",
            "DELETE",
            "FROM",
            "WHERE",
            "INSERT",
            "INTO",
            "SELECT",
            "REINDEX",
            "VACUUM",
            "FULL",
            "TRUNCATE",
            "GENERATED",
            "ALWAYS",
            "AS",
            "IDENTITY",
            "STORED",
            "t",
            "\"Q\"",
            "x",
            "1",
            "'s'",
            "$$b$$",
            "(",
            ")",
            ",",
            ";",
            ".",
            "=",
            "<",
            "::",
            "[",
            "]",
            "-- c\n",
            "/* c */",
            "random()",
            "varchar(3)",
        ];
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let config = Config::default();
        for dialect in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
            let settings = MigrationSettings { dialect, wraps_in_transaction: next(2) == 0, ..Default::default() };
            for _ in 0..400 {
                let len = 1 + next(40);
                let text: Vec<&str> = (0..len).map(|_| WORDS[next(WORDS.len())]).collect();
                let text = text.join(" ");
                let analysis = analyze(&text, &settings, &config, None);
                for f in &analysis.findings {
                    assert!(f.range.end <= text.len() && text.is_char_boundary(f.range.start), "{text}: {f:?}");
                }
            }
        }
    }
}
