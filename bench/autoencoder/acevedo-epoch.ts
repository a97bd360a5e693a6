/**
 * AE-CFE autoencoder on real cells: the wall time of training epochs over Acevedo-20 (issue 4's benchmark),
 * and a picture of input crops and their reconstructions after training (docs/reconstructions-acevedo.png).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/autoencoder/acevedo-epoch.js [options]
 *
 * Options (all optional):
 *   --data DIR              Acevedo-20 folder (class folders; default ../shared/data/acevedo20)
 *   --max-per-class N       seeded per-class sample (ig counts as its own group); default: every image
 *   --epochs E              training epochs (default 10)
 *   --preset cpu            autoencoder preset (default cpu)
 *   --batch 64              source batch size (default 64)
 *   --lr 0.001              learning rate (default: the preset's)
 *   --seed 0                sampling, initialisation and shuffling seed
 *   --align DIR             one other domain (folder) whose unlabelled cells enter the alignment term
 *                           (features only, a batch of the same size each step, weight 5); default: off
 *   --align-max-per-class N per-class sample of the alignment domain (default 100)
 *   --model models/detector.onnx   the detector (with its .json beside it)
 *   --cache DIR             per-image detections kept between runs (default /tmp/leukograph-detections)
 *   --fake-detector         the evaluation's stand-in detector instead of the model (dry runs only)
 *   --show 8                cells in the picture (spread over the classes)
 *   --holdout 8             cells kept out of training, drawn in a second picture (0 = none)
 *   --png docs/reconstructions-acevedo.png
 *   --json bench/autoencoder/acevedo-epoch.result.json
 *   --full-cells 6586       cells of the whole Acevedo-20 folder, for the projected full epoch time
 *
 * Epoch time is wall time of the training loop (batch assembly + trainStep), detection and loading excluded
 * (they are reported separately). When fewer cells than --full-cells are trained on, the full-dataset epoch
 * time is a projection: full cells / measured samples per second.
 */
import os from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  createAutoencoder,
  describeAutoencoder,
  disposeAutoencoder,
  reconstruct,
  PRESETS,
  type PresetName,
} from '../../src/engine/autoencoder/index.js';
import { chwToHwc, FEATURE_LENGTH } from '../../src/engine/autoencoder/layout.js';
import { trainAutoencoderEpochs } from '../../src/pipeline/autoencoder-training.js';
import { imageTargets, squareCrop } from '../../src/pipeline/crop.js';
import { packFeatures } from '../../src/pipeline/encode.js';
import { AUTOENCODER_DEFAULTS } from '../../src/pipeline/defaults.js';
import { encodePng } from '../../src/imaging/image-codec.js';
import { detectorCacheKey, loadFolderDomain, type CellDetectorLike } from '../../src/evaluation/folder-dataset.js';
import { createRng, mixSeed, shuffleInPlace } from '../../src/engine/classifier/rng.js';
import { benchArgs } from '../lib/args.js';

const cli = benchArgs('node dist/bench/autoencoder/acevedo-epoch.js', {
  data: { type: 'string' }, 'max-per-class': { type: 'string' }, epochs: { type: 'string' }, preset: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' }, seed: { type: 'string' }, align: { type: 'string' }, 'align-max-per-class': { type: 'string' },
  model: { type: 'string' }, cache: { type: 'string' }, 'fake-detector': { type: 'boolean' }, show: { type: 'string' }, holdout: { type: 'string' }, png: { type: 'string' }, json: { type: 'string' }, 'full-cells': { type: 'string' },
});
const { num, flag } = cli;
const arg = cli.str;

const dataDir = resolve(arg('data') ?? '../shared/data/acevedo20');
const maxPerClass = arg('max-per-class') !== undefined ? num('max-per-class', 0) : undefined;
const epochs = num('epochs', 10);
const preset = (arg('preset') ?? 'cpu') as PresetName;
if (!Object.hasOwn(PRESETS, preset)) throw new Error(`--preset: unknown preset ${preset}`);
const batch = num('batch', 64);
const lr = num('lr', PRESETS[preset].learningRate);
const seed = num('seed', 0);
const alignDir = arg('align') ? resolve(arg('align')!) : undefined;
const alignMaxPerClass = num('align-max-per-class', 100);
const modelPath = resolve(arg('model') ?? 'models/detector.onnx');
const cacheDir = resolve(arg('cache') ?? '/tmp/leukograph-detections');
const fake = flag('fake-detector');
const nShow = num('show', 8);
const nHoldout = num('holdout', 8);
const pngPath = resolve(arg('png') ?? 'docs/reconstructions-acevedo.png');
const jsonPath = resolve(arg('json') ?? 'bench/autoencoder/acevedo-epoch.result.json');
const fullCells = num('full-cells', 6586);
const imageSize = PRESETS[preset].imageSize;

