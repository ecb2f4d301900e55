//! Code actions: the engine's quick fixes ([`crate::fixes`]) as LSP workspace edits.

use std::collections::HashMap;

use tower_lsp::lsp_types::*;

use std::path::Path;

use std::sync::Arc;

use crate::fixes::verify::{self, Verifier};
use crate::fixes::{self, FileEdit, Fix, FixContext, Place, ProjectFacts, Safety};
use crate::live::LiveFacts;
use crate::project::Disk;
use crate::rules::Finding;
use crate::sql::SqlFile;
use crate::text::PositionEncoding;

use super::documents::Snapshot;
use super::workspace::{Overlay, ProjectState};

/// What fixes about the whole project need: the migration sets, their replay, the dev database,
/// and the open buffers' texts (which win over the disk) to verify each fix against.
pub(crate) struct ProjectFixes<'a> {
    pub project: &'a ProjectState,
    pub live: Option<&'a Arc<LiveFacts>>,
    pub path: &'a Path,
    pub buffers: &'a Overlay,
}

impl ProjectFixes<'_> {
    /// Where the file sits in its migration set, for fixes that use the framework.
    fn place(&self) -> Option<Place<'_>> {
        let project = &self.project.model.project;
        let (si, _) = project.locate(self.path)?;
        Some(Place { path: self.path, set: project.sets.get(si)?, sources: &Disk })
    }

    /// What the history fixes read: git history and the file's set's ledger in the dev database.
    fn facts(&self) -> ProjectFacts<'_> {
        let project = &self.project.model.project;
        let ledger = project
            .locate(self.path)
            .and_then(|(si, _)| project.sets.get(si))
            .and_then(|set| self.live?.ledger_of(&set.dir));
        ProjectFacts { git: project.git.as_ref(), ledger }
    }

    /// `migration-failed`, `migration-partially-applied`: a new, guarded recovery migration in the
    /// framework's naming.
    fn recovery(&self, finding: &Finding, file: &SqlFile) -> Option<Fix> {
        if ![crate::rules::migration_failed::RULE.id, crate::rules::migration_partially_applied::RULE.id]
            .contains(&finding.rule)
        {
            return None;
        }
        let live = self.live?;
        let model = &self.project.model;
        let (si, mi) = model.project.locate(self.path)?;
        let set = model.project.sets.get(si)?;
        let migration = set.migrations.get(mi)?;
        let before = model.schema_before(&self.project.analysis, self.path)?;
        let effects = crate::project::failed_effects(set, self.path, file, &before, &live.snapshot);
        let recovery =
            crate::live::recovery::recovery_migration(set, migration, file, &effects, &before, &live.snapshot);
        if recovery.files.iter().any(|f| f.path.exists()) {
            // Never overwrite: the next version key is taken (a file appeared since the analysis).
            return None;
        }
        let edits =
            recovery.files.iter().map(|f| FileEdit::Create { path: f.path.clone(), text: f.text.clone() }).collect();
        Some(Fix {
            rule: finding.rule,
            title: format!(
                "Write the recovery migration {}, then run `{}`",
                recovery.file_name(),
                recovery.ledger_command
            ),
            preferred: true,
            safety: Safety::Unsafe,
            edits,
        })
    }
}

/// What the client can apply.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct EditSupport {
    /// `WorkspaceEdit.documentChanges` (versioned edits).
    pub document_changes: bool,
    /// `CreateFile` resource operations.
    pub create_files: bool,
    /// `RenameFile` resource operations.
    pub rename_files: bool,
}

impl EditSupport {
    pub fn from_capabilities(caps: &ClientCapabilities) -> Self {
        let edit = caps.workspace.as_ref().and_then(|w| w.workspace_edit.as_ref());
        EditSupport {
            document_changes: edit.and_then(|e| e.document_changes).unwrap_or(false),
            create_files: edit
                .and_then(|e| e.resource_operations.as_ref())
                .is_some_and(|ops| ops.contains(&ResourceOperationKind::Create)),
            rename_files: edit
                .and_then(|e| e.resource_operations.as_ref())
                .is_some_and(|ops| ops.contains(&ResourceOperationKind::Rename)),
        }
    }
}

/// Whether the answer may be planned now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Readiness {
    /// The workspace's first analysis is done (or there is no workspace): fixes see the facts
    /// of the file's set.
    Ready,
    /// The workspace's first analysis has not finished: a fix planned now would not know how
    /// the file's runner runs it, what shipped or what later migrations do. Nothing is offered.
    WorkspacePending,
}

/// The request: the range it is about, the diagnostics the client sent with it, the kinds it
/// wants.
pub(crate) struct ActionRequest<'a> {
    pub range: Range,
    pub diagnostics: &'a [Diagnostic],
    pub only: Option<&'a [CodeActionKind]>,
}

/// The command a code action carries when the client cannot create or rename files itself
/// (no `documentChanges` or resource operations: Neovim up to 0.11): the server writes the new
/// and renamed files, and applies the buffer's own edits through `workspace/applyEdit`.
pub(crate) const APPLY_FIX_COMMAND: &str = "safemig.applyFix";

