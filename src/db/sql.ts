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
