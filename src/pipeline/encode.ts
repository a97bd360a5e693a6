// The latent feature stage: instance features (256x14x14, CHW as the detector gives them) through the
// autoencoder's encoder to the 50-d AE-CFE latents, in chunks.
import { encode, type AutoencoderModel, type TrainingPool } from '../engine/autoencoder/index.js';
import { FEATURE_LENGTH, chwToHwc } from '../engine/autoencoder/layout.js';

/** NHWC features of the given CHW feature maps, packed. */
export function packFeatures(features: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(features.length * FEATURE_LENGTH);
  features.forEach((f, i) => chwToHwc(f, out, i * FEATURE_LENGTH));
  return out;
}

/** Latents of the given cells' features, rows x latentDim, encoded `chunk` cells at a time; with `pool`
 *  (engine/autoencoder/parallel.ts) each chunk is cut between its threads (same latents to float rounding). */
export async function encodeCells(model: AutoencoderModel, features: readonly Float32Array[], opts: { chunk?: number; signal?: AbortSignal; pool?: TrainingPool | null } = {}): Promise<Float32Array> {
  const dim = model.preset.latentDim;
  const out = new Float32Array(features.length * dim);
  const chunk = opts.chunk ?? 256;
  for (let s = 0; s < features.length; s += chunk) {
    opts.signal?.throwIfAborted();
    const part = features.slice(s, s + chunk);
    const packed = packFeatures(part);
    out.set(await (opts.pool ? opts.pool.encode(model, packed, part.length) : encode(model, packed, part.length)), s * dim);
  }
  return out;
}
