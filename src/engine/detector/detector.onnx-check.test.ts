// ONNX Runtime (this pipeline's session) against the PyTorch outputs that training/detector/export.py
// dumped for the same input tensors (training/detector/runs/onnx_check). Both files must come from the
// same export: set LEUKOGRAPH_DETECTOR_MODEL and LEUKOGRAPH_DETECTOR_CHECK_DIR together when testing
// another export.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDetector, defaultDetectorModelPath } from './detector.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
// The committed copy (test/fixtures/detector-onnx-check) was dumped by export.py for models/detector.onnx.
const checkDir = path.resolve(process.env.LEUKOGRAPH_DETECTOR_CHECK_DIR ?? path.join(root, 'test/fixtures/detector-onnx-check'));
const modelPath = defaultDetectorModelPath();

interface Entry {
  name: string;
  shape: [number, number, number];
  image: { file: string };
  boxes: { file: string; shape: number[] };
  scores: { file: string };
  masks: { file: string };
  features: { file: string };
}

const readF32 = (file: string): Float32Array => {
  const b = readFileSync(path.join(checkDir, file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const maxAbs = (a: Float32Array, b: Float32Array): number => {
  let m = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

const skip = !existsSync(path.join(checkDir, 'manifest.json'))
  ? `no torch reference outputs in ${checkDir} (run training/detector/export.py)`
  : !existsSync(modelPath)
    ? `no detector model at ${modelPath}`
    : false;

test('ONNX outputs equal the PyTorch outputs on the dumped inputs', { skip }, async (t) => {
  const manifest = JSON.parse(readFileSync(path.join(checkDir, 'manifest.json'), 'utf8')) as Entry[];
  const detector = await createDetector({ modelPath, prefer: 'cpu' });
  const worst = { boxes: 0, scores: 0, masks: 0, features: 0 };
  try {
    for (const e of manifest) {
      const [, h, w] = e.shape;
      const raw = await detector.runTensor(readF32(e.image.file), h, w);
      assert.equal(raw.n, e.boxes.shape[0], `${e.name}: number of detections (onnx ${raw.n}, torch ${e.boxes.shape[0]})`);
      const d = {
        boxes: maxAbs(raw.boxes, readF32(e.boxes.file)),
        scores: maxAbs(raw.scores, readF32(e.scores.file)),
        masks: maxAbs(raw.masks, readF32(e.masks.file)),
        features: maxAbs(raw.features, readF32(e.features.file)),
      };
      for (const k of Object.keys(worst) as (keyof typeof worst)[]) worst[k] = Math.max(worst[k], d[k]);
      t.diagnostic(`${e.name} ${w}x${h}: ${raw.n} detections; max abs diff boxes ${d.boxes.toExponential(2)} scores ${d.scores.toExponential(2)} masks ${d.masks.toExponential(2)} features ${d.features.toExponential(2)}`);
    }
  } finally {
    await detector.dispose();
  }
  t.diagnostic(`worst: ${JSON.stringify(worst)}`);
  assert.ok(worst.boxes < 1e-2, `boxes differ by ${worst.boxes}`);
  assert.ok(worst.scores < 1e-2, `scores differ by ${worst.scores}`);
  assert.ok(worst.masks < 1e-2, `masks differ by ${worst.masks}`);
  assert.ok(worst.features < 1e-3, `features differ by ${worst.features}`);
});
