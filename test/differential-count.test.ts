// The one definition of a differential count (client-sdk/src/differential-count.ts), by hand: which cells
// count, which are shown apart and why, the shares, and the text the CLI and the example print.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { differentialCount, differentialTable, flagReasonOf, flagReasonText, tallyOf, DifferentialTally, type CountableCell } from '../client-sdk/src/differential-count.js';

const cell = (label: string | null, o: { flagged?: boolean; reason?: string; flagReason?: string; cut?: boolean | null } = {}): CountableCell => ({
  cutByBorder: o.cut ?? false,
  prediction: { label, flagged: o.flagged ?? false, reason: o.reason ?? null, flagReason: o.flagReason ?? null },
});

test('the rule: border first, then no prediction, then flagged, else counted under its class', () => {
  assert.deepEqual(tallyOf(cell('monocyte', { cut: true })), { kind: 'cutByBorder' });
  assert.deepEqual(tallyOf(cell(null, { flagged: true, cut: true })), { kind: 'cutByBorder' }, 'a cut cell is left out even when flagged');
  assert.deepEqual(tallyOf({ cutByBorder: false, prediction: null }), { kind: 'unclassified' });
  assert.deepEqual(tallyOf({}), { kind: 'unclassified' }, 'no prediction selected: not classified');
  assert.deepEqual(tallyOf(cell('monocyte', { cut: null })), { kind: 'counted', label: 'monocyte' }, 'border unknown (no mask): counted');
  assert.deepEqual(tallyOf(cell(null, { flagged: true, flagReason: 'NOVEL' })), { kind: 'flagged', reason: 'NOVEL' });
  assert.deepEqual(tallyOf(cell(null)), { kind: 'flagged', reason: 'OTHER' }, 'a prediction without a label is not counted');
});

test('reason codes: from flagReason, else from the sentence the classifier writes (servers before schema 2)', () => {
  // The sentences of classifyLatents (src/engine/classifier/classifier-artifact.ts).
  assert.equal(flagReasonOf({ reason: 'unlike the training cells (novelty score 1.37 > 1)' }), 'NOVEL');
  assert.equal(flagReasonOf({ reason: 'low confidence (0.31 < 0.4)' }), 'LOW_CONFIDENCE');
  // A classify job whose self-check failed (src/engine/classifier/self-check.ts selfCheckReason).
  assert.equal(flagReasonOf({ reason: 'self-check failed for this batch (class mix): the verdict is withheld until the count is reviewed' }), 'SELF_CHECK');
  assert.equal(flagReasonText('SELF_CHECK'), "withheld: the job's self-check failed");
  assert.equal(flagReasonOf({ reason: 'something else' }), 'OTHER');
  assert.equal(flagReasonOf({ reason: null }), 'OTHER');
  assert.equal(flagReasonOf({ flagReason: 'LOW_CONFIDENCE', reason: 'unlike the training cells (2 > 1)' }), 'LOW_CONFIDENCE', 'the code wins');
});

test('counts, shares of the counted cells, the rest apart; a running tally equals the count of the same cells', () => {
  const cells = [
    cell('neutrophil'), cell('neutrophil'), cell('lymphocyte'), cell('neutrophil'), cell('eosinophil'),
    cell(null, { flagged: true, reason: 'low confidence (0.2 < 0.4)' }), cell(null, { flagged: true, flagReason: 'NOVEL' }), cell(null, { flagged: true, flagReason: 'NOVEL' }),
    { cutByBorder: false, prediction: null }, cell('lymphocyte', { cut: true }),
  ];
  const d = differentialCount(cells);
  assert.deepEqual(d, {
    cells: 10, counted: 5,
    byClass: [{ label: 'neutrophil', count: 3, fraction: 0.6 }, { label: 'eosinophil', count: 1, fraction: 0.2 }, { label: 'lymphocyte', count: 1, fraction: 0.2 }],
    flagged: 3, flaggedByReason: [{ reason: 'NOVEL', count: 2 }, { reason: 'LOW_CONFIDENCE', count: 1 }],
    unclassified: 1, cutByBorder: 1,
  });
  const t = new DifferentialTally();
  for (const c of cells) t.add(c);
  assert.deepEqual(t.result(), d);
  assert.deepEqual(differentialCount([]), { cells: 0, counted: 0, byClass: [], flagged: 0, flaggedByReason: [], unclassified: 0, cutByBorder: 0 });
  assert.equal(differentialTable(d), [
    'class                     cells       %',
    'neutrophil                    3    60.0',
    'eosinophil                    1    20.0',
    'lymphocyte                    1    20.0',
    'counted                       5',
    '',
    'flagged apart (not in the percentages): 3',
    '      2  unlike the training cells',
    '      1  low confidence',
    '',
    'found but not classified: 1',
    '',
    'cut by the image border (not counted): 1',
  ].join('\n'));
});
