// Synthetic labs whose images go through the detector again (issue 17). The crop-level synthetic labs
// (synthetic-labs.ts) move the detector's box with the crop, so they test the features and the stain step only. The
// third lab of issue 17 had small frames filled by the cell, and the detector's masks fitted it worse there (mean IoU
// 0.80 against 0.92 on Zheng DS2): "tight crops are a shift for segmentation too". Here a held-out source image is
// cut to a tight square frame around its cell, given a lab's colours, and saved as a JPEG. The detector then finds
// the cell in it and the crop is cut from its box, as for any image a lab uploads.
import { cropResize, encodeJpeg } from '../imaging/image-codec.js';
import { boxInCrop, type BoxInCrop } from '../imaging/cell-morphology.js';
import { applyLab, hueShift, type LabTransform } from '../pipeline/crop-transforms.js';
import { detectTopCell, type DetectorLike } from '../pipeline/detect.js';
import { createRng, mixSeed } from '../engine/classifier/rng.js';
import { THIRD_LAB_MIX, uniform } from './synthetic-labs.js';

/** One framed lab: how tight its frames are, the colours it gives them, and the JPEG quality it saves them at. */
export interface FramedLabSpec {
  name: string;
  description: string;
  /** The frame's side over the longer side of the cell's box (1: the box itself; the source's images are about 2.5). */
  frame: number;
  transforms: LabTransform[];
  quality: number;
  mix: Readonly<Record<string, number>>;
}

/** A source image and the detector's box of its cell there, in pixels. */
export interface FramedSource {
  image: Buffer;
  box: readonly [number, number, number, number];
  width: number;
  height: number;
}

/** The framed labs of one seed: tight frames alone, and issue 17's third lab as described, re-detected. */
export function framedLabs(seed: number): FramedLabSpec[] {
  const rng = createRng(mixSeed(seed, 0xf4a3));
  const u = (lo: number, hi: number) => uniform(rng, lo, hi);
  const third = THIRD_LAB_MIX;
  return [
    { name: 'det-tight', description: 'tight frames (the cell fills the frame), re-detected', frame: u(1.05, 1.2), transforms: [], quality: 90, mix: third },
    {
      name: 'det-third-lab',
      description: "issue 17's third lab as described, re-detected: tight frames, a rapid stain, warm white balance, a yellowish background, JPEG",
      frame: u(1.05, 1.2),
      transforms: [
        { kind: 'colour_matrix', m: hueShift(u(10, 18)) },
        { kind: 'white_balance', gains: [u(1.0, 1.08), u(0.97, 1.02), u(0.78, 0.9)] },
        { kind: 'background', colour: [240, 232, 185], strength: 0.7 },
      ],
      quality: 50,
      mix: third,
    },
  ];
}

/**
 * The square frame around a box, `frame` times its longer side, kept inside the image (smaller where it must be), in
 * whole pixels (what cropResize cuts, so that the box moved into the frame is where the pixels are).
 */
export function frameAround(box: readonly [number, number, number, number], width: number, height: number, frame: number): [number, number, number, number] {
  const side = Math.max(1, Math.min(Math.floor(width), Math.floor(height), Math.round(frame * Math.max(box[2] - box[0], box[3] - box[1]))));
  const cx = (box[0] + box[2]) / 2;
  const cy = (box[1] + box[3]) / 2;
  const x0 = Math.min(Math.max(0, Math.round(cx - side / 2)), Math.floor(width) - side);
  const y0 = Math.min(Math.max(0, Math.round(cy - side / 2)), Math.floor(height) - side);
  return [x0, y0, x0 + side, y0 + side];
}

export interface FramedCell {
  /** The detector's crop of the framed image and its box in that crop; null when it found no cell there. */
  crop: Uint8Array | null;
  box: BoxInCrop | null;
  /** Intersection over union of the box found in the frame and the source box moved into it (how well it re-found the cell). */
  iou: number | null;
}

/** One source cell through a framed lab: framed, coloured, saved as JPEG, detected again, cropped at `cropSize`. */
export async function frameCell(src: FramedSource, spec: FramedLabSpec, detector: DetectorLike, cropSize: number, seed: number): Promise<FramedCell> {
  const rect = frameAround(src.box, src.width, src.height, spec.frame);
  const side = rect[2] - rect[0];
  // The source box in the frame's pixels, clipped to the frame (a frame capped by the image may cut the box).
  const clip = (v: number) => Math.min(side, Math.max(0, v));
  const inFrame = [clip(src.box[0] - rect[0]), clip(src.box[1] - rect[1]), clip(src.box[2] - rect[0]), clip(src.box[3] - rect[1])] as const;
  const pixels = await cropResize(src.image, rect, side);
  const inFrameShare: BoxInCrop = [inFrame[0] / side, inFrame[1] / side, inFrame[2] / side, inFrame[3] / side];
  const coloured = await applyLab({ crop: pixels, size: side, box: inFrameShare }, spec.transforms, seed);
  const top = await detectTopCell(detector, await encodeJpeg(coloured.crop, side, side, spec.quality), cropSize);
  if (!top.top) return { crop: null, box: null, iou: null };
  return { crop: top.top.crop, box: boxInCrop(top.top.box, top.width, top.height), iou: iou(top.top.box, inFrame) };
}

function iou(a: readonly number[], b: readonly number[]): number {
  const w = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const h = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = w * h;
  const area = (r: readonly number[]) => (r[2]! - r[0]!) * (r[3]! - r[1]!);
  return inter / Math.max(1e-9, area(a) + area(b) - inter);
}
