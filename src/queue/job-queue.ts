// The job queue: pg-boss (claims, retries, expiry, dead letters) in the same PostgreSQL. The only module
// that imports pg-boss. A queue per job kind; the payload is just the id of the user-facing job row.
import PgBoss from 'pg-boss';
import pg from 'pg';
import { logger } from '../logger.js';

const log = logger('queue');

export const DEAD_LETTER_QUEUE = 'leukograph-dead';

export interface QueuedWork {
  jobId: string;
  bossId: string;
  queue: string;
  /** 0 on the first run, then one more per retry. */
  retryCount: number;
}

export interface JobQueueOptions {
  /** How often an idle worker polls; a NOTIFY wakes it sooner. */
  pollingIntervalSeconds?: number;
  retryLimit?: number;
}

export class JobQueue {
  private boss: PgBoss;
  private loops = new Map<string, { stop: boolean; wake: (() => void) | null; finished: Promise<void> }>();
  private started = false;

  constructor(private readonly url: string, private readonly opts: JobQueueOptions = {}) {
    this.boss = new PgBoss({ connectionString: url, schema: 'pgboss', application_name: 'leukograph-queue' });
    this.boss.on('error', (err) => log.error('pg-boss error', { err }));
  }

  static queueName(kind: string): string {
    return `leukograph-${kind}`;
  }

  /** The job kind of a queue name (queueName's inverse). */
  static kindOf(queue: string): string {
    return queue.replace(/^leukograph-/, '');
  }

  async start(kinds: readonly string[]): Promise<void> {
    await this.boss.start();
    this.started = true;
    // Processes that start together (a deployment coming up) would create the queues at once, and
    // pg-boss's partition DDL deadlocks between two of them: one process at a time creates them.
    const lock = new pg.Client({ connectionString: this.url, application_name: 'leukograph-queue-setup' });
    await lock.connect();
    try {
      await lock.query(`SELECT pg_advisory_lock(771002)`);
      await this.ensureQueue(DEAD_LETTER_QUEUE, undefined);
      for (const kind of kinds) {
        const name = JobQueue.queueName(kind);
        await this.ensureQueue(name, {
            name,
            retryLimit: this.opts.retryLimit ?? 2,
            retryDelay: 1,
            // A backstop only: engines that stop heartbeating have their jobs failed over much sooner.
            expireInSeconds: 23 * 3600, // pg-boss's maximum is 24 h
            deadLetter: DEAD_LETTER_QUEUE,
          });
      }
    } finally {
      await lock.end().catch(() => undefined); // ending the session releases the lock
    }
  }

  private async ensureQueue(name: string, options: PgBoss.Queue | undefined): Promise<void> {
    if (await this.boss.getQueue(name)) return;
    try {
      await this.boss.createQueue(name, options);
    } catch (err) {
      // Another process may have created it between the check and here; anything else is real.
      if (!(await this.boss.getQueue(name))) throw err;
    }
  }

  async send(kind: string, jobId: string): Promise<string> {
    const id = await this.boss.send(JobQueue.queueName(kind), { jobId });
    if (!id) throw new Error(`queue refused job ${jobId}`);
    return id;
  }

  /**
   * Claims jobs of `kind` one at a time and runs `handler`. The handler says how its run ended: done
   * (complete it), error (fail it: pg-boss retries while retries remain) or abandoned (another engine
   * owns the job now: leave pg-boss's record alone). Fetching explicitly, rather than through
   * pg-boss's work(), is what makes "abandoned" possible.
   */
  work(
    kind: string,
    handler: (w: QueuedWork) => Promise<'done' | 'abandoned' | { error: string }>,
    opts: { mayFetch?: () => Promise<boolean> } = {},
  ): void {
    const queue = JobQueue.queueName(kind);
    const loop = { stop: false, wake: null as (() => void) | null, finished: Promise.resolve() };
    this.loops.set(kind, loop);
    loop.finished = (async () => {
      while (!loop.stop) {
        let jobs: PgBoss.JobWithMetadata<{ jobId: string }>[] = [];
        try {
          // A worker may be told to leave the queue alone for now (a GPU-heavy kind while a GPU engine takes it).
          if (!opts.mayFetch || (await opts.mayFetch())) jobs = await this.boss.fetch<{ jobId: string }>(queue, { batchSize: 1, includeMetadata: true });
        } catch (err) {
          if (!loop.stop) log.warn('fetch failed', { queue, err });
        }
        const job = jobs[0];
        if (!job) {
          await new Promise<void>((r) => {
            const t = setTimeout(r, (this.opts.pollingIntervalSeconds ?? 2) * 1000);
            loop.wake = () => {
              clearTimeout(t);
              r();
            };
          });
          loop.wake = null;
          continue;
        }
        let outcome: Awaited<ReturnType<typeof handler>>;
        try {
          outcome = await handler({ jobId: job.data.jobId, bossId: job.id, queue, retryCount: job.retryCount });
        } catch (err) {
          outcome = { error: (err as Error).message ?? String(err) };
        }
        try {
          if (outcome === 'done') await this.boss.complete(queue, job.id);
          else if (outcome !== 'abandoned') await this.boss.fail(queue, job.id, { reason: outcome.error });
        } catch (err) {
          log.warn('could not record job outcome in the queue', { queue, err });
        }
      }
    })();
  }

  /** Makes an idle worker of `kind` poll now (called when a NOTIFY says a job was queued). */
  wake(kind: string): void {
    this.loops.get(kind)?.wake?.();
  }

  async cancel(kind: string, bossId: string): Promise<void> {
    await this.boss.cancel(JobQueue.queueName(kind), bossId);
  }

  /**
   * Fails a claimed job whose engine vanished: pg-boss retries it while retries remain. Returns the
   * state pg-boss then gives it ('retry' or 'failed').
   */
  async failOver(kind: string, bossId: string, reason: string): Promise<string | null> {
    const name = JobQueue.queueName(kind);
    await this.boss.fail(name, bossId, { reason });
    const job = await this.boss.getJobById(name, bossId);
    return job?.state ?? null;
  }

  /** Of these queue entries, those claimed (active) for more than `seconds`: the sweep's stuck claims. */
  async activeSince(kind: string, bossIds: string[], seconds: number): Promise<Set<string>> {
    if (bossIds.length === 0) return new Set();
    const r = await this.boss.getDb().executeSql(
      `SELECT id::text FROM pgboss.job WHERE name = $1 AND id = ANY($2::uuid[]) AND state = 'active' AND started_on < now() - make_interval(secs => $3)`,
      [JobQueue.queueName(kind), bossIds, seconds],
    );
    return new Set(r.rows.map((x: { id: string }) => x.id));
  }

  /** Stops claiming; resolves when no handler runs any more. */
  async stopWorkers(): Promise<void> {
    for (const loop of this.loops.values()) {
      loop.stop = true;
      loop.wake?.();
    }
    await Promise.all([...this.loops.values()].map((l) => l.finished));
    this.loops.clear();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.boss.stop({ graceful: false, wait: true, close: true }).catch(() => undefined);
  }
}
