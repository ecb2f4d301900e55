//! One module per framework: everything safemig knows about a migration tool (how its files are
//! laid out and ordered, how a file splits into up and down parts, how the runner uses
//! transactions and how a migration opts out, what the runner does with an out-of-order file).
//! Facts come from `shared/design/reference/frameworks.md`.

use std::path::Path;

use super::{FrameworkKind, Migration, Section, TransactionMode};
use crate::sql::Dialect;

/// A migration tool.
pub trait Framework: Sync {
    fn kind(&self) -> FrameworkKind;

    /// Whether `dir` looks like a migrations directory of this framework, judged from its
    /// listing (and marker files such as `migration_lock.toml` or `atlas.sum`).
    fn detect(&self, dir: &Path) -> bool;

    /// The migrations in `dir`, in the order the runner applies them.
    fn migrations(&self, dir: &Path) -> Vec<Migration>;

    /// The up and down parts of one file's text (most frameworks: the whole file runs one way).
    fn sections(&self, path: &Path, text: &str) -> Vec<Section>;

    /// How the runner executes this file: wrapped in a transaction, sent as one implicit batch,
    /// or opted out (and how a migration opts out).
    fn transaction(&self, path: &Path, text: &str) -> TransactionMode;

    /// What the runner does with a migration that sorts before one already applied, as a clause
    /// for messages ("golang-migrate never applies it: …").
    fn out_of_order(&self) -> &'static str;

    /// The dialect the directory says it uses, when it says (Prisma's `migration_lock.toml`).
    fn dialect_hint(&self, _dir: &Path) -> Option<Dialect> {
        None
    }
}
