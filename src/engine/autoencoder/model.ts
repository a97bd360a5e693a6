/**
 * The AE-CFE autoencoder as TensorFlow.js variables + ops with a custom training loop (no tfjs-layers):
 * seeded PyTorch-style initialisation, GroupNorm as ops, loss = (1 - SSIM) + MSE + w * alignment, and an
 * Adam implemented here (PyTorch's update rule) so that its state is ours to checkpoint.
 *
 * No tensor leaves this module: inputs and outputs are Float32Arrays.
 */
import { initTfjs, type Scalar, type Tensor, type Tensor1D, type Tensor2D, type Tensor4D, type Tf, type TfjsInitOptions, type TfjsRuntime, type Variable } from '../backends/tfjs.js';
import { scaleFeaturesMinMax } from './data.js';
import { alignment, blurMatrixT, groupNorm, ssim, type AlignScale } from './losses.js';
import { planNetwork, resolvePreset, type AutoencoderPreset, type NetworkPlan, type PlannedLayer, type PresetName } from './presets.js';
import { Rng } from './rng.js';

export interface CreateOptions extends TfjsInitOptions {
  /** An already initialised runtime (else initTfjs(options) is called). */
  runtime?: TfjsRuntime;
}

interface LayerVars {
  spec: PlannedLayer;
  w: Variable;
  b: Variable;
  gamma?: Variable;
  beta?: Variable;
}

interface NamedVar {
  name: string;
  v: Variable;
}

/** An autoencoder resident on the TensorFlow.js backend. Opaque: use the module's functions. */
export class Autoencoder {
  readonly preset: AutoencoderPreset;
  readonly plan: NetworkPlan;
  readonly seed: number;
  readonly backend: string;
  readonly device: string;
  /** Optimizer steps taken (Adam's t). */
  step = 0;
  /** @internal */ readonly tf: Tf;
  /** @internal */ readonly rng: Rng;
  /** @internal */ readonly layers: { encoder: LayerVars[]; featureDecoder: LayerVars[]; imageDecoder: LayerVars[] };
  /** @internal */ readonly params: NamedVar[];
  /** @internal */ readonly adamM: Variable[];
  /** @internal */ readonly adamV: Variable[];
  /** @internal */ readonly blurT: Tensor2D;
  /** @internal */ disposed = false;

  /** @internal */
  constructor(rt: TfjsRuntime, preset: AutoencoderPreset, seed: number) {
    this.tf = rt.tf;
    this.preset = preset;
    this.plan = planNetwork(preset);
    this.seed = seed;
    this.backend = rt.backend;
    this.device = rt.device;
    this.rng = new Rng(seed);
    const tf = rt.tf;
    const params: NamedVar[] = [];
    const make = (specs: PlannedLayer[]): LayerVars[] =>
      specs.map((spec) => {
        // PyTorch's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias, where for
        // ConvTranspose2d torch takes fan_in from weight.size(1) = out channels.
        const fanIn = spec.k * spec.k * (spec.kind === 'conv' ? spec.cin : spec.cout);
        const bound = 1 / Math.sqrt(fanIn);
        const wShape =
          spec.kind === 'conv' ? [spec.k, spec.k, spec.cin, spec.cout] : [spec.k, spec.k, spec.cout, spec.cin];
        const wData = this.rng.uniform(new Float32Array(spec.k * spec.k * spec.cin * spec.cout), bound);
        const bData = this.rng.uniform(new Float32Array(spec.cout), bound);
        const lv: LayerVars = {
          spec,
          w: tf.variable(tf.tensor(wData, wShape, 'float32'), true),
          b: tf.variable(tf.tensor1d(bData, 'float32'), true),
        };
        params.push({ name: `${spec.name}.weight`, v: lv.w }, { name: `${spec.name}.bias`, v: lv.b });
        if (spec.groupNorm !== undefined) {
          lv.gamma = tf.variable(tf.ones([spec.cout], 'float32'), true);
          lv.beta = tf.variable(tf.zeros([spec.cout], 'float32'), true);
          params.push({ name: `${spec.name}.gn.gamma`, v: lv.gamma }, { name: `${spec.name}.gn.beta`, v: lv.beta });
        }
        return lv;
      });
    // Inside tidy: the initial-value tensors are released, the variables (and the kept blur) stay.
    const { ssim: s } = preset;
    const blur = blurMatrixT(preset.imageSize, s.window, s.sigma, s.padding);
    let layers: Autoencoder['layers'] | undefined;
    let blurT: Tensor2D | undefined;
    tf.tidy(() => {
      layers = {
        encoder: make(this.plan.encoder),
        featureDecoder: make(this.plan.featureDecoder),
        imageDecoder: make(this.plan.imageDecoder),
      };
      blurT = tf.keep(tf.tensor2d(blur.data, [preset.imageSize, blur.outSize], 'float32'));
    });
    this.layers = layers!;
    this.blurT = blurT!;
    this.params = params;
    this.adamM = tf.tidy(() => params.map((p) => tf.variable(tf.zerosLike(p.v), false)));
    this.adamV = tf.tidy(() => params.map((p) => tf.variable(tf.zerosLike(p.v), false)));
  }
}

