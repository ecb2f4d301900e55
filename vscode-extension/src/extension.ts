import * as cp from 'child_process';
import * as vscode from 'vscode';
import { ExecuteCommandRequest } from 'vscode-languageclient/node';
import { MIGRATION_STATUS_REQUEST, NO_MIGRATIONS_MESSAGE, migrationPick, parseMigrationStatus } from './migrationStatus';
import { RULE_ID, diagnosticCode, parseRulesList } from './rules';
import { RESTART_KEYS, SERVER_KEYS } from './settings';
import { StatusBar } from './statusBar';
import { ServerSupervisor } from './supervisor';

/** The server's command (advertised in executeCommandProvider; languageclient registers it). */
const REFRESH_SCHEMA_SERVER_COMMAND = 'safemig.server.refreshSchema';

let supervisor: ServerSupervisor | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('safemig');
  const statusBar = new StatusBar();
  const sup = new ServerSupervisor(context, output, statusBar);
  supervisor = sup;
  context.subscriptions.push(output, statusBar, { dispose: () => void sup.dispose() });

  context.subscriptions.push(
    ruleDocs,
    vscode.workspace.registerTextDocumentContentProvider(RuleDocs.scheme, ruleDocs),
    vscode.commands.registerCommand('safemig.restartServer', () => sup.restart('user')),
    vscode.commands.registerCommand('safemig.refreshSchema', () => refreshSchema(sup)),
    vscode.commands.registerCommand('safemig.showMigrationStatus', () => showMigrationStatus(sup)),
    vscode.commands.registerCommand('safemig.explainRule', (ruleId?: unknown) => explainRule(sup, ruleId)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (RESTART_KEYS.some((key) => event.affectsConfiguration(`safemig.${key}`))) {
        void sup.restart('settings');
      } else if (SERVER_KEYS.some((key) => event.affectsConfiguration(`safemig.${key}`))) {
        // languageclient sends the new section to the server (synchronize.configurationSection);
        // here only the warnings about the values are shown.
        sup.checkSettings();
      }
    }),
  );

  // Not awaited: activation must not wait for the server's initialize.
  void sup.start();
}

export async function deactivate(): Promise<void> {
  await supervisor?.dispose();
  supervisor = undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : typeof error === 'object' && error !== null && 'message' in error ? String((error as { message: unknown }).message) : String(error);
}

function notRunning(): void {
  void vscode.window.showWarningMessage('safemig: the language server is not running. Run "safemig: Restart Language Server".');
}

async function refreshSchema(sup: ServerSupervisor): Promise<void> {
  const client = sup.running;
  if (client === undefined) {
    return notRunning();
  }
  try {
    await client.sendRequest(ExecuteCommandRequest.type, { command: REFRESH_SCHEMA_SERVER_COMMAND, arguments: [] });
    vscode.window.setStatusBarMessage('$(check) safemig: schema refreshed', 3000);
  } catch (error) {
    void vscode.window.showErrorMessage(`safemig: could not refresh the schema: ${errorText(error)}`);
  }
}

async function showMigrationStatus(sup: ServerSupervisor): Promise<void> {
  const client = sup.running;
  if (client === undefined) {
    return notRunning();
  }
  let raw: unknown;
  try {
    raw = await client.sendRequest(MIGRATION_STATUS_REQUEST, {});
  } catch (error) {
    void vscode.window.showErrorMessage(`safemig: could not get the migration status: ${errorText(error)}`);
    return;
  }
  const result = parseMigrationStatus(raw);
  if (result === null) {
    void vscode.window.showInformationMessage(NO_MIGRATIONS_MESSAGE);
    return;
  }
  const pick = migrationPick(result, (dir) => {
    try {
      return vscode.workspace.asRelativePath(vscode.Uri.parse(dir), false);
    } catch {
      return dir;
    }
  });
  type Item = vscode.QuickPickItem & { uri?: string | null };
  const items: Item[] = pick.items.map((i) =>
    i.separator ? { label: i.label, kind: vscode.QuickPickItemKind.Separator } : { label: i.label, description: i.description, detail: i.detail, uri: i.uri },
  );
  const chosen = await vscode.window.showQuickPick(items, { title: pick.title, placeHolder: 'Open a migration', matchOnDescription: true, matchOnDetail: true });
  if (chosen === undefined) {
    return;
  }
  if (chosen.uri === null || chosen.uri === undefined) {
    void vscode.window.showInformationMessage(`safemig: ${chosen.label.replace(/^\$\([^)]*\)\s*/, '')} has no file in this workspace.`);
    return;
  }
  await vscode.window.showTextDocument(vscode.Uri.parse(chosen.uri));
}

