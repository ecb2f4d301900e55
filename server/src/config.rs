//! `safemig.toml`, LSP `initializationOptions` and `workspace/didChangeConfiguration`. A wrong key
//! or value never stops the tool: it becomes a [`ConfigProblem`] naming the file, line and key,
//! and the default stays in force for that key.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::rules::{self, MigrationSettings, Severity};
use crate::sql::Dialect;
use crate::workspace::FrameworkKind;

pub const FILE_NAME: &str = "safemig.toml";

/// A PostgreSQL version, compared numerically: `11`, `11.0` and `"11"` are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PgVersion {
    pub major: u32,
    pub minor: u32,
}

impl PgVersion {
    pub const DEFAULT: PgVersion = PgVersion { major: 15, minor: 0 };

    pub const fn new(major: u32, minor: u32) -> Self {
        PgVersion { major, minor }
    }

    /// Parses `"15"`, `"11.0"`, `"9.6"`, `"16.2"`, `"17beta1"`.
    pub fn parse(s: &str) -> Option<PgVersion> {
        let s = s.trim();
        let mut parts = s.splitn(2, '.');
        let major_part = parts.next()?;
        let digits: String = major_part.chars().take_while(char::is_ascii_digit).collect();
        let major: u32 = digits.parse().ok()?;
        let rest_ok = major_part[digits.len()..].chars().all(|c| c.is_ascii_alphanumeric());
        if !rest_ok || !(6..=40).contains(&major) {
            return None;
        }
        let minor = match parts.next() {
            Some(m) if !m.is_empty() => m.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()?,
            Some(_) => return None,
            None => 0,
        };
        Some(PgVersion { major, minor })
    }
}

impl fmt::Display for PgVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.major >= 10 && self.minor == 0 {
            write!(f, "{}", self.major)
        } else {
            write!(f, "{}.{}", self.major, self.minor)
        }
    }
}

/// A rule's configured level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RuleLevel {
    Off,
    Severity(Severity),
}

/// The effective configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub postgres_version: PgVersion,
    /// `None`: decide per file (PostgreSQL unless the file's framework or path says otherwise).
    pub dialect: Option<Dialect>,
    pub rules: BTreeMap<String, RuleLevel>,
    pub lock_timeout: String,
    pub runner_sets_timeouts: bool,
    pub assume_in_transaction: bool,
    /// The git ref whose migrations count as shipped; `None`: the upstream of the default branch,
    /// else `main` or `master`.
    pub shipped_ref: Option<String>,
    /// Migration sets named explicitly (`[[migrations]]`); discovery fills in the rest.
    pub migrations: Vec<MigrationSetConfig>,
    /// Lock rules drop to info on a table a live database says has fewer rows than this.
    pub small_table_rows: u64,
    /// `[database]`: the dev database to read facts from.
    pub database: DatabaseConfig,
}

/// `[database] url = "…"` or `url_env = "DATABASE_URL"`. A later source replaces the earlier
/// one's choice as a whole: LSP settings naming an environment variable override a URL in
/// `safemig.toml`, and the other way round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseConfig {
    /// `false` (`enabled = false`): never connect, even when `DATABASE_URL` is set.
    pub enabled: bool,
    pub url: Option<Secret>,
    /// The environment variable (or `.env` entry at the root) holding the URL.
    pub url_env: String,
    /// Per-query `statement_timeout` of introspection, in milliseconds.
    pub statement_timeout_ms: u64,
    pub connect_timeout_ms: u64,
    /// The slow timer: seconds between background refreshes of the catalog snapshot.
    pub refresh_seconds: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            enabled: true,
            url: None,
            url_env: "DATABASE_URL".into(),
            statement_timeout_ms: 2_000,
            connect_timeout_ms: 3_000,
            refresh_seconds: 60,
        }
    }
}

/// A string that holds a credential: `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The secret itself, for the one place that needs it (the connection).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// `[[migrations]] path = "db/migrations", framework = "goose", dialect = "postgres"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationSetConfig {
    /// Relative to the directory of `safemig.toml` (or the workspace root).
    pub path: PathBuf,
    pub framework: Option<FrameworkKind>,
    pub dialect: Option<Dialect>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            postgres_version: PgVersion::DEFAULT,
            dialect: None,
            rules: BTreeMap::new(),
            lock_timeout: "5s".into(),
            runner_sets_timeouts: false,
            assume_in_transaction: false,
            shipped_ref: None,
            migrations: Vec::new(),
            small_table_rows: 10_000,
            database: DatabaseConfig::default(),
        }
    }
}

