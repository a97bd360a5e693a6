// The detector through onnxruntime-node (the engine's runtime), for evaluate.py --onnx: one JSON line
// per request on stdin ({"dims": [3, H, W], "data": base64 float32 CHW 0..255}), one per answer on stdout
// ({"n", "boxes", "scores", "masks"}: base64 float32, masks [n, 1, 28, 28]).
//   node training/detector/ort_worker.mjs MODEL.onnx [threads]
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ort = createRequire(path.join(root, 'package.json'))('onnxruntime-node');
const session = await ort.InferenceSession.create(process.argv[2], { executionProviders: ['cpu'], intraOpNumThreads: Number(process.argv[3] ?? 1), interOpNumThreads: 1 });
const b64 = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const req = JSON.parse(line);
  const buf = Buffer.from(req.data, 'base64');
  const x = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const t0 = performance.now();
  const out = await session.run({ image: new ort.Tensor('float32', x, req.dims) });
  const ms = performance.now() - t0;
  process.stdout.write(JSON.stringify({ n: out.boxes.dims[0], ms, boxes: b64(out.boxes.data), scores: b64(out.scores.data), masks: b64(out.masks.data) }) + '\n');
}
