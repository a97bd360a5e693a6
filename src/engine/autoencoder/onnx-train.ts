/**
 * Autoencoder training through onnxruntime (native MLAS kernels on the CPU): one ONNX graph per preset and
 * batch layout computes the loss of model.ts trainStep and every parameter's gradient (onnx-graph.ts
 * differentiates it); Adam runs here over Float32Arrays, PyTorch's rule as model.ts adamUpdate.
 *
 * The trainer keeps its own copy of the parameters and Adam state in ONNX layout (conv [cout,cin,kh,kw],
 * convT [cin,cout,kh,kw]). It writes the parameters back into the TensorFlow.js model after every step
 * (encode and reconstruct see the trained model) and the Adam state on flush() and close() (checkpoints:
 * ~55 ms per 4M-value tensor set on the paper preset, so not every step); it re-reads the model when its
 * step changed behind the trainer's back (a checkpoint restored, another trainer).
 */
import os from 'node:os';
import { createOnnxSessionFromBytes, disposeOnnxSession, runOnnx, type OnnxSession } from '../backends/onnx.js';
import { scaleFeaturesMinMax } from './data.js';
import { blurMatrixT, type AlignScale } from './losses.js';
import type { AutoencoderModel, TrainBatch, TrainStepOptions, TrainStepResult } from './model.js';
import { planNetwork, type AutoencoderPreset, type PlannedLayer } from './presets.js';
import { GraphBuilder, type Sym } from './onnx-graph.js';

export type TrainingBackend = 'onnx' | 'tfjs';

/**
 * The engine's choice of training backend: LEUKOGRAPH_AE_TRAIN_BACKEND=onnx|tfjs|auto; auto = onnx when
 * the model lives on a CPU backend of TensorFlow.js (wasm, cpu), tfjs on webgpu / tfjs-node.
 */
export function chooseTrainingBackend(model: Pick<AutoencoderModel, 'backend'>): TrainingBackend {
  const env = (process.env.LEUKOGRAPH_AE_TRAIN_BACKEND ?? '').trim().toLowerCase();
  if (env === 'onnx' || env === 'tfjs') return env;
  if (env !== '' && env !== 'auto') throw new Error(`LEUKOGRAPH_AE_TRAIN_BACKEND=${env}: expected onnx, tfjs or auto`);
  return model.backend === 'wasm' || model.backend === 'cpu' ? 'onnx' : 'tfjs';
}

/** Where each other domain's latents are, as rows of the graph's latent matrix (reconstructed rows first). */
export interface StepLayout {
  /** Source samples (rows 0..n-1). */
  n: number;
  /** Reconstructed rows (source + domains given with images). */
  nRec: number;
  /** Encode-only rows (after the reconstructed ones). */
  nEnc: number;
  /** [first row, count] per other domain, in alignBatches order (empty: no alignment term). */
  domains: Array<[number, number]>;
  alignWeight: number;
  alignScale: AlignScale;
}

export interface TrainGraph {
  bytes: Uint8Array;
  /** Parameter inputs, in model.params order (ONNX layout). */
  paramShapes: number[][];
  nodes: number;
}

function layerParams(l: PlannedLayer): Array<{ name: string; shape: number[] }> {
  const w = l.kind === 'conv' ? [l.cout, l.cin, l.k, l.k] : [l.cin, l.cout, l.k, l.k];
  const out = [{ name: `${l.name}.weight`, shape: w }, { name: `${l.name}.bias`, shape: [l.cout] }];
  if (l.groupNorm !== undefined) out.push({ name: `${l.name}.gn.gamma`, shape: [l.cout] }, { name: `${l.name}.gn.beta`, shape: [l.cout] });
  return out;
}

/**
 * The training-step graph: inputs p0..pK (parameters), x [nRec+nEnc, S, S, C] (scaled features, NHWC),
 * img [nRec, I, I, 3]; outputs loss, ssim, mse, align, align_d (per domain), g0..gK (gradients).
 */
