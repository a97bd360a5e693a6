// Exploration only (issue 17): each dumped cell's 59 morphology values after blurring its crop by sigma px, and a
// sharpness statistic, for blur-match.py (does blurring only a SHARPER target down to the source's sharpness help?).
// Run from the repository root after a build and dump-cells.mjs:  DUMP=/tmp/dump node training/classifier-exploration/blur-match.mjs
// Writes $DUMP/mor-blur.f64 (sigmas x N x 59) and $DUMP/sharp-blur.f64 (sigmas x N), sigmas in SIGMAS below.
import { readFileSync, writeFileSync } from 'node:fs';
const R = new URL('../../dist/src', import.meta.url).pathname;
const { morphologyFeatures, MORPHOLOGY_LENGTH } = await import(`${R}/imaging/cell-morphology.js`);
const { gaussianBlur } = await import(`${R}/imaging/plane-filters.js`);
const DUMP = process.env.DUMP ?? '/tmp/dump';
export const SIGMAS = [0, 0.5, 1, 1.5, 2, 2.5, 3];
const rows = readFileSync(`${DUMP}/cells.csv`, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
const crops = readFileSync(`${DUMP}/crops.u8`);
const S = 128, P = S * S;
const n = rows.length;
const mor = new Float64Array(SIGMAS.length * n * MORPHOLOGY_LENGTH);
const sharp = new Float64Array(SIGMAS.length * n);

/** Contrast-normalised high-frequency energy of the grey plane: mean squared Laplacian over the grey variance. */
function sharpness(grey) {
  let m = 0; for (const v of grey) m += v; m /= grey.length;
  let varg = 0; for (const v of grey) varg += (v - m) ** 2; varg /= grey.length;
  let lap = 0, k = 0;
  for (let y = 1; y < S - 1; y++) for (let x = 1; x < S - 1; x++) {
    const i = y * S + x;
    lap += (4 * grey[i] - grey[i - 1] - grey[i + 1] - grey[i - S] - grey[i + S]) ** 2; k++;
  }
  return lap / k / (varg + 1e-9);
}

const t0 = Date.now();
for (let c = 0; c < n; c++) {
  const rgb = crops.subarray(c * P * 3, (c + 1) * P * 3);
  const b = rows[c].slice(3, 7).map(Number);
  const box = b.some((v) => v !== 0) ? b : undefined;
  const planes = [0, 1, 2].map((ch) => Float64Array.from({ length: P }, (_, i) => rgb[i * 3 + ch]));
  SIGMAS.forEach((s, si) => {
    const bl = planes.map((p) => gaussianBlur(p, S, S, s));
    const out = new Uint8Array(P * 3);
    const grey = new Float64Array(P);
    for (let i = 0; i < P; i++) {
      for (let ch = 0; ch < 3; ch++) out[i * 3 + ch] = Math.max(0, Math.min(255, Math.round(bl[ch][i])));
      grey[i] = (bl[0][i] + bl[1][i] + bl[2][i]) / 3;
    }
    morphologyFeatures(out, S, box, mor, (si * n + c) * MORPHOLOGY_LENGTH);
    sharp[si * n + c] = sharpness(grey);
  });
  if (c % 200 === 0) console.error(`${c}/${n} ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
writeFileSync(`${DUMP}/mor-blur.f64`, Buffer.from(mor.buffer));
writeFileSync(`${DUMP}/sharp-blur.f64`, Buffer.from(sharp.buffer));
console.error(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
