// A PNG of one detected cell with its mask outline, for the dashboard and GraphQL's crop URL. (The
// autoencoder's image target is cut by imaging/image-codec.ts cropResize, see src/pipeline/crop.ts.)
import { decodeRgb, encodePng } from './image-codec.js';
import { rleDecode, type Box, type Rle } from './rle.js';

export interface RgbImage {
  /** Interleaved RGB, row-major. */
  data: Uint8Array;
  width: number;
  height: number;
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
