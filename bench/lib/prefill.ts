// Topping the cells table up for the "cells already stored" measurements (bench/e2e/server-bench.ts and
// bench/multi-engine/run.ts): copies of one real analysed cell (box, mask, latent, prediction), each on its
// own copy of the cell's image row, in a dataset of their own. Feature files are not copied: the analyze path
// never reads other cells' features.

/** What the prefill needs of a database connection (a typeorm DataSource). */
export interface Sql {
  query(sql: string, params?: unknown[]): Promise<any>;
}

/** The cells stored now. */
export async function storedCells(db: Sql): Promise<number> {
  const [{ n }] = (await db.query(`SELECT count(*)::int AS n FROM cells`)) as { n: number }[];
  return n;
}

/** Adds cells until `total` are stored, `chunk` at a time, copying the first analysed cell into `datasetId`. */
export async function prefillCellsTo(db: Sql, datasetId: string, total: number, chunk: number): Promise<void> {
  const [tpl] = (await db.query(`SELECT id, image_id FROM cells WHERE prediction IS NOT NULL ORDER BY created_at LIMIT 1`)) as { id: string; image_id: string }[];
  if (!tpl) throw new Error('prefill: no analysed cell to copy');
  for (let have = await storedCells(db); have < total; have = await storedCells(db)) {
    await db.query(
      `WITH imgs AS (
         INSERT INTO images (dataset_id, source_path, storage_path, sha256, width, height, format, bytes, raw_label, cell_type, split)
         SELECT $1, 'prefill/' || md5(random()::text || g::text), i.storage_path, i.sha256, i.width, i.height, i.format, i.bytes, i.raw_label, i.cell_type, i.split
         FROM generate_series(1, $3::int) g, images i WHERE i.id = $2
         RETURNING id)
       INSERT INTO cells (image_id, detector_id, index, box, score, mask, feature_ref, latent, encoder_id, prediction)
       SELECT imgs.id, c.detector_id, c.index, c.box, c.score, c.mask, c.feature_ref, c.latent, c.encoder_id, c.prediction
       FROM imgs, cells c WHERE c.id = $4`,
      [datasetId, tpl.image_id, Math.min(chunk, total - have), tpl.id],
    );
  }
  // What autovacuum would do on a live server after such growth: planner statistics are current.
  await db.query(`ANALYZE images; ANALYZE cells`);
}
