/**
 * leukograph's benchmark (issue 7): end-to-end cells/s through the server against a PyTorch reference of
 * the same chain, first-cell latency, autoencoder training rates, forest fit/predict against
 * scikit-learn, the engine's resident memory, and cost per cell as the data grows. Writes
 * bench/results.json and bench/RESULTS.md.
 *
 *   npm run bench                 full (about half an hour on 2 cores)
 *   npm run bench -- --quick      under 5 minutes, fewer repeats and sizes
 *
 * Options: --quick, --only e2e,ae,rf (sections), --detector PATH (.onnx with its .json; default the
 * shipped models/detector.onnx), --checkpoint PATH (the same weights for the reference; default: rebuilt
 * from the ONNX file by training/detector/recover_from_onnx.py into a temporary folder), --database-url URL (a PostgreSQL server to create the bench
 * database on; default $LEUKOGRAPH_BENCH_DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres,
 * else the embedded server), --data DIR (default /work/shared/data/acevedo20), --python PATH
 * (default /usr/bin/python3), --sizes N,... (cells accumulated through the server up to
 * --server-max-cells, larger ones in-process without PostgreSQL), --stored-sizes 1000,10000,100000 (the
 * marginal cost per cell with that many cells already in the database; see section 6), --out-dir DIR (default bench/), --note TEXT (added to RESULTS.md).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { BenchServer, REPO } from './lib/server.js';
import { JsonLineWorker, runJson } from './lib/children.js';
import { machine, median, round, summarize } from './lib/stats.js';
import { analyze, analyzeInJobs, firstCell, importPool, prefillCells, reference, setupModels, type AnalyzeRun, type FirstCell, type RefRun } from './e2e/server-bench.js';
import { PRESETS, planNetwork } from '../src/engine/autoencoder/index.js';
import { writeReport } from './report.js';
import { checkReference } from './lib/reference-check.js';
import { setLogLevel } from '../src/logger.js';
import { benchArgs } from './lib/args.js';

interface Options {
  quick: boolean;
  only: Set<string>;
  detector: string;
  checkpoint: string;
  databaseUrl: string | null;
  data: string;
  python: string;
  sizes: number[];
  serverMaxCells: number;
  storedSizes: number[];
  outDir: string;
  note: string | null;
}

const MODES = {
  quick: { setupPerClass: 6, aeEpochs: 1, e2eBatch: 12, e2eRepeats: 3, firstCellRepeats: 5, sizes: [50, 200], serverMaxCells: 1000, storedSizes: [1000, 10000], storedCells: 30, storedRepeats: 1, rfRuns: 1, aeSteps: 'cpu=3,paper=1', aeBackends: 'wasm,onnx', refAeSteps: { cpu: 2, paper: 1 } },
  full: { setupPerClass: 40, aeEpochs: 2, e2eBatch: 96, e2eRepeats: 5, firstCellRepeats: 15, sizes: [1000], serverMaxCells: 1000, storedSizes: [1000, 10000, 100000], storedCells: 150, storedRepeats: 2, rfRuns: 3, aeSteps: 'cpu=8,paper=3', aeBackends: '', refAeSteps: { cpu: 8, paper: 3 } },
};

/** The flags of `npm run bench --` (a misspelt one stops the run: bench/lib/args.ts). */
const BENCH_FLAGS = {
  quick: { type: 'boolean' }, only: { type: 'string' }, detector: { type: 'string' }, checkpoint: { type: 'string' }, 'database-url': { type: 'string' }, data: { type: 'string' }, python: { type: 'string' }, sizes: { type: 'string' },
  'server-max-cells': { type: 'string' }, 'stored-sizes': { type: 'string' }, 'out-dir': { type: 'string' }, note: { type: 'string' },
} as const;

