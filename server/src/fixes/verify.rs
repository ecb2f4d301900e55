//! The fix pipeline's gate: every fix is planned, applied in memory to the whole migration set,
//! and the set analysed again before anyone may offer or write it. The invariants live here,
//! once, not in each fixer:
//!
//! 1. **Shipped and applied migrations are read-only.** A fix may not edit, rename or
//!    reconfigure a migration that is present at the shipped ref or that the dev database's
//!    ledger records as applied (or covered by its baseline). The one exception is putting back exactly
//!    the text that shipped or ran (the history fixes' revert): after it, the file has no
//!    `shipped-migration-edited` / `applied-migration-edited` finding left.
//! 2. **A fix never adds a finding.** Findings are counted per rule and per file before and
//!    after; the fixed file, the files the fix creates and the names it renames to count as one
//!    unit (a statement that moves into a new migration takes its findings with it). Any count
//!    that grows, in any file of the set, at any severity, rejects the fix. This covers the
//!    history and replay rules too: a renumbering onto a taken version, an index a later
//!    migration also creates, an edit that makes a later migration fail.
//! 3. **Progress**, for `check --fix`: the fixed rule fires strictly less often in the fixed
//!    unit. With 2, every applied fix lowers the total number of findings, so rounds of fixes
//!    reach a fixed point and a second run changes nothing.
//!
//! A file outside any migration set is verified the same way on its own.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::config::Config;
use crate::engine::{self, FileAnalysis};
use crate::history::MigrationStatus;
use crate::live::ledger::{self, MigrationState};
use crate::live::LiveFacts;
use crate::project::{Project, ProjectAnalysis, Sources};
use crate::rules::{applied_migration_edited, shipped_migration_edited, Finding, MigrationSettings};
use crate::workspace::listing::{Listing, Subdir};
use crate::workspace::MigrationSet;

use super::{FileEdit, Fix};

/// Why a planned fix is not offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// It would change a migration that shipped or ran.
    ReadOnly { path: PathBuf, why: &'static str },
    /// The set analysed with the fix applied has a finding more than before.
    AddsFinding { path: PathBuf, rule: &'static str, message: String },
    /// The fixed rule does not fire less (only checked where progress is required).
    NoProgress,
    /// The set analysed with the fix applied no longer shows a failure the database's rows or
    /// schema guarantee (`existing-rows-violate`, `migration-will-fail`): the fix would move the
    /// failing statement where nothing checks it, not make it pass.
    HidesFailure { rule: &'static str },
    /// The fix's edits cannot be applied (a range outside the file, a file that cannot be read).
    Unappliable(String),
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejected::ReadOnly { path, why } => write!(f, "it would change {} ({why})", path.display()),
            Rejected::AddsFinding { path, rule, message } => {
                write!(f, "it would add `{rule}` in {}: {message}", path.display())
            }
            Rejected::NoProgress => write!(f, "the finding would remain"),
            Rejected::HidesFailure { rule } => {
                write!(f, "it would hide `{rule}`: the statement still fails on this database; repair the data first")
            }
            Rejected::Unappliable(why) => write!(f, "it cannot be applied: {why}"),
        }
    }
}

/// Verifies fixes of one migration file against its whole set.
pub struct Verifier<'a> {
    project: &'a Project,
    sources: &'a dyn Sources,
    live: Option<Arc<LiveFacts>>,
    set: usize,
    path: PathBuf,
    /// The set's analysis as it is now (with `sources`).
    baseline: ProjectAnalysis,
}

