// COCO uncompressed run-length encoding of binary masks: column-major (Fortran) order, counts alternate
// background/foreground and always start with a background run (0 when the first pixel is foreground).

/** A binary mask, row-major, one byte per pixel (non-zero = foreground). */
/** A box [x1, y1, x2, y2] in image pixels. */
export type Box = [number, number, number, number];

export interface BinaryMask {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Uncompressed COCO RLE: `size` is [height, width]. */
export interface Rle {
  size: [number, number];
  counts: number[];
}

/** Encodes a row-major mask as uncompressed COCO RLE (column-major runs, background first). */
export function rleEncode(mask: BinaryMask): Rle {
  const { width: w, height: h, data } = mask;
  if (data.length !== w * h) throw new Error(`rleEncode: ${data.length} bytes for ${w}x${h}`);
  const counts: number[] = [];
  let current = 0; // 0 = background run
  let run = 0;
  for (let x = 0; x < w; x++) {
    for (let i = x, y = 0; y < h; y++, i += w) {
      const v = data[i] !== 0 ? 1 : 0;
      if (v !== current) {
        counts.push(run);
        run = 0;
        current = v;
      }
      run++;
    }
  }
  counts.push(run);
  return { size: [h, w], counts };
}

/** Decodes uncompressed COCO RLE to a row-major mask (1 = foreground). */
export function rleDecode(rle: Rle): BinaryMask {
  const [h, w] = rle.size;
  const data = new Uint8Array(w * h);
  let pos = 0; // column-major position
  let fg = false;
  for (const c of rle.counts) {
    if (!(Number.isInteger(c) && c >= 0)) throw new Error(`rleDecode: bad count ${c}`);
    if (pos + c > w * h) throw new Error(`rleDecode: counts cover more than ${h}x${w} pixels`);
    if (fg) {
      for (let k = pos; k < pos + c; k++) data[(k % h) * w + Math.floor(k / h)] = 1;
    }
    pos += c;
    fg = !fg;
  }
  if (pos !== w * h) throw new Error(`rleDecode: counts cover ${pos} of ${w * h} pixels`);
  return { width: w, height: h, data };
}

/** Number of foreground pixels of an RLE mask. */
export function rleArea(rle: Rle): number {
  let a = 0;
  for (let i = 1; i < rle.counts.length; i += 2) a += rle.counts[i]!;
  return a;
}
