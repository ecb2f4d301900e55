use super::*;
use crate::config::Config;
use crate::engine;
use crate::sql::Dialect;

/// Analyses `text`, applies every fix of `rule`, and returns the fixed text.
fn fixed(text: &str, rule: &str, settings: &MigrationSettings) -> Option<String> {
    let config = Config::default();
    let analysis = engine::analyze(text, settings, &config, None);
    let finding = analysis.findings.iter().find(|f| f.rule == rule)?;
    let fixes = for_finding(finding, &FixContext::of(&analysis));
    let fix = fixes.first()?;
    Some(apply(text, &fix.edits))
}

fn pg() -> MigrationSettings {
    Config::default().settings(Dialect::Postgres)
}

#[test]
fn create_index_gains_concurrently_and_the_rule_goes_quiet() {
    let text = "-- look users up\r\nCREATE UNIQUE INDEX users_email_idx ON users (email);\r\n";
    let out = fixed(text, "create-index-blocking", &pg()).expect("a fix");
    assert_eq!(out, "-- look users up\r\nCREATE UNIQUE INDEX CONCURRENTLY users_email_idx ON users (email);\r\n");
    let again = engine::analyze(&out, &pg(), &Config::default(), None);
    assert!(again.findings.iter().all(|f| f.rule != "create-index-blocking"), "{:?}", again.findings);
}

#[test]
fn no_keyword_fix_inside_a_transaction() {
    let text = "BEGIN;\nCREATE INDEX i ON t (c);\nCOMMIT;\n";
    assert_eq!(fixed(text, "create-index-blocking", &pg()), None);
    let wrapped = MigrationSettings { wraps_in_transaction: true, ..pg() };
    assert_eq!(fixed("CREATE INDEX i ON t (c);\n", "create-index-blocking", &wrapped), None);
}
