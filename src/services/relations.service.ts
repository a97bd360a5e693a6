// Batched reads behind the schema's relation fields (Cell.image, Image.cells, Dataset.images, ...): each
// takes every key a page of results asks for and answers them with one query, so that a page of 100 cells
// with their images costs the same few queries as a page of one (src/schema/loaders.ts batches the keys).
import { In, type DataSource } from 'typeorm';
import { CellEntity, DatasetEntity, EvaluationEntity, ImageEntity, JobEntity, ModelEntity } from '../db/entities/index.js';

/** Rows by id, in the order of `ids`; null where there is none. */
async function byIds<T extends { id: string }>(ds: DataSource, entity: new () => T, ids: readonly string[]): Promise<(T | null)[]> {
  const rows = await ds.getRepository(entity).findBy({ id: In([...new Set(ids)]) } as never);
  const found = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => found.get(id) ?? null);
}

export interface PageKey {
  parentId: string;
  limit: number;
  offset: number;
}

export class RelationService {
  constructor(private readonly ds: DataSource) {}

  images(ids: readonly string[]): Promise<(ImageEntity | null)[]> {
    return byIds(this.ds, ImageEntity, ids);
  }

  datasets(ids: readonly string[]): Promise<(DatasetEntity | null)[]> {
    return byIds(this.ds, DatasetEntity, ids);
  }

  models(ids: readonly string[]): Promise<(ModelEntity | null)[]> {
    return byIds(this.ds, ModelEntity, ids);
  }

  jobs(ids: readonly string[]): Promise<(JobEntity | null)[]> {
    return byIds(this.ds, JobEntity, ids);
  }

  /** Every cell of each image, by rank (an image holds a few cells; a whole field some tens). */
  async cellsOfImages(imageIds: readonly string[]): Promise<CellEntity[][]> {
    const rows = await this.ds.getRepository(CellEntity).find({ where: { imageId: In([...new Set(imageIds)]) }, order: { index: 'ASC', createdAt: 'ASC' } });
    const by = new Map<string, CellEntity[]>();
    for (const r of rows) by.set(r.imageId, [...(by.get(r.imageId) ?? []), r]);
    return imageIds.map((id) => by.get(id) ?? []);
  }

  /** The evaluation each job stored (evaluate jobs), or null. */
  async evaluationsOfJobs(jobIds: readonly string[]): Promise<(EvaluationEntity | null)[]> {
    const rows = await this.ds.getRepository(EvaluationEntity).findBy({ jobId: In([...new Set(jobIds)]) });
    const by = new Map(rows.map((r) => [r.jobId, r]));
    return jobIds.map((id) => by.get(id) ?? null);
  }

  /**
   * One page of images per dataset (ordered by source path, as the images query), with each dataset's total.
   * Keys asking for the same page size and offset share one query (a window over the datasets asked for).
   */
  async imagePages(keys: readonly PageKey[]): Promise<{ items: ImageEntity[]; total: number }[]> {
    const out = new Map<string, { items: ImageEntity[]; total: number }>();
    const groups = new Map<string, PageKey[]>();
    for (const k of keys) groups.set(`${k.limit}:${k.offset}`, [...(groups.get(`${k.limit}:${k.offset}`) ?? []), k]);
    for (const group of groups.values()) {
      const { limit, offset } = group[0]!;
      const ids = [...new Set(group.map((k) => k.parentId))];
      const rows: { id: string; dataset_id: string; total: number }[] = await this.ds.query(
        `SELECT id, dataset_id, total FROM (
           SELECT id, dataset_id, count(*) OVER w_all::int AS total, row_number() OVER w AS rn
             FROM images WHERE dataset_id = ANY($1)
           WINDOW w AS (PARTITION BY dataset_id ORDER BY source_path), w_all AS (PARTITION BY dataset_id)
         ) x WHERE rn > $2 AND rn <= $2 + $3 ORDER BY dataset_id, rn`,
        [ids, offset, limit],
      );
      const images = await this.images(rows.map((r) => r.id));
      for (const id of ids) out.set(`${id}:${limit}:${offset}`, { items: [], total: 0 });
      rows.forEach((r, i) => {
        const page = out.get(`${r.dataset_id}:${limit}:${offset}`)!;
        page.items.push(images[i]!);
        page.total = r.total;
      });
      // A page past the end has no rows to carry the total: count those datasets apart.
      const empty = ids.filter((id) => out.get(`${id}:${limit}:${offset}`)!.items.length === 0);
      if (empty.length && offset > 0) {
        const counts: { dataset_id: string; n: number }[] = await this.ds.query(
          `SELECT dataset_id, count(*)::int AS n FROM images WHERE dataset_id = ANY($1) GROUP BY dataset_id`, [empty]);
        for (const c of counts) out.get(`${c.dataset_id}:${limit}:${offset}`)!.total = c.n;
      }
    }
    return keys.map((k) => out.get(`${k.parentId}:${k.limit}:${k.offset}`)!);
  }
}
