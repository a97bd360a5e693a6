// The engine process: claims jobs from the queue and runs them, heartbeats so other processes know it
// is alive, fails over the jobs of engines that stopped heartbeating, and sweeps up jobs that a database
// outage left without anyone running them. It never serves HTTP.
import { sqlRows } from '../db/sql.js';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Config } from '../config.js';
import type { NotifyHub } from '../pubsub/notify-hub.js';
import { JobQueue } from '../queue/job-queue.js';
import { JOB_KINDS, type JobKind } from '../jobs/job-kinds.js';
import type { EngineStatusDoc } from '../db/entities/engine.entity.js';
import type { ResidentModels } from './resident-models.js';
import type { FeatureStore } from './feature-store.js';
import { handlers } from './handlers/index.js';
import { runClaimedJob, publishStatus } from './job-runner.js';
import { isConnectionError } from '../db/outage.js';
import { detectCapabilities, gpuEngineTakes, GPU_PREFERRED, type EngineCapabilities } from './capabilities.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { Blobs } from '../storage/blobs.js';
import { logger } from '../logger.js';

const log = logger('engine');

/** How often the sweep looks for jobs an outage left behind, and how long a row must be untouched to count. */
const SWEEP_EVERY_MS = 5000;
const LOST_AFTER_MS = 5000;

interface LostJob {
  id: string;
  kind: string;
  boss_id: string | null;
  attempts: number;
}

export interface EngineDeps {
  ds: DataSource;
  hub: NotifyHub;
  cfg: Config;
  queue: JobQueue;
  retryLimit: number;
  /** The resident models; their runtimes and devices are reported in the engine status. */
  models: ResidentModels;
  features: FeatureStore;
  store: ObjectStore;
  blobs: Blobs;
}

export class Engine {
  readonly id = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private running = new Map<string, AbortController>();
  private timers: NodeJS.Timeout[] = [];
  private offHub: (() => void) | null = null;
  private stopping = false;
  private capabilities: EngineCapabilities | null = null;

  constructor(private readonly deps: EngineDeps) {}

  /** Kinds this engine runs: those with a handler, of those LEUKOGRAPH_ENGINE_KINDS names (default all). */
  get kinds(): JobKind[] {
    const only = this.deps.cfg.engineKinds;
    return JOB_KINDS.filter((k) => handlers[k] && (!only || only.includes(k)));
  }

  async start(): Promise<void> {
    const { ds, hub, cfg, queue } = this.deps;
    const caps = await detectCapabilities(cfg.engineGpu, this.kinds, this.deps.store.location);
    this.capabilities = caps;
    await ds.query(
      `INSERT INTO engines (id, hostname, pid, started_at, heartbeat_at, status) VALUES ($1, $2, $3, now(), now(), $4)`,
      [this.id, hostname(), process.pid, this.status()],
    );
    this.offHub = hub.on((e) => {
      if (e.type === 'cancel') this.running.get(e.jobId)?.abort('cancelled');
      else if (e.type === 'wake') queue.wake(e.queue);
    });
    for (const kind of this.kinds) {
      // Without a GPU, a GPU-heavy kind is left to live engines with one, and taken when there are none.
      const mayFetch = !caps.gpu && GPU_PREFERRED.includes(kind) ? async () => !(await gpuEngineTakes(ds, kind, this.id, cfg.engineStaleMs)) : undefined;
      queue.work(kind, (w) => runClaimedJob({
        ds, hub, cfg, engineId: this.id, retryLimit: this.deps.retryLimit, running: this.running, models: this.deps.models, features: this.deps.features,
        blobs: this.deps.blobs, kinds: this.kinds, queue,
      }, w), { mayFetch });
    }
    const every = (ms: number, what: string, fn: () => Promise<void>) =>
      this.timers.push(setInterval(() => fn().then(() => this.databaseBack(), (err) => this.loopFailed(what, err)), ms));
    every(cfg.heartbeatMs, 'heartbeat', () => this.heartbeat());
    every(cfg.heartbeatMs, 'reaper', () => this.reap());
    every(SWEEP_EVERY_MS, 'sweep', () => this.sweep());
    await this.reap();
    log.info('engine started', { id: this.id, kinds: this.kinds, gpu: caps.gpu, gpuDetail: caps.gpuDetail, storage: caps.storage });
  }

