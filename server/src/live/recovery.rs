//! The recovery migration for a failed one: a new migration, in the framework's own naming, that
//! completes what the failed migration did not do, guarded so that it can run again.
//!
//! [`recovery_migration`] takes the failed migration's [`StatementEffect`]s and writes the
//! statements that did not take effect ([`EffectState::NotApplied`], [`EffectState::Partial`]
//! and [`EffectState::Unknown`]; what took effect is only listed in the header) with guards:
//!
//! - `CREATE TABLE / INDEX / SEQUENCE / SCHEMA / MATERIALIZED VIEW … IF NOT EXISTS` (an unnamed
//!   index gets the name PostgreSQL would have given it, since `IF NOT EXISTS` needs one),
//!   `CREATE OR REPLACE VIEW / TRIGGER / FUNCTION`, `DROP … IF EXISTS`;
//! - an `ALTER TABLE` is split into one statement per action: `ADD COLUMN IF NOT EXISTS`,
//!   `DROP COLUMN / CONSTRAINT IF EXISTS`; `ADD CONSTRAINT` and renames run inside
//!   `DO $safemig$ BEGIN IF [NOT] EXISTS (… pg_constraint / pg_attribute / to_regclass …) THEN …
//!   END IF; END $safemig$`; `SET / DROP NOT NULL`, `SET / DROP DEFAULT`, `ALTER COLUMN TYPE`
//!   and `VALIDATE CONSTRAINT` are idempotent as written; `CREATE TYPE` checks `pg_type`;
//! - a failed concurrent index build (an INVALID index) first runs `DROP INDEX CONCURRENTLY IF
//!   EXISTS <invalid index>`, then builds the index again with `CREATE … INDEX CONCURRENTLY IF NOT
//!   EXISTS`. `CONCURRENTLY` cannot run inside a `DO` block, so the drop is unconditional: running
//!   the recovery again rebuilds that index (it still succeeds);
//! - an `INSERT` whose table has a unique key (primary key, unique constraint or index, not
//!   partial; in the schema the failed migration meant, or in the database) among the columns it
//!   gives (all of them without a column list) gets `ON CONFLICT DO NOTHING` (before any
//!   `RETURNING`): run again, it skips the rows it added. An `INSERT` with an `ON CONFLICT` of its
//!   own is re-runnable as written;
//! - a `DO` block that already guards its one statement (an earlier recovery's, see
//!   [`StatementFacts::guard`]) is copied as it is;
//! - statements the catalog cannot judge (other data changes, other `DO` blocks, grants) are
//!   copied as they are, marked `not guarded`: check them before applying.
//!
//! The statements keep the failed migration's order, except that a data statement moves before
//! the constraints that check the rows it writes ([`reorder`]): a migration that added a foreign
//! key before the `INSERT` seeding the table it references failed on the existing rows, and
//! would fail again in that order. A data piece (`INSERT`, `UPDATE`, `COPY … FROM`) walks back
//! over the constraint pieces right before it (`ADD CONSTRAINT` without `NOT VALID`,
//! `SET NOT NULL`, `VALIDATE CONSTRAINT`, a non-concurrent `CREATE UNIQUE INDEX`) and goes just
//! before the earliest of them that checks its table (the constrained one, or for a foreign key
//! also the referenced one). Anything else stops the walk — any other DDL (which the statement
//! may need: the table, the column it fills), another data change, a setting, a `DO` block — and
//! so do a unique key of its table when the statement has its own `ON CONFLICT`, and a foreign
//! key with `ON UPDATE` actions for an `UPDATE`. So DDL never changes places, moved statements
//! keep their order among themselves, and each says where it moved from.
//!
//! The recovery is analysed like any migration: the guarded `DO` blocks it writes have the facts
//! of the statement inside (`sql::recognize`), so the replayed schema holds their constraints,
//! renames and types, and the rules and probes of a plain `ADD CONSTRAINT` apply to them.
//!
//! A concurrent build must run outside a transaction, and each framework has its own way:
//!
//! | framework | what the recovery does |
//! |---|---|
//! | goose | one file with `-- +goose NO TRANSACTION` (goose runs its statements one by one; `DO` blocks sit between `StatementBegin`/`StatementEnd`) |
//! | Atlas | one file with the `-- atlas:txmode none` header directive (then `atlas migrate hash`) |
//! | Flyway | one file plus `<file>.sql.conf` with `executeInTransaction=false` |
//! | sqlx, dbmate | each `CONCURRENTLY` statement in a file of its own that starts with `-- no-transaction` / declares `-- migrate:up transaction:false`: both send a file as one query string, which PostgreSQL runs as one implicit transaction when it holds several statements |
//! | Diesel | each `CONCURRENTLY` statement in a migration directory of its own with `metadata.toml` `run_in_transaction = false` |
//! | golang-migrate, Prisma, plain | each `CONCURRENTLY` statement in a file of its own: a file holding a single statement runs outside any transaction |
//! | Supabase, Drizzle, node-pg-migrate (SQL), pop | the runner always uses a transaction: the index is built without `CONCURRENTLY` (it blocks writes while it builds), and the header says how to build it concurrently by hand first, which makes the migration's `IF NOT EXISTS` a no-op |
//!
//! Files are named with the next version(s) after the set's newest migration, in the
//! framework's format (`0004_recover_add_email.up.sql`, `20240102120001_recover_init/migration.sql`,
//! `V5__recover_add_email.sql`, `2024-01-02-120001_recover_x/up.sql`, …). The header of the first
//! file names the failed migration, what already took effect, what is left, and the ledger command
//! that marks the failed migration resolved ([`ledger_command`]); apply the recovery with the
//! runner after that command.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::schema::{ConstraintType, Origin, Schema};
use crate::sql::facts::*;
use crate::sql::{SqlFile, Statement};
use crate::workspace::frameworks::naming::{self, Namer};
use crate::workspace::{FrameworkKind, Migration, MigrationSet};

