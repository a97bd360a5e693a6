import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { detectCommand, listImages, parseDetectArgs } from './detect.command.js';
import { defaultDetectorModelPath } from '../engine/detector/detector.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const modelPath = defaultDetectorModelPath();

function sink(): { out: Writable; lines: () => string[] } {
  let text = '';
  const out = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { out, lines: () => text.split('\n').filter(Boolean) };
}

function folder(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detect-cli-'));
  mkdirSync(path.join(dir, 'b', 'c'), { recursive: true });
  copyFileSync(path.join(root, 'test/fixtures/zheng-ds2/images/001.png'), path.join(dir, 'b/c/001.png'));
  const jpg = readFileSync(path.join(root, 'test/fixtures/bccd/images/BloodImage_00000.jpg'));
  writeFileSync(path.join(dir, 'b/broken.jpg'), jpg.subarray(0, 2000)); // truncated
  writeFileSync(path.join(dir, 'a.PNG'), Buffer.from('not an image at all'));
  writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
  return dir;
}

test('listImages searches folders recursively, sorted, image extensions only', async () => {
  const dir = folder();
  const found = await listImages([dir, path.join(dir, 'missing.jpg')]);
  assert.deepEqual(
    found.map((f) => path.relative(dir, f.path)),
    ['a.PNG', path.join('b', 'broken.jpg'), path.join('b', 'c', '001.png'), 'missing.jpg'],
  );
  assert.match(found[3]!.missing!, /no such file/);
});

test('no image found: exit code 1 without loading a model', async () => {
  const s = sink();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detect-empty-'));
  assert.equal(await detectCommand([dir, '--json'], s.out), 1);
  assert.deepEqual(s.lines(), ['no images found']);
});

test('detect --json: corrupt images fail alone, the others are printed', async () => {
  assert.ok(existsSync(modelPath), `no detector model at ${modelPath} (set LEUKOGRAPH_DETECTOR_MODEL)`);
  const dir = folder();
  const s = sink();
  const bccd = path.join(root, 'test/fixtures/bccd/images/BloodImage_00009.jpg');
  const code = await detectCommand([dir, '--json', bccd, '--model', modelPath, '--device', 'cpu'], s.out);
  assert.equal(code, 0);
  const rows = s.lines().map((l) => JSON.parse(l) as { image: string; error?: string; width?: number; height?: number; cells?: { box: number[]; score: number; mask: { size: number[]; counts: number[] }; cutByBorder: boolean }[] });
  assert.deepEqual(
    rows.map((r) => path.basename(r.image)),
    ['a.PNG', 'broken.jpg', '001.png', 'BloodImage_00009.jpg'],
  );
  assert.match(rows[0]!.error!, /corrupt|unreadable|unsupported/i);
  assert.match(rows[1]!.error!, /corrupt|truncated|premature/i);
  for (const r of rows.slice(2)) {
    assert.equal(r.error, undefined);
    assert.ok(r.cells!.length >= 1, `${r.image}: no cells`);
    const c = r.cells![0]!;
    assert.equal(c.box.length, 4);
    assert.ok(c.score > 0.5 && c.score <= 1);
    assert.deepEqual(c.mask.size, [r.height, r.width]);
    assert.equal(c.mask.counts.reduce((a, b) => a + b, 0), r.width! * r.height!);
    // the fixtures' top cells lie inside their images
    assert.equal(c.cutByBorder, false);
  }
  assert.deepEqual([rows[2]!.width, rows[2]!.height], [300, 300]);
  assert.deepEqual([rows[3]!.width, rows[3]!.height], [640, 480]);
});

test('detect: exit code 1 when every image fails; a short human line otherwise', async () => {
  assert.ok(existsSync(modelPath), `no detector model at ${modelPath} (set LEUKOGRAPH_DETECTOR_MODEL)`);
  const dir = folder();
  const s = sink();
  assert.equal(await detectCommand([path.join(dir, 'a.PNG'), path.join(dir, 'b', 'broken.jpg'), '--model', modelPath, '--device', 'cpu'], s.out), 1);
  assert.equal(s.lines().length, 2);
  const h = sink();
  assert.equal(await detectCommand([path.join(dir, 'b', 'c'), '--model', modelPath, '--device', 'cpu'], h.out), 0);
  assert.match(h.lines()[0]!, /001\.png: 300x300, \d+ cells? \(scores 0\.\d{3}/);
});

test("detect --precision: the server's rule unless given; a bad value is refused by name", () => {
  const saved = process.env.LEUKOGRAPH_DETECTOR_PRECISION;
  try {
    delete process.env.LEUKOGRAPH_DETECTOR_PRECISION;
    assert.equal(parseDetectArgs(['a.png']).precision, 'auto');
    process.env.LEUKOGRAPH_DETECTOR_PRECISION = 'float';
    assert.equal(parseDetectArgs(['a.png']).precision, 'float');
    assert.equal(parseDetectArgs(['a.png', '--precision', 'int8']).precision, 'int8');
    assert.throws(() => parseDetectArgs(['a.png', '--precision', 'half']), /--precision/);
  } finally {
    if (saved === undefined) delete process.env.LEUKOGRAPH_DETECTOR_PRECISION;
    else process.env.LEUKOGRAPH_DETECTOR_PRECISION = saved;
  }
});