export type AutoencoderModel = Autoencoder;

/** Create a freshly initialised autoencoder (deterministic for a given preset and seed). */
export async function createAutoencoder(
  preset: PresetName | AutoencoderPreset,
  seed: number,
  opts: CreateOptions = {},
): Promise<AutoencoderModel> {
  const rt = opts.runtime ?? (await initTfjs(opts));
  const p = resolvePreset(preset);
  return new Autoencoder(rt, p, seed);
}

export function disposeAutoencoder(model: AutoencoderModel): void {
  if (model.disposed) return;
  model.disposed = true;
  model.tf.dispose([...model.params.map((p) => p.v), ...model.adamM, ...model.adamV, model.blurT]);
}

export interface ModelInfo {
  preset: string;
  backend: string;
  device: string;
  seed: number;
  step: number;
  parameterCount: number;
  /** Forward FLOPs per sample (convolutions). A training step costs about 3x that. */
  forwardFlopsPerSample: number;
  inputShape: [number, number, number];
  imageShape: [number, number, number];
  latentDim: number;
}

export function describeAutoencoder(model: AutoencoderModel): ModelInfo {
  const p = model.preset;
  return {
    preset: p.name,
    backend: model.backend,
    device: model.device,
    seed: model.seed,
    step: model.step,
    parameterCount: model.plan.parameterCount,
    forwardFlopsPerSample: model.plan.forwardFlops,
    inputShape: [p.inputSize, p.inputSize, p.inputChannels],
    imageShape: [p.imageSize, p.imageSize, 3],
    latentDim: p.latentDim,
  };
}

// ---------------------------------------------------------------------------------------------------
// Forward pass

function applyLayer(tf: Tf, m: Autoencoder, L: LayerVars, x: Tensor4D): Tensor4D {
  const s = L.spec;
  let y: Tensor4D;
  if (s.kind === 'conv') {
    y = tf.fused.conv2d({
      x,
      filter: L.w as Tensor4D,
      strides: s.stride,
      pad: s.pad,
      bias: L.b,
      activation: s.act === 'relu' ? 'relu' : 'linear',
    });
  } else {
    const n = x.shape[0];
    y = tf.conv2dTranspose(x, L.w as Tensor4D, [n, s.outSize, s.outSize, s.cout], s.stride, s.pad);
    y = tf.add(y, L.b);
    if (s.act === 'relu') y = tf.relu(y);
  }
  if (s.act === 'tanh') y = tf.tanh(y);
  else if (s.act === 'sigmoid') y = tf.sigmoid(y);
  if (s.groupNorm !== undefined) {
    y = groupNorm(tf, y, s.groupNorm, L.gamma as Tensor1D, L.beta as Tensor1D, m.preset.groupNorm.eps, m.preset.groupNorm.unbiased);
  }
  return y;
}

