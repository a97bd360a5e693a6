// The morphology feature stage (a classifier's `features: 'morphology'`): each cell's crop at CROP_SIZE
// through src/imaging/cell-morphology.ts. Cells whose image can no longer be read are left out and named,
// so that one bad file never stops a job.
import type { FeatureMatrix } from '../engine/classifier/feature-matrix.js';
import { boxInCrop, morphologyFeatures, MORPHOLOGY_LENGTH, MORPHOLOGY_SIZE, type BoxInCrop } from '../imaging/cell-morphology.js';
import { squareCrop } from './crop.js';
import type { CellGeometry, CropSource } from './types.js';
import { augmentCrop } from './augment.js';

export interface CellMorphology {
  /** One row per cell computed, in the order of `rows`. */
  x: FeatureMatrix;
  /** Index into the given cells of each row of x. */
  rows: number[];
  /** Cells left out: their index into the given cells, id and why. */
  failed: Array<{ index: number; id: string; reason: string }>;
  /** With `augment`: the augmented copies' rows, and for each the row of x it was made from. */
  augmented?: { x: FeatureMatrix; of: number[] };
}

/** A cell id's seed for its augmented copies (stable across runs and datasets). */
export function cellSeed(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** One crop's morphology values (MORPHOLOGY_LENGTH), the crop at any square size (taken to MORPHOLOGY_SIZE). */
export function morphologyOfCrop(crop: Uint8Array, box: BoxInCrop | undefined, out = new Float64Array(MORPHOLOGY_LENGTH), offset = 0): Float64Array {
  return morphologyFeatures(squareCrop(crop, MORPHOLOGY_SIZE), MORPHOLOGY_SIZE, box, out, offset) as Float64Array;
}

/**
 * Each cell's morphology values. `augment` (training only, augment.ts): also `copies` seeded random transforms of
 * each cell's crop, measured the same way.
 */
export interface MorphologyOptions {
  augment?: { copies: number; seed: number };
  /**
   * Called after every `every` cells (default 100) and at the end with how many are measured: a training job's
   * measuring phase runs for minutes (5,986 cells x 3 crops: 8 min and more), and its progress call is also where a
   * cancel request is read. Returning true stops the measuring (the rows so far are returned; the caller knows why).
   */
  onProgress?: (done: number, total: number) => boolean | void | Promise<boolean | void>;
  every?: number;
}

export async function morphologyOfCells(crops: CropSource, cells: readonly CellGeometry[], opts: MorphologyOptions = {}): Promise<CellMorphology> {
  const values = new Float64Array(cells.length * MORPHOLOGY_LENGTH);
  const rows: number[] = [];
  const failed: CellMorphology['failed'] = [];
  const copies = Math.max(0, Math.floor(opts.augment?.copies ?? 0));
  const aug = new Float64Array(cells.length * copies * MORPHOLOGY_LENGTH);
  const of: number[] = [];
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i]!;
    try {
      const crop = await crops.crop(c, MORPHOLOGY_SIZE);
      const box = boxInCrop(c.box, c.width, c.height);
      const copied = copies > 0 ? await augmentCrop({ crop, size: MORPHOLOGY_SIZE, box }, copies, opts.augment!.seed, cellSeed(c.id)) : [];
      morphologyOfCrop(crop, box, values, rows.length * MORPHOLOGY_LENGTH);
      for (const a of copied) {
        morphologyOfCrop(a.crop, a.box, aug, of.length * MORPHOLOGY_LENGTH);
        of.push(rows.length);
      }
      rows.push(i);
    } catch (err) {
      failed.push({ index: i, id: c.id, reason: (err as Error).message });
    }
    const done = i + 1;
    if (opts.onProgress && (done % (opts.every ?? 100) === 0 || done === cells.length) && (await opts.onProgress(done, cells.length)) === true) break;
  }
  const augmented = copies > 0 ? { augmented: { x: { data: aug.subarray(0, of.length * MORPHOLOGY_LENGTH), rows: of.length, cols: MORPHOLOGY_LENGTH }, of } } : {};
  return { x: { data: values.subarray(0, rows.length * MORPHOLOGY_LENGTH), rows: rows.length, cols: MORPHOLOGY_LENGTH }, rows, failed, ...augmented };
}
