import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkReference, REFERENCE_INSTALL } from './reference-check.js';
import { REPO } from './server.js';

/** A stand-in interpreter: a shell script that runs Debian's python with some modules made unimportable. */
function fakePython(dir: string, blocked: string[]): string {
  const shim = join(dir, 'sitecustomize.py');
  writeFileSync(shim, `import sys\nclass _Block:\n    def find_spec(self, name, path=None, target=None):\n        if name.split('.')[0] in ${JSON.stringify(blocked)}:\n            raise ImportError('No module named ' + repr(name))\n        return None\nsys.meta_path.insert(0, _Block())\n`);
  const exe = join(dir, 'python3');
  writeFileSync(exe, `#!/bin/sh\nPYTHONPATH=${dir} exec /usr/bin/python3 "$@"\n`);
  chmodSync(exe, 0o755);
  return exe;
}

test('checkReference: a missing interpreter names every Debian package and the apt-get line', () => {
  const r = checkReference('/nonexistent/python3');
  assert.equal(r.ok, false);
  for (const p of ['python3-torch', 'python3-torchvision', 'python3-sklearn', 'python3-onnx']) assert.match(r.message, new RegExp(p));
  assert.ok(r.message.includes(REFERENCE_INSTALL));
  assert.match(r.message, /bench\/README\.md/);
});

test('checkReference: a module that cannot be imported is named with its Debian package', { skip: existsSync('/usr/bin/python3') ? false : 'no /usr/bin/python3' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'lg-refcheck-'));
  try {
    const r = checkReference(fakePython(dir, ['onnx']));
    assert.equal(r.ok, false);
    assert.deepEqual(r.missing.includes('onnx'), true);
    assert.match(r.message, /onnx \(Debian python3-onnx/);
    assert.match(r.message, /apt-get install -y .*python3-onnx/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('npm run bench fails with that message instead of writing a null ratio', () => {
  const out = mkdtempSync(join(tmpdir(), 'lg-refcheck-out-'));
  try {
    const r = spawnSync(process.execPath, [join(REPO, 'dist/bench/run.js'), '--quick', '--python', '/nonexistent/python3', '--out-dir', out], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /bench: PyTorch reference: \/nonexistent\/python3 not found/);
    assert.match(r.stderr, /python3-torch, python3-torchvision, python3-sklearn, python3-onnx/);
    assert.equal(existsSync(join(out, 'results.json')), false, 'no results written');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
