/**
 * Data-parallel autoencoder training and encoding over worker threads (issue 23): tfjs's wasm backend
 * runs on one thread in Node, so a step used one core of many. A `TrainingPool` keeps a replica of the
 * model in each worker (its own TensorFlow.js and wasm backend); the main thread's model stays the one
 * that owns the parameters, Adam's state, the step count and checkpoints.
 *
 * One step, `pool.trainStep(model, batch, alignBatches, opts)` (the same contract as `trainStep`):
 *
 *  1. the parameters are copied into shared memory, which every replica reads;
 *  2. each set of cells (the source batch, each other domain) is cut into K contiguous shards, one per
 *     thread (the main thread takes shard 0, the K - 1 workers the rest);
 *  3. with the alignment term on: every thread encodes its shard and the main thread computes the
 *     alignment over all latents and its gradient with respect to them, g = d align / dz (the term needs
 *     batch means and covariances, so it does not split by sample);
 *  4. every thread computes the gradient of its share of the loss,
 *       (n_k / N) (1 - SSIM_k) + (n_k / N) MSE_k + w * sum(z_k * g_k)    (g_k held constant),
 *     whose sum over the shards is exactly the gradient of the whole batch's loss (SSIM, MSE and GroupNorm
 *     are per sample; the last term carries the alignment's gradient through each shard's encoder);
 *  5. the main thread sums the gradients in shard order and applies the same Adam update as `trainStep`.
 *
 * The result for a seed does not depend on the number of workers beyond float rounding (sums taken in a
 * different order; tested in parallel.test.ts). The cost over `trainStep`: one more encoder pass when the
 * alignment is on (the encoder is a small part of a step), and the parameter/gradient copies.
 *
 * `pool.encode(model, features, n)` cuts the cells into K shards the same way and encodes them in parallel.
 * `chooseTrainingWorkers(model, batch)` is the engine's choice of worker count.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Scalar, Tensor, Tensor2D, Tensor4D, Tf } from '../backends/tfjs.js';
import { scaleFeaturesMinMax } from './data.js';
import { alignment, ssim } from './losses.js';
import { adamUpdate, checkStepInputs, encode, runStage, type AutoencoderModel, type TrainBatch, type TrainStepOptions, type TrainStepResult } from './model.js';
import type { AutoencoderPreset } from './presets.js';

/** What one thread computes for its shard in phase 2 (see the module comment). */
export interface ShardInput {
  /** Scaled features of the reconstructed cells of this shard (source first, then image-bearing domains). */
  xRec: Float32Array;
  imRec: Float32Array;
  nRec: number;
  /** Scaled features of this shard's encode-only cells (features-only domains). */
  xEnc: Float32Array;
  nEnc: number;
  /** Total reconstructed cells over all shards (the SSIM / MSE weights are nRec / totalRec). */
  totalRec: number;
  /** d(w * align)/dz for this shard's rows (nRec x latent and nEnc x latent), or null without alignment. */
  gRec: Float32Array | null;
  gEnc: Float32Array | null;
}

export interface ShardOutput {
  /** Every parameter's gradient, concatenated in model.params order. */
  grads: Float32Array;
  /** SSIM and MSE of this shard times its reconstructed cell count. */
  ssimSum: number;
  mseSum: number;
}

/** Parameter count over all variables (the flat layout of ShardOutput.grads and the shared weights). */
export function flatSize(model: AutoencoderModel): number {
  return model.params.reduce((s, q) => s + q.v.size, 0);
}