/// A problem in a configuration source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigProblem {
    /// The file (or `initializationOptions` / `workspace/didChangeConfiguration`).
    pub source: String,
    /// 1-based line, when the source is a file.
    pub line: Option<usize>,
    pub key: String,
    pub message: String,
}

impl ConfigProblem {
    /// The problem with every connection string in its key and message redacted: a URL put under
    /// any key (or a misspelled one) is quoted in the message.
    fn redacted(self) -> ConfigProblem {
        use crate::live::connect::redact;
        ConfigProblem { key: redact(&self.key), message: redact(&self.message), ..self }
    }
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: `{}`: {}", self.source, line, self.key, self.message),
            None => write!(f, "{}: `{}`: {}", self.source, self.key, self.message),
        }
    }
}

/// A value read from TOML or JSON, reduced to what config needs.
enum Value<'v> {
    Str(&'v str),
    Int(i64),
    Float(f64),
    Bool(bool),
    Table(Vec<(String, Value<'v>, Option<usize>)>),
    /// An array of tables (`[[migrations]]`), each with its line.
    Tables(Vec<(Value<'v>, Option<usize>)>),
    Other(&'static str),
}

/// The most a configuration file (`safemig.toml`, `.env`) may hold.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Reads a configuration file (`safemig.toml`, `.env`): a regular file (a symlink is followed only
/// to one) of at most [`MAX_CONFIG_BYTES`], as UTF-8. A FIFO, a device (`/dev/zero`), a directory
/// or a larger file is an error of kind `InvalidData` that says why, and is never read: the type
/// is checked before opening (opening a FIFO would wait for a writer) and again on the opened
/// file, and the read stops one byte past the limit.
pub fn read_config_file(path: &Path) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind, Read};
    let refuse = |metadata: &std::fs::Metadata| -> std::io::Result<()> {
        if !metadata.is_file() {
            return Err(Error::new(ErrorKind::InvalidData, "not a regular file"));
        }
        if metadata.len() > MAX_CONFIG_BYTES {
            return Err(Error::new(
                ErrorKind::InvalidData,
                format!("{} bytes, more than the {MAX_CONFIG_BYTES} a configuration file may hold", metadata.len()),
            ));
        }
        Ok(())
    };
    refuse(&std::fs::metadata(path)?)?;
    let file = std::fs::File::open(path)?;
    refuse(&file.metadata()?)?;
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(Error::new(ErrorKind::InvalidData, format!("more than {MAX_CONFIG_BYTES} bytes")));
    }
    String::from_utf8(bytes).map_err(|_| Error::new(ErrorKind::InvalidData, "not UTF-8 text"))
}

/// Whether a `safemig.toml` found while searching upwards is the configuration: anything there
/// but a directory, so that a FIFO or a device in its place is reported ([`read_config_file`]
/// refuses it), not skipped for a file further up.
pub fn config_candidate(path: &Path) -> bool {
    path.exists() && !path.is_dir()
}

impl Config {
    /// Loads `safemig.toml` from `dir` if it exists.
    pub fn discover(dir: &Path) -> (Config, Option<PathBuf>, Vec<ConfigProblem>) {
        let path = dir.join(FILE_NAME);
        match read_config_file(&path) {
            Ok(text) => {
                let (cfg, problems) = Config::from_toml(&text, &path.display().to_string());
                (cfg, Some(path), problems)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Config::default(), None, Vec::new()),
            Err(e) => {
                let problem = ConfigProblem {
                    source: path.display().to_string(),
                    line: None,
                    key: String::new(),
                    message: format!("cannot read the file: {e}"),
                };
                (Config::default(), Some(path), vec![problem])
            }
        }
    }

    pub fn from_toml(text: &str, source: &str) -> (Config, Vec<ConfigProblem>) {
        let mut cfg = Config::default();
        let problems = cfg.merge_toml(text, source);
        (cfg, problems)
    }

    /// Applies the keys of a TOML document on top of `self`.
    pub fn merge_toml(&mut self, text: &str, source: &str) -> Vec<ConfigProblem> {
        let doc = match toml_edit::Document::parse(text) {
            Ok(doc) => doc,
            Err(e) => {
                let line = e.span().map(|s| Lines::new(text).of(s.start));
                return vec![ConfigProblem {
                    source: source.into(),
                    line,
                    key: String::new(),
                    message: format!("not valid TOML: {}", e.message()),
                }
                .redacted()];
            }
        };
        let root = toml_table(doc.as_table(), &Lines::new(text));
        let mut problems = Vec::new();
        self.apply(root, source, &mut problems);
        problems.into_iter().map(ConfigProblem::redacted).collect()
    }

    /// Applies LSP settings (`initializationOptions` or `didChangeConfiguration`). Accepts the
    /// keys at the top level or under a `safemig` object.
    pub fn merge_json(&mut self, value: &serde_json::Value, source: &str) -> Vec<ConfigProblem> {
        let value = value.get("safemig").unwrap_or(value);
        let mut problems = Vec::new();
        match value {
            serde_json::Value::Object(_) => {
                let Value::Table(entries) = json_value(value) else { unreachable!("object maps to table") };
                // Client-only settings (the server path, trace level) are not ours to judge.
                let entries = entries
                    .into_iter()
                    .filter(|(k, _, _)| !CLIENT_KEYS.contains(&k.as_str()))
                    .filter_map(client_spelling)
                    .collect();
                self.apply(Value::Table(entries), source, &mut problems);
            }
            serde_json::Value::Null => {}
            _ => problems.push(ConfigProblem {
                source: source.into(),
                line: None,
                key: String::new(),
                message: "settings must be an object".into(),
            }),
        }
        problems.into_iter().map(ConfigProblem::redacted).collect()
    }

    fn apply(&mut self, root: Value, source: &str, problems: &mut Vec<ConfigProblem>) {
        let Value::Table(entries) = root else { return };
        for (key, value, line) in entries {
            let so_far = problems.len();
            let mut problem = |message: String| {
                problems.push(ConfigProblem { source: source.into(), line, key: key.clone(), message });
            };
            match key.as_str() {
                "postgres_version" => {
                    let parsed = match &value {
                        Value::Str(s) => PgVersion::parse(s),
                        Value::Int(i) => PgVersion::parse(&i.to_string()),
                        Value::Float(f) => PgVersion::parse(&format!("{f}")),
                        _ => None,
                    };
                    match parsed {
                        Some(v) => self.postgres_version = v,
                        None => problem(format!(
                            "expected a PostgreSQL version such as 15 or \"11.0\", found {}",
                            describe(&value)
                        )),
                    }
                }
                "dialect" => match &value {
                    Value::Str(s) => match Dialect::parse_name(s) {
                        Some(d) => self.dialect = Some(d),
                        None => problem(format!("unknown dialect \"{s}\"; expected postgres, mysql or sqlite")),
                    },
                    other => problem(format!("expected a string, found {}", describe(other))),
                },
                "lock_timeout" => {
                    let bare = match &value {
                        Value::Str(s) => unitless_number(s).map(str::to_string),
                        Value::Int(ms) if *ms > 0 => Some(ms.to_string()),
                        _ => None,
                    };
                    match (&value, bare) {
                        (_, Some(n)) => {
                            self.lock_timeout = format!("{n}ms");
                            problem(unitless_duration(&n));
                        }
                        (Value::Str(s), None) if is_duration(s) => self.lock_timeout = s.to_string(),
                        (other, None) => problem(format!(
                            "expected a PostgreSQL duration such as \"5s\" or \"500ms\", found {}",
                            describe(other)
                        )),
                    }
                }
                "runner_sets_timeouts" | "assume_in_transaction" => match value {
                    Value::Bool(b) => {
                        if key == "runner_sets_timeouts" {
                            self.runner_sets_timeouts = b;
                        } else {
                            self.assume_in_transaction = b;
                        }
                    }
                    other => problem(format!("expected true or false, found {}", describe(&other))),
                },
                "rules" => match value {
                    Value::Table(rules) => {
                        for (id, level, rule_line) in rules {
                            let hint = suggest(&id, problems.len());
                            let mut rule_problem = |message: String| {
                                problems.push(ConfigProblem {
                                    source: source.into(),
                                    line: rule_line,
                                    key: format!("rules.{id}"),
                                    message,
                                });
                            };
                            if !rules::is_known_id(&id) {
                                rule_problem(format!("unknown rule id; `safemig rules` lists them{hint}"));
                                continue;
                            }
                            match level {
                                Value::Str(s) if s.eq_ignore_ascii_case("off") => {
                                    self.rules.insert(id, RuleLevel::Off);
                                }
                                Value::Bool(false) => {
                                    self.rules.insert(id, RuleLevel::Off);
                                }
                                Value::Str(s) => match Severity::parse_name(s) {
                                    Some(sev) => {
                                        self.rules.insert(id, RuleLevel::Severity(sev));
                                    }
                                    None => rule_problem(format!(
                                        "expected \"error\", \"warning\", \"info\", \"hint\" or \"off\", found \"{s}\""
                                    )),
                                },
                                other => rule_problem(format!(
                                    "expected \"error\", \"warning\", \"info\", \"hint\" or \"off\", found {}",
                                    describe(&other)
                                )),
                            }
                        }
                    }
                    other => problem(format!("expected a table of rule ids, found {}", describe(&other))),
                },
                "shipped_ref" => match &value {
                    Value::Str(s) if !s.trim().is_empty() => self.shipped_ref = Some(s.trim().to_string()),
                    other => problem(format!("expected a git ref such as \"origin/main\", found {}", describe(other))),
                },
                "migrations" => match value {
                    Value::Tables(sets) => {
                        self.migrations.clear();
                        for (set, set_line) in sets {
                            match migration_set(set) {
                                Ok(m) => self.migrations.push(m),
                                Err((field, message)) => problems.push(ConfigProblem {
                                    source: source.into(),
                                    line: set_line.or(line),
                                    key: format!("migrations.{field}"),
                                    message,
                                }),
                            }
                        }
                    }
                    other => problem(format!(
                        "expected [[migrations]] tables with path, framework and dialect, found {}",
                        describe(&other)
                    )),
                },
                "small_table_rows" => match value {
                    Value::Int(n) if n >= 0 => self.small_table_rows = n as u64,
                    other => problem(format!("expected a row count such as 10000, found {}", describe(&other))),
                },
                "database" => match value {
                    Value::Table(entries) => self.database.apply(entries, source, problems),
                    other => problem(format!("expected a [database] table, found {}", describe(&other))),
                },
                _ => problem(format!("unknown key; expected one of {}{}", KEYS.join(", "), suggest_key(&key, so_far))),
            }
        }
    }

    /// The level a rule runs at, or `None` when it is off.
    pub fn level(&self, rule: &rules::Rule) -> Option<Severity> {
        match self.rules.get(rule.id) {
            Some(RuleLevel::Off) => None,
            Some(RuleLevel::Severity(s)) => Some(*s),
            None => Some(rule.default_severity),
        }
    }

    pub fn settings(&self, dialect: Dialect) -> MigrationSettings {
        MigrationSettings {
            dialect,
            postgres_version: self.postgres_version,
            runner_sets_timeouts: self.runner_sets_timeouts,
            wraps_in_transaction: self.assume_in_transaction,
            implicit_transaction: false,
            lock_timeout: self.lock_timeout.clone(),
            runner_opt_out: None,
            renders_templates: false,
            undoes: None,
            preinstalled_extensions: &[],
        }
    }
}

impl DatabaseConfig {
    fn apply(&mut self, entries: Vec<(String, Value, Option<usize>)>, source: &str, problems: &mut Vec<ConfigProblem>) {
        for (key, value, line) in entries {
            let so_far = problems.len();
            let mut problem = |message: String| {
                problems.push(ConfigProblem { source: source.into(), line, key: format!("database.{key}"), message });
            };
            let millis = |value: &Value| match value {
                Value::Int(ms) if *ms > 0 => Some(*ms as u64),
                _ => None,
            };
            match key.as_str() {
                "enabled" => match value {
                    Value::Bool(b) => self.enabled = b,
                    other => problem(format!("expected true or false, found {}", describe(&other))),
                },
                "url" => match value {
                    Value::Str(s) if !s.trim().is_empty() => self.url = Some(Secret::new(s.trim())),
                    // The value is never echoed: it may hold a password.
                    _ => problem("expected a connection URL such as \"postgres://user@localhost/dev\"".into()),
                },
                "url_env" => match value {
                    Value::Str(s) if !s.trim().is_empty() => {
                        self.url_env = s.trim().to_string();
                        self.url = None;
                    }
                    other => problem(format!("expected an environment variable name, found {}", describe(&other))),
                },
                "statement_timeout_ms" => match millis(&value) {
                    Some(ms) => self.statement_timeout_ms = ms,
                    None => problem(format!("expected milliseconds such as 2000, found {}", describe(&value))),
                },
                "connect_timeout_ms" => match millis(&value) {
                    Some(ms) => self.connect_timeout_ms = ms,
                    None => problem(format!("expected milliseconds such as 3000, found {}", describe(&value))),
                },
                "refresh_seconds" => match millis(&value) {
                    Some(s) => self.refresh_seconds = s,
                    None => problem(format!("expected seconds such as 60, found {}", describe(&value))),
                },
                _ => {
                    let hint = near_miss(&key, DATABASE_KEYS.iter().copied(), so_far);
                    problem(format!("unknown key; expected one of {}{hint}", DATABASE_KEYS.join(", ")))
                }
            }
        }
    }
}

const DATABASE_KEYS: &[&str] =
    &["enabled", "url", "url_env", "statement_timeout_ms", "connect_timeout_ms", "refresh_seconds"];

/// Editor settings are camelCase (`safemig.shippedRef`, `safemig.databaseUrl`); `safemig.toml`
/// is snake_case. Maps the former onto the latter. An editor's empty string means "not set".
fn client_spelling<'v>(
    (key, value, line): (String, Value<'v>, Option<usize>),
) -> Option<(String, Value<'v>, Option<usize>)> {
    if matches!(value, Value::Str(s) if s.trim().is_empty()) {
        return None;
    }
    let nested = |inner: &str, value: Value<'v>| Value::Table(vec![(inner.to_string(), value, line)]);
    Some(match key.as_str() {
        "databaseUrl" => ("database".into(), nested("url", value), line),
        "databaseUrlEnv" => ("database".into(), nested("url_env", value), line),
        _ if key.chars().any(|c| c.is_ascii_uppercase()) => {
            let mut snake = String::with_capacity(key.len() + 4);
            for c in key.chars() {
                if c.is_ascii_uppercase() {
                    snake.push('_');
                    snake.push(c.to_ascii_lowercase());
                } else {
                    snake.push(c);
                }
            }
            (snake, value, line)
        }
        _ => (key, value, line),
    })
}

/// Settings that belong to an editor client, accepted and ignored by the server.
const CLIENT_KEYS: &[&str] = &["path", "serverPath", "server_path", "trace", "args", "enable"];

fn is_duration(s: &str) -> bool {
    let s = s.trim();
    let digits = s.chars().take_while(|c| c.is_ascii_digit()).count();
    digits > 0 && matches!(s[digits..].trim(), "" | "ms" | "s" | "min" | "h")
}

/// The digits of a duration written without a unit (`"5"`, `" 30 "`); not `"0"`, which turns the
/// timeout off whatever the unit.
fn unitless_number(s: &str) -> Option<&str> {
    let s = s.trim();
    (s.bytes().all(|b| b.is_ascii_digit()) && s.bytes().any(|b| b != b'0')).then_some(s)
}

/// A bare number is milliseconds to PostgreSQL (`SET lock_timeout = 5` waits 5 ms), which is rarely
/// what was meant: say how it reads and how to write either intent.
fn unitless_duration(n: &str) -> String {
    let seconds = format!("'{n}s'");
    let millis = format!("'{n}ms'");
    // A small number was most likely meant in seconds; a large one in milliseconds.
    let (likely, other) = if n.len() < 3 { (seconds, millis) } else { (millis, seconds) };
    format!(
        "{n} has no unit, and PostgreSQL reads a bare number as milliseconds: {n} ms. Write {likely} (or {other}) so \
         the unit is explicit"
    )
}

fn describe(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("\"{s}\""),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Table(_) => "a table".into(),
        Value::Tables(_) => "an array of tables".into(),
        Value::Other(what) => (*what).into(),
    }
}

/// Problems after which a wrong key or id gets no "did you mean": each costs an edit distance to
/// every candidate, and a file of thousands of wrong keys is not a typo.
const SUGGESTED_AT_MOST: usize = 100;

/// "did you mean" the closest of `candidates`, while fewer than [`SUGGESTED_AT_MOST`] problems
/// were found.
fn near_miss<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>, problems: usize) -> String {
    if problems >= SUGGESTED_AT_MOST {
        return String::new();
    }
    did_you_mean(crate::text::closest(word, candidates))
}