const NOTHING_DOWN: &str = "-- Nothing to undo: this migration completes a failed one.\n";

use super::effects::{EffectState, StatementEffect};
use super::LiveSnapshot;

/// One file of a recovery migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryFile {
    /// Where it goes: under the set's directory.
    pub path: PathBuf,
    /// The path relative to the set's directory (`0004_recover_x.up.sql`,
    /// `20240102120001_recover_x/migration.sql`).
    pub name: String,
    pub text: String,
    /// A runner configuration file rather than SQL (Flyway `.sql.conf`, Diesel `metadata.toml`).
    pub config: bool,
}

/// A recovery migration: its files in the order the runner applies them, and the command that
/// marks the failed migration resolved in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// At least one file. Several when concurrent statements must each sit alone in a file, or
    /// the framework wants a configuration file or a down file next to it.
    pub files: Vec<RecoveryFile>,
    /// Run before applying the recovery: marks the failed migration resolved (applied).
    pub ledger_command: String,
    /// Some statement must run outside a transaction (a concurrent index build).
    pub outside_transaction: bool,
    /// Statements copied without a guard (their effect is unknown), by line in the failed file.
    pub unguarded: Vec<u32>,
    /// The failed statements already took effect entirely: nothing is left to run.
    pub nothing_left: bool,
}

impl Recovery {
    /// The first file's path.
    pub fn path(&self) -> &Path {
        self.files.first().map_or(Path::new(""), |f| f.path.as_path())
    }
    /// The first file's name (relative to the set directory).
    pub fn file_name(&self) -> &str {
        self.files.first().map_or("", |f| f.name.as_str())
    }
    /// The first file's text.
    pub fn text(&self) -> &str {
        self.files.first().map_or("", |f| f.text.as_str())
    }
    /// The SQL files in runner order (configuration and empty down files left out).
    pub fn sql_files(&self) -> impl Iterator<Item = &RecoveryFile> {
        self.files.iter().filter(|f| !f.config && !is_down(&f.name))
    }
}

fn is_down(name: &str) -> bool {
    name.ends_with(".down.sql") || name.ends_with("/down.sql")
}

/// One statement of the recovery.
#[derive(Debug, Clone)]
struct Piece {
    /// Comment lines above it (without `-- `).
    comment: Vec<String>,
    sql: String,
    /// The same statement without `CONCURRENTLY`, for runners that cannot leave the transaction.
    blocking: Option<String>,
    /// A PL/pgSQL block (`DO`, functions): goose needs `StatementBegin` / `StatementEnd` around it.
    block: bool,
    /// A session setting (`SET lock_timeout …`): it goes with the statements after it.
    setting: bool,
    /// What it means for the order of the recovery ([`reorder`]).
    role: Role,
}

/// A piece's part in [`reorder`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Role {
    /// Anything else (DDL, `DELETE`, settings, blocks): the pieces after it never move before it.
    #[default]
    Fixed,
    /// A constraint that checks the rows already in `tables` when it runs: `ADD CONSTRAINT` (not
    /// `NOT VALID`), `SET NOT NULL`, `VALIDATE CONSTRAINT`, `CREATE UNIQUE INDEX` (not
    /// concurrent). A foreign key checks its own table and the one it references.
    Constraint {
        tables: Vec<String>,
        /// For messages: `line 2: ADD CONSTRAINT users_role_fk`.
        what: String,
        /// A unique key (or exclusion) of this table: an `ON CONFLICT` may need it.
        key_of: Option<String>,
        /// A foreign key with `ON UPDATE …`: an `UPDATE` of the referenced table acts through it.
        on_update: bool,
    },
    /// `INSERT`, `UPDATE` or `COPY … FROM` that writes rows of `table`.
    Data {
        table: String,
        update: bool,
        /// An `ON CONFLICT` of its own, which may name a key a constraint piece creates.
        on_conflict: bool,
    },
}

impl Piece {
    fn new(sql: String) -> Piece {
        let block = sql.contains("$safemig$") || sql.contains("$$");
        Piece { comment: Vec::new(), sql, blocking: None, block, setting: false, role: Role::Fixed }
    }
    fn with_role(mut self, role: Role) -> Piece {
        self.role = role;
        self
    }
    fn concurrent(&self) -> bool {
        self.blocking.is_some()
    }
}

/// How a framework runs a statement that must not be in a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outside {
    /// One file, marked by a directive or a configuration file.
    OneFile,
    /// Each concurrent statement alone in its own file (marked when the framework has a marker).
    OwnFile,
    /// The runner always wraps: build without CONCURRENTLY.
    Never,
}

fn outside(kind: FrameworkKind) -> Outside {
    match kind {
        FrameworkKind::Goose | FrameworkKind::Atlas | FrameworkKind::Flyway => Outside::OneFile,
        FrameworkKind::GolangMigrate
        | FrameworkKind::Prisma
        | FrameworkKind::Sqlx
        | FrameworkKind::Dbmate
        | FrameworkKind::Diesel
        | FrameworkKind::Plain => Outside::OwnFile,
        FrameworkKind::Supabase | FrameworkKind::Drizzle | FrameworkKind::NodePgMigrate | FrameworkKind::Pop => {
            Outside::Never
        }
    }
}

/// What the pieces of one statement are written from.
struct Known<'a> {
    live: &'a LiveSnapshot,
    /// The schema the failed migration meant to leave: the one before it with all of it applied.
    intended: Schema,
    /// The statement's line in the failed file.
    line: u32,
}

