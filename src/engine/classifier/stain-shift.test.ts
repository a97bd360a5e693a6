import test from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from './rng.js';
import { adaptStain, classMixShifts, columnMedians, estimateClassMix, mixMedians, stainReference, stainShift, withinClassSd, MIX_QUANTILES, STAIN_SHIFT_LIMIT } from './stain-shift.js';

test('columnMedians: odd and even counts, only the columns asked for', () => {
  const m = columnMedians([[1, 10, 7], [3, 30, 7], [2, 20, 7], [4, 0, 7]], [0, 1]);
  assert.deepEqual([...m], [[0, 2.5], [1, 15]]);
  assert.deepEqual([...columnMedians([[5], [1], [3]], [0])], [[0, 3]]);
});

test('stainReference: medians over all rows, spread over the labelled training rows, in column order', () => {
  const all = [[0, 1, 9], [0, 3, 9], [0, 5, 9], [0, 100, 9]];
  const ref = stainReference(all, [[0, 1, 0], [0, 3, 0], [0, 10, 0], [0, 14, 0]], ['a', 'a', 'b', 'b'], [2, 1]);
  assert.deepEqual(ref.columns, [2, 1]);
  assert.deepEqual(ref.medians, [9, 4]);
  // column 2: no spread in either class; column 1: variances 2 and 8 -> sqrt(5)
  assert.equal(ref.spread[0], 0);
  assert.ok(Math.abs(ref.spread[1]! - Math.sqrt(5)) < 1e-12);
});

test('withinClassSd: the root of the mean of the classes\' sample variances, classes weighted alike', () => {
  // class a: 1, 3 (variance 2); class b: 10, 10, 10, 14 (variance 4) -> sqrt(3)
  const rows = [[1], [3], [10], [10], [10], [14]];
  const sd = withinClassSd(rows, ['a', 'a', 'b', 'b', 'b', 'b'], [0]);
  assert.ok(Math.abs(sd.get(0)! - Math.sqrt(3)) < 1e-12);
  // A class of one cell has no variance and is left out.
  assert.ok(Math.abs(withinClassSd([[1], [3], [99]], ['a', 'a', 'c'], [0]).get(0)! - Math.sqrt(2)) < 1e-12);
  assert.throws(() => withinClassSd([[1]], [], [0]), /1 rows, 0 labels/);
});

// A source of two classes whose values lie 1.5 within-class SDs apart (class SD 1), as most morphology
// columns' classes do (a class mix can move a median further when the classes lie far apart: hence the median
// over many columns, and the limit, are heuristics).
function source(n: number, seed = 1): { rows: number[][]; labels: string[] } {
  let s = seed;
  const rand = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const rows: number[][] = [];
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % 2;
    rows.push([k * 1.5 + gauss(), k * 1.5 + gauss(), 5]);
    labels.push(k ? 'b' : 'a');
  }
  return { rows, labels };
}

test('stainShift: a lab whose medians move only by its class mix is left as it is', () => {
  const src = source(400);
  const cols = [0, 1, 2];
  const ref = stainReference(src.rows, src.rows, src.labels, cols);
  // The same lab with 80 % of class a: the medians move towards a, by less than one class SD.
  const skewed = source(1000, 7).rows.filter((_, i) => i % 2 === 0 || i % 10 === 1);
  const sh = stainShift(skewed, ref);
  assert.ok(sh.statistic < STAIN_SHIFT_LIMIT, `statistic ${sh.statistic}`);
  assert.equal(sh.centre, false);
  assert.equal(sh.offsets.size, 0);
});

