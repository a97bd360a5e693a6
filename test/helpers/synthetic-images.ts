// Image files made on the fly: Matek-19-style TIFFs, and the bad inputs the server must refuse.
import sharp from 'sharp';

/** A 400x400 RGB TIFF with a purple disc on a pink background, roughly like a stained smear. */
export async function syntheticCellTiff(seed: number, size = 400): Promise<Buffer> {
  const r = 60 + (seed * 37) % 60;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">
    <rect width="100%" height="100%" fill="rgb(235,200,210)"/>
    <circle cx="${size / 2}" cy="${size / 2}" r="${r}" fill="rgb(${120 + seed % 40},60,160)"/></svg>`;
  return sharp(Buffer.from(svg)).tiff().toBuffer();
}

export async function smallPng(): Promise<Buffer> {
  return sharp({ create: { width: 32, height: 24, channels: 3, background: { r: 200, g: 100, b: 150 } } }).png().toBuffer();
}

/** A PNG whose header declares width x height; the pixel data is that of a 1x1 image. */
export function pngDeclaring(width: number, height: number, real: Buffer): Buffer {
  const b = Buffer.from(real);
  // IHDR data starts at byte 16; its CRC would then be wrong, so recompute it.
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  const crc = crc32(b.subarray(12, 29));
  b.writeUInt32BE(crc, 29);
  return b;
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** A 24-bit BMP. */
export function bmp24(width: number, height: number): Buffer {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const size = 54 + stride * height;
  const b = Buffer.alloc(size);
  b.write('BM', 0);
  b.writeUInt32LE(size, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(width, 18);
  b.writeInt32LE(height, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const o = 54 + y * stride + x * 3;
    b[o] = 200; b[o + 1] = (x * 8) & 255; b[o + 2] = (y * 8) & 255;
  }
  return b;
}
