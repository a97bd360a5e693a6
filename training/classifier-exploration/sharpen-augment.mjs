// Exploration only (issue 17): each dumped cell's 59 morphology values after sharpening its crop (unsharp mask:
// x + amount * (x - blur(x, 1 px))), for sharpen-augment.py: training copies that imitate a sharper camera than the
// source's (the product's augmentation only blurs). After a build and dump-cells.mjs:
//   DUMP=/tmp/dump node training/classifier-exploration/sharpen-augment.mjs      -> $DUMP/mor-sharp.f64 (AMOUNTS x N x 59)
import { readFileSync, writeFileSync } from 'node:fs';
const R = new URL('../../dist/src', import.meta.url).pathname;
const { morphologyFeatures, MORPHOLOGY_LENGTH } = await import(`${R}/imaging/cell-morphology.js`);
const { gaussianBlur } = await import(`${R}/imaging/plane-filters.js`);
const DUMP = process.env.DUMP ?? '/tmp/dump';
const AMOUNTS = [0.5, 1, 2];
const rows = readFileSync(`${DUMP}/cells.csv`, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
const crops = readFileSync(`${DUMP}/crops.u8`);
const S = 128, P = S * S, n = rows.length;
const mor = new Float64Array(AMOUNTS.length * n * MORPHOLOGY_LENGTH);
for (let c = 0; c < n; c++) {
  const rgb = crops.subarray(c * P * 3, (c + 1) * P * 3);
  const b = rows[c].slice(3, 7).map(Number);
  const box = b.some((v) => v !== 0) ? b : undefined;
  const planes = [0, 1, 2].map((ch) => Float64Array.from({ length: P }, (_, i) => rgb[i * 3 + ch]));
  const blurred = planes.map((p) => gaussianBlur(p, S, S, 1));
  AMOUNTS.forEach((a, ai) => {
    const out = new Uint8Array(P * 3);
    for (let i = 0; i < P; i++) for (let ch = 0; ch < 3; ch++) {
      const v = planes[ch][i] + a * (planes[ch][i] - blurred[ch][i]);
      out[i * 3 + ch] = Math.max(0, Math.min(255, Math.round(v)));
    }
    morphologyFeatures(out, S, box, mor, (ai * n + c) * MORPHOLOGY_LENGTH);
  });
}
writeFileSync(`${DUMP}/mor-sharp.f64`, Buffer.from(mor.buffer));
console.error('done');