impl Known<'_> {
    fn key(&self, name: &QualifiedName) -> String {
        self.intended.key(name)
    }

    /// `table` has a unique key (primary key, unique constraint or index, not partial) whose
    /// columns are all among `given` (`None`: every column is given), in the schema the failed
    /// migration meant or in the database.
    fn has_key_among(&self, table: &QualifiedName, given: Option<&[Name]>) -> bool {
        let covered =
            |columns: &[String]| given.is_none_or(|g| columns.iter().all(|c| g.iter().any(|n| n.value == *c)));
        let replayed = self
            .intended
            .table(table)
            .is_some_and(|t| self.intended.indexes_of(t).any(|i| i.unique && !i.partial && covered(&i.columns)));
        replayed
            || self
                .live
                .table(&self.key(table))
                .is_some_and(|t| t.indexes.iter().any(|i| i.unique && i.valid && !i.partial && covered(&i.columns)))
    }
}

/// The recovery migration for `migration` of `set`, whose up file `file` failed part-way;
/// `effects` from [`super::effects::statement_effects`], `before` the schema the failed
/// migration started from (replayed), `live` the database now.
pub fn recovery_migration(
    set: &MigrationSet,
    migration: &Migration,
    file: &SqlFile,
    effects: &[StatementEffect],
    before: &Schema,
    live: &LiveSnapshot,
) -> Recovery {
    let mut intended = before.clone();
    for stmt in file.statements.iter().filter(|s| !matches!(s.kind(), StatementKind::Empty)) {
        intended.apply(stmt, &Origin::here(0));
    }
    let mut known = Known { live, intended, line: 0 };
    let lines = crate::text::LineIndex::new(&file.text);
    let line_of =
        |e: &StatementEffect| file.statements.get(e.statement).map_or(0, |s| lines.line_of(s.range.start) as u32 + 1);
    let label_of =
        |e: &StatementEffect| file.statements.get(e.statement).map_or_else(String::new, |s| s.facts().label.clone());
    // What goes into the recovery, in order.
    let mut pieces: Vec<Piece> = Vec::new();
    let mut unguarded = Vec::new();
    let mut pending_settings: Vec<Piece> = Vec::new();
    for e in effects {
        let Some(stmt) = file.statements.get(e.statement) else { continue };
        let line = line_of(e);
        match stmt.kind() {
            StatementKind::Transaction(_) | StatementKind::Empty => continue,
            StatementKind::Set(_) => {
                let mut p = Piece::new(statement_text(stmt).to_string());
                p.setting = true;
                p.comment.push(format!("line {line}: a setting of the failed migration's session"));
                pending_settings.push(p);
                continue;
            }
            _ => {}
        }
        if e.state == EffectState::Applied {
            continue;
        }
        known.line = line;
        let mut made = guarded(stmt, e, &known);
        if made.unguarded {
            unguarded.push(line);
        }
        if let Some(first) = made.pieces.first_mut() {
            first.comment.insert(0, format!("line {line}: {} ({}: {})", label_of(e), e.state.name(), e.why));
            if made.unguarded {
                first.comment.push("not guarded: safemig cannot tell whether this ran; check before applying".into());
            }
        }
        pieces.append(&mut pending_settings);
        pieces.extend(made.pieces);
    }
    let mut pieces = reorder(pieces);
    let nothing_left = pieces.is_empty();
    let kind = set.framework;
    let strategy = outside(kind);
    let outside_transaction = pieces.iter().any(Piece::concurrent) && strategy != Outside::Never;
    if strategy == Outside::Never {
        for p in pieces.iter_mut() {
            if let Some(blocking) = p.blocking.take() {
                p.sql = blocking;
                p.comment.push(format!(
                    "{kind} runs every migration in a transaction, so this builds without CONCURRENTLY and blocks \
                     writes while it runs; to avoid that, run it by hand with CONCURRENTLY first (psql), which turns \
                     this statement into a no-op"
                ));
            }
        }
    }
    // Files: chunks of pieces.
    let mut chunks: Vec<Vec<Piece>> = Vec::new();
    match strategy {
        Outside::OwnFile => {
            // Settings stay with the statements after them: a file of settings alone does nothing.
            let mut current: Vec<Piece> = Vec::new();
            for p in pieces {
                if p.concurrent() {
                    if current.iter().any(|c| !c.setting) {
                        chunks.push(std::mem::take(&mut current));
                    }
                    chunks.push(vec![p]);
                } else {
                    current.push(p);
                }
            }
            if current.iter().any(|c| !c.setting) {
                chunks.push(current);
            }
        }
        Outside::OneFile | Outside::Never => chunks.push(pieces),
    }
    if chunks.is_empty() {
        chunks.push(Vec::new());
    }

    let namer = Namer::after_newest(set, &slug(migration));
    let failed_name = display(set, migration);
    let ledger = ledger_command(kind, set, migration, file);
    // The header of the first file.
    let mut header = String::new();
    let _ = writeln!(header, "-- Recovery for the failed {kind} migration {failed_name}, written by safemig.");
    let db = if live.database.is_empty() { String::new() } else { format!(" `{}`", live.database) };
    let took: Vec<String> = effects
        .iter()
        .filter(|e| e.state == EffectState::Applied && !matches!(statement_kind(file, e), Some(StatementKind::Set(_))))
        .map(|e| format!("--   line {}: {} — {}", line_of(e), label_of(e), e.why))
        .collect();
    let _ = writeln!(header, "--");
    if took.is_empty() {
        let _ = writeln!(header, "-- The database{db} shows none of its statements took effect.");
    } else {
        let _ = writeln!(header, "-- Already took effect (the database{db} shows it), not repeated here:");
        for t in &took {
            let _ = writeln!(header, "{t}");
        }
    }
    let partial: Vec<String> = effects
        .iter()
        .filter(|e| e.state == EffectState::Partial)
        .map(|e| format!("--   line {}: {} — {}", line_of(e), label_of(e), e.why))
        .collect();
    if !partial.is_empty() {
        let _ = writeln!(header, "-- Left behind, cleaned up here first:");
        for p in &partial {
            let _ = writeln!(header, "{p}");
        }
    }
    if nothing_left {
        let _ = writeln!(header, "-- Nothing is left to run: marking the migration resolved is enough.");
    } else {
        let _ = writeln!(header, "-- The rest follows, guarded so that this migration can run again.");
    }
    let _ = writeln!(header, "--");
    let _ = writeln!(header, "-- First mark the failed migration resolved, then apply this one with {kind}:");
    for line in ledger.lines() {
        let _ = writeln!(header, "--   {line}");
    }
    if chunks.len() > 1 {
        let _ = writeln!(header, "--");
        let _ = writeln!(
            header,
            "-- {} files: each CONCURRENTLY statement sits alone in its own file, because {kind} sends a file as \
             one query string and PostgreSQL runs several statements in one string as a transaction.",
            chunks.len()
        );
    }
    if strategy == Outside::OneFile && outside_transaction {
        let how = match kind {
            FrameworkKind::Goose => "`-- +goose NO TRANSACTION`",
            FrameworkKind::Atlas => "`-- atlas:txmode none` (run `atlas migrate hash` after adding it)",
            _ => "`executeInTransaction=false` in the `.sql.conf` file next to it",
        };
        let _ = writeln!(header, "--");
        let _ = writeln!(header, "-- Runs outside a transaction ({how}): CREATE/DROP INDEX CONCURRENTLY need that.");
    }
    if !unguarded.is_empty() {
        let list = unguarded.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", ");
        let _ = writeln!(header, "--");
        let _ = writeln!(
            header,
            "-- Not guarded (safemig cannot tell whether they ran): the statements from line {list} of the failed \
             migration. Check them before applying, and before running this migration again."
        );
    }
    if kind == FrameworkKind::Drizzle {
        let _ = writeln!(header, "--");
        let _ = writeln!(
            header,
            "-- Drizzle applies only what meta/_journal.json lists: create the entry with `drizzle-kit generate \
             --custom` and paste this text into the file it makes."
        );
    }

    let mut files = Vec::new();
    let total = chunks.len();
    for (k, chunk) in chunks.into_iter().enumerate() {
        let concurrent = chunk.iter().any(Piece::concurrent);
        let intro = if k == 0 {
            header.clone()
        } else {
            format!(
                "-- Part {} of {total} of the recovery for {failed_name} (see {}).\n",
                k + 1,
                files.first().map_or("", |f: &RecoveryFile| f.name.as_str())
            )
        };
        let body = |goose: bool| render(&chunk, goose);
        files.extend(
            namer
                .files(
                    k,
                    &body,
                    &intro,
                    concurrent || (outside_transaction && strategy == Outside::OneFile),
                    NOTHING_DOWN,
                )
                .into_iter()
                .map(|f| RecoveryFile { path: f.path, name: f.name, text: f.text, config: f.config }),
        );
    }
    Recovery { files, ledger_command: ledger, outside_transaction, unguarded, nothing_left }
}

