//! `concurrently-in-transaction`: STUB — to be written (see rules.md).

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};

pub static RULE: Rule = Rule {
    id: "concurrently-in-transaction",
    category: Category::Locks,
    default_severity: Severity::Error,
    dialects: POSTGRES,
    summary: "STUB",
    docs: DOCS,
    check,
};

const DOCS: &str = "STUB";

fn check(_ctx: &StatementContext, _out: &mut Emitter) {}