/// "did you mean" a rule id, for an unknown one (empty for a known id).
fn suggest(id: &str, problems: usize) -> String {
    if rules::is_known_id(id) {
        return String::new();
    }
    let ids = rules::all().iter().map(|r| r.id).chain(rules::RESERVED_IDS.iter().copied());
    near_miss(id, ids, problems)
}

/// Every top-level key of `safemig.toml`.
const KEYS: &[&str] = &[
    "postgres_version",
    "dialect",
    "rules",
    "lock_timeout",
    "runner_sets_timeouts",
    "assume_in_transaction",
    "shipped_ref",
    "migrations",
    "small_table_rows",
    "database",
];

fn suggest_key(key: &str, problems: usize) -> String {
    near_miss(key, KEYS.iter().copied(), problems)
}

/// One `[[migrations]]` entry, or the field that is wrong and why.
fn migration_set(value: Value) -> Result<MigrationSetConfig, (String, String)> {
    let Value::Table(entries) = value else {
        return Err((String::new(), format!("expected a table, found {}", describe(&value))));
    };
    let mut path = None;
    let mut framework = None;
    let mut dialect = None;
    for (key, v, _) in entries {
        match (key.as_str(), &v) {
            ("path", Value::Str(p)) if !p.trim().is_empty() => path = Some(PathBuf::from(p.trim())),
            ("framework", Value::Str(f)) => match FrameworkKind::parse_name(f) {
                Some(k) => framework = Some(k),
                None => {
                    let names = FrameworkKind::ALL.iter().map(|k| k.name());
                    let hint = did_you_mean(crate::text::closest(f, names));
                    return Err((key, format!("unknown framework \"{f}\"{hint}")));
                }
            },
            ("dialect", Value::Str(d)) => match Dialect::parse_name(d) {
                Some(x) => dialect = Some(x),
                None => return Err((key, format!("unknown dialect \"{d}\"; expected postgres, mysql or sqlite"))),
            },
            ("path" | "framework" | "dialect", other) => {
                return Err((key.clone(), format!("expected a string, found {}", describe(other))))
            }
            _ => return Err((key.clone(), "unknown key; expected path, framework or dialect".into())),
        }
    }
    let path = path.ok_or_else(|| ("path".to_string(), "every [[migrations]] entry needs a path".to_string()))?;
    Ok(MigrationSetConfig { path, framework, dialect })
}

