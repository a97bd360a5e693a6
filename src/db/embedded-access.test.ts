import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ancestors, cannotEnterMessage, folderPostgresCannotEnter, mayEnter } from './embedded-access.js';

test('mode bits: owner, group, others', () => {
  const st = (mode: number) => () => ({ mode, uid: 0, gid: 0 });
  assert.equal(mayEnter('/x', 70, 70, st(0o700)), false);
  assert.equal(mayEnter('/x', 70, 70, st(0o701)), true);
  assert.equal(mayEnter('/x', 0, 70, st(0o700)), true);
  assert.equal(mayEnter('/x', 70, 0, st(0o750)), true);
  assert.equal(mayEnter('/x', null, null, st(0o755)), true);
  assert.deepEqual(ancestors('/a/b'), ['/a/b', '/a', '/']);
});

test('as root, a folder of mode 700 above the data directory is found and named; not as another user', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lg-root-'));
  chmodSync(dir, 0o700);
  const data = join(dir, 'checkout', '.data');
  mkdirSync(data, { recursive: true });
  chmodSync(join(dir, 'checkout'), 0o755);
  assert.equal(folderPostgresCannotEnter([join(data, 'pg')], true), dir);
  assert.match(cannotEnterMessage(dir, data), /the user "postgres", which cannot enter .* \(mode 700\).*DATABASE_URL/);
  assert.equal(folderPostgresCannotEnter([join(data, 'pg')], false), null);
  chmodSync(dir, 0o711);
  assert.equal(folderPostgresCannotEnter([join(data, 'pg')], true), null);
});
