//! Quick fixes: rewrites of a finding's statement into the safe pattern.
//!
//! A fix is computed on demand (a code action request, `check --fix`), never during analysis: it
//! reads the finding, the parsed file and how the file runs ([`MigrationSettings`]). Edits are
//! exact: they touch only the statement they fix (or the file header a transaction opt-out
//! lives in), keep the file's line endings, and never overwrite a file ([`FileEdit::Create`]
//! must fail when the file exists).

mod backfill;
mod batched;
mod columns;
mod concurrently;
mod derive;
mod exists;
mod expand;
mod extension;
mod foreign_key_index;
mod history;
mod lock_timeout;
mod names;
mod not_valid;
mod placement;
mod renumber;
mod types;
mod unique;
pub mod verify;
pub mod write;

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::engine::FileAnalysis;
use crate::history::GitHistory;
use crate::live::ledger::Ledger;
use crate::project::Sources;
use crate::rules::{Finding, MigrationContext, MigrationSettings, NoSchema, SchemaView};
use crate::sql::SqlFile;
use crate::workspace::MigrationSet;

/// Whether applying a fix keeps the migration's meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safety {
    /// Same end state, less locking: `check --fix` applies it.
    Safe,
    /// Changes behaviour or needs the user's follow-up (a value to choose, a later step to
    /// write): only `check --fix --unsafe` and the editor apply it.
    Unsafe,
}

/// One change to the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileEdit {
    /// Replace a byte range of the file being fixed.
    Replace { range: Range<usize>, text: String },
    /// Replace a byte range of another file that exists (a framework's configuration file next
    /// to the migration, e.g. Diesel's `metadata.toml`). `expected` is its whole text when the
    /// fix was computed: whoever applies the edit must refuse when the file no longer holds it.
    ReplaceIn { path: PathBuf, range: Range<usize>, text: String, expected: String },
    /// Create a file that must not exist yet.
    Create { path: PathBuf, text: String },
    /// Rename a file or directory (a whole Prisma or Diesel migration) that exists to a path that
    /// must not exist yet: never an overwrite.
    Rename { from: PathBuf, to: PathBuf },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub rule: &'static str,
    pub title: String,
    /// The single obvious fix for the finding.
    pub preferred: bool,
    pub safety: Safety,
    pub edits: Vec<FileEdit>,
}

/// What a fix may read.
pub struct FixContext<'a> {
    pub file: &'a SqlFile,
    pub settings: &'a MigrationSettings,
    /// Where the file sits in its migration set; `None` for a file outside any set (then no fix
    /// can create a migration or use a framework's transaction opt-out).
    pub place: Option<Place<'a>>,
    /// The schema before this file (the replay of the earlier migrations, or nothing known): the
    /// column types, keys and indexes a rewrite needs.
    pub schema: &'a dyn SchemaView,
    /// Facts about the project beyond the file (git history, the dev database's ledger), for the
    /// fixes that need them; empty unless the caller fills them.
    pub project: ProjectFacts<'a>,
    /// The file's statements in context, computed once for all the fixes of a request.
    migration: std::cell::OnceCell<MigrationContext<'a>>,
}

/// What the history fixes read besides the file: filled by the LSP code actions and
/// `check --fix`; every fact is optional and a fix that needs a missing one is not offered.
#[derive(Clone, Copy, Default)]
pub struct ProjectFacts<'a> {
    /// The repository's migration history: the text a migration shipped with, what shipped.
    pub git: Option<&'a GitHistory>,
    /// The dev database's ledger of the file's set.
    pub ledger: Option<&'a Ledger>,
}

/// A migration file's place in its set: what a fix needs to write a framework's transaction
/// opt-out or a new migration after this one.
#[derive(Clone, Copy)]
pub struct Place<'a> {
    pub path: &'a Path,
    pub set: &'a MigrationSet,
    /// Reads the files next to the migration (Flyway's `.sql.conf`, Diesel's `metadata.toml`) and
    /// tells which exist.
    pub sources: &'a dyn Sources,
}

impl<'a> FixContext<'a> {
    pub fn of(analysis: &'a FileAnalysis) -> Self {
        FixContext {
            file: &analysis.file,
            settings: &analysis.settings,
            place: None,
            schema: &NoSchema,
            project: ProjectFacts::default(),
            migration: std::cell::OnceCell::new(),
        }
    }

    /// The same context with the schema the file starts from.
    pub fn with_schema(self, schema: &'a dyn SchemaView) -> Self {
        FixContext { schema, migration: std::cell::OnceCell::new(), ..self }
    }

