// Seeded pseudo-random numbers for the classifier and the evaluation split: the same seed gives the
// same stream on every platform, which Math.random cannot promise.

/** A source of uniform numbers in [0, 1) and integers in [0, n). */
export interface Rng {
  next(): number;
  nextInt(n: number): number;
}

/** Mixes a 32-bit integer (splitmix32 finaliser) so nearby seeds give unrelated streams. */
export function mixSeed(seed: number, salt = 0): number {
  let z = (Math.trunc(seed) ^ Math.imul(salt + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** mulberry32: tiny, fast and good enough for bootstrap draws and feature subsets. */
export function createRng(seed: number): Rng {
  let state = mixSeed(seed) >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, nextInt: (n: number): number => Math.floor(next() * n) };
}

/** Fisher-Yates shuffle in place (plain arrays and typed arrays alike). */
export function shuffleInPlace<A extends { length: number; [i: number]: number }>(a: A, rng: Rng): A {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}