fn statement_kind<'f>(file: &'f SqlFile, e: &StatementEffect) -> Option<&'f StatementKind> {
    file.statements.get(e.statement).map(|s| s.kind())
}

/// A statement's text without its terminating `;` and the comments before it (a `-- …` there
/// would swallow the `;` the recovery writes after it).
fn statement_text(stmt: &Statement) -> &str {
    let text = stmt.parsed.text.trim_end().trim_end_matches(';').trim_end();
    &text[..end_of_sql(text)]
}

/// The pieces for one statement.
struct Made {
    pieces: Vec<Piece>,
    unguarded: bool,
}

fn made(sql: String) -> Made {
    Made { pieces: vec![Piece::new(sql)], unguarded: false }
}

fn as_is(stmt: &Statement) -> Made {
    Made { pieces: vec![Piece::new(statement_text(stmt).to_string())], unguarded: true }
}

/// `text` with `what` inserted at byte `at` (clamped into the text, on a character boundary).
fn insert(text: &str, at: usize, what: &str) -> String {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    format!("{}{what}{}", &text[..at], &text[at..])
}

use crate::sql::quote::{ident, literal as lit};

fn qualified_sql(q: &QualifiedName) -> String {
    q.parts
        .iter()
        .map(|p| if p.quoted { format!("\"{}\"", p.value.replace('"', "\"\"")) } else { ident(&p.value) })
        .collect::<Vec<_>>()
        .join(".")
}

/// An index key (`name`, `schema.name`) as SQL.
fn key_sql(key: &str) -> String {
    match key.split_once('.') {
        Some((s, n)) => format!("{}.{}", ident(s), ident(n)),
        None => ident(key),
    }
}

/// `DO $safemig$ BEGIN IF <condition> THEN <sql>; END IF; END $safemig$`.
fn do_if(condition: &str, sql: &str) -> String {
    let body = sql.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n");
    format!("DO $safemig$\nBEGIN\n  IF {condition} THEN\n{body};\n  END IF;\nEND\n$safemig$")
}