/// What [`APPLY_FIX_COMMAND`] carries: which fix of which finding, for which version of the
/// buffer.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct ApplyFix {
    pub uri: Url,
    pub version: i32,
    pub rule: String,
    /// The finding's byte range in the buffer.
    pub start: usize,
    pub end: usize,
    pub title: String,
}

/// The quick fixes for the request's diagnostics (each diagnostic gets the fixes of its own
/// finding only), or, when the client sent none of ours, for the findings that touch its range.
/// Every fix is verified against the file's whole set before it is offered ([`verify`]): none
/// edits a shipped or applied migration or adds a finding.
#[allow(clippy::too_many_arguments)]
pub(crate) fn code_actions(
    snapshot: &Snapshot,
    uri: &Url,
    request: &ActionRequest,
    encoding: PositionEncoding,
    support: EditSupport,
    readiness: Readiness,
    config: &crate::config::Config,
    project: Option<ProjectFixes>,
) -> Vec<CodeActionOrCommand> {
    if request
        .only
        .is_some_and(|kinds| !kinds.iter().any(|k| CodeActionKind::QUICKFIX.as_str().starts_with(k.as_str())))
    {
        return Vec::new();
    }
    let positions = snapshot.positions(encoding);
    let (Some(start), Some(end)) = (positions.offset(request.range.start), positions.offset(request.range.end)) else {
        return Vec::new();
    };
    let ours: Vec<&Diagnostic> =
        request.diagnostics.iter().filter(|d| d.source.as_deref() == Some(super::convert::SOURCE)).collect();
    let wanted = |f: &Finding| {
        if ours.is_empty() {
            // Touching counts: a cursor at either end of the finding, or a selection across it.
            f.range.end >= start && f.range.start <= end
        } else {
            let diagnostic = super::convert::diagnostic(f, &positions);
            ours.iter()
                .any(|d| d.range == diagnostic.range && d.code == diagnostic.code && d.message == diagnostic.message)
        }
    };
    let mut out = Vec::new();
    for (finding, fix) in verified_fixes(snapshot, &wanted, readiness, config, project.as_ref()) {
        let diagnostic = super::convert::diagnostic(&finding, &positions);
        let creates = fix.edits.iter().any(|e| matches!(e, FileEdit::Create { .. }));
        let renames = fix.edits.iter().any(|e| matches!(e, FileEdit::Rename { .. }));
        let client_can = (!creates || (support.create_files && support.document_changes))
            && (!renames || (support.rename_files && support.document_changes));
        let mut action = CodeAction {
            title: fix.title.clone(),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![diagnostic]),
            is_preferred: Some(fix.preferred),
            ..CodeAction::default()
        };
        if client_can {
            let Some(edit) = workspace_edit(&fix.edits, uri, snapshot.version, &positions, support) else { continue };
            action.edit = Some(edit);
        } else {
            // The server carries out what the client cannot: never half a fix.
            let args = ApplyFix {
                uri: uri.clone(),
                version: snapshot.version,
                rule: finding.rule.to_string(),
                start: finding.range.start,
                end: finding.range.end,
                title: fix.title.clone(),
            };
            let Ok(args) = serde_json::to_value(args) else { continue };
            action.command =
                Some(Command { title: fix.title, command: APPLY_FIX_COMMAND.to_string(), arguments: Some(vec![args]) });
        }
        out.push(CodeActionOrCommand::CodeAction(action));
    }
    out
}

/// The fix [`APPLY_FIX_COMMAND`] names, planned and verified again on the buffer as it is now;
/// `None` when the buffer changed or the fix is no longer offered.
pub(crate) fn fix_for_command(
    snapshot: &Snapshot,
    args: &ApplyFix,
    config: &crate::config::Config,
    project: Option<ProjectFixes>,
) -> Option<Fix> {
    if snapshot.version != args.version {
        return None;
    }
    let wanted = |f: &Finding| f.rule == args.rule && f.range == (args.start..args.end);
    verified_fixes(snapshot, &wanted, Readiness::Ready, config, project.as_ref())
        .into_iter()
        .map(|(_, fix)| fix)
        .find(|fix| fix.title == args.title)
}

