// Which `safemig` binary runs the server. No `vscode` import: the extension hands in the facts
// (setting, platform, PATH, a file check), the tests a fake file system.
import * as path from 'path';

/** The command that installs the server from a clone of the safemig repository. */
export const INSTALL_COMMAND = 'cargo install --locked --path server';

const INSTALL =
  `Install it from a clone of the safemig repository: run \`${INSTALL_COMMAND}\` in the clone's root ` +
  '(it puts `safemig` in ~/.cargo/bin)';

export const INSTALL_HINT = `${INSTALL}, or set \`safemig.path\` to the binary.`;

export interface BinaryEnvironment {
  /** `process.platform`, e.g. 'linux', 'darwin', 'win32'. */
  platform: string;
  /** `process.arch`, e.g. 'x64', 'arm64'. */
  arch: string;
  /** The extension's install directory (where `server/<platform>-<arch>/` is bundled). */
  extensionPath: string;
  /** The `safemig.path` setting, as written. */
  configuredPath: unknown;
  /** The first workspace folder: a relative `safemig.path` is resolved against it. */
  workspaceFolder: string | undefined;
  homeDir: string;
  /** The PATH (`Path` on Windows) and PATHEXT of the extension host. */
  env: Readonly<Record<string, string | undefined>>;
  /** True for an existing regular file that this process may execute. */
  isExecutableFile(file: string): boolean;
}

export type BinarySource = 'setting' | 'bundled' | 'path' | 'cargo';

export type BinaryResolution =
  | { found: true; path: string; source: BinarySource }
  | { found: false; message: string };

function pathApi(platform: string): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

function exeName(platform: string): string {
  return platform === 'win32' ? 'safemig.exe' : 'safemig';
}

/** Where a bundled binary lives inside the extension: `server/<platform>-<arch>/safemig`. */
export function bundledBinaryPath(env: Pick<BinaryEnvironment, 'platform' | 'arch' | 'extensionPath'>): string {
  const p = pathApi(env.platform);
  return p.join(env.extensionPath, 'server', `${env.platform}-${env.arch}`, exeName(env.platform));
}

function envVar(env: BinaryEnvironment['env'], name: string): string | undefined {
  if (env[name] !== undefined) {
    return env[name];
  }
  // Windows environment names are case-insensitive (`Path`).
  const key = Object.keys(env).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : env[key];
}

/** `safemig` in the directories of PATH, in order (with PATHEXT's extensions on Windows). */
export function findOnPath(env: BinaryEnvironment): string | undefined {
  const p = pathApi(env.platform);
  const dirs = (envVar(env.env, 'PATH') ?? '').split(env.platform === 'win32' ? ';' : ':');
  const names =
    env.platform === 'win32'
      ? (envVar(env.env, 'PATHEXT') ?? '.EXE;.CMD;.BAT;.COM')
          .split(';')
          .filter((ext) => ext !== '')
          .map((ext) => `safemig${ext.toLowerCase()}`)
      : ['safemig'];
  for (const dir of dirs) {
    if (dir === '') {
      continue; // an empty entry means the current directory: never run a binary from there
    }
    for (const name of names) {
      const candidate = p.join(dir, name);
      if (env.isExecutableFile(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/** `~` and a relative path resolved as the user meant them. */
export function expandConfiguredPath(configured: string, env: BinaryEnvironment): string {
  const p = pathApi(env.platform);
  let file = configured;
  if (file === '~' || file.startsWith('~/') || file.startsWith('~\\')) {
    file = p.join(env.homeDir, file.slice(1));
  }
  if (!p.isAbsolute(file)) {
    file = p.resolve(env.workspaceFolder ?? env.homeDir, file);
  }
  return file;
}

/**
 * The server binary: `safemig.path` if set, else the binary bundled in the extension, else
 * `safemig` on PATH, else `~/.cargo/bin/safemig` (where the install command puts it, and which a
 * VS Code started from a desktop launcher often lacks on its PATH). A `safemig.path` that points
 * at nothing is an error of its own: falling back to another binary would hide the mistake.
 */
export function resolveServerBinary(env: BinaryEnvironment): BinaryResolution {
  const configured = typeof env.configuredPath === 'string' ? env.configuredPath.trim() : '';
  if (configured !== '') {
    const file = expandConfiguredPath(configured, env);
    if (env.isExecutableFile(file)) {
      return { found: true, path: file, source: 'setting' };
    }
    return {
      found: false,
      message:
        `safemig: the setting safemig.path is "${configured}", but ${file} is not an executable file. ` +
        `Fix the setting, or clear it to use safemig from PATH. ${INSTALL}.`,
    };
  }

  const bundled = bundledBinaryPath(env);
  if (env.isExecutableFile(bundled)) {
    return { found: true, path: bundled, source: 'bundled' };
  }

  const onPath = findOnPath(env);
  if (onPath !== undefined) {
    return { found: true, path: onPath, source: 'path' };
  }

  const p = pathApi(env.platform);
  const cargoHome = envVar(env.env, 'CARGO_HOME') || p.join(env.homeDir, '.cargo');
  const cargoBin = p.join(cargoHome, 'bin', exeName(env.platform));
  if (env.isExecutableFile(cargoBin)) {
    return { found: true, path: cargoBin, source: 'cargo' };
  }

  return {
    found: false,
    message:
      `safemig: the safemig language server was not found (not bundled for ${env.platform}-${env.arch}, ` +
      `not on PATH, not in ${p.join(cargoHome, 'bin')}). ${INSTALL_HINT}`,
  };
}

/** The message for a binary that was found but could not be started. */
export function startFailureMessage(binary: string, source: BinarySource, error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  const why =
    code === 'ENOENT'
      ? 'the file does not exist'
      : code === 'EACCES'
        ? 'it is not executable'
        : error instanceof Error
          ? error.message
          : String(error);
  const from = { setting: 'from safemig.path', bundled: 'bundled with the extension', path: 'from PATH', cargo: 'from ~/.cargo/bin' }[source];
  return `safemig: could not start the language server ${binary} (${from}): ${why}. ${INSTALL_HINT}`;
}

/** Whether a start failure means "there is no usable binary" (so retrying is pointless). */
export function isMissingBinaryError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'ENOENT' || code === 'EACCES' || code === 'ENOEXEC';
}
