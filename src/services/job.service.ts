// Jobs as users see them: create (row + queue message), read, cancel. The engine side that runs them
// is engine/job-runner.ts.
import { sqlRows } from '../db/sql.js';
import type { DataSource, Repository } from 'typeorm';
import { JobEntity } from '../db/entities/index.js';
import type { JobKind, JobParamsByKind } from '../jobs/job-kinds.js';
import type { JobQueue } from '../queue/job-queue.js';
import type { NotifyHub } from '../pubsub/notify-hub.js';
import { NotFoundError, ConflictError } from './errors.js';

export class JobService {
  private jobs: Repository<JobEntity>;

  constructor(
    private readonly ds: DataSource,
    private readonly queue: JobQueue,
    private readonly hub: NotifyHub,
    /** Engine liveness (Config.heartbeatMs, engineStaleMs): a running job no live engine lists is ended by cancel at once. */
    private readonly liveness: { heartbeatMs: number; engineStaleMs: number } = { heartbeatMs: 2000, engineStaleMs: 10_000 },
  ) {
    this.jobs = ds.getRepository(JobEntity);
  }

  async create<K extends JobKind>(kind: K, params: JobParamsByKind[K]): Promise<JobEntity> {
    const job = await this.jobs.save(this.jobs.create({ kind, params: params as unknown as Record<string, unknown>, status: 'queued' }));
    try {
      const bossId = await this.queue.send(kind, job.id);
      await this.jobs.update(job.id, { bossId });
      job.bossId = bossId;
    } catch (err) {
      // A job that never reached the queue must not sit "queued" forever.
      await this.jobs.update(job.id, { status: 'failed', error: `could not be queued: ${(err as Error).message}`, finishedAt: new Date() });
      throw err;
    }
    await this.hub.publish({ type: 'wake', queue: kind });
    return job;
  }

  find(id: string): Promise<JobEntity | null> {
    return this.jobs.findOneBy({ id });
  }

  async get(id: string): Promise<JobEntity> {
    const job = await this.jobs.findOneBy({ id });
    if (!job) throw new NotFoundError('job', id);
    return job;
  }

  async list(opts: { status?: string; kind?: string; limit: number; offset: number }): Promise<{ items: JobEntity[]; total: number }> {
    const where: Record<string, string> = {};
    if (opts.status) where.status = opts.status;
    if (opts.kind) where.kind = opts.kind;
    const [items, total] = await this.jobs.findAndCount({ where, order: { createdAt: 'DESC' }, take: opts.limit, skip: opts.offset });
    return { items, total };
  }

  /**
   * Cancels a job. A queued job is cancelled at once; a running one is asked to stop and its engine
   * finishes the current item, keeps what it wrote, and marks the job cancelled.
   */
  async cancel(id: string): Promise<JobEntity> {
    const job = await this.get(id);
    if (job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled') {
      throw new ConflictError(`job ${id} has already ended (${job.status})`);
    }
    const rows: JobEntity[] = await sqlRows(this.ds,
      `UPDATE jobs SET status = 'cancelled', cancel_requested = true, finished_at = now(), updated_at = now(),
              message = 'cancelled before it started'
        WHERE id = $1 AND status = 'queued' RETURNING id`,
      [id],
    );
    if (rows.length > 0) {
      if (job.bossId) await this.queue.cancel(job.step ?? job.kind, job.bossId).catch(() => undefined);
      const j = await this.get(id);
      await this.hub.publish({ type: 'progress', jobId: id, status: 'cancelled', done: j.done, total: j.total, progress: j.progress, message: j.message });
      return j;
    }
    // A running job that no live engine lists (its run was cut off by an outage, or its engine died and
    // no other is there to fail it over) cannot report: end it now. A job claimed (or updated) in the last
    // two heartbeats may not be listed yet and is left to its engine.
    const orphaned = await sqlRows(this.ds,
      `UPDATE jobs j SET status = 'cancelled', cancel_requested = true, finished_at = now(), updated_at = now(), engine_id = NULL,
              message = 'cancelled; no engine was running it'
        WHERE j.id = $1 AND j.status = 'running' AND j.updated_at < now() - make_interval(secs => $3)
          AND NOT EXISTS (SELECT 1 FROM engines e WHERE e.id = j.engine_id AND e.heartbeat_at > now() - make_interval(secs => $2)
                                                    AND (e.status -> 'currentJobs') ? j.id::text)
        RETURNING id`,
      [id, this.liveness.engineStaleMs / 1000, (2 * this.liveness.heartbeatMs) / 1000],
    );
    if (orphaned.length > 0) {
      if (job.bossId) await this.queue.cancel(job.step ?? job.kind, job.bossId).catch(() => undefined);
      const j = await this.get(id);
      await this.hub.publish({ type: 'progress', jobId: id, status: 'cancelled', done: j.done, total: j.total, progress: j.progress, message: j.message });
      return j;
    }
    await this.ds.query(`UPDATE jobs SET cancel_requested = true, updated_at = now() WHERE id = $1`, [id]);
    await this.hub.publish({ type: 'cancel', jobId: id });
    const j = await this.get(id);
    return j;
  }
}
