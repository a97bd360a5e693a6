// Where a detector's time goes per image: decode + resize, the model alone, and the whole detect()
// (model + mask pasting, run-length encoding, features), means over the given images.
import { prepareImage, type Detector } from '../../src/engine/detector/index.js';

export async function detectorStages(det: Detector, images: Buffer[]): Promise<{ images: number; decodeMs: number; modelMs: number; detectMs: number }> {
  let decode = 0;
  let model = 0;
  let total = 0;
  for (const b of images) {
    const t0 = performance.now();
    const p = await prepareImage(b, det.model.inputSize);
    const t1 = performance.now();
    await det.runTensor(p.chw, p.inputHeight, p.inputWidth);
    const t2 = performance.now();
    await det.detect(b);
    total += performance.now() - t2;
    decode += t1 - t0;
    model += t2 - t1;
  }
  const n = images.length;
  return { images: n, decodeMs: decode / n, modelMs: model / n, detectMs: total / n };
}