export function buildTrainGraph(p: AutoencoderPreset, L: StepLayout): TrainGraph {
  const plan = planNetwork(p);
  const b = new GraphBuilder();
  const layers = [...plan.encoder, ...plan.featureDecoder, ...plan.imageDecoder];
  const specs = layers.flatMap(layerParams);
  const params = specs.map((s, i) => b.input(`p${i}`, s.shape, true));
  const nAll = L.nRec + L.nEnc;
  const x = b.input('x', [nAll, p.inputSize, p.inputSize, p.inputChannels]);
  const img = b.input('img', [L.nRec, p.imageSize, p.imageSize, 3]);
  let pi = 0;
  // h is NCHW, except the raw NHWC input when the first layer is a 1x1 stride-1 conv (conv1x1Nhwc).
  const apply = (l: PlannedLayer, h: Sym, nhwc = false): Sym => {
    if (l.pad !== 'valid') throw new Error(`onnx training: ${l.name} has padding ${l.pad}; only 'valid' layers are supported`);
    const w = params[pi++]!;
    const bias = params[pi++]!;
    let y = nhwc ? b.conv1x1Nhwc(h, w, bias) : l.kind === 'conv' ? b.conv(h, w, bias, l.stride) : b.convT(h, w, bias, l.stride);
    if (l.act === 'relu') y = b.relu(y);
    else if (l.act === 'tanh') y = b.tanh(y);
    else if (l.act === 'sigmoid') y = b.sigmoid(y);
    if (l.groupNorm !== undefined) {
      const gamma = params[pi++]!;
      const beta = params[pi++]!;
      y = groupNorm(b, y, l.groupNorm, gamma, beta, p.groupNorm.eps, p.groupNorm.unbiased);
    }
    return y;
  };
  const stage = (ls: PlannedLayer[], h: Sym) => ls.reduce((a, l) => apply(l, a), h);

  const first = plan.encoder[0]!;
  const firstNhwc = first.kind === 'conv' && first.k === 1 && first.stride === 1;
  const xn = firstNhwc ? null : b.transpose(x, [0, 3, 1, 2]);
  const z4 = xn ? stage(plan.encoder, xn) : stage(plan.encoder.slice(1), apply(first, x, true)); // [nAll, D, 1, 1]
  const z = b.reshape(z4, [nAll, p.latentDim]);
  const feat = stage(plan.featureDecoder, b.slice(z4, 0, 0, L.nRec));
  const imgRec = stage(plan.imageDecoder, feat); // [nRec, 3, I, I]
  const target = xn ? b.slice(xn, 0, 0, L.nRec) : b.transpose(b.slice(x, 0, 0, L.nRec), [0, 3, 1, 2]);
  const mse = b.mean(b.square(b.sub(feat, target)));
  const s = ssim(b, imgRec, b.transpose(img, [0, 3, 1, 2]), p);
  let loss = b.add(b.sub(1, s), mse);
  const aligns = L.alignWeight > 0 ? L.domains.map(([start, count]) => alignment(b, b.slice(z, 0, 0, L.n), b.slice(z, 0, start, start + count), L.alignScale)) : [];
  const alignSum = aligns.length ? aligns.slice(1).reduce((a, t) => b.add(a, t), aligns[0]!) : b.constant(0);
  if (aligns.length) loss = b.add(loss, b.mul(alignSum, L.alignWeight));
  const grads = b.gradients(loss, params);
  b.output(loss, 'loss');
  b.output(s, 'ssim');
  b.output(mse, 'mse');
  b.output(alignSum, 'align');
  aligns.forEach((a, i) => b.output(a, `align_${i}`));
  grads.forEach((g, i) => b.output(g ?? b.constant(0, specs[i]!.shape), `g${i}`));
  return { bytes: b.toBytes(`aecfe_${p.name}_train`), paramShapes: specs.map((s2) => s2.shape), nodes: b.nodeCount };
}

/** losses.ts groupNorm in NCHW: groups over the channel-major flattening, Bessel's correction when unbiased. */
function groupNorm(b: GraphBuilder, x: Sym, groups: number, gamma: Sym, beta: Sym, eps: number, unbiased: boolean): Sym {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const m = (c * h * w) / groups;
  const r = b.reshape(x, [n, groups, m]);
  const d = b.sub(r, b.mean(r, [2], true));
  const v = b.div(b.sum(b.square(d), [2], true), unbiased ? m - 1 : m);
  const normed = b.reshape(b.div(d, b.sqrt(b.add(v, eps))), [n, c, h, w]);
  return b.add(b.mul(normed, b.reshape(gamma, [1, c, 1, 1])), b.reshape(beta, [1, c, 1, 1]));
}

