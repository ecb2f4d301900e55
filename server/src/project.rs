//! The project: every migration set of a workspace, analysed as ordered histories. This is where
//! discovery (`workspace`), replay (`schema`), git (`history`) and the per-file engine meet; the
//! CLI and the language server both drive it.
//!
//! Texts come from a [`Sources`] (open editor buffers over the disk), and the previous
//! [`ProjectAnalysis`] is reused: a file whose text did not change is not parsed again, and an
//! edited file re-parses only the statements the edit touched. Rules of every later migration run
//! again, because the schema before them may have changed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::config::Config;
use crate::engine::{self, FileAnalysis};
use crate::history::{self, GitHistory};
use crate::live::ledger::Ran;
use crate::live::{LiveFacts, LiveView};
use crate::rules::{internal_error, Finding, MigrationSettings};
use crate::schema::{self, ReplayInput};
use crate::sql::SqlFile;
use crate::workspace::frameworks::{framework, BaselineMigration, BaselineTarget};
use crate::workspace::{self, Direction, MigrationSet};

/// Where file texts come from: open buffers first, then the disk.
pub trait Sources: Sync {
    fn text(&self, path: &Path) -> Option<Arc<str>>;
}

/// Reads files from disk (lossily for invalid UTF-8: the engine reports those bytes).
pub struct Disk;

impl Sources for Disk {
    fn text(&self, path: &Path) -> Option<Arc<str>> {
        let bytes = std::fs::read(path).ok()?;
        let (text, _) = engine::decode(&bytes, engine::CLI_MAX_BYTES);
        text.map(|t| Arc::from(t.as_ref()))
    }
}

/// The workspace's migration sets and the git facts about them.
pub struct Project {
    pub root: PathBuf,
    pub config: Config,
    pub sets: Vec<MigrationSet>,
    pub git: Option<GitHistory>,
    /// Messages for the user (discovery problems, why history is off), shown once.
    pub messages: Vec<String>,
    /// The configured shipped ref when it names no commit (its message is in `messages` too):
    /// `safemig check` refuses to run on it.
    pub unresolved_ref: Option<history::UnresolvedRef>,
    /// Migration directories for a database safemig does not check.
    pub unchecked: Vec<workspace::UncheckedSet>,
}

/// One analysed migration file.
#[derive(Debug, Clone)]
pub struct ProjectFile {
    pub set: usize,
    pub migration: usize,
    /// Which replayed schema the file's rules saw.
    pub schema: SchemaPoint,
    pub analysis: Arc<FileAnalysis>,
    /// The findings computed across the set (history, ledger, drift) that the analysis took.
    pub external: Vec<Finding>,
}

/// A point in a set's replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaPoint {
    /// Before replay input `i` (an up file, or one holding both directions).
    Before(usize),
    /// After replay input `i` (a separate down file).
    After(usize),
    /// After the whole set (a migration whose up part could not be read).
    Final,
}

impl SchemaPoint {
    /// The schema at this point (a cheap persistent value, folded from the nearest checkpoint).
    pub fn of(self, replay: &schema::Replay) -> schema::Schema {
        match self {
            SchemaPoint::Before(i) => replay.before(i),
            SchemaPoint::After(i) => replay.after(i),
            SchemaPoint::Final => replay.final_schema().clone(),
        }
    }
}

/// The analysis of every migration file of the project.
#[derive(Default)]
pub struct ProjectAnalysis {
    pub files: FxHashMap<PathBuf, ProjectFile>,
    /// Per set, in set order.
    pub replays: Vec<schema::Replay>,
    /// The dev database's facts the analysis saw, if one is connected.
    pub live: Option<Arc<LiveFacts>>,
    /// The configuration the rules ran with.
    pub config: Option<Config>,
    /// Per set (in set order), with a dev database: what it was compared with and how it differs.
    pub drift: Vec<SetDrift>,
}

/// One set against the dev database.
#[derive(Debug, Clone)]
pub struct SetDrift {
    pub basis: crate::live::drift::Basis,
    /// `None`: the database is not built from this set (none of its tables exist there).
    pub drift: Option<Vec<crate::live::drift::Drift>>,
}

