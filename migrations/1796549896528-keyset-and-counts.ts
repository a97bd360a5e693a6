// Pages that stay fast with a million rows: keyset (cursor) order indexes for cells and images, each cell's
// dataset beside it (set by a trigger from its image, so that a dataset's cells page by index and no insert
// needs to name it), and exact row counts per dataset maintained by statement triggers (row_counts), so
// that totals do not count a million rows on every page.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class KeysetAndCounts1796549896528 implements MigrationInterface {
  name = 'KeysetAndCounts1796549896528';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE cells ADD COLUMN dataset_id uuid`);
    await q.query(`UPDATE cells c SET dataset_id = i.dataset_id FROM images i WHERE i.id = c.image_id`);
    await q.query(`ALTER TABLE cells ALTER COLUMN dataset_id SET NOT NULL`);
    await q.query(`
      CREATE FUNCTION cells_set_dataset() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.dataset_id := (SELECT dataset_id FROM images WHERE id = NEW.image_id);
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER cells_set_dataset BEFORE INSERT OR UPDATE OF image_id ON cells FOR EACH ROW EXECUTE FUNCTION cells_set_dataset()`);

    // Keyset orders: cells by (created_at, index, id), images by (source_path, id), as the offset forms order.
    await q.query(`CREATE INDEX cells_keyset_idx ON cells (created_at, index, id)`);
    await q.query(`CREATE INDEX cells_dataset_keyset_idx ON cells (dataset_id, created_at, index, id)`);
    await q.query(`DROP INDEX cells_job_idx`);
    await q.query(`CREATE INDEX cells_job_keyset_idx ON cells (job_id, created_at, index, id)`);
    await q.query(`CREATE INDEX images_keyset_idx ON images (source_path, id)`);

    await q.query(`
      CREATE TABLE row_counts (
        relation text NOT NULL,
        dataset_id uuid NOT NULL,
        n bigint NOT NULL,
        PRIMARY KEY (relation, dataset_id)
      )`);
    // One counter update per statement and dataset (transition tables), in dataset order so that two
    // transactions touching the same datasets lock their counters in the same order.
    await q.query(`
      CREATE FUNCTION row_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO row_counts (relation, dataset_id, n)
          SELECT TG_TABLE_NAME, dataset_id, count(*) FROM new_rows GROUP BY dataset_id ORDER BY dataset_id
        ON CONFLICT (relation, dataset_id) DO UPDATE SET n = row_counts.n + EXCLUDED.n;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION row_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE row_counts r SET n = r.n - d.k
          FROM (SELECT dataset_id, count(*) AS k FROM old_rows GROUP BY dataset_id ORDER BY dataset_id) d
         WHERE r.relation = TG_TABLE_NAME AND r.dataset_id = d.dataset_id;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION row_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM row_counts WHERE relation = TG_TABLE_NAME;
        RETURN NULL;
      END $$`);
    for (const t of ['images', 'cells']) {
      await q.query(`CREATE TRIGGER ${t}_count_inserted AFTER INSERT ON ${t} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION row_counts_inserted()`);
      await q.query(`CREATE TRIGGER ${t}_count_deleted AFTER DELETE ON ${t} REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION row_counts_deleted()`);
      await q.query(`CREATE TRIGGER ${t}_count_truncated AFTER TRUNCATE ON ${t} FOR EACH STATEMENT EXECUTE FUNCTION row_counts_truncated()`);
      await q.query(`INSERT INTO row_counts (relation, dataset_id, n) SELECT '${t}', dataset_id, count(*) FROM ${t} GROUP BY dataset_id`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['images', 'cells']) {
      for (const k of ['inserted', 'deleted', 'truncated']) await q.query(`DROP TRIGGER IF EXISTS ${t}_count_${k} ON ${t}`);
    }
    await q.query(`DROP FUNCTION IF EXISTS row_counts_inserted(), row_counts_deleted(), row_counts_truncated()`);
    await q.query(`DROP TABLE IF EXISTS row_counts`);
    await q.query(`DROP INDEX IF EXISTS images_keyset_idx`);
    await q.query(`DROP INDEX IF EXISTS cells_job_keyset_idx`);
    await q.query(`CREATE INDEX IF NOT EXISTS cells_job_idx ON cells (job_id)`);
    await q.query(`DROP INDEX IF EXISTS cells_dataset_keyset_idx`);
    await q.query(`DROP INDEX IF EXISTS cells_keyset_idx`);
    await q.query(`DROP TRIGGER IF EXISTS cells_set_dataset ON cells`);
    await q.query(`DROP FUNCTION IF EXISTS cells_set_dataset()`);
    await q.query(`ALTER TABLE cells DROP COLUMN IF EXISTS dataset_id`);
  }
}