/** Runs the server binary with arguments and returns its stdout. */
function runBinary(binary: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    cp.execFile(binary, args, { timeout: 10_000, maxBuffer: 4 * 1024 * 1024, windowsHide: true }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(stderr.trim() !== '' ? stderr.trim() : error.message));
      } else {
        resolve(stdout);
      }
    });
  });
}

/** safemig diagnostics at the cursor (or the selection) of the active editor. */
function ruleIdsAtCursor(editor: vscode.TextEditor): string[] {
  const ids: string[] = [];
  for (const d of vscode.languages.getDiagnostics(editor.document.uri)) {
    if (d.source !== 'safemig') {
      continue;
    }
    const touches = editor.selections.some((s) => d.range.contains(s.active) || (!s.isEmpty && d.range.intersection(s) !== undefined));
    const id = diagnosticCode(d.code);
    if (touches && id !== undefined && !ids.includes(id)) {
      ids.push(id);
    }
  }
  return ids;
}

async function explainRule(sup: ServerSupervisor, arg: unknown): Promise<void> {
  const binary = sup.resolveBinary();
  if (!binary.found) {
    void vscode.window.showErrorMessage(binary.message);
    return;
  }
  let ruleId = typeof arg === 'string' && RULE_ID.test(arg) ? arg : undefined;
  const editor = vscode.window.activeTextEditor;
  if (ruleId === undefined && editor !== undefined) {
    const here = ruleIdsAtCursor(editor);
    if (here.length === 1) {
      ruleId = here[0];
    } else if (here.length > 1) {
      ruleId = await vscode.window.showQuickPick(here, { title: 'safemig: explain which rule?' });
      if (ruleId === undefined) {
        return;
      }
    }
  }
  if (ruleId === undefined) {
    ruleId = await pickRule(binary.path, editor);
    if (ruleId === undefined) {
      return;
    }
  }
  let markdown: string;
  try {
    markdown = await runBinary(binary.path, ['explain', ruleId]);
  } catch (error) {
    void vscode.window.showErrorMessage(`safemig: could not explain ${ruleId}: ${errorText(error)}`);
    return;
  }
  // A read-only virtual document rather than an untitled one: no dirty editor, no "save?" prompt.
  const uri = ruleDocs.show(ruleId, markdown);
  await vscode.commands.executeCommand('markdown.showPreview', uri);
}

/** `safemig-rule:/<id>.md`: the text of `safemig explain <id>`, for the markdown preview. */
class RuleDocs implements vscode.TextDocumentContentProvider {
  static readonly scheme = 'safemig-rule';
  private readonly docs = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  show(ruleId: string, markdown: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: RuleDocs.scheme, path: `/${ruleId}.md` });
    this.docs.set(uri.toString(), markdown);
    this.changed.fire(uri);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.get(uri.toString()) ?? '';
  }

  dispose(): void {
    this.changed.dispose();
  }
}

const ruleDocs = new RuleDocs();

/** Quick pick of rules: the ones diagnosed in the active file first, then the whole catalog. */
async function pickRule(binary: string, editor: vscode.TextEditor | undefined): Promise<string | undefined> {
  const inFile: string[] = [];
  if (editor !== undefined) {
    for (const d of vscode.languages.getDiagnostics(editor.document.uri)) {
      const id = diagnosticCode(d.code);
      if (d.source === 'safemig' && id !== undefined && !inFile.includes(id)) {
        inFile.push(id);
      }
    }
  }
  let catalog: ReturnType<typeof parseRulesList> = [];
  try {
    catalog = parseRulesList(await runBinary(binary, ['rules']));
  } catch (error) {
    if (inFile.length === 0) {
      void vscode.window.showErrorMessage(`safemig: could not list the rules: ${errorText(error)}`);
      return undefined;
    }
  }
  type Item = vscode.QuickPickItem & { id?: string };
  const items: Item[] = [];
  const summary = (id: string) => catalog.find((r) => r.id === id);
  if (inFile.length > 0) {
    items.push({ label: 'In this file', kind: vscode.QuickPickItemKind.Separator });
    for (const id of inFile) {
      items.push({ label: id, description: summary(id)?.severity, detail: summary(id)?.summary, id });
    }
  }
  let category = '';
  for (const rule of catalog) {
    if (inFile.includes(rule.id)) {
      continue;
    }
    if (rule.category !== category) {
      category = rule.category;
      items.push({ label: category, kind: vscode.QuickPickItemKind.Separator });
    }
    items.push({ label: rule.id, description: rule.severity, detail: rule.summary, id: rule.id });
  }
  const chosen = await vscode.window.showQuickPick(items, { title: 'safemig: explain a rule', matchOnDetail: true });
  return chosen?.id;
}
