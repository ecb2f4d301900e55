//! `--format sarif`: one SARIF 2.1.0 log with one run, as GitHub code scanning takes it.
//!
//! - `tool.driver.rules` describes every rule of the catalog (in catalog order, so `ruleIndex` is
//!   stable across configurations); rules that `safemig.toml` turns off or re-levels are listed in
//!   the invocation's `ruleConfigurationOverrides`.
//! - Locations are relative to the repository root (the nearest ancestor of the current directory
//!   with a `.git`, else the current directory) under `uriBaseId` `%SRCROOT%`; a file outside it
//!   gets an absolute `file:` URI.
//! - Lines and columns are 1-based; columns count UTF-16 code units (`columnKind`
//!   `utf16CodeUnits`, the SARIF default), and `endColumn` is the column just past the end.
//! - `partialFingerprints["safemig/v1"]` hashes the rule id, the file's path and the whitespace-
//!   normalised text of the statement and of the flagged clause, so moving a statement to other
//!   lines keeps its alerts.
//! - Suppressed findings are results with a `suppressions` entry of kind `inSource` and the
//!   comment's reason as `justification`.
//! - Bytes that were not analysed (binary, too large) are `syntax-error` results at line 1, like
//!   in the other formats.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::rules::{self, Finding, Rule, Severity};
use crate::text::{LineIndex, PositionEncoding};

use super::check::CheckedFile;
use super::database::DatabaseState;

const SCHEMA: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
const INFORMATION_URI: &str = "https://safemig.dev";
const SRCROOT: &str = "%SRCROOT%";
/// The key of our fingerprint in `partialFingerprints`; bump the version if its recipe changes.
pub(crate) const FINGERPRINT_KEY: &str = "safemig/v1";

/// The repository that paths are reported relative to.
pub(crate) struct RepoRoot {
    dir: Option<PathBuf>,
}

impl RepoRoot {
    /// The nearest ancestor of the current directory that holds `.git` (a directory, or a file in
    /// a linked work tree), else the current directory.
    pub(crate) fn discover() -> RepoRoot {
        let cwd = std::env::current_dir().ok().map(|d| d.canonicalize().unwrap_or(d));
        let dir = cwd.map(|cwd| cwd.ancestors().find(|d| d.join(".git").exists()).unwrap_or(&cwd).to_path_buf());
        RepoRoot { dir }
    }

    /// `path` (as shown, relative to the current directory or absolute) relative to the root, or
    /// `None` when it lies outside.
    pub(crate) fn relative(&self, path: &str) -> Option<PathBuf> {
        let root = self.dir.as_deref()?;
        let abs = absolute(Path::new(path))?;
        let rel = abs.strip_prefix(root).ok()?;
        (!rel.as_os_str().is_empty()).then(|| rel.to_path_buf())
    }

    /// The path GitHub wants in annotations: relative to the root with `/` separators, else
    /// absolute.
    pub(crate) fn display(&self, path: &str) -> String {
        match self.relative(path) {
            Some(rel) => slash_path(&rel),
            None => absolute(Path::new(path)).map_or_else(|| path.to_string(), |p| p.display().to_string()),
        }
    }
}

/// The absolute path of a file: canonical (symlinks resolved, like the root) when it exists.
fn absolute(path: &Path) -> Option<PathBuf> {
    path.canonicalize().ok().or_else(|| std::path::absolute(path).ok())
}

