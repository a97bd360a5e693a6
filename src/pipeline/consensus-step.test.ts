import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideConsensus, MIN_CONSENSUS_CELLS } from './consensus-step.js';
import { neighbourConsensus } from '../engine/classifier/neighbour-consensus.js';

// Two groups of cells along one value; the forest wavers (0.45 for the group's class) on every fourth cell.
function cells(n: number) {
  const data = new Float64Array(n);
  const proba = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const cls = i < n / 2 ? 0 : 1;
    data[i] = cls * 100 + i;
    const pr = i % 4 === 0 ? 0.45 : 0.8;
    proba[2 * i + cls] = pr;
    proba[2 * i + 1 - cls] = 1 - pr;
  }
  return { x: { data, rows: n, cols: 1 }, proba };
}

test('decideConsensus: applied to enough cells, it returns the consensus and counts the verdicts it changed', () => {
  const { x, proba } = cells(40);
  const { consensus, proba: after } = decideConsensus(x, proba, 2, true, 'morphology');
  assert.deepEqual(Array.from(after), Array.from(neighbourConsensus(x, proba, 2, { k: 5, weight: 0.5 })));
  assert.equal(consensus.applied, true);
  assert.equal(consensus.cells, 40);
  // The ten wavering cells sit among cells of their own group: each now reads as its group.
  assert.equal(consensus.changed, 10);
  assert.match(consensus.note, /neighbour consensus over 40 cells \(5 neighbours, weight 0.5\) changed 10 verdict\(s\)/);
});

test('decideConsensus: switched off, or too few cells, the probabilities are left as they are and the result says why', () => {
  const { x, proba } = cells(40);
  const off = decideConsensus(x, proba, 2, false, 'morphology');
  assert.equal(off.proba, proba);
  assert.equal(off.consensus.applied, false);
  assert.match(off.consensus.note, /neighbourConsensus false/);
  const few = cells(MIN_CONSENSUS_CELLS - 1);
  const small = decideConsensus(few.x, few.proba, 2, true, 'morphology');
  assert.equal(small.proba, few.proba);
  assert.equal(small.consensus.changed, 0);
  assert.match(small.consensus.note, /19 cells are too few \(at least 20\)/);
  const latent = decideConsensus(x, proba, 2, true, 'latent');
  assert.equal(latent.proba, proba);
  assert.match(latent.consensus.note, /only morphology classifiers/);
});