/// The byte offset just after the leading words `words` (case-insensitive, skipping spaces and
/// comments) of `text`, when its first words are exactly those.
fn after_words(text: &str, words: &[&str]) -> Option<usize> {
    let lexed = crate::sql::lexer::tokenize(crate::sql::Dialect::Postgres.sqlparser(), text);
    let mut toks = lexed.tokens.iter().filter(|t| !t.is_trivia());
    let mut end = 0;
    for w in words {
        let t = toks.next()?;
        match &t.token {
            sqlparser::tokenizer::Token::Word(word)
                if word.quote_style.is_none() && word.value.eq_ignore_ascii_case(w) =>
            {
                end = t.end as usize;
            }
            _ => return None,
        }
    }
    Some(end)
}

fn guarded(stmt: &Statement, e: &StatementEffect, ctx: &Known) -> Made {
    let text = statement_text(stmt);
    let facts = stmt.facts();
    let live = ctx.live;
    if facts.guard.is_some() {
        // A `DO` block that runs its statement only under a condition (an earlier recovery's):
        // re-runnable as it is.
        return made(text.to_string());
    }
    let rel = |span: Span| (span.start as usize).min(text.len())..(span.end as usize).min(text.len());
    match &facts.kind {
        StatementKind::CreateTable(ct) => {
            if ct.if_not_exists || !text[rel(facts.head)].to_ascii_uppercase().ends_with("TABLE") {
                return if ct.if_not_exists { made(text.to_string()) } else { as_is(stmt) };
            }
            made(insert(text, facts.head.end as usize, " IF NOT EXISTS"))
        }
        StatementKind::CreateIndex(ci) => {
            let at = ci.concurrently.map_or(facts.head.end, |c| c.end.max(facts.head.end)) as usize;
            let sql = match (&ci.name, ci.if_not_exists) {
                (_, true) => text.to_string(),
                (Some(_), false) => insert(text, at, " IF NOT EXISTS"),
                (None, false) => match e.creates.first() {
                    Some(name) => insert(text, at, &format!(" IF NOT EXISTS {}", ident(name))),
                    None => return as_is(stmt),
                },
            };
            let mut pieces = Vec::new();
            if let Some(old) = &e.leftover {
                let drop = match ci.concurrently {
                    Some(_) => format!("DROP INDEX CONCURRENTLY IF EXISTS {}", key_sql(old)),
                    None => format!("DROP INDEX IF EXISTS {}", key_sql(old)),
                };
                let mut p = Piece::new(drop);
                if ci.concurrently.is_some() {
                    p.blocking = Some(format!("DROP INDEX IF EXISTS {}", key_sql(old)));
                }
                p.comment.push(format!("the INVALID index `{old}` left by the failed build goes first"));
                pieces.push(p);
            }
            let mut p = Piece::new(sql.clone());
            if e.leftover.is_some() {
                p.comment.push(format!("{}, built again", stmt.facts().label));
            }
            if let Some(c) = ci.concurrently {
                // `CONCURRENTLY` sits before the insertion point: its offsets hold in `sql`.
                let (s, e) = (c.start as usize, c.end as usize);
                if e <= sql.len() && sql[s..e].eq_ignore_ascii_case("CONCURRENTLY") {
                    p.blocking = Some(format!("{}{}", sql[..s].trim_end(), &sql[e..]));
                }
            }
            if ci.unique && ci.concurrently.is_none() {
                let table = ctx.key(&ci.table);
                let name = ci.name.as_ref().map(|n| n.value.clone()).or_else(|| e.creates.first().cloned());
                p.role = Role::Constraint {
                    tables: vec![table.clone()],
                    what: format!("line {}: CREATE UNIQUE INDEX {}", ctx.line, name.unwrap_or_default()),
                    key_of: Some(table),
                    on_update: false,
                };
            }
            pieces.push(p);
            Made { pieces, unguarded: false }
        }
        StatementKind::DropIndex(di) => {
            if di.if_exists {
                return made(text.to_string());
            }
            let sql = insert(text, facts.head.end as usize, " IF EXISTS");
            let mut p = Piece::new(sql.clone());
            if let Some(c) = di.concurrently {
                let (s, e) = (c.start as usize, c.end as usize);
                if e <= sql.len() && sql[s..e].eq_ignore_ascii_case("CONCURRENTLY") {
                    p.blocking = Some(format!("{}{}", sql[..s].trim_end(), &sql[e..]));
                }
            }
            Made { pieces: vec![p], unguarded: false }
        }
        StatementKind::Drop(d) => {
            if d.if_exists {
                return made(text.to_string());
            }
            match d.object {
                ObjectKind::Table
                | ObjectKind::View
                | ObjectKind::MaterializedView
                | ObjectKind::Sequence
                | ObjectKind::Schema
                | ObjectKind::Type
                | ObjectKind::Function
                | ObjectKind::Trigger
                | ObjectKind::Extension => made(insert(text, facts.head.end as usize, " IF EXISTS")),
                _ => as_is(stmt),
            }
        }
        StatementKind::AlterTable(at) => alter_table(stmt, text, at, e, ctx),
        StatementKind::Insert(ins) => insert_guarded(stmt, text, ins, ctx),
        StatementKind::Update(dc) => {
            let mut m = as_is(stmt);
            m.pieces[0].role = Role::Data { table: ctx.key(&dc.table), update: true, on_conflict: false };
            m
        }
        StatementKind::Other if facts.label == "COPY" => {
            let mut m = as_is(stmt);
            if let Some(table) = crate::schema::copy_into(stmt.parsed.dialect, text) {
                m.pieces[0].role = Role::Data { table: ctx.key(&table), update: false, on_conflict: false };
            }
            m
        }
        StatementKind::AlterObject(ao) => match &ao.action {
            AlterObjectAction::Rename { to } => {
                let new = match ao.name.schema() {
                    Some(s) => format!("{}.{}", ident(s), ident(&to.value)),
                    None => ident(&to.value),
                };
                let old = qualified_sql(&ao.name);
                let cond = format!("to_regclass({}) IS NOT NULL AND to_regclass({}) IS NULL", lit(&old), lit(&new));
                match ao.object {
                    ObjectKind::Index | ObjectKind::View | ObjectKind::MaterializedView | ObjectKind::Sequence => {
                        made(do_if(&cond, text))
                    }
                    _ => as_is(stmt),
                }
            }
            AlterObjectAction::AddValue { if_not_exists: false, span, .. } => {
                made(insert(text, span.start as usize, "IF NOT EXISTS "))
            }
            AlterObjectAction::AddValue { .. } => made(text.to_string()),
            _ => as_is(stmt),
        },
        StatementKind::CreateObject(co) => {
            let words: &[&str] = match co.object {
                ObjectKind::MaterializedView => &["CREATE", "MATERIALIZED", "VIEW"],
                ObjectKind::Sequence => &["CREATE", "SEQUENCE"],
                ObjectKind::Schema => &["CREATE", "SCHEMA"],
                _ => &[],
            };
            if co.if_not_exists || co.or_replace {
                return made(text.to_string());
            }
            match co.object {
                ObjectKind::View => match after_words(text, &["CREATE"]) {
                    Some(at) => made(insert(text, at, " OR REPLACE")),
                    None => as_is(stmt),
                },
                ObjectKind::Type => {
                    let schema = co.name.schema().unwrap_or("public");
                    let cond = format!(
                        "NOT EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typname = {} AND n.nspname = {})",
                        lit(co.name.name()),
                        lit(schema)
                    );
                    made(do_if(&cond, text))
                }
                _ => match after_words(text, words) {
                    Some(at) => made(insert(text, at, " IF NOT EXISTS")),
                    None => as_is(stmt),
                },
            }
        }
        StatementKind::CreateTrigger { .. } if live.server_version_num == 0 || live.server_version_num >= 140000 => {
            match after_words(text, &["CREATE", "TRIGGER"]).and(after_words(text, &["CREATE"])) {
                Some(at) => made(insert(text, at, " OR REPLACE")),
                None => as_is(stmt),
            }
        }
        StatementKind::Other | StatementKind::CreateFunction(_) | StatementKind::CreateExtension(_) => {
            if let Some(at) = after_words(text, &["CREATE", "EXTENSION"]) {
                if after_words(text, &["CREATE", "EXTENSION", "IF"]).is_none() {
                    return made(insert(text, at, " IF NOT EXISTS"));
                }
                return made(text.to_string());
            }
            for object in ["FUNCTION", "PROCEDURE"] {
                if after_words(text, &["CREATE", object]).is_some() {
                    if let Some(at) = after_words(text, &["CREATE"]) {
                        return made(insert(text, at, " OR REPLACE"));
                    }
                }
            }
            as_is(stmt)
        }
        _ => as_is(stmt),
    }
}

