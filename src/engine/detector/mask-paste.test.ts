import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pasteMask, type Box } from './mask-paste.js';
import { rleEncode } from '../../imaging/rle.js';

// Expected masks from torchvision 0.14's paste_masks_in_image: bench/detector/make-mask-paste-golden.py
const goldenPath = fileURLToPath(new URL('../../../../src/engine/detector/mask-paste.golden.json', import.meta.url));
const golden = JSON.parse(readFileSync(goldenPath, 'utf8')) as { k: number; box: Box; height: number; width: number; counts: number[] }[];

function probs(k: number): Float32Array {
  const p = new Float32Array(28 * 28);
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) p[y * 28 + x] = 0.5 + 0.45 * Math.sin(0.37 * x + 0.23 * y + k) * Math.cos(0.19 * y - 0.11 * x);
  return p;
}

test('pasteMask matches torchvision paste_masks_in_image (padding 1, > 0.5) pixel for pixel', () => {
  for (const g of golden) {
    const box = g.box.map((v) => Math.fround(v)) as Box; // torch holds boxes in float32
    const got = rleEncode(pasteMask(probs(g.k), 28, box, g.width, g.height));
    assert.deepEqual(got.counts, g.counts, `box ${g.box} in ${g.width}x${g.height}`);
  }
});

test('pasteMask: a box outside the image gives an empty mask', () => {
  const m = pasteMask(new Float32Array(28 * 28).fill(1), 28, [50, 50, 60, 60], 20, 20);
  assert.equal(m.data.reduce((a, b) => a + b, 0), 0);
});
