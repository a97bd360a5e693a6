/**
 * AE-CFE autoencoder benchmark: trainStep and encode throughput per preset and backend, as JSON.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/autoencoder/ae-bench.js [options]
 *
 * Options (all optional):
 *   --presets cpu,paper     presets to run (default both)
 *   --backends wasm,cpu     TensorFlow.js backends (default: the auto choice, plus cpu for a short comparison,
 *                           plus onnx),
 *                           and `onnx`: the onnxruntime training step (src/engine/autoencoder/onnx-train.ts,
 *                           native MLAS on the intra-op threads, default one per core) on a model of the auto
 *                           tfjs backend - what the training job runs on a CPU (chooseTrainingBackend)
 *   --batch cpu=64,paper=8  source batch size per preset
 *   --align 1               other domains in each step (each a batch of the same size; 0 = no alignment term)
 *   --steps cpu=8,paper=3   timed steps per preset (after one warm-up step)
 *   --cpu-steps 1           timed steps on the pure-JS cpu backend (it is ~10-100x slower)
 *   --cells 17092           cells per epoch for the epoch-time estimate (Acevedo-20)
 *   --workers single,auto   how each step runs: `single` = trainStep on the main thread (tfjs wasm: one
 *                           core), `auto` = the engine's choice of data-parallel workers
 *                           (src/engine/autoencoder/parallel.ts; none on webgpu), N = that many workers
 *
 * Data are synthetic cells (src/engine/autoencoder/fixtures.ts): timings do not depend on the values.
 */
import os from 'node:os';
import { initTfjs, type TfjsBackendName, type TfjsRuntime } from '../../src/engine/backends/tfjs.js';
import {
  createAutoencoder,
  describeAutoencoder,
  disposeAutoencoder,
  encode as encode1,
  trainStep as trainStep1,
  PRESETS,
  type PresetName,
} from '../../src/engine/autoencoder/index.js';
import { syntheticCells } from '../../src/engine/autoencoder/fixtures.js';
import { chooseTrainingWorkers, createTrainingPool, type TrainingPool } from '../../src/engine/autoencoder/parallel.js';
import { createOnnxTrainer, type OnnxTrainer } from '../../src/engine/autoencoder/onnx-train.js';
import { benchArgs } from '../lib/args.js';

const arg = benchArgs('node dist/bench/autoencoder/ae-bench.js', {
  presets: { type: 'string' }, batch: { type: 'string' }, steps: { type: 'string' }, align: { type: 'string' }, 'cpu-steps': { type: 'string' }, cells: { type: 'string' }, backends: { type: 'string' }, workers: { type: 'string' },
}).str;

function perPreset(name: string, defaults: Record<PresetName, number>): Record<PresetName, number> {
  const out = { ...defaults };
  const v = arg(name);
  if (v) {
    for (const part of v.split(',')) {
      const [k, n] = part.split('=');
      if (n === undefined) for (const p of Object.keys(out) as PresetName[]) out[p] = Number(k);
      else out[k as PresetName] = Number(n);
    }
  }
  return out;
}

const presets = (arg('presets') ?? 'cpu,paper').split(',') as PresetName[];
const batch = perPreset('batch', { cpu: 64, paper: 8 });
const steps = perPreset('steps', { cpu: 8, paper: 3 });
const alignDomains = Number(arg('align') ?? 1);
const cpuSteps = Number(arg('cpu-steps') ?? 1);
const cells = Number(arg('cells') ?? 17092);
const workerModes = (arg('workers') ?? 'single,auto').split(',');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

interface Row {
  preset: string;
  backend: string;
  device: string;
  batch: number;
  /** 'single' (trainStep on one thread) or the number of worker threads besides the main thread. */
  workers: string;
  alignDomains: number;
  steps: number;
  msPerStep: number;
  msPerStepMin: number;
  sourceSamplesPerSec: number;
  /** Source + other-domain samples through the encoder per second. */
  encodedSamplesPerSec: number;
  trainGflopPerSec: number;
  encodeSamplesPerSec: number;
  epochMinutes: number;
  rssMiB: number;
  losses: number[];
  error?: string;
}