test('stainShift: a lab whose stain moved every value by 3 SDs is moved back onto the source medians', () => {
  const src = source(400);
  const cols = [0, 1, 2];
  const ref = stainReference(src.rows, src.rows, src.labels, cols);
  const lab = source(400, 3).rows.map((r) => [r[0]! + 3, r[1]! - 3, r[2]!]);
  const sh = stainShift(lab, ref);
  // Column 2 is constant in the source (no spread): it cannot be measured and is left out of the statistic.
  assert.ok(sh.statistic > 2.5 && sh.statistic < 3.5, `statistic ${sh.statistic}`);
  assert.equal(sh.centre, true);
  const labMed = columnMedians(lab, cols);
  for (const c of cols) assert.ok(Math.abs(labMed.get(c)! + sh.offsets.get(c)! - ref.medians[c]!) < 1e-12);
  // A stricter limit leaves it alone; an empty lab is never moved.
  assert.equal(stainShift(lab, ref, 5).centre, false);
  assert.deepEqual(stainShift([], ref), { statistic: 0, centre: false, offsets: new Map(), mix: null });
});

test('classMixShifts: what random class mixes of the source do to the statistic, seeded', () => {
  const src = source(600);
  const cols = [0, 1, 2];
  const ref = stainReference(src.rows, src.rows, src.labels, cols);
  const a = classMixShifts(src.rows, src.labels, ref, { draws: 12, size: 200, rng: createRng(5) });
  const b = classMixShifts(src.rows, src.labels, ref, { draws: 12, size: 200, rng: createRng(5) });
  assert.deepEqual(a, b);
  assert.equal(a.length, 12);
  // Classes 1.5 SDs apart: a mix moves the medians by at most ~0.75 SD, never by the 3 SDs of a stain change.
  assert.ok(a.every((v) => v >= 0 && v < 1), a.join(', '));
  assert.ok(Math.max(...a) > 0.1, 'some mixes move the medians');
  assert.deepEqual(classMixShifts([], [], ref, { rng: createRng(1) }), []);
});

test('stainReference with class names: each class\'s quantiles per column and its share of the training rows', () => {
  const rows = [[0, 1], [0, 3], [0, 2], [0, 10]];
  const ref = stainReference(rows, rows, ['a', 'a', 'a', 'b'], [1], ['b', 'a', 'c']);
  assert.deepEqual(ref.mix!.classes, ['b', 'a', 'c']);
  assert.deepEqual(ref.mix!.prior, [0.25, 0.75, 0]);
  assert.equal(ref.mix!.quantiles[1]![0]!.length, MIX_QUANTILES);
  assert.deepEqual([ref.mix!.quantiles[1]![0]![0], ref.mix!.quantiles[1]![0]![16], ref.mix!.quantiles[1]![0]!.at(-1)], [1, 2, 3]);
  assert.deepEqual(ref.mix!.quantiles[2], [], 'a class without training rows has no distribution');
  assert.equal(stainReference(rows, rows, ['a', 'a', 'a', 'b'], [1]).mix, undefined);
  assert.throws(() => stainReference(rows, rows, ['a', 'a', 'a', 'b'], [1], ['x']), /no training row/);
});

test('mixMedians: the median of the source re-weighted to a class mix', () => {
  // Class a: evenly spread over [0, 1]; class b: over [2, 3] (so their quantiles are exact).
  const a = Array.from({ length: 321 }, (_, i) => [i / 320]);
  const b = Array.from({ length: 321 }, (_, i) => [2 + i / 320]);
  const ref = stainReference([...a, ...b], [...a, ...b], [...a.map(() => 'a'), ...b.map(() => 'b')], [0], ['a', 'b']);
  const close = (x: number, want: number) => assert.ok(Math.abs(x - want) < 1e-6, `${x} vs ${want}`);
  close(mixMedians(ref, [1, 0])[0]!, 0.5);
  close(mixMedians(ref, [0, 1])[0]!, 2.5);
  // 3/4 of a: half the mass lies below 2/3 (0.75 x 2/3 = 0.5).
  close(mixMedians(ref, [0.75, 0.25])[0]!, 2 / 3);
  close(mixMedians(ref, [3, 1])[0]!, 2 / 3);
  const even = mixMedians(ref, [0.5, 0.5])[0]!;
  assert.ok(even > 1 - 1e-6 && even < 2 + 1e-6, `anywhere in the gap: ${even}`);
  assert.throws(() => mixMedians(ref, [1]), /1 class shares for 2 classes/);
  assert.throws(() => mixMedians(ref, [0, 0]), /no weight/);
  assert.throws(() => mixMedians({ ...ref, mix: undefined }, [1, 0]), /no class distributions/);
});

