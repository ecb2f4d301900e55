//! Rule fixtures: `tests/fixtures/rules/<rule-id>/*.sql`, one snapshot each.
//!
//! - `bad*.sql` must produce at least one finding of the rule in its directory;
//! - `good*.sql` must produce none;
//! - every fixture's findings of that rule are snapshotted (range, severity, message, underline).
//!
//! Leading `-- config: <toml line>` comments set configuration for the fixture, e.g.
//! `-- config: postgres_version = 11` or `-- config: assume_in_transaction = true`.

use std::path::Path;

use safemig::config::Config;
use safemig::engine::{analyze, dialect_for_path};
use safemig::rules::Finding;
use safemig::text::LineIndex;

fn fixture_config(text: &str, path: &Path) -> Config {
    let toml: String = text
        .lines()
        .take_while(|l| l.starts_with("--"))
        .filter_map(|l| l.strip_prefix("-- config:"))
        .map(|l| format!("{}\n", l.trim()))
        .collect();
    let (config, problems) = Config::from_toml(&toml, &path.display().to_string());
    assert!(problems.is_empty(), "bad fixture config in {}: {problems:?}", path.display());
    config
}

/// `line:col-line:col severity[rule] message`, then the source line with a caret underline.
fn render(text: &str, findings: &[&Finding]) -> String {
    let index = LineIndex::new(text);
    let mut out = String::new();
    for f in findings {
        let start = index.char_position(text, f.range.start);
        let end = index.char_position(text, f.range.end);
        out.push_str(&format!(
            "{}:{}-{}:{} {}[{}] {}\n",
            start.line + 1,
            start.col + 1,
            end.line + 1,
            end.col + 1,
            f.severity.name(),
            f.rule,
            f.message
        ));
        let line = &text[index.line_range(text, start.line as usize)];
        let width = if end.line == start.line {
            (end.col - start.col).max(1) as usize
        } else {
            line.chars().count().saturating_sub(start.col as usize).max(1)
        };
        out.push_str(&format!("    | {line}\n    | {}{}\n", " ".repeat(start.col as usize), "^".repeat(width)));
        if let Some(fix) = &f.fix {
            out.push_str(&format!("    = fix: {}\n", fix.title));
        }
    }
    if out.is_empty() {
        out.push_str("(no findings)\n");
    }
    out
}

#[test]
fn rule_fixtures() {
    insta::glob!("fixtures/rules/*/*.sql", |path| {
        let rule_id = path.parent().and_then(Path::file_name).and_then(|n| n.to_str()).expect("rule directory");
        assert!(safemig::rules::by_id(rule_id).is_some(), "fixture directory {rule_id} names no rule");
        let text = std::fs::read_to_string(path).expect("fixture is readable UTF-8");
        let config = fixture_config(&text, path);
        let settings = config.settings(dialect_for_path(path, &config));
        let analysis = analyze(&text, &settings, &config, None);
        let mine: Vec<&Finding> = analysis.findings.iter().filter(|f| f.rule == rule_id).collect();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.starts_with("bad") {
            assert!(!mine.is_empty(), "{}: expected a {rule_id} finding, got none", path.display());
        } else if name.starts_with("good") {
            assert!(mine.is_empty(), "{}: expected no {rule_id} finding, got {mine:#?}", path.display());
        }
        insta::assert_snapshot!(render(&text, &mine));
    });
}
