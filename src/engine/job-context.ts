// What a job handler sees of the world while it runs: its parameters, progress reporting, per-item
// events, and cancellation. Handlers never touch the job row or the queue themselves.
import { sqlRows } from '../db/sql.js';
import type { DataSource } from 'typeorm';
import type { NotifyHub } from '../pubsub/notify-hub.js';
import type { JobEvent } from '../pubsub/events.js';
import type { Config } from '../config.js';
import type { ResidentModels } from './resident-models.js';
import type { FeatureStore } from './feature-store.js';
import type { JobKind, JobOutcome } from '../jobs/job-kinds.js';
import type { Blobs } from '../storage/blobs.js';
import { createRepositories, type Repositories } from '../db/repositories/index.js';
import { logger } from '../logger.js';

export interface JobContext<P> {
  jobId: string;
  params: P;
  /** 1 on the first run; higher when a run is retried after a failure or a lost engine. */
  attempt: number;
  /** The database as a job sees it: repositories that hold the SQL (src/db/repositories). */
  repos: Repositories;
  cfg: Config;
  /** The engine's resident models. */
  models: ResidentModels;
  features: FeatureStore;
  /** Images, model files, checkpoints: read and written through the object store (storage/blobs.ts). */
  blobs: Blobs;
  /** The engine that runs this step. */
  engineId: string;
  /**
   * The step this run is: the queue (job kind) its entry came from — the job's own kind, or the kind a
   * previous step handed the job on to (an analysis detected on one engine and classified on another).
   */
  step: JobKind;
  /** Whether this engine takes jobs of a kind (LEUKOGRAPH_ENGINE_KINDS). */
  engineTakes(kind: JobKind): boolean;
  /** What the previous step of this job reported when it handed the job on (null on a job's first step). */
  handedOn: Record<string, unknown> | null;
  signal: AbortSignal;
  cancelled(): boolean;
  progress(done: number, total: number | null, message?: string | null, metrics?: Record<string, number>): Promise<void>;
  item(e: Omit<Extract<JobEvent, { type: 'item' }>, 'type' | 'jobId'>): Promise<void>;
  /** What the items reported so far (the job runner writes it into every job's result). */
  itemSummary(): ItemSummary;
}

/** Items a job reported: how many failed, of how many (the last progress total), and why, most common first. */
export interface ItemSummary {
  failed: number;
  succeeded: number;
  of: number | null;
  reasons: { reason: string; count: number; example: string }[];
}

const MAX_REASONS = 10;

/** Where a handed-on step's result keeps its ItemSummary for the step that continues the job. */
export const HANDED_ON_ITEMS = 'items';

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
  blobs: Blobs;
  engineId: string;
  step?: JobKind;
  engineKinds?: readonly JobKind[];
  handedOn?: Record<string, unknown> | null;
}): JobContext<P> {
  const { jobId, ds, hub, controller } = args;
  let last = 0;
  let lastTotal: number | null = null;
  let lastShare = 0;
  // A step that continues a job handed on by another engine's step (an analysis detected on one engine and classified
  // on another) starts from the items that step reported (HANDED_ON_ITEMS in its result): the job's summary is the whole job's.
  const carried = (args.handedOn?.[HANDED_ON_ITEMS] ?? null) as ItemSummary | null;
  let failed = carried?.failed ?? 0;
  let succeeded = carried?.succeeded ?? 0;
  const reasons = new Map<string, { count: number; example: string }>((carried?.reasons ?? []).map((r) => [r.reason, { count: r.count, example: r.example }]));
  return {
    jobId,
    params: args.params,
    attempt: args.attempt,
    repos: createRepositories(ds),
    cfg: args.cfg,
    models: args.models,
    features: args.features,
    blobs: args.blobs,
    engineId: args.engineId,
    step: args.step ?? ('' as JobKind),
    engineTakes: (kind) => !args.engineKinds || args.engineKinds.includes(kind),
    handedOn: args.handedOn ?? null,
    signal: controller.signal,
    cancelled: () => controller.signal.aborted,
    async progress(done, total, message = null, metrics) {
      lastTotal = total;
      const now = Date.now();
      const final = total !== null && done >= total;
      if (!final && !metrics && now - last < PROGRESS_INTERVAL_MS) return;
      last = now;
      // Without a total (a stage's message) the share last written stays: a long stage does not read 0 % throughout.
      const progress = total ? Math.min(1, done / total) : lastShare;
      lastShare = progress;
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
      if (e.ok) succeeded++;
      else {
        failed++;
        const reason = (e.error ?? 'no reason given').slice(0, 300);
        const r = reasons.get(reason);
        if (r) r.count++;
        else if (reasons.size < 100) reasons.set(reason, { count: 1, example: e.itemId });
      }
      await hub.publish({ type: 'item', jobId, ...e });
    },
    itemSummary() {
      const top = [...reasons].map(([reason, r]) => ({ reason, ...r })).sort((a, b) => b.count - a.count).slice(0, MAX_REASONS);
      const of = carried?.of != null && lastTotal !== null ? Math.max(carried.of, lastTotal) : (lastTotal ?? carried?.of ?? null);
      return { failed, succeeded, of, reasons: top };
    },
  };
}

/**
 * Every job's result says how many items failed and why (`result.itemFailures`); a job whose every item
 * failed ends FAILED, whatever its handler concluded, and one with some failures says so in its message.
 */
export function withItemSummary(outcome: JobOutcome, items: ItemSummary): JobOutcome {
  if (outcome.status === 'handed-on') return outcome; // the step that ends the job reports the items
  const result = { ...outcome.result, itemFailures: { failed: items.failed, of: items.of, reasons: items.reasons } };
  if (outcome.status !== 'succeeded') return { ...outcome, result };
  if (items.failed === 0) return { ...outcome, result };
  const why = items.reasons.slice(0, 3).map((r) => `${r.reason} (${r.count}${r.count > 1 ? ' items' : ' item'})`).join('; ');
  const of = items.of ?? items.failed + items.succeeded;
  if (items.succeeded === 0 && items.failed >= of) return { status: 'failed', error: `every item failed (${items.failed} of ${of}): ${why}`, result };
  return { status: 'succeeded', result, message: `${outcome.message ?? 'done'}; ${items.failed} of ${of} items failed: ${why}` };
}

type ProgressTarget = { progress: JobContext<unknown>['progress']; jobId?: string };

const log = logger('job');

/**
 * Progress from a synchronous callback (a tree, an epoch) that cannot await it. A write that fails (the database away
 * for a moment) is logged, never left unhandled: an unhandled rejection ends the engine process and every job on it.
 * The next report, or the job's end, writes the row again.
 */
export function progressSoon(ctx: ProgressTarget, done: number, total: number | null, message?: string | null, metrics?: Record<string, number>): void {
  ctx.progress(done, total, message, metrics).catch((err: unknown) => {
    log.warn(`job ${ctx.jobId ?? '?'}: a progress report was not written: ${err instanceof Error ? err.message : String(err)}`);
  });
}

/**
 * A forest's per-tree callback that reports progress every `step` trees and at the last one (a tree takes
 * milliseconds: a report per tree would write the job's row hundreds of times a second). `message` words it.
 */
export function treeProgress(ctx: ProgressTarget, message: (done: number, total: number) => string, step = 10): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    if (done - last < step && done < total) return;
    last = done;
    progressSoon(ctx, done, total, message(done, total));
  };
}
