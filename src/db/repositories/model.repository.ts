// The models table for the engine and the services: the active model of a kind, a new model registered
// and made active, an existing one made active. Making a model active is written here only.
import type { DataSource, EntityManager } from 'typeorm';
import { ModelEntity } from '../entities/index.js';
import { sqlRows } from '../sql.js';

/** What a training job records of the model it made. */
export interface NewModel {
  kind: 'autoencoder' | 'classifier';
  name: string;
  version: string;
  preset: string | null;
  metrics: unknown;
  params: unknown;
  artifactPath: string;
  checksum: string;
  datasetIds: string[];
  jobId: string;
  parentId: string | null;
}

/** Inside a transaction: `id` becomes the only active model of its kind. */
async function makeActive(m: EntityManager, kind: string, id: string): Promise<void> {
  await m.query(`UPDATE models SET active = false WHERE kind = $1 AND active AND id <> $2`, [kind, id]);
  await m.query(`UPDATE models SET active = true WHERE id = $1`, [id]);
}

export class ModelRepository {
  constructor(private readonly ds: DataSource) {}

  active(kind: string): Promise<ModelEntity | null> {
    return this.ds.getRepository(ModelEntity).findOneBy({ kind, active: true });
  }

  /** Registers a model a job trained and makes it the active one of its kind; its id. */
  async registerActive(n: NewModel): Promise<string> {
    return this.ds.transaction(async (m) => {
      // A job run again after it registered its model (its lease lost, or a write after the registration failed)
      // replaces what it registered instead of adding a second model: one model per job and kind.
      if (n.jobId) {
        const prior = await sqlRows<{ id: string }>(m, `SELECT id FROM models WHERE job_id = $1 AND kind = $2 ORDER BY created_at LIMIT 1 FOR UPDATE`, [n.jobId, n.kind]);
        if (prior[0]) {
          await m.query(
            `UPDATE models SET name = $2, version = $3, preset = $4, metrics = $5, params = $6, artifact_path = $7, checksum = $8, dataset_ids = $9, parent_id = $10 WHERE id = $1`,
            [prior[0].id, n.name, n.version, n.preset, n.metrics, n.params, n.artifactPath, n.checksum, n.datasetIds, n.parentId],
          );
          await makeActive(m, n.kind, prior[0].id);
          return prior[0].id;
        }
      }
      const rows = await sqlRows<{ id: string }>(m,
        `INSERT INTO models (kind, name, version, preset, metrics, params, artifact_path, checksum, active, dataset_ids, job_id, parent_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, false, $9, $10, $11) RETURNING id`,
        [n.kind, n.name, n.version, n.preset, n.metrics, n.params, n.artifactPath, n.checksum, n.datasetIds, n.jobId, n.parentId],
      );
      await makeActive(m, n.kind, rows[0]!.id);
      return rows[0]!.id;
    });
  }

  /** Makes an existing model the active one of its kind; null when there is no such model. */
  async activate(id: string): Promise<ModelEntity | null> {
    return this.ds.transaction(async (m) => {
      const model = await m.getRepository(ModelEntity).findOneBy({ id });
      if (!model) return null;
      await makeActive(m, model.kind, id);
      return { ...model, active: true };
    });
  }
}
