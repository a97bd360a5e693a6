/**
 * Deterministic synthetic "cells" for tests and benchmarks: a pink background with a few red discs (red
 * blood cells) around a purple disc with a darker nucleus (the white cell), and 256x14x14 "instance
 * features" derived from the same scene (fixed random channel mixing of smooth maps of the white cell,
 * so features and image are related, as ROIAlign features and crops are).
 */
import { resizeCrop } from './data.js';
import { Rng } from './rng.js';

export interface SyntheticCells {
  n: number;
  /** n x 14 x 14 x 256 NHWC. */
  features: Float32Array;
  /** n x size x size x 3 in [0, 1]. */
  images: Float32Array;
  imageSize: number;
}

export interface SyntheticOptions {
  featureSize?: number;
  featureChannels?: number;
  /** Shift of the feature values and a colour cast, to fake another lab ("domain"). */
  domainShift?: number;
}

/** `n` synthetic cells; the same seed gives the same cells. */
export function syntheticCells(n: number, imageSize: number, seed: number, opts: SyntheticOptions = {}): SyntheticCells {
  const fsz = opts.featureSize ?? 14;
  const fch = opts.featureChannels ?? 256;
  const shift = opts.domainShift ?? 0;
  const rng = new Rng(seed);
  // Fixed mixing matrix (depends on the channel count only, so domains share it).
  const mixRng = new Rng(12345);
  const BASIS = 6;
  const mix = mixRng.uniform(new Float32Array(fch * BASIS), 1);
  const src = 96;
  const features = new Float32Array(n * fsz * fsz * fch);
  const images = new Float32Array(n * imageSize * imageSize * 3);
  const canvas = new Float32Array(src * src * 3);
  const basis = new Float32Array(BASIS);
  for (let s = 0; s < n; s++) {
    const cx = 0.5 + (rng.next() - 0.5) * 0.2;
    const cy = 0.5 + (rng.next() - 0.5) * 0.2;
    const r = 0.22 + rng.next() * 0.12;
    const nr = r * (0.4 + rng.next() * 0.4);
    const hue = rng.next();
    const reds = Array.from({ length: 3 + Math.floor(rng.next() * 3) }, () => {
      const a = rng.next() * Math.PI * 2;
      const d = r + 0.12 + rng.next() * 0.15;
      return [0.5 + Math.cos(a) * d, 0.5 + Math.sin(a) * d, 0.1 + rng.next() * 0.05] as const;
    });
    for (let y = 0; y < src; y++) {
      for (let x = 0; x < src; x++) {
        const u = (x + 0.5) / src;
        const v = (y + 0.5) / src;
        let c = [0.93 + 0.05 * shift, 0.82, 0.84 - 0.05 * shift];
        for (const [rx, ry, rr] of reds) if ((u - rx) ** 2 + (v - ry) ** 2 < rr * rr) c = [0.85, 0.45, 0.5];
        const d2 = (u - cx) ** 2 + (v - cy) ** 2;
        if (d2 < r * r) c = [0.6 + 0.2 * hue, 0.55, 0.85 - 0.2 * hue];
        if (d2 < nr * nr) c = [0.35 + 0.15 * hue, 0.2, 0.55];
        canvas.set(c, (y * src + x) * 3);
      }
    }
    resizeCrop({ data: canvas, width: src, height: src, channels: 3 }, imageSize, images.subarray(s * imageSize ** 2 * 3, (s + 1) * imageSize ** 2 * 3));
    const fo = s * fsz * fsz * fch;
    for (let y = 0; y < fsz; y++) {
      for (let x = 0; x < fsz; x++) {
        const u = (x + 0.5) / fsz;
        const v = (y + 0.5) / fsz;
        const d = Math.sqrt((u - cx) ** 2 + (v - cy) ** 2);
        basis[0] = 1 / (1 + Math.exp((d - r) * 30));
        basis[1] = 1 / (1 + Math.exp((d - nr) * 30));
        basis[2] = hue * basis[0]!;
        basis[3] = (u - cx) * basis[0]!;
        basis[4] = (v - cy) * basis[0]!;
        basis[5] = 1 - basis[0]!;
        const o = fo + (y * fsz + x) * fch;
        for (let c = 0; c < fch; c++) {
          let acc = shift;
          for (let k = 0; k < BASIS; k++) acc += mix[c * BASIS + k]! * basis[k]!;
          features[o + c] = Math.max(0, acc) + 0.02 * rng.next();
        }
      }
    }
  }
  return { n, features, images, imageSize };
}

/** Relative L2 difference ||got - ref|| / ||ref||: how the autoencoder's tests compare two runs of one computation. */
export function relativeL2(got: Float32Array, ref: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += (got[i]! - ref[i]!) ** 2;
    den += ref[i]! ** 2;
  }
  return Math.sqrt(num / den);
}