/// The schema of exactly the migrations the database ran (`ran`, per migration), in runner
/// order; `None` when that is every migration (the replay's final schema). When the ones that
/// ran are the first k (the usual case: the rest is pending), this is the replay's checkpointed
/// schema before migration k; when the ledger has applied a later migration before an earlier
/// one (out of order), the applied ones are replayed on their own.
fn applied_schema(
    replay: &schema::Replay,
    inputs: &[ReplayInput],
    points: &[Option<usize>],
    ran: &[bool],
) -> Option<schema::Schema> {
    let mut ran_inputs: Vec<usize> = points.iter().zip(ran).filter(|(_, r)| **r).filter_map(|(p, _)| *p).collect();
    ran_inputs.sort_unstable();
    if ran_inputs.len() == inputs.len() {
        return None;
    }
    if ran_inputs.iter().enumerate().all(|(k, i)| k == *i) {
        return Some(replay.before(ran_inputs.len()));
    }
    let subset: Vec<ReplayInput> = ran_inputs.iter().filter_map(|&i| inputs.get(i).cloned()).collect();
    Some(schema::replay(&subset).final_schema().clone())
}

impl ProjectAnalysis {
    /// The replayed schema a migration file's rules saw (for hovers, definitions, completion).
    pub fn schema_for(&self, path: &Path) -> Option<schema::Schema> {
        let f = self.files.get(path)?;
        Some(f.schema.of(self.replays.get(f.set)?))
    }
}

impl Project {
    /// Discovers the migration sets under `root` and loads git history for them.
    pub fn open(root: &Path, config: Config) -> Project {
        let discovery = workspace::discover(root, &config);
        // A path in safemig.toml may be a connection string put in the wrong place.
        let mut messages: Vec<String> = discovery.problems.iter().map(|m| crate::live::connect::redact(m)).collect();
        let mut unresolved_ref = None;
        let git = match GitHistory::load(root, &discovery.sets, config.shipped_ref.as_deref()) {
            Ok(git) => Some(git),
            Err(off) => {
                messages.push(off.to_string());
                unresolved_ref = off.unresolved_ref;
                None
            }
        };
        Project {
            root: root.to_path_buf(),
            config,
            sets: discovery.sets,
            git,
            messages,
            unresolved_ref,
            unchecked: discovery.unchecked,
        }
    }

    /// What a file outside every set is written for: the unchecked set's database when it is in
    /// one, else [`engine::database_for`].
    pub fn database_for(&self, path: &Path, text: &str) -> engine::Database {
        match workspace::unchecked_of(&self.unchecked, path) {
            Some(u) => engine::Database::Unchecked(u.database, u.evidence.clone()),
            None => engine::database_for(path, text, &self.config),
        }
    }

    /// The set and migration a file belongs to.
    pub fn locate(&self, path: &Path) -> Option<(usize, usize)> {
        let (set, migration) = workspace::set_of(&self.sets, path)?;
        let index = self.sets.iter().position(|s| std::ptr::eq(s, set))?;
        Some((index, migration))
    }

    /// The engine settings for a file: config, dialect of its set, and its runner's transaction
    /// behaviour (the file's own opt-out included).
    pub fn settings_for(&self, set: &MigrationSet, path: &Path, text: &str) -> MigrationSettings {
        self.settings_via(set, path, text, &Disk)
    }

    /// [`Project::settings_for`], reading the files next to the migration (Flyway's `.sql.conf`,
    /// Diesel's `metadata.toml`) from `sources`.
    pub fn settings_via(
        &self,
        set: &MigrationSet,
        path: &Path,
        text: &str,
        sources: &dyn Sources,
    ) -> MigrationSettings {
        let mut settings = self.config.settings(set.dialect);
        let read = |p: &Path| sources.text(p).map(|t| t.to_string());
        let mode = framework(set.framework).transaction_with(path, text, set.dialect, &read);
        let opted_out = mode.opted_out_by.is_some();
        settings.wraps_in_transaction |= mode.wraps && !opted_out;
        settings.implicit_transaction = mode.implicit_batch && !opted_out;
        settings.runner_opt_out = mode.how_to_opt_out;
        settings.renders_templates = framework(set.framework).renders_templates();
        settings.preinstalled_extensions = framework(set.framework).preinstalled_extensions();
        // A separate down file undoes its up file (the index lookup, not a scan of the set).
        settings.undoes = workspace::set_of(std::slice::from_ref(set), path)
            .and_then(|(_, mi)| set.migrations.get(mi))
            .filter(|m| m.down.as_deref() == Some(path))
            .and_then(|m| m.up.as_deref())
            .map(Arc::from);
        settings
    }

