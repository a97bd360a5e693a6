// What a classifier's training reads of a lab's reviews: each reviewed cell's latest review (not undone)
// with what the classifier reads of the cell (the stain offsets the lab's last classify job applied:
// lastDatasetStain in dataset-stain.ts).
import type { DataSource } from 'typeorm';

export interface ReviewedCellRow {
  cell_id: string;
  dataset_id: string;
  label: string;
  box: [number, number, number, number];
  latent: number[] | null;
  encoder_id: string | null;
  storage_path: string;
  width: number;
  height: number;
}

export class ReviewRepository {
  constructor(private readonly ds: DataSource) {}

  /** The reviewed cells of the datasets (the latest review of each, not undone), by dataset and image. */
  reviewedCells(datasetIds: string[]): Promise<ReviewedCellRow[]> {
    return this.ds.query(
      `SELECT r.cell_id, r.dataset_id, r.label, c.box, c.latent, c.encoder_id, i.storage_path, i.width, i.height
         FROM (SELECT DISTINCT ON (cell_id) cell_id, dataset_id, label FROM cell_reviews
                WHERE dataset_id = ANY($1) AND undone_at IS NULL ORDER BY cell_id, created_at DESC, id DESC) r
         JOIN cells c ON c.id = r.cell_id JOIN images i ON i.id = c.image_id
        ORDER BY r.dataset_id, i.source_path, c.index`,
      [datasetIds],
    );
  }
}