/** losses.ts ssim: the separable Gaussian blur as two products with the banded blur matrix. */
function ssim(b: GraphBuilder, a: Sym, t: Sym, p: AutoencoderPreset): Sym {
  const [n, ch, sz] = a.shape as [number, number, number, number];
  const { data, outSize } = blurMatrixT(sz, p.ssim.window, p.ssim.sigma, p.ssim.padding);
  const bt = b.constant(data, [sz, outSize]); // [S, So]
  const planes = n * ch;
  // As losses.ts: blur the rows, swap the spatial axes, blur again (two large GEMMs, not P small ones);
  // the map comes out transposed, which its mean does not mind.
  const blur = (u: Sym) => {
    const bw = b.reshape(b.matmul(u, bt), [planes, sz, outSize]);
    const sw = b.reshape(b.transpose(bw, [0, 2, 1]), [planes * outSize, sz]);
    return b.matmul(sw, bt); // [P*So, So]
  };
  const pa = b.reshape(a, [planes * sz, sz]);
  const pb = b.reshape(t, [planes * sz, sz]);
  const mu1 = blur(pa);
  const mu2 = blur(pb);
  const e11 = blur(b.square(pa));
  const e22 = blur(b.square(pb));
  const e12 = blur(b.mul(pa, pb));
  const mu1mu2 = b.mul(mu1, mu2);
  const mu1sq = b.square(mu1);
  const mu2sq = b.square(mu2);
  const s11 = b.sub(e11, mu1sq);
  const s22 = b.sub(e22, mu2sq);
  const s12 = b.sub(e12, mu1mu2);
  const num = b.mul(b.add(b.mul(mu1mu2, 2), p.ssim.c1), b.add(b.mul(s12, 2), p.ssim.c2));
  const den = b.mul(b.add(b.add(mu1sq, mu2sq), p.ssim.c1), b.add(b.add(s11, s22), p.ssim.c2));
  return b.mean(b.div(num, den));
}

/** losses.ts alignment (total): MSE of the batch means + the symmetric KL of the softmax-normalised covariances. */
function alignment(b: GraphBuilder, zsIn: Sym, ztIn: Sym, scale: AlignScale): Sym {
  let zs = zsIn;
  let zt = ztIn;
  if (scale === 'standardised') {
    const both = b.concat([zsIn, ztIn], 0);
    const variance = b.mean(b.square(b.sub(both, b.mean(both, [0], true))), [0]); // tf.moments: population variance
    const sd = b.sqrt(b.add(variance, 1e-8));
    zs = b.div(zsIn, sd);
    zt = b.div(ztIn, sd);
  }
  const mean = b.mean(b.square(b.sub(b.mean(zs, [0]), b.mean(zt, [0]))));
  const cov = (u: Sym) => {
    const d = b.sub(u, b.mean(u, [0], true));
    return b.div(b.matmul(b.transpose(d, [1, 0]), d), u.shape[0]! - 1);
  };
  const ls = b.logSoftmax(cov(zs));
  const lt = b.logSoftmax(cov(zt));
  const kl = b.mul(b.mean(b.mul(b.sub(b.exp(lt), b.exp(ls)), b.sub(lt, ls))), 0.5);
  return b.add(mean, kl);
}

// ---------------------------------------------------------------------------------------------------
// Layout conversion: tfjs filters are [kh, kw, a, b] (conv: a=cin, b=cout; conv2dTranspose: a=cout,
// b=cin); ONNX wants [b, a, kh, kw] in both cases (Conv [cout,cin,..], ConvTranspose [cin,cout,..]).

/** [kh,kw,a,b] -> [b,a,kh,kw] */
export function filterToOnnx(src: Float32Array, k: number, a: number, bb: number, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  for (let kh = 0; kh < k; kh++)
    for (let kw = 0; kw < k; kw++)
      for (let i = 0; i < a; i++) {
        const s = ((kh * k + kw) * a + i) * bb;
        for (let j = 0; j < bb; j++) dst[((j * a + i) * k + kh) * k + kw] = src[s + j]!;
      }
  return dst;
}

