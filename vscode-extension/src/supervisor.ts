// Owns the language client: starts it, restarts it with backoff after a crash, and makes sure that
// at most one client (and one server process) is alive. Every start, stop and restart runs in one
// queue, so two restarts never interleave; every client gets a generation number, and callbacks
// from an older client are ignored.
import * as cp from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';
import { Backoff } from './backoff';
import { BinaryResolution, isMissingBinaryError, resolveServerBinary, startFailureMessage } from './binary';
import { documentSelector } from './languages';
import { resolveServerSettings } from './settings';
import { STATUS_NOTIFICATION } from './status';
import { StatusBar } from './statusBar';

const STOP_TIMEOUT_MS = 2000;
const KILL_GRACE_MS = 2000;

function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    fs.accessSync(file, process.platform === 'win32' ? fs.constants.F_OK : fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath;
}

function alive(proc: cp.ChildProcess): boolean {
  return proc.exitCode === null && proc.signalCode === null;
}

/** SIGTERM, then SIGKILL if the process is still there after a grace period. */
async function terminate(proc: cp.ChildProcess): Promise<void> {
  if (!alive(proc)) {
    return;
  }
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), KILL_GRACE_MS));
  if ((await Promise.race([exited, timer])) === 'timeout' && alive(proc)) {
    proc.kill('SIGKILL');
  }
}

