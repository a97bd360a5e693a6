/**
 * Autoencoder training, the onnxruntime step (the training job's default on a CPU) against the tfjs-wasm
 * worker pool and the PyTorch reference (bench/reference/pipeline.py ae_train, as bench/run.ts calls it),
 * interleaved round by round so that a shared machine's load falls on all three alike. Prints JSON: per
 * preset and round the ms per step of each, the medians, onnx's ratio to PyTorch, and the load average.
 *
 *   npx tsc -p tsconfig.json && nice -n 10 node dist/bench/autoencoder/onnx-vs-reference.js [--rounds 2]
 *     [--presets cpu,paper] [--steps cpu=6,paper=2] [--python /usr/bin/python3] [--skip-wasm]
 */
import os from 'node:os';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PRESETS, planNetwork, type PresetName } from '../../src/engine/autoencoder/index.js';
import { benchArgs } from '../lib/args.js';
import { JsonLineWorker, runJson } from '../lib/children.js';
import { REPO } from '../lib/server.js';
import { median } from '../lib/stats.js';

const args = benchArgs('node dist/bench/autoencoder/onnx-vs-reference.js', {
  rounds: { type: 'string' }, presets: { type: 'string' }, steps: { type: 'string' }, python: { type: 'string' }, 'skip-wasm': { type: 'boolean' },
});
const rounds = Number(args.str('rounds') ?? 2);
const presets = (args.str('presets') ?? 'cpu,paper').split(',') as PresetName[];
const steps: Record<string, number> = { cpu: 6, paper: 2 };
for (const part of (args.str('steps') ?? '').split(',').filter(Boolean)) {
  const [k, v] = part.split('=');
  steps[k!] = Number(v);
}
const batch: Record<string, number> = { cpu: 64, paper: 8 };
const python = args.str('python') ?? '/usr/bin/python3';

async function aeBench(preset: string, backend: 'onnx' | 'wasm'): Promise<number> {
  const r = await runJson<{ rows: Array<{ msPerStep: number; error?: string }> }>(process.execPath, [
    join(REPO, 'dist/bench/autoencoder/ae-bench.js'), '--presets', preset, '--backends', backend, '--batch', `${preset}=${batch[preset]}`,
    '--steps', `${preset}=${steps[preset]}`, '--align', '1', ...(backend === 'wasm' ? ['--workers', 'auto'] : []),
  ], { timeoutMs: 3_600_000 });
  const row = r.json.rows[0]!;
  if (row.error) throw new Error(`ae-bench ${backend} ${preset}: ${row.error}`);
  return row.msPerStep;
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(os.tmpdir(), 'ae-onnx-ref-'));
  const planPath = join(tmp, 'ae-plans.json');
  writeFileSync(planPath, JSON.stringify(Object.fromEntries(Object.entries(PRESETS).map(([k, p]) => [k, { preset: p, ...planNetwork(p) }]))));
  const ref = new JsonLineWorker(python, [join(REPO, 'bench/reference/pipeline.py')], { OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' });
  const init = await ref.request<{ torch: string; threads: number }>({ cmd: 'ae_init', plan: planPath, threads: 2 });
  const load: number[] = [os.loadavg()[0]!];
  const out: Record<string, { onnx: number[]; wasmPool: number[]; pytorch: number[] }> = {};
  try {
    for (let r = 0; r < rounds; r++) {
      for (const preset of presets) {
        const o = (out[preset] ??= { onnx: [], wasmPool: [], pytorch: [] });
        const t = await ref.request<{ msPerStep: number }>({ cmd: 'ae_train', preset, batch: batch[preset], steps: steps[preset], align: 1 });
        o.pytorch.push(+t.msPerStep.toFixed(1));
        o.onnx.push(await aeBench(preset, 'onnx'));
        if (!args.flag('skip-wasm')) o.wasmPool.push(await aeBench(preset, 'wasm'));
        load.push(os.loadavg()[0]!);
        console.error(`round ${r + 1} ${preset}: pytorch ${o.pytorch.at(-1)} ms, onnx ${o.onnx.at(-1)} ms, wasm pool ${o.wasmPool.at(-1) ?? '-'} ms (load ${os.loadavg()[0]!.toFixed(1)})`);
      }
    }
  } finally {
    await ref.close();
  }
  const summary = Object.fromEntries(Object.entries(out).map(([preset, o]) => {
    const pt = median(o.pytorch);
    const on = median(o.onnx);
    return [preset, {
      batch: batch[preset], alignDomains: 1, msPerStep: o,
      medianMs: { pytorch: pt, onnx: on, wasmPool: o.wasmPool.length ? median(o.wasmPool) : null },
      // Speed relative to PyTorch (>1: faster), from the medians and per round.
      onnxVsPytorch: +(pt / on).toFixed(2),
      onnxVsPytorchPerRound: o.onnx.map((v, i) => +(o.pytorch[i]! / v).toFixed(2)),
      // The median of the per-round ratios: each round's two figures were taken back to back, so a load spike
      // in one round moves one ratio, where it can move one of the two medians above.
      onnxVsPytorchMedianOfRounds: +median(o.onnx.map((v, i) => o.pytorch[i]! / v)).toFixed(2),
      wasmPoolVsPytorch: o.wasmPool.length ? +(pt / median(o.wasmPool)).toFixed(2) : null,
    }];
  }));
  console.log(JSON.stringify({
    bench: 'onnx-vs-reference', date: new Date().toISOString(), torch: init.torch, torchThreads: init.threads,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model }, loadAverage1m: load.map((v) => +v.toFixed(2)), presets: summary,
  }, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