const log = (msg: string): void => {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
};
const r2 = (x: number): number => Math.round(x * 100) / 100;

async function loadDetector(): Promise<CellDetectorLike> {
  if (fake) return (await import('../../test/helpers/fake-detector.js')).fakeDetector();
  const { createDetector } = await import('../../src/engine/detector/index.js');
  return createDetector({ modelPath }) as unknown as Promise<CellDetectorLike>;
}

/** A crop as size x size x 3 uint8 (the pipeline's squareCrop, as the evaluation and the jobs take it). */
async function cropAt(crop: Uint8Array | (() => Uint8Array | Promise<Uint8Array>), size: number): Promise<Uint8Array> {
  return squareCrop(typeof crop === 'function' ? await crop() : crop, size);
}

/** Two rows of tiles (inputs over reconstructions), each tile scaled up `scale` x (nearest), white gaps. */
async function gridPng(inputs: Uint8Array[], recons: Float32Array[], size: number, scale: number): Promise<Buffer> {
  const n = inputs.length;
  const gap = 4;
  const tile = size * scale;
  const W = n * tile + (n + 1) * gap;
  const H = 2 * tile + 3 * gap;
  const out = new Uint8Array(W * H * 3).fill(255);
  const put = (row: number, col: number, px: (i: number) => number): void => {
    const ox = gap + col * (tile + gap);
    const oy = gap + row * (tile + gap);
    for (let y = 0; y < tile; y++) {
      const sy = Math.floor(y / scale);
      for (let x = 0; x < tile; x++) {
        const sx = Math.floor(x / scale);
        const s = (sy * size + sx) * 3;
        const d = ((oy + y) * W + ox + x) * 3;
        for (let c = 0; c < 3; c++) out[d + c] = px(s + c);
      }
    }
  };
  for (let k = 0; k < n; k++) {
    const inp = inputs[k]!;
    const rec = recons[k]!;
    put(0, k, (i) => inp[i]!);
    put(1, k, (i) => Math.max(0, Math.min(255, Math.round(rec[i]! * 255))));
  }
  return encodePng(out, W, H, 3);
}

/** `count` cell indices spread over the classes (round robin over the labels, seeded), from `pool`. */
function pickSpread(pool: number[], labelOf: (i: number) => string, count: number, rngSeed: number): number[] {
  const rng = createRng(rngSeed);
  const byLabel = new Map<string, number[]>();
  for (const i of pool) {
    const l = labelOf(i);
    if (!byLabel.has(l)) byLabel.set(l, []);
    byLabel.get(l)!.push(i);
  }
  const lists = [...byLabel.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, l]) => shuffleInPlace(l, rng));
  const out: number[] = [];
  for (let r = 0; out.length < count && lists.some((l) => l.length > r); r++) {
    for (const l of lists) if (l.length > r && out.length < count) out.push(l[r]!);
  }
  return out;
}

