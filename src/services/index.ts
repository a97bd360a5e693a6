// The services the API uses, built once in the composition root (app.ts).
import type { DataSource } from 'typeorm';
import type { Config } from '../config.js';
import type { NotifyHub } from '../pubsub/notify-hub.js';
import type { JobService } from './job.service.js';
import type { DatasetService } from './dataset.service.js';
import type { ImageService } from './image.service.js';
import type { CatalogService } from './catalog.service.js';
import type { ModelService } from './model.service.js';
import type { RelationService } from './relations.service.js';
import type { JobResultService } from './job-results.service.js';
import type { ReviewService } from './review.service.js';
import type { ObjectStore } from '../storage/object-store.js';

export interface Services {
  cfg: Config;
  ds: DataSource;
  hub: NotifyHub;
  /** Where objects that are not rows live (images, features, models...): src/storage. */
  store: ObjectStore;
  jobs: JobService;
  datasets: DatasetService;
  images: ImageService;
  catalog: CatalogService;
  models: ModelService;
  relations: RelationService;
  results: JobResultService;
  reviews: ReviewService;
}
