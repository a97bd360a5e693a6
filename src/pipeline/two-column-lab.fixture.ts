// Tests' two-class lab in two columns (lab-classification.test.ts, stain-step.test.ts): column 0 is shape (classes
// at 0 and 4, stain-free), column 1 is stain (classes at 0 and 2; a lab adds `shift`), so a stain step's move can be
// checked against where each class really lies.
import { createRng } from '../engine/classifier/rng.js';
import { stainReference } from '../engine/classifier/stain-shift.js';

export function twoColumnLabs(seed = 8) {
  const rng = createRng(seed);
  /** n cells, the first shareB of them class b, the stain column moved by shift. */
  const make = (n: number, shareB: number, shift: number) =>
    Array.from({ length: n }, (_, i) => {
      const b = i < n * shareB ? 1 : 0;
      return [4 * b + rng.next(), 2 * b + 2 * rng.next() + shift];
    });
  const src = make(400, 0.5, 0);
  const y = src.map((r) => (r[0]! > 2 ? 1 : 0));
  const stain = stainReference(src, src, y.map((k) => 'ab'[k]!), [1], ['a', 'b']);
  const opts = { nEstimators: 20, maxDepth: 6, seed: 1, numClasses: 2, classNames: ['a', 'b'] };
  const x = { data: Float64Array.from(src.flat()), rows: src.length, cols: 2 };
  return { make, src, y, stain, opts, x };
}
