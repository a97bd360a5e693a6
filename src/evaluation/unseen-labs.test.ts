import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scoreUnseenLabs, type PreparedRun, type ScoredLab } from './unseen-labs.js';
import { createRng } from '../engine/classifier/rng.js';
import { standardNormal } from '../engine/classifier/synthetic-data.js';
import { MORPHOLOGY_LENGTH } from '../imaging/cell-morphology.js';

const CLASSES = ['neutrophil', 'lymphocyte', 'monocyte', 'eosinophil', 'basophil'];

/** Three small labs of separable classes (each lab a little shifted), as prepareUnseenLabs would leave them. */
function prepared(): PreparedRun {
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

test('two-lab rows train on each pair of labs and score the real lab in neither; the copies used are said', () => {
  const r = scoreUnseenLabs(prepared(), { seed: 1, trees: 5, maxDepth: 6, augmentCopies: 1, steps: ['none', 'ensemble'] });
  const rows = [...new Set(r.scores.map((s) => `${s.trainedOn} -> ${s.lab}`))];
  for (const want of ['a+b -> c', 'a+c -> b', 'b+c -> a']) assert.ok(rows.includes(want), `${want} in ${rows.join(', ')}`);
  assert.equal(rows.filter((x) => x.includes('+')).length, 3, 'a pair never scores a lab it trained on');
  assert.deepEqual(r.settings.trainCells, { a: 60, b: 50, c: 40, 'a+b': 110, 'a+c': 100, 'b+c': 90 });
  assert.equal(r.settings.augmentCopies, 1);
  for (const s of r.scores) assert.ok(s.meanConfidence > 0 && s.meanConfidence <= 1, `${s.lab}: ${s.meanConfidence}`);
  // Separable classes: every row reads its lab well.
  assert.ok(r.scores.every((s) => s.accuracy > 0.9), r.scores.map((s) => `${s.trainedOn}->${s.lab} ${s.accuracy}`).join(', '));
  const without = scoreUnseenLabs(prepared(), { seed: 1, trees: 5, maxDepth: 6, augmentCopies: 0, pairs: false, steps: ['none'] });
  assert.equal(without.scores.filter((s) => s.trainedOn.includes('+')).length, 0);
  assert.throws(() => scoreUnseenLabs(prepared(), { seed: 1, trees: 5, augmentCopies: 2 }), /2 augmented copies asked for, the prepared rows have 1/);
});