impl<'a> Verifier<'a> {
    /// A verifier for fixes of `path`, a migration of `project`; `previous` (an earlier
    /// analysis) saves parsing unchanged files. `None` when `path` is not a migration.
    pub fn new(
        project: &'a Project,
        sources: &'a dyn Sources,
        previous: Option<&ProjectAnalysis>,
        live: Option<Arc<LiveFacts>>,
        path: &Path,
    ) -> Option<Verifier<'a>> {
        let (set, _) = project.locate(path)?;
        // The set on its own: nothing outside it changes with a fix to one of its files.
        let one = std::slice::from_ref(project.sets.get(set)?);
        let baseline = project.analyze_sets(one, Some(0), sources, previous, live.clone());
        baseline.files.get(path)?;
        Some(Verifier { project, sources, live, set, path: path.to_path_buf(), baseline })
    }

    /// The file's analysis now, in its set: what fixes are planned from.
    pub fn analysis(&self) -> &FileAnalysis {
        // `new` made sure the file is there.
        &self.baseline.files[&self.path].analysis
    }

    /// The set's analysis now.
    pub fn baseline(&self) -> &ProjectAnalysis {
        &self.baseline
    }

    /// Whether `fix` (for `finding` of this file) may be offered; `progress`: whether the
    /// finding's rule must also fire less (`check --fix`).
    pub fn check(&self, finding: &Finding, fix: &Fix, progress: bool) -> Result<(), Rejected> {
        let set = &self.project.sets[self.set];
        let plan = Plan::of(&self.path, fix, self.sources)?;
        // 1. Which existing migrations the fix changes, and whether it may.
        let read_only = self.read_only(set);
        for (path, how) in plan.touched(&self.path) {
            if let Some(why) = read_only(path) {
                if how == Touch::Text {
                    // Only a revert to the text that ran may edit such a file: checked below.
                    continue;
                }
                return Err(Rejected::ReadOnly { path: path.to_path_buf(), why });
            }
        }
        // 2. The set as the fix leaves it, analysed again.
        let set_after = plan.set_after(set);
        let overlay = Overlay { base: self.sources, plan: &plan };
        let one = std::slice::from_ref(&*set_after);
        let after = self.project.analyze_sets(one, Some(0), &overlay, Some(&self.baseline), self.live.clone());
        for (path, how) in plan.touched(&self.path) {
            if how != Touch::Text {
                continue;
            }
            let Some(why) = read_only(path) else { continue };
            let edited = |analysis: &ProjectAnalysis| {
                analysis.files.get(path).is_none_or(|f| {
                    f.analysis.findings.iter().any(|x| {
                        x.rule == shipped_migration_edited::RULE.id || x.rule == applied_migration_edited::RULE.id
                    })
                })
            };
            // A revert puts back the text that ran: the file must have been reported as edited,
            // and no longer be. A file that was not (as it shipped, or applied where the ledger
            // keeps no checksum to compare with: goose, golang-migrate, dbmate) is left alone.
            if !edited(&self.baseline) || edited(&after) {
                return Err(Rejected::ReadOnly { path: path.to_path_buf(), why });
            }
        }
        let unit = |p: &Path| plan.unit(&self.path, p);
        let before = counts(self.baseline.files.iter().map(|(p, f)| (unit(p), &f.analysis.findings)));
        // A recovery migration takes the place of the failed one (the ledger command marks that
        // resolved, and its statements never run again): what the failed file still reports
        // counts once, in the recovery.
        let replaced = RECOVERY_RULES.contains(&fix.rule);
        let now = counts(
            after
                .files
                .iter()
                .filter(|(p, _)| !(replaced && **p == self.path))
                .map(|(p, f)| (unit(p), &f.analysis.findings)),
        );
        for ((unit, rule), n) in &now {
            if *n > before.get(&(unit.clone(), *rule)).copied().unwrap_or(0) {
                let (path, message) = after
                    .files
                    .iter()
                    .filter(|(p, _)| plan.unit(&self.path, p) == *unit)
                    .flat_map(|(p, f)| f.analysis.findings.iter().map(move |x| (p, x)))
                    .find(|(_, x)| x.rule == *rule)
                    .map(|(p, x)| (p.clone(), x.message.clone()))
                    .unwrap_or_else(|| (unit.clone(), String::new()));
                return Err(Rejected::AddsFinding { path, rule, message });
            }
        }
        // 4. A failure the database guarantees stays in sight wherever the fix moved its
        //    statement (a VALIDATE in a new migration is probed like the CHECK it came from).
        //    (Every file counts here, a failed one a recovery replaces too: it still shows it.)
        let everywhere = counts(after.files.iter().map(|(p, f)| (unit(p), &f.analysis.findings)));
        for rule in FAILURES_FROM_THE_DATABASE {
            let total = |c: &Counts| c.iter().filter(|((_, r), _)| *r == rule).map(|(_, n)| n).sum::<usize>();
            if total(&everywhere) < total(&before) {
                return Err(Rejected::HidesFailure { rule });
            }
        }
        if progress {
            let key = (self.path.clone(), finding.rule);
            if now.get(&key).copied().unwrap_or(0) >= before.get(&key).copied().unwrap_or(0) {
                return Err(Rejected::NoProgress);
            }
        }
        Ok(())
    }

    /// Why a migration file of `set` may not be changed: shipped, or in the dev database's
    /// ledger.
    fn read_only<'s>(&'s self, set: &'s MigrationSet) -> impl Fn(&Path) -> Option<&'static str> + 's {
        let ledger = self.live.as_deref().and_then(|l| l.ledger_of(&set.dir));
        let ran: Vec<bool> = match ledger {
            Some(ledger) => {
                let mut ran = vec![false; set.migrations.len()];
                for status in ledger::statuses(set, ledger) {
                    // A failed migration is not applied: its runner has it fixed and run again.
                    let recorded = matches!(status.state, MigrationState::Applied { .. } | MigrationState::Baseline);
                    if let (true, Some(slot)) = (recorded, status.migration.and_then(|m| ran.get_mut(m))) {
                        *slot = true;
                    }
                }
                ran
            }
            None => Vec::new(),
        };
        move |path: &Path| {
            if let Some(git) = self.project.git.as_ref() {
                if matches!(git.status(path), MigrationStatus::Shipped { .. }) {
                    return Some("it shipped");
                }
            }
            let (index, _) = set.migration_of(path)?;
            ran.get(index).copied().unwrap_or(false).then_some("the dev database's ledger records it")
        }
    }
}

