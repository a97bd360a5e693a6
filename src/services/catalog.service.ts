// Read access to what the engines produce: cells, models, evaluations and engine status.
import type { DataSource } from 'typeorm';
import { CellEntity, EngineEntity, EvaluationEntity, ModelEntity } from '../db/entities/index.js';
import { NotFoundError } from './errors.js';
import { boundedCount, countedRows, decodeCursor, encodeCursor, equalsWhere, type KeysetPage } from './keyset.js';

export interface CellFilter {
  imageId?: string;
  jobId?: string;
  datasetId?: string;
}

type CellKey = [string, number, string];
const isCellKey = (k: unknown[]): k is CellKey =>
  k.length === 3 && typeof k[0] === 'string' && !Number.isNaN(Date.parse(k[0])) && Number.isInteger(k[1]) && typeof k[2] === 'string' && /^[0-9a-f-]{36}$/.test(k[2]);

export class CatalogService {
  constructor(private readonly ds: DataSource) {}

  findCell(id: string): Promise<CellEntity | null> {
    return this.ds.getRepository(CellEntity).findOneBy({ id });
  }

  findModel(id: string): Promise<ModelEntity | null> {
    return this.ds.getRepository(ModelEntity).findOneBy({ id });
  }

  findEvaluation(id: string): Promise<EvaluationEntity | null> {
    return this.ds.getRepository(EvaluationEntity).findOneBy({ id });
  }

  async cell(id: string): Promise<CellEntity> {
    const c = await this.ds.getRepository(CellEntity).findOneBy({ id });
    if (!c) throw new NotFoundError('cell', id);
    return c;
  }

  private cellQuery(f: CellFilter) {
    const qb = this.ds.getRepository(CellEntity).createQueryBuilder('c');
    if (f.imageId) qb.andWhere('c.image_id = :imageId', { imageId: f.imageId });
    if (f.jobId) qb.andWhere('c.job_id = :jobId', { jobId: f.jobId });
    if (f.datasetId) qb.andWhere('c.dataset_id = :datasetId', { datasetId: f.datasetId });
    return qb.orderBy('c.created_at', 'ASC').addOrderBy('c.index', 'ASC').addOrderBy('c.id', 'ASC');
  }

  async cells(f: CellFilter & { limit: number; offset: number }): Promise<{ items: CellEntity[]; total: number }> {
    const qb = this.cellQuery(f);
    // Overall and per dataset the maintained counters are exact and cost one row; other filters count.
    const counted = !f.imageId && !f.jobId;
    const [items, total] = await Promise.all([
      qb.take(f.limit).skip(f.offset).getMany(),
      counted ? countedRows(this.ds, 'cells', f.datasetId) : qb.getCount(),
    ]);
    return { items, total };
  }

  /** Cells in the offset form's order, `first` of them after the cursor `after` (keyset). */
  async cellsAfter(f: CellFilter, first: number, after: string | null): Promise<KeysetPage<CellEntity>> {
    const qb = this.cellQuery(f)
      .addSelect(`to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`, 'k_ts')
      .limit(first + 1);
    if (after) {
      const [ts, index, id] = decodeCursor('cells', after, isCellKey);
      qb.andWhere('(c.created_at, c.index, c.id) > (CAST(:ts AS timestamptz), :index, CAST(:id AS uuid))', { ts, index, id });
    }
    const { entities, raw } = await qb.getRawAndEntities<{ k_ts: string }>();
    const items = entities.slice(0, first);
    return {
      items,
      cursors: items.map((c, i) => encodeCursor('cells', [raw[i].k_ts, c.index, c.id])),
      hasNextPage: entities.length > first,
      total: async () => {
        if (!f.imageId && !f.jobId) return { count: await countedRows(this.ds, 'cells', f.datasetId), exact: true };
        const { where, params } = equalsWhere([['image_id', f.imageId], ['job_id', f.jobId], ['dataset_id', f.datasetId]]);
        return boundedCount(this.ds, 'cells', where, params);
      },
    };
  }

  models(kind?: string): Promise<ModelEntity[]> {
    return this.ds.getRepository(ModelEntity).find({ where: kind ? { kind } : {}, order: { createdAt: 'DESC' } });
  }

  async model(id: string): Promise<ModelEntity> {
    const m = await this.ds.getRepository(ModelEntity).findOneBy({ id });
    if (!m) throw new NotFoundError('model', id);
    return m;
  }

  evaluations(): Promise<EvaluationEntity[]> {
    return this.ds.getRepository(EvaluationEntity).find({ order: { createdAt: 'DESC' } });
  }


  engines(): Promise<EngineEntity[]> {
    return this.ds.getRepository(EngineEntity).find({ order: { startedAt: 'ASC' } });
  }
}
