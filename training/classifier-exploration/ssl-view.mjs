// Issue 17 exploration (not the product): the learnt view of multilab-ssl.py as extra values of every row the
// product's evaluation measures, so that the product's own forest, stain step and self-check are scored on the 59
// morphology values plus the encoder's 192-d embedding (combo-views.py's "(cat-c)", there only through a proxy).
//   /usr/bin/python3 training/classifier-exploration/ssl-export.py ssl-seed0-long      # the encoder as ONNX
//   SSL_ONNX=/tmp/ssl-study/ssl-seed0-long.onnx node training/classifier-exploration/ssl-view.mjs   # parity check
//   SSL_ONNX=... EXTRA_VIEW=training/classifier-exploration/ssl-view.mjs PREPARED=/tmp/unseen-ssl0.json OUT_DIR=/tmp/unseen-ssl0 scripts/unseen.sh
// Each crop is cut as multilab-ssl.py cuts a cell from its image: a square of 1.2 x the box's longer side around
// the box, edge-padded, resized to 64 px (sharp's lanczos3 here, PIL's LANCZOS there: the parity check says how
// close), then optical density over its own 99th percentile minus 0.5 (multilab-ssl.py `norm`).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';

const S = 64;
const MODEL = process.env.SSL_ONNX ?? '/tmp/ssl-study/ssl-seed0-long.onnx';
let session = null;

/** The 64 px RGB cut around a box given in pixels of a size x size RGB crop. */
async function cut(crop, size, [x0, y0, x1, y1]) {
  const side = 1.2 * Math.max(x1 - x0, y1 - y0);
  const s = Math.max(1, Math.round(side));
  const a = Math.round((x0 + x1) / 2 - side / 2);
  const b = Math.round((y0 + y1) / 2 - side / 2);
  const region = new Uint8Array(s * s * 3);
  const clamp = (v) => Math.min(size - 1, Math.max(0, v));
  for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) {
    const o = (clamp(b + y) * size + clamp(a + x)) * 3;
    region.set(crop.subarray(o, o + 3), (y * s + x) * 3);
  }
  return new Uint8Array(await sharp(region, { raw: { width: s, height: s, channels: 3 } }).resize(S, S, { kernel: 'lanczos3' }).raw().toBuffer());
}

/** NCHW optical density over its own 99th percentile (torch.quantile's linear interpolation), minus 0.5. */
function normalise(rgb, out, offset) {
  const n = S * S;
  const od = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) od[c * n + i] = -Math.log(Math.min(1, Math.max(1 / 255, rgb[i * 3 + c] / 255)));
  const sorted = Float32Array.from(od).sort();
  const pos = 0.99 * (sorted.length - 1);
  const lo = Math.floor(pos);
  const q = Math.max(0.05, sorted[lo] + (pos - lo) * ((sorted[lo + 1] ?? sorted[lo]) - sorted[lo]));
  for (let i = 0; i < 3 * n; i++) out[offset + i] = od[i] / q - 0.5;
}

async function embed(cuts) {
  session ??= await ort.InferenceSession.create(MODEL);
  const out = [];
  for (let k = 0; k < cuts.length; k += 256) {
    const batch = cuts.slice(k, k + 256);
    const x = new Float32Array(batch.length * 3 * S * S);
    batch.forEach((c, i) => normalise(c, x, i * 3 * S * S));
    const r = await session.run({ x: new ort.Tensor('float32', x, [batch.length, 3, S, S]) });
    const e = r.embedding.data;
    const d = e.length / batch.length;
    for (let i = 0; i < batch.length; i++) out.push(Float64Array.from(e.subarray(i * d, (i + 1) * d)));
  }
  return out;
}

/** EXTRA_VIEW's entry (scripts/unseen-labs.ts): crops {crop, size, box (fractions of the crop)} -> 192 values each. */
export async function measure(crops) {
  const cuts = [];
  for (const c of crops) cuts.push(await cut(c.crop, c.size, c.box.map((v) => v * c.size)));
  return embed(cuts);
}

// Run directly: the parity check against ssl-export.py's check cell.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const f = new Float32Array(readFileSync(MODEL.replace(/\.onnx$/, '.check.f32')).buffer.slice(0));
  const box = Array.from(f.subarray(0, 4));
  const crop = Uint8Array.from(f.subarray(4, 4 + 128 * 128 * 3));
  const want = f.subarray(4 + 128 * 128 * 3);
  const [got] = await embed([await cut(crop, 128, box)]);
  let dot = 0, a = 0, b = 0, maxd = 0;
  for (let i = 0; i < want.length; i++) { dot += want[i] * got[i]; a += want[i] ** 2; b += got[i] ** 2; maxd = Math.max(maxd, Math.abs(want[i] - got[i])); }
  console.log(`parity: cosine ${(dot / Math.sqrt(a * b)).toFixed(5)}, largest difference ${maxd.toFixed(4)} (python's norm ${Math.sqrt(a).toFixed(3)})`);
}
