// Live streams of a job's events for subscriptions, fed by the NOTIFY hub. The hub subscription is
// opened before the job's current state is read, so nothing that happens in between is missed. After the
// hub reconnects (the database restarted), the job's row is read again: its progress is sent on, and a job
// that ended meanwhile ends the stream.
import type { JobEvent } from '../pubsub/events.js';
import type { Services } from './index.js';

type Progress = Extract<JobEvent, { type: 'progress' }>;
type Item = Extract<JobEvent, { type: 'item' }>;

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

type JobRow = Awaited<ReturnType<Services['jobs']['get']>>;

const progressOf = (jobId: string, job: JobRow): Progress => ({ type: 'progress', jobId, status: job.status, done: job.done, total: job.total, progress: job.progress, message: job.message });

async function currentProgress(s: Services, jobId: string): Promise<Progress[]> {
  return [progressOf(jobId, await s.jobs.get(jobId))];
}

/** The job's row, read after its live subscription opened; a failed read closes the subscription before it throws. */
async function readJob(s: Services, jobId: string, live: AsyncIterable<unknown> & { return?: () => unknown }): Promise<JobRow> {
  try {
    return await s.jobs.get(jobId);
  } catch (err) {
    await live.return?.();
    throw err;
  }
}

export async function jobProgressStream(s: Services, jobId: string): Promise<AsyncIterable<Progress>> {
  const live = s.hub.subscribe((e): e is Progress => e.type === 'progress' && e.jobId === jobId, {
    until: (e) => TERMINAL.has(e.status),
    resync: () => currentProgress(s, jobId),
  });
  const job = await readJob(s, jobId, live);
  return (async function* () {
    yield progressOf(jobId, job);
    if (TERMINAL.has(job.status)) {
      await live.return?.();
      return;
    }
    yield* live;
  })();
}

export async function jobEventStream(s: Services, jobId: string, pick: (e: Item) => boolean): Promise<AsyncIterable<Item>> {
  const live = s.hub.subscribe(
    (e): e is Item | Progress => (e.type === 'item' && e.jobId === jobId && pick(e)) || (e.type === 'progress' && e.jobId === jobId),
    { until: (e) => e.type === 'progress' && TERMINAL.has(e.status), resync: () => currentProgress(s, jobId) },
  );
  const job = await readJob(s, jobId, live);
  return (async function* () {
    if (TERMINAL.has(job.status)) {
      await live.return?.();
      return;
    }
    for await (const e of live) if (e.type === 'item') yield e;
  })();
}
