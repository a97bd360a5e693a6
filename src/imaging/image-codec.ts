// Image decoding and validation: the only module that imports sharp. Checks content (not the file
// name), declared size before decoding, and decodes fully so that truncated files are caught at entry.
import sharp from 'sharp';
import { createHash } from 'node:crypto';
import { bmpHeader, decodeBmp } from './bmp.js';

export type ImageFormat = 'jpeg' | 'png' | 'tiff' | 'bmp';

export class ImageRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageRejected';
  }
}

export interface ImageLimits {
  maxBytes: number;
  maxPixels: number;
}

export interface ImageInfo {
  format: ImageFormat;
  width: number;
  height: number;
  bytes: number;
  sha256: string;
}

/** The format the bytes say they are, whatever the file is called. */
export function sniffFormat(buf: Buffer): ImageFormat | null {
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg';
  if (buf.length >= 8 && buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (buf.length >= 4 && ((buf[0] === 0x49 && buf[1] === 0x49 && buf[2] === 0x2a && buf[3] === 0) || (buf[0] === 0x4d && buf[1] === 0x4d && buf[2] === 0 && buf[3] === 0x2a))) return 'tiff';
  if (buf.length >= 2 && buf[0] === 0x42 && buf[1] === 0x4d) return 'bmp';
  return null;
}

function checkSize(width: number, height: number, limits: ImageLimits): void {
  if (!(width > 0 && height > 0)) throw new ImageRejected(`image declares an invalid size ${width}x${height}`);
  if (width * height > limits.maxPixels) {
    throw new ImageRejected(
      `image declares ${width}x${height} pixels (${(width * height / 1e6).toFixed(1)} Mpx), over the limit of ${(limits.maxPixels / 1e6).toFixed(1)} Mpx`,
    );
  }
}

/** Validates an image completely; throws ImageRejected with a reason a user can act on. */
export async function inspectImage(buf: Buffer, limits: ImageLimits): Promise<ImageInfo> {
  if (buf.length === 0) throw new ImageRejected('file is empty (0 bytes)');
  if (buf.length > limits.maxBytes) throw new ImageRejected(`file is ${buf.length} bytes, over the limit of ${limits.maxBytes}`);
  const format = sniffFormat(buf);
  if (!format) throw new ImageRejected('content is not a JPEG, PNG, TIFF or BMP image');
  const sha256 = createHash('sha256').update(buf).digest('hex');
  if (format === 'bmp') {
    const h = bmpHeader(buf);
    if (!h) throw new ImageRejected('corrupt BMP header');
    checkSize(h.width, Math.abs(h.height), limits);
    try {
      decodeBmp(buf);
    } catch (err) {
      throw new ImageRejected((err as Error).message);
    }
    return { format, width: h.width, height: Math.abs(h.height), bytes: buf.length, sha256 };
  }
  let meta: sharp.Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new ImageRejected(`corrupt ${format.toUpperCase()}: ${(err as Error).message}`);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  checkSize(width, height, limits);
  try {
    // A full decode: headers of truncated files read fine, their pixel data does not.
    await sharp(buf, { failOn: 'truncated', limitInputPixels: limits.maxPixels }).raw().toBuffer();
  } catch (err) {
    throw new ImageRejected(`corrupt or truncated ${format.toUpperCase()}: ${(err as Error).message}`);
  }
  return { format, width, height, bytes: buf.length, sha256 };
}

/** The sharp pipeline for an image's bytes (BMP decoded here first). */
export function sharpOf(buf: Buffer): sharp.Sharp {
  if (sniffFormat(buf) === 'bmp') {
    const raw = decodeBmp(buf);
    return sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: 3 } });
  }
  return sharp(buf, { failOn: 'truncated' });
}

/** Decodes to 8-bit RGB, optionally resized to exactly width x height (aspect not kept). */
export async function decodeRgb(buf: Buffer, resize?: { width: number; height: number }): Promise<{ data: Uint8Array; width: number; height: number }> {
  let p = sharpOf(buf).removeAlpha().toColourspace('srgb');
  if (resize) p = p.resize(resize.width, resize.height, { fit: 'fill' });
  const { data, info } = await p.raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/** Encodes raw RGB (or RGBA) to PNG. */
export async function encodePng(data: Uint8Array, width: number, height: number, channels: 3 | 4): Promise<Buffer> {
  return sharp(Buffer.from(data.buffer, data.byteOffset, data.length), { raw: { width, height, channels } }).png().toBuffer();
}

/**
 * Decodes to 8-bit RGB resized with a bilinear kernel so that the longer side is `longerSide`, keeping
 * the aspect ratio; the shorter side is rounded half-to-even like Python's round() (the detector's
 * training resize, training/detector/data.py). Returns the original size too. Decode failures are
 * ImageRejected.
 */
export async function decodeRgbFitted(
  buf: Buffer,
  longerSide: number,
): Promise<{ data: Uint8Array; width: number; height: number; originalWidth: number; originalHeight: number }> {
  try {
    const meta = await sharpOf(buf).metadata();
    const w = meta.width ?? 0;
    const h = meta.height ?? 0;
    if (!(w > 0 && h > 0)) throw new ImageRejected(`image declares an invalid size ${w}x${h}`);
    const s = longerSide / Math.max(w, h);
    const width = Math.max(1, roundHalfEven(w * s));
    const height = Math.max(1, roundHalfEven(h * s));
    const p = sharpOf(buf)
      .removeAlpha()
      .toColourspace('srgb')
      .resize(width, height, { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: false });
    const { data, info } = await p.raw().toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, originalWidth: w, originalHeight: h };
  } catch (err) {
    if (err instanceof ImageRejected) throw err;
    throw new ImageRejected(`corrupt or unreadable image: ${(err as Error).message}`);
  }
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Cuts rect [x0, y0, x1, y1) (pixels, x1/y1 exclusive) out of an image and resizes it to size x size RGB. */
export async function cropResize(buf: Buffer, rect: readonly [number, number, number, number], size: number): Promise<Uint8Array> {
  const [x0, y0, x1, y1] = rect.map((v) => Math.round(v));
  const { data } = await sharpOf(buf)
    .removeAlpha()
    .toColourspace('srgb')
    .extract({ left: x0, top: y0, width: Math.max(1, x1 - x0), height: Math.max(1, y1 - y0) })
    .resize(size, size, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/** Encodes raw RGB to JPEG (benchmarks and tests build realistic inputs with it). */
export async function encodeJpeg(data: Uint8Array, width: number, height: number, quality = 90): Promise<Buffer> {
  return sharp(Buffer.from(data.buffer, data.byteOffset, data.length), { raw: { width, height, channels: 3 } }).jpeg({ quality }).toBuffer();
}
