import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { diagnosticCode, parseRulesList } from '../src/rules';

// The shape `safemig rules` prints (abridged).
const RULES = `  ID                              SEVERITY  DIALECTS  SUMMARY

Locks and rewrites
  create-index-blocking           warning   postgres  CREATE INDEX without CONCURRENTLY blocks writes to an existing table for the whole build
  concurrently-in-transaction     error     postgres  a CONCURRENTLY statement inside a transaction fails with "cannot run inside a transaction block"

Types
  prefer-text                     hint      postgres  varchar(n) buys nothing over text and its limit is costly to change; use text

Running application and data safety
  drop-column                     warning   all       DROP COLUMN destroys the column's data and breaks code that still uses it

\`safemig explain <id>\` prints a rule's documentation.
`;

test('parses the rules table with categories', () => {
  const rules = parseRulesList(RULES);
  assert.deepEqual(
    rules.map((r) => [r.id, r.severity, r.category]),
    [
      ['create-index-blocking', 'warning', 'Locks and rewrites'],
      ['concurrently-in-transaction', 'error', 'Locks and rewrites'],
      ['prefer-text', 'hint', 'Types'],
      ['drop-column', 'warning', 'Running application and data safety'],
    ],
  );
  assert.equal(rules[0].summary, 'CREATE INDEX without CONCURRENTLY blocks writes to an existing table for the whole build');
});

test('diagnostic codes: string, number, or { value, target }', () => {
  assert.equal(diagnosticCode('create-index-blocking'), 'create-index-blocking');
  assert.equal(diagnosticCode(7), '7');
  assert.equal(diagnosticCode({ value: 'drop-column', target: 'https://example/x' }), 'drop-column');
  assert.equal(diagnosticCode(undefined), undefined);
});
