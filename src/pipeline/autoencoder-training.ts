// The autoencoder's epoch loop, the one the trainAutoencoder job, the evaluation and the benchmarks run:
// each step a batch of source cells (the model's seeded shuffle per epoch) and, per alignment lab, as many
// of its unlabelled cells (AlignmentSampler), through trainStep (the loss of docs/aecfe-method.md §4). Callers supply the cells (AutoencoderTrainingSet, AlignmentSet) and keep their own bookkeeping in
// onStep / onEpoch (the job: progress, reconstructions, checkpoints).
import { chooseTrainingBackend, chooseTrainingWorkers, createOnnxTrainer, createTrainingPool, shuffledIndices, trainStep, type AlignScale, type AutoencoderModel, type OnnxTrainer, type TrainingBackend, type TrainingPool, type TrainStepResult } from '../engine/autoencoder/index.js';
import { createRng, mixSeed, shuffleInPlace, type Rng } from '../engine/classifier/rng.js';
import { AUTOENCODER_DEFAULTS } from './defaults.js';
import type { AlignmentSet, AutoencoderTrainingSet, EpochSummary } from './types.js';

export interface AutoencoderTrainingOptions {
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Weight of the alignment term; 0 trains without it (no alignment cells drawn). */
  alignWeight: number;
  alignScale?: AlignScale;
  /** Epochs already done (a job resumed from its checkpoint): the loop starts after them. */
  startEpoch?: number;
  /** Asked before every step; true stops the loop (it then returns stopped: true). */
  shouldStop?: () => boolean;
  onStep?: (s: { epoch: number; step: number; stepsPerEpoch: number; cells: number; result: TrainStepResult }) => void | Promise<void>;
  onEpoch?: (summary: EpochSummary) => void | Promise<void>;
  /** Data-parallel worker threads besides this one (engine/autoencoder/parallel.ts); default the engine's
   *  choice (chooseTrainingWorkers: one per extra core on the wasm/cpu backends, none on webgpu). The result
   *  does not depend on it beyond float rounding. */
  workers?: number;
  /** Where the steps run: 'onnx' = the onnxruntime training graph (engine/autoencoder/onnx-train.ts, native
   *  kernels on every core; no worker pool), 'tfjs' = trainStep / the worker pool. Default the engine's choice
   *  (chooseTrainingBackend: onnx on the CPU backends, LEUKOGRAPH_AE_TRAIN_BACKEND overrides). Same loss and
   *  gradients up to float rounding. */
  trainBackend?: TrainingBackend;
}

/**
 * Draws each step's alignment cells: per lab, without replacement from a seeded permutation of its cells
 * that is drawn anew when used up. Its own generator (seeded from the run's seed), so it does not shift the
 * model's stream; replayable, so a resumed job draws what an uninterrupted one would have.
 */
export class AlignmentSampler {
  private readonly rng: Rng;
  private readonly pools: Array<{ n: number; order: number[]; next: number }>;

  constructor(seed: number, sizes: readonly number[]) {
    this.rng = createRng(mixSeed(seed, 0xa11));
    this.pools = sizes.map((n) => ({ n, order: [], next: 0 }));
  }

  /** Per lab, min(count, its size) cell indices. */
  draw(count: number): number[][] {
    return this.pools.map((pool) => {
      const m = Math.min(count, pool.n);
      const out: number[] = [];
      for (let k = 0; k < m; k++) {
        if (pool.next >= pool.order.length) {
          pool.order = shuffleInPlace(Array.from({ length: pool.n }, (_, i) => i), this.rng);
          pool.next = 0;
        }
        out.push(pool.order[pool.next++]!);
      }
      return out;
    });
  }
}

/** The batches of one epoch: [start, count] of each step that trains (a last batch of one waits for the next shuffle). */
function stepsOf(n: number, batch: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let start = 0; start < n; start += batch) {
    const count = Math.min(batch, n - start);
    // Batch statistics need two cells: a last batch of one waits for the next epoch's shuffle.
    if (count >= 2) out.push([start, count]);
  }
  return out;
}