fn slash_path(rel: &Path) -> String {
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// A relative path as a URI reference: every byte outside RFC 3986's unreserved set and a few
/// safe sub-delimiters is percent-encoded (`:` too, so a first segment never reads as a scheme).
fn encode_relative(rel: &Path) -> String {
    let mut uri = String::new();
    for (i, component) in rel.components().enumerate() {
        if i > 0 {
            uri.push('/');
        }
        encode_segment(&component.as_os_str().to_string_lossy(), &mut uri);
    }
    uri
}

fn encode_segment(segment: &str, uri: &mut String) {
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
}

/// `/work/repo` → `file:///work/repo/` (a directory URI ends with `/`).
fn file_uri(path: &Path, directory: bool) -> String {
    let mut uri = String::from("file://");
    for component in path.components() {
        match component {
            // `C:` on Windows: the drive letter keeps its colon.
            Component::Prefix(prefix) => {
                uri.push('/');
                uri.push_str(&prefix.as_os_str().to_string_lossy().replace('\\', "/"));
            }
            Component::RootDir => {}
            other => {
                uri.push('/');
                encode_segment(&other.as_os_str().to_string_lossy(), &mut uri);
            }
        }
    }
    if directory || uri == "file://" {
        uri.push('/');
    }
    uri
}

/// Collects the results of every file, then writes the log.
pub(crate) struct Report {
    root: RepoRoot,
    overrides: Vec<ConfigurationOverride>,
    results: Vec<SarifResult>,
}

impl Report {
    pub(crate) fn new(config: &Config) -> Report {
        let overrides = rules::all()
            .iter()
            .enumerate()
            .filter_map(|(index, rule)| {
                let configuration = match config.level(rule) {
                    None => ReportingConfiguration { enabled: Some(false), level: None },
                    Some(s) if level(s) != level(rule.default_severity) => {
                        ReportingConfiguration { enabled: None, level: Some(level(s)) }
                    }
                    Some(_) => return None,
                };
                Some(ConfigurationOverride { descriptor: RuleReference { id: rule.id, index }, configuration })
            })
            .collect();
        Report { root: RepoRoot::discover(), overrides, results: Vec::new() }
    }

    pub(crate) fn add(&mut self, file: &CheckedFile) {
        let text = file.text.as_deref().unwrap_or("");
        let index = LineIndex::for_file(text);
        let (uri, uri_base_id) = match self.root.relative(&file.path) {
            Some(rel) => (encode_relative(&rel), Some(SRCROOT)),
            None => match absolute(Path::new(&file.path)) {
                Some(abs) => (file_uri(&abs, false), None),
                None => (encode_relative(Path::new(&file.path)), None),
            },
        };
        let fingerprint_path = self.root.display(&file.path);

        // Active and suppressed findings in file order, so that the occurrence number of a
        // fingerprint does not change when a finding moves from one list to the other.
        let mut all: Vec<(&Finding, Option<Option<&str>>)> = file.analysis.findings.iter().map(|f| (f, None)).collect();
        all.extend(file.analysis.suppressed.iter().map(|s| (&s.finding, Some(s.reason.as_deref()))));
        all.sort_by_key(|(f, _)| (f.range.start, f.range.end, f.rule));

        let mut occurrences: HashMap<String, u32> = HashMap::new();
        let mut fingerprints = Fingerprints::new(file, &index, &fingerprint_path);
        for (finding, suppression) in all {
            let hash = fingerprints.of(finding);
            let n = occurrences.entry(hash.clone()).or_insert(0);
            *n += 1;
            let suppressions = match suppression {
                Some(reason) => {
                    vec![Suppression {
                        kind: "inSource",
                        status: "accepted",
                        justification: reason.map(str::to_string),
                    }]
                }
                None => Vec::new(),
            };
            self.results.push(SarifResult {
                rule_id: finding.rule,
                rule_index: rules::all().iter().position(|r| r.id == finding.rule),
                level: level(finding.severity),
                message: Message { text: finding.message.clone() },
                locations: [Location {
                    physical_location: PhysicalLocation {
                        artifact_location: ArtifactLocation { uri: uri.clone(), uri_base_id },
                        region: region(&index, text, &finding.range),
                    },
                }],
                partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, format!("{hash}:{n}"))]),
                suppressions,
                properties: ResultProperties {
                    severity: finding.severity.name(),
                    fix: finding.fix.as_ref().map(|f| f.title.clone()),
                },
            });
        }
    }

    /// Writes the log. `execution_successful` is false when a path or file could not be read.
    pub(crate) fn write(
        self,
        out: &mut dyn Write,
        execution_successful: bool,
        database: &DatabaseState,
    ) -> io::Result<()> {
        let original_uri_base_ids = self
            .root
            .dir
            .as_deref()
            .map(|dir| BTreeMap::from([(SRCROOT, OriginalUriBase { uri: file_uri(dir, true) })]))
            .unwrap_or_default();
        let log = Log {
            schema: SCHEMA,
            version: "2.1.0",
            runs: [Run {
                tool: Tool {
                    driver: Driver {
                        name: "safemig",
                        version: env!("CARGO_PKG_VERSION"),
                        semantic_version: env!("CARGO_PKG_VERSION"),
                        information_uri: INFORMATION_URI,
                        rules: rules::all().iter().map(|r| descriptor(r)).collect(),
                    },
                },
                invocations: [Invocation {
                    execution_successful,
                    rule_configuration_overrides: self.overrides,
                    properties: InvocationProperties { database: database.clone() },
                }],
                original_uri_base_ids,
                column_kind: "utf16CodeUnits",
                results: self.results,
            }],
        };
        serde_json::to_writer_pretty(&mut *out, &log)?;
        writeln!(out)
    }
}

