// Detector throughput (issue 3's goal: >= 8 images/s for 400x400 images on 2 CPU cores, including decode
// and feature output). Inputs: Acevedo-20 JPEGs resized to 400x400 and re-encoded as JPEG (quality 90).
// Modes per intraOpNumThreads: `sequential` (detect one image after another), `pipelined` (detectMany:
// the next image decodes while the model runs), and `workers` (two worker threads, one session each
// with 1 thread). A per-stage breakdown (decode+resize, model, paste+RLE+features) is measured too.
//
// Usage: node dist/bench/detector/detector-bench.js [--model models/detector.onnx] [--images 24]
//        [--data /work/shared/data/acevedo20] [--threads 1,2] [--rounds 2] [--out result.json]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { decodeRgb, encodeJpeg } from '../../src/imaging/image-codec.js';
import { createDetector, defaultDetectorModelPath, type Detector } from '../../src/engine/detector/index.js';
import { detectorStages } from '../lib/detector-stages.js';

interface Args {
  model: string;
  images: number;
  data: string;
  threads: number[];
  rounds: number;
  out: string | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { model: defaultDetectorModelPath(), images: 24, data: '/work/shared/data/acevedo20', threads: [1, 2], rounds: 2, out: null };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i]!.replace(/^--/, '');
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`detector-bench: ${argv[i]} needs a value`);
    if (k === 'model') a.model = path.resolve(v);
    else if (k === 'images') a.images = Number(v);
    else if (k === 'data') a.data = v;
    else if (k === 'threads') a.threads = v.split(',').map(Number);
    else if (k === 'rounds') a.rounds = Number(v);
    else if (k === 'out') a.out = v;
    else throw new Error(`detector-bench: unknown option ${argv[i]}`);
  }
  return a;
}

/** N Acevedo-20 images (round-robin over the class folders, sorted), resized to 400x400 JPEG. */
async function makeInputs(dataDir: string, n: number): Promise<Buffer[]> {
  const classes = readdirSync(dataDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const lists = classes.map((c) => readdirSync(path.join(dataDir, c)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort().map((f) => path.join(dataDir, c, f)));
  const files: string[] = [];
  for (let i = 0; files.length < n; i++) {
    const before = files.length;
    for (const l of lists) if (i < l.length && files.length < n) files.push(l[i]!);
    if (files.length === before) break;
  }
  return Promise.all(files.map(async (f) => {
    const rgb = await decodeRgb(readFileSync(f), { width: 400, height: 400 });
    return encodeJpeg(rgb.data, 400, 400, 90);
  }));
}

async function timeSequential(det: Detector, inputs: Buffer[]): Promise<{ ms: number; cells: number }> {
  let cells = 0;
  const t0 = performance.now();
  for (const b of inputs) cells += (await det.detect(b)).cells.length;
  return { ms: performance.now() - t0, cells };
}

async function timePipelined(det: Detector, inputs: Buffer[]): Promise<{ ms: number; cells: number }> {
  let cells = 0;
  const t0 = performance.now();
  for await (const r of det.detectMany(inputs)) {
    if (r.error) throw r.error;
    cells += r.result!.cells.length;
  }
  return { ms: performance.now() - t0, cells };
}

async function stages(det: Detector, inputs: Buffer[]): Promise<{ decodeMs: number; modelMs: number; totalMs: number }> {
  const r = await detectorStages(det, inputs);
  return { decodeMs: +r.decodeMs.toFixed(1), modelMs: +r.modelMs.toFixed(1), totalMs: +r.detectMs.toFixed(1) };
}

/** Two worker threads, each with its own 1-thread session, splitting the images. */
async function timeWorkers(model: string, inputs: Buffer[], workers = 2): Promise<{ ms: number; cells: number }> {
  const parts = Array.from({ length: workers }, (_, w) => inputs.filter((_, i) => i % workers === w));
  const ws = parts.map((p) => new Worker(new URL(import.meta.url), { workerData: { model, inputs: p } }));
  // wait until every worker has loaded its model and warmed up, then time them together
  await Promise.all(ws.map((w) => new Promise((res) => w.once('message', res))));
  const t0 = performance.now();
  const counts = await Promise.all(ws.map((w) => new Promise<number>((res, rej) => {
    w.once('message', (m: { cells: number }) => res(m.cells));
    w.once('error', rej);
    w.postMessage('go');
  })));
  const ms = performance.now() - t0;
  await Promise.all(ws.map((w) => w.terminate()));
  return { ms, cells: counts.reduce((a, b) => a + b, 0) };
}

async function workerMain(): Promise<void> {
  const { model, inputs } = workerData as { model: string; inputs: Uint8Array[] };
  const bufs = inputs.map((u) => Buffer.from(u));
  const det = await createDetector({ modelPath: model, prefer: 'cpu', intraOpNumThreads: 1 });
  await det.detect(bufs[0]!);
  parentPort!.postMessage('ready');
  parentPort!.once('message', async () => {
    let cells = 0;
    for (const b of bufs) cells += (await det.detect(b)).cells.length;
    parentPort!.postMessage({ cells });
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const inputs = await makeInputs(args.data, args.images);
  const results: Record<string, unknown>[] = [];
  const ips = (n: number, ms: number) => +((n * 1000) / ms).toFixed(2);
  let backend: unknown;
  for (const threads of args.threads) {
    const det = await createDetector({ modelPath: args.model, prefer: 'cpu', intraOpNumThreads: threads });
    backend = det.backend;
    for (const b of inputs.slice(0, 3)) await det.detect(b); // warm-up
    const best = { sequential: Infinity, pipelined: Infinity };
    let cells = 0;
    for (let r = 0; r < args.rounds; r++) {
      const s = await timeSequential(det, inputs);
      const p = await timePipelined(det, inputs);
      best.sequential = Math.min(best.sequential, s.ms);
      best.pipelined = Math.min(best.pipelined, p.ms);
      cells = s.cells;
    }
    const st = await stages(det, inputs.slice(0, Math.min(8, inputs.length)));
    results.push({ mode: 'sequential', intraOpNumThreads: threads, imagesPerSecond: ips(inputs.length, best.sequential), msPerImage: +(best.sequential / inputs.length).toFixed(1), cells });
    results.push({ mode: 'pipelined', intraOpNumThreads: threads, imagesPerSecond: ips(inputs.length, best.pipelined), msPerImage: +(best.pipelined / inputs.length).toFixed(1) });
    results.push({ mode: 'stages', intraOpNumThreads: threads, ...st });
    await det.dispose();
  }
  let bestW = Infinity;
  for (let r = 0; r < args.rounds; r++) bestW = Math.min(bestW, (await timeWorkers(args.model, inputs)).ms);
  results.push({ mode: 'workers', workers: 2, intraOpNumThreads: 1, imagesPerSecond: ips(inputs.length, bestW), msPerImage: +(bestW / inputs.length).toFixed(1) });
  const report = {
    bench: 'detector',
    model: args.model,
    images: inputs.length,
    imageSize: '400x400 JPEG q90 (Acevedo-20, resized)',
    includes: 'JPEG decode + resize (sharp), model (onnxruntime cpu), box scaling, mask paste + RLE, feature copy',
    rounds: `best of ${args.rounds}`,
    backend,
    cpu: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
    loadavgAtEnd: loadavg().map((v) => +v.toFixed(2)),
    results,
  };
  const json = JSON.stringify(report, null, 1);
  if (args.out) writeFileSync(args.out, json);
  console.log(json);
}

if (isMainThread) await main();
else await workerMain();
