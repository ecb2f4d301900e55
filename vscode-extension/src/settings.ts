// Which settings go to the server, and in what shape. No `vscode` import: the extension hands in a
// reader over `workspace.getConfiguration('safemig')`, the tests a plain object.

/** Reads one key of the `safemig` configuration section (`get('databaseUrl')`). */
export interface ConfigurationReader {
  get(key: string): unknown;
}

/**
 * What the server receives as `initializationOptions`. The server accepts these camelCase keys
 * (it maps them onto `safemig.toml`'s `[database] url`, `url_env` and `shipped_ref`); an absent key
 * leaves `safemig.toml`'s value in force.
 */
export interface ServerSettings {
  databaseUrl?: string;
  databaseUrlEnv?: string;
  shippedRef?: string;
}

/** The keys of the `safemig` section that configure the server (the others are the client's). */
export const SERVER_KEYS = ['databaseUrl', 'databaseUrlEnv', 'shippedRef'] as const;

/** Keys whose change needs a new server process (the others reach it by didChangeConfiguration). */
export const RESTART_KEYS = ['path'] as const;

export interface ResolvedSettings {
  initializationOptions: ServerSettings;
  /** Problems to show the user. Never contains a database URL: it may hold a password. */
  warnings: string[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A setting's string value, trimmed; empty, absent and non-string values are "not set". */
function stringSetting(config: ConfigurationReader, key: string, warnings: string[]): string | undefined {
  const value = config.get(key);
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'string') {
    warnings.push(`safemig.${key} must be a string; the setting is ignored.`);
    return undefined;
  }
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * The server settings from the `safemig` section.
 *
 * - Empty strings mean "not set" and are not sent.
 * - Env-var mode: when `databaseUrlEnv` names a variable, only the name is sent (the server reads
 *   the variable from the environment it inherits from VS Code), and a `databaseUrl` that is also
 *   set is dropped with a warning, so the secret never has to live in settings JSON.
 */
export function resolveServerSettings(
  config: ConfigurationReader,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedSettings {
  const warnings: string[] = [];
  const out: ServerSettings = {};

  const url = stringSetting(config, 'databaseUrl', warnings);
  let urlEnv = stringSetting(config, 'databaseUrlEnv', warnings);
  if (urlEnv !== undefined && !ENV_NAME.test(urlEnv)) {
    warnings.push(
      `safemig.databaseUrlEnv must name an environment variable (letters, digits and _), such as DATABASE_URL; "${urlEnv}" is ignored.`,
    );
    urlEnv = undefined;
  }

  if (urlEnv !== undefined) {
    out.databaseUrlEnv = urlEnv;
    if (url !== undefined) {
      warnings.push('safemig.databaseUrl and safemig.databaseUrlEnv are both set: using the environment variable, ignoring safemig.databaseUrl.');
    }
    const value = env[urlEnv];
    if (value === undefined || value.trim() === '') {
      warnings.push(
        `safemig.databaseUrlEnv names ${urlEnv}, but it is not set in the environment VS Code was started with: safemig runs without a database.`,
      );
    }
  } else if (url !== undefined) {
    out.databaseUrl = url;
  }

  const shippedRef = stringSetting(config, 'shippedRef', warnings);
  if (shippedRef !== undefined) {
    out.shippedRef = shippedRef;
  }
  return { initializationOptions: out, warnings };
}
