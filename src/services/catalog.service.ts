// Read access to what the engines produce: cells, models, evaluations and engine status.
import type { DataSource } from 'typeorm';
import { CellEntity, EngineEntity, EvaluationEntity, ModelEntity } from '../db/entities/index.js';
import { NotFoundError } from './errors.js';

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

  async cells(f: { imageId?: string; jobId?: string; datasetId?: string; limit: number; offset: number }): Promise<{ items: CellEntity[]; total: number }> {
    const qb = this.ds.getRepository(CellEntity).createQueryBuilder('c');
    if (f.imageId) qb.andWhere('c.image_id = :imageId', { imageId: f.imageId });
    if (f.jobId) qb.andWhere('c.job_id = :jobId', { jobId: f.jobId });
    if (f.datasetId) qb.andWhere('c.image_id IN (SELECT id FROM images WHERE dataset_id = :datasetId)', { datasetId: f.datasetId });
    const [items, total] = await qb.orderBy('c.created_at', 'ASC').addOrderBy('c.index', 'ASC').take(f.limit).skip(f.offset).getManyAndCount();
    return { items, total };
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