/**
 * Trains `model` in place from epoch `startEpoch` to `epochs`. Returns the summaries of the epochs run here,
 * and whether it was stopped. The model's generator state (shuffles) comes from the model (a checkpoint
 * restores it); the alignment draws of skipped epochs are replayed.
 */
export async function trainAutoencoderEpochs(
  model: AutoencoderModel,
  source: AutoencoderTrainingSet,
  align: readonly AlignmentSet[],
  o: AutoencoderTrainingOptions,
): Promise<{ epochs: EpochSummary[]; stopped: boolean }> {
  const n = source.count;
  if (n < 2) throw new Error(`autoencoder training: ${n} source cell(s); at least 2 are needed`);
  const batch = Math.min(o.batchSize, n);
  const stepsPerEpoch = Math.ceil(n / batch);
  const pools = o.alignWeight > 0 ? align.filter((a) => a.count > 0) : [];
  const sampler = new AlignmentSampler(o.seed, pools.map((a) => a.count));
  const steps = stepsOf(n, batch);
  const start = o.startEpoch ?? 0;
  for (let e = 0; e < start; e++) for (const [, count] of steps) sampler.draw(count);
  const size = model.preset.imageSize;
  const out: EpochSummary[] = [];
  let onnx: OnnxTrainer | null = null;
  if ((o.trainBackend ?? chooseTrainingBackend(model)) === 'onnx' && start < o.epochs) {
    try {
      onnx = await createOnnxTrainer(model);
    } catch {
      onnx = null; // onnxruntime unavailable here: the tfjs path below
    }
  }
  const workers = onnx ? 0 : (o.workers ?? chooseTrainingWorkers(model, batch));
  let pool: TrainingPool | null = null;
  if (workers > 0 && start < o.epochs) {
    try {
      pool = await createTrainingPool(model, { workers });
    } catch {
      pool = null; // no worker threads here: the same steps on this thread
    }
  }
  try {
    return await epochLoop();
  } finally {
    await pool?.close();
    await onnx?.close();
  }

  async function epochLoop(): Promise<{ epochs: EpochSummary[]; stopped: boolean }> {
    for (let e = start; e < o.epochs; e++) {
      const te = performance.now();
      const order = shuffledIndices(model, n);
      const sums = { loss: 0, ssim: 0, mse: 0, align: 0, n: 0 };
      for (let s = 0; s < steps.length; s++) {
        if (o.shouldStop?.()) return { epochs: out, stopped: true };
        const [from, count] = steps[s]!;
        const idx = Array.from(order.subarray(from, from + count));
        const features = await source.features(idx);
        const images = await source.images(idx, size);
        const drawn = sampler.draw(count);
        const alignBatches: Float32Array[] = [];
        for (let d = 0; d < pools.length; d++) alignBatches.push(await pools[d]!.features(drawn[d]!));
        const stepOpts = { learningRate: o.learningRate, alignWeight: o.alignWeight, alignScale: o.alignScale ?? AUTOENCODER_DEFAULTS.alignScale };
        const r = onnx
          ? await onnx.trainStep(model, { features, images, n: count }, alignBatches, stepOpts)
          : pool
          ? await pool.trainStep(model, { features, images, n: count }, alignBatches, stepOpts)
          : await trainStep(model, { features, images, n: count }, alignBatches, stepOpts);
        sums.loss += r.loss * count;
        sums.ssim += r.ssim * count;
        sums.mse += r.mse * count;
        sums.align += r.align * count;
        sums.n += count;
        await o.onStep?.({ epoch: e + 1, step: Math.floor(from / batch) + 1, stepsPerEpoch, cells: count, result: r });
      }
      const seconds = (performance.now() - te) / 1000;
      const summary: EpochSummary = {
        epoch: e + 1,
        loss: sums.n ? sums.loss / sums.n : NaN,
        ssim: sums.n ? sums.ssim / sums.n : NaN,
        mse: sums.n ? sums.mse / sums.n : NaN,
        align: sums.n ? sums.align / sums.n : NaN,
        samplesPerSec: sums.n / seconds,
        seconds,
      };
      out.push(summary);
      onnx?.flush(model); // the Adam state, for the epoch's checkpoint
      await o.onEpoch?.(summary);
    }
    return { epochs: out, stopped: false };
  }
}
