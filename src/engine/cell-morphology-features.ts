// The morphology feature set of stored cells (a classifier's `features: 'morphology'`): each cell's crop at
// 128 px (cached by TrainingData) through src/imaging/cell-morphology.ts. Cells whose image can no longer be
// read are left out and named, so that one bad file never stops a job.
import type { FeatureMatrix } from './classifier/feature-matrix.js';
import type { CellGeometry, TrainingData } from './training-data.js';
import { boxInCrop, morphologyFeatures, MORPHOLOGY_LENGTH, MORPHOLOGY_SIZE } from '../imaging/cell-morphology.js';

export interface CellMorphology {
  /** One row per cell computed, in the order of `rows`. */
  x: FeatureMatrix;
  /** Index into the given cells of each row of x. */
  rows: number[];
  /** Cells left out: their index into the given cells, id and why. */
  failed: Array<{ index: number; id: string; reason: string }>;
}

export async function morphologyOfCells(data: TrainingData, cells: readonly CellGeometry[]): Promise<CellMorphology> {
  const values = new Float32Array(cells.length * MORPHOLOGY_LENGTH);
  const rows: number[] = [];
  const failed: CellMorphology['failed'] = [];
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i]!;
    try {
      const crop = await data.crop(c, MORPHOLOGY_SIZE);
      morphologyFeatures(crop, MORPHOLOGY_SIZE, boxInCrop(c.box, c.width, c.height), values, rows.length * MORPHOLOGY_LENGTH);
      rows.push(i);
    } catch (err) {
      failed.push({ index: i, id: c.id, reason: (err as Error).message });
    }
  }
  return { x: { data: values.subarray(0, rows.length * MORPHOLOGY_LENGTH), rows: rows.length, cols: MORPHOLOGY_LENGTH }, rows, failed };
}
