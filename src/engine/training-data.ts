// The cells a training or encoding job reads: one cell per image (the highest-scoring detection, as
// AE-CFE uses), its instance features from the feature store and its image target, a crop around the
// box cached on disk (architecture.md: crops are not kept in PostgreSQL).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DataSource } from 'typeorm';
import { FeatureStore, FEATURE_LENGTH, chwToHwc } from './feature-store.js';
import { cropResize } from '../imaging/image-codec.js';
import { cropBoxWithMargin } from './autoencoder/index.js';

export interface TrainingCell {
  id: string;
  featureRef: string;
  box: [number, number, number, number];
  storagePath: string;
  width: number;
  height: number;
  datasetId: string;
  cellType: string | null;
}

/** Top cells (index 0) with features of the given datasets, in a stable order. */
export async function listTrainingCells(ds: DataSource, datasetIds: string[], opts: { detectorId?: string; limit?: number } = {}): Promise<TrainingCell[]> {
  const rows: { id: string; feature_ref: string; box: number[]; storage_path: string; width: number; height: number; dataset_id: string; cell_type: string | null }[] =
    await ds.query(
      `SELECT DISTINCT ON (i.dataset_id, i.source_path) c.id, c.feature_ref, c.box, i.storage_path, i.width, i.height, i.dataset_id, i.cell_type
         FROM cells c JOIN images i ON i.id = c.image_id
        WHERE i.dataset_id = ANY($1) AND c.index = 0 AND c.feature_ref IS NOT NULL AND ($2::uuid IS NULL OR c.detector_id = $2)
        ORDER BY i.dataset_id, i.source_path, c.created_at DESC
        LIMIT $3`,
      [datasetIds, opts.detectorId ?? null, opts.limit ?? 2147483647],
    );
  return rows.map((r) => ({
    id: r.id, featureRef: r.feature_ref, box: r.box as TrainingCell['box'], storagePath: r.storage_path, width: r.width,
    height: r.height, datasetId: r.dataset_id, cellType: r.cell_type,
  }));
}

/** What cropping a cell needs: its box and its image. */
export type CellGeometry = Pick<TrainingCell, 'id' | 'box' | 'storagePath' | 'width' | 'height'>;

export class TrainingData {
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
  async features(cells: TrainingCell[]): Promise<Float32Array> {
    const out = new Float32Array(cells.length * FEATURE_LENGTH);
    for (let i = 0; i < cells.length; i++) chwToHwc(await this.store.read(cells[i].featureRef), out, i * FEATURE_LENGTH);
    return out;
  }

  /**
   * Image targets in [0, 1], HWC, size x size: the cell cropped from its box with AE-CFE's margins
   * (10 px before, 20 px after: aecfe-method.md section 3), cached as raw RGB per size.
   */
  async images(cells: TrainingCell[], size: number): Promise<Float32Array> {
    const per = size * size * 3;
    const out = new Float32Array(cells.length * per);
    for (let i = 0; i < cells.length; i++) {
      const rgb = await this.crop(cells[i], size);
      for (let k = 0; k < per; k++) out[i * per + k] = rgb[k] / 255;
    }
    return out;
  }

  async crop(cell: CellGeometry, size: number): Promise<Uint8Array> {
    const path = join(this.cropDir, String(size), cell.id.slice(0, 2), `${cell.id}.rgb`);
    try {
      const b = await readFile(path);
      if (b.length === size * size * 3) return new Uint8Array(b.buffer, b.byteOffset, b.length);
    } catch {
      // not cached yet
    }
    const rect = cropBoxWithMargin(cell.box, cell.width, cell.height, 10, 20);
    const rgb = await cropResize(await this.readImage(cell.storagePath), rect, size);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, rgb);
    await rename(tmp, path);
    return rgb;
  }
}
