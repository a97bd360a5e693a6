// Raw SQL that returns rows whatever the statement: typeorm's DataSource.query gives UPDATE and DELETE
// results as [rows, count], so statements with RETURNING go through a structured query here.
import type { DataSource } from 'typeorm';

export async function sqlRows<T = Record<string, unknown>>(ds: DataSource, text: string, params: unknown[] = []): Promise<T[]> {
  const runner = ds.createQueryRunner();
  try {
    const r = await runner.query(text, params, true);
    return (r.records ?? []) as T[];
  } finally {
    await runner.release();
  }
}
