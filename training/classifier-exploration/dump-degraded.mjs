// Exploration only: the morphology values of every dumped crop after a Gaussian blur of SIGMA px (at 128 px),
// the way a blurrier camera would show the cell (BCCD). Reads $DUMP/cells.csv and crops.u8 (dump-cells.mjs);
// writes $DUMP/cells-blur<SIGMA>.csv with the same columns. Run from the repository root after a build.
import { readFileSync, writeFileSync } from 'node:fs';
const R = new URL('../../dist/src', import.meta.url).pathname;
const DUMP = process.env.DUMP ?? '/tmp/dump';
const SIGMA = Number(process.env.SIGMA ?? '1.5');
const { morphologyFeatures } = await import(`${R}/imaging/cell-morphology.js`);
const { gaussianBlur } = await import(`${R}/imaging/plane-filters.js`);
const lines = readFileSync(`${DUMP}/cells.csv`, 'utf8').trim().split('\n');
const head = lines[0].split(',');
const first = head.indexOf('nucleus_fraction');
const b = ['b0', 'b1', 'b2', 'b3'].map((k) => head.indexOf(k));
const crops = readFileSync(`${DUMP}/crops.u8`);
const S = 128;
const out = [lines[0]];
for (let i = 1; i < lines.length; i++) {
  const cols = lines[i].split(',');
  const crop = new Uint8Array(crops.subarray((i - 1) * S * S * 3, i * S * S * 3));
  const blurred = new Uint8Array(crop.length);
  for (let c = 0; c < 3; c++) {
    const plane = new Float64Array(S * S);
    for (let p = 0; p < S * S; p++) plane[p] = crop[3 * p + c];
    const g = gaussianBlur(plane, S, S, SIGMA);
    for (let p = 0; p < S * S; p++) blurred[3 * p + c] = Math.max(0, Math.min(255, Math.round(g[p])));
  }
  const f = morphologyFeatures(blurred, S, b.map((k) => Number(cols[k])));
  out.push([...cols.slice(0, first), ...Array.from(f)].join(','));
}
writeFileSync(`${DUMP}/cells-blur${SIGMA}.csv`, out.join('\n') + '\n');
