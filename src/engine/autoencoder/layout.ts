// The instance features' layout: 256x14x14 per cell, CHW as the detector writes them, HWC as the
// autoencoder reads them (NHWC batches).
export const FEATURE_CHANNELS = 256;
export const FEATURE_SIZE = 14;
export const FEATURE_LENGTH = FEATURE_CHANNELS * FEATURE_SIZE * FEATURE_SIZE;

/** CHW (the detector's layout) -> HWC (the autoencoder's NHWC input), for one cell. */
export function chwToHwc(chw: Float32Array, out: Float32Array = new Float32Array(FEATURE_LENGTH), offset = 0): Float32Array {
  const hw = FEATURE_SIZE * FEATURE_SIZE;
  for (let c = 0; c < FEATURE_CHANNELS; c++) {
    for (let p = 0; p < hw; p++) out[offset + p * FEATURE_CHANNELS + c] = chw[c * hw + p]!;
  }
  return out;
}
