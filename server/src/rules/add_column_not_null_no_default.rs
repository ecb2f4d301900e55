//! `add-column-not-null-no-default`: STUB — to be written (see rules.md).

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, ALL_DIALECTS};

pub static RULE: Rule = Rule {
    id: "add-column-not-null-no-default",
    category: Category::Locks,
    default_severity: Severity::Error,
    dialects: ALL_DIALECTS,
    summary: "STUB",
    docs: DOCS,
    check,
};

const DOCS: &str = "STUB";

fn check(_ctx: &StatementContext, _out: &mut Emitter) {}