async function runOne(rt: TfjsRuntime, preset: PresetName, b: number, nSteps: number, domains: number, mode: string): Promise<Row> {
  const p = PRESETS[preset];
  const m = await createAutoencoder(preset, 1, { runtime: rt });
  let pool: TrainingPool | null = null;
  let onnx: OnnxTrainer | null = null;
  try {
    if (mode === 'onnx') onnx = await createOnnxTrainer(m);
    else if (mode !== 'single') pool = await createTrainingPool(m, { workers: mode === 'auto' ? chooseTrainingWorkers(m, b) : Number(mode) });
    const trainStep = onnx ? onnx.trainStep : pool ? pool.trainStep : trainStep1;
    const encode = pool ? pool.encode : encode1;
    const info = describeAutoencoder(m);
    const src = syntheticCells(b, p.imageSize, 1);
    const others = Array.from({ length: domains }, (_, d) => syntheticCells(b, p.imageSize, 100 + d, { domainShift: 0.3 }).features);
    await trainStep(m, src, others); // warm-up (operator creation, memory growth; onnx: graph build + session)
    const ms: number[] = [];
    const losses: number[] = [];
    for (let i = 0; i < nSteps; i++) {
      const r = await trainStep(m, src, others);
      ms.push(r.ms);
      losses.push(+r.loss.toFixed(4));
    }
    const step = median(ms);
    // Encode throughput (the latents job): one warm-up, then the whole batch a few times.
    await encode(m, src.features, b);
    const t0 = performance.now();
    const reps = 3;
    for (let i = 0; i < reps; i++) await encode(m, src.features, b);
    const encMs = (performance.now() - t0) / reps;
    // FLOPs of a step: forward of the whole network on the source batch and of the encoder on the other
    // domains, times ~3 for forward + the two backward products.
    const encFlops = m.plan.encoder.reduce((s, l) => s + l.flops, 0);
    const stepFlops = 3 * (info.forwardFlopsPerSample * b + encFlops * b * domains);
    return {
      preset,
      backend: onnx ? 'onnx' : rt.backend,
      device: onnx ? `onnxruntime cpu, ${os.availableParallelism()} threads (encode: tfjs ${rt.backend})` : rt.device,
      batch: b,
      workers: onnx ? 'onnx' : pool ? String(pool.workers) : 'single',
      alignDomains: domains,
      steps: nSteps,
      msPerStep: +step.toFixed(1),
      msPerStepMin: +Math.min(...ms).toFixed(1),
      sourceSamplesPerSec: +((b * 1000) / step).toFixed(2),
      encodedSamplesPerSec: +((b * (1 + domains) * 1000) / step).toFixed(2),
      trainGflopPerSec: +(stepFlops / step / 1e6).toPrecision(3),
      encodeSamplesPerSec: +((b * 1000) / encMs).toFixed(1),
      epochMinutes: +((cells / ((b * 1000) / step)) / 60).toFixed(1),
      rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
      losses,
    };
  } finally {
    await pool?.close();
    await onnx?.close();
    disposeAutoencoder(m);
  }
}

async function main(): Promise<void> {
  const auto = await initTfjs();
  const backends: Array<TfjsBackendName | 'onnx'> = arg('backends')
    ? (arg('backends')!.split(',') as Array<TfjsBackendName | 'onnx'>)
    : [auto.backend, ...(auto.backend !== 'cpu' ? (['cpu'] as const) : []), 'onnx'];
  const rows: Row[] = [];
  for (const be of backends) {
    let rt: TfjsRuntime;
    try {
      rt = be === 'onnx' ? await initTfjs({ prefer: auto.backend, strict: true }) : await initTfjs({ prefer: be, strict: true });
    } catch (err) {
      rows.push({ preset: '-', backend: be, error: (err as Error).message } as Row);
      continue;
    }
    for (const preset of presets) {
      const slow = be === 'cpu' && auto.backend !== 'cpu';
      // The pure-JS backend is far slower: a short run, and no paper preset unless asked for.
      if (slow && preset === 'paper' && !arg('backends')) continue;
      const b = slow ? Math.min(batch[preset], 8) : batch[preset];
      const n = slow ? cpuSteps : steps[preset];
      // The pure-JS backend runs single only (a comparison point); webgpu gets no workers (auto = 0).
      for (const mode of be === 'onnx' ? ['onnx'] : slow ? ['single'] : workerModes) {
        if (mode === 'auto' && workerModes.includes('single') && chooseTrainingWorkers({ backend: be }, b) === 0) continue;
        try {
          const row = await runOne(rt, preset, b, n, alignDomains, mode);
          rows.push(row);
          console.error(`${be} ${preset} workers ${row.workers}: ${row.msPerStep} ms/step, ${row.sourceSamplesPerSec} samples/s`);
        } catch (err) {
          rows.push({ preset, backend: be, workers: mode, error: (err as Error).message } as Row);
        }
      }
    }
  }
  const out = {
    bench: 'ae-bench',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    tfjs: auto.version,
    kernelsPatched: auto.kernelsPatched,
    notes: auto.notes,
    epochCells: cells,
    rows,
  };
  console.log(JSON.stringify(out, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
