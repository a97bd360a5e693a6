// A job whose steps run on different engines (an analysis detected on one engine, classified on another):
// `step` names the queue (job kind) that holds the job's current queue entry when that is not the job's
// own kind, so that failover, the sweep and cancel find the entry. NULL: the job's own kind, as before.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class StorageJobStep1796555000001 implements MigrationInterface {
  name = 'StorageJobStep1796555000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs ADD COLUMN step text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs DROP COLUMN IF EXISTS step`);
  }
}