fn did_you_mean(best: Option<&str>) -> String {
    best.map(|b| format!(" (did you mean `{b}`?)")).unwrap_or_default()
}

/// The newlines of a TOML text: the 1-based line of an offset in O(log n), so that a file of many
/// keys costs linear time, not a count from the top per key.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        Lines(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i).collect())
    }

    fn of(&self, offset: usize) -> usize {
        self.0.partition_point(|&newline| newline < offset) + 1
    }
}

fn toml_table<'v>(table: &'v toml_edit::Table, lines: &Lines) -> Value<'v> {
    let entries = table
        .iter()
        .map(|(k, item)| {
            let line = table.key(k).and_then(|key| key.span()).map(|s| lines.of(s.start));
            (k.to_string(), toml_item(item, lines), line)
        })
        .collect();
    Value::Table(entries)
}

fn toml_item<'v>(item: &'v toml_edit::Item, lines: &Lines) -> Value<'v> {
    use toml_edit::{Item, Value as V};
    match item {
        Item::Table(t) => toml_table(t, lines),
        Item::Value(V::InlineTable(t)) => {
            let entries = t
                .iter()
                .map(|(k, v)| {
                    let line = t.key(k).and_then(|key| key.span()).map(|s| lines.of(s.start));
                    (k.to_string(), toml_value(v), line)
                })
                .collect();
            Value::Table(entries)
        }
        Item::Value(v) => toml_value(v),
        Item::ArrayOfTables(tables) => {
            Value::Tables(tables.iter().map(|t| (toml_table(t, lines), t.span().map(|s| lines.of(s.start)))).collect())
        }
        Item::None => Value::Other("nothing"),
    }
}

