// The status bar item's text and tooltip, from the server's `safemig/status` notification.
// No `vscode` import: the extension applies the view to a StatusBarItem.

export type DatabaseState = 'off' | 'connecting' | 'connected' | 'unreachable';

/** Params of the `safemig/status` notification. */
export interface ServerStatus {
  database: { state: DatabaseState; message: string; serverVersion?: string };
  migrations: { applied: number; pending: number; failed: number } | null;
}

export const STATUS_NOTIFICATION = 'safemig/status';

export interface StatusView {
  text: string;
  tooltip: string;
  /** Background: 'error' → statusBarItem.errorBackground, 'warning' → statusBarItem.warningBackground. */
  background?: 'error' | 'warning';
  /** The server is not running: a click restarts it instead of showing the migration status. */
  retry?: true;
}

const CLICK = 'Click to show the migration status.';

export function startingView(): StatusView {
  return { text: '$(sync~spin) safemig', tooltip: 'safemig: starting the language server…' };
}

export function restartingView(delayMs: number, reason: string): StatusView {
  const seconds = Math.max(1, Math.round(delayMs / 1000));
  return {
    text: '$(warning) safemig: restarting',
    tooltip: `safemig: ${reason}; restarting in ${seconds} s.`,
    background: 'warning',
  };
}

export function stoppedView(reason: string): StatusView {
  return { text: '$(error) safemig: not running', tooltip: `${reason}\nClick to try again.`, background: 'error', retry: true };
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
}

/** Validates the notification's params (they come from another process): undefined if malformed. */
export function parseStatus(params: unknown): ServerStatus | undefined {
  if (typeof params !== 'object' || params === null) {
    return undefined;
  }
  const { database, migrations } = params as { database?: unknown; migrations?: unknown };
  if (typeof database !== 'object' || database === null) {
    return undefined;
  }
  const db = database as { state?: unknown; message?: unknown; serverVersion?: unknown };
  if (db.state !== 'off' && db.state !== 'connecting' && db.state !== 'connected' && db.state !== 'unreachable') {
    return undefined;
  }
  const status: ServerStatus = {
    database: { state: db.state, message: typeof db.message === 'string' ? db.message : '' },
    migrations: null,
  };
  if (typeof db.serverVersion === 'string' && db.serverVersion !== '') {
    status.database.serverVersion = db.serverVersion;
  }
  if (typeof migrations === 'object' && migrations !== null) {
    const m = migrations as { applied?: unknown; pending?: unknown; failed?: unknown };
    const applied = count(m.applied);
    const pending = count(m.pending);
    const failed = count(m.failed);
    if (applied !== undefined && pending !== undefined && failed !== undefined) {
      status.migrations = { applied, pending, failed };
    }
  }
  return status;
}

export function statusView(status: ServerStatus): StatusView {
  const { database, migrations } = status;
  const lines: string[] = [];
  if (database.message !== '') {
    lines.push(database.message);
  }
  if (database.serverVersion !== undefined) {
    lines.push(`Database server: ${database.serverVersion}`);
  }
  if (migrations !== null) {
    lines.push(`Migrations: ${migrations.applied} applied, ${migrations.pending} pending, ${migrations.failed} failed`);
  }
  lines.push(CLICK);
  const tooltip = lines.join('\n');

  switch (database.state) {
    case 'off':
      return { text: '$(database) safemig: no database', tooltip };
    case 'connecting':
      return { text: '$(sync~spin) safemig: connecting', tooltip };
    case 'unreachable':
      return { text: '$(debug-disconnect) safemig: unreachable', tooltip, background: 'warning' };
    case 'connected':
      if (migrations === null) {
        return { text: '$(database) safemig', tooltip };
      }
      if (migrations.failed > 0) {
        return {
          text: `$(error) safemig: ${migrations.applied}/${migrations.pending}, ${migrations.failed} failed`,
          tooltip,
          background: 'error',
        };
      }
      return { text: `$(database) safemig: ${migrations.applied}/${migrations.pending}`, tooltip };
  }
}
