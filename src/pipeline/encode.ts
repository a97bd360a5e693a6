// The latent feature stage: instance features (256x14x14, CHW as the detector gives them) through the
// autoencoder's encoder to the 50-d AE-CFE latents, in chunks.
import { encode, type AutoencoderModel } from '../engine/autoencoder/index.js';
import { FEATURE_LENGTH, chwToHwc } from '../engine/autoencoder/layout.js';

/** NHWC features of the given CHW feature maps, packed. */
export function packFeatures(features: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(features.length * FEATURE_LENGTH);
  features.forEach((f, i) => chwToHwc(f, out, i * FEATURE_LENGTH));
  return out;
}

/** Latents of the given cells' features, rows x latentDim, encoded `chunk` cells at a time. */
export async function encodeCells(model: AutoencoderModel, features: readonly Float32Array[], opts: { chunk?: number; signal?: AbortSignal } = {}): Promise<Float32Array> {
  const dim = model.preset.latentDim;
  const out = new Float32Array(features.length * dim);
  const chunk = opts.chunk ?? 256;
  for (let s = 0; s < features.length; s += chunk) {
    opts.signal?.throwIfAborted();
    const part = features.slice(s, s + chunk);
    out.set(await encode(model, packFeatures(part), part.length), s * dim);
  }
  return out;
}
