// DataLoaders for the relation fields, one set per request: every Cell.image of a page asks its loader,
// which waits for the page's other fields to ask too and answers them all with one batched read
// (services/relations.service.ts). Subscriptions get loaders that batch but keep no cache, so that a
// long stream neither grows nor serves rows that changed since its first event.
import DataLoader from 'dataloader';
import type { CellEntity, DatasetEntity, EvaluationEntity, ImageEntity, JobEntity, ModelEntity } from '../db/entities/index.js';
import type { PageKey, RelationService } from '../services/relations.service.js';

export interface Loaders {
  image: DataLoader<string, ImageEntity | null>;
  dataset: DataLoader<string, DatasetEntity | null>;
  model: DataLoader<string, ModelEntity | null>;
  job: DataLoader<string, JobEntity | null>;
  cellsOfImage: DataLoader<string, CellEntity[]>;
  evaluationOfJob: DataLoader<string, EvaluationEntity | null>;
  imagesOfDataset: DataLoader<PageKey, { items: ImageEntity[]; total: number }, string>;
}

export function createLoaders(rel: RelationService, { cache = true }: { cache?: boolean } = {}): Loaders {
  return {
    image: new DataLoader((ids) => rel.images(ids), { cache }),
    dataset: new DataLoader((ids) => rel.datasets(ids), { cache }),
    model: new DataLoader((ids) => rel.models(ids), { cache }),
    job: new DataLoader((ids) => rel.jobs(ids), { cache }),
    cellsOfImage: new DataLoader((ids) => rel.cellsOfImages(ids), { cache }),
    evaluationOfJob: new DataLoader((ids) => rel.evaluationsOfJobs(ids), { cache }),
    imagesOfDataset: new DataLoader((keys) => rel.imagePages(keys), { cache, cacheKeyFn: (k) => `${k.parentId}:${k.limit}:${k.offset}` }),
  };
}
