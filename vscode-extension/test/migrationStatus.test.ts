import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { migrationPick, parseMigrationStatus } from '../src/migrationStatus';

const dir = 'file:///work/shop/migrations';
const result = {
  sets: [
    {
      dir,
      framework: 'plain',
      migrations: [
        { version: '0001', name: 'create_users', uri: `${dir}/0001_create_users.sql`, state: 'applied', appliedAt: '2024-05-01 10:00', detail: null },
        { version: '0002', name: 'create_orders', uri: `${dir}/0002_create_orders.sql`, state: 'failed', appliedAt: null, detail: 'relation "users" does not exist' },
        { version: '0003', name: 'unique_user_email', uri: `${dir}/0003_unique_user_email.sql`, state: 'pending', appliedAt: null, detail: null },
        { version: '0000', name: 'legacy', uri: null, state: 'weird', appliedAt: null, detail: null },
      ],
    },
  ],
};

test('one item per migration, with an icon per state', () => {
  const parsed = parseMigrationStatus(result);
  assert.ok(parsed);
  const pick = migrationPick(parsed, () => 'migrations');
  assert.deepEqual(
    pick.items.map((i) => i.label),
    ['$(pass-filled) 0001 create_users', '$(error) 0002 create_orders', '$(clock) 0003 unique_user_email', '$(question) 0000 legacy'],
  );
  assert.equal(pick.items[0].description, 'applied 2024-05-01 10:00');
  assert.equal(pick.items[1].detail, 'relation "users" does not exist');
  assert.equal(pick.items[2].uri, `${dir}/0003_unique_user_email.sql`);
  assert.match(pick.items[3].description ?? '', /no file in this workspace/);
  assert.equal(pick.title, 'safemig: migrations (plain) — 1 applied, 1 pending, 1 failed, 1 unknown');
});

test('several sets get a separator each', () => {
  const two = parseMigrationStatus({ sets: [result.sets[0], { ...result.sets[0], dir: 'file:///work/shop/db', framework: 'goose' }] });
  assert.ok(two);
  const pick = migrationPick(two, (d) => d.replace('file:///work/shop/', ''));
  assert.deepEqual(
    pick.items.filter((i) => i.separator).map((i) => i.label),
    ['migrations (plain)', 'db (goose)'],
  );
});

test('empty or absent results mean "nothing to show"', () => {
  assert.equal(parseMigrationStatus(null), null);
  assert.equal(parseMigrationStatus(undefined), null);
  assert.equal(parseMigrationStatus({}), null);
  assert.equal(parseMigrationStatus({ sets: [] }), null);
  assert.equal(parseMigrationStatus({ sets: [{ dir, framework: 'x', migrations: [] }] }), null);
});
