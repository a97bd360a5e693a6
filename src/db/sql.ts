// Raw SQL that returns rows whatever the statement: typeorm's DataSource.query gives UPDATE and DELETE
// results as [rows, count], so statements with RETURNING go through a structured query here. Given a
// transaction's EntityManager, the statement runs inside that transaction.
import type { DataSource, EntityManager } from 'typeorm';

export async function sqlRows<T = Record<string, unknown>>(db: DataSource | EntityManager, text: string, params: unknown[] = []): Promise<T[]> {
  if ('queryRunner' in db && db.queryRunner) {
    const r = await db.queryRunner.query(text, params, true);
    return (r.records ?? []) as T[];
  }
  const runner = (db as DataSource).createQueryRunner();
  try {
    const r = await runner.query(text, params, true);
    return (r.records ?? []) as T[];
  } finally {
    await runner.release();
  }
}

/**
 * Inside a transaction: commit without waiting for the WAL flush (PostgreSQL's `synchronous_commit = off`
 * for this transaction only). For the per-cell rows a job writes (detections, latents, predictions): if the
 * database crashes, the last few hundred milliseconds of such commits can be lost, and the job is rerun
 * (the engine's reaper) and writes them again, idempotently (unique keys). Job states and model rows keep
 * the durable default. Saves waiting for the disk sync twice per analysed image (with it, the first-cell
 * median of `npm run bench` went from 152 to 145 ms on the 2-core machine; bench/README.md).
 */
export async function relaxedCommit(m: EntityManager): Promise<void> {
  await m.query('SET LOCAL synchronous_commit = off');
}
