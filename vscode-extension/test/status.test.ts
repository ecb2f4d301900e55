import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseStatus, restartingView, startingView, statusView, stoppedView } from '../src/status';

function view(params: unknown) {
  const status = parseStatus(params);
  assert.ok(status, 'params should parse');
  return statusView(status);
}

test('before the first status: safemig with a spinner', () => {
  assert.equal(startingView().text, '$(sync~spin) safemig');
});

test('connected: applied/pending', () => {
  const v = view({ database: { state: 'connected', message: 'connected to shop_dev', serverVersion: '16.2' }, migrations: { applied: 12, pending: 1, failed: 0 } });
  assert.equal(v.text, '$(database) safemig: 12/1');
  assert.match(v.tooltip, /connected to shop_dev/);
  assert.match(v.tooltip, /16\.2/);
  assert.match(v.tooltip, /12 applied, 1 pending, 0 failed/);
  assert.equal(v.background, undefined);
});

test('failed migrations: error icon with the failed count', () => {
  const v = view({ database: { state: 'connected', message: 'm' }, migrations: { applied: 3, pending: 2, failed: 1 } });
  assert.equal(v.text, '$(error) safemig: 3/2, 1 failed');
  assert.equal(v.background, 'error');
});

test('unreachable, off, connecting', () => {
  const un = view({ database: { state: 'unreachable', message: 'connection refused' }, migrations: null });
  assert.equal(un.text, '$(debug-disconnect) safemig: unreachable');
  assert.match(un.tooltip, /connection refused/);
  assert.equal(view({ database: { state: 'off', message: 'no database configured' }, migrations: null }).text, '$(database) safemig: no database');
  assert.equal(view({ database: { state: 'connecting', message: '' }, migrations: null }).text, '$(sync~spin) safemig: connecting');
});

test('malformed params are rejected, partial migration counts ignored', () => {
  assert.equal(parseStatus(null), undefined);
  assert.equal(parseStatus({}), undefined);
  assert.equal(parseStatus({ database: { state: 'sleeping', message: '' } }), undefined);
  const s = parseStatus({ database: { state: 'connected', message: 'x' }, migrations: { applied: 1 } });
  assert.deepEqual(s?.migrations, null);
});

test('restarting and stopped: a click on a stopped server retries', () => {
  const r = restartingView(2000, 'the language server exited with code 101');
  assert.equal(r.text, '$(warning) safemig: restarting');
  assert.match(r.tooltip, /exited with code 101; restarting in 2 s/);
  assert.equal(r.retry, undefined);
  const s = stoppedView('safemig: the safemig language server was not found');
  assert.equal(s.text, '$(error) safemig: not running');
  assert.equal(s.retry, true);
  assert.match(s.tooltip, /Click to try again/);
});
