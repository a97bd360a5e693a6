import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readdirSync } from 'node:fs';
import sharp from 'sharp';
import { inspectImage, ImageRejected, sniffFormat, decodeRgb } from './image-codec.js';
import { pngDeclaring, bmp24, smallPng } from '../../test/helpers/synthetic-images.js';

const FIX = resolve(fileURLToPath(new URL('../../../test/fixtures', import.meta.url)));
const limits = { maxBytes: 10 * 1024 * 1024, maxPixels: 40_000_000 };

async function rejected(buf: Buffer, pattern: RegExp): Promise<void> {
  await assert.rejects(inspectImage(buf, limits), (err: unknown) => {
    assert.ok(err instanceof ImageRejected, `expected ImageRejected, got ${err}`);
    assert.match((err as Error).message, pattern);
    return true;
  });
}

/** A real Acevedo-20 JPEG from the fixtures. */
function aJpeg(): Buffer {
  const dir = resolve(FIX, 'acevedo20/basophil');
  return readFileSync(resolve(dir, readdirSync(dir).sort()[0]));
}

test('real JPEG, PNG, TIFF and BMP images are accepted with their size', async () => {
  const j = await inspectImage(aJpeg(), limits);
  assert.equal(j.format, 'jpeg');
  assert.equal(j.width, 360);
  assert.equal(j.height, 363);
  assert.equal(j.sha256.length, 64);
  const p = await inspectImage(readFileSync(resolve(FIX, 'zheng-ds2/images/001.png')), limits);
  assert.deepEqual([p.format, p.width, p.height], ['png', 300, 300]);
  const t = await inspectImage(await sharp(aJpeg()).tiff().toBuffer(), limits);
  assert.equal(t.format, 'tiff');
  const b = await inspectImage(bmp24(17, 9), limits);
  assert.deepEqual([b.format, b.width, b.height], ['bmp', 17, 9]);
  const rgb = await decodeRgb(bmp24(17, 9));
  assert.equal(rgb.data.length, 17 * 9 * 3);
});

test('a zero-byte file is refused', async () => {
  await rejected(Buffer.alloc(0), /empty/);
});

test('a text file under an image name is refused by content', async () => {
  await rejected(Buffer.from('this is not an image, despite cell.jpg'), /not a JPEG, PNG, TIFF or BMP/);
  assert.equal(sniffFormat(Buffer.from('GIF89a')), null);
});

test('a truncated JPEG is refused after a full decode', async () => {
  const j = aJpeg();
  await rejected(j.subarray(0, Math.floor(j.length / 2)), /truncated|corrupt/i);
});

test('a corrupt PNG is refused', async () => {
  const p = await smallPng();
  const bad = Buffer.from(p);
  bad.fill(0x41, 40, p.length - 12); // scribble over the compressed data
  await rejected(bad, /corrupt|truncated/i);
});

test('an image declaring 100,000 x 100,000 pixels is refused before decoding', async () => {
  const huge = pngDeclaring(100_000, 100_000, await smallPng());
  const t0 = Date.now();
  await rejected(huge, /100000x100000.*over the limit/);
  assert.ok(Date.now() - t0 < 5000);
});

test('a file over the byte limit is refused', async () => {
  await assert.rejects(inspectImage(aJpeg(), { maxBytes: 100, maxPixels: 1e9 }), /over the limit of 100/);
});