/** @internal One stage (encoder, feature decoder, image decoder) forward; used by parallel.ts too. */
export function runStage(tf: Tf, m: Autoencoder, layers: LayerVars[], x: Tensor4D): Tensor4D {
  let h = x;
  for (const L of layers) h = applyLayer(tf, m, L, h);
  return h;
}

// ---------------------------------------------------------------------------------------------------
// Training

export interface TrainBatch {
  /** n samples of inputSize x inputSize x inputChannels, NHWC (raw ROIAlign features or already scaled:
   *  each sample is min-max scaled to [-1, 1] here, which leaves scaled features unchanged). */
  features: Float32Array;
  /** n target images, imageSize x imageSize x 3 (HWC), values in [0, 1] (see resizeCrop). */
  images: Float32Array;
  n: number;
}

export interface TrainStepOptions {
  /** Adam learning rate (default: the preset's, 1e-3). */
  learningRate?: number;
  /** Weight of the alignment term (default: the preset's, 5); 0 turns it off. */
  alignWeight?: number;
  /** 'raw' (the paper's, default) or 'standardised' (losses.ts alignment()). */
  alignScale?: AlignScale;
}

export interface TrainStepResult {
  /** Optimizer step number after this step (1 for the first). */
  step: number;
  /** (1 - ssim) + mse + alignWeight * align, before the update. */
  loss: number;
  /** Mean SSIM of the reconstructed images (1 = perfect), over every reconstructed sample. */
  ssim: number;
  /** Feature reconstruction MSE (scaled features), over every reconstructed sample. */
  mse: number;
  /** Alignment term summed over the other domains (0 when off). */
  align: number;
  /** The alignment term per other domain, in alignBatches order. */
  alignPerDomain: number[];
  /** Source samples per second for this step (wall time of the whole call). */
  samplesPerSec: number;
  /** Samples reconstructed (source + other domains given with images) and only encoded this step. */
  reconstructed: number;
  encodedOnly: number;
  ms: number;
}

function featureSize(p: AutoencoderPreset): number {
  return p.inputSize * p.inputSize * p.inputChannels;
}

function checkCount(what: string, data: Float32Array, per: number, n?: number): number {
  if (data.length % per !== 0) throw new Error(`${what}: ${data.length} values are not a whole number of ${per}-value samples`);
  const count = data.length / per;
  if (n !== undefined && count !== n) throw new Error(`${what}: expected ${n} samples, got ${count}`);
  return count;
}

function alive(model: Autoencoder): void {
  if (model.disposed) throw new Error('autoencoder has been disposed');
}

/** One training step's inputs, checked, with each other domain's cells counted. */
export interface CheckedStep {
  n: number;
  lr: number;
  w: number;
  /** Whether the alignment term is on (a weight above 0 and other domains given). */
  doAlign: boolean;
  /** alignBatches in order: features, images (null: features only, encode-only) and sample count. */
  domains: Array<{ features: Float32Array; images: Float32Array | null; n: number }>;
}

/**
 * trainStep's contract on its inputs, shared by every trainer (this module's, the worker pool's and the
 * onnxruntime one) so that a bad batch gets the same error whichever runs it.
 */
export function checkStepInputs(p: AutoencoderPreset, batch: TrainBatch, alignBatches: Array<Float32Array | TrainBatch>, opts: TrainStepOptions): CheckedStep {
  const fs = featureSize(p);
  const is = p.imageSize * p.imageSize * 3;
  const n = batch.n;
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`trainStep: bad batch size ${n}`);
  checkCount('trainStep features', batch.features, fs, n);
  checkCount('trainStep images', batch.images, is, n);
  const lr = opts.learningRate ?? p.learningRate;
  const w = opts.alignWeight ?? p.alignWeight;
  if (!(lr > 0) || !(w >= 0)) throw new Error('trainStep: learningRate must be > 0 and alignWeight >= 0');
  const doAlign = w > 0 && alignBatches.length > 0;
  // Where each other domain's samples go: into the reconstructed set (with images) or the encode-only set.
  const domains = alignBatches.map((a, i) => {
    const what = `trainStep alignBatches[${i}]`;
    if (a instanceof Float32Array) return { features: a, images: null, n: checkCount(what, a, fs) };
    const c = checkCount(`${what}.features`, a.features, fs, a.n);
    checkCount(`${what}.images`, a.images, is, a.n);
    return { features: a.features, images: a.images, n: c };
  });
  if (doAlign) {
    if (n < 2) throw new Error('trainStep: the alignment term needs at least 2 source samples');
    domains.forEach((d, i) => {
      if (d.n < 2) throw new Error(`trainStep: alignBatches[${i}] has ${d.n} sample(s); at least 2 are needed`);
    });
  }
  return { n, lr, w, doAlign, domains };
}

