//! `constraint-validated-on-add`: STUB — to be written (see rules.md).

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};

pub static RULE: Rule = Rule {
    id: "constraint-validated-on-add",
    category: Category::Locks,
    default_severity: Severity::Warning,
    dialects: POSTGRES,
    summary: "STUB",
    docs: DOCS,
    check,
};

const DOCS: &str = "STUB";

fn check(_ctx: &StatementContext, _out: &mut Emitter) {}
