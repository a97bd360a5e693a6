// Runs one claimed job: marks its row running on this engine, calls the kind's handler with a context,
// and writes the outcome (with what its items reported: withItemSummary). Every row update is guarded by
// engine_id, so an engine that was presumed dead (and whose job went to another engine) cannot overwrite
// the newer run's status. The outcome is written even across a short database outage; a job stays in the
// engine's `running` map until then, so that the engine's sweep (Engine.sweep) never takes it for lost.
import { sqlRows } from '../db/sql.js';
import type { DataSource } from 'typeorm';
import type { NotifyHub } from '../pubsub/notify-hub.js';
import type { Config } from '../config.js';
import type { QueuedWork } from '../queue/job-queue.js';
import type { JobOutcome, JobKind } from '../jobs/job-kinds.js';
import { createJobContext, withItemSummary } from './job-context.js';
import { retryWhileDatabaseDown } from '../db/outage.js';
import type { ResidentModels } from './resident-models.js';
import type { FeatureStore } from './feature-store.js';
import type { Blobs } from '../storage/blobs.js';
import { JobQueue } from '../queue/job-queue.js';
import { handlers } from './handlers/index.js';
import { logger } from '../logger.js';

const log = logger('job-runner');

export interface RunnerDeps {
  ds: DataSource;
  hub: NotifyHub;
  cfg: Config;
  engineId: string;
  retryLimit: number;
  models: ResidentModels;
  features: FeatureStore;
  blobs: Blobs;
  /** The kinds this engine takes (a handler may hand a step on to an engine that takes another kind). */
  kinds: readonly JobKind[];
  /** Where a handed-on step is queued. */
  queue: Pick<JobQueue, 'send'>;
  /** Running jobs of this engine, so that cancel events and a lost lease can abort them. */
  running: Map<string, AbortController>;
}

interface JobRow {
  id: string;
  kind: JobKind;
  params: Record<string, unknown>;
  attempts: number;
  done: number;
  total: number | null;
  progress: number;
  message: string | null;
  step: string | null;
  result: Record<string, unknown> | null;
}

/** How a run ended, for the queue: see JobQueue.work. */
export type RunEnd = 'done' | 'abandoned' | { error: string };

export async function runClaimedJob(deps: RunnerDeps, work: QueuedWork): Promise<RunEnd> {
  const { ds, hub, engineId } = deps;
  const claimed: JobRow[] = await sqlRows(ds,
    `UPDATE jobs SET status = 'running', attempts = attempts + 1, engine_id = $2, boss_id = $3,
            started_at = coalesce(started_at, now()), updated_at = now(), error = NULL
      WHERE id = $1 AND status IN ('queued', 'running') AND NOT cancel_requested
      RETURNING id, kind, params, attempts, done, total, progress, message, step, result`,
    [work.jobId, engineId, work.bossId],
  );
  const job = claimed[0];
  if (!job) {
    // Cancelled (or removed) before any engine started it: nothing to do, and nothing to retry.
    await ds.query(`UPDATE jobs SET status = 'cancelled', finished_at = coalesce(finished_at, now()) WHERE id = $1 AND status IN ('queued','running')`, [work.jobId]);
    return 'done';
  }
  const controller = new AbortController();
  deps.running.set(job.id, controller);
  try {
    return await runAndRecord(deps, work, job, controller);
  } finally {
    deps.running.delete(job.id);
  }
}