/** [b,a,kh,kw] -> [kh,kw,a,b] */
export function filterFromOnnx(src: Float32Array, k: number, a: number, bb: number, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  for (let kh = 0; kh < k; kh++)
    for (let kw = 0; kw < k; kw++)
      for (let i = 0; i < a; i++) {
        const d = ((kh * k + kw) * a + i) * bb;
        for (let j = 0; j < bb; j++) dst[d + j] = src[((j * a + i) * k + kh) * k + kw]!;
      }
  return dst;
}

// ---------------------------------------------------------------------------------------------------
// The trainer

export interface OnnxTrainer {
  readonly backend: 'onnx';
  /** Same contract and result as `trainStep` (model.ts), except that the model's Adam state is written by flush(). */
  trainStep(model: AutoencoderModel, batch: TrainBatch, alignBatches?: Array<Float32Array | TrainBatch>, opts?: TrainStepOptions): Promise<TrainStepResult>;
  /** Writes the Adam state into the model (before a checkpoint); parameters and step are always current. */
  flush(model: AutoencoderModel): void;
  /** The step's loss terms and gradients (ONNX layout, model.params order) without updating anything (tests). */
  gradients(model: AutoencoderModel, batch: TrainBatch, alignBatches?: Array<Float32Array | TrainBatch>, opts?: TrainStepOptions): Promise<{ loss: number; ssim: number; mse: number; align: number; alignPerDomain: number[]; grads: Float32Array[] }>;
  close(): Promise<void>;
}

export interface OnnxTrainerOptions {
  /** onnxruntime intra-op threads (default: the number of cores). */
  threads?: number;
}

/** A 4-D filter's [k, a, b] in tfjs terms (see filterToOnnx), or null for 1-D parameters. */
function filterDims(shape: readonly number[]): [number, number, number] | null {
  return shape.length === 4 ? [shape[0]!, shape[2]!, shape[3]!] : null;
}

