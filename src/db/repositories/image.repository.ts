// The images table for the import job and the upload service: a row per image, inserted once.
import type { DataSource } from 'typeorm';
import { sqlRows } from '../sql.js';
import type { ImageInfo } from '../../imaging/image-codec.js';

/** An image row to insert; cellType is the raw label already harmonised (src/pipeline/class-maps.ts). */
export interface NewImageRow {
  datasetId: string;
  sourcePath: string;
  storagePath: string;
  info: ImageInfo;
  rawLabel: string | null;
  subtype: string | null;
  cellType: string | null;
  split: string | null;
  jobId: string | null;
}

export class ImageRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Inserts an image row unless one with the same (dataset, source path) exists. Idempotent, so a job
   * retried after a crash neither loses nor duplicates images. Returns the id, and whether it is new.
   */
  async insert(img: NewImageRow): Promise<{ id: string; created: boolean }> {
    const rows: { id: string }[] = await sqlRows(this.ds,
      `INSERT INTO images (dataset_id, source_path, storage_path, sha256, width, height, format, bytes, raw_label, subtype, cell_type, split, job_id)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)
       ON CONFLICT (dataset_id, source_path) DO NOTHING RETURNING id`,
      [img.datasetId, img.sourcePath, img.storagePath, img.info.sha256, img.info.width, img.info.height, img.info.format, img.info.bytes,
        img.rawLabel, img.subtype, img.cellType, img.split, img.jobId],
    );
    if (rows.length) return { id: rows[0]!.id, created: true };
    const [existing] = await this.ds.query(`SELECT id FROM images WHERE dataset_id = $1 AND source_path = $2`, [img.datasetId, img.sourcePath]);
    return { id: existing.id, created: false };
  }
}
