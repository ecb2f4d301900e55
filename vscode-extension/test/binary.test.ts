import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  BinaryEnvironment,
  INSTALL_COMMAND,
  isMissingBinaryError,
  resolveServerBinary,
  startFailureMessage,
} from '../src/binary';

/** A fake machine: `files` are the executable files that exist. */
function machine(files: string[], overrides: Partial<BinaryEnvironment> = {}): BinaryEnvironment {
  const set = new Set(files);
  return {
    platform: 'linux',
    arch: 'x64',
    extensionPath: '/ext/safemig-0.1.0',
    configuredPath: '',
    workspaceFolder: '/work/shop',
    homeDir: '/home/me',
    env: { PATH: '/usr/local/bin:/usr/bin' },
    isExecutableFile: (f) => set.has(f),
    ...overrides,
  };
}

const BUNDLED = '/ext/safemig-0.1.0/server/linux-x64/safemig';
const ON_PATH = '/usr/bin/safemig';

test('the safemig.path setting comes first', () => {
  const r = resolveServerBinary(machine(['/opt/safemig/bin/safemig', BUNDLED, ON_PATH], { configuredPath: '/opt/safemig/bin/safemig' }));
  assert.deepEqual(r, { found: true, path: '/opt/safemig/bin/safemig', source: 'setting' });
});

test('a setting with ~ or a relative path is expanded', () => {
  assert.deepEqual(resolveServerBinary(machine(['/home/me/bin/safemig'], { configuredPath: '~/bin/safemig' })), {
    found: true,
    path: '/home/me/bin/safemig',
    source: 'setting',
  });
  assert.deepEqual(resolveServerBinary(machine(['/work/shop/target/debug/safemig'], { configuredPath: 'target/debug/safemig' })), {
    found: true,
    path: '/work/shop/target/debug/safemig',
    source: 'setting',
  });
});

test('a setting that points at nothing is an error, not a silent fallback', () => {
  const r = resolveServerBinary(machine([BUNDLED, ON_PATH], { configuredPath: '/nope/safemig' }));
  assert.equal(r.found, false);
  if (!r.found) {
    assert.match(r.message, /safemig\.path is "\/nope\/safemig"/);
    assert.ok(r.message.includes(INSTALL_COMMAND));
  }
});

test('a blank setting counts as unset', () => {
  const r = resolveServerBinary(machine([BUNDLED], { configuredPath: '   ' }));
  assert.deepEqual(r, { found: true, path: BUNDLED, source: 'bundled' });
});

test('then the binary bundled for this platform and arch', () => {
  assert.deepEqual(resolveServerBinary(machine([BUNDLED, ON_PATH])), { found: true, path: BUNDLED, source: 'bundled' });
  // one bundled for another platform does not count
  const arm = resolveServerBinary(machine([BUNDLED, ON_PATH], { arch: 'arm64' }));
  assert.deepEqual(arm, { found: true, path: ON_PATH, source: 'path' });
});

test('then safemig on PATH, in PATH order, skipping empty entries', () => {
  const env = { PATH: ':/usr/local/bin:/usr/bin' };
  assert.deepEqual(resolveServerBinary(machine(['/usr/local/bin/safemig', ON_PATH], { env })), {
    found: true,
    path: '/usr/local/bin/safemig',
    source: 'path',
  });
  assert.deepEqual(resolveServerBinary(machine([ON_PATH], { env })), { found: true, path: ON_PATH, source: 'path' });
});

test('then ~/.cargo/bin (or $CARGO_HOME/bin), where the install command puts it', () => {
  assert.deepEqual(resolveServerBinary(machine(['/home/me/.cargo/bin/safemig'])), {
    found: true,
    path: '/home/me/.cargo/bin/safemig',
    source: 'cargo',
  });
  const env = { PATH: '/usr/bin', CARGO_HOME: '/opt/cargo' };
  assert.deepEqual(resolveServerBinary(machine(['/opt/cargo/bin/safemig'], { env })), {
    found: true,
    path: '/opt/cargo/bin/safemig',
    source: 'cargo',
  });
});

test('nothing found: an error with the precise install command', () => {
  const r = resolveServerBinary(machine([]));
  assert.equal(r.found, false);
  if (!r.found) {
    assert.ok(r.message.includes('`cargo install --locked --path server`'), r.message);
    assert.match(r.message, /clone of the safemig repository/);
    assert.match(r.message, /safemig\.path/);
    assert.match(r.message, /linux-x64/);
  }
});

test('Windows: safemig.exe, PATHEXT and case-insensitive Path', () => {
  const env = { Path: 'C:\\tools;C:\\bin', PATHEXT: '.COM;.EXE' };
  const files = ['C:\\bin\\safemig.exe'];
  const r = resolveServerBinary(
    machine(files, { platform: 'win32', extensionPath: 'C:\\ext', homeDir: 'C:\\Users\\me', workspaceFolder: 'C:\\work', env }),
  );
  assert.deepEqual(r, { found: true, path: 'C:\\bin\\safemig.exe', source: 'path' });
  const bundled = resolveServerBinary(
    machine(['C:\\ext\\server\\win32-x64\\safemig.exe'], { platform: 'win32', extensionPath: 'C:\\ext', homeDir: 'C:\\Users\\me', env }),
  );
  assert.deepEqual(bundled, { found: true, path: 'C:\\ext\\server\\win32-x64\\safemig.exe', source: 'bundled' });
});

test('start failures: a missing or non-executable binary is not retried, and the message says how to install', () => {
  const enoent = Object.assign(new Error('spawn /x ENOENT'), { code: 'ENOENT' });
  assert.equal(isMissingBinaryError(enoent), true);
  assert.equal(isMissingBinaryError(Object.assign(new Error('x'), { code: 'EACCES' })), true);
  assert.equal(isMissingBinaryError(new Error('initialize failed')), false);
  const message = startFailureMessage('/x/safemig', 'setting', enoent);
  assert.match(message, /\/x\/safemig \(from safemig\.path\): the file does not exist/);
  assert.ok(message.includes(INSTALL_COMMAND));
});
