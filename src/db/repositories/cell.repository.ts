// The cells and images the engine's jobs read and write: which images to detect, the cells a training,
// encoding or classify job takes, and the rows they write (detections, latents, verdicts). Per-cell writes
// commit without waiting for the disk (relaxedCommit: a job rerun writes them again, idempotently).
import type { DataSource } from 'typeorm';
import { relaxedCommit, sqlRows } from '../sql.js';

type Box = [number, number, number, number];

/** A top cell (index 0) with features, as the training and evaluation jobs read it. */
export interface TrainingCell {
  id: string;
  featureRef: string;
  box: Box;
  storagePath: string;
  width: number;
  height: number;
  datasetId: string;
  cellType: string | null;
}

export interface ImageToDetect {
  id: string;
  storage_path: string;
  source_path: string;
  detected: boolean;
}

export interface ImageToAnalyze {
  id: string;
  dataset_id: string;
  storage_path: string;
  source_path: string;
  width: number;
  height: number;
}

export interface CellToClassify {
  id: string;
  /** The cell's verdict before this job (for what the job changes). */
  before: { label: string | null; flagged: boolean } | null;
  latent: number[] | null;
  box: Box;
  storage_path: string;
  width: number;
  height: number;
}

/** A detected cell to store: its features are already in the feature store under featureRef. */
export interface NewCell {
  box: Box;
  score: number;
  mask: unknown;
  featureRef: string;
}

export class CellRepository {
  constructor(private readonly ds: DataSource) {}

  /** Top cells (index 0) with features of the given datasets, in a stable order (dataset, source path). */
  async trainingCells(datasetIds: string[], opts: { detectorId?: string; limit?: number } = {}): Promise<TrainingCell[]> {
    const rows: { id: string; feature_ref: string; box: number[]; storage_path: string; width: number; height: number; dataset_id: string; cell_type: string | null }[] =
      await this.ds.query(
        `SELECT DISTINCT ON (i.dataset_id, i.source_path) c.id, c.feature_ref, c.box, i.storage_path, i.width, i.height, i.dataset_id, i.cell_type
           FROM cells c JOIN images i ON i.id = c.image_id
          WHERE i.dataset_id = ANY($1) AND c.index = 0 AND c.feature_ref IS NOT NULL AND ($2::uuid IS NULL OR c.detector_id = $2)
          ORDER BY i.dataset_id, i.source_path, c.created_at DESC
          LIMIT $3`,
        [datasetIds, opts.detectorId ?? null, opts.limit ?? 2147483647],
      );
    return rows.map((r) => ({
      id: r.id, featureRef: r.feature_ref, box: r.box as Box, storagePath: r.storage_path, width: r.width,
      height: r.height, datasetId: r.dataset_id, cellType: r.cell_type,
    }));
  }

  /** The images of a dataset (or listed), with whether this detector has been over them. */
  imagesToDetect(p: { datasetId?: string; imageIds?: string[]; detectorId: string; limit?: number }): Promise<ImageToDetect[]> {
    return this.ds.query(
      `SELECT i.id, i.storage_path, i.source_path,
              EXISTS (SELECT 1 FROM cells c WHERE c.image_id = i.id AND c.detector_id = $3) AS detected
         FROM images i
        WHERE ($1::uuid IS NULL OR i.dataset_id = $1) AND ($2::uuid[] IS NULL OR i.id = ANY($2))
        ORDER BY i.dataset_id, i.source_path
        LIMIT $4`,
      [p.datasetId ?? null, p.imageIds ?? null, p.detectorId, p.limit ?? 2147483647],
    );
  }

  /** Images of the datasets without a cell of this detector. */
  imagesWithoutCells(datasetIds: string[], detectorId: string): Promise<{ id: string; storage_path: string; source_path: string }[]> {
    return this.ds.query(
      `SELECT i.id, i.storage_path, i.source_path FROM images i WHERE i.dataset_id = ANY($1)
          AND NOT EXISTS (SELECT 1 FROM cells c WHERE c.image_id = i.id AND c.detector_id = $2) ORDER BY i.source_path`,
      [datasetIds, detectorId],
    );
  }

  /** Images of a dataset (or listed) in which this detector found cells. */
  imagesWithCells(p: { datasetId?: string; imageIds?: string[]; detectorId: string }): Promise<{ id: string }[]> {
    return this.ds.query(
      `SELECT i.id FROM images i
        WHERE ($1::uuid IS NULL OR i.dataset_id = $1) AND ($2::uuid[] IS NULL OR i.id = ANY($2))
          AND EXISTS (SELECT 1 FROM cells c WHERE c.image_id = i.id AND c.detector_id = $3)`,
      [p.datasetId ?? null, p.imageIds ?? null, p.detectorId],
    );
  }