/**
 * One Adam step. loss = (1 - SSIM(images)) + MSE(features) + w * sum_d alignment(z_batch, z_d):
 *
 *  - `batch`: the source domain's cells (features + target images);
 *  - `alignBatches[d]`: cells of another domain d (unlabelled, >= 2 each): either features only
 *    (Float32Array; they enter only the alignment term) or a TrainBatch with images, which also joins the
 *    reconstruction terms - the reference implementation's way, where every cell of the mixed batch is
 *    reconstructed and the source-domain latents are aligned to each other domain's.
 *
 * Gradients flow through the encoder on both sides of the alignment, as in the paper.
 */
export async function trainStep(
  model: AutoencoderModel,
  batch: TrainBatch,
  alignBatches: Array<Float32Array | TrainBatch> = [],
  opts: TrainStepOptions = {},
): Promise<TrainStepResult> {
  alive(model);
  const t0 = performance.now();
  const tf = model.tf;
  const p = model.preset;
  const fs = featureSize(p);
  const is = p.imageSize * p.imageSize * 3;
  const { n, lr, w, doAlign, domains } = checkStepInputs(p, batch, alignBatches, opts);
  const recDomains = domains.filter((d) => d.images);
  const encDomains = doAlign ? domains.filter((d) => !d.images) : [];
  const nRec = n + recDomains.reduce((s, d) => s + d.n, 0);
  const nEnc = encDomains.reduce((s, d) => s + d.n, 0);
  const xRec = new Float32Array(nRec * fs);
  const imRec = nRec === n ? batch.images : new Float32Array(nRec * is);
  scaleFeaturesMinMax(batch.features, n, xRec.subarray(0, n * fs));
  if (imRec !== batch.images) imRec.set(batch.images, 0);
  const xEnc = new Float32Array(nEnc * fs);
  // Row ranges of each domain's latents: [set, start, count].
  const zRange: Array<['rec' | 'enc', number, number]> = [];
  let offR = n;
  let offE = 0;
  for (const d of domains) {
    if (d.images) {
      scaleFeaturesMinMax(d.features, d.n, xRec.subarray(offR * fs, (offR + d.n) * fs));
      imRec.set(d.images, offR * is);
      zRange.push(['rec', offR, d.n]);
      offR += d.n;
    } else if (doAlign) {
      scaleFeaturesMinMax(d.features, d.n, xEnc.subarray(offE * fs, (offE + d.n) * fs));
      zRange.push(['enc', offE, d.n]);
      offE += d.n;
    }
  }

  const stepNo = model.step + 1;
  const metrics = tf.tidy(() => {
    const fshape = (k: number): [number, number, number, number] => [k, p.inputSize, p.inputSize, p.inputChannels];
    const xr = tf.tensor4d(xRec, fshape(nRec));
    const xe = nEnc > 0 ? tf.tensor4d(xEnc, fshape(nEnc)) : null;
    const img = tf.tensor4d(imRec, [nRec, p.imageSize, p.imageSize, 3]);
    const kept: Scalar[] = [];
    const { value, grads } = tf.variableGrads(() => {
      // GroupNorm is per sample, so encoding the sets separately equals encoding one mixed batch.
      const z4 = runStage(tf, model, model.layers.encoder, xr);
      const zr = tf.reshape(z4, [nRec, p.latentDim]) as Tensor2D;
      const featRec = runStage(tf, model, model.layers.featureDecoder, z4);
      const imgRec = runStage(tf, model, model.layers.imageDecoder, featRec);
      const s = ssim(tf, imgRec, img, model.blurT, p.ssim.c1, p.ssim.c2);
      const mse = tf.mean(tf.squaredDifference(featRec, xr)) as Scalar;
      let loss = tf.add(tf.sub(1, s), mse) as Scalar;
      const aligns: Scalar[] = [];
      if (doAlign) {
        const ze = xe ? (tf.reshape(runStage(tf, model, model.layers.encoder, xe), [nEnc, p.latentDim]) as Tensor2D) : null;
        const rows = (set: 'rec' | 'enc', start: number, count: number): Tensor2D => {
          const src = set === 'rec' ? zr : ze!;
          return start === 0 && count === src.shape[0] ? src : tf.slice(src, [start, 0], [count, p.latentDim]);
        };
        const zs = rows('rec', 0, n);
        for (const [set, start, count] of zRange) aligns.push(alignment(tf, zs, rows(set, start, count), opts.alignScale ?? 'raw').total);
      }
      const alignSum = aligns.length ? (tf.addN(aligns) as Scalar) : tf.scalar(0);
      if (aligns.length) loss = tf.add(loss, tf.mul(alignSum, w)) as Scalar;
      kept.push(tf.keep(s), tf.keep(mse), tf.keep(alignSum), ...aligns.map((a) => tf.keep(a)));
      return loss;
    }, model.params.map((q) => q.v));
    adamUpdate(model, stepNo, lr, (q) => {
      const g = grads[q.v.name];
      if (!g) throw new Error(`trainStep: no gradient for ${q.name}`);
      return g;
    });
    const stacked = tf.stack([value, ...kept]) as Tensor1D;
    tf.dispose(kept);
    return stacked;
  });
  const vals = (await metrics.data()) as Float32Array;
  metrics.dispose();
  model.step = stepNo;
  const ms = performance.now() - t0;
  return {
    step: stepNo,
    loss: vals[0]!,
    ssim: vals[1]!,
    mse: vals[2]!,
    align: vals[3]!,
    alignPerDomain: Array.from(vals.subarray(4)),
    samplesPerSec: (n * 1000) / ms,
    reconstructed: nRec,
    encodedOnly: nEnc,
    ms,
  };
}

