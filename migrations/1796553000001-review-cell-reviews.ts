// Reviews of cells (issue 20): every verdict a person gives a cell, with the verdict it replaced, when, and
// which token gave it (a SHA-256 of the token, never the token). Undoing a review marks it undone (and by
// whom) instead of deleting it, so the table is the lab's audit trail; a cell's current review is its latest
// one not undone.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ReviewCellReviews1796553000001 implements MigrationInterface {
  name = 'ReviewCellReviews1796553000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE cell_reviews (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        cell_id uuid NOT NULL REFERENCES cells(id) ON DELETE CASCADE,
        dataset_id uuid NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        label text NOT NULL,
        previous_label text,
        previous_source text NOT NULL CHECK (previous_source IN ('model', 'review', 'none')),
        previous_flagged boolean NOT NULL DEFAULT false,
        previous_model_id uuid,
        token_sha256 text,
        created_at timestamptz NOT NULL DEFAULT now(),
        undone_at timestamptz,
        undone_by_sha256 text
      )`);
    await q.query(`CREATE INDEX cell_reviews_dataset_idx ON cell_reviews (dataset_id, created_at, id)`);
    await q.query(`CREATE INDEX cell_reviews_cell_idx ON cell_reviews (cell_id, created_at DESC) WHERE undone_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS cell_reviews`);
  }
}
