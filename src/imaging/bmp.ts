// A BMP reader for the uncompressed 24- and 32-bit files microscope software writes: sharp (libvips)
// has no BMP loader, so these are decoded here into raw RGB.
export interface RawRgb {
  data: Buffer;
  width: number;
  height: number;
}

export function bmpHeader(buf: Buffer): { width: number; height: number; bpp: number; compression: number; offset: number } | null {
  if (buf.length < 54 || buf[0] !== 0x42 || buf[1] !== 0x4d) return null;
  const offset = buf.readUInt32LE(10);
  const headerSize = buf.readUInt32LE(14);
  if (headerSize < 40) return null;
  const width = buf.readInt32LE(18);
  const height = buf.readInt32LE(22);
  const bpp = buf.readUInt16LE(28);
  const compression = buf.readUInt32LE(30);
  return { width, height, bpp, compression, offset };
}

export function decodeBmp(buf: Buffer): RawRgb {
  const h = bmpHeader(buf);
  if (!h) throw new Error('not a BMP file');
  // BI_RGB (0) or BI_BITFIELDS (3) with 32 bpp in the common BGRA order.
  if (!(h.compression === 0 || (h.compression === 3 && h.bpp === 32)) || (h.bpp !== 24 && h.bpp !== 32)) {
    throw new Error(`unsupported BMP: ${h.bpp} bits per pixel, compression ${h.compression}`);
  }
  const width = h.width;
  const height = Math.abs(h.height);
  const bottomUp = h.height > 0;
  const bytesPP = h.bpp / 8;
  const stride = Math.ceil((width * bytesPP) / 4) * 4;
  if (h.offset + stride * height > buf.length) throw new Error('truncated BMP: pixel data ends early');
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = h.offset + (bottomUp ? height - 1 - y : y) * stride;
    for (let x = 0; x < width; x++) {
      const s = row + x * bytesPP;
      const d = (y * width + x) * 3;
      out[d] = buf[s + 2];
      out[d + 1] = buf[s + 1];
      out[d + 2] = buf[s];
    }
  }
  return { data: out, width, height };
}