export class ServerSupervisor implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private process: cp.ChildProcess | undefined;
  private binary: BinaryResolution | undefined;
  /** Bumped whenever the current client is replaced or stopped. */
  private generation = 0;
  private queue: Promise<void> = Promise.resolve();
  private queuedRestart: Promise<void> | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly backoff = new Backoff();
  private startedAt: number | undefined;
  private disposed = false;
  private lastWarnings = '';

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.OutputChannel,
    private readonly statusBar: StatusBar,
  ) {}

  /** The running client, if any (commands use it). */
  get running(): LanguageClient | undefined {
    return this.client?.state === State.Running ? this.client : undefined;
  }

  /** The binary the current client runs (or tried to run). */
  get binaryPath(): string | undefined {
    return this.binary?.found ? this.binary.path : undefined;
  }

  /** Resolves the binary again without starting anything (for `safemig explain`/`rules`). */
  resolveBinary(): BinaryResolution {
    return resolveServerBinary({
      platform: process.platform,
      arch: process.arch,
      extensionPath: this.context.extensionPath,
      configuredPath: vscode.workspace.getConfiguration('safemig').get('path'),
      workspaceFolder: workspaceRoot(),
      homeDir: os.homedir(),
      env: process.env,
      isExecutableFile,
    });
  }

  /** The server settings; shows their warnings when these changed since the last time. */
  checkSettings(): ReturnType<typeof resolveServerSettings> {
    const settings = resolveServerSettings(vscode.workspace.getConfiguration('safemig'), process.env);
    const warnings = settings.warnings.join('\n');
    if (warnings !== '' && warnings !== this.lastWarnings) {
      settings.warnings.forEach((w) => {
        this.log(w);
        void vscode.window.showWarningMessage(w);
      });
    }
    this.lastWarnings = warnings;
    return settings;
  }

  start(): Promise<void> {
    return this.enqueue(() => this.doStart());
  }

  /**
   * Stops the current client (if any) and starts a new one. Restarts requested while one is
   * already waiting in the queue share it. `user` restarts reset the crash backoff.
   */
  restart(why: 'user' | 'settings' | 'crash'): Promise<void> {
    if (why !== 'crash') {
      this.backoff.reset();
    }
    this.clearRestartTimer();
    if (this.queuedRestart !== undefined) {
      return this.queuedRestart;
    }
    const run = this.enqueue(async () => {
      this.queuedRestart = undefined;
      await this.doStop();
      await this.doStart();
    });
    this.queuedRestart = run;
    return run;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.clearRestartTimer();
    await this.enqueue(() => this.doStop());
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task);
    this.queue = run.catch((error) => this.log(`internal error: ${String(error)}`));
    return run;
  }

  private log(message: string): void {
    this.output.appendLine(`[safemig extension ${new Date().toISOString()}] ${message}`);
  }

  private clearRestartTimer(): void {
    if (this.restartTimer !== undefined) {
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
    }
  }

  private async doStart(): Promise<void> {
    if (this.disposed || this.client !== undefined) {
      return;
    }
    const generation = ++this.generation;
    this.statusBar.starting();

    const settings = this.checkSettings();

    const binary = this.resolveBinary();
    this.binary = binary;
    if (!binary.found) {
      this.log(binary.message);
      this.statusBar.stopped(binary.message);
      void this.showStartError(binary.message);
      return;
    }
    this.log(`starting ${binary.path} lsp (${binary.source})`);

    const serverOptions: ServerOptions = () => this.spawnServer(binary.path, generation);
    const clientOptions: LanguageClientOptions = {
      documentSelector: documentSelector(),
      synchronize: { configurationSection: 'safemig' },
      initializationOptions: settings.initializationOptions,
      outputChannel: this.output,
      // Crashes are ours to handle: the client never restarts itself, we do it with backoff.
      initializationFailedHandler: () => false,
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue, handled: true }),
        closed: () => {
          this.onClosed(generation);
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
    };
    const client = new LanguageClient('safemig', 'safemig', serverOptions, clientOptions);
    client.onNotification(STATUS_NOTIFICATION, (params: unknown) => {
      if (generation === this.generation) {
        this.statusBar.serverStatus(params);
      }
    });
    this.client = client;

    try {
      await client.start();
      if (generation === this.generation) {
        this.startedAt = Date.now();
      }
    } catch (error) {
      if (generation !== this.generation || this.disposed) {
        return; // stopped or replaced meanwhile
      }
      if (isMissingBinaryError(error)) {
        // Nothing to retry: the binary is not there or not executable.
        const message = startFailureMessage(binary.path, binary.source, error);
        this.log(message);
        await this.doStop();
        this.statusBar.stopped(message);
        void this.showStartError(message);
        return;
      }
      this.log(`the server failed to start: ${error instanceof Error ? error.message : String(error)}`);
      this.scheduleRestart(generation, 'the language server failed to start');
    }
  }

  /** The ServerOptions function: spawns `safemig lsp` and keeps the process so that we can kill it. */
  private spawnServer(binary: string, generation: number): Promise<cp.ChildProcess> {
    return new Promise((resolve, reject) => {
      const proc = cp.spawn(binary, ['lsp'], {
        cwd: workspaceRoot() ?? os.homedir(),
        env: process.env,
        stdio: 'pipe',
        windowsHide: true,
      });
      proc.once('error', reject);
      proc.once('spawn', () => {
        proc.off('error', reject);
        proc.on('error', (error) => this.log(`server process error: ${error.message}`));
        if (generation !== this.generation || this.disposed) {
          void terminate(proc);
          reject(new Error('the client was stopped while the server started'));
          return;
        }
        this.process = proc;
        proc.once('exit', (code, signal) => {
          this.log(`server process ${proc.pid} exited (${signal !== null ? `signal ${signal}` : `code ${code}`})`);
        });
        resolve(proc);
      });
    });
  }

  /** The errorHandler's `closed`: the connection closed without us stopping the client. */
  private onClosed(generation: number): void {
    if (generation !== this.generation || this.disposed) {
      return;
    }
    const code = this.process?.exitCode;
    const reason = code !== null && code !== undefined ? `the language server exited with code ${code}` : 'the language server stopped';
    this.log(`${reason}; the connection closed`);
    this.scheduleRestart(generation, reason);
  }

  private scheduleRestart(generation: number, reason: string): void {
    if (this.restartTimer !== undefined || this.disposed) {
      return;
    }
    const uptime = this.startedAt === undefined ? 0 : Date.now() - this.startedAt;
    this.startedAt = undefined;
    const delay = this.backoff.next(uptime);
    this.log(`${reason}; restarting in ${delay} ms (restart ${this.backoff.count} of this series)`);
    this.statusBar.restarting(delay, reason);
    if (this.backoff.count === 1) {
      void vscode.window.showWarningMessage(`safemig: ${reason}. Restarting it.`, 'Show Output').then((choice) => {
        if (choice === 'Show Output') {
          this.output.show(true);
        }
      });
    }
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (generation === this.generation && !this.disposed) {
        void this.restart('crash');
      }
    }, delay);
  }

  /** Stops and disposes the current client and makes sure its process is gone. */
  private async doStop(): Promise<void> {
    const client = this.client;
    const proc = this.process;
    this.client = undefined;
    this.process = undefined;
    this.startedAt = undefined;
    this.generation++;
    if (client !== undefined) {
      try {
        if (client.state === State.Running) {
          await client.dispose(STOP_TIMEOUT_MS);
        } else {
          // Starting, or already stopped after a crash: `stop` would throw; dispose what is left.
          await client.dispose(STOP_TIMEOUT_MS).catch(() => undefined);
        }
      } catch (error) {
        this.log(`stopping the client: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (proc !== undefined) {
      await terminate(proc);
    }
  }

  private async showStartError(message: string): Promise<void> {
    const choice = await vscode.window.showErrorMessage(message, 'Open Settings', 'Copy Install Command', 'Show Output');
    if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'safemig.path');
    } else if (choice === 'Copy Install Command') {
      await vscode.env.clipboard.writeText('cargo install --locked --path server');
    } else if (choice === 'Show Output') {
      this.output.show(true);
    }
  }
}