export async function createOnnxTrainer(model: AutoencoderModel, opts: OnnxTrainerOptions = {}): Promise<OnnxTrainer> {
  const threads = opts.threads ?? Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
  const sessions = new Map<string, Promise<OnnxSession>>();
  const shapes = model.params.map((q) => [...q.v.shape]);
  const P = model.params.map((q) => new Float32Array(q.v.size));
  const M = model.params.map((q) => new Float32Array(q.v.size));
  const V = model.params.map((q) => new Float32Array(q.v.size));
  let owner: AutoencoderModel | null = null;
  let ownerStep = -1;
  let adamDirty = false;
  let closed = false;

  const toOnnx = (src: Float32Array, i: number, dst: Float32Array) => {
    const f = filterDims(shapes[i]!);
    if (f) filterToOnnx(src, f[0], f[1], f[2], dst);
    else dst.set(src);
  };
  const fromOnnx = (src: Float32Array, i: number) => {
    const f = filterDims(shapes[i]!);
    return f ? filterFromOnnx(src, f[0], f[1], f[2]) : src;
  };
  const flush = (m: AutoencoderModel) => {
    if (owner !== m || !adamDirty || m.disposed) return;
    const tf = m.tf;
    tf.tidy(() => {
      m.params.forEach((q, i) => {
        m.adamM[i]!.assign(tf.tensor(fromOnnx(M[i]!, i), q.v.shape, 'float32'));
        m.adamV[i]!.assign(tf.tensor(fromOnnx(V[i]!, i), q.v.shape, 'float32'));
      });
    });
    adamDirty = false;
  };
  const load = (m: AutoencoderModel) => {
    if (owner === m && ownerStep === m.step) return;
    if (owner && owner !== m) flush(owner);
    m.params.forEach((q, i) => {
      toOnnx(q.v.dataSync() as Float32Array, i, P[i]!);
      toOnnx(m.adamM[i]!.dataSync() as Float32Array, i, M[i]!);
      toOnnx(m.adamV[i]!.dataSync() as Float32Array, i, V[i]!);
    });
    owner = m;
    ownerStep = m.step;
  };
  const store = (m: AutoencoderModel) => {
    const tf = m.tf;
    tf.tidy(() => {
      m.params.forEach((q, i) => q.v.assign(tf.tensor(fromOnnx(P[i]!, i), q.v.shape, 'float32')));
    });
    ownerStep = m.step;
    adamDirty = true;
  };
  const session = (p: AutoencoderPreset, L: StepLayout) => {
    const key = JSON.stringify([p, L]);
    let s = sessions.get(key);
    if (!s) {
      const made = createOnnxSessionFromBytes(buildTrainGraph(p, L).bytes, `aecfe-${p.name}-train`, { intraOpNumThreads: threads });
      made.catch(() => sessions.delete(key));
      sessions.set(key, made);
      s = made;
    }
    return s;
  };

  async function run(model: AutoencoderModel, batch: TrainBatch, alignBatches: Array<Float32Array | TrainBatch>, o: TrainStepOptions) {
    if (closed) throw new Error('onnx trainer closed');
    if (model.disposed) throw new Error('autoencoder has been disposed');
    const prep = prepareStep(model.preset, batch, alignBatches, o);
    const sess = await session(model.preset, prep.layout);
    load(model);
    const feeds: Record<string, { type: 'float32'; data: Float32Array; dims: readonly number[] }> = {
      x: { type: 'float32', data: prep.x, dims: [prep.layout.nRec + prep.layout.nEnc, model.preset.inputSize, model.preset.inputSize, model.preset.inputChannels] },
      img: { type: 'float32', data: prep.images, dims: [prep.layout.nRec, model.preset.imageSize, model.preset.imageSize, 3] },
    };
    const onnxShapes = buildShapes(model);
    P.forEach((data, i) => (feeds[`p${i}`] = { type: 'float32', data, dims: onnxShapes[i]! }));
    const out = await runOnnx(sess, feeds);
    const v = (name: string) => (out[name]!.data as Float32Array)[0]!;
    return {
      prep,
      loss: v('loss'),
      ssim: v('ssim'),
      mse: v('mse'),
      align: v('align'),
      alignPerDomain: prep.layout.alignWeight > 0 ? prep.layout.domains.map((_, i) => v(`align_${i}`)) : [],
      grads: P.map((_, i) => out[`g${i}`]!.data as Float32Array),
    };
  }

  return {
    backend: 'onnx',
    async trainStep(model, batch, alignBatches = [], o = {}) {
      const t0 = performance.now();
      const r = await run(model, batch, alignBatches, o);
      const stepNo = model.step + 1;
      adam(model.preset, stepNo, r.prep.lr, P, M, V, r.grads);
      model.step = stepNo;
      store(model);
      const ms = performance.now() - t0;
      return {
        step: stepNo,
        loss: r.loss,
        ssim: r.ssim,
        mse: r.mse,
        align: r.align,
        alignPerDomain: r.alignPerDomain,
        samplesPerSec: (batch.n * 1000) / ms,
        reconstructed: r.prep.layout.nRec,
        encodedOnly: r.prep.layout.nEnc,
        ms,
      };
    },
    async gradients(model, batch, alignBatches = [], o = {}) {
      const r = await run(model, batch, alignBatches, o);
      return { loss: r.loss, ssim: r.ssim, mse: r.mse, align: r.align, alignPerDomain: r.alignPerDomain, grads: r.grads };
    },
    flush,
    async close() {
      if (closed) return;
      closed = true;
      if (owner) flush(owner);
      const all = [...sessions.values()];
      sessions.clear();
      for (const s of all) await disposeOnnxSession(await s).catch(() => undefined);
    },
  };
}

function buildShapes(model: AutoencoderModel): number[][] {
  const plan = model.plan;
  return [...plan.encoder, ...plan.featureDecoder, ...plan.imageDecoder].flatMap(layerParams).map((s) => s.shape);
}

