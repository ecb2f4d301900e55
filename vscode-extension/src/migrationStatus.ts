// The `safemig/migrationStatus` request's result as QuickPick items. No `vscode` import.

export const MIGRATION_STATUS_REQUEST = 'safemig/migrationStatus';

export type MigrationState = 'applied' | 'pending' | 'failed' | 'unknown';

export interface MigrationEntry {
  version: string;
  name: string;
  /** file URI, or null when the database knows a migration that has no file here */
  uri: string | null;
  state: MigrationState;
  appliedAt: string | null;
  detail: string | null;
}

export interface MigrationSet {
  /** file URI of the set's directory */
  dir: string;
  framework: string;
  migrations: MigrationEntry[];
}

export interface MigrationStatusResult {
  sets: MigrationSet[];
}

export interface MigrationPickItem {
  label: string;
  description?: string;
  detail?: string;
  /** A separator line (a set's heading), not a choice. */
  separator?: true;
  uri?: string | null;
}

export interface MigrationPick {
  title: string;
  items: MigrationPickItem[];
}

const ICONS: Record<MigrationState, string> = {
  applied: '$(pass-filled)',
  pending: '$(clock)',
  failed: '$(error)',
  unknown: '$(question)',
};

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function parseState(v: unknown): MigrationState {
  return v === 'applied' || v === 'pending' || v === 'failed' ? v : 'unknown';
}

/** Validates the result (it comes from another process); null when there is nothing to show. */
export function parseMigrationStatus(result: unknown): MigrationStatusResult | null {
  if (typeof result !== 'object' || result === null || !Array.isArray((result as { sets?: unknown }).sets)) {
    return null;
  }
  const sets: MigrationSet[] = [];
  for (const raw of (result as { sets: unknown[] }).sets) {
    if (typeof raw !== 'object' || raw === null) {
      continue;
    }
    const set = raw as { dir?: unknown; framework?: unknown; migrations?: unknown };
    const migrations: MigrationEntry[] = [];
    for (const m of Array.isArray(set.migrations) ? set.migrations : []) {
      if (typeof m !== 'object' || m === null) {
        continue;
      }
      const e = m as Record<string, unknown>;
      migrations.push({
        version: str(e.version) ?? '',
        name: str(e.name) ?? '',
        uri: str(e.uri),
        state: parseState(e.state),
        appliedAt: str(e.appliedAt),
        detail: str(e.detail),
      });
    }
    sets.push({ dir: str(set.dir) ?? '', framework: str(set.framework) ?? '', migrations });
  }
  return sets.some((s) => s.migrations.length > 0) ? { sets } : null;
}

/**
 * The QuickPick: one separator per set (when there are several), one item per migration with an
 * icon for its state. `describeDir` turns a set's directory URI into a workspace-relative name.
 */
export function migrationPick(result: MigrationStatusResult, describeDir: (uri: string) => string): MigrationPick {
  const items: MigrationPickItem[] = [];
  const totals: Record<MigrationState, number> = { applied: 0, pending: 0, failed: 0, unknown: 0 };
  const nonEmpty = result.sets.filter((s) => s.migrations.length > 0);
  for (const set of nonEmpty) {
    if (nonEmpty.length > 1) {
      items.push({ label: `${describeDir(set.dir)} (${set.framework})`, separator: true });
    }
    for (const m of set.migrations) {
      totals[m.state] += 1;
      const label = `${ICONS[m.state]} ${[m.version, m.name].filter((s) => s !== '').join(' ')}`;
      let description: string = m.state;
      if (m.state === 'applied' && m.appliedAt !== null) {
        description = `applied ${m.appliedAt}`;
      }
      if (m.uri === null) {
        description += ' · no file in this workspace';
      }
      const item: MigrationPickItem = { label, description, uri: m.uri };
      if (m.detail !== null && m.detail !== '') {
        item.detail = m.detail;
      }
      items.push(item);
    }
  }
  const parts = [`${totals.applied} applied`, `${totals.pending} pending`];
  if (totals.failed > 0) {
    parts.push(`${totals.failed} failed`);
  }
  if (totals.unknown > 0) {
    parts.push(`${totals.unknown} unknown`);
  }
  const where = nonEmpty.length === 1 ? `${describeDir(nonEmpty[0].dir)} (${nonEmpty[0].framework})` : 'migrations';
  return { title: `safemig: ${where} — ${parts.join(', ')}`, items };
}

export const NO_MIGRATIONS_MESSAGE =
  'safemig: no migrations to show. The server found no migration set in this workspace, or does not know their status yet.';