/// The part of an `ALTER TABLE` action in [`reorder`]: a constraint that checks rows, or fixed.
/// `action` is the action's text, `name` the constraint's (given or generated).
fn action_role(at: &AlterTable, a: &AlterAction, action: &str, name: Option<&str>, ctx: &Known) -> Role {
    let own = ctx.key(&at.table);
    match a {
        AlterAction::AddConstraint(tc) if tc.not_valid.is_none() => {
            let mut tables = vec![own.clone()];
            let mut key_of = None;
            let mut on_update = false;
            match &tc.kind {
                ConstraintKind::ForeignKey(fk) => {
                    tables.push(ctx.key(&fk.ref_table));
                    on_update = has_words(action, &["ON", "UPDATE"]);
                }
                ConstraintKind::Unique { .. } | ConstraintKind::PrimaryKey { .. } | ConstraintKind::Exclude => {
                    key_of = Some(own.clone())
                }
                ConstraintKind::Check { .. } => {}
            }
            let what = format!("line {}: ADD CONSTRAINT {}", ctx.line, name.unwrap_or_default());
            Role::Constraint { tables, what, key_of, on_update }
        }
        AlterAction::SetNotNull { column } => Role::Constraint {
            tables: vec![own],
            what: format!("line {}: SET NOT NULL {}", ctx.line, column.value),
            key_of: None,
            on_update: false,
        },
        AlterAction::ValidateConstraint { name } => {
            let mut tables = vec![own];
            let constraint = ctx.intended.table(&at.table).and_then(|t| t.constraint(&name.value));
            // Whether the foreign key acts on updates is not in the schema: assume it does.
            let mut on_update = constraint.is_none();
            if let Some(ConstraintType::ForeignKey { table, .. }) = constraint.map(|c| &c.kind) {
                tables.push(table.clone());
                on_update = true;
            }
            Role::Constraint {
                tables,
                what: format!("line {}: VALIDATE CONSTRAINT {}", ctx.line, name.value),
                key_of: None,
                on_update,
            }
        }
        _ => Role::Fixed,
    }
}

