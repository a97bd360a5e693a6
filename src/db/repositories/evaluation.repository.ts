// The evaluations table: an evaluate job's report.
import type { DataSource } from 'typeorm';
import { sqlRows } from '../sql.js';

export class EvaluationRepository {
  constructor(private readonly ds: DataSource) {}

  async insert(jobId: string, name: string, report: unknown): Promise<string> {
    const rows = await sqlRows<{ id: string }>(this.ds, `INSERT INTO evaluations (job_id, name, report) VALUES ($1, $2, $3) RETURNING id`, [jobId, name, report]);
    return rows[0]!.id;
  }
}
