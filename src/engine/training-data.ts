// What the engine's jobs read of stored cells: their instance features from the feature store, and their
// crops, cut once at CROP_SIZE with AE-CFE's margins (src/pipeline/crop.ts) and cached on disk
// (docs/architecture.md: crops are not kept in PostgreSQL), reading images through the object store. It is
// the pipeline's CropSource for the jobs.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FeatureStore } from './feature-store.js';
import type { TrainingCell } from '../db/repositories/index.js';
import { CROP_SIZE, cropCell, imageTargets, squareCrop } from '../pipeline/crop.js';
import { packFeatures } from '../pipeline/encode.js';
import type { AlignmentSet, AutoencoderTrainingSet, CellGeometry, CropSource } from '../pipeline/types.js';

export type { TrainingCell };

export class TrainingData implements CropSource {
  constructor(
    private readonly store: FeatureStore,
    private readonly cropDir: string,
    /** An image's bytes from its row's reference (the object store's, through Blobs), or a path. */
    private readonly readImage: (storagePath: string) => Promise<Buffer> = (p) => readFile(p),
  ) {}

  /**
   * The engine's feature store, its image reader (the object store) and its crop cache (`<dataDir>/crops`,
   * a local cache that any engine fills again from the store), as every job uses them.
   */
  static forJob(ctx: { features: FeatureStore; cfg: { dataDir: string }; blobs: { read(ref: string, what?: string): Promise<Buffer> } }): TrainingData {
    return new TrainingData(ctx.features, join(ctx.cfg.dataDir, 'crops'), (p) => ctx.blobs.read(p, 'image file'));
  }

  /** NHWC features of the given cells, packed. */
  async features(cells: readonly Pick<TrainingCell, 'featureRef'>[]): Promise<Float32Array> {
    const maps: Float32Array[] = [];
    for (const c of cells) maps.push(await this.store.read(c.featureRef));
    return packFeatures(maps);
  }

  /** Image targets in [0, 1], HWC, size x size (src/pipeline/crop.ts imageTargets). */
  async images(cells: readonly CellGeometry[], size: number): Promise<Float32Array> {
    const crops: Uint8Array[] = [];
    for (const c of cells) crops.push(await this.crop(c, CROP_SIZE));
    return imageTargets(crops, size);
  }

  /** The cells as the autoencoder's epoch loop reads them. */
  trainingSet(cells: readonly TrainingCell[]): AutoencoderTrainingSet {
    return { count: cells.length, features: (idx) => this.features(idx.map((i) => cells[i]!)), images: (idx, size) => this.images(idx.map((i) => cells[i]!), size) };
  }

  alignmentSet(cells: readonly TrainingCell[]): AlignmentSet {
    return { count: cells.length, features: (idx) => this.features(idx.map((i) => cells[i]!)) };
  }

  /** The cell cut at CROP_SIZE (cached as raw RGB), at `size`. */
  async crop(cell: CellGeometry, size: number): Promise<Uint8Array> {
    return squareCrop(await this.cached(cell), size, `cell ${cell.id}`);
  }

  private async cached(cell: CellGeometry): Promise<Uint8Array> {
    const path = join(this.cropDir, String(CROP_SIZE), cell.id.slice(0, 2), `${cell.id}.rgb`);
    try {
      const b = await readFile(path);
      if (b.length === CROP_SIZE * CROP_SIZE * 3) return new Uint8Array(b.buffer, b.byteOffset, b.length);
    } catch {
      // not cached yet
    }
    const rgb = await cropCell(await this.readImage(cell.storagePath), cell.box, cell.width, cell.height, CROP_SIZE);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, rgb);
    await rename(tmp, path);
    return rgb;
  }
}
