// The repositories the engine's job handlers get instead of a database connection: the SQL is here.
import type { DataSource } from 'typeorm';
import { CellRepository } from './cell.repository.js';
import { ModelRepository } from './model.repository.js';
import { EvaluationRepository } from './evaluation.repository.js';
import { ReviewRepository } from './review.repository.js';
import { ImageRepository } from './image.repository.js';
import { lastDatasetStain, type DatasetStainQuery } from './dataset-stain.js';
import { DatasetEntity } from '../entities/index.js';

export { CellRepository, type TrainingCell, type NewCell } from './cell.repository.js';
export { ModelRepository, type NewModel } from './model.repository.js';
export { EvaluationRepository } from './evaluation.repository.js';
export { ReviewRepository, type ReviewedCellRow } from './review.repository.js';
export { ImageRepository, type NewImageRow } from './image.repository.js';
export type { DatasetStain, DatasetStainQuery } from './dataset-stain.js';

export interface Repositories {
  cells: CellRepository;
  images: ImageRepository;
  models: ModelRepository;
  evaluations: EvaluationRepository;
  reviews: ReviewRepository;
  /** The stain a dataset's last classify job over all its cells reported (dataset-stain.ts). */
  lastDatasetStain(datasetId: string, q?: DatasetStainQuery): ReturnType<typeof lastDatasetStain>;
  /** The names of the datasets that exist among `ids`. */
  datasetNames(ids: string[]): Promise<Map<string, string>>;
  /** A dataset's row, or null. */
  dataset(id: string): Promise<DatasetEntity | null>;
}

export function createRepositories(ds: DataSource): Repositories {
  return {
    cells: new CellRepository(ds),
    images: new ImageRepository(ds),
    models: new ModelRepository(ds),
    evaluations: new EvaluationRepository(ds),
    reviews: new ReviewRepository(ds),
    lastDatasetStain: (d, q) => lastDatasetStain(ds, d, q),
    dataset: (id) => ds.getRepository(DatasetEntity).findOneBy({ id }),
    datasetNames: async (ids) => new Map((await ds.getRepository(DatasetEntity).findBy(ids.map((id) => ({ id })))).map((d) => [d.id, d.name])),
  };
}