/// Verifies a fix of a file outside any migration set: the file analysed again on its own.
pub fn check_standalone(
    analysis: &FileAnalysis,
    settings: &MigrationSettings,
    config: &Config,
    finding: &Finding,
    fix: &Fix,
    progress: bool,
) -> Result<(), Rejected> {
    if fix.edits.iter().any(|e| !matches!(e, FileEdit::Replace { .. })) {
        return Err(Rejected::Unappliable("a file outside a migration set gets edits of its own text only".into()));
    }
    let text = super::apply(&analysis.file.text, &fix.edits);
    let after = engine::analyze(&text, settings, config, Some(&analysis.file));
    let key = PathBuf::new();
    let before = counts(std::iter::once((key.clone(), &analysis.findings)));
    let now = counts(std::iter::once((key.clone(), &after.findings)));
    for ((_, rule), n) in &now {
        if *n > before.get(&(key.clone(), *rule)).copied().unwrap_or(0) {
            let message = after.findings.iter().find(|f| f.rule == *rule).map(|f| f.message.clone());
            return Err(Rejected::AddsFinding { path: key, rule, message: message.unwrap_or_default() });
        }
    }
    let fixed = (key, finding.rule);
    if progress && now.get(&fixed).copied().unwrap_or(0) >= before.get(&fixed).copied().unwrap_or(0) {
        return Err(Rejected::NoProgress);
    }
    Ok(())
}

type Counts = BTreeMap<(PathBuf, &'static str), usize>;

/// The findings whose fix is a recovery migration that replaces the file.
const RECOVERY_RULES: [&str; 2] = ["migration-failed", "migration-partially-applied"];

/// Findings that say the database itself will make a statement fail: no rewrite of the SQL can
/// make them go away, only repairing the data (or the database) can.
const FAILURES_FROM_THE_DATABASE: [&str; 2] = ["existing-rows-violate", "migration-will-fail"];

fn counts<'f>(files: impl Iterator<Item = (PathBuf, &'f Vec<Finding>)>) -> Counts {
    let mut out = Counts::new();
    for (unit, findings) in files {
        for f in findings {
            // A finding about the set as a whole sits on whichever migration is last: a new
            // last migration takes it over, which adds nothing.
            let unit = if SET_LEVEL_RULES.contains(&f.rule) { PathBuf::new() } else { unit.clone() };
            *out.entry((unit, f.rule)).or_default() += 1;
        }
    }
    out
}

