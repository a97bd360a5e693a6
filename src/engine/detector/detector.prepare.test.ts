import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePng, ImageRejected } from '../../imaging/image-codec.js';
import { prepareImage } from './detector.js';

async function solid(w: number, h: number, rgb: [number, number, number]): Promise<Buffer> {
  const d = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) d.set(rgb, 3 * i);
  return encodePng(d, w, h, 3);
}

test('prepareImage: longer side = input size, aspect kept (Python rounding), CHW float 0..255', async () => {
  const p = await prepareImage(await solid(640, 480, [10, 20, 30]), 256);
  assert.deepEqual([p.width, p.height, p.inputWidth, p.inputHeight], [640, 480, 256, 192]);
  assert.equal(p.chw.length, 3 * 256 * 192);
  const n = 256 * 192;
  assert.deepEqual([p.chw[0], p.chw[n], p.chw[2 * n], p.chw[n - 1], p.chw[3 * n - 1]], [10, 20, 30, 10, 30]);
  // 300 x 100 -> 256 x 85.33 -> 85; 200 x 250 -> 204.8 -> 205 x 256; 512 x 5 -> 2.5 -> 2 (half to even)
  for (const [w, h, iw, ih] of [[300, 100, 256, 85], [200, 250, 205, 256], [512, 5, 256, 2], [40, 30, 256, 192]] as const) {
    const q = await prepareImage(await solid(w, h, [1, 2, 3]), 256);
    assert.deepEqual([q.inputWidth, q.inputHeight], [iw, ih], `${w}x${h}`);
  }
});

test('prepareImage: corrupt bytes are ImageRejected', async () => {
  await assert.rejects(prepareImage(Buffer.from('nonsense'), 256), ImageRejected);
  const png = await solid(50, 50, [0, 0, 0]);
  await assert.rejects(prepareImage(png.subarray(0, 60), 256), ImageRejected);
});
