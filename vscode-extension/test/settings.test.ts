import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ConfigurationReader, resolveServerSettings, SERVER_KEYS } from '../src/settings';

function config(values: Record<string, unknown>): ConfigurationReader {
  return { get: (key: string) => values[key] };
}

test('only the server keys go to the server; client keys (path, trace) stay in the client', () => {
  const r = resolveServerSettings(
    config({
      path: '/opt/safemig',
      'trace.server': 'verbose',
      databaseUrl: 'postgres://me@localhost/shop',
      shippedRef: 'origin/main',
    }),
    {},
  );
  assert.deepEqual(r.initializationOptions, { databaseUrl: 'postgres://me@localhost/shop', shippedRef: 'origin/main' });
  assert.deepEqual(r.warnings, []);
  for (const key of Object.keys(r.initializationOptions)) {
    assert.ok((SERVER_KEYS as readonly string[]).includes(key), key);
  }
});

test('empty and blank strings mean unset and are dropped', () => {
  const r = resolveServerSettings(config({ databaseUrl: '', databaseUrlEnv: '   ', shippedRef: '' }), {});
  assert.deepEqual(r.initializationOptions, {});
  assert.deepEqual(r.warnings, []);
});

test('nothing configured sends an empty object', () => {
  assert.deepEqual(resolveServerSettings(config({}), {}).initializationOptions, {});
});

test('values are trimmed', () => {
  const r = resolveServerSettings(config({ shippedRef: '  origin/dev \n' }), {});
  assert.deepEqual(r.initializationOptions, { shippedRef: 'origin/dev' });
});

test('env-var mode sends only the variable name, never its value', () => {
  const secret = 'postgres://app:hunter2@db/dev';
  const r = resolveServerSettings(config({ databaseUrlEnv: 'DEV_DATABASE_URL' }), { DEV_DATABASE_URL: secret });
  assert.deepEqual(r.initializationOptions, { databaseUrlEnv: 'DEV_DATABASE_URL' });
  assert.deepEqual(r.warnings, []);
  assert.ok(!JSON.stringify(r).includes('hunter2'));
});

test('env-var mode wins over databaseUrl, which is dropped with a warning that shows no URL', () => {
  const r = resolveServerSettings(
    config({ databaseUrl: 'postgres://app:hunter2@db/dev', databaseUrlEnv: 'DATABASE_URL' }),
    { DATABASE_URL: 'postgres://x@y/z' },
  );
  assert.deepEqual(r.initializationOptions, { databaseUrlEnv: 'DATABASE_URL' });
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0], /both set/);
  assert.ok(!r.warnings.join('\n').includes('hunter2'));
});

test('env-var mode warns when the variable is not set in the environment, and still sends the name', () => {
  const r = resolveServerSettings(config({ databaseUrlEnv: 'MISSING_DB' }), { OTHER: 'x' });
  assert.deepEqual(r.initializationOptions, { databaseUrlEnv: 'MISSING_DB' });
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0], /MISSING_DB.*not set/);
});

test('an env var name that is not a name is ignored with a warning, and databaseUrl then applies', () => {
  const r = resolveServerSettings(config({ databaseUrlEnv: 'postgres://oops', databaseUrl: 'postgres://me@localhost/db' }), {});
  assert.deepEqual(r.initializationOptions, { databaseUrl: 'postgres://me@localhost/db' });
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0], /must name an environment variable/);
});

test('a non-string value is ignored with a warning', () => {
  const r = resolveServerSettings(config({ shippedRef: 42, databaseUrl: null }), {});
  assert.deepEqual(r.initializationOptions, {});
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0], /safemig\.shippedRef must be a string/);
});
