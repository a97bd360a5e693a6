// The faults and the load of issue 19, each against a running `leukograph serve`, each giving one row of
// bench/load/RESULTS.md. During every fault two query clients keep asking (their latencies and errors are
// the row's requests and percentiles) and a subscriber follows the job (its events against the job's rows).
import type { Target } from './target.js';
import type { PgControl } from './pg-control.js';
import { cellsPerImage, compareRows, eventsAgainstRows, queryClients, watchJob, withDb, type ResultRow } from './measure.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Ctx {
  t: Target;
  pg: PgControl;
  /** The database the target uses, for counting rows. */
  dbUrl: string;
  /** Folder (relative to the data root) with the images the detect scenarios run on. */
  imagesPath: string;
  /** Cells per image of a clean detect run over imagesPath. */
  reference: Map<string, { n: number; distinct: number }>;
  log(msg: string): void;
}

let datasets = 0;

export async function importImages(t: Target, path: string, name = `load-${++datasets}-${Date.now()}`): Promise<string> {
  const id = (await t.ok(`mutation($n: String!) { createDataset(input: { name: $n }) { id } }`, { n: name })).createDataset.id as string;
  const job = (await t.ok(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { datasetId: id, path } })).importDataset.id as string;
  const j = await t.waitJob(job);
  if (j.status !== 'SUCCEEDED') throw new Error(`import of ${path}: ${j.status} ${j.error}`);
  return id;
}

async function startDetect(t: Target, datasetId: string): Promise<string> {
  return (await t.ok(`mutation($i: DetectCellsInput!) { detectCells(input: $i) { id } }`, { i: { datasetId } })).detectCells.id;
}

/** A clean detect run: the per-image cell counts that the faulted runs are compared with. */
export async function referenceRun(t: Target, dbUrl: string, imagesPath: string): Promise<{ datasetId: string; counts: Map<string, { n: number; distinct: number }>; ms: number }> {
  const datasetId = await importImages(t, imagesPath, `reference-${Date.now()}`);
  const t0 = Date.now();
  const j = await t.waitJob(await startDetect(t, datasetId));
  if (j.status !== 'SUCCEEDED') throw new Error(`reference detect: ${j.status} ${j.error}`);
  return { datasetId, counts: await cellsPerImage(dbUrl, datasetId), ms: Date.now() - t0 };
}

async function waitProgress(t: Target, jobId: string, fraction: number): Promise<void> {
  await t.waitFor(async () => {
    const j = await t.job(jobId);
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(j.status)) throw new Error(`job ended (${j.status}) before ${fraction * 100} %`);
    return j.total && j.status === 'RUNNING' && j.done >= fraction * j.total;
  }, `${Math.round(fraction * 100)} % done`, 600_000, 50);
}

async function killEngine(t: Target): Promise<number> {
  const [pid] = await t.enginePids();
  if (!pid) throw new Error('no engine to kill');
  process.kill(pid, 'SIGKILL');
  return Date.now();
}

/** First cell event the subscriber received after `since` (the job doing its work again), as ms after it. */
function firstCellAfter(w: { cellsAt: number[] }, since: number): number | null {
  const at = w.cellsAt.find((x) => x > since);
  return at === undefined ? null : at - since;
}

/** Runs a detect job over a fresh import of the reference images with `fault` applied while it runs. */
async function detectUnderFault(
  c: Ctx,
  scenario: string,
  fault: (jobId: string) => Promise<number[]>,
): Promise<ResultRow> {
  const { t } = c;
  const datasetId = await importImages(t, c.imagesPath);
  const ws = t.wsClient();
  let jobId = '';
  const probe = queryClients(t, 2, () => ({ datasetId, jobId }), 100);
  try {
    jobId = await startDetect(t, datasetId);
    const w = watchJob(ws, jobId);
    const faultsEndedAt = await fault(jobId);
    const j = await t.waitJob(jobId, 900_000);
    await Promise.race([w.ended, sleep(10_000)]);
    w.stop();
    const rows = compareRows(c.reference, await cellsPerImage(c.dbUrl, datasetId));
    const ev = await eventsAgainstRows(c.dbUrl, jobId, w.cells);
    const recoveries = faultsEndedAt.map((at) => firstCellAfter(w, at));
    const recovery = recoveries.every((r) => r !== null) ? Math.max(...(recoveries as number[])) : null;
    const stats = (await probe.stop(), probe.rec.stats());
    return {
      scenario, database: c.pg.kind, ...stats,
      rowsLost: rows.lost, rowsDuplicated: rows.duplicated, eventsMissed: ev.missed,
      recoveryMs: recovery,
      outcome: `job ${j.status} after ${j.attempts} attempt(s)${j.error ? `: ${j.error}` : ''}; ${ev.rows} cells, ${ev.twice} events twice; recovery per fault ${recoveries.map((r) => (r === null ? 'none' : `${(r / 1000).toFixed(1)} s`)).join(', ')}${probe.rec.errors ? `; query errors: ${probe.rec.errorSummary()}` : ''}`,
    };
  } finally {
    await probe.stop();
    await ws.dispose();
  }
}

