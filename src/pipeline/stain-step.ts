// What a classify job does about a lab's stain with a morphology classifier: compare the cells' stain with
// the training cells' (the classifier's stain reference) and move it onto theirs when it differs by more
// than a class mix explains, weighted to the cells' estimated class mix (src/engine/classifier/stain-shift.ts;
// measured in docs/results.md, morphology_adaptive).
import type { CellClassifier } from '../engine/classifier/classifier-artifact.js';
import { adaptStain, STAIN_SHIFT_LIMIT } from '../engine/classifier/stain-shift.js';
import { mixClassifiers } from '../engine/classifier/stain-mix-forest.js';

/** Fewer cells than this give no trustworthy stain medians: 'auto' then leaves them as they are. */
export const MIN_STAIN_CELLS = 30;

export type StainAdaptation = 'auto' | 'off' | 'always';

/** What the job did about the cells' stain (its result's `stain`). */
export interface StainOutcome {
  mode: StainAdaptation;
  /** Median stain shift in training within-class standard deviations; null when not measured. */
  statistic: number | null;
  limit: number;
  centred: boolean;
  cells: number;
  /** When centred under the cells' estimated class mix: each class's estimated share; else null. */
  classMix: Record<string, number> | null;
  /** When centred: [column, what was added] per stain column, so that later jobs on the same lab can apply it. */
  offsets?: Array<[number, number]>;
  note: string;
}

/** Whether (and by how much) to move the measured cells' stain-dependent values onto the training medians. */
export function decideStain(clf: CellClassifier, rows: readonly ArrayLike<number>[], mode: StainAdaptation): { stain: StainOutcome; offsets: Map<number, number> } {
  const none = (statistic: number | null, note: string) => ({ stain: { mode, statistic, limit: STAIN_SHIFT_LIMIT, centred: false, cells: rows.length, classMix: null, note }, offsets: new Map<number, number>() });
  if (!clf.stain) return none(null, 'stain not adapted: the classifier has no stain reference (trained before it existed)');
  if (mode === 'off') return none(null, 'stain not adapted (stainAdaptation OFF)');
  if (rows.length === 0) return none(null, 'stain not adapted: no cell could be measured');
  if (mode === 'auto' && rows.length < MIN_STAIN_CELLS) return none(null, `stain not adapted: ${rows.length} cells are too few to measure it (at least ${MIN_STAIN_CELLS})`);
  // Files from before the class-mix step have no shape forest: their cells go onto the plain training medians.
  const classifiers = clf.shapeForest && clf.stain.mix ? mixClassifiers(clf.shapeForest, clf.forest, clf.stain) : null;
  const sh = adaptStain(rows, clf.stain, classifiers, mode === 'always' ? -1 : STAIN_SHIFT_LIMIT);
  const classMix = sh.mix ? Object.fromEntries(clf.stain.mix!.classes.map((c, k) => [c, sh.mix![k]!])) : null;
  const mixNote = classMix ? ` under their estimated class mix (${Object.entries(classMix).map(([c, v]) => `${c} ${Math.round(100 * v)} %`).join(', ')})` : '';
  const note = sh.centre
    ? `stain moved onto the training cells'${mixNote} (shift ${sh.statistic.toFixed(2)} within-class SDs${mode === 'always' ? ', stainAdaptation ALWAYS' : ` > ${STAIN_SHIFT_LIMIT}`})`
    : `stain left as it is (shift ${sh.statistic.toFixed(2)} within-class SDs <= ${STAIN_SHIFT_LIMIT})`;
  return {
    stain: { mode, statistic: sh.statistic, limit: STAIN_SHIFT_LIMIT, centred: sh.centre, cells: rows.length, classMix, ...(sh.centre ? { offsets: [...sh.offsets] } : {}), note },
    offsets: sh.offsets,
  };
}