/// The fixes of the `wanted` findings of the buffer, each verified against its set.
fn verified_fixes(
    snapshot: &Snapshot,
    wanted: &dyn Fn(&Finding) -> bool,
    readiness: Readiness,
    config: &crate::config::Config,
    project: Option<&ProjectFixes>,
) -> Vec<(Finding, Fix)> {
    if readiness == Readiness::WorkspacePending {
        return Vec::new();
    }
    let Some(standalone) = snapshot.analysis.as_deref() else { return Vec::new() };
    // The file in its set, with the texts of the open buffers: what fixes are planned from and
    // verified against.
    let in_set = project.filter(|p| p.project.model.project.locate(p.path).is_some());
    let mut buffers;
    let verifier = match in_set {
        Some(p) => {
            buffers = Overlay { buffers: p.buffers.buffers.clone() };
            buffers.buffers.insert(p.path.to_path_buf(), Arc::from(snapshot.text.as_str()));
            let previous = Some(&*p.project.analysis);
            let Some(v) = Verifier::new(&p.project.model.project, &buffers, previous, p.live.cloned(), p.path) else {
                return Vec::new();
            };
            Some(v)
        }
        None => None,
    };
    let analysis = verifier.as_ref().map_or(standalone, Verifier::analysis);
    if *analysis.file.text != *snapshot.text {
        return Vec::new();
    }
    let mut ctx = FixContext::of(analysis);
    if let Some(p) = project {
        ctx = ctx.with(p.facts());
    }
    if let Some(place) = project.and_then(ProjectFixes::place) {
        ctx = ctx.at(place);
    }
    let schema = project.and_then(|p| super::workspace::schema_of_file(p.project, p.path));
    if let Some(schema) = &schema {
        ctx = ctx.with_schema(schema);
    }
    let mut out = Vec::new();
    for finding in analysis.findings.iter().filter(|f| wanted(f)) {
        let mut found = fixes::for_finding(finding, &ctx);
        found.extend(project.and_then(|p| p.recovery(finding, &analysis.file)));
        for fix in found {
            let verdict = match &verifier {
                Some(verifier) => verifier.check(finding, &fix, false),
                None => verify::check_standalone(analysis, &analysis.settings, config, finding, &fix, false),
            };
            if verdict.is_ok() {
                out.push((finding.clone(), fix));
            }
        }
    }
    out
}

fn workspace_edit(
    edits: &[FileEdit],
    uri: &Url,
    version: i32,
    positions: &super::convert::Positions,
    support: EditSupport,
) -> Option<WorkspaceEdit> {
    let mut text_edits = Vec::new();
    let mut creates = Vec::new();
    let mut renames = Vec::new();
    // Edits of other existing files (a framework's configuration file).
    let mut others: Vec<(Url, TextEdit)> = Vec::new();
    for edit in edits {
        match edit {
            FileEdit::Replace { range, text } => {
                text_edits.push(TextEdit { range: positions.range(range.clone()), new_text: text.clone() })
            }
            FileEdit::ReplaceIn { path, range, text, expected } => {
                let index = crate::text::LineIndex::for_file(expected);
                let theirs = super::convert::Positions { text: expected, index: &index, encoding: positions.encoding };
                let range = theirs.range(range.clone());
                others.push((Url::from_file_path(path).ok()?, TextEdit { range, new_text: text.clone() }));
            }
            FileEdit::Create { path, text } => creates.push((Url::from_file_path(path).ok()?, text.clone())),
            FileEdit::Rename { from, to } => {
                renames.push((Url::from_file_path(from).ok()?, Url::from_file_path(to).ok()?))
            }
        }
    }
    if !support.document_changes {
        let mut changes = HashMap::from([(uri.clone(), text_edits)]);
        for (other, edit) in others {
            changes.entry(other).or_default().push(edit);
        }
        return Some(WorkspaceEdit { changes: Some(changes), ..WorkspaceEdit::default() });
    }
    let mut operations = Vec::new();
    if !text_edits.is_empty() {
        operations.push(DocumentChangeOperation::Edit(TextDocumentEdit {
            text_document: OptionalVersionedTextDocumentIdentifier { uri: uri.clone(), version: Some(version) },
            edits: text_edits.into_iter().map(OneOf::Left).collect(),
        }));
    }
    for (other, edit) in others {
        operations.push(DocumentChangeOperation::Edit(TextDocumentEdit {
            text_document: OptionalVersionedTextDocumentIdentifier { uri: other, version: None },
            edits: vec![OneOf::Left(edit)],
        }));
    }
    for (new_uri, text) in creates {
        // Never overwrite: the client refuses the whole edit when the file exists.
        let options = CreateFileOptions { overwrite: Some(false), ignore_if_exists: Some(false) };
        operations.push(DocumentChangeOperation::Op(ResourceOp::Create(CreateFile {
            uri: new_uri.clone(),
            options: Some(options),
            annotation_id: None,
        })));
        let whole = Range::new(Position::new(0, 0), Position::new(0, 0));
        operations.push(DocumentChangeOperation::Edit(TextDocumentEdit {
            text_document: OptionalVersionedTextDocumentIdentifier { uri: new_uri, version: None },
            edits: vec![OneOf::Left(TextEdit { range: whole, new_text: text })],
        }));
    }
    // Last, so that the edits above address files by the names they have now.
    for (old_uri, new_uri) in renames {
        // Never overwrite: the client refuses the whole edit when the new name is taken.
        let options = RenameFileOptions { overwrite: Some(false), ignore_if_exists: Some(false) };
        operations.push(DocumentChangeOperation::Op(ResourceOp::Rename(RenameFile {
            old_uri,
            new_uri,
            options: Some(options),
            annotation_id: None,
        })));
    }
    Some(WorkspaceEdit { document_changes: Some(DocumentChanges::Operations(operations)), ..WorkspaceEdit::default() })
}
