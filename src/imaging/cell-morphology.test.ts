import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxInCrop, DEFAULT_BOX_IN_CROP, morphologyFeatures, MORPHOLOGY_LENGTH, MORPHOLOGY_NAMES, MORPHOLOGY_SIZE } from './cell-morphology.js';

const S = MORPHOLOGY_SIZE;
const WHITE = [240, 232, 226];
// Optical densities (per channel, base 10) of the synthetic stains.
const NUCLEUS_OD = [0.75, 0.85, 0.35]; // azure/methylene blue: absorbs red and green
const CYTO_OD = [0.12, 0.16, 0.08];
const RED_CELL_OD = [0.05, 0.35, 0.2]; // eosin: absorbs green

/**
 * A cell in the default box: cytoplasm ellipse, a nucleus drawn by `nucleus(x, y)` (pixel coordinates),
 * red cells in two corners. `strength` scales every optical density (stain strength); `gain` multiplies
 * the channels (white balance).
 */
function cell(nucleus: (x: number, y: number) => boolean, strength = 1, gain = [1, 1, 1]): Uint8Array {
  const [x0, y0, x1, y1] = DEFAULT_BOX_IN_CROP.map((v) => v * S) as [number, number, number, number];
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const rx = (x1 - x0) / 2;
  const ry = (y1 - y0) / 2;
  const out = new Uint8Array(S * S * 3);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      let od = [0, 0, 0];
      if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) od = nucleus(x, y) ? NUCLEUS_OD : CYTO_OD;
      else if ((x - 6) ** 2 + (y - 6) ** 2 < 100 || (x - 122) ** 2 + (y - 6) ** 2 < 100) od = RED_CELL_OD;
      for (let c = 0; c < 3; c++) out[3 * (y * S + x) + c] = Math.round(Math.min(255, WHITE[c]! * gain[c]! * 10 ** (-strength * od[c]!)));
    }
  }
  return out;
}

const centre = ((DEFAULT_BOX_IN_CROP[0] + DEFAULT_BOX_IN_CROP[2]) / 2) * S;
const cellRadius = ((DEFAULT_BOX_IN_CROP[2] - DEFAULT_BOX_IN_CROP[0]) / 2) * S;
const round = (x: number, y: number) => (x - centre) ** 2 + (y - centre) ** 2 <= (0.6 * cellRadius) ** 2;
// Three lobes joined by 4-pixel bridges (they survive the opening, not the erosion) (a segmented neutrophil's nucleus).
const lobed = (x: number, y: number) => {
  const r = 0.22 * cellRadius;
  const centres = [-1, 0, 1].map((k) => [centre + k * 2.6 * r, centre] as const);
  if (centres.some(([a, b]) => (x - a) ** 2 + (y - b) ** 2 <= r * r)) return true;
  return Math.abs(y - centre) <= 2 && Math.abs(x - centre) <= 2.6 * r;
};
const f = (name: string, v: Float64Array | Float32Array) => v[MORPHOLOGY_NAMES.indexOf(name)]!;

test('morphologyFeatures: nucleus fraction and lobes of a round and a three-lobed nucleus', () => {
  assert.equal(MORPHOLOGY_NAMES.length, MORPHOLOGY_LENGTH);
  const a = morphologyFeatures(cell(round), S);
  const b = morphologyFeatures(cell(lobed), S);
  assert.equal(a.length, MORPHOLOGY_LENGTH);
  assert.ok(a.every(Number.isFinite) && b.every(Number.isFinite));
  assert.ok(Math.abs(f('nucleus_fraction', a) - 0.36) < 0.05, `fraction ${f('nucleus_fraction', a)}`);
  assert.equal(f('lobes_after_erosion', a), 1);
  assert.equal(f('lobes_after_erosion', b), 3);
  // The lobes' outline is long for their area; a round nucleus is close to a disc's 1.
  assert.ok(f('nucleus_roundness_inv', a) < 1.15 && f('nucleus_roundness_inv', b) > 1.5 * f('nucleus_roundness_inv', a), `${f('nucleus_roundness_inv', a)} ${f('nucleus_roundness_inv', b)}`);
  assert.ok(f('nucleus_solidity', a) > 0.95);
  assert.ok(f('nucleus_eccentricity', b) > 0.9 && f('nucleus_eccentricity', a) < 0.2);
  // The nucleus absorbs red light more than the cytoplasm does, relative to its own density.
  assert.ok(f('nucleus_chroma_r', a) > f('cytoplasm_chroma_r', a));
  assert.ok(f('nucleus_offset', a) < 0.05);
});

