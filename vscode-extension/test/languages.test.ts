import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { activationEvents, documentSelector, LANGUAGES } from '../src/languages';

// out-test/test/ → the extension's root
const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));

test('package.json activationEvents are exactly the ones languages.ts derives', () => {
  assert.deepEqual(manifest.activationEvents, activationEvents());
});

test('activation covers safemig.toml and the known migration directories', () => {
  const events = activationEvents();
  for (const e of [
    'onLanguage:sql',
    'workspaceContains:**/safemig.toml',
    'workspaceContains:**/migrations/**/*.sql',
    'workspaceContains:**/prisma/migrations/**',
    'workspaceContains:**/supabase/migrations/**',
    'workspaceContains:**/db/migrate/**',
    'workspaceContains:**/drizzle/**/*.sql',
  ]) {
    assert.ok(events.includes(e), e);
  }
});

test('the document selector serves every language, saved and unsaved', () => {
  const selector = documentSelector();
  for (const language of LANGUAGES) {
    assert.ok(selector.some((f) => f.language === language && f.scheme === 'file'));
    assert.ok(selector.some((f) => f.language === language && f.scheme === 'untitled'));
  }
  assert.equal(selector.length, LANGUAGES.length * 2);
});

test('every contributed command and setting is declared', () => {
  const commands = manifest.contributes.commands.map((c: { command: string }) => c.command).sort();
  assert.deepEqual(commands, ['safemig.explainRule', 'safemig.refreshSchema', 'safemig.restartServer', 'safemig.showMigrationStatus']);
  // The server's own command is registered by languageclient, never by the manifest.
  assert.ok(!commands.includes('safemig.server.refreshSchema'));
  const props = manifest.contributes.configuration.properties;
  assert.deepEqual(Object.keys(props).sort(), [
    'safemig.databaseUrl',
    'safemig.databaseUrlEnv',
    'safemig.path',
    'safemig.shippedRef',
    'safemig.trace.server',
  ]);
  assert.equal(props['safemig.databaseUrl'].scope, 'machine');
  assert.match(props['safemig.databaseUrl'].markdownDescription, /Warning/);
  assert.match(props['safemig.databaseUrlEnv'].markdownDescription, /no secret goes into settings JSON/);
  assert.deepEqual(props['safemig.trace.server'].enum, ['off', 'messages', 'verbose']);
});
