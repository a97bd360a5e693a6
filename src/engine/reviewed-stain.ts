// The stain move of a lab whose reviewed cells trained the classifier (issue 20): its reviewed cells were moved
// onto the source's stain by the offsets its classify job had measured (reviewed-training.ts), so its cells are
// moved by those same offsets, not measured again. Measuring again with the retrained forest estimates the
// lab's class mix with a forest that has seen the lab, and in the review-loop benchmark that sometimes moved a
// lab far off (BCCD, one seed of three: 28 % after 25 reviews; bench/review-loop/RESULTS.md).
import type { CellClassifier } from './classifier/classifier-artifact.js';
import type { LabStainOutcome } from '../pipeline/lab-classification.js';
import type { StainAdaptation } from './classifier/stain-steps.js';
import { STAIN_SHIFT_LIMIT } from './classifier/stain-shift.js';

interface ReviewedMetrics {
  reviewed?: { datasets?: Record<string, { cells?: number; stainFrom?: string | null; offsets?: Array<[number, number]> | null }> };
}

/**
 * The offsets (and the job result's `stain`) for classifying `datasetId` with this classifier when it was
 * trained with that dataset's reviewed morphology cells; null otherwise (the stain step decides as usual).
 */
export function reviewedLabStain(
  clf: CellClassifier,
  metrics: Record<string, unknown> | null | undefined,
  datasetId: string | undefined,
  cells: number,
  mode: StainAdaptation,
): { stain: LabStainOutcome; offsets: Map<number, number> } | null {
  const lab = datasetId ? (metrics as ReviewedMetrics | null)?.reviewed?.datasets?.[datasetId] : undefined;
  if (!lab?.offsets || mode === 'off' || !clf.stain || clf.features !== 'morphology') return null;
  const offsets = new Map<number, number>(lab.offsets.filter((o) => Array.isArray(o) && o.length === 2 && o.every(Number.isFinite)));
  const from = lab.stainFrom ?? 'their classify job';
  const note = offsets.size
    ? `stain moved as the lab's reviewed cells were when this classifier was trained with them (${from})`
    : `stain left as it is, as it was for the lab's reviewed cells when this classifier was trained with them (${from})`;
  return {
    stain: { mode, step: offsets.size > 0 ? 'centred' : 'none', statistic: null, limit: STAIN_SHIFT_LIMIT, centred: offsets.size > 0, cells, classMix: null, estimatedMix: null, ...(offsets.size ? { offsets: [...offsets] } : {}), note },
    offsets,
  };
}
