import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderSizeCeilings, sizeCeilings } from './size-ceiling.js';
import type { LabScore, PreparedRun, ScoredLab } from './unseen-labs.js';
import { createRng } from '../engine/classifier/rng.js';
import { standardNormal } from '../engine/classifier/synthetic-data.js';
import { MORPHOLOGY_LENGTH } from '../imaging/cell-morphology.js';

const CLASSES = ['neutrophil', 'lymphocyte', 'monocyte', 'eosinophil', 'basophil'];

/**
 * A source lab of separable classes (60 training and 100 held-out cells, every class alike) and a small lab with no
 * basophil at all, shifted, which scores the source's held-out cells and a third lab.
 */
function run(smallCounts: number[]): PreparedRun {
  const rng = createRng(4);
  const centres = CLASSES.map(() => Array.from({ length: MORPHOLOGY_LENGTH }, () => 3 * standardNormal(rng)));
  const cells = (counts: number[], shift: number) => {
    const labels = counts.flatMap((n, k) => Array.from({ length: n }, () => CLASSES[k]!));
    return { labels, rows: labels.map((l) => Float64Array.from(centres[CLASSES.indexOf(l)]!, (v) => v + shift + standardNormal(rng))) };
  };
  const train = cells([12, 12, 12, 12, 12], 0);
  const held = cells([20, 20, 20, 20, 20], 0);
  const small = cells(smallCounts, 2);
  const third = cells([10, 6, 3, 2, 1], -1);
  const lab = (name: string, kind: ScoredLab['kind'], trainedOn: string, c: { rows: Float64Array[]; labels: string[] }): ScoredLab => ({ name, kind, trainedOn, description: name, ...c });
  return {
    source: 'src', classes: CLASSES, timings: {},
    jobs: [
      {
        trainedOn: 'src', ...train, allRows: train.rows, labs: [lab('src', 'in-domain', 'src', held), lab('small', 'real', 'src', small)],
        augRows: train.rows.map((r) => Float64Array.from(r, (v) => v + 0.3)), augOf: train.rows.map((_, i) => i), augCopy: train.rows.map(() => 0),
      },
      { trainedOn: 'small', ...small, allRows: small.rows, labs: [lab('src', 'real', 'small', held), lab('third', 'real', 'small', third)] },
    ],
  };
}

test('size ceilings: a small lab without basophils cannot read a fifth of basophils, even with no shift', () => {
  const r = run([8, 4, 3, 5, 0]);
  const c = sizeCeilings(r, { copies: 1, draws: 3, seed: 2, trees: 15, maxDepth: 8 });
  // Only the row trained without the source (the pair src+small trains on the source); on each real lab it scores.
  assert.deepEqual(c.map((x) => `${x.trainedOn} -> ${x.lab}`), ['small -> src', 'small -> third']);
  const [onSource, onThird] = c;
  assert.deepEqual(onSource!.trainCounts, { neutrophil: 8, lymphocyte: 4, monocyte: 3, eosinophil: 5, basophil: 0 });
  // The source scored as it is (its held-out cells), the third lab at its own mix, drawn from the source's held-out cells.
  assert.deepEqual(onSource!.scoreCounts, { neutrophil: 20, lymphocyte: 20, monocyte: 20, eosinophil: 20, basophil: 20 });
  assert.deepEqual(onThird!.scoreCounts, { neutrophil: 10, lymphocyte: 6, monocyte: 3, eosinophil: 2, basophil: 1 });
  assert.equal(onSource!.draws.length, 3);
  // Separable classes: every class read but the one never trained on, which is a fifth of the cells.
  assert.ok(onSource!.accuracy <= 0.8 + 1e-9 && onSource!.accuracy >= 0.7, `${onSource!.accuracy}`);
  assert.ok(onThird!.accuracy >= 0.85, `${onThird!.accuracy}`);
  assert.ok(onSource!.ci95[0] <= onSource!.accuracy && onSource!.accuracy <= onSource!.ci95[1]);
  // Seeded: the same run gives the same ceilings.
  assert.deepEqual(sizeCeilings(r, { copies: 1, draws: 3, seed: 2, trees: 15, maxDepth: 8 }), c);
});

test('size ceilings: a training mix the source cannot supply is an error that says which, and the page section', () => {
  assert.throws(() => sizeCeilings(run([8, 4, 3, 5, 13]), { copies: 1, draws: 1, trees: 5 }), /small's training mix needs 13 basophil cells, the source has 12/);
  const r = run([8, 4, 3, 5, 0]);
  const c = sizeCeilings(r, { copies: 0, draws: 2, trees: 5, maxDepth: 6 });
  const scores = [{ trainedOn: 'small', lab: 'src', accuracy: 0.41, ci95: [0.3, 0.5] }] as unknown as LabScore[];
  const page = renderSizeCeilings(c, scores, 'scripts/unseen.sh');
  assert.match(page, /\| small -> src \| neut 8, lymp 4, mono 3, eosi 5 \| neut 20, lymp 20, mono 20, eosi 20, baso 20 \| 41\.0 % \(30\.0-50\.0\) \| \d+\.\d % \(/);
  assert.match(page, /\| small -> third \| .* \| — \|/);
});
