// Made-up evaluation domains of drawn cells (a disc whose size and colour carry the class, on a background a lab
// shift moves), for tests and timings of the evaluation at sizes no small fixture has. No accuracy is read from them.
import { FEATURE_LENGTH } from '../engine/autoencoder/layout.js';
import { createRng } from '../engine/classifier/rng.js';
import type { EvaluationDomain } from './pipeline.js';

/** One all-zero feature array shared by every cell: for runs of the methods that read only the crops. */
const NO_FEATURES = new Float32Array(FEATURE_LENGTH);

/** A crop: a disc of a class-dependent radius and colour, its background and stain moved by `shift`. */
function discCrop(cls: number, size: number, shift: number, rnd: () => number): Uint8Array {
  const out = new Uint8Array(size * size * 3);
  const r = size * (0.15 + 0.08 * cls + 0.03 * rnd());
  const c = size / 2 + (rnd() - 0.5) * 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = (x - c) ** 2 + (y - c) ** 2 < r * r;
      const o = 3 * (y * size + x);
      const n = 20 * rnd();
      out[o] = inside ? 90 + 30 * cls + n + shift : 220 - shift;
      out[o + 1] = inside ? 40 + n : 200;
      out[o + 2] = inside ? 140 - 20 * cls + n : 190 + shift / 2;
    }
  }
  return out;
}

export interface DiscDomainOptions {
  /** Crop side in pixels. Default 64. */
  size?: number;
  /** Crops handed over as the evaluate job hands them: read when asked, one event-loop turn each (its file read). */
  readLikeTheJob?: boolean;
}

/** `perClass` labelled cells of each class, interleaved by class. */
export function discDomain(name: string, classes: readonly string[], perClass: number, seed: number, shift: number, o: DiscDomainOptions = {}): EvaluationDomain {
  const rnd = createRng(seed).next;
  const cells: EvaluationDomain['cells'] = [];
  for (let i = 0; i < perClass; i++) {
    for (let k = 0; k < classes.length; k++) {
      const crop = discCrop(k, o.size ?? 64, shift, rnd);
      cells.push({
        features: NO_FEATURES,
        crop: o.readLikeTheJob ? () => new Promise<Uint8Array>((resolve) => setImmediate(() => resolve(crop))) : crop,
        label: classes[k]!,
        id: `${name}/${k}/${i}`,
      });
    }
  }
  return { name, cells };
}
