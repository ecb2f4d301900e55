//! `internal-error`: safemig itself failed on a file (a bug: a panic in its parser, recogniser or
//! rules). Not a fact about the migration; the finding asks for a bug report.
//!
//! `engine::contained` runs each file's analysis, in `safemig check`, in the project pass and on
//! an open buffer, and turns a panic into this finding on that file: the other files keep their
//! findings, and the language server keeps its project analysis.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, ALL_DIALECTS};

pub static RULE: Rule = Rule {
    id: "internal-error",
    category: Category::Transactions,
    default_severity: Severity::Error,
    dialects: ALL_DIALECTS,
    summary: "safemig failed on this file (a bug in safemig, not in the migration): it was not checked; please report it",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
A file safemig could not analyse because safemig itself failed on it: a panic in its parser,
recogniser or rules, with the panic's message. The file's other findings are missing; every other
file is checked as usual, and the language server goes on analysing the workspace.

## Why it hurts
An unchecked migration can carry any of the problems the other rules find. The failure is a bug
in safemig, whatever the file holds.

## Example
Any file that trips a bug: the finding says `safemig failed on this file (internal error: …)`.

## Instead
Report the bug to safemig's maintainers, with the file (or the statement the message points at)
and the message. Until it is fixed, review the migration by hand. The finding is
reported whatever `[rules]` says: the file was not checked either way.

## Quick fix
None.
"#;

fn check(_ctx: &StatementContext, _out: &mut Emitter) {}

/// The finding's message for a panic whose message is `panic`.
pub fn message(panic: &str) -> String {
    let panic: String = panic.chars().take(300).collect();
    format!(
        "safemig failed on this file (internal error: {panic}), so it was not checked and its findings are missing; \
         this is a bug in safemig, not in the migration: please report it to safemig's maintainers with the file \
         and this message"
    )
}
