// The engine process: claims jobs from the queue and runs them, heartbeats so other processes know it
// is alive, and fails over the jobs of engines that stopped heartbeating. It never serves HTTP.
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
import { detectCapabilities, gpuEngineTakes, GPU_PREFERRED, type EngineCapabilities } from './capabilities.js';
import type { ObjectStore } from '../storage/object-store.js';
import { logger } from '../logger.js';

const log = logger('engine');

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
      queue.work(kind, (w) => runClaimedJob({ ds, hub, cfg, engineId: this.id, retryLimit: this.deps.retryLimit, running: this.running, models: this.deps.models, features: this.deps.features }, w), { mayFetch });
    }
    this.timers.push(setInterval(() => this.heartbeat().catch((err) => log.warn('heartbeat failed', { err })), cfg.heartbeatMs));
    this.timers.push(setInterval(() => this.reap().catch((err) => log.warn('reaper failed', { err })), cfg.heartbeatMs));
    await this.reap();
    log.info('engine started', { id: this.id, kinds: this.kinds, gpu: caps.gpu, gpuDetail: caps.gpuDetail, storage: caps.storage });
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
    const { ds, hub, queue, cfg } = this.deps;
    const stale: { id: string }[] = await sqlRows(ds,
      `DELETE FROM engines WHERE heartbeat_at < now() - make_interval(secs => $1) AND id <> $2 RETURNING id`,
      [cfg.engineStaleMs / 1000, this.id],
    );
    for (const { id } of stale) {
      const jobs: { id: string; kind: string; boss_id: string | null; attempts: number }[] = await ds.query(
        `SELECT id, kind, boss_id, attempts FROM jobs WHERE engine_id = $1 AND status = 'running'`,
        [id],
      );
      for (const j of jobs) {
        const reason = `engine ${id} stopped responding during attempt ${j.attempts}`;
        const state = j.boss_id ? await queue.failOver(j.kind, j.boss_id, reason) : 'failed';
        const retrying = state === 'retry' || state === 'created';
        await ds.query(
          `UPDATE jobs SET status = $2, message = $3, error = CASE WHEN $2 = 'failed' THEN $4 END,
                  finished_at = CASE WHEN $2 = 'failed' THEN now() END, engine_id = NULL, updated_at = now()
            WHERE id = $1 AND engine_id = $5 AND status = 'running'`,
          [j.id, retrying ? 'queued' : 'failed', retrying ? `${reason}; retrying` : reason, reason, id],
        );
        log.warn('job failed over', { jobId: j.id, lostEngine: id, retrying });
        await publishStatus(ds, hub, j.id);
        if (retrying) await hub.publish({ type: 'wake', queue: j.kind });
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
      .query(`SELECT id, kind, boss_id FROM jobs WHERE engine_id = $1 AND status = 'running'`, [this.id])
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
