import { test } from 'node:test';
import assert from 'node:assert/strict';
import { morphologyOfCells } from './morphology.js';
import type { CellGeometry, CropSource } from './types.js';

/** A crop source of dark discs on a light background; the cell with id 'bad' cannot be read. */
const discs: CropSource = {
  async crop(cell, size) {
    if (cell.id === 'bad') throw new Error('image gone');
    const c = new Uint8Array(size * size * 3);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
      c.set(Math.hypot(x - size / 2, y - size / 2) < size / 4 ? [110, 60, 150] : [235, 228, 232], (y * size + x) * 3);
    }
    return c;
  },
};

const cells = (n: number, bad: number[] = []): CellGeometry[] =>
  Array.from({ length: n }, (_, i) => ({ id: bad.includes(i) ? 'bad' : `c${i}`, box: [10, 10, 90, 90], storagePath: 'x', width: 100, height: 100 }));

test('measuring reports progress every `every` cells and at the end, failures included in the count', async () => {
  const seen: Array<[number, number]> = [];
  const m = await morphologyOfCells(discs, cells(7, [3]), { every: 3, onProgress: (d, t) => void seen.push([d, t]) });
  assert.deepEqual(seen, [[3, 7], [6, 7], [7, 7]]);
  assert.equal(m.rows.length, 6);
  assert.deepEqual(m.failed.map((f) => f.index), [3]);
});

test('a progress callback returning true stops the measuring with the rows so far (how a cancelled job stops)', async () => {
  const m = await morphologyOfCells(discs, cells(10), { every: 2, augment: { copies: 1, seed: 1 }, onProgress: (d) => d >= 4 });
  assert.deepEqual(m.rows, [0, 1, 2, 3]);
  assert.equal(m.x.rows, 4);
  // Copies of the measured cells only.
  assert.deepEqual(m.augmented!.of, [0, 1, 2, 3]);
});