    /// The file's statements in context, seen over [`FixContext::schema`]: what the rules saw.
    pub fn migration(&self) -> &MigrationContext<'a> {
        self.migration.get_or_init(|| MigrationContext::new(self.file, self.settings, self.schema))
    }

    /// The same context with facts about the project.
    pub fn with(self, project: ProjectFacts<'a>) -> Self {
        FixContext { project, ..self }
    }

    /// The same context for a file at `place` in its migration set.
    pub fn at(self, place: Place<'a>) -> Self {
        FixContext { place: Some(place), ..self }
    }

    /// The text of the whole file.
    pub fn text(&self) -> &'a str {
        &self.file.text
    }

    /// The line ending the file uses (`\r\n` when its first line break is one).
    pub fn newline(&self) -> &'static str {
        let text = self.text();
        match text.find('\n') {
            Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
            _ => "\n",
        }
    }
}

type Fixer = fn(&Finding, &FixContext, &mut Vec<Fix>);

/// Which rules have fixes, and where they are computed.
const FIXERS: &[(&str, Fixer)] = &[
    ("create-index-blocking", concurrently::create_index),
    ("drop-index-blocking", concurrently::drop_index),
    ("reindex-blocking", concurrently::reindex),
    ("constraint-validated-on-add", not_valid::constraint),
    ("set-not-null-scan", not_valid::set_not_null),
    ("lock-timeout-missing", lock_timeout::lock_timeout),
    ("concurrently-in-transaction", concurrently::in_transaction),
    ("validate-in-same-transaction", not_valid::validate_later),
    ("object-already-exists", exists::object_already_exists),
    ("shipped-migration-edited", history::shipped_edited),
    ("applied-migration-edited", history::applied_edited),
    ("duplicate-migration-version", renumber::duplicate),
    ("migration-out-of-order", renumber::out_of_order),
    ("unique-constraint-blocking", unique::unique_constraint),
    ("foreign-key-missing-index", foreign_key_index::foreign_key_index),
    ("add-column-not-null-no-default", columns::not_null_no_default),
    ("add-column-rewrite", columns::rewrite),
    ("backfill-in-schema-migration", backfill::backfill_in_schema_migration),
    ("unbatched-backfill", backfill::unbatched_backfill),
    ("prefer-bigint", types::prefer_bigint),
    ("prefer-identity", types::prefer_identity),
    ("prefer-timestamptz", types::prefer_timestamptz),
    ("prefer-text", types::prefer_text),
    ("ban-char", types::ban_char),
    ("prefer-jsonb", types::prefer_jsonb),
    ("rename-column", expand::rename_column),
    ("rename-table", expand::rename_table),
    ("column-type-rewrite", expand::column_type),
    ("extension-missing", extension::create_extension),
];

/// Rules whose fixes rename or restore whole files: they apply whatever the statements say.
const FILE_FIXES: &[&str] =
    &["shipped-migration-edited", "applied-migration-edited", "duplicate-migration-version", "migration-out-of-order"];

/// The fixes for one finding (none when the rule has no fix, or none applies here). A statement
/// PostgreSQL rejects gets none: what it means is a guess until its syntax is fixed, and moving or
/// rewriting it would write SQL that fails again. Nor does a statement inside a guarded `DO`
/// block ([`crate::sql::StatementFacts::guard`]): the fixers write plain statements.
pub fn for_finding(finding: &Finding, ctx: &FixContext) -> Vec<Fix> {
    let rejected = ctx.file.statements.get(finding.statement).is_some_and(|s| {
        matches!(s.parsed.outcome, crate::sql::ParseOutcome::Invalid { .. }) || s.facts().guard.is_some()
    });
    if rejected && !FILE_FIXES.contains(&finding.rule) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (rule, fixer) in FIXERS {
        if *rule == finding.rule {
            fixer(finding, ctx, &mut out);
        }
    }
    out
}

/// Applies `Replace` edits to `text` (ranges of the original text, in any order, not
/// overlapping). `ReplaceIn`, `Create` and `Rename` edits are about other files and are skipped.
pub fn apply(text: &str, edits: &[FileEdit]) -> String {
    let mut replaces: Vec<(&Range<usize>, &str)> = edits
        .iter()
        .filter_map(|e| match e {
            FileEdit::Replace { range, text } => Some((range, text.as_str())),
            FileEdit::ReplaceIn { .. } | FileEdit::Create { .. } | FileEdit::Rename { .. } => None,
        })
        .collect();
    replaces.sort_by_key(|(r, _)| (r.start, r.end));
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for (range, new) in replaces {
        if range.start < at || range.end > text.len() {
            continue;
        }
        out.push_str(&text[at..range.start]);
        out.push_str(new);
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod expand_tests;
#[cfg(test)]
mod tests;
