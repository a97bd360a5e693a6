// End-to-end measurements through the server (issue 7, items 1, 2, 5, 6): Acevedo-20 images imported
// into PostgreSQL, analyzed by the analyze job (detect -> encode -> classify with the trained models,
// every cell stored and streamed), timed from the mutation to the job's end (cells/s) or to the first
// jobCells event (latency), each leukograph run followed by the PyTorch reference on the same images.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchServer } from '../lib/server.js';
import type { JsonLineWorker } from '../lib/children.js';
import { procCpuSeconds, round } from '../lib/stats.js';
import { prefillCellsTo, storedCells } from '../lib/prefill.js';

export interface PoolImage {
  id: string;
  path: string;
}

/** Fresh image rows, handed out once each: the analyze job skips cells already stored for an image. */
export class ImagePool {
  private next = 0;
  constructor(readonly images: PoolImage[]) {}
  take(n: number): PoolImage[] {
    if (this.next + n > this.images.length) throw new Error(`image pool exhausted: ${n} wanted, ${this.images.length - this.next} left`);
    const out = this.images.slice(this.next, this.next + n);
    this.next += n;
    return out;
  }
  get left(): number {
    return this.images.length - this.next;
  }
}

/** Images per class folder of the data set (for choosing maxPerClass). */
function classSizes(dataDir: string): number[] {
  const csv = readFileSync(join(dataDir, 'labels.csv'), 'utf8').trim().split('\n').slice(1);
  const counts = new Map<string, number>();
  for (const line of csv) {
    const cls = line.split(',')[0]!.split('/')[0]!;
    counts.set(cls, (counts.get(cls) ?? 0) + 1);
  }
  return [...counts.values()];
}

/** Imports the data folder into new datasets until `need` images exist; returns them class-interleaved. */
export async function importPool(s: BenchServer, root: string, folder: string, need: number, name: string): Promise<ImagePool> {
  const sizes = classSizes(join(root, folder));
  const total = sizes.reduce((a, b) => a + b, 0);
  const images: PoolImage[] = [];
  for (let copy = 0; images.length < need; copy++) {
    const left = need - images.length;
    let maxPerClass: number | undefined;
    if (left < total) {
      maxPerClass = 1;
      while (sizes.reduce((a, n) => a + Math.min(n, maxPerClass!), 0) < left) maxPerClass++;
    }
    const ds = await s.ok(`mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }`, {
      i: { name: `${name}-${copy}`, stain: 'May-Grünwald-Giemsa', scanner: 'CellaVision DM96' },
    });
    const id = ds.createDataset.id as string;
    await s.runJob('importDataset', { datasetId: id, path: folder, layout: 'CLASS_FOLDERS', ...(maxPerClass ? { maxPerClass } : {}) });
    images.push(...(await listImages(s, id, join(root, folder))));
  }
  return new ImagePool(images);
}

