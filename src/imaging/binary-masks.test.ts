import { test } from 'node:test';
import assert from 'node:assert/strict';
import { components, convexArea, dilate, erode, open, regionShape } from './binary-masks.js';

const W = 40;
function draw(pred: (x: number, y: number) => boolean, w = W, h = W): Uint8Array {
  const m = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (pred(x, y)) m[y * w + x] = 1;
  return m;
}
const sum = (m: Uint8Array) => m.reduce((a, b) => a + b, 0);
const disc = (cx: number, cy: number, r: number) => (x: number, y: number) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;

test('components: 8-connected regions with their areas', () => {
  // two squares and a diagonal pair (8-connected: one component)
  const m = draw((x, y) => (x < 3 && y < 3) || (x >= 10 && x < 14 && y >= 10 && y < 12) || (x === 20 && y === 20) || (x === 21 && y === 21));
  const c = components(m, W, W);
  assert.equal(c.count, 3);
  assert.deepEqual([...c.areas].slice(1).sort((a, b) => a - b), [2, 8, 9]);
  assert.equal(c.labels[0], c.labels[W + 1]);
  assert.notEqual(c.labels[0], c.labels[10 * W + 10]);
});

test('erosion breaks a thin bridge between two lobes; opening removes specks and keeps the lobes', () => {
  const lobes = draw((x, y) => disc(10, 20, 6)(x, y) || disc(28, 20, 6)(x, y) || (y === 20 && x > 10 && x < 28));
  assert.equal(components(lobes, W, W).count, 1);
  assert.equal(components(erode(lobes, W, W, 2), W, W).count, 2);
  const specked = new Uint8Array(lobes);
  specked[2 * W + 2] = 1;
  const opened = open(specked, W, W, 1);
  assert.equal(opened[2 * W + 2], 0);
  assert.ok(sum(opened) > 0.8 * sum(lobes));
  // dilation grows, erosion shrinks, both stay inside the image
  assert.ok(sum(dilate(lobes, W, W, 1)) > sum(lobes));
  assert.ok(sum(erode(lobes, W, W, 1)) < sum(lobes));
});

test('regionShape: a disc is round and solid, a bar is elongated, an L shape is not convex', () => {
  const d = regionShape(draw(disc(20, 20, 10)), W, W)!;
  assert.deepEqual(d.centroid, [20, 20]);
  assert.ok(d.eccentricity < 0.1, String(d.eccentricity));
  assert.ok(Math.abs(d.majorAxis - 20) < 1.5 && Math.abs(d.minorAxis - 20) < 1.5, `${d.majorAxis} ${d.minorAxis}`);
  const roundness = (d.perimeter * d.perimeter) / (4 * Math.PI * d.area);
  assert.ok(roundness > 0.85 && roundness < 1.15, String(roundness));
  // scikit-image gives this disc area 317, convex area 341 (solidity 0.93), perimeter 65.9
  assert.equal(d.area, 317);
  assert.equal(d.convexArea, 341);
  assert.ok(Math.abs(d.perimeter - 65.94) < 0.01, String(d.perimeter));

  const bar = regionShape(draw((x, y) => x >= 5 && x < 35 && y >= 18 && y < 22), W, W)!;
  assert.equal(bar.area, 120);
  assert.ok(bar.eccentricity > 0.95);
  assert.equal(bar.convexArea, 120); // a rectangle is its own hull

  const ell = draw((x, y) => (x >= 5 && x < 10 && y >= 5 && y < 35) || (x >= 5 && x < 35 && y >= 30 && y < 35));
  const s = regionShape(ell, W, W)!;
  assert.ok(s.area / s.convexArea < 0.6, `solidity ${s.area / s.convexArea}`);
  assert.equal(regionShape(new Uint8Array(W * W), W, W), null);
  assert.equal(convexArea(new Uint8Array(W * W), W, W), 0);
});
