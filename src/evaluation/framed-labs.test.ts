import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameAround, frameCell, framedLabs } from './framed-labs.js';
import { encodeJpeg } from '../imaging/image-codec.js';
import { fakeDetector } from '../../test/helpers/fake-detector.js';

test('a frame is a square of `frame` times the box, centred on it, kept inside the image', () => {
  assert.deepEqual(frameAround([100, 100, 200, 160], 400, 400, 1.2), [90, 70, 210, 190]);
  // Near an edge it slides inside rather than leave the image.
  assert.deepEqual(frameAround([0, 0, 100, 100], 400, 400, 1.5), [0, 0, 150, 150]);
  // Never larger than the image's shorter side.
  const r = frameAround([10, 10, 290, 190], 300, 200, 2);
  assert.equal(r[2] - r[0], 200);
  assert.ok(r[0] >= 0 && r[2] <= 300 && r[1] >= 0 && r[3] <= 200);
});

test('a framed cell is cut, coloured, saved as JPEG and detected again; a frame without a cell says so', async () => {
  const size = 300;
  const rgb = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const inside = (x - 150) ** 2 + (y - 150) ** 2 < 60 ** 2;
    rgb.set(inside ? [120, 60, 160] : [235, 225, 225], (y * size + x) * 3);
  }
  const image = await encodeJpeg(rgb, size, size);
  const [tight, third] = framedLabs(0);
  assert.equal(tight!.name, 'det-tight');
  assert.ok(third!.transforms.length > 0 && third!.quality < tight!.quality);
  const src = { image, box: [90, 90, 210, 210] as const, width: size, height: size };
  // The fake detector boxes the central 60 % of any image: the frame of 1.2 x the box holds the box at 1/1.2 = 83 %.
  const det = fakeDetector({ boxFraction: 1 / 1.2 });
  const found = await frameCell(src, { ...tight!, frame: 1.2 }, det, 64, 1);
  assert.equal(det.calls, 1);
  assert.equal(found.crop!.length, 64 * 64 * 3);
  assert.ok(found.iou! > 0.95, `iou ${found.iou}`);
  assert.ok(found.box!.every((v) => v >= 0 && v <= 1));
  const missed = await frameCell(src, third!, fakeDetector({ miss: () => true }), 64, 1);
  assert.deepEqual(missed, { crop: null, box: null, iou: null });
});
