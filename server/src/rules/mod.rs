//! The rule catalog. One rule = one file = one id = its docs + its tests.
//!
//! Rules are pure functions of a statement and its [`StatementContext`]: no IO, no clocks, no
//! globals. They report statement-relative spans; the context turns them into file ranges.

pub mod context;
pub mod suppression;

pub use context::{MigrationContext, MigrationSettings, NoSchema, SchemaView, StatementContext, TableSize, TxnOrigin};

/// Where a `CONCURRENTLY` quick fix puts the statement, for the docs of the three index rules
/// that share it (`create-index-blocking`, `drop-index-blocking`, `reindex-blocking`).
macro_rules! concurrently_fix_docs {
    () => {
        r#"- outside any transaction: only the keyword;
- inside `BEGIN … COMMIT` in the file: the statement moves after the `COMMIT`;
- in the runner's transaction, alone in its part of the file: the framework's opt-out — goose
  `-- +goose NO TRANSACTION`, sqlx `-- no-transaction`, Atlas `-- atlas:txmode none` (then run
  `atlas migrate hash`), dbmate `transaction:false` on the block's directive, Flyway
  `executeInTransaction=false` in the script's `.sql.conf`, Diesel `run_in_transaction = false` in
  `metadata.toml` (created, or the key set in the existing file);
- in the runner's transaction with other statements, or in a file the runner sends as one query
  string (golang-migrate, Prisma): the statement moves into a new migration right after this one,
  named in the framework's way (`0004_….up.sql`, `20240102120001_…/migration.sql`, `V3__….sql` with
  its `.sql.conf`, …) and opted out where the framework needs it. For goose, Atlas and Flyway,
  which run statements one by one, the opt-out for the whole file is offered too;
- Supabase, Drizzle and node-pg-migrate SQL files, and pop migrations (but popx's `.autocommit`
  files), always run in a transaction: no fix.

**Safe** when the statement only gains the keyword, or moves without passing a later statement
that names its table or index, and no other statement loses its transaction. **Unsafe** when it
moves past such a statement (what that statement does may change), or when the opt-out takes the
migration's other statements out of their transaction (they no longer roll back together).
`check --fix` applies the safe ones; `--fix --unsafe` and the editor apply both.
"#
    };
}
pub(crate) use concurrently_fix_docs;

use std::ops::Range;

use serde::Serialize;

use crate::sql::{Dialect, Span};

/// How serious a finding is. Ordered: `Hint < Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Hint,
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn parse_name(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "hint" => Some(Severity::Hint),
            "info" | "information" => Some(Severity::Info),
            "warning" | "warn" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Severity::Hint => "hint",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// The catalog section a rule belongs to (as in `rules.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Locks,
    AppSafety,
    Types,
    Transactions,
    History,
    Live,
}

impl Category {
    pub fn title(self) -> &'static str {
        match self {
            Category::Locks => "Locks and rewrites",
            Category::AppSafety => "Running application and data safety",
            Category::Types => "Types",
            Category::Transactions => "Transactions and robustness",
            Category::History => "Migration history",
            Category::Live => "Live database",
        }
    }
}

/// The dialects a PostgreSQL-only rule applies to.
pub const POSTGRES: &[Dialect] = &[Dialect::Postgres];
/// Rules about data and the running application apply everywhere.
pub const ALL_DIALECTS: &[Dialect] = &[Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite];

/// A rule: its id, defaults, documentation and check function.
pub struct Rule {
    pub id: &'static str,
    pub category: Category,
    pub default_severity: Severity,
    pub dialects: &'static [Dialect],
    /// One line for `safemig rules`.
    pub summary: &'static str,
    /// Markdown with the sections `## What it flags`, `## Why it hurts`, `## Example`,
    /// `## Instead` and `## Quick fix`.
    pub docs: &'static str,
    pub check: fn(&StatementContext, &mut Emitter),
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule").field("id", &self.id).finish()
    }
}

/// A quick fix's title (the edit itself arrives with the fixes module).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixHint {
    pub title: String,
}

/// Where a rule's documentation lives (the generated `docs/rules.md`, published).
pub const DOCS_BASE: &str = "https://safemig.dev/rules";

/// The documentation page of a rule.
pub fn docs_url(id: &str) -> String {
    format!("{DOCS_BASE}#{id}")
}

