// Images of one detected cell: the AE-CFE image target (crop with margins, resized) and a PNG overlay
// with the mask outline for the dashboard and GraphQL's crop URL.
import { decodeRgb, encodePng } from '../../imaging/image-codec.js';
import { cropBoxWithMargin, resizeCrop } from '../autoencoder/data.js';
import { rleDecode, type Rle } from './rle.js';
import type { Box } from './mask-paste.js';

export interface RgbImage {
  /** Interleaved RGB, row-major. */
  data: Uint8Array;
  width: number;
  height: number;
}

export interface CellCropOptions {
  /** Pixels added before the box (left, top); aecfe-method.md "image target": 10. */
  marginBefore?: number;
  /** Pixels added after the box (right, bottom); aecfe-method.md "image target": 20. */
  marginAfter?: number;
  /** Output side (aecfe-method.md: 128). */
  size?: number;
}

/** The AE-CFE image target of one cell: box + margins (clipped to the image), resized bilinearly to size x size. */
export async function cellCrop(image: Buffer, box: Readonly<Box>, opts: CellCropOptions = {}): Promise<RgbImage> {
  return (await cellCrops(image, [box], opts))[0]!;
}

/** cellCrop for several boxes of one image, decoding it once. */
export async function cellCrops(image: Buffer, boxes: readonly Readonly<Box>[], opts: CellCropOptions = {}): Promise<RgbImage[]> {
  const { marginBefore = 10, marginAfter = 20, size = 128 } = opts;
  const rgb = await decodeRgb(image);
  return boxes.map((box) => {
    const [x0, y0, x1, y1] = cropBoxWithMargin([box[0], box[1], box[2], box[3]], rgb.width, rgb.height, marginBefore, marginAfter);
    const region = extract(rgb, x0, y0, x1 - x0, y1 - y0);
    const f = resizeCrop({ ...region, channels: 3 }, size);
    const data = new Uint8Array(f.length);
    for (let i = 0; i < f.length; i++) data[i] = Math.round(f[i]! * 255);
    return { data, width: size, height: size };
  });
}

export interface OverlayOptions {
  /** Pixels around the box (clipped to the image); default 16. */
  margin?: number;
  /** Outline colour, RGB; default yellow. */
  color?: [number, number, number];
}

/** A PNG of the region around one cell with its mask outline drawn. */
export async function overlayPng(image: Buffer, cell: { box: Readonly<Box>; mask: Rle }, opts: OverlayOptions = {}): Promise<Buffer> {
  const { margin = 16, color = [255, 230, 0] } = opts;
  const rgb = await decodeRgb(image);
  const [mh, mw] = cell.mask.size;
  if (mh !== rgb.height || mw !== rgb.width) throw new Error(`overlayPng: mask ${mw}x${mh} does not fit image ${rgb.width}x${rgb.height}`);
  const mask = rleDecode(cell.mask).data;
  const x0 = Math.max(0, Math.floor(cell.box[0]) - margin);
  const y0 = Math.max(0, Math.floor(cell.box[1]) - margin);
  const x1 = Math.min(rgb.width, Math.ceil(cell.box[2]) + margin);
  const y1 = Math.min(rgb.height, Math.ceil(cell.box[3]) + margin);
  const out = extract(rgb, x0, y0, Math.max(1, x1 - x0), Math.max(1, y1 - y0));
  const W = rgb.width;
  const H = rgb.height;
  const fg = (x: number, y: number) => x >= 0 && y >= 0 && x < W && y < H && mask[y * W + x] === 1;
  for (let y = y0; y < y0 + out.height; y++) {
    for (let x = x0; x < x0 + out.width; x++) {
      // outline: foreground pixels with a background 4-neighbour
      if (!fg(x, y) || (fg(x - 1, y) && fg(x + 1, y) && fg(x, y - 1) && fg(x, y + 1))) continue;
      const o = ((y - y0) * out.width + (x - x0)) * 3;
      out.data[o] = color[0];
      out.data[o + 1] = color[1];
      out.data[o + 2] = color[2];
    }
  }
  return encodePng(out.data, out.width, out.height, 3);
}

function extract(rgb: RgbImage, x0: number, y0: number, w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) data.set(rgb.data.subarray(((y0 + y) * rgb.width + x0) * 3, ((y0 + y) * rgb.width + x0 + w) * 3), y * w * 3);
  return { data, width: w, height: h };
}
