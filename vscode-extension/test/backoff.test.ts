import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { Backoff } from '../src/backoff';

test('1 s, 2 s, 4 s … capped at 30 s', () => {
  const b = new Backoff();
  const delays = Array.from({ length: 8 }, () => b.next(100));
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
});

test('a server that stayed up 60 s starts the series again', () => {
  const b = new Backoff();
  b.next(0);
  b.next(0);
  assert.equal(b.next(59_999), 4000);
  assert.equal(b.next(60_000), 1000);
  assert.equal(b.next(10), 2000);
});

test('reset (a restart by the user) starts again too', () => {
  const b = new Backoff();
  b.next(0);
  b.next(0);
  b.reset();
  assert.equal(b.next(0), 1000);
});