  imagesToAnalyze(p: { datasetId?: string; imageIds?: string[] }): Promise<ImageToAnalyze[]> {
    return this.ds.query(
      `SELECT id, dataset_id, storage_path, source_path, width, height FROM images WHERE ($1::uuid IS NULL OR dataset_id = $1) AND ($2::uuid[] IS NULL OR id = ANY($2)) ORDER BY source_path`,
      [p.datasetId ?? null, p.imageIds ?? null],
    );
  }

  /** Stores one image's detected cells; the ids of the new ones (null where the cell was stored before). */
  async insertDetections(imageId: string, detectorId: string, jobId: string, cells: readonly NewCell[]): Promise<Array<string | null>> {
    return this.ds.transaction(async (m) => {
      await relaxedCommit(m);
      const out: Array<string | null> = [];
      for (let k = 0; k < cells.length; k++) {
        const c = cells[k]!;
        const rows = await sqlRows<{ id: string }>(m,
          `INSERT INTO cells (image_id, detector_id, index, box, score, mask, feature_ref, job_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (image_id, detector_id, index) DO NOTHING RETURNING id`,
          [imageId, detectorId, k, c.box, c.score, c.mask, c.featureRef, jobId],
        );
        out.push(rows[0]?.id ?? null);
      }
      return out;
    });
  }

  /** An image's cells of this detector that have features, in index order. */
  detectedCells(imageId: string, detectorId: string): Promise<{ id: string; box: Box; feature_ref: string }[]> {
    return this.ds.query(`SELECT id, box, feature_ref FROM cells WHERE image_id = $1 AND detector_id = $2 AND feature_ref IS NOT NULL ORDER BY index`, [imageId, detectorId]);
  }

  /** Cells with features of a dataset not yet encoded by this encoder. */
  cellsToEncode(datasetId: string, detectorId: string | undefined, encoderId: string): Promise<{ id: string; feature_ref: string }[]> {
    return this.ds.query(
      `SELECT c.id, c.feature_ref FROM cells c JOIN images i ON i.id = c.image_id
        WHERE i.dataset_id = $1 AND c.feature_ref IS NOT NULL AND ($2::uuid IS NULL OR c.detector_id = $2)
          AND c.encoder_id IS DISTINCT FROM $3
        ORDER BY i.source_path, c.index`,
      [datasetId, detectorId ?? null, encoderId],
    );
  }

  /** The cells a classify job takes: of a dataset or listed images; with `encoderId`, only cells it encoded. */
  cellsToClassify(p: { datasetId?: string; imageIds?: string[]; encoderId: string | null }): Promise<CellToClassify[]> {
    return this.ds.query(
      `SELECT c.id, c.latent, c.box, i.storage_path, i.width, i.height, c.prediction AS before FROM cells c JOIN images i ON i.id = c.image_id
        WHERE ($1::uuid IS NULL OR i.dataset_id = $1) AND ($2::uuid[] IS NULL OR i.id = ANY($2))
          AND ($3::uuid IS NULL OR (c.latent IS NOT NULL AND c.encoder_id = $3))
        ORDER BY i.source_path, c.index`,
      [p.datasetId ?? null, p.imageIds ?? null, p.encoderId],
    );
  }

  /** The latents and labels of the top cells of the datasets encoded by this encoder. */
  labelledLatents(datasetIds: string[], encoderId: string | null): Promise<{ latent: number[]; cell_type: string | null }[]> {
    return this.ds.query(
      `SELECT c.latent, i.cell_type FROM cells c JOIN images i ON i.id = c.image_id
        WHERE i.dataset_id = ANY($1) AND c.index = 0 AND c.latent IS NOT NULL AND c.encoder_id = $2
        ORDER BY i.dataset_id, i.source_path`,
      [datasetIds, encoderId],
    );
  }

  /**
   * Writes cells' results in one transaction: a verdict (or null) and, where given, the latent and its
   * encoder. `prediction` undefined leaves the verdict as it is.
   */
  async writeResults(rows: ReadonlyArray<{ id: string; prediction?: unknown; latent?: { values: ArrayLike<number>; encoderId: string } }>): Promise<void> {
    await this.ds.transaction(async (m) => {
      await relaxedCommit(m);
      for (const r of rows) {
        if (r.latent && r.prediction !== undefined) {
          await m.query(`UPDATE cells SET latent = $2, encoder_id = $3, prediction = $4 WHERE id = $1`, [r.id, Array.from(r.latent.values), r.latent.encoderId, r.prediction]);
        } else if (r.latent) {
          await m.query(`UPDATE cells SET latent = $2, encoder_id = $3 WHERE id = $1`, [r.id, Array.from(r.latent.values), r.latent.encoderId]);
        } else if (r.prediction !== undefined) {
          await m.query(`UPDATE cells SET prediction = $2 WHERE id = $1`, [r.id, r.prediction]);
        }
      }
    });
  }
}
