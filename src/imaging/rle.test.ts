import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rleEncode, rleDecode, rleArea, type BinaryMask } from './rle.js';

const mask = (rows: number[][]): BinaryMask => ({ width: rows[0]!.length, height: rows.length, data: Uint8Array.from(rows.flat()) });

test('rleEncode: a hand-made mask runs column by column, background first', () => {
  // columns: [0,0,1] [1,1,1] [1,0,0] [0,0,0] -> 0,0 | 1,1,1,1,1 | 0,0,0,0,0
  const m = mask([
    [0, 1, 1, 0],
    [0, 1, 0, 0],
    [1, 1, 0, 0],
  ]);
  assert.deepEqual(rleEncode(m), { size: [3, 4], counts: [2, 5, 5] });
});

test('rleEncode: a foreground first pixel gives a leading 0; empty and full masks', () => {
  assert.deepEqual(rleEncode(mask([[1, 1], [1, 0]])).counts, [0, 3, 1]);
  assert.deepEqual(rleEncode(mask([[0, 0], [0, 0]])).counts, [4]);
  assert.deepEqual(rleEncode(mask([[1, 1, 1]])).counts, [0, 3]);
  assert.deepEqual(rleEncode(mask([[0, 1], [0, 0], [0, 0]])).counts, [3, 1, 2]); // row-major input, column-major runs
});

test('rleDecode inverts rleEncode on random masks; rleArea counts foreground', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let t = 0; t < 50; t++) {
    const w = 1 + Math.floor(rnd() * 17);
    const h = 1 + Math.floor(rnd() * 13);
    const p = rnd();
    const data = new Uint8Array(w * h).map(() => (rnd() < p ? 1 : 0));
    const rle = rleEncode({ width: w, height: h, data });
    assert.equal(rle.counts.reduce((a, b) => a + b, 0), w * h);
    assert.deepEqual(rleDecode(rle), { width: w, height: h, data });
    assert.equal(rleArea(rle), data.reduce((a, b) => a + b, 0));
  }
});

test('rleDecode rejects counts that do not cover the mask', () => {
  assert.throws(() => rleDecode({ size: [2, 2], counts: [1, 2] }), /cover 3 of 4/);
  assert.throws(() => rleDecode({ size: [2, 2], counts: [3, 2] }), /more than/);
});