async function main(): Promise<void> {
  const tStart = performance.now();
  log(`detector ${fake ? '(stand-in)' : modelPath}; data ${dataDir}; max per class ${maxPerClass ?? 'all'}`);
  const detector = await loadDetector();
  const cache = { dir: cacheDir, key: await detectorCacheKey(fake ? '' : modelPath, detector) };
  let lastLog = 0;
  const onProgress = (done: number, total: number): void => {
    const t = performance.now();
    if (t - lastLog > 15000 || done === total) {
      lastLog = t;
      log(`  loading ${done}/${total}`);
    }
  };
  const tLoad = performance.now();
  const { domain, stats } = await loadFolderDomain({
    name: 'acevedo20', dir: dataDir, classes: 'common5', imageSize, detector, maxPerClass, seed, cache, onProgress,
  });
  const loadSeconds = r2((performance.now() - tLoad) / 1000);
  log(`acevedo20: ${stats.cells} cells of ${stats.sampled} sampled images (${stats.cached} from the cache, ${stats.noDetection} without detection, ${stats.failed} failed) in ${loadSeconds} s`);
  let alignCells: Float32Array[] = [];
  let alignStats: unknown = null;
  if (alignDir) {
    const a = await loadFolderDomain({
      name: 'align', dir: alignDir, classes: 'common5', imageSize, detector, maxPerClass: alignMaxPerClass, seed, cache, onProgress,
    });
    alignCells = a.domain.cells.map((c) => c.features);
    alignStats = { dir: alignDir, cells: a.stats.cells, sampled: a.stats.sampled, cached: a.stats.cached, seconds: a.stats.seconds };
    log(`align domain ${alignDir}: ${alignCells.length} cells`);
  }

  const all = domain.cells;
  const labelOf = (i: number): string => all[i]!.label ?? (all[i]!.id?.split('/')[0] ?? '(unlabelled)');
  // Held-out cells: never trained on, shown in a second picture.
  const heldout = nHoldout > 0 ? pickSpread(all.map((_, i) => i), labelOf, nHoldout, mixSeed(seed, 0x401d)) : [];
  const heldSet = new Set(heldout);
  const trainIdx = all.map((_, i) => i).filter((i) => !heldSet.has(i));
  const n = trainIdx.length;
  if (n < 2) throw new Error(`only ${n} training cells`);
  const per = imageSize * imageSize * 3;
  // Features (NHWC) and image targets of the training cells, prepared once (as the training job does).
  const tPrep = performance.now();
  const crops: Uint8Array[] = [];
  for (const i of all.keys()) crops[i] = await cropAt(all[i]!.crop, imageSize);
  const prepSeconds = r2((performance.now() - tPrep) / 1000);

  const model = await createAutoencoder(preset, seed);
  const info = describeAutoencoder(model);
  log(`autoencoder ${preset} on ${info.backend} (${info.device}), ${info.parameterCount} parameters; ${n} training cells, batch ${batch}, ${epochs} epochs, align ${alignDir ? 1 : 0}`);
  const epochRows: Array<{ epoch: number; seconds: number; samplesPerSec: number; steps: number; loss: number; ssim: number; mse: number; align: number; load1: number }> = [];
  const stepMs: number[] = [];
  try {
    // The pipeline's epoch loop (src/pipeline/autoencoder-training.ts), as the trainAutoencoder job runs it.
    let ts = performance.now();
    let steps = 0;
    await trainAutoencoderEpochs(
      model,
      {
        count: n,
        features: async (idx) => packFeatures(idx.map((k) => all[trainIdx[k]!]!.features)),
        images: async (idx, size) => imageTargets(idx.map((k) => crops[trainIdx[k]!]!), size),
      },
      alignCells.length >= 2 ? [{ count: alignCells.length, features: async (idx) => packFeatures(idx.map((k) => alignCells[k]!)) }] : [],
      {
        seed, epochs, batchSize: batch, learningRate: lr, alignWeight: alignCells.length >= 2 ? AUTOENCODER_DEFAULTS.alignWeight : 0,
        onStep: () => {
          const t = performance.now();
          stepMs.push(t - ts);
          ts = t;
          steps++;
        },
        onEpoch: (e) => {
          const row = {
            epoch: e.epoch,
            seconds: r2(e.seconds),
            samplesPerSec: r2(e.samplesPerSec),
            steps,
            loss: +e.loss.toFixed(4),
            ssim: +e.ssim.toFixed(4),
            mse: +e.mse.toFixed(4),
            align: +e.align.toFixed(4),
            load1: r2(os.loadavg()[0]!),
          };
          steps = 0;
          ts = performance.now();
          epochRows.push(row);
          log(`epoch ${row.epoch}/${epochs}: ${row.seconds} s, ${row.samplesPerSec} samples/s, loss ${row.loss} (ssim ${row.ssim}, mse ${row.mse}, align ${row.align}), load ${row.load1}`);
        },
      },
    );

    // Pictures: training cells spread over the classes, and the held-out ones.
    const shown = pickSpread(trainIdx, labelOf, nShow, mixSeed(seed, 0x5e0));
    const pictures: Array<{ path: string; cells: string[]; heldOut: boolean }> = [];
    for (const [cells, path, heldOut] of [
      [shown, pngPath, false],
      [heldout, pngPath.replace(/\.png$/, '-heldout.png'), true],
    ] as const) {
      if (cells.length === 0) continue;
      const f = new Float32Array(cells.length * FEATURE_LENGTH);
      cells.forEach((i, k) => chwToHwc(all[i]!.features, f, k * FEATURE_LENGTH));
      const rec = await reconstruct(model, f, cells.length);
      const recons = cells.map((_, k) => rec.images.subarray(k * per, (k + 1) * per));
      const png = await gridPng(cells.map((i) => crops[i]!), recons, imageSize, Math.max(1, Math.round(128 / imageSize)));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, png);
      pictures.push({ path, cells: cells.map((i) => `${all[i]!.id} (${labelOf(i)})`), heldOut });
      log(`wrote ${path}`);
    }

    // Summary. The first epoch includes warm-up (kernel/operator creation); the steady figure is the median
    // of the later ones.
    const later = epochRows.length > 1 ? epochRows.slice(1) : epochRows;
    const med = (xs: number[]): number => {
      const s = [...xs].sort((x, y) => x - y);
      return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
    };
    const sps = r2(med(later.map((r) => r.samplesPerSec)));
    const measuredEpoch = r2(med(later.map((r) => r.seconds)));
    const cpus = os.cpus();
    const summary = {
      bench: 'acevedo-epoch',
      date: new Date().toISOString(),
      command: `node dist/bench/autoencoder/acevedo-epoch.js ${process.argv.slice(2).join(' ')}`.trim(),
      machine: {
        cpus: cpus.length,
        cpuModel: cpus[0]?.model,
        memGiB: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
        gpu: 'none',
        backend: info.backend,
        device: info.device,
        loadAverageAtEnd: os.loadavg().map(r2),
      },
      detector: fake ? 'stand-in (fake) detector: NOT real cells' : modelPath,
      data: {
        dir: dataDir,
        maxPerClass: maxPerClass ?? null,
        imagesSampled: stats.sampled,
        cells: stats.cells,
        noDetection: stats.noDetection,
        failed: stats.failed,
        fromCache: stats.cached,
        loadSeconds,
        cropPrepSeconds: prepSeconds,
        trainingCells: n,
        heldOutCells: heldout.length,
        align: alignStats,
      },
      training: { preset, parameterCount: info.parameterCount, batch: Math.min(batch, n), learningRate: lr, alignDomains: alignCells.length >= 2 ? 1 : 0, alignWeight: alignCells.length >= 2 ? AUTOENCODER_DEFAULTS.alignWeight : 0, seed, epochs },
      measured: {
        what: `wall time of each training epoch over ${n} cells (batch assembly + trainStep; detection excluded)`,
        epochSecondsFirst: epochRows[0]?.seconds ?? null,
        epochSecondsMedian: measuredEpoch,
        samplesPerSecMedian: sps,
        msPerStepMedian: r2(med(stepMs)),
        epochs: epochRows,
      },
      projected: {
        what: `one epoch over all ${fullCells} Acevedo-20 cells = ${fullCells} / measured samples per second` + (n >= fullCells ? ' (here measured, not projected)' : ' (projection: not measured on the full set)'),
        isProjection: n < fullCells,
        fullCells,
        epochSeconds: r2(fullCells / sps),
        epochMinutes: r2(fullCells / sps / 60),
        goalMinutes: 3,
        meetsGoal: fullCells / sps / 60 <= 3,
      },
      pictures,
      totalSeconds: r2((performance.now() - tStart) / 1000),
    };
    await mkdir(dirname(jsonPath), { recursive: true });
    await writeFile(jsonPath, JSON.stringify(summary, null, 2) + '\n');
    log(`wrote ${jsonPath}`);
    console.log(JSON.stringify({ measured: { ...summary.measured, epochs: undefined }, projected: summary.projected, data: summary.data }, null, 2));
  } finally {
    disposeAutoencoder(model);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
