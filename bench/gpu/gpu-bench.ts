/**
 * GPU check and timings for an NVIDIA machine (../../../shared/docs/gpu.md): the detector with
 * onnxruntime's `webgpu` provider against its `cpu` provider on the same images, and one autoencoder
 * epoch on tfjs-backend-webgpu against the wasm backend from the same seed and batches. Prints JSON
 * details, then a short table last. Run it through bench/gpu/run-gpu.sh.
 *
 *   node dist/bench/gpu/gpu-bench.js [--model models/detector.onnx] [--images test/fixtures]
 *        [--rounds 5] [--epoch-cells 4096] [--batch 64] [--paper-steps 5] [--budget-s 420]
 *        [--parts detector,ae]
 *
 * `--parts` runs a subset (the lent machine's carry limit can force two calls: one without the model).
 * With $OUT set, the JSON report is also written to $OUT/gpu-<parts>.json.
 *
 * The autoencoder part runs each backend in a child process of this script (`--ae-child BACKEND`), so
 * that two TensorFlow.js backends never share one process.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDetector, type Detection } from '../../src/engine/detector/index.js';
import { initTfjs, type TfjsBackendName } from '../../src/engine/backends/tfjs.js';
import { createAutoencoder, disposeAutoencoder, trainStep, PRESETS, type PresetName } from '../../src/engine/autoencoder/index.js';
import { syntheticCells } from '../../src/engine/autoencoder/fixtures.js';
import { benchArgs } from '../lib/args.js';

const REPO = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const T0 = performance.now();

const cli = benchArgs('node dist/bench/gpu/gpu-bench.js', {
  'ae-child': { type: 'string' }, 'only-check': { type: 'boolean' }, 'epoch-cells': { type: 'string' }, batch: { type: 'string' }, 'check-steps': { type: 'string' }, 'paper-steps': { type: 'string' },
  model: { type: 'string' }, images: { type: 'string' }, rounds: { type: 'string' }, 'budget-s': { type: 'string' }, parts: { type: 'string' },
});
const arg = (name: string, fallback: string): string => cli.str(name) ?? fallback;

function imagesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...imagesUnder(p));
    else if (/\.(jpe?g|png|tiff?|bmp)$/i.test(e)) out.push(p);
  }
  return out;
}

function maxRelDiff(a: Float32Array, b: Float32Array): { maxAbs: number; rel: number } {
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(a[i]!));
  }
  return { maxAbs, rel: scale ? maxAbs / scale : maxAbs };
}

async function detectorPart(model: string, files: string[], rounds: number) {
  const bufs = files.map((f) => readFileSync(f));
  const cpu = await createDetector({ modelPath: model, prefer: 'cpu' });
  const gpu = await createDetector({ modelPath: model, prefer: 'webgpu' });
  const out: Record<string, unknown> = { cpuBackend: cpu.backend, gpuBackend: gpu.backend };
  // Correctness: same images, both providers.
  let countMismatch = 0;
  let worstBox = 0;
  let worstScore = 0;
  let worstFeature = 0;
  const ref: Detection[] = [];
  for (const b of bufs) {
    const c = await cpu.detect(b);
    const g = await gpu.detect(b);
    ref.push(c);
    if (c.cells.length !== g.cells.length) {
      countMismatch++;
      continue;
    }
    c.cells.forEach((cc, k) => {
      const gc = g.cells[k]!;
      worstBox = Math.max(worstBox, ...cc.box.map((v, i) => Math.abs(v - gc.box[i]!)));
      worstScore = Math.max(worstScore, Math.abs(cc.score - gc.score));
      worstFeature = Math.max(worstFeature, maxRelDiff(cc.features, gc.features).rel);
    });
  }
  out.check = { images: bufs.length, cells: ref.reduce((a, d) => a + d.cells.length, 0), countMismatch, maxBoxPx: worstBox, maxScore: worstScore, maxFeatureRel: worstFeature };
  const time = async (det: typeof cpu) => {
    for (const b of bufs.slice(0, 2)) await det.detect(b);
    const t = performance.now();
    for (let r = 0; r < rounds; r++) for (const b of bufs) await det.detect(b);
    return (performance.now() - t) / (rounds * bufs.length);
  };
  out.cpuMsPerImage = await time(cpu);
  out.gpuMsPerImage = await time(gpu);
  // The model alone (decode excluded), where batching-free launch overhead shows.
  const p = await import('../../src/engine/detector/index.js').then((m) => m.prepareImage(bufs[0]!, cpu.model.inputSize));
  const modelMs = async (det: typeof cpu) => {
    await det.runTensor(p.chw, p.inputHeight, p.inputWidth);
    const t = performance.now();
    for (let i = 0; i < 10; i++) await det.runTensor(p.chw, p.inputHeight, p.inputWidth);
    return (performance.now() - t) / 10;
  };
  out.cpuModelMs = await modelMs(cpu);
  out.gpuModelMs = await modelMs(gpu);
  await cpu.dispose();
  await gpu.dispose();
  return out;
}

/** One backend's autoencoder run (in a child): an epoch of the cpu preset, a few paper-preset steps. */
async function aeChild(backend: TfjsBackendName): Promise<void> {
  const rt = await initTfjs({ prefer: backend, strict: true });
  const epochCells = Number(arg('epoch-cells', '4096'));
  const batch = Number(arg('batch', '64'));
  const checkSteps = Number(arg('check-steps', '3'));
  const onlyCheck = cli.flag('only-check');
  const result: Record<string, unknown> = { backend: rt.backend, device: rt.device, notes: rt.notes };
  // Loss check: the same seed and batches on every backend (the paper preset at batch 8, which wasm's
  // memory holds); then, unless only the check is asked for, the timed work.
  const run = async (preset: PresetName, b: number, steps: number, keepLosses: number) => {
    const p = PRESETS[preset];
    const m = await createAutoencoder(preset, 7, { runtime: rt });
    try {
      const src = syntheticCells(b, p.imageSize, 1);
      const other = syntheticCells(b, p.imageSize, 2, { domainShift: 0.3 }).features;
      const losses: number[] = [];
      const ms: number[] = [];
      for (let i = 0; i < steps; i++) {
        const r = await trainStep(m, src, [other]);
        if (i < keepLosses) losses.push(r.loss);
        ms.push(r.ms);
      }
      const timed = ms.length > 1 ? ms.slice(1) : ms; // the first step builds the kernels
      const total = timed.reduce((a, v) => a + v, 0);
      return { batch: b, steps, losses, msPerStep: total / timed.length, samplesPerSec: (b * timed.length * 1000) / total, totalS: ms.reduce((a, v) => a + v, 0) / 1000 };
    } finally {
      disposeAutoencoder(m);
    }
  };
  result.cpu = await run('cpu', batch, onlyCheck ? checkSteps : Math.max(checkSteps, Math.ceil(epochCells / batch)), checkSteps);
  result.paperCheck = await run('paper', 8, checkSteps, checkSteps);
  if (!onlyCheck) result.paper = await run('paper', 32, Math.max(2, Number(arg('paper-steps', '5'))), 0);
  console.log(JSON.stringify(result));
}

