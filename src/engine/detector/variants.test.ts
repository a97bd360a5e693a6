// Which detector file runs (variants.ts), and the committed int8 variant against the float model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { chooseDetectorVariant, int8PathFor, resolveDetectorPrecision } from './variants.js';
import { createDetector } from './detector.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const floatModel = path.join(root, 'models/detector.onnx');

function fakeModels(q: Record<string, unknown> | null): { dir: string; float: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'lg-variants-'));
  const float = path.join(dir, 'det.onnx');
  writeFileSync(float, 'x');
  writeFileSync(path.join(dir, 'det.json'), JSON.stringify({ sha256: 'abc' }));
  if (q) {
    writeFileSync(path.join(dir, 'det-int8.onnx'), 'y');
    writeFileSync(path.join(dir, 'det-int8.json'), JSON.stringify({ quantization: q }));
  }
  return { dir, float };
}

test('chooseDetectorVariant: int8 on the cpu only when it belongs to the float model and was accepted', async () => {
  const cases: Array<[Record<string, unknown> | null, 'float' | 'int8']> = [
    [{ from_sha256: 'abc', accepted: true }, 'int8'],
    [{ from_sha256: 'abc', accepted: false }, 'float'],
    [{ from_sha256: 'other', accepted: true }, 'float'],
    [null, 'float'],
  ];
  for (const [q, want] of cases) {
    const { dir, float } = fakeModels(q);
    try {
      const v = await chooseDetectorVariant(float, 'auto', 'cpu');
      assert.equal(v.precision, want, `${JSON.stringify(q)}: ${v.reason}`);
      assert.equal(v.modelPath, want === 'int8' ? int8PathFor(float) : float);
      assert.equal((await chooseDetectorVariant(float, 'float', 'cpu')).precision, 'float');
      if (q) assert.equal((await chooseDetectorVariant(float, 'int8', 'cpu')).precision, 'int8');
      else await assert.rejects(chooseDetectorVariant(float, 'int8', 'cpu'), /does not exist/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  assert.equal(resolveDetectorPrecision(undefined), 'auto');
  assert.equal(resolveDetectorPrecision(' Float '), 'float');
  assert.throws(() => resolveDetectorPrecision('fp16'), /expected auto, float or int8/);
});

test('the committed int8 detector: its card matches the file and the float model, and was accepted', () => {
  const q8 = int8PathFor(floatModel);
  assert.ok(existsSync(q8), `${q8} missing`);
  const card = JSON.parse(readFileSync(q8.replace(/\.onnx$/, '.json'), 'utf8')) as { sha256: string; bytes: number; quantization: { from_sha256: string; accepted: boolean; int8_minus_float: Record<string, number> } };
  const floatCard = JSON.parse(readFileSync(floatModel.replace(/\.onnx$/, '.json'), 'utf8')) as { sha256: string };
  const bytes = readFileSync(q8);
  assert.equal(createHash('sha256').update(bytes).digest('hex'), card.sha256);
  assert.equal(bytes.length, card.bytes);
  assert.ok(bytes.length < 15e6, `${bytes.length} bytes`);
  assert.equal(card.quantization.from_sha256, floatCard.sha256);
  assert.equal(card.quantization.accepted, true);
  for (const k of ['txl_test_recall', 'txl_test_precision', 'bccd_mean_instance_iou', 'zheng_mean_instance_iou']) {
    assert.ok(Math.abs(card.quantization.int8_minus_float[k]!) <= 0.005, `${k}: ${card.quantization.int8_minus_float[k]}`);
  }
});

// The int8 file's weights are 7-bit (training/detector/quantize.py). With 8-bit ones onnxruntime's sums saturated on
// CPUs without VNNI: on such a CPU (a Zen 1 EPYC, 2026-12-07) its boxes came up to 4.41 px from float's on these
// fixtures, where VNNI CPUs kept under 4. With 7-bit weights: 3.31 px on a Zen 3 EPYC without VNNI (2026-12-08).
// Int8 still rounds differently from float (up to 11 px on single BCCD and Zheng DS2 images; models/detector.md), so
// the test holds agreement, and the card holds accuracy.
test('int8 and float detectors agree on fixture images (cell counts, boxes within 6 px)', async () => {
  const fl = await createDetector({ modelPath: floatModel, prefer: 'cpu', precision: 'float', intraOpNumThreads: 1 });
  const q8 = await createDetector({ modelPath: floatModel, prefer: 'cpu', precision: 'auto', intraOpNumThreads: 1 });
  try {
    assert.equal(q8.variant.precision, 'int8', q8.variant.reason);
    assert.match(q8.model.version, /-int8-w7$/);
    const files = ['acevedo20/neutrophil/BNE_131711.jpg', 'acevedo20/basophil/BA_121453.jpg', 'acevedo20/monocyte/MO_10819.jpg', 'bccd/images/BloodImage_00009.jpg', 'zheng-ds2/images/001.png'];
    let maxDiff = 0;
    for (const f of files) {
      const img = readFileSync(path.join(root, 'test/fixtures', f));
      const a = await fl.detect(img);
      const b = await q8.detect(img);
      assert.equal(b.cells.length, a.cells.length, `${f}: ${b.cells.length} cells (int8) vs ${a.cells.length} (float)`);
      a.cells.forEach((c, i) => c.box.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - b.cells[i]!.box[j]!)))));
    }
    console.log(`int8 vs float on ${files.length} fixture images: largest box difference ${maxDiff.toFixed(2)} px`);
    assert.ok(maxDiff < 6, `boxes differ by up to ${maxDiff} px`);
  } finally {
    await fl.dispose();
    await q8.dispose();
  }
});
