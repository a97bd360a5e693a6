// The stain move of a lab whose reviewed cells trained the classifier (issue 20): its reviewed cells were moved
// onto the source's stain by the offsets its classify job had measured (reviewed-training.ts), so its cells are
// moved by those same offsets, not measured again. Measuring again with the retrained forest estimates the
// lab's class mix with a forest that has seen the lab, and in the review-loop benchmark that sometimes moved a
// lab far off (BCCD, one seed of three: 28 % after 25 reviews; bench/review-loop/RESULTS.md).
import type { CellClassifier } from './classifier/classifier-artifact.js';
import { decideStain, type StainAdaptation, type StainOutcome } from './classifier/stain-adaptation.js';
import { STAIN_SHIFT_LIMIT } from '../evaluation/stain-shift.js';

interface ReviewedMetrics {
  reviewed?: { datasets?: Record<string, { cells?: number; stainFrom?: string | null; offsets?: Array<[number, number]> | null }> };
}

/** decideStain, unless the classifier was trained with this dataset's reviewed cells (then their offsets). */
export function stainForDataset(
  clf: CellClassifier,
  metrics: Record<string, unknown> | null | undefined,
  datasetId: string | undefined,
  rows: readonly ArrayLike<number>[],
  mode: StainAdaptation,
): { stain: StainOutcome; offsets: Map<number, number> } {
  const lab = datasetId ? (metrics as ReviewedMetrics | null)?.reviewed?.datasets?.[datasetId] : undefined;
  if (!lab?.offsets || mode === 'off' || !clf.stain) return decideStain(clf, rows, mode);
  const offsets = new Map<number, number>(lab.offsets.filter((o) => Array.isArray(o) && o.length === 2 && o.every(Number.isFinite)));
  const note = offsets.size
    ? `stain moved as the lab's reviewed cells were when this classifier was trained with them (${lab.stainFrom ?? 'their classify job'})`
    : `stain left as it is, as it was for the lab's reviewed cells when this classifier was trained with them (${lab.stainFrom ?? 'their classify job'})`;
  return {
    stain: { mode, statistic: null, limit: STAIN_SHIFT_LIMIT, centred: offsets.size > 0, cells: rows.length, classMix: null, ...(offsets.size ? { offsets: [...offsets] } : {}), note },
    offsets,
  };
}