/** model.ts adamUpdate over Float32Arrays: p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). */
function adam(p: AutoencoderPreset, stepNo: number, lr: number, P: Float32Array[], M: Float32Array[], V: Float32Array[], G: Float32Array[]): void {
  const { beta1, beta2, eps } = p.adam;
  const stepSize = lr / (1 - Math.pow(beta1, stepNo));
  const sqrtBc2 = Math.sqrt(1 - Math.pow(beta2, stepNo));
  for (let i = 0; i < P.length; i++) {
    const w = P[i]!;
    const m = M[i]!;
    const v = V[i]!;
    const g = G[i]!;
    for (let j = 0; j < w.length; j++) {
      const gj = g[j]!;
      const m1 = m[j]! * beta1 + gj * (1 - beta1);
      const v1 = v[j]! * beta2 + gj * gj * (1 - beta2);
      m[j] = m1;
      v[j] = v1;
      w[j] = w[j]! - (m1 / (Math.sqrt(v1) / sqrtBc2 + eps)) * stepSize;
    }
  }
}

interface PreparedStep {
  layout: StepLayout;
  /** Scaled features of every row: reconstructed rows, then encode-only rows. */
  x: Float32Array;
  images: Float32Array;
  lr: number;
}

/** trainStep's checks and batch assembly (model.ts): source first, then image-bearing domains, then encode-only ones. */
function prepareStep(p: AutoencoderPreset, batch: TrainBatch, alignBatches: Array<Float32Array | TrainBatch>, o: TrainStepOptions): PreparedStep {
  const fs = p.inputSize * p.inputSize * p.inputChannels;
  const is = p.imageSize * p.imageSize * 3;
  const n = batch.n;
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`trainStep: bad batch size ${n}`);
  if (batch.features.length !== n * fs || batch.images.length !== n * is) throw new Error(`trainStep: batch of ${n} needs ${n * fs} feature and ${n * is} image values`);
  const lr = o.learningRate ?? p.learningRate;
  const w = o.alignWeight ?? p.alignWeight;
  if (!(lr > 0) || !(w >= 0)) throw new Error('trainStep: learningRate must be > 0 and alignWeight >= 0');
  const doAlign = w > 0 && alignBatches.length > 0;
  const doms = alignBatches.map((a, i) => {
    const f = a instanceof Float32Array ? a : a.features;
    if (f.length % fs !== 0) throw new Error(`trainStep alignBatches[${i}]: ${f.length} values are not a whole number of ${fs}-value samples`);
    const c = f.length / fs;
    if (!(a instanceof Float32Array) && (a.n !== c || a.images.length !== c * is)) throw new Error(`trainStep alignBatches[${i}]: n, features and images disagree`);
    if (doAlign && c < 2) throw new Error(`trainStep: alignBatches[${i}] has ${c} sample(s); at least 2 are needed`);
    return { f, im: a instanceof Float32Array ? null : a.images, c };
  });
  if (doAlign && n < 2) throw new Error('trainStep: the alignment term needs at least 2 source samples');
  const rec = doms.filter((d) => d.im);
  const enc = doAlign ? doms.filter((d) => !d.im) : [];
  const nRec = n + rec.reduce((s, d) => s + d.c, 0);
  const nEnc = enc.reduce((s, d) => s + d.c, 0);
  const x = new Float32Array((nRec + nEnc) * fs);
  const images = nRec === n ? batch.images : new Float32Array(nRec * is);
  if (images !== batch.images) images.set(batch.images, 0);
  scaleFeaturesMinMax(batch.features, n, x.subarray(0, n * fs));
  const domains: Array<[number, number]> = [];
  let offR = n;
  let offE = nRec;
  for (const d of doms) {
    if (d.im) {
      scaleFeaturesMinMax(d.f, d.c, x.subarray(offR * fs, (offR + d.c) * fs));
      images.set(d.im, offR * is);
      domains.push([offR, d.c]);
      offR += d.c;
    } else if (doAlign) {
      scaleFeaturesMinMax(d.f, d.c, x.subarray(offE * fs, (offE + d.c) * fs));
      domains.push([offE, d.c]);
      offE += d.c;
    }
  }
  return { layout: { n, nRec, nEnc, domains: doAlign ? domains : [], alignWeight: doAlign ? w : 0, alignScale: o.alignScale ?? 'raw' }, x, images, lr };
}
