import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameAround, frameCell, framedLabs } from './framed-labs.js';
import { decodeRgb, encodeJpeg } from '../imaging/image-codec.js';
import { boxInCrop } from '../imaging/cell-morphology.js';
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
  // An off-centre cell near the right edge: its frame slides inside the image.
  const [w, h] = [320, 240];
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const inside = (x - 270) ** 2 + (y - 100) ** 2 < 50 ** 2;
    rgb.set(inside ? [120, 60, 160] : [235, 225, 225], (y * w + x) * 3);
  }
  const image = await encodeJpeg(rgb, w, h);
  const [tight, third] = framedLabs(0);
  assert.equal(tight!.name, 'det-tight');
  assert.ok(third!.transforms.length > 0 && third!.quality < tight!.quality);
  const src = { image, box: [220, 50, 320, 150] as const, width: w, height: h };
  const rect = frameAround(src.box, w, h, 1.17);
  assert.deepEqual(rect, [203, 42, 320, 159]);
  const side = rect[2] - rect[0];
  // What the detector was given, and a box the test knows: the frame's central part.
  const seen: Buffer[] = [];
  const fake = fakeDetector({ boxFraction: 0.8 });
  const det = { detect: (img: Buffer) => (seen.push(img), fake.detect(img)) };
  const found = await frameCell(src, { ...tight!, frame: 1.17 }, det, 64, 1);
  const detBox = [0.1 * side, 0.1 * side, 0.9 * side, 0.9 * side] as const;
  assert.equal(found.crop!.length, 64 * 64 * 3);
  boxInCrop(detBox, side, side).forEach((v, k) => assert.ok(Math.abs(found.box![k]! - v) < 1e-9, `box ${found.box}`));
  // IoU by hand: the source box moved into the frame is [17, 8, 117, 108].
  const inter = (Math.min(117, detBox[2]) - Math.max(17, detBox[0])) * (Math.min(108, detBox[3]) - Math.max(8, detBox[1]));
  const union = 100 * 100 + (0.8 * side) ** 2 - inter;
  assert.ok(Math.abs(found.iou! - inter / union) < 1e-9, `iou ${found.iou} against ${inter / union}`);
  // The frame the detector saw: side x side pixels of the image (JPEG), the cell where it was.
  const frame = await decodeRgb(seen[0]!);
  assert.deepEqual([frame.width, frame.height], [side, side]);
  const at = (img: { data: Uint8Array; width: number }, x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));
  assert.ok(Math.abs(at(frame, 67, 58)[1]! - 60) < 20, 'the cell is at the frame\'s centre');
  // The third lab's colours reach the detector: its background is no longer the source's.
  await frameCell(src, third!, det, 64, 1);
  const coloured = await decodeRgb(seen[1]!);
  const bg = at(coloured, 1, coloured.height - 2);
  assert.ok(Math.abs(bg[2]! - 225) > 15, `background ${bg}`);
  const missed = await frameCell(src, third!, fakeDetector({ miss: () => true }), 64, 1);
  assert.deepEqual(missed, { crop: null, box: null, iou: null });
});