// ---------------------------------------------------------------------------------------------------
// Inference

export interface InferenceOptions {
  /** Samples per forward pass (memory bound); default 64 (cpu) / 16 (paper-sized images). */
  chunk?: number;
}

function defaultChunk(p: AutoencoderPreset): number {
  return p.imageSize >= 128 ? 16 : 64;
}

/** The 50-d latents (n x latentDim, row-major), in [-1, 1]. */
export async function encode(
  model: AutoencoderModel,
  features: Float32Array,
  n: number,
  opts: InferenceOptions = {},
): Promise<Float32Array> {
  alive(model);
  const tf = model.tf;
  const p = model.preset;
  const fs = featureSize(p);
  checkCount('encode features', features, fs, n);
  const out = new Float32Array(n * p.latentDim);
  const chunk = Math.max(1, opts.chunk ?? 256);
  for (let s = 0; s < n; s += chunk) {
    const c = Math.min(chunk, n - s);
    const x = scaleFeaturesMinMax(features.subarray(s * fs, (s + c) * fs), c);
    const z = tf.tidy(() =>
      runStage(tf, model, model.layers.encoder, tf.tensor4d(x, [c, p.inputSize, p.inputSize, p.inputChannels])),
    );
    out.set((await z.data()) as Float32Array, s * p.latentDim);
    z.dispose();
  }
  return out;
}

export interface Reconstruction {
  /** Reconstructed features, n x inputSize x inputSize x inputChannels (NHWC), in the scaled [-1, 1] space. */
  features: Float32Array;
  /** Reconstructed images, n x imageSize x imageSize x 3 (HWC), in [0, 1]. */
  images: Float32Array;
  /** The scaled input features (the reconstruction target), same layout as `features`. */
  inputs: Float32Array;
  latents: Float32Array;
  imageSize: number;
}