function runAeChild(backend: string, extra: string[], timeoutS: number): Record<string, any> {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--ae-child', backend, ...extra], { encoding: 'utf8', timeout: Math.round(timeoutS * 1000) });
  if (r.status !== 0) {
    const last = (r.stderr ?? '').split('\n').map((l) => l.trim()).filter((l) => /error/i.test(l)).pop() ?? '';
    return { error: `${backend}: exit ${r.status ?? r.signal}: ${last.slice(0, 200)}`, stderrTail: (r.stderr ?? '').slice(-2000) };
  }
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, any>;
}

async function main(): Promise<void> {
  const model = resolve(arg('model', join(REPO, 'models/detector.onnx')));
  const files = imagesUnder(resolve(arg('images', join(REPO, 'test/fixtures'))));
  const rounds = Number(arg('rounds', '5'));
  const budget = Number(arg('budget-s', '420'));
  const passthrough = ['epoch-cells', 'batch', 'paper-steps', 'check-steps'].flatMap((k) => (cli.str(k) !== undefined ? [`--${k}`, arg(k, '')] : []));
  const parts = arg('parts', 'detector,ae').split(',');
  const report: Record<string, any> = { model, images: files.length, parts };
  if (parts.includes('detector')) {
    try {
      report.detector = await detectorPart(model, files, rounds);
    } catch (err) {
      report.detector = { error: (err as Error).message };
    }
  }
  const left = () => budget - (performance.now() - T0) / 1000;
  if (parts.includes('ae')) {
    report.ae = {
      webgpu: runAeChild('webgpu', passthrough, Math.max(30, left() * 0.6)),
      // wasm on the host CPU: only the first steps (the loss check) and their time.
      wasm: runAeChild('wasm', ['--only-check', ...passthrough], Math.max(30, left() - 20)),
    };
  }
  console.log(JSON.stringify(report, null, 1));
  if (process.env.OUT) writeFileSync(join(process.env.OUT, `gpu-${parts.join('-')}.json`), JSON.stringify(report, null, 1));

  // The table, last.
  const d = report.detector ?? {};
  const g = report.ae?.webgpu ?? {};
  const w = report.ae?.wasm ?? {};
  const lossDiff = (p: string) => {
    const a = g[p]?.losses as number[] | undefined;
    const b = w[p]?.losses as number[] | undefined;
    if (!a || !b) return 'n/a';
    return Math.max(...a.map((v, i) => Math.abs(v - b[i]!) / Math.max(1e-9, Math.abs(b[i]!)))).toExponential(1);
  };
  const fx = (v: unknown, n = 1) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(n) : 'n/a');
  const rows = [
    ['what', 'webgpu', 'cpu/wasm', 'check'],
    ['device', `onnxruntime: ${d.gpuBackend?.device ?? 'n/a'} (${d.gpuBackend?.detail ?? ''}); tfjs: ${g.backend ?? 'n/a'} ${g.device ?? ''}`.slice(0, 120), String(d.cpuBackend?.detail ?? ''),
      d.gpuBackend && d.gpuBackend.device !== 'webgpu' ? `NOT webgpu: ${(d.gpuBackend.notes ?? []).join('; ')}`.slice(0, 160) : ''],
    ['detector ms/image (decode..features)', fx(d.gpuMsPerImage), fx(d.cpuMsPerImage), d.check ? `${d.check.cells} cells, ${d.check.countMismatch} count mismatches, box <= ${fx(d.check.maxBoxPx, 2)} px, score <= ${fx(d.check.maxScore, 4)}, features rel <= ${Number(d.check.maxFeatureRel).toExponential(1)}` : String(d.error ?? '')],
    ['detector model only, ms', fx(d.gpuModelMs), fx(d.cpuModelMs), ''],
    [`AE cpu preset, samples/s (batch ${g.cpu?.batch ?? '?'})`, fx(g.cpu?.samplesPerSec), fx(w.cpu?.samplesPerSec), `loss rel diff ${lossDiff('cpu')}`],
    [`AE cpu preset epoch of ${g.cpu ? g.cpu.steps * g.cpu.batch : '?'} cells, s`, fx(g.cpu?.totalS), '', ''],
    ['AE paper preset, samples/s (batch 32 webgpu, 8 wasm check)', fx(g.paper?.samplesPerSec), fx(w.paperCheck?.samplesPerSec), `loss rel diff ${lossDiff('paperCheck')} (batch 8)`],
  ];
  if (g.error || w.error) rows.push(['errors', String(g.error ?? ''), String(w.error ?? ''), '']);
  for (const r of rows) for (let i = 0; i < r.length; i++) r[i] = r[i]!.replace(/\s+/g, ' ');
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log(rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')).join('\n'));
  console.log(`total ${fx((performance.now() - T0) / 1000, 0)} s`);
}

const child = cli.str('ae-child');
if (child !== undefined) await aeChild(child as TfjsBackendName);
else await main();
