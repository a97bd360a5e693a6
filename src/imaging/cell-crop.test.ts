import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePng, decodeRgb, cropResize } from './image-codec.js';
import { cropBoxWithMargin } from './crop-geometry.js';
import { overlayPng } from './cell-crop.js';
import { rleEncode } from './rle.js';

// A 60x40 image: red inside x in [20, 40), y in [10, 30), blue elsewhere.
async function testImage(): Promise<Buffer> {
  const w = 60, h = 40;
  const d = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const inside = x >= 20 && x < 40 && y >= 10 && y < 30;
    d.set(inside ? [255, 0, 0] : [0, 0, 255], (y * w + x) * 3);
  }
  return encodePng(d, w, h, 3);
}

test('the image target: box plus 10 px before and 20 px after, clipped, resized (cropResize + cropBoxWithMargin)', async () => {
  const img = await testImage();
  const c = await cropResize(img, cropBoxWithMargin([20, 10, 40, 30], 60, 40), 128);
  assert.equal(c.length, 128 * 128 * 3);
  // crop region x 10..60 (clipped), y 0..40 (clipped from 50): red begins at 10/50 of the width
  const px = (x: number, y: number) => Array.from(c.subarray((y * 128 + x) * 3, (y * 128 + x) * 3 + 3));
  assert.deepEqual(px(5, 5), [0, 0, 255]);
  assert.deepEqual(px(40, 50), [255, 0, 0]);
});

test('overlayPng draws the mask outline inside the box region', async () => {
  const img = await testImage();
  const m = new Uint8Array(60 * 40);
  for (let y = 10; y < 30; y++) for (let x = 20; x < 40; x++) m[y * 60 + x] = 1;
  const png = await overlayPng(img, { box: [20, 10, 40, 30], mask: rleEncode({ width: 60, height: 40, data: m }) }, { margin: 4 });
  const o = await decodeRgb(png);
  assert.equal(o.width, 28);
  assert.equal(o.height, 28);
  const px = (x: number, y: number) => Array.from(o.data.subarray((y * o.width + x) * 3, (y * o.width + x) * 3 + 3));
  assert.deepEqual(px(4, 4), [255, 230, 0]); // outline corner (image 20, 10)
  assert.deepEqual(px(10, 10), [255, 0, 0]); // inside the mask: untouched
  assert.deepEqual(px(1, 1), [0, 0, 255]); // outside: untouched
  await assert.rejects(overlayPng(img, { box: [0, 0, 1, 1], mask: { size: [2, 2], counts: [4] } }), /does not fit/);
});