function parseOptions(argv: string[]): Options {
  const cli = benchArgs('npm run bench --', BENCH_FLAGS, argv);
  const get = cli.str;
  const quick = cli.flag('quick');
  const mode = quick ? MODES.quick : MODES.full;
  const bundled = join(REPO, 'models/detector.onnx');
  return {
    quick,
    only: new Set((get('only') ?? 'e2e,ae,rf').split(',')),
    detector: resolve(get('detector') ?? process.env.LEUKOGRAPH_BENCH_DETECTOR ?? bundled),
    checkpoint: get('checkpoint') ? resolve(get('checkpoint')!) : '',
    databaseUrl: get('database-url') ?? process.env.LEUKOGRAPH_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    data: resolve(get('data') ?? '/work/shared/data/acevedo20'),
    python: get('python') ?? '/usr/bin/python3',
    sizes: get('sizes') ? get('sizes')!.split(',').map(Number) : mode.sizes,
    serverMaxCells: Number(get('server-max-cells') ?? mode.serverMaxCells),
    storedSizes: get('stored-sizes') ? get('stored-sizes')!.split(',').filter(Boolean).map(Number) : mode.storedSizes,
    outDir: resolve(get('out-dir') ?? join(REPO, 'bench')),
    note: get('note') ?? null,
  };
}

