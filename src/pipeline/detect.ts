// The detect stage: a detector's cells for one image, and which of them the later stages keep (all, or
// the top-scoring one: AE-CFE uses one cell per image, docs/aecfe-method.md §2).
import type { Detection, DetectedCell } from '../engine/detector/detector.js';
import { cropCell, CROP_SIZE } from './crop.js';
import type { Box } from './types.js';

/** What the stage needs of a detector (the engine's resident one, or one the CLI loaded). */
export interface DetectorLike {
  detect(image: Buffer): Promise<Detection>;
}

/** The cells kept of one detection: every cell, or only the highest-scoring one (`topOnly`). */
export function keptCells<C extends Pick<DetectedCell, 'score'>>(cells: readonly C[], topOnly: boolean): C[] {
  if (!topOnly || cells.length <= 1) return [...cells];
  let top = cells[0]!;
  for (const c of cells) if (c.score > top.score) top = c;
  return [top];
}

/** What detection leaves of one image for the evaluation: its size, and its top cell with the crop, or none. */
export interface TopCell {
  width: number;
  height: number;
  cellCount: number;
  top: { box: Box; score: number; features: Float32Array; crop: Uint8Array } | null;
}

/** Detects one image's cells and keeps the top-scoring one with its crop at `size` (default CROP_SIZE). */
export async function detectTopCell(detector: DetectorLike, image: Buffer, size = CROP_SIZE): Promise<TopCell> {
  const det = await detector.detect(image);
  const [top] = keptCells(det.cells, true);
  if (!top) return { width: det.width, height: det.height, cellCount: 0, top: null };
  const box: Box = [top.box[0], top.box[1], top.box[2], top.box[3]];
  let crop: Uint8Array;
  try {
    crop = await cropCell(image, box, det.width, det.height, size);
  } catch (err) {
    throw new Error(`crop: ${(err as Error).message}`);
  }
  return { width: det.width, height: det.height, cellCount: det.cells.length, top: { box, score: top.score, features: top.features, crop } };
}
