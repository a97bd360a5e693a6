// What a classify job does about neighbour consensus (src/engine/classifier/neighbour-consensus.ts): whether it applies (morphology
// classifiers, where it was measured, and enough cells), and what it changed, for the job's result.
import type { FeatureMatrix } from '../engine/classifier/feature-matrix.js';
import { CONSENSUS_DEFAULTS, neighbourConsensus } from '../engine/classifier/neighbour-consensus.js';
import { argmaxRows } from '../engine/classifier/random-forest.js';

/** Fewer cells than this are too few to be each other's neighbours: consensus is then skipped. */
export const MIN_CONSENSUS_CELLS = 20;

/** The job result's `consensus`. */
export interface ConsensusOutcome {
  applied: boolean;
  /** Neighbours per cell and the share of their mean in a cell's probabilities. */
  k: number;
  weight: number;
  cells: number;
  /** Cells whose most probable class the consensus changed. */
  changed: number;
  note: string;
}

/** The probabilities after consensus (or as they were), and what was done. */
export function decideConsensus(
  x: FeatureMatrix,
  proba: Float64Array,
  classes: number,
  on: boolean,
  features: 'latent' | 'morphology',
): { consensus: ConsensusOutcome; proba: Float64Array } {
  const { k, weight } = CONSENSUS_DEFAULTS;
  const skip = (note: string) => ({ consensus: { applied: false, k, weight, cells: x.rows, changed: 0, note }, proba });
  if (!on) return skip('no neighbour consensus (neighbourConsensus false)');
  if (features !== 'morphology') return skip('no neighbour consensus: only morphology classifiers use it (it was not measured on latents)');
  if (x.rows < MIN_CONSENSUS_CELLS) return skip(`no neighbour consensus: ${x.rows} cells are too few (at least ${MIN_CONSENSUS_CELLS})`);
  const after = neighbourConsensus(x, proba, classes, { k, weight });
  const a = argmaxRows(proba, classes);
  const b = argmaxRows(after, classes);
  let changed = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) changed++;
  return {
    consensus: { applied: true, k, weight, cells: x.rows, changed, note: `neighbour consensus over ${x.rows} cells (${k} neighbours, weight ${weight}) changed ${changed} verdict(s)` },
    proba: after,
  };
}
