//! `foreign-key-missing-index`: STUB — to be written (see rules.md).

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};

pub static RULE: Rule = Rule {
    id: "foreign-key-missing-index",
    category: Category::Locks,
    default_severity: Severity::Info,
    dialects: POSTGRES,
    summary: "STUB",
    docs: DOCS,
    check,
};

const DOCS: &str = "STUB";

fn check(_ctx: &StatementContext, _out: &mut Emitter) {}
