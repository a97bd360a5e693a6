// Compare models/detector.onnx (onnxruntime-node, CPU) with the PyTorch outputs dumped by export.py.
//   node training/detector/check_onnx.mjs [models/detector.onnx] [training/detector/runs/onnx_check]
// Prints, per image, the number of detections in each and the max abs difference of boxes, scores,
// masks and features (rows matched by index: both are sorted by score).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const require = createRequire(path.join(root, 'package.json'));
const ort = require('onnxruntime-node');

const modelPath = process.argv[2] ?? path.join(root, 'models/detector.onnx');
const dir = process.argv[3] ?? path.join(here, 'runs/onnx_check');
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));

const readF32 = (f) => {
  const b = fs.readFileSync(path.join(dir, f));
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};
const maxAbs = (a, b) => {
  let m = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
console.log('inputs', session.inputNames, 'outputs', session.outputNames);
const worst = { boxes: 0, scores: 0, masks: 0, features: 0 };
let countMismatch = 0;
for (const e of manifest) {
  const img = new ort.Tensor('float32', readF32(e.image.file), e.image.shape);
  const t0 = performance.now();
  const out = await session.run({ image: img });
  const ms = performance.now() - t0;
  const nOnnx = out.boxes.dims[0];
  const nTorch = e.boxes.shape[0];
  if (nOnnx !== nTorch) countMismatch++;
  const row = { image: e.name, n_torch: nTorch, n_onnx: nOnnx, ms: +ms.toFixed(1) };
  for (const k of ['boxes', 'scores', 'masks', 'features']) {
    const d = maxAbs(out[k].data, readF32(e[k].file));
    row[k] = +d.toExponential(2);
    worst[k] = Math.max(worst[k], d);
  }
  row.shapes = Object.fromEntries(['boxes', 'scores', 'masks', 'features'].map((k) => [k, out[k].dims.join('x')]));
  console.log(JSON.stringify(row));
}
console.log(JSON.stringify({ max_abs_diff: worst, images: manifest.length, detection_count_mismatches: countMismatch }));
