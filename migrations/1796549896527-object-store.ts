// The postgres: object store's tables (src/storage/postgres-store.ts): an object row names the version
// of its bytes; the bytes are chunks of that version. A put writes a new version's chunks and points the
// row at it in one transaction, so a reader sees the old version or the new one, never part of one.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ObjectStore1796549896527 implements MigrationInterface {
  name = 'ObjectStore1796549896527';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE storage_objects (
        key text PRIMARY KEY,
        version uuid NOT NULL UNIQUE,
        bytes bigint NOT NULL,
        chunk_bytes int NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE storage_chunks (
        version uuid NOT NULL,
        seq int NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (version, seq)
      )`);
    // Images and float16 features do not compress: store chunks out of line without trying, which also
    // lets a range read fetch part of a chunk without reading all of it.
    await q.query(`ALTER TABLE storage_chunks ALTER COLUMN data SET STORAGE EXTERNAL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS storage_chunks`);
    await q.query(`DROP TABLE IF EXISTS storage_objects`);
  }
}