/// SARIF has three levels for problems: info and hint are both `note`.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Hint => "note",
    }
}

/// GitHub's `problem.severity` for alerts that are not security alerts.
fn problem_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Hint => "recommendation",
    }
}

fn region(index: &LineIndex, text: &str, range: &Range<usize>) -> Region {
    let start = index.position(text, range.start, PositionEncoding::Utf16);
    let end = index.position(text, range.end, PositionEncoding::Utf16);
    Region { start_line: start.line + 1, start_column: start.col + 1, end_line: end.line + 1, end_column: end.col + 1 }
}

/// Hex SHA-256 (first 128 bits) of the rule, the path, and the normalised text of the statement
/// the finding lies in and of the flagged clause. Without a statement around it (a suppression
/// comment, bytes that were never decoded) the lines the finding covers stand in for the
/// statement, or else its message.
///
/// Each statement (or run of lines) is normalised and hashed once per rule, and each flagged
/// range once per rule and statement, so that many findings in one long statement or comment cost
/// linear time, not the statement's length each.
struct Fingerprints<'f> {
    file: &'f CheckedFile,
    index: &'f LineIndex,
    path: &'f str,
    /// The hasher after the rule, the path and the context, by rule and context.
    contexts: HashMap<(&'static str, Context), Sha256>,
    done: HashMap<(&'static str, usize, Range<usize>), String>,
}

/// What stands for the statement in a fingerprint.
#[derive(PartialEq, Eq, Hash)]
enum Context {
    Statement(usize),
    /// The first and last line, and the message (which stands in for blank lines).
    Lines(usize, usize, String),
}

impl<'f> Fingerprints<'f> {
    fn new(file: &'f CheckedFile, index: &'f LineIndex, path: &'f str) -> Self {
        Fingerprints { file, index, path, contexts: HashMap::new(), done: HashMap::new() }
    }

    fn of(&mut self, finding: &Finding) -> String {
        let key = (finding.rule, finding.statement, finding.range.clone());
        if let Some(hash) = self.done.get(&key) {
            return hash.clone();
        }
        let (file, index) = (self.file, self.index);
        let text: &str = &file.analysis.file.text;
        let statement = file
            .analysis
            .file
            .statements
            .get(finding.statement)
            .filter(|s| s.range.start <= finding.range.start && finding.range.end <= s.range.end);
        let context = match statement {
            Some(_) => Context::Statement(finding.statement),
            None => Context::Lines(
                index.line_of(finding.range.start),
                index.line_of(finding.range.end),
                finding.message.clone(),
            ),
        };
        let path = self.path;
        let mut hasher = self
            .contexts
            .entry((finding.rule, context))
            .or_insert_with(|| {
                let context = match statement {
                    Some(s) => normalise(&s.parsed.text),
                    None => {
                        let first = index.line_range(text, index.line_of(finding.range.start));
                        let last = index.line_range(text, index.line_of(finding.range.end));
                        let lines = normalise(text.get(first.start..last.end.max(first.start)).unwrap_or(""));
                        if lines.is_empty() {
                            normalise(&finding.message)
                        } else {
                            lines
                        }
                    }
                };
                let mut hasher = Sha256::new();
                for part in [finding.rule, path, &context] {
                    hasher.update(part.as_bytes());
                    hasher.update([0]);
                }
                hasher
            })
            .clone();
        let flagged = normalise(text.get(finding.range.clone()).unwrap_or(""));
        hasher.update(flagged.as_bytes());
        hasher.update([0]);
        let hash: String = hasher.finalize()[..16].iter().map(|b| format!("{b:02x}")).collect();
        self.done.insert(key, hash.clone());
        hash
    }
}

fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn descriptor(rule: &'static Rule) -> ReportingDescriptor {
    let url = crate::rules::docs_url(rule.id);
    let flags = section(rule.docs, "What it flags").unwrap_or(rule.summary);
    let mut tags = vec![rule.category.title().to_string()];
    tags.extend(rule.dialects.iter().map(|d| d.name().to_string()));
    let markdown = format!("{}\n\n{}\n\n[Documentation]({url})", rule.summary, rule.docs.trim_end());
    ReportingDescriptor {
        id: rule.id,
        name: pascal_case(rule.id),
        short_description: Text { text: rule.summary.to_string() },
        full_description: MultiformatText {
            text: plain_text(flags).trim_end().to_string(),
            markdown: flags.to_string(),
        },
        help: MultiformatText { text: format!("{}\n\n{}\n{url}\n", rule.summary, plain_text(rule.docs)), markdown },
        help_uri: url,
        default_configuration: ReportingConfiguration { enabled: None, level: Some(level(rule.default_severity)) },
        properties: RuleProperties { tags, problem_severity: problem_severity(rule.default_severity) },
    }
}

/// The body of `## <title>` in a rule's docs, trimmed.
fn section<'d>(docs: &'d str, title: &str) -> Option<&'d str> {
    let heading = format!("## {title}\n");
    let start = docs.find(&heading)? + heading.len();
    let body = &docs[start..];
    let end = body.find("\n## ").map_or(body.len(), |i| i + 1);
    Some(body[..end].trim())
}

