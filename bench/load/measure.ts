// What the fault and load suite counts: request latencies and errors of query clients, the events a
// subscriber received against the rows a job wrote, and one row of the results table per scenario.
import type { Client } from 'graphql-ws';
import pg from 'pg';
import type { Target } from './target.js';

export interface ResultRow {
  scenario: string;
  database: 'embedded' | 'server';
  requests: number;
  errors: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  rowsLost: number | null;
  rowsDuplicated: number | null;
  eventsMissed: number | null;
  /** From the end of the fault to the system doing the interrupted work again (see each scenario). */
  recoveryMs: number | null;
  outcome: string;
}

/** Nearest-rank percentile of latencies in ms; null for none. */
export function percentile(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!);
}

export class Recorder {
  latencies: number[] = [];
  requests = 0;
  errors = 0;
  kinds = new Map<string, number>();

  record(ms: number, error: string | null): void {
    this.requests++;
    this.latencies.push(ms);
    if (error) {
      this.errors++;
      const k = error.slice(0, 80);
      this.kinds.set(k, (this.kinds.get(k) ?? 0) + 1);
    }
  }

  stats(): Pick<ResultRow, 'requests' | 'errors' | 'p50' | 'p95' | 'p99'> {
    return { requests: this.requests, errors: this.errors, p50: percentile(this.latencies, 50), p95: percentile(this.latencies, 95), p99: percentile(this.latencies, 99) };
  }

  errorSummary(): string {
    return [...this.kinds].map(([k, n]) => `${n}× ${k}`).join('; ');
  }
}

export const PLAIN_QUERIES: { name: string; query: string; vars: (ctx: { datasetId: string; jobId: string }) => Record<string, unknown> }[] = [
  { name: 'datasets+stats', query: `{ datasets { id name stats { images labelled cells } } }`, vars: () => ({}) },
  { name: 'images page', query: `query($d: ID!) { images(datasetId: $d, limit: 20) { total items { id cellType url } } }`, vars: (c) => ({ d: c.datasetId }) },
  { name: 'job', query: `query($j: ID!) { job(id: $j) { status done total message } }`, vars: (c) => ({ j: c.jobId }) },
  { name: 'jobs', query: `{ jobs(limit: 10) { total items { id kind status } } }`, vars: () => ({}) },
  { name: 'cells page', query: `query($j: ID!) { cells(jobId: $j, limit: 20) { total items { id score box } } }`, vars: (c) => ({ j: c.jobId }) },
];

/**
 * `clients` query loops, each sending the plain queries in turn with `thinkMs` between a response and the
 * next request, until stop() is called; every request is timed and its errors counted.
 */
export function queryClients(t: Target, clients: number, ctx: () => { datasetId: string; jobId: string }, thinkMs: number): { rec: Recorder; stop: () => Promise<void> } {
  const rec = new Recorder();
  let running = true;
  const loops = Array.from({ length: clients }, async (_, c) => {
    for (let i = c; running; i++) {
      const q = PLAIN_QUERIES[i % PLAIN_QUERIES.length]!;
      const r = await t.gql(q.query, q.vars(ctx()));
      rec.record(r.ms, r.status !== 200 || r.errors?.length ? `${r.status} ${r.errors?.[0]?.message ?? ''}` : null);
      if (thinkMs) await new Promise((res) => setTimeout(res, thinkMs));
    }
  });
  return {
    rec,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

export interface JobWatch {
  progress: { at: number; status: string; done: number }[];
  cells: string[];
  /** When each cell event arrived (Date.now()). */
  cellsAt: number[];
  ended: Promise<void>;
  stop(): void;
}

/** A subscriber of a job's progress and of the cells it stores, from now until the job ends. */
export function watchJob(client: Client, jobId: string): JobWatch {
  const w: JobWatch = { progress: [], cells: [], cellsAt: [], ended: Promise.resolve(), stop: () => undefined };
  const stops: (() => void)[] = [];
  const sub = (query: string, next: (d: any) => void) =>
    new Promise<void>((resolve) => {
      stops.push(client.subscribe({ query, variables: { j: jobId } }, { next: (v) => v.data && next(v.data), error: () => resolve(), complete: () => resolve() }));
    });
  w.ended = Promise.all([
    sub(`subscription($j: ID!) { jobProgress(jobId: $j) { status done } }`, (d) => w.progress.push({ at: Date.now(), status: d.jobProgress.status, done: d.jobProgress.done })),
    sub(`subscription($j: ID!) { jobCells(jobId: $j) { id } }`, (d) => {
      w.cells.push(d.jobCells.id);
      w.cellsAt.push(Date.now());
    }),
  ]).then(() => undefined);
  w.stop = () => stops.forEach((s) => s());
  return w;
}

/** SQL straight to the target's database, for counting rows. */
export async function withDb<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Cells per image (by path) of a dataset, for comparison with a reference run on the same images. */
export async function cellsPerImage(url: string, datasetId: string): Promise<Map<string, { n: number; distinct: number }>> {
  return withDb(url, async (c) => {
    const r = await c.query(
      `SELECT i.source_path, count(c.id)::int AS n, count(DISTINCT (c.detector_id, c.index))::int AS d
         FROM images i LEFT JOIN cells c ON c.image_id = i.id WHERE i.dataset_id = $1 GROUP BY i.source_path`,
      [datasetId],
    );
    return new Map(r.rows.map((x) => [x.source_path as string, { n: x.n as number, distinct: x.d as number }]));
  });
}

/** Rows lost and duplicated against the reference: per image, cells missing and cells too many. */
export function compareRows(ref: Map<string, { n: number }>, got: Map<string, { n: number; distinct: number }>): { lost: number; duplicated: number } {
  let lost = 0;
  let duplicated = 0;
  for (const [path, r] of ref) {
    const g = got.get(path) ?? { n: 0, distinct: 0 };
    lost += Math.max(0, r.n - g.n);
    duplicated += Math.max(0, g.n - r.n) + (g.n - g.distinct);
  }
  return { lost, duplicated };
}

/** Cells the job's rows hold that the subscriber never heard of, and events it heard twice. */
export async function eventsAgainstRows(url: string, jobId: string, received: string[]): Promise<{ missed: number; twice: number; rows: number }> {
  const ids = await withDb(url, async (c) => (await c.query(`SELECT id FROM cells WHERE job_id = $1`, [jobId])).rows.map((r) => r.id as string));
  const got = new Set(received);
  return { missed: ids.filter((id) => !got.has(id)).length, twice: received.length - got.size, rows: ids.length };
}
