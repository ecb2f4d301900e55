//! Code actions: the engine's quick fixes ([`crate::fixes`]) as LSP workspace edits.

use std::collections::HashMap;

use tower_lsp::lsp_types::*;

use std::path::Path;

use crate::fixes::{self, FileEdit, Fix, FixContext, Place, ProjectFacts, Safety};
use crate::live::LiveFacts;
use crate::project::Disk;
use crate::rules::Finding;
use crate::sql::SqlFile;
use crate::text::PositionEncoding;

use super::documents::Snapshot;
use super::workspace::ProjectState;

/// What fixes about the whole project need: the migration sets, their replay, the dev database.
pub(crate) struct ProjectFixes<'a> {
    pub project: &'a ProjectState,
    pub live: Option<&'a LiveFacts>,
    pub path: &'a Path,
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
        let recovery = crate::live::recovery::recovery_migration(set, migration, file, &effects, &live.snapshot);
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

/// The quick fixes for the findings that touch `range` of the buffer.
pub(crate) fn code_actions(
    snapshot: &Snapshot,
    uri: &Url,
    range: Range,
    only: Option<&[CodeActionKind]>,
    encoding: PositionEncoding,
    support: EditSupport,
    project: Option<ProjectFixes>,
) -> Vec<CodeActionOrCommand> {
    if only.is_some_and(|kinds| !kinds.iter().any(|k| CodeActionKind::QUICKFIX.as_str().starts_with(k.as_str()))) {
        return Vec::new();
    }
    let Some(analysis) = snapshot.analysis.as_deref() else { return Vec::new() };
    let positions = snapshot.positions(encoding);
    let (Some(start), Some(end)) = (positions.offset(range.start), positions.offset(range.end)) else {
        return Vec::new();
    };
    // Touching counts: a cursor at either end of the finding, or a selection across it.
    let touches = |f: &Finding| f.range.end >= start && f.range.start <= end;
    if !analysis.findings.iter().any(touches) {
        return Vec::new();
    }
    let mut ctx = FixContext::of(analysis);
    if let Some(p) = project.as_ref() {
        ctx = ctx.with(p.facts());
    }
    if let Some(place) = project.as_ref().and_then(ProjectFixes::place) {
        ctx = ctx.at(place);
    }
    let schema = project.as_ref().and_then(|p| super::workspace::schema_of_file(p.project, p.path));
    if let Some(schema) = &schema {
        ctx = ctx.with_schema(schema);
    }
    let mut out = Vec::new();
    for finding in &analysis.findings {
        if !touches(finding) {
            continue;
        }
        let diagnostic = super::convert::diagnostic(finding, &positions);
        let mut found = fixes::for_finding(finding, &ctx);
        found.extend(project.as_ref().and_then(|p| p.recovery(finding, &analysis.file)));
        for fix in found {
            let creates = fix.edits.iter().any(|e| matches!(e, FileEdit::Create { .. }));
            if creates && !(support.create_files && support.document_changes) {
                // The client cannot create files: offering half a fix would break the migration.
                continue;
            }
            let renames = fix.edits.iter().any(|e| matches!(e, FileEdit::Rename { .. }));
            if renames && !(support.rename_files && support.document_changes) {
                continue;
            }
            let Some(edit) = workspace_edit(&fix.edits, uri, snapshot.version, &positions, support) else { continue };
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: fix.title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic.clone()]),
                edit: Some(edit),
                is_preferred: Some(fix.preferred),
                ..CodeAction::default()
            }));
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
                let index = crate::text::LineIndex::new(expected);
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