/** Input/reconstruction pairs for display and checks. */
export async function reconstruct(
  model: AutoencoderModel,
  features: Float32Array,
  n: number,
  opts: InferenceOptions = {},
): Promise<Reconstruction> {
  alive(model);
  const tf = model.tf;
  const p = model.preset;
  const fs = featureSize(p);
  const is = p.imageSize * p.imageSize * 3;
  checkCount('reconstruct features', features, fs, n);
  const inputs = scaleFeaturesMinMax(features, n);
  const outF = new Float32Array(n * fs);
  const outI = new Float32Array(n * is);
  const outZ = new Float32Array(n * p.latentDim);
  const chunk = Math.max(1, opts.chunk ?? defaultChunk(p));
  for (let s = 0; s < n; s += chunk) {
    const c = Math.min(chunk, n - s);
    const [z, f, im] = tf.tidy(() => {
      const x = tf.tensor4d(inputs.subarray(s * fs, (s + c) * fs), [c, p.inputSize, p.inputSize, p.inputChannels]);
      const z4 = runStage(tf, model, model.layers.encoder, x);
      const f4 = runStage(tf, model, model.layers.featureDecoder, z4);
      return [z4, f4, runStage(tf, model, model.layers.imageDecoder, f4)];
    });
    outZ.set((await z.data()) as Float32Array, s * p.latentDim);
    outF.set((await f.data()) as Float32Array, s * fs);
    outI.set((await im.data()) as Float32Array, s * is);
    tf.dispose([z, f, im]);
  }
  return { features: outF, images: outI, inputs, latents: outZ, imageSize: p.imageSize };
}

export interface AlignmentValue {
  total: number;
  mean: number;
  cov: number;
}

/**
 * The alignment term between two sets of latents (row-major, latentDim columns, >= 2 rows each), computed
 * with the same ops as training. Useful to monitor domain shift on encoded cells.
 */
export async function alignmentBetween(
  model: AutoencoderModel | TfjsRuntime,
  zs: Float32Array,
  zt: Float32Array,
  latentDim = 50,
): Promise<AlignmentValue> {
  const tf = model.tf;
  const ns = checkCount('alignmentBetween zs', zs, latentDim);
  const nt = checkCount('alignmentBetween zt', zt, latentDim);
  const t = tf.tidy(() => {
    const r = alignment(tf, tf.tensor2d(zs, [ns, latentDim]), tf.tensor2d(zt, [nt, latentDim]));
    return tf.stack([r.total, r.mean, r.cov]);
  });
  const v = (await t.data()) as Float32Array;
  t.dispose();
  return { total: v[0]!, mean: v[1]!, cov: v[2]! };
}

/** A seeded permutation of 0..n-1 from the model's generator (saved in checkpoints), for epoch shuffles. */
export function shuffledIndices(model: AutoencoderModel, n: number): Int32Array {
  return model.rng.permutation(n);
}

/** Number of live tensors in the engine (for leak checks). */
export function liveTensorCount(model: AutoencoderModel | TfjsRuntime): number {
  return model.tf.memory().numTensors;
}


/**
 * One Adam step over every parameter, PyTorch's formulation:
 * p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). Call inside tf.tidy; `gradOf` gives each
 * parameter's gradient (trainStep's from variableGrads, the worker pool's summed over its shards).
 */
export function adamUpdate(model: AutoencoderModel, stepNo: number, lr: number, gradOf: (q: NamedVar, i: number) => Tensor): void {
  const tf = model.tf;
  const { beta1, beta2, eps } = model.preset.adam;
  const stepSize = lr / (1 - Math.pow(beta1, stepNo));
  const sqrtBc2 = Math.sqrt(1 - Math.pow(beta2, stepNo));
  model.params.forEach((q, i) => {
    const g = gradOf(q, i);
    const m = model.adamM[i]!;
    const v = model.adamV[i]!;
    const m1 = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
    const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
    const denom = tf.add(tf.div(tf.sqrt(v1), sqrtBc2), eps);
    q.v.assign(tf.sub(q.v, tf.mul(tf.div(m1, denom), stepSize)));
    m.assign(m1);
    v.assign(v1);
  });
}