  /** While the database is unreachable, the loops say so once (and every minute), not on every tick. */
  private databaseDownSince: number | null = null;
  private lastDownLog = 0;

  private loopFailed(what: string, err: unknown): void {
    if (!isConnectionError(err)) {
      log.warn(`${what} failed`, { err: err as Error });
      return;
    }
    const now = Date.now();
    this.databaseDownSince ??= now;
    if (now - this.lastDownLog < 60_000) return;
    this.lastDownLog = now;
    log.warn('database unreachable; heartbeats and failover wait for it', { downMs: now - this.databaseDownSince, err: err as Error });
  }

  private databaseBack(): void {
    if (this.databaseDownSince === null) return;
    log.info('database reachable again', { downMs: Date.now() - this.databaseDownSince });
    this.databaseDownSince = null;
    this.lastDownLog = 0;
  }

  status(): EngineStatusDoc {
    const m = process.memoryUsage();
    const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
    return {
      ...(this.capabilities ? { capabilities: this.capabilities } : {}),
      ...this.deps.models.status(),
      memory: { rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), externalMb: mb(m.external) },
      currentJobs: [...this.running.keys()],
    };
  }

  private async heartbeat(): Promise<void> {
    const rows = await sqlRows(this.deps.ds, `UPDATE engines SET heartbeat_at = now(), status = $2 WHERE id = $1 RETURNING id`, [this.id, this.status()]);
    if (rows.length === 0 && !this.stopping) {
      // Presumed dead by another process (a long stall): its jobs were handed over, so stop working on
      // them and come back as a live engine.
      log.warn('engine lease lost; abandoning running jobs', { jobs: [...this.running.keys()] });
      for (const c of this.running.values()) c.abort('lease-lost');
      this.running.clear();
      await this.deps.ds.query(
        `INSERT INTO engines (id, hostname, pid, started_at, heartbeat_at, status) VALUES ($1, $2, $3, now(), now(), $4) ON CONFLICT (id) DO NOTHING`,
        [this.id, hostname(), process.pid, this.status()],
      );
    }
  }

  /**
   * Fails over the jobs of engines that have been silent for longer than engineStaleMs. Deleting the
   * engine row is the claim: of several reapers, only the one whose DELETE returns the row acts.
   */
  async reap(): Promise<void> {
    const { ds, cfg } = this.deps;
    const stale: { id: string }[] = await sqlRows(ds,
      `DELETE FROM engines WHERE heartbeat_at < now() - make_interval(secs => $1) AND id <> $2 RETURNING id`,
      [cfg.engineStaleMs / 1000, this.id],
    );
    for (const { id } of stale) {
      const jobs: LostJob[] = await ds.query(`SELECT id, coalesce(step, kind) AS kind, boss_id, attempts FROM jobs WHERE engine_id = $1 AND status = 'running'`, [id]);
      for (const j of jobs) await this.failOver(j, id, `engine ${id} stopped responding during attempt ${j.attempts}`);
    }
  }

  /** Hands a job whose run was lost back to the queue (pg-boss retries it while retries remain) or fails it. */
  private async failOver(j: LostJob, fromEngine: string, reason: string): Promise<void> {
    const { ds, hub, queue } = this.deps;
    const state = j.boss_id ? await queue.failOver(j.kind, j.boss_id, reason) : 'failed';
    const retrying = state === 'retry' || state === 'created';
    await ds.query(
      `UPDATE jobs SET status = $2, message = $3, error = CASE WHEN $2 = 'failed' THEN $4 END,
              finished_at = CASE WHEN $2 = 'failed' THEN now() END, engine_id = NULL, updated_at = now()
        WHERE id = $1 AND engine_id = $5 AND status = 'running'`,
      [j.id, retrying ? 'queued' : 'failed', retrying ? `${reason}; retrying` : reason, reason, fromEngine],
    );
    log.warn('job failed over', { jobId: j.id, lostEngine: fromEngine, retrying, reason });
    await publishStatus(ds, hub, j.id);
    if (retrying) await hub.publish({ type: 'wake', queue: j.kind });
  }

  /**
   * Jobs a database outage left with nobody running them, found within SWEEP_EVERY_MS of its end:
   * - rows running on this engine that it no longer runs (their run failed while the outcome could not be written);
   * - rows running on an engine whose row is gone (a reaper was cut off between deleting it and failing its jobs over);
   * - rows queued whose queue entry is stuck active (claimed from the queue, then the row could not be).
   * Each is retried or failed like a job of a dead engine. Rows touched in the last LOST_AFTER_MS are left alone.
   */
  async sweep(): Promise<void> {
    const { ds, queue } = this.deps;
    const mine = [...this.running.keys()];
    const lostAfter = Math.max(LOST_AFTER_MS, 2 * this.deps.cfg.heartbeatMs) / 1000;
    const orphans = await sqlRows<LostJob>(ds,
      `UPDATE jobs j SET engine_id = $1
        WHERE j.status = 'running' AND j.updated_at < now() - make_interval(secs => $3)
          AND ((j.engine_id = $1 AND NOT j.id = ANY($2::uuid[]))
               OR (j.engine_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM engines e WHERE e.id = j.engine_id)))
        RETURNING j.id, coalesce(j.step, j.kind) AS kind, j.boss_id, j.attempts`,
      [this.id, mine, lostAfter],
    );
    for (const j of orphans) {
      if (this.running.has(j.id)) continue;
      await this.failOver(j, this.id, `attempt ${j.attempts} was cut off (the database was unreachable)`);
    }
    const queued: LostJob[] = await ds.query(
      `SELECT id, coalesce(step, kind) AS kind, boss_id, attempts FROM jobs WHERE status = 'queued' AND boss_id IS NOT NULL AND updated_at < now() - make_interval(secs => $1) LIMIT 200`,
      [lostAfter],
    );
    for (const kind of new Set(queued.map((j) => j.kind))) {
      const ofKind = queued.filter((j) => j.kind === kind);
      const stuck = await queue.activeSince(kind, ofKind.map((j) => j.boss_id!), lostAfter);
      for (const j of ofKind.filter((x) => stuck.has(x.boss_id!))) {
        const state = await queue.failOver(j.kind, j.boss_id!, 'claimed from the queue but never started (the database was unreachable)');
        if (state === 'failed') {
          await ds.query(
            `UPDATE jobs SET status = 'failed', error = $2, finished_at = now(), updated_at = now() WHERE id = $1 AND status = 'queued'`,
            [j.id, 'claimed from the queue but never started (the database was unreachable), and no retries were left'],
          );
          await publishStatus(ds, this.deps.hub, j.id);
        } else await this.deps.hub.publish({ type: 'wake', queue: j.kind });
        log.warn('stuck queued job handed back to the queue', { jobId: j.id, state });
      }
    }
  }

  /** Stops taking work; running jobs are handed back to the queue to be retried by any engine. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.offHub?.();
    const { ds, queue } = this.deps;
    const workersStopped = queue.stopWorkers();
    const jobs: { id: string; kind: string; boss_id: string | null }[] = await ds
      .query(`SELECT id, coalesce(step, kind) AS kind, boss_id FROM jobs WHERE engine_id = $1 AND status = 'running'`, [this.id])
      .catch(() => []);
    for (const c of this.running.values()) c.abort('lease-lost');
    for (const j of jobs) {
      const state = j.boss_id ? await queue.failOver(j.kind, j.boss_id, `engine ${this.id} shut down`).catch(() => null) : null;
      await ds
        .query(`UPDATE jobs SET status = $2, engine_id = NULL, message = $3, updated_at = now() WHERE id = $1 AND engine_id = $4`, [
          j.id, state === 'retry' ? 'queued' : 'failed', `engine ${this.id} shut down`, this.id,
        ])
        .catch(() => undefined);
    }
    await workersStopped;
    await ds.query(`DELETE FROM engines WHERE id = $1`, [this.id]).catch(() => undefined);
  }
}
