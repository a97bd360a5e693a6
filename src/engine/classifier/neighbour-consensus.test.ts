import { test } from 'node:test';
import assert from 'node:assert/strict';
import { neighbourConsensus } from './neighbour-consensus.js';
import { createRng } from './rng.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, eps = 1e-12) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= eps, `value ${i}: ${a[i]} vs ${b[i]}`);
};

test('neighbourConsensus: hand-computed result on a line of cells', () => {
  // Five cells on a line (one column): 0, 1, 2, 10, 11. With k = 2, cell 0's neighbours are 1 and 2,
  // cell 2's are 1 and 0, cell 3's are 4 and 2, cell 4's are 3 and 2.
  const x = { data: new Float64Array([0, 1, 2, 10, 11]), rows: 5, cols: 1 };
  const p = [1, 0, 1, 0, 0.4, 0.6, 0, 1, 0, 1];
  const out = neighbourConsensus(x, p, 2, { k: 2, weight: 0.5 });
  const expected = [
    0.5 * 1 + 0.5 * ((1 + 0.4) / 2), 0.5 * 0 + 0.5 * ((0 + 0.6) / 2),
    0.5 * 1 + 0.5 * ((1 + 0.4) / 2), 0.5 * 0 + 0.5 * ((0 + 0.6) / 2),
    0.5 * 0.4 + 0.5 * ((1 + 1) / 2), 0.5 * 0.6 + 0.5 * 0,
    0.5 * 0 + 0.5 * ((0 + 0.4) / 2), 0.5 * 1 + 0.5 * ((1 + 0.6) / 2),
    0.5 * 0 + 0.5 * ((0 + 0.4) / 2), 0.5 * 1 + 0.5 * ((1 + 0.6) / 2),
  ];
  close(out, expected);
  // The wavering cell 2 (0.4 / 0.6) sides with its neighbours.
  assert.ok(out[4]! > out[5]!);
});

test('neighbourConsensus: a whole-lab shift or scale of a column changes nothing (the lab is standardised)', () => {
  const rng = createRng(3);
  const n = 60;
  const rows = Array.from({ length: n }, () => [rng.next(), rng.next() * 5, rng.next()]);
  const p = Array.from({ length: n }, () => {
    const a = rng.next();
    return [a, 1 - a];
  }).flat();
  const x = { data: Float64Array.from(rows.flat()), rows: n, cols: 3 };
  const moved = { data: Float64Array.from(rows.flatMap(([a, b, c]) => [a! * 3 + 7, b! - 2, c! * 0.1])), rows: n, cols: 3 };
  close(neighbourConsensus(x, p, 2), neighbourConsensus(moved, p, 2), 1e-9);
});

test('neighbourConsensus: each row still sums to one; weight 0 and too few rows leave the probabilities as they are', () => {
  const rng = createRng(5);
  const n = 40;
  const x = { data: Float64Array.from({ length: n * 4 }, () => rng.next()), rows: n, cols: 4 };
  const p = Array.from({ length: n }, () => {
    const a = [rng.next(), rng.next(), rng.next()];
    const s = a[0]! + a[1]! + a[2]!;
    return a.map((v) => v / s);
  }).flat();
  const out = neighbourConsensus(x, p, 3);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(out[3 * i]! + out[3 * i + 1]! + out[3 * i + 2]! - 1) < 1e-12);
  assert.notDeepEqual(Array.from(out), p);
  close(neighbourConsensus(x, p, 3, { weight: 0 }), p);
  const few = { data: x.data.subarray(0, 5 * 4), rows: 5, cols: 4 };
  close(neighbourConsensus(few, p.slice(0, 15), 3, { k: 5 }), p.slice(0, 15));
  const flat = { data: new Float64Array(n * 2).fill(1), rows: n, cols: 2 };
  close(neighbourConsensus(flat, p, 3), p);
});

test('neighbourConsensus: clusters of one class outvote the forest where it wavers', () => {
  // Two tight clusters; in each, 70 % of the cells are given the cluster's class with 0.7 and the others
  // the wrong class with 0.55: after one step every cell of a cluster reads as the cluster's class.
  const rng = createRng(9);
  const rows: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < 100; i++) {
    const cls = i < 50 ? 0 : 1;
    rows.push(cls * 10 + rng.next(), cls * 10 + rng.next());
    const right = i % 10 < 7;
    const pr = right ? 0.7 : 0.45;
    p.push(...(cls === 0 ? [pr, 1 - pr] : [1 - pr, pr]));
  }
  const out = neighbourConsensus({ data: Float64Array.from(rows), rows: 100, cols: 2 }, p, 2);
  let before = 0;
  let after = 0;
  for (let i = 0; i < 100; i++) {
    const cls = i < 50 ? 0 : 1;
    if ((p[2 * i]! > p[2 * i + 1]! ? 0 : 1) === cls) before++;
    if ((out[2 * i]! > out[2 * i + 1]! ? 0 : 1) === cls) after++;
  }
  assert.equal(before, 70);
  assert.ok(after >= 95, `after consensus ${after} of 100 right`);
});

test('neighbourConsensus: refuses bad options and mismatched probabilities', () => {
  const x = { data: new Float64Array([0, 1, 2]), rows: 3, cols: 1 };
  assert.throws(() => neighbourConsensus(x, [1, 0, 1, 0], 2), /4 probabilities for 3 rows x 2 classes/);
  assert.throws(() => neighbourConsensus(x, [1, 0, 1, 0, 1, 0], 2, { k: 0 }), /k must be a positive integer/);
  assert.throws(() => neighbourConsensus(x, [1, 0, 1, 0, 1, 0], 2, { weight: 1.5 }), /weight must lie in \[0, 1\]/);
});
