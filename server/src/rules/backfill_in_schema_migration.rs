//! `backfill-in-schema-migration`: STUB — to be written (see rules.md).

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, ALL_DIALECTS};

pub static RULE: Rule = Rule {
    id: "backfill-in-schema-migration",
    category: Category::AppSafety,
    default_severity: Severity::Warning,
    dialects: ALL_DIALECTS,
    summary: "STUB",
    docs: DOCS,
    check,
};

const DOCS: &str = "STUB";

fn check(_ctx: &StatementContext, _out: &mut Emitter) {}