    /// Analyses every migration of every set. Files are parsed, and their rules run, in
    /// parallel; each set's replay is one ordered fold.
    pub fn analyze(&self, sources: &dyn Sources, previous: Option<&ProjectAnalysis>) -> ProjectAnalysis {
        self.analyze_live(sources, previous, None)
    }

    /// [`Project::analyze`] with the facts of a connected dev database: live table sizes for the
    /// lock rules, and the ledger and drift findings.
    pub fn analyze_live(
        &self,
        sources: &dyn Sources,
        previous: Option<&ProjectAnalysis>,
        live: Option<Arc<LiveFacts>>,
    ) -> ProjectAnalysis {
        self.analyze_sets(&self.sets, None, sources, previous, live)
    }

    /// The analysis of `sets` (the project's, or the sets as a planned fix would leave them),
    /// all of them or only set `only`: then the other sets' files are neither parsed nor
    /// analysed, and the result holds only that set's files (its `replays` keep the sets'
    /// indices, empty for the others).
    pub fn analyze_sets(
        &self,
        sets: &[MigrationSet],
        only: Option<usize>,
        sources: &dyn Sources,
        previous: Option<&ProjectAnalysis>,
        live: Option<Arc<LiveFacts>>,
    ) -> ProjectAnalysis {
        let in_scope = |si: usize| only.is_none_or(|o| o == si);
        let locate = |path: &Path| -> Option<(usize, usize)> {
            let (set, migration) = workspace::set_of(sets, path)?;
            Some((sets.iter().position(|s| std::ptr::eq(s, set))?, migration))
        };
        // 1. Parse every file (reusing the previous parse of unchanged text). A file safemig
        //    fails on (a panic) takes part with no statements, and gets an `internal-error`
        //    finding in step 5: the other files keep theirs.
        let jobs: Vec<(&Path, &MigrationSet)> = sets
            .iter()
            .enumerate()
            .filter(|(si, _)| in_scope(*si))
            .flat_map(|(_, set)| set.migrations.iter().flat_map(|m| m.files()).map(move |p| (p, set)))
            .collect();
        let read: Vec<ReadFile> = jobs
            .par_iter()
            .filter_map(|&(path, set)| {
                let text = sources.text(path)?;
                // A previous analysis that failed has no parse to share or to start from.
                let prev = previous
                    .and_then(|p| p.files.get(path))
                    .filter(|f| !f.analysis.findings.iter().any(|f| f.rule == internal_error::RULE.id))
                    .map(|f| &f.analysis.file);
                let file = match prev {
                    // Unchanged text: share the previous parse as it is.
                    Some(p) if *p.text == *text && p.dialect == set.dialect => Ok(Arc::clone(p)),
                    _ => engine::catch_panic(|| Arc::new(SqlFile::parse(&text, set.dialect, prev.map(|p| &**p)))),
                };
                Some((path.to_path_buf(), text, set.dialect, file))
            })
            .collect();
        let mut failed: FxHashMap<PathBuf, String> = FxHashMap::default();
        let mut parsed: FxHashMap<PathBuf, (Arc<str>, Arc<SqlFile>)> = FxHashMap::default();
        for (path, text, dialect, file) in read {
            let file = file.unwrap_or_else(|panic| {
                failed.insert(path.clone(), panic);
                Arc::new(SqlFile { dialect, text: Arc::clone(&text), statements: Vec::new(), comments: Vec::new() })
            });
            parsed.insert(path, (text, file));
        }
        // 2. History findings across the sets (git, versions, ordering).
        let lookup = |path: &Path| parsed.get(path).cloned();
        let mut external: FxHashMap<PathBuf, Vec<Finding>> = FxHashMap::default();
        // Scoped to one set, only that set's history: what crosses sets is left to the whole
        // analysis (a scoped one compares with another scoped one).
        let history_sets = match only {
            Some(o) => sets.get(o..=o).unwrap_or(&[]),
            None => sets,
        };
        for (path, finding) in history::findings(history_sets, self.git.as_ref(), &lookup) {
            external.entry(path).or_default().push(finding);
        }
        if let Some(live) = live.as_deref() {
            for (path, finding) in ledger_findings(history_sets, live, &lookup) {
                external.entry(path).or_default().push(finding);
            }
        }
        // 3. Replay each set.
        let mut out =
            ProjectAnalysis { live: live.clone(), config: Some(self.config.clone()), ..ProjectAnalysis::default() };
        let mut points: Vec<Vec<Option<usize>>> = Vec::with_capacity(sets.len());
        let mut set_inputs: Vec<Vec<ReplayInput>> = Vec::with_capacity(sets.len());
        // Per set: how many leading replay inputs are the previous analysis's, unchanged (the
        // schema before each of them, and after the last, is then the same as before).
        let mut unchanged: Vec<usize> = Vec::with_capacity(sets.len());
        for (si, set) in sets.iter().enumerate() {
            if !in_scope(si) {
                out.replays.push(schema::replay(&[]));
                points.push(vec![None; set.migrations.len()]);
                set_inputs.push(Vec::new());
                unchanged.push(0);
                continue;
            }
            // Migration index → replay input index, for migrations whose up part we could read.
            let mut replayed = vec![None; set.migrations.len()];
            let mut inputs: Vec<ReplayInput> = Vec::with_capacity(set.migrations.len());
            for (mi, m) in set.migrations.iter().enumerate() {
                let Some(path) = m.up.as_deref() else { continue };
                let Some((text, file)) = parsed.get(path) else { continue };
                let up = framework(set.framework)
                    .sections(path, text)
                    .into_iter()
                    .filter(|s| s.direction == Direction::Up)
                    .map(|s| s.range)
                    .collect();
                replayed[mi] = Some(inputs.len());
                inputs.push(ReplayInput { path, file, up });
            }
            let same = |(i, input): (usize, &ReplayInput)| {
                previous
                    .and_then(|p| p.files.get(input.path))
                    .is_some_and(|p| std::ptr::eq(&*p.analysis.file, input.file) && p.schema == SchemaPoint::Before(i))
            };
            let kept = inputs.iter().enumerate().take_while(|&x| same(x)).count();
            unchanged.push(kept);
            // The previous replay of this set, when it replayed the same first migrations.
            let before =
                previous.zip(inputs.first()).and_then(|(p, first)| p.replays.get(p.files.get(first.path)?.set));
            out.replays.push(match before {
                Some(before) if kept > 0 => schema::replay_continued(before, kept, &inputs),
                _ => schema::replay(&inputs),
            });
            points.push(replayed);
            set_inputs.push(inputs);
        }
        // 4. What the dev database has that the replays do not build, and the other way round;
        //    for a failed migration, which of its statements the database already reflects.
        if let Some(live) = live.as_deref() {
            for (path, findings) in external.iter_mut() {
                for finding in findings.iter_mut().filter(|f| f.rule == crate::rules::migration_failed::RULE.id) {
                    let Some((si, mi)) = locate(path) else { continue };
                    let (Some(input), Some((_, file))) = (points[si][mi], parsed.get(path.as_path())) else { continue };
                    let before = out.replays[si].before(input);
                    let effects = failed_effects(&sets[si], path, file, &before, &live.snapshot);
                    finding.message.push_str(&describe_effects(file, &effects));
                    finding.fix = Some(crate::rules::FixHint { title: "Write a recovery migration".into() });
                }
            }
            let ran: Vec<Ran> = sets.iter().map(|set| Ran::of(set, live.ledger_of(&set.dir))).collect();
            let applied: Vec<Option<schema::Schema>> = ran
                .iter()
                .enumerate()
                .map(|(si, ran)| applied_schema(&out.replays[si], &set_inputs[si], &points[si], &ran.migrations))
                .collect();
            let whole: Vec<&schema::Schema> = out.replays.iter().map(schema::Replay::final_schema).collect();
            let applied_refs: Vec<&schema::Schema> =
                applied.iter().zip(&whole).map(|(a, w)| a.as_ref().unwrap_or(w)).collect();
            let drift = crate::live::drift::diff_applied(&applied_refs, &whole, &live.snapshot);
            let mut found = Vec::new();
            for (si, set) in sets.iter().enumerate().filter(|(si, _)| in_scope(*si)) {
                let Some(d) = drift[si].as_deref() else { continue };
                crate::rules::schema_drift::findings(set, d, &ran[si].basis, &live.snapshot, &lookup, &mut found);
            }
            for (si, set) in sets.iter().enumerate().filter(|(si, _)| in_scope(*si)) {
                let facts = SetFacts { set, replay: &out.replays[si], inputs: &set_inputs[si], points: &points[si] };
                found.extend(self.pending_findings(&facts, &ran[si], live, &parsed));
            }
            for (path, finding) in found {
                external.entry(path).or_default().push(finding);
            }
            out.drift = drift.into_iter().zip(ran).map(|(drift, ran)| SetDrift { basis: ran.basis, drift }).collect();
        }
        // 5. Run the rules of each file against the schema before it.
        for (si, set) in sets.iter().enumerate().filter(|(si, _)| in_scope(*si)) {
            let replay = &out.replays[si];
            let replayed = &points[si];
            let jobs: Vec<(usize, &Path, SchemaPoint, Vec<Finding>)> = set
                .migrations
                .iter()
                .enumerate()
                .flat_map(|(mi, m)| m.files().map(move |path| (mi, m, path)))
                .filter(|(_, _, path)| parsed.contains_key(*path))
                .map(|(mi, m, path)| {
                    // An up file (or one holding both directions) sees the schema before its
                    // migration; a separate down file sees the schema after it.
                    let point = match (replayed[mi], m.up.as_deref() == Some(path)) {
                        (Some(i), true) => SchemaPoint::Before(i),
                        (Some(i), false) => SchemaPoint::After(i),
                        (None, _) => SchemaPoint::Final,
                    };
                    (mi, path, point, external.remove(path).unwrap_or_default())
                })
                .collect();
            let same_live = match (previous.and_then(|p| p.live.as_ref()), live.as_ref()) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            } && previous.is_some_and(|p| p.config.as_ref() == Some(&self.config));
            let unchanged = unchanged[si];
            // The schemas from the first changed migration on, folded once in order (each a
            // persistent value, but together they hold what a checkpoint every 16 migrations
            // saves: past `FOLD_AT_ONCE` of them, each file folds from its checkpoint instead).
            let folded = if replay.len().saturating_sub(unchanged) <= FOLD_AT_ONCE {
                replay.befores_from(unchanged)
            } else {
                Vec::new()
            };
            let schema_at = |point: SchemaPoint| {
                let i = match point {
                    SchemaPoint::Before(i) => i,
                    SchemaPoint::After(i) => i + 1,
                    SchemaPoint::Final => return replay.final_schema().clone(),
                };
                match i.checked_sub(unchanged).and_then(|k| folded.get(k)) {
                    Some(schema) => schema.clone(),
                    None => point.of(replay),
                }
            };
            let analysed: Vec<(PathBuf, ProjectFile)> = jobs
                .into_par_iter()
                .filter_map(|(mi, path, point, extra)| {
                    let (text, file) = parsed.get(path)?;
                    let settings = self.settings_via(set, path, text, sources);
                    // The same text, over the same schema, with the same facts: the previous
                    // analysis stands (a fix verified near the end of a long set re-runs the
                    // rules of the files from it on, not of the whole set).
                    let schema_same = match point {
                        SchemaPoint::Before(i) => i < unchanged,
                        SchemaPoint::After(i) => i < unchanged,
                        SchemaPoint::Final => false,
                    };
                    let reused = previous.and_then(|p| p.files.get(path)).filter(|p| {
                        schema_same
                            && same_live
                            && p.schema == point
                            && Arc::ptr_eq(&p.analysis.file, file)
                            && p.analysis.settings == settings
                            && p.external == extra
                    });
                    let analysis = match (reused, failed.get(path)) {
                        (_, Some(panic)) => Arc::new(engine::internal_error(text, set.dialect, panic)),
                        (Some(p), None) => Arc::clone(&p.analysis),
                        (None, None) => Arc::new(engine::contained(text, set.dialect, || {
                            let schema = schema_at(point);
                            let view = LiveView { replayed: &schema, live: live.as_deref() };
                            let ext = extra.clone();
                            engine::analyze_parsed(Arc::clone(file), &settings, &self.config, &view, ext)
                        })),
                    };
                    let pf = ProjectFile { set: si, migration: mi, schema: point, analysis, external: extra };
                    Some((path.to_path_buf(), pf))
                })
                .collect();
            out.files.extend(analysed);
        }
        out
    }

    /// The findings about the migrations the dev database has not run yet: `baseline-needed`
    /// (no ledger rows, but the first migrations' objects are there), then, replaying the pending
    /// migrations onto the database's schema, `migration-partially-applied` (a migration that
    /// can stop half-way and shows in part) and `migration-will-fail` (what conflicts with the
    /// database and not with the chain). A runner without a ledger has no pending migrations.
    fn pending_findings(
        &self,
        facts: &SetFacts<'_>,
        ran: &Ran,
        live: &LiveFacts,
        parsed: &FxHashMap<PathBuf, (Arc<str>, Arc<SqlFile>)>,
    ) -> Vec<(PathBuf, Finding)> {
        use crate::live::drift::Basis;
        use crate::live::effects::EffectState;
        use crate::rules::{baseline_needed, migration_partially_applied, migration_will_fail};
        let SetFacts { set, replay, inputs, points } = *facts;
        let fw = framework(set.framework);
        let Some(spec) = fw.ledger() else { return Vec::new() };
        if set.dialect != crate::sql::Dialect::Postgres || !ran.will_run.iter().any(|w| *w) {
            return Vec::new();
        }
        let db = live.snapshot.database.as_str();
        let file_of = |mi: usize| -> Option<(&Path, &Arc<str>, &Arc<SqlFile>)> {
            let path = set.migrations.get(mi)?.up.as_deref()?;
            let (text, file) = parsed.get(path)?;
            Some((path, text, file))
        };
        // The database's schema: what its ledger says it ran, as its catalog shows it.
        let ran_already: Vec<bool> = ran.migrations.iter().zip(&ran.will_run).map(|(r, w)| *r && !*w).collect();
        let start =
            applied_schema(replay, inputs, points, &ran_already).unwrap_or_else(|| replay.final_schema().clone());
        let held = crate::live::pending::as_live(&start, &live.snapshot);
        let mut out = Vec::new();

        // The first migrations' objects are there, and the ledger has no rows.
        let mut covered = 0;
        if let Basis::NoLedger { ledger: Some(table) } = &ran.basis {
            for point in points {
                let Some(i) = *point else { break };
                match crate::live::pending::holds_created(&replay.before(i), &replay.after(i), &held) {
                    Some(true) => covered += 1,
                    _ => break,
                }
            }
            if let Some((path, _, file)) = file_of(0).filter(|_| covered > 0) {
                let keys = fw.ledger_keys(set);
                let migrations: Vec<BaselineMigration> = (0..covered)
                    .filter_map(|mi| {
                        let (_, text, _) = file_of(mi)?;
                        Some(BaselineMigration {
                            migration: &set.migrations[mi],
                            ledger_version: keys.migrations.get(mi).and_then(Option::as_ref),
                            text,
                        })
                    })
                    .collect();
                let labels: Vec<String> = migrations.iter().map(BaselineMigration::label).collect();
                let command = (spec.baseline)(&BaselineTarget { dir: &set.dir, migrations: &migrations });
                let message = baseline_needed::message(db, &labels, &set.framework.to_string(), table, &command);
                let range = history::file_anchor(file);
                out.push((path.to_path_buf(), history::finding(&baseline_needed::RULE, file, range, message, None)));
            }
        }

        // Without ledger rows, and without the first migrations' objects, nothing says this
        // database is meant for this set (another service's database, a fresh one): its tables
        // are not this set's conflicts.
        if matches!(ran.basis, Basis::NoLedger { .. }) && covered == 0 {
            return out;
        }
        // The pending migrations, replayed in runner order onto the database's schema.
        let pending: Vec<(usize, usize)> = (covered..set.migrations.len())
            .filter(|&mi| ran.will_run[mi])
            .filter_map(|mi| Some((mi, points[mi]?)))
            .collect();
        let pending_inputs: Vec<ReplayInput> = pending.iter().filter_map(|&(_, i)| inputs.get(i).cloned()).collect();
        let by_ledger = matches!(ran.basis, Basis::Ledger { .. });
        for (&(mi, input), events) in pending.iter().zip(schema::replay_onto(&held, &pending_inputs)) {
            let Some((path, text, file)) = file_of(mi) else { continue };
            if !spec.records_failures && crate::live::pending::can_stop_half_way(fw, path, text, set.dialect) {
                let effects = failed_effects(set, path, file, &replay.before(input), &live.snapshot);
                let took = effects.iter().any(|e| matches!(e.state, EffectState::Applied | EffectState::Partial));
                let left = effects.iter().any(|e| matches!(e.state, EffectState::NotApplied | EffectState::Partial));
                if took && left {
                    let mode = fw.transaction_in(path, text, set.dialect);
                    let record = crate::live::recovery::ledger_command(set.framework, set, &set.migrations[mi], file);
                    let mut message = migration_partially_applied::message(
                        &set.framework.to_string(),
                        db,
                        mode.opted_out_by.as_deref(),
                        &record,
                    );
                    message.push_str(&describe_effects(file, &effects));
                    let range = history::file_anchor(file);
                    let mut found = history::finding(&migration_partially_applied::RULE, file, range, message, None);
                    found.fix = Some(crate::rules::FixHint { title: "Write a recovery migration".into() });
                    out.push((path.to_path_buf(), found));
                    // The runner stops at this migration: the ones after it are judged once it
                    // is repaired.
                    break;
                }
            }
            let chain = replay.events(input);
            let mut fails = false;
            for e in events {
                let same = |c: &schema::StatementEvent| {
                    c.statement == e.statement && object_of(&c.event) == object_of(&e.event)
                };
                if chain.iter().any(same) {
                    continue;
                }
                let Some(stmt) = file.statements.get(e.statement) else { continue };
                let message = migration_will_fail::message(&e.event, db, by_ledger);
                let range = stmt.abs(e.event.span());
                out.push((
                    path.to_path_buf(),
                    history::finding(&migration_will_fail::RULE, file, range, message, None),
                ));
                fails = true;
            }
            if fails {
                break;
            }
        }
        out
    }
}