/** Phase 1: latents of a shard's cells (scaled features), nRec + nEnc rows. */
export function shardLatents(model: AutoencoderModel, xRec: Float32Array, nRec: number, xEnc: Float32Array, nEnc: number): Float32Array {
  const tf = model.tf;
  const p = model.preset;
  const d = p.latentDim;
  const out = new Float32Array((nRec + nEnc) * d);
  const shape = (k: number): [number, number, number, number] => [k, p.inputSize, p.inputSize, p.inputChannels];
  if (nRec > 0) out.set(tf.tidy(() => runStage(tf, model, model.layers.encoder, tf.tensor4d(xRec, shape(nRec)))).dataSync() as Float32Array, 0);
  if (nEnc > 0) out.set(tf.tidy(() => runStage(tf, model, model.layers.encoder, tf.tensor4d(xEnc, shape(nEnc)))).dataSync() as Float32Array, nRec * d);
  // The tensors returned by tidy above were read and are released here.
  return out;
}

/** Phase 2: the gradient of this shard's share of the loss (module comment, step 4). */
export function shardGradients(model: AutoencoderModel, s: ShardInput): ShardOutput {
  const tf = model.tf;
  const p = model.preset;
  const d = p.latentDim;
  const shape = (k: number): [number, number, number, number] => [k, p.inputSize, p.inputSize, p.inputChannels];
  const grads = new Float32Array(flatSize(model));
  if (s.nRec === 0 && s.nEnc === 0) return { grads, ssimSum: 0, mseSum: 0 };
  const kept: Scalar[] = [];
  const gList = tf.tidy(() => {
    const xr = s.nRec > 0 ? tf.tensor4d(s.xRec, shape(s.nRec)) : null;
    const img = s.nRec > 0 ? tf.tensor4d(s.imRec, [s.nRec, p.imageSize, p.imageSize, 3]) : null;
    const xe = s.nEnc > 0 && s.gEnc ? tf.tensor4d(s.xEnc, shape(s.nEnc)) : null;
    const { grads: g } = tf.variableGrads(() => {
      let loss = tf.scalar(0) as Scalar;
      if (xr && img) {
        const z4 = runStage(tf, model, model.layers.encoder, xr);
        const featRec = runStage(tf, model, model.layers.featureDecoder, z4);
        const imgRec = runStage(tf, model, model.layers.imageDecoder, featRec);
        const sv = ssim(tf, imgRec, img, model.blurT, p.ssim.c1, p.ssim.c2);
        const mse = tf.mean(tf.squaredDifference(featRec, xr)) as Scalar;
        const share = s.nRec / s.totalRec;
        loss = tf.mul(tf.add(tf.sub(1, sv), mse), share) as Scalar;
        kept.push(tf.keep(sv), tf.keep(mse));
        if (s.gRec) loss = tf.add(loss, tf.sum(tf.mul(tf.reshape(z4, [s.nRec, d]), tf.tensor2d(s.gRec, [s.nRec, d])))) as Scalar;
      }
      if (xe) {
        const ze = tf.reshape(runStage(tf, model, model.layers.encoder, xe), [s.nEnc, d]);
        loss = tf.add(loss, tf.sum(tf.mul(ze, tf.tensor2d(s.gEnc!, [s.nEnc, d])))) as Scalar;
      }
      return loss;
    }, model.params.map((q) => q.v));
    return model.params.map((q) => {
      const t = g[q.v.name];
      return t ? tf.keep(t) : tf.keep(tf.zerosLike(q.v));
    });
  });
  let off = 0;
  for (const t of gList) {
    grads.set(t.dataSync() as Float32Array, off);
    off += t.size;
  }
  tf.dispose(gList);
  const ssimSum = kept.length ? (kept[0]!.dataSync()[0]! * s.nRec) : 0;
  const mseSum = kept.length ? (kept[1]!.dataSync()[0]! * s.nRec) : 0;
  tf.dispose(kept);
  return { grads, ssimSum, mseSum };
}

/** Copies the model's parameters into `dst` (flat, model.params order). */
export function readParams(model: AutoencoderModel, dst: Float32Array): void {
  let off = 0;
  for (const q of model.params) {
    dst.set(q.v.dataSync() as Float32Array, off);
    off += q.v.size;
  }
}

