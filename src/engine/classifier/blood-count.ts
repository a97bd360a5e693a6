// What a white-cell count of peripheral blood usually looks like (docs/self-check.md, "A plausible blood
// count"): the prior the stain step's class-mix estimate is shrunk towards, and the yardstick of the job's
// self-check on its predicted class mix.

/** Normal adult differential, share of white cells: [low, high] (docs/self-check.md). */
export const NORMAL_DIFFERENTIAL: Readonly<Record<string, readonly [number, number]>> = {
  neutrophil: [0.4, 0.75],
  lymphocyte: [0.2, 0.45],
  monocyte: [0.02, 0.1],
  eosinophil: [0.01, 0.06],
  basophil: [0, 0.02],
};

/** Share given to a class the normal differential does not name (immature cells, blasts, ...): absent in normal blood. */
const UNNAMED_SHARE = 0.005;

/** The middle of each class's normal range, renormalised over `classes` (a class it does not name gets a small share). */
export function bloodPrior(classes: readonly string[]): number[] {
  const raw = classes.map((c) => {
    const r = NORMAL_DIFFERENTIAL[c];
    return r ? Math.max(UNNAMED_SHARE, (r[0] + r[1]) / 2) : UNNAMED_SHARE;
  });
  const total = raw.reduce((a, b) => a + b, 0);
  return raw.map((v) => v / total);
}

/**
 * How far class shares lie outside the normal ranges: the sum over classes of the distance from each share to
 * its range (0 inside every range; at most 2). Classes the differential does not name count from a range of
 * [0, 0.05]. Shares are renormalised over the given classes first.
 */
export function distanceFromNormal(classes: readonly string[], shares: readonly number[]): number {
  const total = shares.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return 0;
  let d = 0;
  classes.forEach((c, k) => {
    const [lo, hi] = NORMAL_DIFFERENTIAL[c] ?? [0, 0.05];
    const s = shares[k]! / total;
    d += Math.max(0, lo - s, s - hi);
  });
  return d;
}
