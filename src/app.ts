// The composition root: builds the API and the engine from their parts. Nothing else constructs
// services, and nothing here runs at import time.
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { NotifyHub } from './pubsub/notify-hub.js';
import { JobQueue } from './queue/job-queue.js';
import { JOB_KINDS } from './jobs/job-kinds.js';
import { JobService } from './services/job.service.js';
import { DatasetService } from './services/dataset.service.js';
import { ImageService } from './services/image.service.js';
import { CatalogService } from './services/catalog.service.js';
import type { Services } from './services/index.js';
import { RelationService } from './services/relations.service.js';
import { JobResultService } from './services/job-results.service.js';
import { ReviewService } from './services/review.service.js';
import { buildLeukographSchema } from './resolvers/build-schema.js';
import { startApiServer, type ApiServer } from './http/server.js';
import { Engine } from './engine/engine.js';
import { ResidentModels, type ModelLoaders } from './engine/resident-models.js';
import { FeatureStore } from './engine/feature-store.js';
import { registerBundledModels, ModelService } from './services/model.service.js';
import { loadDetector } from './engine/detector-loader.js';
import { openStore } from './storage/open-store.js';
import type { ObjectStore } from './storage/object-store.js';
import { Blobs } from './storage/blobs.js';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';

/** The repository's models/ folder, where trained models are shipped. */
export const BUNDLED_MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));

export const RETRY_LIMIT = 2;

export interface Running {
  db: Database;
  close(): Promise<void>;
}

/** What every process shares with the others: the database, its NOTIFY hub, the queue and the object store. */
async function openShared(cfg: Config, pollingIntervalSeconds: number): Promise<{ db: Database; hub: NotifyHub; queue: JobQueue; store: ObjectStore }> {
  const db = await openDatabase(cfg);
  const hub = new NotifyHub(db.url, db.dataSource);
  const queue = new JobQueue(db.url, { retryLimit: RETRY_LIMIT, pollingIntervalSeconds });
  const store = await openStore(cfg.storageUrl, { dataDir: cfg.dataDir, databaseUrl: db.url });
  try {
    await hub.start();
    await queue.start(JOB_KINDS);
  } catch (err) {
    await hub.close();
    await queue.stop();
    await store.close();
    await db.close();
    throw err;
  }
  return { db, hub, queue, store };
}

export async function startApi(cfg: Config): Promise<Running & { api: ApiServer; services: Services }> {
  const { db, hub, queue, store } = await openShared(cfg, 5);
  const ds = db.dataSource;
  const jobs = new JobService(ds, queue, hub, cfg);
  const services: Services = {
    cfg, ds, hub, jobs, store,
    datasets: new DatasetService(ds, cfg, jobs),
    images: new ImageService(ds, cfg, new Blobs(store, { bundledDir: BUNDLED_MODELS_DIR })),
    catalog: new CatalogService(ds),
    models: new ModelService(ds),
    relations: new RelationService(ds),
    results: new JobResultService(ds),
    reviews: new ReviewService(ds, hub),
  };
  const schema = await buildLeukographSchema();
  const api = await startApiServer(schema, services, cfg.host, cfg.port);
  return {
    db, api, services,
    close: async () => {
      await api.close();
      await queue.stop();
      await hub.close();
      await store.close();
      await db.close();
    },
  };
}

export async function startEngine(cfg: Config): Promise<Running & { engine: Engine }> {
  // Engines are woken by NOTIFY when a job is queued; polling is only the fallback.
  const { db, hub, queue, store } = await openShared(cfg, 2);
  await registerBundledModels(db.dataSource, BUNDLED_MODELS_DIR);
  // A bundled model's row names the checkout of the engine that registered it last; every machine reads
  // its own checkout's copy (same checksum) when that path is not there.
  const loaders: ModelLoaders = { detector: (path) => loadDetector(existsSync(path) ? path : join(BUNDLED_MODELS_DIR, basename(path))) };
  const models = new ResidentModels(db.dataSource, loaders);
  // Features, images, model files and checkpoints go through the object store, so that an engine on
  // another machine (the same database and store, its own data directory) can run any job.
  const features = new FeatureStore(store);
  const engine = new Engine({ ds: db.dataSource, hub, cfg, queue, retryLimit: RETRY_LIMIT, models, features, store, blobs: new Blobs(store, { bundledDir: BUNDLED_MODELS_DIR }) });
  await engine.start();
  return {
    db, engine,
    close: async () => {
      await engine.stop();
      await queue.stop();
      await hub.close();
      await store.close();
      await db.close();
    },
  };
}
