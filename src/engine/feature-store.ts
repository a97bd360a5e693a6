// The instance-feature store: each image's cells' 256x14x14 features in one float16 file (docs/architecture.md:
// 196 kB per cell as float32 is too much for the cell table), an object under features/ in the object store
// (LEUKOGRAPH_STORAGE_URL), so that an engine on another machine reads the features another one wrote. The
// store's puts are atomic: a crash leaves either the whole file or none. A cell row keeps its reference
// (`<detectorId>/<ab>/<imageId>.f16#<index>`), relative to features/, as before.
import type { ObjectStore } from '../storage/object-store.js';
import { FileStore } from '../storage/file-store.js';
import { FEATURE_LENGTH } from './autoencoder/layout.js';

export { FEATURE_CHANNELS, FEATURE_SIZE, FEATURE_LENGTH, chwToHwc } from './autoencoder/layout.js';

const MAGIC = 0x4c4b4631; // "LKF1"

// float32 <-> float16 (IEEE 754 half), round to nearest even; Node 20 has no Float16Array.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function toHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return h;
}

export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Whole feature files kept in memory after a read: a job reads an image's cells one after another. */
const CACHED_FILES = 16;
const CACHED_BYTES = 64 * 1024 * 1024;

export class FeatureStore {
  private readonly store: ObjectStore;
  private readonly prefix: string;
  private cache = new Map<string, Buffer>();
  private cachedBytes = 0;

  /** Over the object store (keys under features/), or, given a folder, over that folder's files. */
  constructor(store: ObjectStore | string) {
    if (typeof store === 'string') {
      this.store = new FileStore(store);
      this.prefix = '';
    } else {
      this.store = store;
      this.prefix = 'features/';
    }
  }

  /** The reference stored in a cell row: `<detectorId>/<imageId>.f16#<index>`. */
  static ref(file: string, index: number): string {
    return `${file}#${index}`;
  }

  fileFor(detectorId: string, imageId: string): string {
    return `${detectorId}/${imageId.slice(0, 2)}/${imageId}.f16`;
  }

  /** Writes all cells' features of one image (each FEATURE_LENGTH floats, CHW). */
  async write(file: string, features: Float32Array[]): Promise<void> {
    const buf = Buffer.alloc(8 + features.length * FEATURE_LENGTH * 2);
    buf.writeUInt32LE(MAGIC, 0);
    buf.writeUInt32LE(features.length, 4);
    let o = 8;
    for (const f of features) {
      if (f.length !== FEATURE_LENGTH) throw new Error(`feature of ${f.length} values, expected ${FEATURE_LENGTH}`);
      for (let i = 0; i < f.length; i++, o += 2) buf.writeUInt16LE(toHalf(f[i]), o);
    }
    this.forget(file);
    await this.store.put(this.prefix + file, buf);
  }

  private forget(file: string): void {
    const b = this.cache.get(file);
    if (b) {
      this.cachedBytes -= b.length;
      this.cache.delete(file);
    }
  }

  /** A whole feature file, from the last few read or from the store. */
  private async file(file: string): Promise<Buffer> {
    const hit = this.cache.get(file);
    if (hit) {
      this.cache.delete(file); // most recently used last
      this.cache.set(file, hit);
      return hit;
    }
    const buf = await this.store.get(this.prefix + file);
    if (buf.length <= CACHED_BYTES) {
      this.cache.set(file, buf);
      this.cachedBytes += buf.length;
      for (const [k, v] of this.cache) {
        if (this.cache.size <= CACHED_FILES && this.cachedBytes <= CACHED_BYTES) break;
        this.cache.delete(k);
        this.cachedBytes -= v.length;
      }
    }
    return buf;
  }

  /** Reads one cell's features from a reference, as float32 CHW. */
  async read(ref: string): Promise<Float32Array> {
    const hash = ref.lastIndexOf('#');
    if (hash < 0) throw new Error(`bad feature reference "${ref}"`);
    const index = Number(ref.slice(hash + 1));
    const buf = await this.file(ref.slice(0, hash));
    if (buf.readUInt32LE(0) !== MAGIC) throw new Error(`not a feature file: ${ref}`);
    const n = buf.readUInt32LE(4);
    if (!(index >= 0 && index < n)) throw new Error(`feature ${index} not in ${ref} (${n} cells)`);
    const out = new Float32Array(FEATURE_LENGTH);
    let o = 8 + index * FEATURE_LENGTH * 2;
    for (let i = 0; i < FEATURE_LENGTH; i++, o += 2) out[i] = fromHalf(buf.readUInt16LE(o));
    return out;
  }
}
