// A cell's crop: the box with AE-CFE's margins around the detection, and the bilinear resize of a crop
// (plain TypedArray code; sharp's crop-and-resize is image-codec.ts).

/**
 * AE-CFE's crop margins around a detection box, in pixels: 10 before (left, top) and 20 after (right, bottom),
 * as the reference dataloader crops its image targets (docs/aecfe-method.md §3). Named once here:
 * the jobs, the evaluation and the morphology features all crop with it.
 */
export const AECFE_CROP_MARGINS = { before: 10, after: 20 } as const;

export interface CropImage {
  /** Interleaved pixels, row-major, `channels` values per pixel. Uint8 data is divided by 255. */
  data: Uint8Array | Uint8ClampedArray | Float32Array;
  width: number;
  height: number;
  /** 3 (RGB), 4 (RGBA: alpha dropped) or 1 (grey: replicated). */
  channels: number;
}

/**
 * Resize a cell crop to `size` x `size` x 3 in [0, 1] (float RGB, HWC), with bilinear interpolation and
 * half-pixel centres like OpenCV's INTER_LINEAR (the reference's cv2.resize). Uint8 input is scaled by
 * 1/255; float input is taken as already in [0, 1] (clamped).
 */
export function resizeCrop(img: CropImage, size: number, out = new Float32Array(size * size * 3)): Float32Array {
  const { data, width: w, height: h, channels: c } = img;
  if (!(w >= 1 && h >= 1 && (c === 1 || c === 3 || c === 4))) throw new Error(`resizeCrop: bad image ${w}x${h}x${c}`);
  if (data.length !== w * h * c) throw new Error(`resizeCrop: ${data.length} values for ${w}x${h}x${c}`);
  if (out.length !== size * size * 3) throw new Error('resizeCrop: output length mismatch');
  const scale = data instanceof Float32Array ? 1 : 1 / 255;
  const sy = h / size;
  const sx = w / size;
  const xi0 = new Int32Array(size);
  const xi1 = new Int32Array(size);
  const xw = new Float32Array(size);
  for (let x = 0; x < size; x++) {
    let fx = (x + 0.5) * sx - 0.5;
    if (fx < 0) fx = 0;
    let x0 = Math.floor(fx);
    if (x0 > w - 1) x0 = w - 1;
    xi0[x] = x0;
    xi1[x] = Math.min(x0 + 1, w - 1);
    xw[x] = Math.min(fx - x0, 1);
  }
  const ch = c === 1 ? [0, 0, 0] : [0, 1, 2];
  for (let y = 0; y < size; y++) {
    let fy = (y + 0.5) * sy - 0.5;
    if (fy < 0) fy = 0;
    let y0 = Math.floor(fy);
    if (y0 > h - 1) y0 = h - 1;
    const y1 = Math.min(y0 + 1, h - 1);
    const wy = Math.min(fy - y0, 1);
    for (let x = 0; x < size; x++) {
      const a = (y0 * w + xi0[x]!) * c;
      const b = (y0 * w + xi1[x]!) * c;
      const d = (y1 * w + xi0[x]!) * c;
      const e = (y1 * w + xi1[x]!) * c;
      const wx = xw[x]!;
      const o = (y * size + x) * 3;
      for (let k = 0; k < 3; k++) {
        const j = ch[k]!;
        const top = data[a + j]! + (data[b + j]! - data[a + j]!) * wx;
        const bot = data[d + j]! + (data[e + j]! - data[d + j]!) * wx;
        const v = (top + (bot - top) * wy) * scale;
        out[o + k] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
    }
  }
  return out;
}

/**
 * The crop box of the reference dataloader: AECFE_CROP_MARGINS around the detection box, clipped to the
 * image. Box and result are [x0, y0, x1, y1] in pixels (x1, y1 exclusive).
 */
export function cropBoxWithMargin(
  box: readonly [number, number, number, number],
  imageWidth: number,
  imageHeight: number,
  before = AECFE_CROP_MARGINS.before,
  after = AECFE_CROP_MARGINS.after,
): [number, number, number, number] {
  const x0 = Math.max(0, Math.trunc(box[0]) - before);
  const y0 = Math.max(0, Math.trunc(box[1]) - before);
  const x1 = Math.min(imageWidth, Math.trunc(box[2]) + after);
  const y1 = Math.min(imageHeight, Math.trunc(box[3]) + after);
  return [x0, y0, Math.max(x1, x0 + 1), Math.max(y1, y0 + 1)];
}