/** kill -9 of the engine process once the detect job is 30 % done; serve restarts it. */
export function killMidDetect(c: Ctx): Promise<ResultRow> {
  return detectUnderFault(c, 'kill -9 engine mid-detect', async (jobId) => {
    await waitProgress(c.t, jobId, 0.3);
    return [await killEngine(c.t)];
  });
}

/**
 * kill -9 three times in a row: each time the restarted engine has taken the job up again. With two
 * retries (RETRY_LIMIT) the third kill fails the job; a new detect job then completes the data.
 */
export async function killThreeTimes(c: Ctx): Promise<ResultRow> {
  const row = await detectUnderFault(c, 'kill -9 engine 3x in a row', async (jobId) => {
    const kills: number[] = [];
    for (let k = 0; k < 3; k++) {
      await c.t.waitFor(async () => {
        const j = await c.t.job(jobId);
        if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(j.status)) throw new Error(`job ended (${j.status}) before kill ${k + 1}`);
        return j.status === 'RUNNING' && j.attempts === k + 1 && (await c.t.enginePids()).length > 0;
      }, `attempt ${k + 1} running`, 600_000, 50);
      await sleep(1500); // let it store some cells
      kills.push(await killEngine(c.t));
      c.log(`  kill ${k + 1} at attempt ${k + 1}`);
    }
    return kills;
  });
  return row;
}

/** kill -9 of the engine mid-training (after its first epoch's checkpoint); the retry resumes from it. */
export async function killMidTraining(c: Ctx, sourceDatasetId: string, epochs: number): Promise<ResultRow> {
  const { t } = c;
  const ws = t.wsClient();
  let jobId = '';
  const probe = queryClients(t, 2, () => ({ datasetId: sourceDatasetId, jobId }), 100);
  try {
    jobId = (await t.ok(`mutation($i: TrainAutoencoderInput!) { trainAutoencoder(input: $i) { id } }`, {
      i: { sourceDatasetId, alignDatasetIds: [], preset: 'CPU', epochs, batchSize: 16, maxCells: 64 },
    })).trainAutoencoder.id;
    const progress: { at: number; status: string; message: string | null }[] = [];
    const stop = ws.subscribe({ query: `subscription($j: ID!) { jobProgress(jobId: $j) { status message } }`, variables: { j: jobId } }, {
      next: (v) => void progress.push({ at: Date.now(), status: (v.data as any).jobProgress.status, message: (v.data as any).jobProgress.message }),
      error: () => undefined,
      complete: () => undefined,
    });
    await t.waitFor(async () => /epoch 1\/\d+ done|epoch 2\//.test((await t.job(jobId)).message ?? ''), 'the first epoch to end', 900_000, 100);
    const killedAt = await killEngine(t);
    const j = await t.waitJob(jobId, 1_800_000);
    stop();
    const resumed = progress.find((p) => p.at > killedAt && p.status === 'RUNNING' && /epoch [2-9]/.test(p.message ?? ''));
    const models = await withDb(c.dbUrl, async (db) => (await db.query(`SELECT count(*)::int AS n FROM models WHERE job_id = $1`, [jobId])).rows[0].n as number);
    const history = (j.result?.history ?? []) as { epoch: number }[];
    await probe.stop();
    return {
      scenario: 'kill -9 engine mid-training', database: c.pg.kind, ...probe.rec.stats(),
      rowsLost: j.status === 'SUCCEEDED' ? Math.max(0, 1 - models) : null, rowsDuplicated: Math.max(0, models - 1),
      eventsMissed: null,
      recoveryMs: resumed ? resumed.at - killedAt : null,
      outcome: `job ${j.status} after ${j.attempts} attempt(s)${j.error ? `: ${j.error}` : ''}; epochs in the result ${history.map((h) => h.epoch).join(',')}; ${models} model row(s)`,
    };
  } finally {
    await probe.stop();
    await ws.dispose();
  }
}

/** The database stopped for `downMs` while nothing runs: health, query errors, and a job afterwards. */
export async function pgRestartIdle(c: Ctx, downMs: number): Promise<ResultRow> {
  const { t, pg } = c;
  const datasetId = await importImages(t, c.imagesPath);
  const probe = queryClients(t, 2, () => ({ datasetId, jobId: '00000000-0000-4000-8000-000000000000' }), 100);
  const ws = t.wsClient();
  try {
    await sleep(1000);
    await pg.stop();
    await sleep(Math.min(1000, downMs));
    const healthDown = await t.health();
    await sleep(Math.max(0, downMs - 1000));
    await pg.start();
    const up = Date.now();
    await t.waitFor(async () => (await t.health()) === 200, 'health to recover', 120_000, 50);
    const healthMs = Date.now() - up;
    // Subscriptions after the outage: every event of a fresh import arrives.
    const job = (await t.ok(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { datasetId, path: c.imagesPath } })).importDataset.id as string;
    const items: string[] = [];
    await new Promise<void>((resolve) => {
      ws.subscribe({ query: `subscription($j: ID!) { jobItems(jobId: $j) { itemId } }`, variables: { j: job } }, { next: (v) => void items.push((v.data as any).jobItems.itemId), error: () => resolve(), complete: () => resolve() });
    });
    const j = await t.waitJob(job);
    await probe.stop();
    const expected = j.result ? j.result.created + j.result.existing + j.result.failed : null;
    return {
      scenario: `PostgreSQL stopped ${downMs / 1000} s while idle`, database: pg.kind, ...probe.rec.stats(),
      rowsLost: null, rowsDuplicated: null,
      eventsMissed: expected === null ? null : expected - new Set(items).size,
      recoveryMs: healthMs,
      outcome: `/healthz ${healthDown} while down, 200 again ${(healthMs / 1000).toFixed(1)} s after the start; an import afterwards ${j.status}, ${items.length} of ${expected} item events${probe.rec.errors ? `; query errors while down: ${probe.rec.errorSummary()}` : ''}`,
    };
  } finally {
    await probe.stop();
    await ws.dispose();
  }
}

