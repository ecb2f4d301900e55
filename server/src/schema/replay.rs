//! Replaying a whole migration set, and a rule's pass over the file it analyses.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use crate::sql::{SqlFile, Statement, StatementKind};

use super::{Baseline, Missing, ObjectRef, Origin, ReplayEvent, Schema};

/// At least this many tables used but never created make a baseline safemig cannot see.
const BASELINE_MIN_MISSING: usize = 3;

/// One migration, in runner order.
#[derive(Debug, Clone)]
pub struct ReplayInput<'a> {
    pub path: &'a Path,
    pub file: &'a SqlFile,
    /// The byte ranges of the file that run up: a statement replays when it starts in one.
    pub up: Vec<Range<usize>>,
}

impl<'a> ReplayInput<'a> {
    /// A migration whose whole file runs up.
    pub fn whole(path: &'a Path, file: &'a SqlFile) -> Self {
        ReplayInput { path, file, up: std::iter::once(0..file.text.len()).collect() }
    }
}

/// An event and the index of the statement (in its file) that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementEvent {
    pub statement: usize,
    pub event: ReplayEvent,
}

/// Keep a full schema snapshot before every this-many migrations; the ones between are folded
/// again on demand from the nearest checkpoint. One persistent snapshot per migration cost ~11 KB
/// each (≈ 110 MB for 10,000 migrations); re-folding at most 15 migrations costs microseconds.
const CHECKPOINT_EVERY: usize = 16;

/// One replayed migration, kept so that snapshots between checkpoints can be folded again. The
/// `SqlFile` clone shares its parsed statements with the caller's.
#[derive(Debug, Clone)]
struct Step {
    path: Arc<Path>,
    file: SqlFile,
    up: Vec<Range<usize>>,
}

impl Step {
    fn runs_up(&self, stmt: &Statement) -> bool {
        self.up.iter().any(|r| r.contains(&stmt.range.start))
    }

    /// Folds this migration's Up statements into `schema`, returning what conflicted.
    fn apply(&self, schema: &mut Schema) -> Vec<StatementEvent> {
        let mut lines = LineCounter::new(&self.file.text);
        let mut out = Vec::new();
        for (index, stmt) in self.file.statements.iter().enumerate() {
            if matches!(stmt.kind(), StatementKind::Empty) || !self.runs_up(stmt) {
                continue;
            }
            let origin = Origin::new(self.path.clone(), lines.line_at(stmt.range.start));
            out.extend(schema.apply(stmt, &origin).into_iter().map(|event| StatementEvent { statement: index, event }));
        }
        schema.drop_temporary_tables();
        out
    }
}

/// A migration set replayed: the schema before each migration (from checkpoints), the final
/// schema, what each migration tried that conflicts with the schema before it, and how much of the
/// starting schema is known.
#[derive(Debug, Clone)]
pub struct Replay {
    /// The schema before migration `k * CHECKPOINT_EVERY`.
    checkpoints: Vec<Schema>,
    steps: Vec<Step>,
    final_schema: Schema,
    events: Vec<Vec<StatementEvent>>,
    baseline: Baseline,
    /// The schemas [`Replay::before`] folded last, most recent first: hovers and completions ask
    /// for the same migration again and again, and one large migration between two checkpoints
    /// would otherwise be folded again on every request.
    recent: std::sync::Arc<std::sync::Mutex<Recent>>,
}

/// Folded schemas by migration index, most recently used first.
type Recent = Vec<(usize, Schema)>;

/// How many folded schemas [`Replay::before`] keeps (they share their nodes with the checkpoints).
const RECENT: usize = 8;