/// Rules that report on the set's last migration what belongs to no migration.
const SET_LEVEL_RULES: [&str; 3] = ["schema-drift", "applied-migration-missing", "shipped-migration-removed"];

/// How a fix changes an existing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Touch {
    /// Its text.
    Text,
    /// Its name (a renumbering).
    Name,
    /// A file next to it that says how it runs (Flyway's `.sql.conf`, Diesel's `metadata.toml`).
    Config,
}

/// A fix's edits as the files they leave: new texts, new files, renames.
struct Plan {
    /// Path (after the fix) → text, for every file the fix writes.
    texts: FxHashMap<PathBuf, Arc<str>>,
    /// Paths that no longer exist (renamed away).
    gone: Vec<PathBuf>,
    renames: Vec<(PathBuf, PathBuf)>,
    created: Vec<PathBuf>,
    edits_file: bool,
    configs: bool,
}

impl Plan {
    fn of(path: &Path, fix: &Fix, sources: &dyn Sources) -> Result<Plan, Rejected> {
        let mut plan = Plan {
            texts: FxHashMap::default(),
            gone: Vec::new(),
            renames: Vec::new(),
            created: Vec::new(),
            edits_file: false,
            configs: false,
        };
        let original =
            sources.text(path).ok_or_else(|| Rejected::Unappliable(format!("{} is unreadable", path.display())))?;
        if fix.edits.iter().any(|e| matches!(e, FileEdit::Replace { .. })) {
            for e in &fix.edits {
                if let FileEdit::Replace { range, .. } = e {
                    if range.start > range.end
                        || !original.is_char_boundary(range.start)
                        || !original.is_char_boundary(range.end)
                    {
                        return Err(Rejected::Unappliable(format!("an edit outside {}", path.display())));
                    }
                }
            }
            plan.edits_file = true;
            plan.texts.insert(path.to_path_buf(), Arc::from(super::apply(&original, &fix.edits)));
        }
        for e in &fix.edits {
            match e {
                FileEdit::Replace { .. } => {}
                FileEdit::ReplaceIn { path: other, range, text, expected } => {
                    let (Some(before), Some(after)) = (expected.get(..range.start), expected.get(range.end..)) else {
                        return Err(Rejected::Unappliable(format!("an edit outside {}", other.display())));
                    };
                    plan.configs = true;
                    plan.texts.insert(other.clone(), Arc::from(format!("{before}{text}{after}")));
                }
                FileEdit::Create { path: new, text } => {
                    plan.created.push(new.clone());
                    plan.texts.insert(new.clone(), Arc::from(text.as_str()));
                }
                FileEdit::Rename { from, to } => plan.renames.push((from.clone(), to.clone())),
            }
        }
        // Renames last, as they are applied: the edits above address files by their old names.
        for (from, to) in plan.renames.clone() {
            let moved: Vec<(PathBuf, Arc<str>)> =
                plan.texts.iter().filter_map(|(p, t)| Some((moved_to(p, &from, &to)?, Arc::clone(t)))).collect();
            plan.texts.retain(|p, _| moved_to(p, &from, &to).is_none());
            plan.texts.extend(moved);
            plan.gone.push(from);
        }
        Ok(plan)
    }

