// Tests' prepared run (unseen-labs.test.ts, self-training-comparison.test.ts): three small labs of separable classes.
import type { PreparedRun, ScoredLab } from './unseen-labs.js';
import { createRng } from '../engine/classifier/rng.js';
import { standardNormal } from '../engine/classifier/synthetic-data.js';
import { MORPHOLOGY_LENGTH } from '../imaging/cell-morphology.js';

export const CLASSES = ['neutrophil', 'lymphocyte', 'monocyte', 'eosinophil', 'basophil'];

/** Three small labs of separable classes (each lab a little shifted), as prepareUnseenLabs would leave them. */
export function prepared(): PreparedRun {
  const rng = createRng(9);
  const centres = CLASSES.map(() => Array.from({ length: MORPHOLOGY_LENGTH }, () => 3 * standardNormal(rng)));
  const lab = (name: string, shift: number, n: number) => {
    const labels = Array.from({ length: n }, (_, i) => CLASSES[i % CLASSES.length]!);
    const rows = labels.map((l) => Float64Array.from(centres[CLASSES.indexOf(l)]!, (v) => v + shift + standardNormal(rng)));
    return { name, rows, labels };
  };
  const labs = [lab('a', 0, 60), lab('b', 0.3, 50), lab('c', -0.3, 40)];
  const scored = (l: (typeof labs)[number], trainedOn: string): ScoredLab => ({ name: l.name, kind: 'real', trainedOn, description: l.name, rows: l.rows, labels: l.labels });
  return {
    source: 'a', classes: CLASSES, timings: {},
    jobs: labs.map((l) => ({
      trainedOn: l.name, rows: l.rows, labels: l.labels, allRows: l.rows,
      labs: labs.filter((o) => o !== l).map((o) => scored(o, l.name)),
      // One augmented copy per cell (a copy shifted as another lab would be).
      augRows: l.rows.map((r) => Float64Array.from(r, (v) => v + 0.5)), augOf: l.rows.map((_, i) => i), augCopy: l.rows.map(() => 0),
    })),
  };
}