test('morphologyFeatures: shape and chromaticity do not depend on stain strength or white balance', () => {
  const base = morphologyFeatures(cell(round), S);
  const pale = morphologyFeatures(cell(round, 0.6), S);
  const tinted = morphologyFeatures(cell(round, 1, [0.92, 1, 1.06]), S);
  for (const other of [pale, tinted]) {
    for (const name of ['nucleus_fraction', 'lobes_after_erosion', 'nucleus_solidity', 'nucleus_chroma_r', 'nucleus_chroma_g', 'cytoplasm_chroma_g', 'cytoplasm_chroma_r_vs_red_cells', 'cytoplasm_to_nucleus_density']) {
      assert.ok(Math.abs(f(name, base) - f(name, other)) < 0.03, `${name}: ${f(name, base)} vs ${f(name, other)}`);
    }
  }
  // ...while the density itself follows the stain.
  assert.ok(Math.abs(f('nucleus_density', pale) / f('nucleus_density', base) - 0.6) < 0.05);
});

test('morphologyFeatures: granules in the cytoplasm raise its fine texture; dense granules count as dense', () => {
  const smooth = morphologyFeatures(cell(round), S);
  // Granules: every third pixel on a lattice, stained like the nucleus (a basophil's dark granules).
  const granular = cell(round);
  const dark = cell(() => true);
  for (let y = 0; y < S; y += 3) {
    for (let x = 0; x < S; x += 3) {
      if (round(x, y)) continue;
      for (let c = 0; c < 3; c++) granular[3 * (y * S + x) + c] = dark[3 * (y * S + x) + c]!;
    }
  }
  const g = morphologyFeatures(granular, S);
  assert.ok(f('cytoplasm_texture_fine', g) > 2 * f('cytoplasm_texture_fine', smooth), `${f('cytoplasm_texture_fine', g)} vs ${f('cytoplasm_texture_fine', smooth)}`);
  assert.ok(f('cytoplasm_density_dense_share', g) > 0.05 && f('cytoplasm_density_dense_share', smooth) < 0.01);
  // The colour histogram holds shares of the cytoplasm: at most 1 in all.
  const hist = MORPHOLOGY_NAMES.flatMap((n, i) => (n.startsWith('cytoplasm_chroma_hist') ? [smooth[i]!] : []));
  assert.equal(hist.length, 9);
  assert.ok(hist.reduce((a, b) => a + b, 0) <= 1 + 1e-9);
});

test('morphologyFeatures writes at an offset and refuses a crop of the wrong size', () => {
  const out = new Float32Array(2 * MORPHOLOGY_LENGTH);
  morphologyFeatures(cell(round), S, DEFAULT_BOX_IN_CROP, out, MORPHOLOGY_LENGTH);
  assert.ok(out.subarray(0, MORPHOLOGY_LENGTH).every((v) => v === 0));
  assert.ok(out[MORPHOLOGY_LENGTH]! > 0);
  assert.throws(() => morphologyFeatures(new Uint8Array(10), S), /RGB crop/);
});

test('boxInCrop: the detector box inside cropBoxWithMargin\'s rectangle, clipped at the image border', () => {
  assert.deepEqual(boxInCrop([100, 100, 200, 200], 400, 400), [10 / 130, 10 / 130, 110 / 130, 110 / 130]);
  // 20 px after the box would leave a 60 px image: the crop ends at the border
  assert.deepEqual(boxInCrop([0, 0, 50, 50], 60, 60), [0, 0, 50 / 60, 50 / 60]);
});