    /// The existing migration files the fix changes, and how.
    fn touched<'p>(&'p self, path: &'p Path) -> Vec<(&'p Path, Touch)> {
        let mut out = Vec::new();
        if self.edits_file {
            out.push((path, Touch::Text));
        }
        if self.configs {
            out.push((path, Touch::Config));
        }
        for (from, _) in &self.renames {
            if path.starts_with(from) {
                out.push((path, Touch::Name));
            } else {
                out.push((from.as_path(), Touch::Name));
            }
        }
        out
    }

    /// The unit a file's findings count in: the fixed file with everything the fix creates or
    /// renames it to, else the file itself.
    fn unit(&self, fixed: &Path, p: &Path) -> PathBuf {
        // A renamed file counts under the name it had.
        let old = self.renames.iter().find_map(|(from, to)| moved_to(p, to, from)).unwrap_or_else(|| p.to_path_buf());
        if old == fixed || self.created.iter().any(|c| c == p) {
            fixed.to_path_buf()
        } else {
            old
        }
    }

    /// The set as it is after the fix: listed again with the files the fix creates and renames.
    fn set_after<'s>(&self, set: &'s MigrationSet) -> std::borrow::Cow<'s, MigrationSet> {
        use std::borrow::Cow;
        if self.created.is_empty() && self.renames.is_empty() {
            return Cow::Borrowed(set);
        }
        let Ok(listing) = Listing::read(&set.dir) else { return Cow::Borrowed(set) };
        let mut files = listing.files.clone();
        let mut subdirs = listing.subdirs.clone();
        let name_in = |p: &Path| -> Option<(Option<String>, String)> {
            let rel = p.strip_prefix(&set.dir).ok()?;
            let mut parts = rel.iter().map(|c| c.to_string_lossy().into_owned());
            match (parts.next(), parts.next(), parts.next()) {
                (Some(file), None, None) => Some((None, file)),
                (Some(dir), Some(file), None) => Some((Some(dir), file)),
                _ => None,
            }
        };
        let remove = |p: &Path, files: &mut Vec<String>, subdirs: &mut Vec<Subdir>| match name_in(p) {
            Some((None, name)) => {
                files.retain(|f| *f != name);
                subdirs.retain(|s| s.name != name);
            }
            Some((Some(dir), name)) => {
                if let Some(s) = subdirs.iter_mut().find(|s| s.name == dir) {
                    s.files.retain(|f| *f != name);
                }
            }
            None => {}
        };
        for from in &self.gone {
            remove(from, &mut files, &mut subdirs);
        }
        let add =
            |p: &Path, files: &mut Vec<String>, subdirs: &mut Vec<Subdir>, whole_dir: Option<&Subdir>| match name_in(p)
            {
                Some((None, name)) => match whole_dir {
                    Some(dir) => subdirs.push(Subdir { name, files: dir.files.clone() }),
                    None => files.push(name),
                },
                Some((Some(dir), name)) => match subdirs.iter_mut().find(|s| s.name == dir) {
                    Some(s) => s.files.push(name),
                    None => subdirs.push(Subdir { name: dir, files: vec![name] }),
                },
                None => {}
            };
        for (from, to) in &self.renames {
            let dir = name_in(from)
                .filter(|(parent, _)| parent.is_none())
                .and_then(|(_, name)| listing.subdirs.iter().find(|s| s.name == name));
            add(to, &mut files, &mut subdirs, dir);
        }
        for new in &self.created {
            add(new, &mut files, &mut subdirs, None);
        }
        let listing = Listing::new(set.dir.clone(), files, subdirs, listing.ecosystem);
        let fw = crate::workspace::frameworks::framework(set.framework);
        let mut problems = Vec::new();
        // The transaction facts `collect` read from disk are recomputed from the texts when the
        // files are analysed.
        let migrations = fw.collect(&listing, set.dialect, &mut problems);
        Cow::Owned(MigrationSet { migrations, dir: set.dir.clone(), framework: set.framework, dialect: set.dialect })
    }
}

/// Where `p` is after `from` was renamed to `to` (`None` when the rename does not move it).
fn moved_to(p: &Path, from: &Path, to: &Path) -> Option<PathBuf> {
    let rest = p.strip_prefix(from).ok()?;
    Some(if rest.as_os_str().is_empty() { to.to_path_buf() } else { to.join(rest) })
}

/// The texts as the fix leaves them, over the caller's sources.
struct Overlay<'p> {
    base: &'p dyn Sources,
    plan: &'p Plan,
}