/// Markdown as plain text: headings lose their `#`, code blocks lose their fences and are indented.
fn plain_text(markdown: &str) -> String {
    let mut in_code = false;
    let mut out = String::with_capacity(markdown.len());
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            out.push_str("    ");
            out.push_str(line);
        } else if line.starts_with('#') {
            out.push_str(line.trim_start_matches('#').trim_start());
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// `create-index-blocking` → `CreateIndexBlocking`.
fn pascal_case(id: &str) -> String {
    id.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    invocations: [Invocation; 1],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    original_uri_base_ids: BTreeMap<&'static str, OriginalUriBase>,
    column_kind: &'static str,
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<ReportingDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor {
    id: &'static str,
    name: String,
    short_description: Text,
    full_description: MultiformatText,
    help: MultiformatText,
    help_uri: String,
    default_configuration: ReportingConfiguration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct MultiformatText {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct ReportingConfiguration {
    #[serde(skip_serializing_if = "Option::is_none")]
    enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    level: Option<&'static str>,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<String>,
    #[serde(rename = "problem.severity")]
    problem_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rule_configuration_overrides: Vec<ConfigurationOverride>,
    properties: InvocationProperties,
}

/// The invocation's property bag: the dev database's connection state, as in the JSON report.
#[derive(Serialize)]
struct InvocationProperties {
    database: DatabaseState,
}

#[derive(Serialize)]
struct ConfigurationOverride {
    descriptor: RuleReference,
    configuration: ReportingConfiguration,
}

#[derive(Serialize)]
struct RuleReference {
    id: &'static str,
    index: usize,
}

#[derive(Serialize)]
struct OriginalUriBase {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Message,
    locations: [Location; 1],
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
    properties: ResultProperties,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
}

#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<String>,
}

/// safemig's own severity (SARIF's `note` covers both info and hint) and the quick fix's title.
#[derive(Serialize)]
struct ResultProperties {
    severity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_percent_encoded_uri_references() {
        assert_eq!(encode_relative(Path::new("db/migrations/0001_init.sql")), "db/migrations/0001_init.sql");
        assert_eq!(encode_relative(Path::new("a b/c:d%e#f?.sql")), "a%20b/c%3Ad%25e%23f%3F.sql");
        assert_eq!(encode_relative(Path::new("café.sql")), "caf%C3%A9.sql");
    }

    #[cfg(unix)]
    #[test]
    fn file_uris_are_absolute_and_directories_end_with_a_slash() {
        assert_eq!(file_uri(Path::new("/work/my repo"), true), "file:///work/my%20repo/");
        assert_eq!(file_uri(Path::new("/x/a.sql"), false), "file:///x/a.sql");
        assert_eq!(file_uri(Path::new("/"), true), "file:///");
    }

    #[test]
    fn docs_become_descriptions_and_plain_help() {
        let docs = "## What it flags\nA `thing`\non two lines.\n\n## Example\n```sql\nSELECT 1;\n```\n";
        assert_eq!(section(docs, "What it flags"), Some("A `thing`\non two lines."));
        assert_eq!(section(docs, "Example"), Some("```sql\nSELECT 1;\n```"));
        assert_eq!(section(docs, "Instead"), None);
        assert_eq!(plain_text(docs), "What it flags\nA `thing`\non two lines.\n\nExample\n    SELECT 1;\n");
        assert_eq!(pascal_case("create-index-blocking"), "CreateIndexBlocking");
    }

    #[test]
    fn every_rule_has_a_full_description_from_its_docs() {
        for rule in rules::all() {
            let flags = section(rule.docs, "What it flags").unwrap_or_else(|| panic!("{}", rule.id));
            assert!(!flags.is_empty() && !flags.contains("## "), "{}: {flags}", rule.id);
        }
    }

    #[test]
    fn levels_fold_info_and_hint_into_note() {
        assert_eq!(
            [Severity::Error, Severity::Warning, Severity::Info, Severity::Hint].map(level),
            ["error", "warning", "note", "note"]
        );
    }
}