fn toml_value(v: &toml_edit::Value) -> Value<'_> {
    use toml_edit::Value as V;
    match v {
        V::String(s) => Value::Str(s.value()),
        V::Integer(i) => Value::Int(*i.value()),
        V::Float(f) => Value::Float(*f.value()),
        V::Boolean(b) => Value::Bool(*b.value()),
        V::Datetime(_) => Value::Other("a date"),
        V::Array(_) => Value::Other("an array"),
        V::InlineTable(_) => Value::Other("a table"),
    }
}

fn json_value(v: &serde_json::Value) -> Value<'_> {
    match v {
        serde_json::Value::String(s) => Value::Str(s),
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::Object(map) => {
            Value::Table(map.iter().map(|(k, v)| (k.clone(), json_value(v), None)).collect())
        }
        serde_json::Value::Array(items) if items.iter().all(serde_json::Value::is_object) => {
            Value::Tables(items.iter().map(|v| (json_value(v), None)).collect())
        }
        serde_json::Value::Array(_) => Value::Other("an array"),
        serde_json::Value::Null => Value::Other("null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_settings_later_source_wins_and_never_shows_the_url() {
        let (mut cfg, problems) = Config::from_toml(
            "small_table_rows = 500\n[database]\nurl = \"postgres://app:hunter2@db/dev\"\nstatement_timeout_ms = 900\n",
            "safemig.toml",
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(cfg.small_table_rows, 500);
        assert_eq!(cfg.database.statement_timeout_ms, 900);
        assert_eq!(cfg.database.url.as_ref().map(Secret::expose), Some("postgres://app:hunter2@db/dev"));
        assert!(!format!("{cfg:?}").contains("hunter2"));
        // Editor settings are camelCase; naming a variable there replaces the file's URL.
        let problems = cfg.merge_json(
            &serde_json::json!({"safemig": {"databaseUrlEnv": "DEV_DB", "databaseUrl": "", "shippedRef": "origin/dev"}}),
            "settings",
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(cfg.database.url, None);
        assert_eq!(cfg.database.url_env, "DEV_DB");
        assert_eq!(cfg.shipped_ref.as_deref(), Some("origin/dev"));
        let problems = cfg.merge_json(&serde_json::json!({"database": {"url": 5, "urll": "x"}}), "settings");
        assert_eq!(problems.len(), 2);
        assert!(problems[1].message.contains("did you mean `url`"), "{}", problems[1]);
    }

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(PgVersion::parse("11"), PgVersion::parse("11.0"));
        assert!(PgVersion::parse("9.6").unwrap() < PgVersion::parse("10").unwrap());
        assert!(PgVersion::parse("12").unwrap() > PgVersion::parse("11.22").unwrap());
        assert_eq!(PgVersion::parse("17beta1"), Some(PgVersion::new(17, 0)));
        assert_eq!(PgVersion::parse("eleven"), None);
        let (a, _) = Config::from_toml("postgres_version = 11", "a");
        let (b, _) = Config::from_toml("postgres_version = \"11.0\"", "b");
        let (c, _) = Config::from_toml("postgres_version = 11.0", "c");
        assert_eq!(a.postgres_version, b.postgres_version);
        assert_eq!(b.postgres_version, c.postgres_version);
    }

    #[test]
    fn full_config_round_trip() {
        let text = "postgres_version = \"16\"\ndialect = \"postgres\"\nlock_timeout = \"2s\"\nrunner_sets_timeouts = true\nassume_in_transaction = true\n[rules]\ncreate-index-blocking = \"error\"\nsyntax-error = \"off\"\n";
        let (cfg, problems) = Config::from_toml(text, "safemig.toml");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(cfg.postgres_version, PgVersion::new(16, 0));
        assert_eq!(cfg.lock_timeout, "2s");
        assert!(cfg.runner_sets_timeouts && cfg.assume_in_transaction);
        assert_eq!(cfg.rules.get("create-index-blocking"), Some(&RuleLevel::Severity(Severity::Error)));
        assert_eq!(cfg.rules.get("syntax-error"), Some(&RuleLevel::Off));
    }

    #[test]
    fn wrong_keys_and_values_name_file_line_and_key() {
        let text = "postgres_version = \"eleven\"\nlock_timout = \"5s\"\n\n[rules]\ncreate-index-blockin = \"warning\"\nsyntax-error = \"loud\"\n";
        let (cfg, problems) = Config::from_toml(text, "proj/safemig.toml");
        assert_eq!(cfg.postgres_version, PgVersion::DEFAULT);
        let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(shown.len(), 4, "{shown:?}");
        assert!(shown[0].starts_with("proj/safemig.toml:1: `postgres_version`"), "{}", shown[0]);
        assert!(
            shown[1].starts_with("proj/safemig.toml:2: `lock_timout`")
                && shown[1].contains("did you mean `lock_timeout`")
        );
        assert!(
            shown[2].starts_with("proj/safemig.toml:5: `rules.create-index-blockin`")
                && shown[2].contains("create-index-blocking")
        );
        assert!(shown[3].starts_with("proj/safemig.toml:6: `rules.syntax-error`"));
    }

    #[test]
    fn a_duration_without_a_unit_is_milliseconds_and_says_so() {
        for (text, written, suggested) in [
            ("lock_timeout = 5\n", "5", "'5s'"),
            ("lock_timeout = \"30\"\n", "30", "'30s'"),
            ("lock_timeout = 1500\n", "1500", "'1500ms'"),
        ] {
            let (cfg, problems) = Config::from_toml(text, "safemig.toml");
            // PostgreSQL's reading stays in force: the warning says what it is, not what it might be.
            assert_eq!(cfg.lock_timeout, format!("{written}ms"), "{text}");
            assert_eq!(problems.len(), 1, "{text}: {problems:?}");
            let p = &problems[0];
            assert_eq!((p.key.as_str(), p.line), ("lock_timeout", Some(1)), "{text}");
            assert!(p.message.contains(&format!("{written} ms")), "{text}: {}", p.message);
            assert!(p.message.contains(suggested), "{text}: {}", p.message);
        }
        // The editor's settings go through the same check.
        let mut cfg = Config::default();
        let problems = cfg.merge_json(&serde_json::json!({"safemig": {"lockTimeout": 5}}), "settings");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("'5s'"), "{}", problems[0].message);
    }

    #[test]
    fn a_duration_with_a_unit_is_no_problem() {
        for (text, value) in [
            ("lock_timeout = \"5s\"\n", "5s"),
            ("lock_timeout = \"500ms\"\n", "500ms"),
            ("lock_timeout = \"1min\"\n", "1min"),
            ("lock_timeout = \" 2 s \"\n", "2 s"),
            // Zero turns the timeout off in any unit.
            ("lock_timeout = \"0\"\n", "0"),
        ] {
            let (cfg, problems) = Config::from_toml(text, "safemig.toml");
            assert!(problems.is_empty(), "{text}: {problems:?}");
            assert_eq!(cfg.lock_timeout.trim(), value, "{text}");
        }
        // Keys that carry their unit in the name are not unit-less.
        let (_, problems) =
            Config::from_toml("[database]\nstatement_timeout_ms = 900\nrefresh_seconds = 5\n", "safemig.toml");
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn migration_sets_and_shipped_ref() {
        let text = "shipped_ref = \"origin/develop\"\n\n[[migrations]]\npath = \"db/migrations\"\nframework = \"goose\"\n\n[[migrations]]\npath = \"sql\"\nframework = \"gooze\"\n";
        let (cfg, problems) = Config::from_toml(text, "safemig.toml");
        assert_eq!(cfg.shipped_ref.as_deref(), Some("origin/develop"));
        assert_eq!(
            cfg.migrations,
            [MigrationSetConfig { path: "db/migrations".into(), framework: Some(FrameworkKind::Goose), dialect: None }]
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].key, "migrations.framework");
        assert_eq!(problems[0].line, Some(7));
        assert!(problems[0].message.contains("did you mean `goose`"), "{}", problems[0].message);
    }

    #[test]
    fn broken_toml_is_a_problem_not_a_crash() {
        let (cfg, problems) = Config::from_toml("postgres_version = [\n", "x.toml");
        assert_eq!(cfg, Config::default());
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.starts_with("not valid TOML"));
    }

    #[test]
    fn json_settings_accept_a_safemig_object() {
        let mut cfg = Config::default();
        let problems = cfg.merge_json(
            &serde_json::json!({"safemig": {"postgres_version": 12, "rules": {"syntax-error": "hint"}, "serverPath": "/x"}}),
            "initializationOptions",
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(cfg.postgres_version, PgVersion::new(12, 0));
        let problems = cfg.merge_json(&serde_json::json!({"dialect": 3}), "workspace/didChangeConfiguration");
        assert_eq!(problems[0].key, "dialect");
    }
}