/// A file read in step 1 of `analyze_sets`: its text, its set's dialect, and its parse (`Err`: the
/// panic's message).
type ReadFile = (PathBuf, Arc<str>, crate::sql::Dialect, Result<Arc<SqlFile>, String>);

/// How many schemas an analysis folds in one pass (see `analyze_sets`).
const FOLD_AT_ONCE: usize = 512;

/// The ledger rules' findings for the sets whose ledger the dev database holds.
fn ledger_findings(
    sets: &[MigrationSet],
    live: &LiveFacts,
    files: &history::FileSource<'_>,
) -> Vec<(PathBuf, Finding)> {
    let ledgers: Vec<(usize, &crate::live::ledger::Ledger)> =
        sets.iter().enumerate().filter_map(|(i, set)| Some((i, live.ledger_of(&set.dir)?))).collect();
    if ledgers.is_empty() {
        return Vec::new();
    }
    crate::live::ledger::live_findings(sets, &ledgers, files)
}

/// One set with its replay, the replay's inputs and, per migration, its input index.
#[derive(Clone, Copy)]
struct SetFacts<'a> {
    set: &'a MigrationSet,
    replay: &'a schema::Replay,
    inputs: &'a [ReplayInput<'a>],
    points: &'a [Option<usize>],
}

/// The object a replay event is about.
fn object_of(event: &schema::ReplayEvent) -> &schema::ObjectRef {
    match event {
        schema::ReplayEvent::AlreadyExists { object, .. } | schema::ReplayEvent::DoesNotExist { object, .. } => object,
    }
}

