// A made-up lab of rows for timing the classify stage at sizes no prepared lab has (20,000 cells): each cell drawn
// from a Gaussian around its class's centroid with the within-class covariance of the classifier's own training
// cells (its novelty model keeps both: the centroids whitened, the covariance as its Cholesky factor, shrunk a
// tenth towards its diagonal), the classes at a normal blood count's shares. The columns correlate as the training
// cells' do, which decides how fast neighbours are found. For timings only: no accuracy is read from it.
import type { CellClassifier } from '../src/engine/classifier/classifier-artifact.js';
import type { FeatureMatrix } from '../src/engine/classifier/feature-matrix.js';
import { createRng } from '../src/engine/classifier/rng.js';
import { standardNormal } from '../src/engine/classifier/synthetic-data.js';
import { bloodPrior } from '../src/engine/classifier/blood-count.js';

export function syntheticLab(clf: CellClassifier, n: number, seed = 1): FeatureMatrix {
  const { numFeatures: d, numClasses: K, cholesky: L, whitenedCentroids: w } = clf.novelty;
  // Centroid k = L times its whitened centroid.
  const centroid = new Float64Array(K * d);
  for (let k = 0; k < K; k++) for (let a = 0; a < d; a++) for (let b = 0; b <= a; b++) centroid[k * d + a]! += L[a * d + b]! * w[k * d + b]!;
  const shares = bloodPrior(clf.classNames);
  const total = shares.reduce((s, v) => s + v, 0);
  const rng = createRng(seed);
  const data = new Float64Array(n * d);
  const g = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    let u = rng.next() * total;
    let k = 0;
    while (k < K - 1 && u >= shares[k]!) u -= shares[k++]!;
    for (let a = 0; a < d; a++) g[a] = standardNormal(rng);
    for (let a = 0; a < d; a++) {
      let v = centroid[k * d + a]!;
      for (let b = 0; b <= a; b++) v += L[a * d + b]! * g[b]!;
      data[i * d + a] = v;
    }
  }
  return { data, rows: n, cols: d };
}