async function runAndRecord(deps: RunnerDeps, work: QueuedWork, job: JobRow, controller: AbortController): Promise<RunEnd> {
  const { ds, hub, engineId } = deps;
  const handler = handlers[job.kind];
  await hub.publish({ type: 'progress', jobId: job.id, status: 'running', done: job.done, total: job.total, progress: job.progress, message: job.message });
  log.info('job started', { jobId: job.id, kind: job.kind, attempt: job.attempts });
  let outcome: JobOutcome;
  try {
    if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
    const ctx = createJobContext({
      jobId: job.id, params: job.params, attempt: job.attempts, ds, cfg: deps.cfg, hub, controller, models: deps.models, features: deps.features,
      blobs: deps.blobs, engineId, step: JobQueue.kindOf(work.queue) as JobKind, engineKinds: deps.kinds, handedOn: job.step ? job.result : null,
    });
    outcome = withItemSummary(await handler(ctx), ctx.itemSummary());
  } catch (err) {
    if (controller.signal.reason === 'lease-lost') return 'abandoned'; // another engine owns it now
    const message = (err as Error).message ?? String(err);
    const retrying = work.retryCount < deps.retryLimit;
    log.error('job threw', { jobId: job.id, err, retrying });
    await retryWhileDatabaseDown(() =>
      ds.query(
        `UPDATE jobs SET status = $3, error = $4, message = $5, updated_at = now(), finished_at = CASE WHEN $3 = 'failed' THEN now() END
          WHERE id = $1 AND engine_id = $2`,
        [job.id, engineId, retrying ? 'queued' : 'failed', message, retrying ? `attempt ${job.attempts} failed; retrying` : null],
      ),
    );
    await publishStatus(ds, hub, job.id).catch((e) => log.warn('could not publish the status', { jobId: job.id, err: e }));
    return { error: message }; // pg-boss records the failure and retries while retries remain
  }
  if (controller.signal.reason === 'lease-lost') return 'abandoned';
  if (outcome.status === 'handed-on') return handOn(deps, job, outcome);
  const rows = await retryWhileDatabaseDown(() =>
    sqlRows(ds,
      `UPDATE jobs SET status = $3, result = $4, error = $5, message = coalesce($6, message), finished_at = now(), updated_at = now(),
              progress = CASE WHEN $3 = 'succeeded' THEN 1 ELSE progress END
        WHERE id = $1 AND engine_id = $2 RETURNING id`,
      [
        job.id, engineId, outcome.status, outcome.result ?? null,
        outcome.status === 'failed' ? outcome.error : null,
        outcome.status === 'succeeded' ? (outcome.message ?? null) : outcome.status === 'cancelled' ? 'cancelled' : null,
      ],
    ),
  );
  if (rows.length === 0) log.warn('job row taken over by another engine; outcome dropped', { jobId: job.id });
  log.info('job ended', { jobId: job.id, status: outcome.status });
  await publishStatus(ds, hub, job.id).catch((e) => log.warn('could not publish the status', { jobId: job.id, err: e }));
  return rows.length === 0 ? 'abandoned' : 'done';
}

/**
 * Ends this step and queues the job's next one under the kind `to`: the row goes back to queued (no
 * engine, the step and what this step found kept), then the queue entry is sent, so that the engine that
 * claims it always finds the row ready. This step's queue entry completes.
 */
async function handOn(deps: RunnerDeps, job: JobRow, outcome: Extract<JobOutcome, { status: 'handed-on' }>): Promise<RunEnd> {
  const { ds, hub, engineId } = deps;
  const rows = await retryWhileDatabaseDown(() =>
    sqlRows(ds,
      `UPDATE jobs SET status = 'queued', step = $3, result = $4, message = $5, engine_id = NULL, boss_id = NULL, updated_at = now()
        WHERE id = $1 AND engine_id = $2 AND status = 'running' RETURNING id`,
      [job.id, engineId, outcome.to, outcome.result, outcome.message],
    ),
  );
  if (rows.length === 0) {
    log.warn('job row taken over by another engine; step not handed on', { jobId: job.id });
    return 'abandoned';
  }
  try {
    const bossId = await deps.queue.send(outcome.to, job.id);
    await ds.query(`UPDATE jobs SET boss_id = $2 WHERE id = $1 AND boss_id IS NULL`, [job.id, bossId]);
  } catch (err) {
    const error = `could not hand the job on to a ${outcome.to} step: ${(err as Error).message}`;
    await ds.query(`UPDATE jobs SET status = 'failed', error = $2, finished_at = now(), updated_at = now() WHERE id = $1 AND status = 'queued'`, [job.id, error]);
  }
  log.info('job step handed on', { jobId: job.id, kind: job.kind, to: outcome.to });
  await publishStatus(ds, hub, job.id).catch((e) => log.warn('could not publish the status', { jobId: job.id, err: e }));
  await hub.publish({ type: 'wake', queue: outcome.to }).catch(() => undefined);
  return 'done';
}

export async function publishStatus(ds: DataSource, hub: NotifyHub, jobId: string): Promise<void> {
  const [j] = await ds.query(`SELECT status, done, total, progress, message FROM jobs WHERE id = $1`, [jobId]);
  if (j) await hub.publish({ type: 'progress', jobId, status: j.status, done: j.done, total: j.total, progress: j.progress, message: j.message });
}