/// One guarded statement per action of an `ALTER TABLE`.
fn alter_table(stmt: &Statement, text: &str, at: &AlterTable, e: &StatementEffect, ctx: &Known) -> Made {
    let prefix = &text[..(at.table.span.end as usize).min(text.len())];
    let table_sql = qualified_sql(&at.table);
    let table = lit(&table_sql);
    let mut created = e.creates.iter();
    let mut pieces = Vec::new();
    let mut unguarded = false;
    for a in &at.actions {
        let span = (a.span.start as usize).min(text.len())..(a.span.end as usize).min(text.len());
        let action = &text[span.clone()];
        let kw_end = (a.keyword_span.end as usize).clamp(span.start, span.end) - span.start;
        let one = |action: &str| format!("{prefix} {action}");
        let mut name: Option<String> = None;
        let sql = match &a.action {
            AlterAction::AddColumn { if_not_exists: false, .. } => one(&insert(action, kw_end, " IF NOT EXISTS")),
            AlterAction::DropColumn { if_exists: false, .. } | AlterAction::DropConstraint { if_exists: false, .. } => {
                one(&insert(action, kw_end, " IF EXISTS"))
            }
            AlterAction::AddConstraint(tc) => {
                let given = match &tc.name {
                    Some(n) => {
                        created.next();
                        n.value.clone()
                    }
                    None => match created.next() {
                        Some(n) => n.clone(),
                        None => {
                            unguarded = true;
                            let role = action_role(at, &a.action, action, None, ctx);
                            pieces.push(Piece::new(one(action)).with_role(role));
                            continue;
                        }
                    },
                };
                let body = match &tc.name {
                    Some(_) => one(action),
                    None => {
                        let from = (tc.kind_span.start as usize).clamp(span.start, span.end);
                        one(&format!("ADD CONSTRAINT {} {}", ident(&given), &text[from..span.end]))
                    }
                };
                let cond = format!(
                    "NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass({table}) AND conname = {})",
                    lit(&given)
                );
                name = Some(given);
                do_if(&cond, &body)
            }
            AlterAction::RenameColumn { from, to } => {
                let cond = format!(
                    "EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass({table}) AND attname = {} AND NOT \
                     attisdropped) AND NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass({table}) AND \
                     attname = {} AND NOT attisdropped)",
                    lit(&from.value),
                    lit(&to.value)
                );
                do_if(&cond, &one(action))
            }
            AlterAction::RenameConstraint { from, to } => {
                let has = |n: &str| {
                    format!(
                        "EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass({table}) AND conname = {})",
                        lit(n)
                    )
                };
                do_if(&format!("{} AND NOT {}", has(&from.value), has(&to.value)), &one(action))
            }
            AlterAction::RenameTable { to } => {
                let new = match at.table.schema() {
                    Some(s) => format!("{}.{}", ident(s), ident(&to.value)),
                    None => ident(&to.value),
                };
                let cond = format!("to_regclass({table}) IS NOT NULL AND to_regclass({}) IS NULL", lit(&new));
                do_if(&cond, &one(action))
            }
            AlterAction::SetTablespace | AlterAction::SetSchema | AlterAction::Other(_) => {
                unguarded = true;
                one(action)
            }
            // Idempotent as written.
            _ => one(action),
        };
        let role = action_role(at, &a.action, action, name.as_deref(), ctx);
        pieces.push(Piece::new(sql).with_role(role));
    }
    if pieces.is_empty() {
        return as_is(stmt);
    }
    Made { pieces, unguarded }
}

/// An `INSERT`: with `ON CONFLICT DO NOTHING` added when a unique key of its table is among the
/// columns it gives (then running it again adds nothing and fails on nothing); as it is, and
/// not guarded, otherwise. An `ON CONFLICT` of its own already makes it re-runnable.
fn insert_guarded(stmt: &Statement, text: &str, ins: &Insert, ctx: &Known) -> Made {
    let role = Role::Data { table: ctx.key(&ins.table), update: false, on_conflict: ins.on_conflict.is_some() };
    let mut made = if ins.on_conflict.is_some() {
        made(text.to_string())
    } else if ctx.has_key_among(&ins.table, ins.columns.as_deref()) {
        let sql = match ins.returning {
            Some(r) => {
                let at = (r.start as usize).min(text.len());
                insert(text, at, "ON CONFLICT DO NOTHING ")
            }
            None => insert(text, end_of_sql(text), " ON CONFLICT DO NOTHING"),
        };
        let mut m = made(sql);
        m.pieces[0].comment.push("guarded: ON CONFLICT DO NOTHING skips the rows whose key is already there".into());
        m
    } else {
        as_is(stmt)
    };
    made.pieces[0].role = role;
    made
}

/// The end of the last token of `text` that is not a comment: where a clause can be appended.
fn end_of_sql(text: &str) -> usize {
    let lexed = crate::sql::lexer::tokenize(crate::sql::Dialect::Postgres.sqlparser(), text);
    let end = lexed.tokens.iter().rev().find(|t| !t.is_trivia()).map_or(text.len(), |t| t.end as usize);
    if end <= text.len() && text.is_char_boundary(end) {
        end
    } else {
        text.len()
    }
}

/// Whether the words `words` follow each other somewhere in `text` (outside strings and comments).
fn has_words(text: &str, words: &[&str]) -> bool {
    let lexed = crate::sql::lexer::tokenize(crate::sql::Dialect::Postgres.sqlparser(), text);
    let upper: Vec<Option<String>> = lexed
        .tokens
        .iter()
        .filter(|t| !t.is_trivia())
        .map(|t| match &t.token {
            sqlparser::tokenizer::Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
            _ => None,
        })
        .collect();
    upper.windows(words.len()).any(|w| w.iter().zip(words).all(|(a, b)| a.as_deref() == Some(*b)))
}