/** The database stopped for `downMs` while a detect job runs (30 % done). */
export function pgRestartMidJob(c: Ctx, downMs: number): Promise<ResultRow> {
  return detectUnderFault(c, `PostgreSQL stopped ${downMs / 1000} s mid-detect`, async (jobId) => {
    await waitProgress(c.t, jobId, 0.3);
    await c.pg.stop();
    await sleep(downMs);
    await c.pg.start();
    return [Date.now()];
  });
}

/**
 * `subscribers` subscribers following an analyze job (its progress and cells), `clients` query clients
 * with `thinkMs` between requests, for `seconds`; then the job is cancelled (it keeps what it wrote) and
 * every subscriber's cells are checked against the job's rows.
 */
export async function loadWithAnalyze(c: Ctx, datasetId: string, opts: { subscribers: number; clients: number; seconds: number; thinkMs: number }): Promise<ResultRow> {
  const { t } = c;
  const jobId = (await t.ok(`mutation($i: AnalyzeImagesInput!) { analyzeImages(input: $i) { id } }`, { i: { datasetId } })).analyzeImages.id as string;
  const sockets = Array.from({ length: Math.ceil(opts.subscribers / 10) }, () => t.wsClient());
  const watches = Array.from({ length: opts.subscribers }, (_, i) => watchJob(sockets[i % sockets.length]!, jobId));
  await waitProgress(t, jobId, 0).catch(() => undefined);
  const load = queryClients(t, opts.clients, () => ({ datasetId, jobId }), opts.thinkMs);
  await sleep(opts.seconds * 1000);
  await load.stop();
  const cancelled = await t.gql(`mutation($id: ID!) { cancelJob(id: $id) { status } }`, { id: jobId });
  const j = await t.waitJob(jobId);
  await Promise.race([Promise.all(watches.map((w) => w.ended)), sleep(30_000)]);
  let missed = 0;
  let twice = 0;
  let rows = 0;
  for (const w of watches) {
    const ev = await eventsAgainstRows(c.dbUrl, jobId, w.cells);
    missed += ev.missed;
    twice += ev.twice;
    rows = ev.rows;
  }
  const ended = watches.filter((w) => ['CANCELLED', 'SUCCEEDED', 'FAILED'].includes(w.progress.at(-1)?.status ?? '')).length;
  watches.forEach((w) => w.stop());
  await Promise.all(sockets.map((s) => s.dispose()));
  return {
    scenario: `${opts.subscribers} subscribers + ${opts.clients} query clients + analyze, ${opts.seconds} s`, database: c.pg.kind, ...load.rec.stats(),
    rowsLost: null, rowsDuplicated: null, eventsMissed: missed, recoveryMs: null,
    outcome: `analyze ${j.status}${cancelled.errors ? ` (cancel: ${cancelled.errors[0]!.message})` : ' (cancelled at the end)'}, ${rows} cells; ${ended}/${watches.length} subscribers saw the end; ${twice} events twice; think time ${opts.thinkMs} ms${load.rec.errors ? `; errors: ${load.rec.errorSummary()}` : ''}`,
  };
}
