// Pasting Mask R-CNN's box-relative mask probabilities into the image, exactly as torchvision 0.14's
// `paste_masks_in_image(masks, boxes, (h, w), padding=1)` followed by `> 0.5` (roi_heads.py).
import type { BinaryMask, Box } from '../../imaging/rle.js';

export type { Box };

/**
 * Pastes one m x m probability grid (row-major) into a `width` x `height` binary mask.
 * The grid is padded with a 1-pixel zero border, the box is expanded by (m + 2) / m around its centre
 * and truncated to integers, the padded grid is resized bilinearly (half-pixel centres, like
 * F.interpolate(align_corners=False)) to the integer box and thresholded (> threshold).
 */
export function pasteMask(probs: Float32Array, m: number, box: Readonly<Box>, width: number, height: number, threshold = 0.5): BinaryMask {
  if (probs.length !== m * m) throw new Error(`pasteMask: ${probs.length} values for a ${m}x${m} grid`);
  const out = new Uint8Array(width * height);
  const pm = m + 2;
  const scale = pm / m;
  const wHalf = (box[2] - box[0]) * 0.5 * scale;
  const hHalf = (box[3] - box[1]) * 0.5 * scale;
  const xc = (box[2] + box[0]) * 0.5;
  const yc = (box[3] + box[1]) * 0.5;
  // .to(torch.int64) truncates toward zero
  const bx0 = Math.trunc(xc - wHalf);
  const bx1 = Math.trunc(xc + wHalf);
  const by0 = Math.trunc(yc - hHalf);
  const by1 = Math.trunc(yc + hHalf);
  const w = Math.max(bx1 - bx0 + 1, 1);
  const h = Math.max(by1 - by0 + 1, 1);
  const x0 = Math.max(bx0, 0);
  const x1 = Math.min(bx1 + 1, width);
  const y0 = Math.max(by0, 0);
  const y1 = Math.min(by1 + 1, height);
  if (x1 <= x0 || y1 <= y0) return { width, height, data: out };
  // padded grid value at (py, px): zero on the border
  const at = (py: number, px: number): number => (py <= 0 || px <= 0 || py >= pm - 1 || px >= pm - 1 ? 0 : probs[(py - 1) * m + (px - 1)]!);
  const sx = pm / w;
  const sy = pm / h;
  const cols = x1 - x0;
  const xa = new Int32Array(cols);
  const xb = new Int32Array(cols);
  const xl = new Float64Array(cols);
  for (let x = x0; x < x1; x++) {
    const dst = x - bx0;
    const src = Math.max(sx * (dst + 0.5) - 0.5, 0);
    const i0 = Math.floor(src);
    xa[x - x0] = i0;
    xb[x - x0] = i0 < pm - 1 ? i0 + 1 : i0;
    xl[x - x0] = src - i0;
  }
  for (let y = y0; y < y1; y++) {
    const dst = y - by0;
    const src = Math.max(sy * (dst + 0.5) - 0.5, 0);
    const j0 = Math.floor(src);
    const j1 = j0 < pm - 1 ? j0 + 1 : j0;
    const ly = src - j0;
    const row = y * width;
    for (let k = 0; k < cols; k++) {
      const a = xa[k]!;
      const b = xb[k]!;
      const lx = xl[k]!;
      const top = at(j0, a) * (1 - lx) + at(j0, b) * lx;
      const bot = at(j1, a) * (1 - lx) + at(j1, b) * lx;
      if (top * (1 - ly) + bot * ly > threshold) out[row + x0 + k] = 1;
    }
  }
  return { width, height, data: out };
}