/** A dataset's images, interleaved across class folders so that every batch mixes the classes. */
export async function listImages(s: BenchServer, datasetId: string, folderPath: string): Promise<PoolImage[]> {
  const byClass = new Map<string, PoolImage[]>();
  for (let offset = 0; ; offset += 500) {
    const page = await s.ok(`query($d: ID!, $o: Int) { images(datasetId: $d, limit: 500, offset: $o) { total items { id sourcePath } } }`, { d: datasetId, o: offset });
    for (const it of page.images.items as { id: string; sourcePath: string }[]) {
      const cls = it.sourcePath.split('/')[0]!;
      if (!byClass.has(cls)) byClass.set(cls, []);
      byClass.get(cls)!.push({ id: it.id, path: join(folderPath, it.sourcePath) });
    }
    if (offset + 500 >= page.images.total) break;
  }
  const lists = [...byClass.keys()].sort().map((k) => byClass.get(k)!.sort((a, b) => a.path.localeCompare(b.path)));
  const out: PoolImage[] = [];
  for (let i = 0; out.length < lists.reduce((a, l) => a + l.length, 0); i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
  return out;
}

export interface SetupResult {
  datasetId: string;
  images: number;
  cellsDetected: number;
  autoencoderId: string;
  classifierId: string;
  artifacts: { detector: string; autoencoder: string; classifier: string };
  seconds: Record<string, number>;
}

/** Trains the models the analysis uses (not timed as part of any figure): detect, a short `cpu`-preset
 *  autoencoder, encode, a 100-tree forest. */
export async function setupModels(s: BenchServer, root: string, folder: string, perClass: number, aeEpochs: number, log: (m: string) => void): Promise<SetupResult> {
  const sec: Record<string, number> = {};
  const timed = async <T>(k: string, f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const v = await f();
    sec[k] = round((performance.now() - t) / 1000, 1);
    log(`  setup ${k}: ${sec[k]} s`);
    return v;
  };
  const ds = await s.ok(`mutation { createDataset(input: { name: "bench-setup", stain: "May-Grünwald-Giemsa", scanner: "CellaVision DM96" }) { id } }`);
  const datasetId = ds.createDataset.id as string;
  const imp = await timed('import', () => s.runJob('importDataset', { datasetId, path: folder, layout: 'CLASS_FOLDERS', maxPerClass: perClass }));
  const det = await timed('detect', () => s.runJob('detectCells', { datasetId, topOnly: true }));
  await timed('trainAutoencoder', () =>
    s.runJob('trainAutoencoder', { sourceDatasetId: datasetId, preset: 'CPU', epochs: aeEpochs, batchSize: 32, alignWeight: 0, seed: 0 }),
  );
  await timed('encode', () => s.runJob('encodeCells', { datasetId }));
  await timed('trainClassifier', () => s.runJob('trainClassifier', { datasetIds: [datasetId], features: 'LATENT', trees: 100, maxDepth: 16, seed: 0, testFraction: 0 }));
  const models = await s.ok(`{ models { id kind active artifactPath } }`);
  const active = (kind: string) => (models.models as { id: string; kind: string; active: boolean; artifactPath: string }[]).find((m) => m.kind === kind && m.active)!;
  return {
    datasetId,
    images: imp.result?.created ?? 0,
    cellsDetected: det.result?.cells ?? 0,
    autoencoderId: active('autoencoder').id,
    classifierId: active('classifier').id,
    // Model files live in the object store now (a file store in the engine's data directory).
    artifacts: { detector: s.localPath(active('detector').artifactPath), autoencoder: s.localPath(active('autoencoder').artifactPath), classifier: s.localPath(active('classifier').artifactPath) },
    seconds: sec,
  };
}

export interface AnalyzeRun {
  images: number;
  cells: number;
  /** Mutation sent -> job reported ended on jobProgress. */
  wallS: number;
  /** The job's own duration (engine start -> end). */
  jobS: number;
  cellsPerS: number;
  storedCells: number;
  /** CPU seconds the engine process used during the run (all its threads). */
  engineCpuS: number | null;
  /** CPU seconds this process (the API) used during the run. */
  apiCpuS: number;
}

/** One analyze job over the given images, timed from the mutation to the end of the job. */
export async function analyze(s: BenchServer, imgs: PoolImage[]): Promise<AnalyzeRun> {
  const cpu0 = s.enginePid ? procCpuSeconds(s.enginePid) : null;
  const api0 = process.cpuUsage();
  const t0 = performance.now();
  const d = await s.ok(`mutation($i: AnalyzeImagesInput!) { analyzeImages(input: $i) { id } }`, { i: { imageIds: imgs.map((i) => i.id) } });
  const jobId = d.analyzeImages.id as string;
  const j = await s.waitJob(jobId);
  if (j.status !== 'SUCCEEDED') throw new Error(`analyze ${j.status}: ${j.error}`);
  const wallS = (j.endedAt - t0) / 1000;
  const cpu1 = s.enginePid ? procCpuSeconds(s.enginePid) : null;
  const api = process.cpuUsage(api0);
  const cells = Number(j.result.cells);
  if (!(j.result.stages as string[]).includes('classify')) throw new Error(`analyze ran only ${j.result.stages}: the trained models are not active`);
  const stored = await s.ok(`query($j: ID!) { cells(jobId: $j, limit: 1) { total } }`, { j: jobId });
  return {
    images: imgs.length, cells, wallS, jobS: (j.durationMs ?? NaN) / 1000, cellsPerS: cells / wallS, storedCells: stored.cells.total,
    engineCpuS: cpu0 !== null && cpu1 !== null ? round(cpu1 - cpu0, 2) : null, apiCpuS: round((api.user + api.system) / 1e6, 2),
  };
}

/** Many images as consecutive analyze jobs of at most `chunk` images (as a client sends batches),
 *  summed: keeps each job's parameters small. */
export async function analyzeInJobs(s: BenchServer, imgs: PoolImage[], chunk = 2000): Promise<AnalyzeRun & { jobs: number }> {
  const runs: AnalyzeRun[] = [];
  for (let i = 0; i < imgs.length; i += chunk) runs.push(await analyze(s, imgs.slice(i, i + chunk)));
  const sum = (k: 'images' | 'cells' | 'wallS' | 'jobS' | 'storedCells' | 'apiCpuS') => runs.reduce((a, r) => a + r[k], 0);
  const cpu = runs.every((r) => r.engineCpuS !== null) ? round(runs.reduce((a, r) => a + r.engineCpuS!, 0), 2) : null;
  return {
    images: sum('images'), cells: sum('cells'), wallS: sum('wallS'), jobS: sum('jobS'), cellsPerS: sum('cells') / sum('wallS'),
    storedCells: sum('storedCells'), engineCpuS: cpu, apiCpuS: round(sum('apiCpuS'), 2), jobs: runs.length,
  };
}

export interface RefRun {
  images: number;
  cells: number;
  wallS: number;
  /** CPU seconds of the reference process (all threads) during the run. */
  cpuS: number;
  cellsPerS: number;
}

export async function reference(ref: JsonLineWorker, imgs: PoolImage[], minCells?: number): Promise<RefRun> {
  const r = await ref.request<{ images: number; cells: number; wallS: number; cpuS: number }>({ cmd: 'run', files: imgs.map((i) => i.path), minCells });
  return { ...r, cellsPerS: r.cells / r.wallS };
}

export interface FirstCell {
  /** Mutation sent -> first jobCells event, ms. */
  ms: number;
  /** Mutation sent -> mutation answered, ms. */
  mutationMs: number;
  jobMs: number;
  /** Job created -> claimed by the engine (queue pickup), ms. */
  queueMs: number;
}

/** Latency of one single-image analyze: mutation -> first cell on jobCells. Null when no cell was seen
 *  (no detection, or the cell was stored before the subscription opened). */
export async function firstCell(s: BenchServer, img: PoolImage): Promise<FirstCell | null> {
  const t0 = performance.now();
  const d = await s.ok(`mutation($i: AnalyzeImagesInput!) { analyzeImages(input: $i) { id } }`, { i: { imageIds: [img.id] } });
  const tm = performance.now();
  const jobId = d.analyzeImages.id as string;
  let first = 0;
  const sub = s.subscribe(`subscription($j: ID!) { jobCells(jobId: $j) { id } }`, { j: jobId }, () => {
    if (!first) first = performance.now();
    return true;
  });
  const j = await s.waitJob(jobId);
  sub.stop();
  await sub.done.catch(() => undefined);
  if (!first) return null;
  const times = await s.ok(`query($id: ID!) { job(id: $id) { createdAt startedAt } }`, { id: jobId });
  const queueMs = Date.parse(times.job.startedAt) - Date.parse(times.job.createdAt);
  return { ms: first - t0, mutationMs: tm - t0, jobMs: j.durationMs ?? NaN, queueMs };
}

/**
 * Tops the cells table up to `total` rows (section 6's "cells already stored"): copies of one real
 * analysed cell (box, mask, latent, prediction) on copies of its image row, in a dataset of their own, so
 * that the tables and their indexes hold what that many analysed cells would. Feature files are not
 * copied: the analyze path never reads other cells' features. Returns the cells now stored and the seconds.
 */
export async function prefillCells(s: BenchServer, total: number): Promise<{ cells: number; seconds: number }> {
  const db = s.api.db.dataSource;
  const t0 = performance.now();
  const n = await storedCells(db);
  if (n >= total) return { cells: n, seconds: 0 };
  const [{ id: ds }] = (await db.query(
    `INSERT INTO datasets (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`, ['bench-prefill'],
  )) as { id: string }[];
  // One image row per copied cell (Acevedo-20 has ~1 cell per image), then the cells, in chunks.
  await prefillCellsTo(db, ds, total, 20_000);
  return { cells: await storedCells(db), seconds: round((performance.now() - t0) / 1000, 1) };
}
