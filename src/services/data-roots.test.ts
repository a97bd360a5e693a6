import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveInsideRoots, PathRefused, staysInside } from './data-roots.js';

const base = mkdtempSync(join(tmpdir(), 'roots-'));
const root = join(base, 'root');
const outside = join(base, 'outside');
mkdirSync(join(root, 'ds'), { recursive: true });
mkdirSync(outside, { recursive: true });
writeFileSync(join(outside, 'secret.jpg'), 'x');
symlinkSync(outside, join(root, 'escape'));
symlinkSync(join(root, 'ds'), join(root, 'alias'));
symlinkSync(join(outside, 'secret.jpg'), join(root, 'ds', 'link.jpg'));

test('folders inside a root resolve, relative or absolute', async () => {
  assert.equal((await resolveInsideRoots('ds', [root])).path.endsWith('/root/ds'), true);
  assert.equal((await resolveInsideRoots(join(root, 'ds'), [root])).path.endsWith('/root/ds'), true);
  assert.equal((await resolveInsideRoots('alias', [root])).path.endsWith('/root/ds'), true, 'a link that stays inside is fine');
});

test('paths outside the roots, with .., or through an escaping link are refused', async () => {
  await assert.rejects(resolveInsideRoots(outside, [root]), (e: Error) => e instanceof PathRefused && /outside the data roots/.test(e.message));
  await assert.rejects(resolveInsideRoots('ds/../../outside', [root]), /contains "\.\."/);
  await assert.rejects(resolveInsideRoots('escape', [root]), /link that leads outside/);
  await assert.rejects(resolveInsideRoots('missing', [root]), /does not exist/);
  await assert.rejects(resolveInsideRoots('/etc', [root]), PathRefused);
});

test('a file link leading out of the root is detected', async () => {
  assert.equal(await staysInside(join(root, 'ds', 'link.jpg'), root), false);
});