impl Sources for Overlay<'_> {
    fn text(&self, path: &Path) -> Option<Arc<str>> {
        if let Some(text) = self.plan.texts.get(path) {
            return Some(Arc::clone(text));
        }
        if self.plan.gone.iter().any(|g| path.starts_with(g)) {
            return None;
        }
        // A file inside a renamed directory is read under its old name.
        for (from, to) in &self.plan.renames {
            if let Ok(rest) = path.strip_prefix(to) {
                let old = if rest.as_os_str().is_empty() { from.clone() } else { from.join(rest) };
                return self.base.text(&old);
            }
        }
        self.base.text(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixes::{for_finding, FixContext, Place, ProjectFacts};
    use crate::project::Disk;

    /// Every fix of every finding of `file` in a project written to a temporary directory, with
    /// the verifier's verdict.
    fn verdicts(files: &[(&str, &str)], file: &str) -> Vec<(String, Result<(), Rejected>)> {
        let dir = tempfile::tempdir().expect("temp dir");
        for (rel, text) in files {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        let project = Project::open(dir.path(), Config::default());
        let path = project.sets[0].dir.join(Path::new(file).file_name().expect("name"));
        let verifier = Verifier::new(&project, &Disk, None, None, &path).expect("a migration");
        let analysis = verifier.analysis();
        let schema = verifier.baseline().schema_for(&path).expect("schema");
        let (si, _) = project.locate(&path).expect("in a set");
        let place = Place { path: &path, set: &project.sets[si], sources: &Disk };
        let ctx = FixContext::of(analysis).with(ProjectFacts::default()).at(place).with_schema(&schema);
        let mut out = Vec::new();
        for finding in &analysis.findings {
            for fix in for_finding(finding, &ctx) {
                out.push((fix.title.clone(), verifier.check(finding, &fix, false)));
            }
        }
        out
    }

    fn goose(sql: &str) -> String {
        format!("-- +goose Up\n{sql}\n\n-- +goose Down\nSELECT 1;\n")
    }

    #[test]
    fn the_multi_migration_column_fix_passes() {
        let users = goose("CREATE TABLE users (id bigint PRIMARY KEY, name text);");
        let country = goose("ALTER TABLE users ADD COLUMN country text NOT NULL;");
        let out = verdicts(
            &[
                ("go.mod", "module x\n"),
                ("db/migrations/00001_users.sql", &users),
                ("db/migrations/00002_country.sql", &country),
            ],
            "db/migrations/00002_country.sql",
        );
        assert!(out.iter().all(|(_, v)| v.is_ok()), "{out:#?}");
    }

    #[test]
    fn a_unique_constraint_moved_into_new_migrations_passes_with_its_lock_timeout() {
        let users = "CREATE TABLE users (id bigint PRIMARY KEY, email text);\nCREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);\n";
        let out = verdicts(
            &[("go.mod", "module x\n"), ("db/migrations/0001_users.up.sql", users), ("db/migrations/0002_unique.up.sql", "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);\nALTER TABLE orders ADD COLUMN note text;\n")],
            "db/migrations/0002_unique.up.sql",
        );
        assert!(out.iter().all(|(_, v)| v.is_ok()), "{out:#?}");
    }

    #[test]
    fn a_foreign_key_index_on_a_reserved_or_mixed_case_name_is_quoted() {
        let init = "CREATE TABLE users (id bigint PRIMARY KEY);\nCREATE TABLE \"order\" (id bigint PRIMARY KEY, \"userId\" bigint);\n";
        let fk = "ALTER TABLE \"order\" ADD CONSTRAINT order_user_fkey FOREIGN KEY (\"userId\") REFERENCES users (id) NOT VALID;\n";
        let dir = tempfile::tempdir().expect("temp dir");
        for (rel, text) in [("migrations/001_init.sql", init), ("migrations/005_fk.sql", fk)] {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        let project = Project::open(dir.path(), Config::default());
        let path = project.sets[0].dir.join("005_fk.sql");
        let verifier = Verifier::new(&project, &Disk, None, None, &path).expect("a migration");
        let schema = verifier.baseline().schema_for(&path).expect("schema");
        let place = Place { path: &path, set: &project.sets[0], sources: &Disk };
        let ctx = FixContext::of(verifier.analysis()).at(place).with_schema(&schema);
        let finding =
            verifier.analysis().findings.iter().find(|f| f.rule == "foreign-key-missing-index").expect("finding");
        let fixes = for_finding(finding, &ctx);
        let fix = fixes.first().expect("a fix is offered");
        let written: String = fix
            .edits
            .iter()
            .map(|e| match e {
                FileEdit::Replace { text, .. } | FileEdit::Create { text, .. } => text.clone(),
                _ => String::new(),
            })
            .collect();
        assert!(written.contains("ON \"order\" (\"userId\")"), "{written}");
        assert_eq!(verifier.check(finding, fix, true), Ok(()));
    }
}