/// One problem found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    /// File-absolute byte range of the offending clause.
    pub range: Range<usize>,
    /// Index of the statement in the file.
    pub statement: usize,
    pub message: String,
    pub fix: Option<FixHint>,
}

/// Collects a rule's findings for one statement.
pub struct Emitter<'r> {
    rule: &'r Rule,
    statement: usize,
    base: Range<usize>,
    pub(crate) out: Vec<Finding>,
}

impl<'r> Emitter<'r> {
    pub(crate) fn new(rule: &'r Rule, statement: usize, base: Range<usize>) -> Self {
        Emitter { rule, statement, base, out: Vec::new() }
    }

    /// Reports `message` on a statement-relative span at the rule's default severity.
    pub fn report(&mut self, span: Span, message: impl Into<String>) -> &mut Finding {
        self.report_at(self.rule.default_severity, span, message)
    }

    /// Reports at an explicit severity (for rules whose severity depends on the case).
    pub fn report_at(&mut self, severity: Severity, span: Span, message: impl Into<String>) -> &mut Finding {
        let start = (self.base.start + span.start as usize).min(self.base.end);
        let end = (self.base.start + span.end as usize).clamp(start, self.base.end);
        self.out.push(Finding {
            rule: self.rule.id,
            severity,
            range: start..end,
            statement: self.statement,
            message: message.into(),
            fix: None,
        });
        self.out.last_mut().expect("just pushed")
    }
}

impl Finding {
    pub fn with_fix(&mut self, title: impl Into<String>) -> &mut Self {
        self.fix = Some(FixHint { title: title.into() });
        self
    }
}

/// Every rule, in catalog order.
pub fn all() -> &'static [&'static Rule] {
    ALL
}

pub fn by_id(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.id == id)
}

/// Rule ids reserved by the catalog for later features (history, live database, MySQL/SQLite).
/// They are valid in config and suppressions but have no check yet.
pub const RESERVED_IDS: &[&str] = &["mysql-table-copy", "sqlite-alter-unsupported"];

/// A known id: implemented now or reserved by the catalog.
pub fn is_known_id(id: &str) -> bool {
    by_id(id).is_some() || RESERVED_IDS.contains(&id)
}

macro_rules! rule_modules {
    ($($module:ident),* $(,)?) => {
        $(pub mod $module;)*
        static ALL: &[&Rule] = &[$(&$module::RULE),*];
    };
}

rule_modules! {
    create_index_blocking,
    drop_index_blocking,
    reindex_blocking,
    concurrently_in_transaction,
    add_column_rewrite,
    add_column_not_null_no_default,
    set_not_null_scan,
    constraint_validated_on_add,
    validate_in_same_transaction,
    unique_constraint_blocking,
    exclusion_constraint,
    column_type_rewrite,
    foreign_key_missing_index,
    lock_timeout_missing,
    table_rewrite_command,
    rename_column,
    rename_table,
    drop_column,
    drop_table,
    truncate_table,
    drop_database_or_schema,
    backfill_in_schema_migration,
    unbatched_backfill,
    prefer_bigint,
    prefer_identity,
    prefer_timestamptz,
    prefer_text,
    prefer_jsonb,
    ban_char,
    transaction_nesting,
    uncommitted_transaction,
    identifier_too_long,
    syntax_error,
    unused_suppression,
    object_already_exists,
    object_does_not_exist,
    shipped_migration_edited,
    shipped_migration_removed,
    duplicate_migration_version,
    migration_out_of_order,
    conflicting_migrations,
    applied_migration_edited,
    migration_failed,
    applied_migration_missing,
    schema_drift,
    existing_rows_violate,
    migration_partially_applied,
    migration_will_fail,
    baseline_needed,
    extension_missing,
    internal_error,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_documented_in_full() {
        for rule in all() {
            for section in ["## What it flags", "## Why it hurts", "## Example", "## Instead", "## Quick fix"] {
                assert!(rule.docs.contains(section), "{} docs lack `{section}`", rule.id);
            }
            assert!(!rule.summary.is_empty(), "{}", rule.id);
            assert!(rule.id.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{}", rule.id);
        }
    }

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<_> = all().iter().map(|r| r.id).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }
}