// Two classes on one value, N(0, 1) and N(2, 1), with a seeded generator.
function gauss(seed: number): () => number {
  const rng = createRng(seed);
  return () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}
const density = (x: number, m: number) => Math.exp(-0.5 * (x - m) ** 2);

test('estimateClassMix: recovers a lab\'s class mix that the classifier\'s training prior hides', () => {
  const g = gauss(11);
  // The classifier learnt equal priors; the lab has 80 % of class a.
  const xs = Array.from({ length: 4000 }, (_, i) => (i % 5 === 0 ? 2 : 0) + g());
  const proba = xs.flatMap((x) => {
    const pa = density(x, 0) / (density(x, 0) + density(x, 2));
    return [pa, 1 - pa];
  });
  const naive = proba.filter((_, i) => i % 2 === 0).reduce((s, v) => s + v, 0) / xs.length;
  const mix = estimateClassMix(proba, [0.5, 0.5]);
  assert.ok(Math.abs(mix[0]! - 0.8) < 0.03, `estimated ${mix[0]}`);
  assert.ok(Math.abs(naive - 0.8) > 0.05, `the plain mean of the probabilities is biased towards the prior: ${naive}`);
  assert.ok(Math.abs(mix[0]! + mix[1]! - 1) < 1e-9);
  // Certain verdicts give the shares as they are.
  assert.deepEqual(estimateClassMix([1, 0, 1, 0, 0, 1, 1, 0], [0.5, 0.5]), [0.75, 0.25]);
  assert.throws(() => estimateClassMix([0.5, 0.5, 1], [0.5, 0.5]), /3 probabilities for 2 classes/);
});

test('adaptStain: a lab of mostly one class is moved by its stain shift, not by its class mix too', () => {
  // Column 0: shape (classes at 0 and 3, stain-free); columns 1, 2: stain (classes at 0 and 1.5, SD 1).
  const g = gauss(3);
  const make = (n: number, shareB: number, shift: number) =>
    Array.from({ length: n }, (_, i) => {
      const b = i < n * shareB ? 1 : 0;
      return { row: [3 * b + 0.3 * g(), 1.5 * b + g() + shift, 1.5 * b + g() + shift], label: b ? 'b' : 'a' };
    });
  const src = make(800, 0.5, 0);
  const ref = stainReference(src.map((c) => c.row), src.map((c) => c.row), src.map((c) => c.label), [1, 2], ['a', 'b']);
  // A lab with 15 % of class b whose stain added 3 to every stain value.
  const lab = make(1000, 0.15, 3).map((c) => c.row);
  // The classes' probabilities from the shape value alone (the exact posterior under equal priors).
  const byShape = (rows: readonly ArrayLike<number>[]) =>
    rows.flatMap((r) => {
      const [a, b] = [Math.exp(-0.5 * (r[0]! / 0.3) ** 2), Math.exp(-0.5 * ((r[0]! - 3) / 0.3) ** 2)];
      return [a / (a + b), b / (a + b)];
    });
  const plain = stainShift(lab, ref);
  const adapted = adaptStain(lab, ref, { shapeProba: byShape, proba: byShape });
  assert.equal(adapted.centre, true);
  assert.equal(adapted.statistic, plain.statistic, 'the decision is the plain statistic\'s');
  assert.ok(Math.abs(adapted.mix![1]! - 0.15) < 0.03, `estimated share of b: ${adapted.mix![1]}`);
  for (const c of [1, 2]) {
    assert.ok(Math.abs(adapted.offsets.get(c)! + 3) < 0.15, `column ${c}: offset ${adapted.offsets.get(c)}`);
    assert.ok(Math.abs(plain.offsets.get(c)! + 3) > 0.4, `the balanced medians move it too little: ${plain.offsets.get(c)}`);
  }
  // Within the limit, or without classifiers, it is stainShift.
  assert.deepEqual(adaptStain(lab, ref, { shapeProba: byShape, proba: byShape }, 10), stainShift(lab, ref, 10));
  assert.deepEqual(adaptStain(lab, ref, null), plain);
});
