// The crop stage: every crop is cut once at CROP_SIZE from the detection box with AE-CFE's margins
// (AECFE_CROP_MARGINS, src/imaging/crop-geometry.ts), and every smaller size is derived from that one by
// squareCrop, so the autoencoder's image targets and the morphology features see the same pixels whoever
// made the crop (the engine's crop cache or the evaluation's folder loader).
import { cropResize } from '../imaging/image-codec.js';
import { cropBoxWithMargin, resizeCrop } from '../imaging/crop-geometry.js';
import { MORPHOLOGY_SIZE } from '../imaging/cell-morphology.js';
import type { Box } from './types.js';

/** The side crops are cut at: the morphology features' detail (128 px, also the paper preset's image size). */
export const CROP_SIZE = MORPHOLOGY_SIZE;

/** The cell of `box` cut from an encoded image with AE-CFE's margins and resized to size x size RGB. */
export async function cropCell(image: Buffer, box: Readonly<Box>, width: number, height: number, size = CROP_SIZE): Promise<Uint8Array> {
  return cropResize(image, cropBoxWithMargin(box, width, height), size);
}

/**
 * A square RGB crop at `size`: as it is, averaged over k x k blocks when its side is k times `size` (a 128 px
 * crop for the 64 px autoencoder: no aliasing), else resized bilinearly.
 */
export function squareCrop(crop: Uint8Array, size: number, what = 'crop'): Uint8Array {
  if (crop.length === size * size * 3) return crop;
  const side = Math.round(Math.sqrt(crop.length / 3));
  if (side * side * 3 !== crop.length || side < 1) throw new Error(`${what}: the crop (${crop.length} values) is not a square RGB image`);
  if (side > size && side % size === 0) return blockAverage(crop, side, side / size);
  const f = resizeCrop({ data: crop, width: side, height: side, channels: 3 }, size);
  const out = new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) out[i] = Math.round(f[i]! * 255);
  return out;
}

function blockAverage(crop: Uint8Array, side: number, k: number): Uint8Array {
  const size = side / k;
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) s += crop[((y * k + dy) * side + x * k + dx) * 3 + c]!;
        out[(y * size + x) * 3 + c] = Math.round(s / (k * k));
      }
    }
  }
  return out;
}

/** Image targets for the autoencoder: each crop at `size`, scaled to [0, 1], packed HWC. */
export function imageTargets(crops: readonly Uint8Array[], size: number): Float32Array {
  const per = size * size * 3;
  const out = new Float32Array(crops.length * per);
  crops.forEach((c, i) => {
    const sq = squareCrop(c, size);
    for (let j = 0; j < per; j++) out[i * per + j] = sq[j]! / 255;
  });
  return out;
}
