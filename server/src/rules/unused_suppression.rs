//! `unused-suppression`: a suppression comment that silences nothing or names an unknown rule.
//!
//! Suppressions can only be judged after every other rule has run, so the engine calls
//! [`apply`]; the statement-level check has nothing to do.

use std::collections::HashMap;

use crate::config::Config;
use crate::engine::Suppressed;
use crate::rules::suppression::Suppression;
use crate::rules::{self, Category, Emitter, Finding, Rule, Severity, StatementContext, ALL_DIALECTS};
use crate::sql::SqlFile;

pub static RULE: Rule = Rule {
    id: "unused-suppression",
    category: Category::Transactions,
    default_severity: Severity::Warning,
    dialects: ALL_DIALECTS,
    summary: "a `safemig: ignore` comment that suppresses nothing or names an unknown rule",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
A `-- safemig: ignore <id>` or `-- safemig: ignore-file <id>` comment that names a rule id that does
not exist, or that silences nothing (the rule does not fire there, or is off). An `ignore-file`
after the first statement is reported too: it only works at the top of the file.

## Why it hurts
A stale suppression hides the next real problem of that kind on that statement, and a misspelt id
silences nothing while looking as if it does.

## Example
```sql
-- safemig: ignore create-index-blocker — typo: the id is create-index-blocking
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
```

## Instead
```sql
-- safemig: ignore create-index-blocking — orders is empty until launch
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
```

## Quick fix
Remove the comment (or the unused id).
"#;

fn check(_ctx: &StatementContext, _out: &mut Emitter) {}

/// Splits `raw` into reported and suppressed findings, and adds `unused-suppression` findings.
pub fn apply(raw: Vec<Finding>, suppressions: &[Suppression], config: &Config, file: &SqlFile) -> (Vec<Finding>, Vec<Suppressed>) {
    let mut used: Vec<Vec<bool>> = suppressions.iter().map(|s| vec![false; s.ids.len()]).collect();
    // The first suppression (in file order) of each rule id for each scope (`None`: the whole
    // file), so that a finding is matched in O(1) however many comments and ids the file holds.
    let mut first: HashMap<(Option<usize>, &str), (usize, usize)> = HashMap::new();
    for (si, s) in suppressions.iter().enumerate().filter(|(_, s)| !s.misplaced) {
        let scope = match (s.file_wide, s.statement) {
            (true, _) => None,
            (false, Some(statement)) => Some(statement),
            (false, None) => continue,
        };
        for (ii, id) in s.ids.iter().enumerate() {
            first.entry((scope, id.as_str())).or_insert((si, ii));
        }
    }
    let mut findings = Vec::with_capacity(raw.len());
    let mut suppressed = Vec::new();
    for f in raw {
        let hit = [None, Some(f.statement)].into_iter().filter_map(|scope| first.get(&(scope, f.rule)).copied()).min();
        match hit {
            Some((si, ii)) => {
                used[si][ii] = true;
                suppressed.push(Suppressed { finding: f, reason: suppressions[si].reason.clone() });
            }
            None => findings.push(f),
        }
    }
    let Some(level) = config.level(&RULE) else { return (findings, suppressed) };
    for (si, s) in suppressions.iter().enumerate() {
        let statement = s.statement.unwrap_or(0);
        let mut report = |message: String| {
            findings.push(Finding {
                rule: RULE.id,
                severity: level,
                range: s.range.clone(),
                statement,
                message,
                fix: Some(rules::FixHint { title: "Remove the suppression".into() }),
            });
        };
        if s.ids.is_empty() {
            report("this suppression names no rule id; write `-- safemig: ignore <rule-id> — reason`".into());
            continue;
        }
        if s.misplaced {
            report("`ignore-file` only works before the first statement of the file".into());
            continue;
        }
        for (ii, id) in s.ids.iter().enumerate() {
            if used[si][ii] {
                continue;
            }
            if !rules::is_known_id(id) {
                report(format!("`{id}` is not a safemig rule id; `safemig rules` lists them"));
            } else if rules::by_id(id).is_some_and(|r| config.level(r).is_none()) {
                report(format!("`{id}` is turned off in the configuration, so this suppression does nothing"));
            } else if s.statement.is_none() && !s.file_wide {
                report(format!("no statement follows this suppression of `{id}`"));
            } else {
                report(format!("`{id}` does not fire here, so this suppression does nothing"));
            }
        }
    }
    let _ = file;
    (findings, suppressed)
}