/** Sets the model's parameters from `src` (flat, model.params order). */
export function writeParams(model: AutoencoderModel, src: Float32Array): void {
  const tf = model.tf;
  let off = 0;
  for (const q of model.params) {
    const n = q.v.size;
    tf.tidy(() => q.v.assign(tf.tensor(src.subarray(off, off + n), q.v.shape, 'float32')));
    off += n;
  }
}

/** Adam with the summed gradient, exactly trainStep's update (PyTorch's formulation). */
export function applyAdam(model: AutoencoderModel, grads: Float32Array, lr: number): void {
  const tf = model.tf;
  const stepNo = model.step + 1;
  let off = 0;
  tf.tidy(() =>
    adamUpdate(model, stepNo, lr, (q) => {
      const g = tf.tensor(grads.subarray(off, off + q.v.size), q.v.shape, 'float32');
      off += q.v.size;
      return g;
    }),
  );
  model.step = stepNo;
}

/** Contiguous split of n rows into k parts (sizes differ by at most one, larger first). */
export function splitRows(n: number, k: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < k; i++) {
    const c = Math.floor(n / k) + (i < n % k ? 1 : 0);
    out.push([start, c]);
    start += c;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The pool

export interface TrainingPoolOptions {
  /** Worker threads besides the main thread (default: chooseTrainingWorkers). 0 runs everything on the
   *  main thread through the same sharded path (tests). */
  workers?: number;
}

export interface StepGradients {
  grads: Float32Array;
  loss: number;
  ssim: number;
  mse: number;
  align: number;
  alignPerDomain: number[];
  reconstructed: number;
  encodedOnly: number;
}

interface PoolGradients extends StepGradients {
  learningRate: number;
  n: number;
  t0: number;
}

export interface TrainingPool {
  /** Worker threads (the main thread computes one more shard). */
  readonly workers: number;
  /** Same contract and result as `trainStep` (model.ts). */
  trainStep(model: AutoencoderModel, batch: TrainBatch, alignBatches?: Array<Float32Array | TrainBatch>, opts?: TrainStepOptions): Promise<TrainStepResult>;
  /** The whole batch's loss and its gradient (flat, model.params order) without updating the model. */
  gradients(model: AutoencoderModel, batch: TrainBatch, alignBatches?: Array<Float32Array | TrainBatch>, opts?: TrainStepOptions): Promise<StepGradients>;
  /** Same result as `encode` (model.ts), shards in parallel. */
  encode(model: AutoencoderModel, features: Float32Array, n: number): Promise<Float32Array>;
  close(): Promise<void>;
}

/**
 * The engine's choice: on the single-threaded backends (wasm, cpu) one worker per core beyond the main
 * thread when the batch gives each thread at least `minPerThread` cells (default 8); on webgpu / tfjs-node
 * none (they use the device or their own threads). LEUKOGRAPH_AE_WORKERS=N overrides (0 turns it off).
 */
export function chooseTrainingWorkers(model: Pick<AutoencoderModel, 'backend'>, batch: number, minPerThread = 8): number {
  const env = process.env.LEUKOGRAPH_AE_WORKERS;
  if (env !== undefined && env !== '') {
    const v = Number(env);
    if (!(Number.isInteger(v) && v >= 0)) throw new Error(`LEUKOGRAPH_AE_WORKERS=${env}: expected a whole number >= 0`);
    return v;
  }
  if (model.backend !== 'wasm' && model.backend !== 'cpu') return 0;
  const cores = availableParallelism();
  return Math.max(0, Math.min(cores - 1, Math.floor(batch / minPerThread) - 1, 15));
}

type Req =
  | { type: 'latents'; version: number; xRec: Float32Array; nRec: number; xEnc: Float32Array; nEnc: number }
  | { type: 'grads'; version: number; shard: ShardInput }
  | { type: 'encode'; version: number; features: Float32Array; n: number };

class PoolWorker {
  private readonly w: Worker;
  private waiting: { resolve: (v: any) => void; reject: (e: Error) => void } | null = null;
  private dead: Error | null = null;

  constructor(init: { preset: AutoencoderPreset; seed: number; backend: string; params: SharedArrayBuffer }) {
    this.w = new Worker(new URL('./pool-worker.js', import.meta.url), { workerData: init });
    this.w.on('message', (m: { error?: string } & Record<string, unknown>) => {
      const p = this.waiting;
      this.waiting = null;
      if (!p) return;
      if (m.error) p.reject(new Error(`autoencoder worker: ${m.error}`));
      else p.resolve(m);
    });
    this.w.on('error', (e) => this.fail(e));
    this.w.on('exit', (code) => this.fail(new Error(`autoencoder worker exited with code ${code}`)));
  }

  private fail(e: Error): void {
    this.dead ??= e;
    const p = this.waiting;
    this.waiting = null;
    p?.reject(e);
  }

  request<T>(msg: Req | { type: 'ready' }, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.waiting) return Promise.reject(new Error('autoencoder worker busy'));
    return new Promise<T>((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.w.postMessage(msg, transfer);
    });
  }

  async close(): Promise<void> {
    this.dead ??= new Error('pool closed');
    await this.w.terminate();
  }
}

