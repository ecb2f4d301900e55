//! `migration-will-fail`: a pending migration that creates what already exists in the dev
//! database, or alters, drops or references what does not.
//!
//! A fact about the database, not about a statement: `Project::analyze_live` replays the pending
//! migrations onto the database's schema (`live::pending::as_live`) and calls [`message`] for
//! each conflict the replay of the chain alone does not have; the statement-level check has
//! nothing to do.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};
use crate::schema::ReplayEvent;

pub static RULE: Rule = Rule {
    id: "migration-will-fail",
    category: Category::Live,
    default_severity: Severity::Error,
    dialects: POSTGRES,
    summary: "a pending migration creates what exists in the dev database, or changes what it lacks",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
A statement of a migration that the connected database has not run yet (no ledger row, or no
ledger at all) that will fail there: it creates a table, view, column, index or constraint that
the database already has (without `IF NOT EXISTS`), or it alters, drops, indexes or references
one the database does not have. The message names the object and the database (its name only).

The pending migrations are replayed in runner order onto the database's own schema (the
migrations it ran, corrected by its catalog), so an object an earlier pending migration creates
is not missing. Conflicts the chain itself has (`object-already-exists`, `object-does-not-exist`)
are not repeated; a pending migration that ran in part is `migration-partially-applied`'s; and
when the database holds the first migrations' objects without ledger rows, `baseline-needed`
reports that once instead of one finding per object.

## Why it hurts
The migration passes review and CI, which build a fresh database from the migrations, and then
fails on this database: `relation "coupons" already exists`, `column "phone" of relation
"users" does not exist`. Someone made the object by hand, a branch's migration was applied and
then switched away from, or the database was restored from elsewhere.

## Example
```sql
-- pending: 0004_coupons.up.sql
CREATE TABLE coupons (id bigint PRIMARY KEY, code text NOT NULL);
-- the dev database already has a table `coupons` (made by hand)
```

## Instead
Bring the database back in line with the migrations it ran (drop the hand-made object, or
re-create the missing one), or rebuild it from the migrations. If the object should stay, make
the statement skip it (`CREATE TABLE IF NOT EXISTS`) only when its definition is the same.

## Quick fix
None: which side is right is a decision about the database.
"#;

fn check(_ctx: &StatementContext, _out: &mut Emitter) {}

/// The message for a conflict with the database `database`; `by_ledger`: the database's ledger
/// says which migrations ran (else it has none, and every migration counts as pending).
pub fn message(event: &ReplayEvent, database: &str, by_ledger: bool) -> String {
    match event {
        ReplayEvent::AlreadyExists { object, guard, .. } => {
            let origin = if by_ledger { ", though no migration the ledger lists as applied creates it" } else { "" };
            let skip = guard.map(|g| format!(", or add `{g}` if it is the same object")).unwrap_or_default();
            format!(
                "will fail on the dev database `{database}`: {object} already exists there{origin} (made by hand, or \
                 by another branch's migration?). Drop it from the database{skip}"
            )
        }
        ReplayEvent::DoesNotExist { object, .. } => {
            let origin = if by_ledger { ", though the migrations the ledger lists as applied create it" } else { "" };
            format!(
                "will fail on the dev database `{database}`: {object} does not exist there{origin} (dropped or renamed \
                 by hand?). Re-create it, or rebuild the database from the migrations"
            )
        }
    }
}