impl Replay {
    /// How many migrations were replayed.
    pub fn len(&self) -> usize {
        self.steps.len()
    }
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
    /// The schema before migration `i` (the final schema past the end): what the rules of its
    /// Up file, or of a file holding both its Up and Down sections, see. Cheap: a persistent
    /// checkpoint plus at most `CHECKPOINT_EVERY - 1` migrations folded again.
    pub fn before(&self, i: usize) -> Schema {
        if i >= self.steps.len() {
            return self.final_schema.clone();
        }
        let k = i / CHECKPOINT_EVERY;
        let Some(checkpoint) = self.checkpoints.get(k) else { return self.final_schema.clone() };
        if i == k * CHECKPOINT_EVERY {
            return checkpoint.clone();
        }
        if let Some(schema) = self.recall(i) {
            return schema;
        }
        let mut schema = checkpoint.clone();
        for step in &self.steps[k * CHECKPOINT_EVERY..i] {
            step.apply(&mut schema);
        }
        let mut recent = self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        recent.insert(0, (i, schema.clone()));
        recent.truncate(RECENT);
        schema
    }
    /// The schema before migration `i` if [`Replay::before`] folded it lately (then it moves to
    /// the front).
    fn recall(&self, i: usize) -> Option<Schema> {
        let mut recent = self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let pos = recent.iter().position(|(at, _)| *at == i)?;
        let entry = recent.remove(pos);
        let schema = entry.1.clone();
        recent.insert(0, entry);
        Some(schema)
    }
    /// The schemas before migrations `from..=len()` (the last one is the final schema), folded
    /// once, in order: what analysing every file from `from` on needs, without folding each
    /// one again from its checkpoint.
    pub fn befores_from(&self, from: usize) -> Vec<Schema> {
        if from > self.steps.len() {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(self.steps.len() - from + 1);
        let mut schema = self.before(from);
        for step in &self.steps[from..] {
            out.push(schema.clone());
            step.apply(&mut schema);
        }
        out.push(self.final_schema.clone());
        out
    }

    /// The schema after migration `i`: what the rules of its separate Down file see.
    pub fn after(&self, i: usize) -> Schema {
        self.before(i + 1)
    }
    pub fn final_schema(&self) -> &Schema {
        &self.final_schema
    }
    /// What migration `i`'s Up statements tried that conflicts with the schema before them.
    pub fn events(&self, i: usize) -> &[StatementEvent] {
        self.events.get(i).map_or(&[], Vec::as_slice)
    }
    pub fn baseline(&self) -> Baseline {
        self.baseline
    }
}

/// Replays `inputs` (one per migration, in runner order; only statements in Up ranges).
///
/// The baseline is [`Baseline::Unknown`] when the set uses at least three tables no migration
/// creates, or when its first migration already uses one; else [`Baseline::Empty`]. Every
/// snapshot carries that estimate.
pub fn replay(inputs: &[ReplayInput]) -> Replay {
    replay_after(None, inputs)
}

/// [`replay`] of `inputs` whose first `unchanged` inputs are the first ones `previous` replayed,
/// unchanged (same files, same order): their steps, events and checkpoints are taken from
/// `previous`, and only the rest is folded. Verifying a fix near the end of a long set, or an
/// edit to its newest migration, folds a few migrations instead of all of them.
pub fn replay_continued(previous: &Replay, unchanged: usize, inputs: &[ReplayInput]) -> Replay {
    replay_after(Some((previous, unchanged.min(previous.steps.len()).min(inputs.len()))), inputs)
}

fn replay_after(prefix: Option<(&Replay, usize)>, inputs: &[ReplayInput]) -> Replay {
    let dialect = inputs.first().map(|i| i.file.dialect).unwrap_or_default();
    let mut schema = Schema::new(dialect);
    let mut checkpoints = Vec::with_capacity(inputs.len() / CHECKPOINT_EVERY + 1);
    let mut steps = Vec::with_capacity(inputs.len());
    let mut events = Vec::with_capacity(inputs.len());
    let mut missing_tables: HashSet<String> = HashSet::new();
    let mut first_with_statements: Option<usize> = None;
    let mut missing_in_first = false;
    let mut start = 0;
    if let Some((previous, unchanged)) = prefix.filter(|(_, n)| *n > 0) {
        // The same bookkeeping the fold below does, read off the previous replay's steps.
        for i in 0..unchanged {
            if i % CHECKPOINT_EVERY == 0 {
                checkpoints.push(previous.checkpoints[i / CHECKPOINT_EVERY].clone());
            }
            let step = &previous.steps[i];
            if first_with_statements.is_none()
                && step.file.statements.iter().any(|s| !matches!(s.kind(), StatementKind::Empty) && step.runs_up(s))
            {
                first_with_statements = Some(i);
            }
            for e in &previous.events[i] {
                if let ReplayEvent::DoesNotExist {
                    object: ObjectRef::Table(key), missing: Missing::NeverCreated, ..
                } = &e.event
                {
                    missing_tables.insert(key.clone());
                    missing_in_first |= first_with_statements == Some(i);
                }
            }
            steps.push(step.clone());
            events.push(previous.events[i].clone());
        }
        schema = previous.before(unchanged);
        // Folding does not read the estimate; it is set on every snapshot at the end.
        schema.set_baseline(Schema::new(dialect).baseline());
        start = unchanged;
    }
    for (i, input) in inputs.iter().enumerate().skip(start) {
        if i % CHECKPOINT_EVERY == 0 {
            checkpoints.push(schema.clone());
        }
        let step = Step { path: Arc::from(input.path), file: input.file.clone(), up: input.up.clone() };
        if first_with_statements.is_none()
            && step.file.statements.iter().any(|s| !matches!(s.kind(), StatementKind::Empty) && step.runs_up(s))
        {
            first_with_statements = Some(i);
        }
        let mine = step.apply(&mut schema);
        for e in &mine {
            if let ReplayEvent::DoesNotExist { object: ObjectRef::Table(key), missing: Missing::NeverCreated, .. } =
                &e.event
            {
                missing_tables.insert(key.clone());
                missing_in_first |= first_with_statements == Some(i);
            }
        }
        steps.push(step);
        events.push(mine);
    }
    let baseline = if missing_tables.len() >= BASELINE_MIN_MISSING || missing_in_first {
        Baseline::Unknown { missing: missing_tables.len() }
    } else {
        Baseline::Empty
    };
    for snapshot in &mut checkpoints {
        snapshot.set_baseline(baseline);
    }
    schema.set_baseline(baseline);
    Replay { checkpoints, steps, final_schema: schema, events, baseline, recent: Default::default() }
}

/// What each of `inputs` (in runner order, Up statements only) tries that conflicts with the
/// schema before it, starting from `start` instead of an empty schema: the pending migrations of a
/// set run on a database whose schema is `start`. One list per input.
pub fn replay_onto(start: &Schema, inputs: &[ReplayInput]) -> Vec<Vec<StatementEvent>> {
    let mut schema = start.clone();
    inputs
        .iter()
        .map(|input| {
            let step = Step { path: Arc::from(input.path), file: input.file.clone(), up: input.up.clone() };
            step.apply(&mut schema)
        })
        .collect()
}

/// What each statement of one file (all of it, Up and Down sections in file order) tries that
/// conflicts with the schema before it, starting from `start`: the pass the schema rules make
/// over the migration they analyse. Origins in it have no path ("line 3 of this migration").
#[derive(Debug, Clone, Default)]
pub struct FileEvents {
    /// Indexed by statement.
    pub per_statement: Vec<Vec<ReplayEvent>>,
    /// The schema before each statement (the file's earlier statements applied); O(1) clones.
    pub before: Vec<Schema>,
}

impl FileEvents {
    pub fn of(&self, statement: usize) -> &[ReplayEvent] {
        self.per_statement.get(statement).map_or(&[], Vec::as_slice)
    }
    /// The schema right before `statement`: what the statements above it in this file made.
    pub fn schema_before(&self, statement: usize) -> Option<&Schema> {
        self.before.get(statement)
    }
}

pub fn replay_file(start: &Schema, file: &SqlFile) -> FileEvents {
    let mut schema = start.clone();
    let mut lines = LineCounter::new(&file.text);
    let mut before = Vec::with_capacity(file.statements.len());
    let per_statement = file
        .statements
        .iter()
        .map(|stmt| {
            before.push(schema.clone());
            if matches!(stmt.kind(), StatementKind::Empty) {
                return Vec::new();
            }
            schema.apply(stmt, &Origin::here(lines.line_at(stmt.range.start)))
        })
        .collect();
    FileEvents { per_statement, before }
}

/// 1-based line numbers for increasing byte offsets, in one pass over the text.
struct LineCounter<'t> {
    bytes: &'t [u8],
    pos: usize,
    line: u32,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t str) -> Self {
        LineCounter { bytes: text.as_bytes(), pos: 0, line: 1 }
    }
    fn line_at(&mut self, offset: usize) -> u32 {
        let offset = offset.min(self.bytes.len());
        if offset < self.pos {
            self.pos = 0;
            self.line = 1;
        }
        self.line += self.bytes[self.pos..offset].iter().filter(|b| **b == b'\n').count() as u32;
        self.pos = offset;
        self.line
    }
}