const T0 = performance.now();
function log(msg: string): void {
  process.stderr.write(`[bench ${((performance.now() - T0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
}

export interface Results {
  [k: string]: unknown;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const o = parseOptions(argv);
  setLogLevel('warn');
  // Every section compares with the PyTorch / scikit-learn reference: without it there is no result.
  const check = checkReference(o.python);
  if (!check.ok) throw new ReferenceMissing(check.message);
  const mode = o.quick ? MODES.quick : MODES.full;
  const started = new Date();
  const results: Results = {
    machine: machine(),
    date: started.toISOString(),
    command: `npm run bench${argv.length ? ' -- ' + argv.map((a) => (/[\s'"]/.test(a) ? JSON.stringify(a) : a)).join(' ') : ''}`,
    mode: o.quick ? 'quick' : 'full',
    e2e_cells_per_s: null,
    e2e_ratio_vs_reference: null,
    e2e_ratio_vs_reference_cpu_time: null,
    first_cell_ms: null,
    ae_samples_per_s: null,
    rf_fit_s: null,
    rf_ratio_vs_sklearn: null,
    engine_rss_mb: null,
    cost_per_cell_ms: null,
    details: {} as Record<string, unknown>,
    notes: [] as string[],
  };
  const details = results.details as Record<string, unknown>;
  const notes = results.notes as string[];
  if (o.note) notes.push(o.note);
  const tmp = mkdtempSync(join(tmpdir(), 'leukograph-bench-run-'));
  const refFail = (msg: string) => {
    rmSync(tmp, { recursive: true, force: true });
    return new ReferenceMissing(msg);
  };
  const planPath = join(tmp, 'ae-plans.json');
  writeFileSync(planPath, JSON.stringify(Object.fromEntries(Object.entries(PRESETS).map(([k, p]) => [k, { preset: p, ...planNetwork(p) }]))));

  // The PyTorch reference, started once and kept warm (its load time is not part of any figure).
  let ref: JsonLineWorker | null = null;
  const refScript = join(REPO, 'bench/reference/pipeline.py');
  if (!o.checkpoint && existsSync(o.python)) {
    // The reference runs exactly the shipped weights: rebuilt from the ONNX file and checked against the
    // committed torch outputs (training checkpoints live in git-ignored runs/ and need not exist here).
    o.checkpoint = join(tmp, 'detector-from-onnx.pt');
    const r = spawnSync(o.python, [join(REPO, 'training/detector/recover_from_onnx.py'), '--onnx', o.detector, '--out', o.checkpoint], { encoding: 'utf8' });
    if (r.status !== 0) throw refFail(`PyTorch reference weights could not be rebuilt from ${o.detector}: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
    else log(`reference weights rebuilt from the ONNX file: ${r.stdout.trim().split('\n').slice(-2).join('; ')}`);
  }
  if (existsSync(o.python) && existsSync(o.checkpoint)) {
    // OpenMP's default (spinning) wait makes 2-thread PyTorch many times slower whenever another process
    // holds a core; passive waiting costs little when the machine is idle.
    const ompWait = process.env.OMP_WAIT_POLICY ?? 'PASSIVE';
    ref = new JsonLineWorker(o.python, [refScript], { OMP_WAIT_POLICY: ompWait });
    try {
      details.reference = { ...(await ref.request<object>({ cmd: 'init', ckpt: o.checkpoint, plan: planPath, preset: 'cpu', threads: 2 })), omp_wait_policy: ompWait };
      log(`reference ready: ${JSON.stringify(details.reference)}`);
    } catch (err) {
      await ref.close().catch(() => undefined);
      throw refFail(`PyTorch reference unavailable: ${(err as Error).message.split('\n')[0]}`);
    }
  } else throw refFail(`PyTorch reference not run: ${existsSync(o.python) ? o.checkpoint : o.python} not found`);

  // The reference must run the weights the ONNX model was exported from.
  const card = o.detector.replace(/\.onnx$/i, '.json');
  const ckIter = (details.reference as { checkpoint_iter?: number | null } | undefined)?.checkpoint_iter;
  if (existsSync(card) && ckIter !== undefined && ckIter !== null) {
    const exported = (JSON.parse(readFileSync(card, 'utf8')) as { trained_iterations?: number }).trained_iterations;
    if (exported !== undefined && exported !== ckIter) notes.push(`the detector model card says ${exported} training iterations, the reference's checkpoint ${ckIter}: not the same weights`);
  }
  const save = () => {
    results.wall_s = round((performance.now() - T0) / 1000, 1);
    const mach = results.machine as ReturnType<typeof machine>;
    mach.load_average_at_end = loadavg().map((v) => round(v, 2));
    writeFileSync(join(o.outDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
    writeFileSync(join(o.outDir, 'RESULTS.md'), writeReport(results));
  };
  // A section that fails is reported and the others still run; what is done so far is saved after each.
  const section = async (name: string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (err) {
      log(`${name} failed: ${(err as Error).stack ?? err}`);
      notes.push(`${name} section failed: ${(err as Error).message.split('\n')[0]}`);
    }
    save();
  };
  try {
    if (o.only.has('e2e')) {
      if (!existsSync(o.detector)) notes.push(`end-to-end figures not measured: no detector model at ${o.detector}`);
      else await section('end-to-end', () => e2eSection(o, mode, results, ref, log, save));
    }
    if (o.only.has('ae')) await section('autoencoder', () => aeSection(o, mode, results, ref));
    if (o.only.has('rf')) await section('random forest', () => rfSection(o, mode, results));
  } finally {
    await ref?.close().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  }
  const mach = results.machine as ReturnType<typeof machine>;
  const busiest = Math.max(...mach.load_average_at_start, ...loadavg().map((v) => round(v, 2)));
  if (busiest > mach.cores * 0.75) {
    notes.push(`the machine was shared: load average up to ${busiest} on ${mach.cores} cores while this ran (other processes); wall-clock figures are pessimistic, the per-CPU-second ratio less so`);
  }
  save();
  log(`wrote ${join(o.outDir, 'results.json')} and RESULTS.md (${results.wall_s} s)`);
  if (o.only.has('e2e') && results.e2e_ratio_vs_reference === null) {
    throw new Error(`no end-to-end ratio to the reference was measured (notes: ${notes.join('; ') || 'none'})`);
  }
}

/** The reference (or what it needs) is missing: the run stops before measuring anything. */
class ReferenceMissing extends Error {}

type Mode = (typeof MODES)['quick'];

async function e2eSection(o: Options, mode: Mode, results: Results, ref: JsonLineWorker | null, log: (m: string) => void, save: () => void): Promise<void> {
  const details = results.details as Record<string, any>;
  const notes = results.notes as string[];
  const root = dirname(o.data);
  const folder = basename(o.data);
  const bundled = resolve(join(REPO, 'models/detector.onnx'));
  const s = new BenchServer({ serverUrl: o.databaseUrl, dataRoots: [root], detectorPath: o.detector === bundled ? null : o.detector, log });
  log('starting the API and an engine process');
  await s.start();
  let worker: JsonLineWorker | null = null;
  try {
    details.database = s.databaseKind === 'server' ? `PostgreSQL server (${new URL(o.databaseUrl!).host})` : 'embedded PostgreSQL';
    if (o.detector !== bundled) notes.push(`detector: ${o.detector} (not the shipped models/detector.onnx)`);
    log('setup: import, detect, train the autoencoder and the forest');
    const setup = await setupModels(s, root, folder, mode.setupPerClass, mode.aeEpochs, log);
    details.setup = setup;

    // How many fresh images every measurement needs (cells per image ~1.1 on Acevedo-20: a few more
    // images than cells wanted, checked after the warm-up).
    const serverSizes = o.sizes.filter((n) => n <= o.serverMaxCells);
    const need = 6 + mode.e2eBatch * mode.e2eRepeats + mode.firstCellRepeats * 2 + serverSizes.reduce((a, n) => a + Math.ceil(n * 1.05), 0)
      + o.storedSizes.length * mode.storedRepeats * Math.ceil(mode.storedCells * 1.05);
    const tImport = performance.now();
    const pool = await importPool(s, root, folder, need, 'bench-pool');
    details.pool = { images: pool.images.length, importS: round((performance.now() - tImport) / 1000, 1) };
    log(`pool: ${pool.images.length} images imported in ${details.pool.importS} s`);

    // Warm-up: every model resident in the engine, the reference's first calls done.
    const warm = await analyze(s, pool.take(6));
    if (ref) await reference(ref, pool.images.slice(0, 2));
    log(`warm-up: ${warm.cells} cells from ${warm.images} images`);

    // (1) end-to-end cells/s, each leukograph run followed by the reference on the same images.
    const lgRuns: AnalyzeRun[] = [];
    const refRuns: RefRun[] = [];
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    for (let r = 0; r < mode.e2eRepeats; r++) {
      const batch = pool.take(mode.e2eBatch);
      const a = await analyze(s, batch);
      lgRuns.push(a);
      let line = `e2e ${r + 1}/${mode.e2eRepeats}: leukograph ${a.cells} cells in ${a.wallS.toFixed(2)} s = ${a.cellsPerS.toFixed(2)} cells/s`;
      if (ref) {
        const b = await reference(ref, batch);
        refRuns.push(b);
        ratios.push(a.cellsPerS / b.cellsPerS);
        // Cells per CPU-second, engine process against reference process: less disturbed by other load.
        if (a.engineCpuS) cpuRatios.push(a.cells / a.engineCpuS / (b.cells / b.cpuS));
        line += `; reference ${b.cells} cells in ${b.wallS.toFixed(2)} s = ${b.cellsPerS.toFixed(2)} cells/s`;
      }
      log(line);
    }
    const seen = [warm, ...lgRuns];
    const cellsPerImage = seen.reduce((a, x) => a + x.cells, 0) / seen.reduce((a, x) => a + x.images, 0);
    const lgSum = summarize(lgRuns.map((x) => x.cellsPerS));
    results.e2e_cells_per_s = lgSum.median;
    details.e2e = {
      images_per_run: mode.e2eBatch,
      leukograph: { cells_per_s: lgSum, runs: lgRuns },
      reference: ref ? { cells_per_s: summarize(refRuns.map((x) => x.cellsPerS)), runs: refRuns } : null,
      ratio: ref ? summarize(ratios) : null,
      ratio_cpu_time: cpuRatios.length ? summarize(cpuRatios) : null,
      stored_cells_check: lgRuns.every((x) => x.storedCells === x.cells),
    };
    if (ref) results.e2e_ratio_vs_reference = summarize(ratios).median;
    if (cpuRatios.length) results.e2e_ratio_vs_reference_cpu_time = summarize(cpuRatios).median;

    // (2) first cell, warm engine.
    const fc: FirstCell[] = [];
    let missed = 0;
    for (let r = 0; fc.length < mode.firstCellRepeats && r < mode.firstCellRepeats * 2; r++) {
      const f = await firstCell(s, pool.take(1)[0]!);
      if (f) fc.push(f);
      else missed++;
    }
    const fcSum = summarize(fc.map((f) => f.ms), 1);
    results.first_cell_ms = fcSum.median;
    details.first_cell = { ms: fcSum, mutation_ms: summarize(fc.map((f) => f.mutationMs), 1), job_ms: summarize(fc.map((f) => f.jobMs), 1), queue_ms: summarize(fc.map((f) => f.queueMs), 1), missed };
    log(`first cell: median ${fcSum.median} ms (${fc.map((f) => f.ms.toFixed(0)).join(', ')})`);
    save();

    // (5) engine resident memory, every model loaded.
    const st = await s.ok(`{ engineStatus { pid memory { rssMb heapUsedMb externalMb } models { kind name } runtimes { name backend device } } }`);
    const eng = (st.engineStatus as any[]).find((e) => e.pid === s.enginePid);
    const proc = s.engineMemory();
    results.engine_rss_mb = eng?.memory.rssMb ?? proc?.rssMb ?? null;
    details.engine = { status: eng, proc_after_e2e: proc };
    log(`engine RSS ${results.engine_rss_mb} MB (peak ${proc?.peakRssMb} MB), models ${eng?.models.map((m: any) => m.kind).join(', ')}`);

    // Detector FLOPs and the machine's rate (what bounds the end-to-end figure).
    worker = new JsonLineWorker(process.execPath, [join(REPO, 'dist/bench/e2e/pipeline-worker.js')]);
    details.inprocess_init = await worker.request({ cmd: 'init', detector: setup.artifacts.detector, autoencoder: setup.artifacts.autoencoder, classifier: setup.artifacts.classifier });
    const stageFiles = pool.images.slice(0, 8).map((i) => i.path);
    await worker.request({ cmd: 'stages', files: stageFiles.slice(0, 2) });
    const stages = await worker.request<{ decodeMs: number; modelMs: number; detectMs: number }>({ cmd: 'stages', files: stageFiles });
    details.engine.inprocess_models_memory = await worker.request({ cmd: 'memory' });
    let bound: Record<string, unknown> = { leukograph_stages_ms: stages, cells_per_image: round(cellsPerImage, 3) };
    if (ref) {
      const f = await ref.request<{ detectorGflop: number; sgemmGflops: number; torchDetectorMs: number; torchDetectorMs1Thread: number; threads: number }>({ cmd: 'flops', file: stageFiles[0] });
      if (f.torchDetectorMs1Thread < 0.8 * f.torchDetectorMs) {
        notes.push(`PyTorch's detector ran faster on 1 thread (${round(f.torchDetectorMs1Thread, 0)} ms) than on ${f.threads} (${round(f.torchDetectorMs, 0)} ms): `
          + 'another process held a core, and OpenMP waits for it; the reference figures at 2 threads are pessimistic here');
      }
      // The floor: the detector's FLOPs at the best rate measured on this machine (sgemm, or the
      // detector itself in either runtime, whichever is faster).
      const ortGflops = f.detectorGflop / (stages.modelMs / 1000);
      const torchGflops = f.detectorGflop / (Math.min(f.torchDetectorMs, f.torchDetectorMs1Thread) / 1000);
      const bestGflops = Math.max(f.sgemmGflops, ortGflops, torchGflops);
      const floorMs = (f.detectorGflop / bestGflops) * 1000;
      bound = {
        ...bound,
        detector_gflop_per_image: round(f.detectorGflop, 3),
        sgemm_gflops_2_threads: round(f.sgemmGflops, 1),
        onnxruntime_gflops: round(f.detectorGflop / (stages.modelMs / 1000), 1),
        torch_detector_ms: round(f.torchDetectorMs, 1),
        torch_detector_ms_1_thread: round(f.torchDetectorMs1Thread, 1),
        torch_gflops: round(f.detectorGflop / (f.torchDetectorMs / 1000), 1),
        best_gflops: round(bestGflops, 1),
        floor_ms_per_image: round(floorMs, 1),
        leukograph_e2e_ms_per_image: round(median(lgRuns.map((x) => (x.wallS * 1000) / x.images)), 1),
        reference_e2e_ms_per_image: refRuns.length ? round(median(refRuns.map((x) => (x.wallS * 1000) / x.images)), 1) : null,
        ceiling_cells_per_s: round((cellsPerImage * 1000) / floorMs, 2),
      };
    }
    details.bound = bound;
    log(`bound: ${JSON.stringify(bound)}`);

    // (6) cost per cell as the data grows: through the server up to serverMaxCells, in-process beyond
    // (and at every size in-process too in the full run, so that one path spans 1k..100k).
    const cost: Record<string, unknown> = {};
    const costServer: Record<string, number> = {};
    const costInproc: Record<string, number> = {};
    const costStored: Record<string, number> = {};
    const flat = (m: Record<string, number>) => {
      const v = Object.values(m);
      return v.length > 1 ? round(Math.max(...v) / Math.min(...v), 3) : null;
    };
    // Saved after every size: the full run's largest sizes take hours.
    const record = () => {
      results.cost_per_cell_ms = {
        ...(Object.keys(costServer).length ? { server: costServer } : {}),
        ...(Object.keys(costInproc).length ? { in_process: costInproc } : {}),
        ...(Object.keys(costStored).length ? { with_stored: costStored } : {}),
      };
      details.cost_per_cell = { runs: cost, max_over_min: { server: flat(costServer), in_process: flat(costInproc), with_stored: flat(costStored) } };
      save();
    };
    for (const n of serverSizes) {
      const imgs = pool.take(Math.min(pool.left, Math.ceil((n / cellsPerImage) * 1.02)));
      const a = await analyzeInJobs(s, imgs);
      costServer[String(n)] = round((a.wallS * 1000) / a.cells, 2);
      cost[`server_${n}`] = { ...a, ms_per_cell: costServer[String(n)] };
      log(`cost per cell, server, ${a.cells} cells: ${costServer[String(n)]} ms`);
      record();
    }
    // The marginal cost of a cell when the database already holds n cells (n = 1k, 10k, 100k): the
    // tables are topped up with copies of an analysed cell, then fresh images go through the whole
    // server path. Cost that grows with the data (inserts into larger indexes, queries over more rows)
    // shows here; the per-image model work is the same at every n by construction, and accumulating
    // 100k cells through the 2-core detector would take about 8 hours.
    for (const n of o.storedSizes) {
      const pf = await prefillCells(s, n);
      const reps: number[] = [];
      const runs: AnalyzeRun[] = [];
      for (let r = 0; r < mode.storedRepeats; r++) {
        const a = await analyzeInJobs(s, pool.take(Math.min(pool.left, Math.ceil((mode.storedCells / cellsPerImage) * 1.02))));
        runs.push(a);
        reps.push((a.wallS * 1000) / a.cells);
      }
      costStored[String(n)] = round(median(reps), 2);
      cost[`stored_${n}`] = { prefill: pf, runs, ms_per_cell_runs: reps.map((v) => round(v, 2)), ms_per_cell: costStored[String(n)] };
      log(`cost per cell with ${pf.cells} cells stored (prefill ${pf.seconds} s): ${costStored[String(n)]} ms (${reps.map((v) => v.toFixed(1)).join(', ')})`);
      record();
    }
    const inprocSizes = o.quick ? o.sizes.filter((n) => n > o.serverMaxCells) : o.sizes;
    const files = pool.images.slice(0, Math.min(pool.images.length, 600)).map((i) => i.path);
    for (const n of inprocSizes) {
      const r = await worker.request<{ images: number; cells: number; wallS: number; checkpoints: unknown; memory: unknown }>({ cmd: 'run', files, minCells: n });
      costInproc[String(n)] = round((r.wallS * 1000) / r.cells, 2);
      cost[`inprocess_${n}`] = { ...r, ms_per_cell: costInproc[String(n)] };
      log(`cost per cell, in-process, ${r.cells} cells: ${costInproc[String(n)]} ms`);
      record();
    }
    details.engine.proc_at_end = s.engineMemory();
  } finally {
    await worker?.close().catch(() => undefined);
    await s.close();
  }
}

async function aeSection(o: Options, mode: Mode, results: Results, ref: JsonLineWorker | null): Promise<void> {
  const details = results.details as Record<string, any>;
  log('autoencoder training rates (bench/autoencoder/ae-bench)');
  const r = await runJson<{ rows: any[]; tfjs: string; notes: string[] }>(process.execPath, [join(REPO, 'dist/bench/autoencoder/ae-bench.js'), '--steps', mode.aeSteps, ...(mode.aeBackends ? ['--backends', mode.aeBackends] : [])], { timeoutMs: 3_600_000 });
  const rates: Record<string, Record<string, number>> = {};
  for (const row of r.json.rows) {
    if (row.error) continue;
    // One thread (trainStep) or the data-parallel pool with N threads in all (ae-bench --workers).
    // The onnx row (the training job's default on a CPU): onnxruntime's training graph on its own threads.
    if (row.backend === 'onnx') {
      (rates[row.preset] ??= {})['onnxruntime-cpu'] = row.sourceSamplesPerSec;
      continue;
    }
    const threads = row.workers && row.workers !== 'single' ? Number(row.workers) + 1 : 1;
    (rates[row.preset] ??= {})[`tfjs-${row.backend}${threads > 1 ? `-${threads}-threads` : ''}`] = row.sourceSamplesPerSec;
  }
  const refRows: any[] = [];
  if (ref) {
    for (const preset of Object.keys(PRESETS) as ('cpu' | 'paper')[]) {
      try {
        const row = await ref.request<any>({ cmd: 'ae_train', preset, batch: preset === 'cpu' ? 64 : 8, steps: mode.refAeSteps[preset], align: 1 });
        refRows.push(row);
        (rates[preset] ??= {})['pytorch-cpu'] = round(row.sourceSamplesPerSec, 2);
      } catch (err) {
        refRows.push({ preset, error: (err as Error).message.split('\n')[0] });
      }
    }
  }
  results.ae_samples_per_s = rates;
  details.ae = { tfjs: r.json.tfjs, notes: r.json.notes, rows: r.json.rows.map(({ losses: _l, ...rest }) => rest), reference_rows: refRows };
  log(`ae: ${JSON.stringify(rates)}`);
}

async function rfSection(o: Options, mode: Mode, results: Results): Promise<void> {
  const details = results.details as Record<string, any>;
  log('random forest 10k x 50 (bench/rf/rf-bench)');
  const r = await runJson<any>(process.execPath, [join(REPO, 'dist/bench/rf/rf-bench.js'), '--runs', String(mode.rfRuns), '--python', o.python], { timeoutMs: 3_600_000 });
  results.rf_fit_s = r.json.rf_fit_s;
  results.rf_ratio_vs_sklearn = r.json.rf_ratio_vs_sklearn;
  details.rf = r.json;
  log(`rf: fit ${r.json.rf_fit_s} s, sklearn ${r.json.sklearn_fit_s} s, ratio ${r.json.rf_ratio_vs_sklearn}`);
}

main().catch((err) => {
  if (err instanceof ReferenceMissing) console.error(`bench: ${err.message}`);
  else console.error(err);
  process.exit(1);
});
