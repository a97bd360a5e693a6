// What a job handler sees of the world while it runs: its parameters, progress reporting, per-item
// events, and cancellation. Handlers never touch the job row or the queue themselves.
import { sqlRows } from '../db/sql.js';
import type { DataSource } from 'typeorm';
import type { NotifyHub } from '../pubsub/notify-hub.js';
import type { JobEvent } from '../pubsub/events.js';
import type { Config } from '../config.js';
import type { ResidentModels } from './resident-models.js';
import type { FeatureStore } from './feature-store.js';

export interface JobContext<P> {
  jobId: string;
  params: P;
  /** 1 on the first run; higher when a run is retried after a failure or a lost engine. */
  attempt: number;
  ds: DataSource;
  cfg: Config;
  /** The engine's resident models. */
  models: ResidentModels;
  features: FeatureStore;
  signal: AbortSignal;
  cancelled(): boolean;
  progress(done: number, total: number | null, message?: string | null, metrics?: Record<string, number>): Promise<void>;
  item(e: Omit<Extract<JobEvent, { type: 'item' }>, 'type' | 'jobId'>): Promise<void>;
}

/** Progress rows and events are written at most this often, except the last one. */
const PROGRESS_INTERVAL_MS = 200;

export function createJobContext<P>(args: {
  jobId: string;
  params: P;
  attempt: number;
  ds: DataSource;
  cfg: Config;
  hub: NotifyHub;
  controller: AbortController;
  models: ResidentModels;
  features: FeatureStore;
}): JobContext<P> {
  const { jobId, ds, hub, controller } = args;
  let last = 0;
  return {
    jobId,
    params: args.params,
    attempt: args.attempt,
    ds,
    cfg: args.cfg,
    models: args.models,
    features: args.features,
    signal: controller.signal,
    cancelled: () => controller.signal.aborted,
    async progress(done, total, message = null, metrics) {
      const now = Date.now();
      const final = total !== null && done >= total;
      if (!final && !metrics && now - last < PROGRESS_INTERVAL_MS) return;
      last = now;
      const progress = total ? Math.min(1, done / total) : 0;
      // The same statement reads the cancel flag: a missed NOTIFY still stops the job.
      const rows: { cancel_requested: boolean }[] = await sqlRows(ds,
        `UPDATE jobs SET done = $2, total = $3, progress = $4, message = $5, updated_at = now()
          WHERE id = $1 RETURNING cancel_requested`,
        [jobId, done, total, progress, message],
      );
      if (rows[0]?.cancel_requested) controller.abort();
      await hub.publish({ type: 'progress', jobId, status: 'running', done, total, progress, message, metrics });
    },
    async item(e) {
      await hub.publish({ type: 'item', jobId, ...e });
    },
  };
}
