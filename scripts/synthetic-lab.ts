// A made-up lab of morphology rows for timing the classify stage at sizes no prepared lab has (20,000 cells):
// classes drawn at a normal blood count's shares; the stain columns drawn from the classifier's own per-class
// quantiles (stain.mix), the others around its training profile's medians and spreads; one level per cell
// shared by all its columns, so that the columns correlate as measured ones do. For timings only: no accuracy
// is read from it.
import type { CellClassifier } from '../src/engine/classifier/classifier-artifact.js';
import type { FeatureMatrix } from '../src/engine/classifier/feature-matrix.js';
import { createRng } from '../src/engine/classifier/rng.js';
import { standardNormal } from '../src/engine/classifier/synthetic-data.js';

const BLOOD = [0.6, 0.3, 0.06, 0.03, 0.01];

/** The standard normal CDF (Abramowitz and Stegun 7.1.26; ample for drawing quantile levels). */
function phi(z: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(z) / Math.SQRT2));
  const erf = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-(z * z) / 2);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

export function syntheticLab(clf: CellClassifier, n: number, seed = 1): FeatureMatrix {
  const profile = clf.profile;
  const mix = clf.stain?.mix;
  if (!profile || !mix || !clf.stain) throw new Error('synthetic lab: the classifier has no training profile or class mix (a morphology classifier is needed)');
  const cols = clf.forest.numFeatures;
  const stainAt = new Map(clf.stain.columns.map((c, j) => [c, j]));
  const rng = createRng(seed);
  const data = new Float64Array(n * cols);
  for (let i = 0; i < n; i++) {
    let u = rng.next();
    let k = 0;
    while (k < BLOOD.length - 1 && u >= BLOOD[k]!) u -= BLOOD[k++]!;
    const shared = standardNormal(rng);
    for (let c = 0; c < profile.columns.length; c++) {
      const z = 0.7 * shared + 0.71 * standardNormal(rng);
      const j = stainAt.get(profile.columns[c]!);
      const q = j === undefined ? undefined : mix.quantiles[k]?.[j];
      let v: number;
      if (q?.length) {
        const at = phi(z) * (q.length - 1);
        const lo = Math.floor(at);
        v = q[lo]! + (at - lo) * ((q[Math.min(lo + 1, q.length - 1)] ?? q[lo]!) - q[lo]!);
      } else v = profile.medians[c]! + profile.spread[c]! * z;
      data[i * cols + profile.columns[c]!] = v;
    }
  }
  return { data, rows: n, cols };
}