/// What a failed migration's Up statements did to the dev database (a goose or dbmate file's Down
/// part never ran).
pub fn failed_effects(
    set: &MigrationSet,
    path: &Path,
    file: &SqlFile,
    before: &schema::Schema,
    live: &crate::live::LiveSnapshot,
) -> Vec<crate::live::effects::StatementEffect> {
    let up: Vec<std::ops::Range<usize>> = framework(set.framework)
        .sections(path, &file.text)
        .into_iter()
        .filter(|s| s.direction == Direction::Up)
        .map(|s| s.range)
        .collect();
    let events = schema::replay_file(before, file);
    crate::live::effects::statement_effects_in(file, &up, &events, before, live)
}

/// " Already in the database: line 1 (column `users.status` exists). Not yet: line 2 (…)."
fn describe_effects(file: &SqlFile, effects: &[crate::live::effects::StatementEffect]) -> String {
    use crate::live::effects::EffectState;
    let line = |statement: usize| {
        let start = file.statements.get(statement).map_or(0, |s| s.range.start);
        file.text[..start.min(file.text.len())].bytes().filter(|b| *b == b'\n').count() + 1
    };
    let mut groups: Vec<(&str, Vec<String>)> = vec![
        ("already in the database", Vec::new()),
        ("partly", Vec::new()),
        ("not yet", Vec::new()),
        ("unknown", Vec::new()),
    ];
    for e in effects {
        let slot = match e.state {
            EffectState::Applied => 0,
            EffectState::Partial => 1,
            EffectState::NotApplied => 2,
            EffectState::Unknown => 3,
        };
        groups[slot].1.push(format!("line {} ({})", line(e.statement), e.why));
    }
    let parts: Vec<String> = groups
        .into_iter()
        .filter(|(_, l)| !l.is_empty())
        .map(|(what, l)| format!("{what}: {}", l.join(", ")))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" Statements — {}.", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    /// A panic while one file is parsed, or while its rules run, costs that file its findings
    /// (it gets `internal-error`), not the other files theirs; the next pass tries it again.
    #[test]
    fn a_panic_on_one_file_is_an_internal_error_on_that_file_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        let index = "CREATE INDEX orders_customer_idx ON orders (customer_id);\n";
        write(root, "migrations/0001_orders.sql", "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);\n");
        write(root, "migrations/0002_parse.sql", &format!("-- safemig-test: panic in parse\n{index}"));
        write(root, "migrations/0003_rules.sql", &format!("-- safemig-test: panic in rules\n{index}"));
        write(root, "migrations/0004_index.sql", index);
        let project = Project::open(root, Config::default());
        assert_eq!(project.sets.len(), 1, "{:?}", project.messages);
        let rules_of = |analysis: &ProjectAnalysis, name: &str| -> Vec<(&'static str, String)> {
            let path = project.sets[0].dir.join(name);
            let file = analysis.files.get(&path).unwrap_or_else(|| panic!("{name} analysed"));
            file.analysis.findings.iter().map(|f| (f.rule, f.message.clone())).collect()
        };
        let first = project.analyze(&Disk, None);
        for (analysis, pass) in [(&first, "first"), (&project.analyze(&Disk, Some(&first)), "second")] {
            for (name, stage) in [("0002_parse.sql", "parse"), ("0003_rules.sql", "rules")] {
                let found = rules_of(analysis, name);
                assert_eq!(found.len(), 1, "{pass} pass, {name}: {found:?}");
                assert_eq!(found[0].0, "internal-error");
                assert!(found[0].1.contains(&format!("a test panic in {stage}")), "{}", found[0].1);
                assert!(found[0].1.contains("please report it"), "{}", found[0].1);
            }
            // Negative: the other files keep their findings, and have no internal error.
            let fourth = rules_of(analysis, "0004_index.sql");
            assert!(fourth.iter().any(|(r, _)| *r == "create-index-blocking"), "{pass} pass: {fourth:?}");
            assert!(fourth.iter().all(|(r, _)| *r != "internal-error"), "{fourth:?}");
            assert!(rules_of(analysis, "0001_orders.sql").iter().all(|(r, _)| *r != "internal-error"));
        }
    }
}