/// Data statements move before the constraints that check their rows: the failed migration may
/// have failed exactly there (a foreign key added before the `INSERT` that seeds the table it
/// references), and would again in its order.
///
/// The rule, applied to each [`Role::Data`] piece in turn (so the result is stable: pieces that
/// do not move keep their order, and moved ones keep theirs among themselves): walk back from the
/// data piece over the [`Role::Constraint`] pieces right before it; the first [`Role::Fixed`] or
/// data piece stops the walk (DDL the statement may need, a setting, another data change). Among
/// the constraints passed, the earliest one that checks the rows of the data piece's table (its
/// own table, or for a foreign key the referenced one) is where the data piece goes: just before
/// it. The walk also stops at a unique key of the same table when the statement has an
/// `ON CONFLICT` of its own (it may name that key), and at a foreign key with `ON UPDATE`
/// actions when the statement is an `UPDATE`. Only data pieces move, and only across
/// constraints: DDL never changes places with other DDL.
fn reorder(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::with_capacity(pieces.len());
    for mut p in pieces {
        let mut to = out.len();
        if let Role::Data { table, update, on_conflict } = &p.role {
            for k in (0..out.len()).rev() {
                let Role::Constraint { tables, key_of, on_update, .. } = &out[k].role else { break };
                let checks = tables.contains(table);
                if (*on_conflict && key_of.as_ref() == Some(table)) || (*update && *on_update && checks) {
                    break;
                }
                if checks {
                    to = k;
                }
            }
        }
        if to < out.len() {
            if let Role::Constraint { what, .. } = &out[to].role {
                let why = format!("moved before {what}, which checks the rows this statement writes");
                p.comment.insert(1.min(p.comment.len()), why);
            }
            out.insert(to, p);
        } else {
            out.push(p);
        }
    }
    out
}

// ---- naming -----------------------------------------------------------------------------------

/// `recover_<name>`: lower case, `_` between words, at most 60 bytes.
fn slug(migration: &Migration) -> String {
    let base = if migration.name.is_empty() { migration.version.display() } else { migration.name.clone() };
    naming::slug("recover_", &base)
}

/// How people name the failed migration: its directory or file name.
fn display(set: &MigrationSet, migration: &Migration) -> String {
    let Some(p) = migration.up.as_deref().or(migration.down.as_deref()) else {
        return migration.version.display();
    };
    let rest = p.strip_prefix(&set.dir).unwrap_or(p);
    rest.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// The pieces as SQL text: comments, then each statement ending with `;`.
fn render(chunk: &[Piece], goose: bool) -> String {
    let mut out = String::new();
    for (i, p) in chunk.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for c in &p.comment {
            let _ = writeln!(out, "-- {c}");
        }
        if goose && p.block {
            let _ = writeln!(out, "-- +goose StatementBegin\n{};\n-- +goose StatementEnd", p.sql);
        } else {
            let _ = writeln!(out, "{};", p.sql);
        }
    }
    out
}

// ---- ledger -----------------------------------------------------------------------------------

/// The command that marks `migration` (failed, and completed by the recovery) as applied in the
/// framework's ledger. Tools with a command get it (`migrate force`, `prisma migrate resolve`,
/// `atlas migrate set`, `supabase migration repair`, `flyway repair`); the others get the SQL that
/// writes the ledger row (`psql "$DATABASE_URL" -c …`). The URL is always `$DATABASE_URL`, never
/// the configured one: commands end up in files and terminals.
pub fn ledger_command(kind: FrameworkKind, set: &MigrationSet, migration: &Migration, file: &SqlFile) -> String {
    let dir = set.dir.display();
    let version = migration.version.display();
    let psql = |sql: String| format!("psql \"$DATABASE_URL\" -c {}", shell_quote(&sql));
    let file_stem = || {
        migration
            .up
            .as_deref()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().trim_end_matches(".sql").to_string())
            .unwrap_or_else(|| version.clone())
    };
    match kind {
        FrameworkKind::GolangMigrate => format!("migrate -path {dir} -database \"$DATABASE_URL\" force {version}"),
        FrameworkKind::Prisma => format!("npx prisma migrate resolve --applied {}", shell_quote(&version)),
        FrameworkKind::Atlas => {
            format!("atlas migrate hash --dir \"file://{dir}\"\natlas migrate set {version} --url \"$DATABASE_URL\" --dir \"file://{dir}\"")
        }
        FrameworkKind::Supabase => format!("supabase migration repair --status applied {version}"),
        FrameworkKind::Flyway => format!(
            "flyway repair    # removes the failed row; V{version} is pending again: either undo what it already \
             did, or mark it applied with `flyway migrate -skipExecutingMigrations=true -target={version}`"
        ),
        FrameworkKind::Goose => {
            psql(format!("INSERT INTO goose_db_version (version_id, is_applied) VALUES ({version}, true)"))
        }
        FrameworkKind::Dbmate => psql(format!("INSERT INTO schema_migrations (version) VALUES ({})", lit(&version))),
        FrameworkKind::Pop => psql(format!("INSERT INTO schema_migration (version) VALUES ({})", lit(&version))),
        FrameworkKind::Diesel => {
            psql(format!("INSERT INTO __diesel_schema_migrations (version) VALUES ({})", lit(&version)))
        }
        FrameworkKind::NodePgMigrate => {
            psql(format!("INSERT INTO pgmigrations (name, run_on) VALUES ({}, now())", lit(&file_stem())))
        }
        FrameworkKind::Sqlx => {
            use sha2::Digest;
            let checksum: String =
                sha2::Sha384::digest(file.text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
            let description = migration.name.replace('_', " ");
            psql(format!(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES \
                 ({version}, {}, true, decode('{checksum}', 'hex'), -1) ON CONFLICT (version) DO UPDATE SET success = true",
                lit(&description)
            ))
        }
        FrameworkKind::Drizzle => {
            use sha2::Digest;
            let hash: String = sha2::Sha256::digest(file.text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
            psql(format!(
                "INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('{hash}', <the entry's `when` in \
                 meta/_journal.json>)"
            ))
        }
        FrameworkKind::Plain => {
            format!("mark migration {version} ({}) applied in your migration tool's ledger", file_stem())
        }
    }
}

/// `s` in single quotes for a POSIX shell.
fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_-./:=".contains(c)) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests;