/** Starts `workers` replicas of `model` (same preset and backend); resolves once every one is ready. */
export async function createTrainingPool(model: AutoencoderModel, opts: TrainingPoolOptions = {}): Promise<TrainingPool> {
  const workers = opts.workers ?? chooseTrainingWorkers(model, 64);
  const size = flatSize(model);
  const shared = new Float32Array(new SharedArrayBuffer(size * 4));
  const pool: PoolWorker[] = [];
  try {
    for (let i = 0; i < workers; i++) pool.push(new PoolWorker({ preset: model.preset, seed: model.seed, backend: model.backend, params: shared.buffer as SharedArrayBuffer }));
    await Promise.all(pool.map((w) => w.request({ type: 'ready' })));
  } catch (err) {
    await Promise.all(pool.map((w) => w.close()));
    throw err;
  }
  const K = workers + 1;
  // The shared weights carry a version: a replica reloads them only when it changed.
  let version = 0;
  const sync = (m: AutoencoderModel) => {
    readParams(m, shared);
    version++;
  };

  async function gradientsPool(
    model: AutoencoderModel,
    batch: TrainBatch,
    alignBatches: Array<Float32Array | TrainBatch> = [],
    o: TrainStepOptions = {},
  ): Promise<PoolGradients> {
    if (model.disposed) throw new Error('autoencoder has been disposed');
    const t0 = performance.now();
    const tf = model.tf;
    const p = model.preset;
    const fs = p.inputSize * p.inputSize * p.inputChannels;
    const is = p.imageSize * p.imageSize * 3;
    const d = p.latentDim;
    const { n, lr, w, doAlign, domains } = checkStepInputs(p, batch, alignBatches, o);
    // The sets: source (reconstructed), then each other domain (reconstructed with images, else encode-only).
    interface CellSet { x: Float32Array; im: Float32Array | null; n: number; rec: boolean }
    const sets: CellSet[] = [{ x: scaleFeaturesMinMax(batch.features, n), im: batch.images, n, rec: true }];
    for (const dom of domains) {
      if (dom.images) sets.push({ x: scaleFeaturesMinMax(dom.features, dom.n), im: dom.images, n: dom.n, rec: true });
      else if (doAlign) sets.push({ x: scaleFeaturesMinMax(dom.features, dom.n), im: null, n: dom.n, rec: false });
    }
    const parts = sets.map((s) => splitRows(s.n, K));
    const totalRec = sets.filter((s) => s.rec).reduce((a, s) => a + s.n, 0);
    // Shard k: its rows of every reconstructed set (in set order), then of every encode-only set.
    const shards = Array.from({ length: K }, (_, k) => {
      const rec = sets.map((s, i) => ({ s, i, r: parts[i]![k]! })).filter((e) => e.s.rec);
      const enc = sets.map((s, i) => ({ s, i, r: parts[i]![k]! })).filter((e) => !e.s.rec);
      const nRec = rec.reduce((a, e) => a + e.r[1], 0);
      const nEnc = enc.reduce((a, e) => a + e.r[1], 0);
      const xRec = new Float32Array(nRec * fs);
      const imRec = new Float32Array(nRec * is);
      const xEnc = new Float32Array(nEnc * fs);
      let o1 = 0;
      for (const e of rec) {
        xRec.set(e.s.x.subarray(e.r[0] * fs, (e.r[0] + e.r[1]) * fs), o1 * fs);
        imRec.set(e.s.im!.subarray(e.r[0] * is, (e.r[0] + e.r[1]) * is), o1 * is);
        o1 += e.r[1];
      }
      let o2 = 0;
      for (const e of enc) {
        xEnc.set(e.s.x.subarray(e.r[0] * fs, (e.r[0] + e.r[1]) * fs), o2 * fs);
        o2 += e.r[1];
      }
      return { rec, enc, nRec, nEnc, xRec, imRec, xEnc };
    });
    sync(model);

    // Phase 1 (alignment on): every shard's latents, then the alignment and its gradient on the main thread.
    let gOf: ((k: number) => { gRec: Float32Array; gEnc: Float32Array }) | null = null;
    const aligns: number[] = [];
    if (doAlign) {
      const pend = shards.slice(1).map((sh, i) =>
        pool[i]!.request<{ z: Float32Array }>({ type: 'latents', version, xRec: sh.xRec, nRec: sh.nRec, xEnc: sh.xEnc, nEnc: sh.nEnc }).then((r) => r.z));
      const sh0 = shards[0]!;
      const lat = [shardLatents(model, sh0.xRec, sh0.nRec, sh0.xEnc, sh0.nEnc), ...(await Promise.all(pend))];
      // Each set's latents in row order.
      const zSet = sets.map((s) => new Float32Array(s.n * d));
      shards.forEach((sh, k) => {
        let row = 0;
        for (const e of [...sh.rec, ...sh.enc]) {
          zSet[e.i]!.set(lat[k]!.subarray(row * d, (row + e.r[1]) * d), e.r[0] * d);
          row += e.r[1];
        }
      });
      const gSet = tf.tidy(() => {
        const zt = zSet.map((z, i) => tf.tensor2d(z, [sets[i]!.n, d]));
        const f = (...zs: Tensor[]) => {
          const terms = zs.slice(1).map((z) => alignment(tf, zs[0] as Tensor2D, z as Tensor2D, o.alignScale ?? 'raw').total);
          return tf.mul(tf.addN(terms), w) as Scalar;
        };
        const vals = zt.slice(1).map((z) => alignment(tf, zt[0]!, z, o.alignScale ?? 'raw').total);
        aligns.push(...vals.map((v) => v.dataSync()[0]!));
        return tf.grads(f)(zt).map((g) => g.dataSync() as Float32Array);
      });
      gOf = (k: number) => {
        const sh = shards[k]!;
        const gRec = new Float32Array(sh.nRec * d);
        const gEnc = new Float32Array(sh.nEnc * d);
        let o1 = 0;
        for (const e of sh.rec) {
          gRec.set(gSet[e.i]!.subarray(e.r[0] * d, (e.r[0] + e.r[1]) * d), o1 * d);
          o1 += e.r[1];
        }
        let o2 = 0;
        for (const e of sh.enc) {
          gEnc.set(gSet[e.i]!.subarray(e.r[0] * d, (e.r[0] + e.r[1]) * d), o2 * d);
          o2 += e.r[1];
        }
        return { gRec, gEnc };
      };
    }

    // Phase 2: every shard's gradient; the workers' first, the main thread's while they run.
    const input = (k: number): ShardInput => {
      const sh = shards[k]!;
      const g = gOf ? gOf(k) : null;
      return { xRec: sh.xRec, imRec: sh.imRec, nRec: sh.nRec, xEnc: sh.xEnc, nEnc: sh.nEnc, totalRec, gRec: g?.gRec ?? null, gEnc: g?.gEnc ?? null };
    };
    const pending = pool.map((wk, i) => wk.request<ShardOutput>({ type: 'grads', version, shard: input(i + 1) }));
    const own = shardGradients(model, input(0));
    const outs = [own, ...(await Promise.all(pending))];
    const sum = new Float32Array(own.grads.length);
    let ssimSum = 0;
    let mseSum = 0;
    for (const r of outs) {
      for (let i = 0; i < sum.length; i++) sum[i] += r.grads[i]!;
      ssimSum += r.ssimSum;
      mseSum += r.mseSum;
    }
    const ssimV = ssimSum / totalRec;
    const mseV = mseSum / totalRec;
    const alignSum = aligns.reduce((a, v) => a + v, 0);
    return {
      grads: sum,
      learningRate: lr,
      loss: 1 - ssimV + mseV + (aligns.length ? w * alignSum : 0),
      ssim: ssimV,
      mse: mseV,
      align: alignSum,
      alignPerDomain: aligns,
      n,
      reconstructed: totalRec,
      encodedOnly: sets.filter((s) => !s.rec).reduce((a, s) => a + s.n, 0),
      t0,
    };
  }

  async function trainStepPool(
    model: AutoencoderModel,
    batch: TrainBatch,
    alignBatches: Array<Float32Array | TrainBatch> = [],
    o: TrainStepOptions = {},
  ): Promise<TrainStepResult> {
    const g = await gradientsPool(model, batch, alignBatches, o);
    applyAdam(model, g.grads, g.learningRate);
    const ms = performance.now() - g.t0;
    return {
      step: model.step,
      loss: g.loss,
      ssim: g.ssim,
      mse: g.mse,
      align: g.align,
      alignPerDomain: g.alignPerDomain,
      samplesPerSec: (g.n * 1000) / ms,
      reconstructed: g.reconstructed,
      encodedOnly: g.encodedOnly,
      ms,
    };
  }

  async function encodePool(model: AutoencoderModel, features: Float32Array, n: number): Promise<Float32Array> {
    const p = model.preset;
    const fs = p.inputSize * p.inputSize * p.inputChannels;
    if (features.length !== n * fs) throw new Error(`encode features: expected ${n} samples of ${fs} values`);
    const d = p.latentDim;
    sync(model);
    const parts = splitRows(n, K);
    const pending = pool.map((wk, i) => {
      const [s, c] = parts[i + 1]!;
      return c === 0 ? Promise.resolve({ z: new Float32Array(0) }) : wk.request<{ z: Float32Array }>({ type: 'encode', version, features: features.slice(s * fs, (s + c) * fs), n: c });
    });
    const [s0, c0] = parts[0]!;
    const own = c0 ? await encode(model, features.subarray(s0 * fs, (s0 + c0) * fs), c0) : new Float32Array(0);
    const rest = await Promise.all(pending);
    const out = new Float32Array(n * d);
    out.set(own, 0);
    rest.forEach((r, i) => out.set(r.z, parts[i + 1]![0] * d));
    return out;
  }

  return {
    workers,
    gradients: async (m, b, a, o) => {
      const { t0: _t0, learningRate: _lr, n: _n, ...rest } = await gradientsPool(m, b, a, o);
      return rest;
    },
    trainStep: trainStepPool,
    encode: encodePool,
    close: async () => {
      await Promise.all(pool.map((w) => w.close()));
    },
  };
}

export type { Tensor4D, Tf };
