// The morphology feature stage (a classifier's `features: 'morphology'`): each cell's crop at CROP_SIZE
// through src/imaging/cell-morphology.ts. Cells whose image can no longer be read are left out and named,
// so that one bad file never stops a job.
import type { FeatureMatrix } from '../engine/classifier/feature-matrix.js';
import { boxInCrop, morphologyFeatures, MORPHOLOGY_LENGTH, MORPHOLOGY_SIZE, type BoxInCrop } from '../imaging/cell-morphology.js';
import { squareCrop } from './crop.js';
import type { CellGeometry, CropSource } from './types.js';

export interface CellMorphology {
  /** One row per cell computed, in the order of `rows`. */
  x: FeatureMatrix;
  /** Index into the given cells of each row of x. */
  rows: number[];
  /** Cells left out: their index into the given cells, id and why. */
  failed: Array<{ index: number; id: string; reason: string }>;
}

/** One crop's morphology values (MORPHOLOGY_LENGTH), the crop at any square size (taken to MORPHOLOGY_SIZE). */
export function morphologyOfCrop(crop: Uint8Array, box: BoxInCrop | undefined, out = new Float64Array(MORPHOLOGY_LENGTH), offset = 0): Float64Array {
  return morphologyFeatures(squareCrop(crop, MORPHOLOGY_SIZE), MORPHOLOGY_SIZE, box, out, offset) as Float64Array;
}

export async function morphologyOfCells(crops: CropSource, cells: readonly CellGeometry[]): Promise<CellMorphology> {
  const values = new Float64Array(cells.length * MORPHOLOGY_LENGTH);
  const rows: number[] = [];
  const failed: CellMorphology['failed'] = [];
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i]!;
    try {
      const crop = await crops.crop(c, MORPHOLOGY_SIZE);
      morphologyOfCrop(crop, boxInCrop(c.box, c.width, c.height), values, rows.length * MORPHOLOGY_LENGTH);
      rows.push(i);
    } catch (err) {
      failed.push({ index: i, id: c.id, reason: (err as Error).message });
    }
  }
  return { x: { data: values.subarray(0, rows.length * MORPHOLOGY_LENGTH), rows: rows.length, cols: MORPHOLOGY_LENGTH }, rows, failed };
}
