// A deterministic stand-in for the WBC detector, for tests and dry runs of the evaluation before a real
// model exists: one "cell" per image, a box over the central part of the image, and "instance features"
// made from the image's 14x14 thumbnail (each of the 256 channels a fixed mix of R, G, B). Not a detector.
import { decodeRgb } from '../../src/imaging/image-codec.js';
import type { CellDetector, DetectedCell } from '../../src/engine/resident-models.js';
import { FEATURE_CHANNELS, FEATURE_LENGTH, FEATURE_SIZE } from '../../src/engine/autoencoder/layout.js';

export interface FakeDetectorOptions {
  /** Images whose bytes' length modulo this equals 0 give no detection (to exercise the counting); 0 = never. */
  missEvery?: number;
  /** Return no cell when this returns true for the image bytes. */
  miss?: (image: Buffer) => boolean;
  /** Fraction of each side the box covers, centred. Default 0.6. */
  boxFraction?: number;
}

export function fakeDetector(opts: FakeDetectorOptions = {}): CellDetector & { calls: number } {
  const frac = opts.boxFraction ?? 0.6;
  const det: CellDetector & { calls: number } = {
    calls: 0,
    async detect(image: Buffer) {
      det.calls++;
      const full = await decodeRgb(image);
      const { width, height } = full;
      if (opts.miss?.(image) || (opts.missEvery && image.length % opts.missEvery === 0)) return { width, height, cells: [] };
      const thumb = await decodeRgb(image, { width: FEATURE_SIZE, height: FEATURE_SIZE });
      const features = new Float32Array(FEATURE_LENGTH);
      const hw = FEATURE_SIZE * FEATURE_SIZE;
      for (let c = 0; c < FEATURE_CHANNELS; c++) {
        const w = [Math.sin(c + 1), Math.cos(2 * c + 1), Math.sin(3 * c + 2)];
        for (let p = 0; p < hw; p++) {
          const px = thumb.data.subarray(3 * p, 3 * p + 3);
          features[c * hw + p] = Math.max(0, (w[0]! * px[0]! + w[1]! * px[1]! + w[2]! * px[2]!) / 255);
        }
      }
      const bw = width * frac;
      const bh = height * frac;
      const box: [number, number, number, number] = [(width - bw) / 2, (height - bh) / 2, (width + bw) / 2, (height + bh) / 2];
      const cell: DetectedCell = { box, score: 0.99, mask: { size: [height, width], counts: [height * width] }, features };
      return { width, height, cells: [cell] };
    },
    runtime: () => ({ name: 'fake-detector', backend: 'none', device: 'cpu' }),
    dispose: async () => undefined,
  };
  return det;
}
