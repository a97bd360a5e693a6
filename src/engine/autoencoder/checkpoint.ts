/**
 * Weights and checkpoints of the autoencoder, and their single-file binary form:
 *
 *   bytes 0-3   "LKAE"
 *   bytes 4-7   format version (uint32 LE) = 1
 *   bytes 8-11  header length H in bytes (uint32 LE)
 *   bytes 12..  header, UTF-8 JSON (kind, preset, seed, step, rng state, tensor table), zero-padded so the
 *               blob starts on a 4-byte boundary
 *   then        float32 little-endian blob: the tensors of the table, in order
 *
 * A "weights" file holds the parameters; a "checkpoint" adds Adam's m and v for every parameter, the
 * optimizer step and the generator state, so training resumes exactly where it stopped.
 */
import { initTfjs } from '../backends/tfjs.js';
import { Autoencoder, disposeAutoencoder, type AutoencoderModel, type CreateOptions } from './model.js';
import { planNetwork, type AutoencoderPreset } from './presets.js';

const MAGIC = 'LKAE';
const VERSION = 1;

export interface AutoencoderWeights {
  kind: 'weights' | 'checkpoint';
  preset: AutoencoderPreset;
  seed: number;
  /** Optimizer steps taken when saved. */
  step: number;
  /** Parameter names ("encoder.0.weight", ...), shapes and values, in the model's order. */
  names: string[];
  shapes: number[][];
  data: Float32Array[];
}

export interface AutoencoderCheckpoint extends AutoencoderWeights {
  kind: 'checkpoint';
  /** xoshiro128** state of the model's generator. */
  rngState: Uint32Array;
  /** Adam first and second moments, one per parameter. */
  adamM: Float32Array[];
  adamV: Float32Array[];
}

interface TensorEntry {
  name: string;
  shape: number[];
  /** Offset in float32 elements from the start of the blob. */
  offset: number;
}

interface Header {
  kind: 'weights' | 'checkpoint';
  preset: AutoencoderPreset;
  seed: number;
  step: number;
  rng?: number[];
  tensors: TensorEntry[];
  savedAt: string;
}

function alive(model: Autoencoder): void {
  if (model.disposed) throw new Error('autoencoder has been disposed');
}

/** Copy the parameters out of the backend. */
export async function saveWeights(model: AutoencoderModel): Promise<AutoencoderWeights> {
  alive(model);
  const data = await Promise.all(model.params.map(async (p) => new Float32Array((await p.v.data()) as Float32Array)));
  return {
    kind: 'weights',
    preset: structuredClone(model.preset),
    seed: model.seed,
    step: model.step,
    names: model.params.map((p) => p.name),
    shapes: model.params.map((p) => [...p.v.shape]),
    data,
  };
}

/** Parameters + optimizer state + step + generator state. */
export async function saveCheckpointState(model: AutoencoderModel): Promise<AutoencoderCheckpoint> {
  const w = await saveWeights(model);
  const read = (vs: typeof model.adamM) => Promise.all(vs.map(async (v) => new Float32Array((await v.data()) as Float32Array)));
  return { ...w, kind: 'checkpoint', rngState: model.rng.getState(), adamM: await read(model.adamM), adamV: await read(model.adamV) };
}

/** Serialise a checkpoint of the model to one binary buffer. */
export async function saveCheckpoint(model: AutoencoderModel): Promise<Uint8Array> {
  return encodeWeightsFile(await saveCheckpointState(model));
}

function sameArchitecture(a: AutoencoderPreset, b: AutoencoderPreset): boolean {
  const sig = (p: AutoencoderPreset) => {
    const plan = planNetwork(p);
    return JSON.stringify(
      [...plan.encoder, ...plan.featureDecoder, ...plan.imageDecoder].map((l) => [l.name, l.kind, l.cin, l.cout, l.k, l.stride, l.pad, l.act, l.groupNorm ?? 0]),
    );
  };
  return sig(a) === sig(b) && a.imageSize === b.imageSize && a.inputSize === b.inputSize;
}

/** Load parameters into a model of the same architecture (the step is taken from the weights). */
export function loadWeights(model: AutoencoderModel, w: AutoencoderWeights): void {
  alive(model);
  if (!sameArchitecture(model.preset, w.preset)) {
    throw new Error(`loadWeights: weights of preset "${w.preset.name}" do not fit a "${model.preset.name}" model`);
  }
  checkTable(model, w.names, w.shapes, w.data, 'parameter');
  const tf = model.tf;
  tf.tidy(() => model.params.forEach((p, i) => p.v.assign(tf.tensor(w.data[i]!, p.v.shape, 'float32'))));
  model.step = w.step;
}

/** Restore a checkpoint (parameters, Adam moments, step, generator) into a model of the same architecture. */
export function restoreCheckpoint(model: AutoencoderModel, ck: AutoencoderCheckpoint | Uint8Array): void {
  const c = ck instanceof Uint8Array ? decodeWeightsFile(ck) : ck;
  if (c.kind !== 'checkpoint') throw new Error('restoreCheckpoint: this file holds weights only (no optimizer state)');
  const cp = c as AutoencoderCheckpoint;
  loadWeights(model, cp);
  const tf = model.tf;
  checkTable(model, cp.names, cp.shapes, cp.adamM, 'adam m');
  checkTable(model, cp.names, cp.shapes, cp.adamV, 'adam v');
  tf.tidy(() => {
    model.adamM.forEach((v, i) => v.assign(tf.tensor(cp.adamM[i]!, v.shape, 'float32')));
    model.adamV.forEach((v, i) => v.assign(tf.tensor(cp.adamV[i]!, v.shape, 'float32')));
  });
  model.rng.setState(cp.rngState);
  model.step = cp.step;
}

/** A new model from a weights or checkpoint file (or decoded object); checkpoints restore the optimizer too. */
export async function loadAutoencoder(
  src: Uint8Array | AutoencoderWeights,
  opts: CreateOptions = {},
): Promise<AutoencoderModel> {
  const w = src instanceof Uint8Array ? decodeWeightsFile(src) : src;
  const rt = opts.runtime ?? (await initTfjs(opts));
  const model = new Autoencoder(rt, structuredClone(w.preset), w.seed);
  try {
    if (w.kind === 'checkpoint') restoreCheckpoint(model, w as AutoencoderCheckpoint);
    else loadWeights(model, w);
  } catch (err) {
    disposeAutoencoder(model);
    throw err;
  }
  return model;
}

/** Same as loadAutoencoder for a checkpoint file. */
export const loadCheckpoint = loadAutoencoder;

function checkTable(model: Autoencoder, names: string[], shapes: number[][], data: Float32Array[], what: string): void {
  if (names.length !== model.params.length || data.length !== model.params.length) {
    throw new Error(`${what}: ${data.length} tensors for ${model.params.length} parameters`);
  }
  model.params.forEach((p, i) => {
    const shape = shapes[i]!;
    if (names[i] !== p.name || shape.join('x') !== p.v.shape.join('x') || data[i]!.length !== p.v.size) {
      throw new Error(`${what}: tensor ${i} is ${names[i]} [${shape}], expected ${p.name} [${p.v.shape}]`);
    }
  });
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** One binary buffer (see the file comment) for weights or a checkpoint. */
export function encodeWeightsFile(w: AutoencoderWeights | AutoencoderCheckpoint): Uint8Array {
  if (!LITTLE_ENDIAN) throw new Error('encodeWeightsFile: big-endian hosts are not supported');
  const tensors: TensorEntry[] = [];
  const arrays: Float32Array[] = [];
  let offset = 0;
  const add = (name: string, shape: number[], a: Float32Array) => {
    tensors.push({ name, shape, offset });
    arrays.push(a);
    offset += a.length;
  };
  w.names.forEach((nm, i) => add(nm, w.shapes[i]!, w.data[i]!));
  const header: Header = {
    kind: w.kind,
    preset: w.preset,
    seed: w.seed,
    step: w.step,
    tensors,
    savedAt: new Date().toISOString(),
  };
  if (w.kind === 'checkpoint') {
    const c = w as AutoencoderCheckpoint;
    w.names.forEach((nm, i) => add(`adam.m/${nm}`, w.shapes[i]!, c.adamM[i]!));
    w.names.forEach((nm, i) => add(`adam.v/${nm}`, w.shapes[i]!, c.adamV[i]!));
    header.rng = Array.from(c.rngState);
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const blobStart = Math.ceil((12 + json.length) / 4) * 4;
  const out = new Uint8Array(blobStart + offset * 4);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(4, VERSION, true);
  dv.setUint32(8, json.length, true);
  out.set(json, 12);
  const blob = new Float32Array(out.buffer, blobStart, offset);
  tensors.forEach((t, i) => blob.set(arrays[i]!, t.offset));
  return out;
}

/** Parse a buffer written by encodeWeightsFile. */
export function decodeWeightsFile(buf: Uint8Array): AutoencoderWeights | AutoencoderCheckpoint {
  if (!LITTLE_ENDIAN) throw new Error('decodeWeightsFile: big-endian hosts are not supported');
  if (buf.length < 12 || new TextDecoder().decode(buf.subarray(0, 4)) !== MAGIC) {
    throw new Error('decodeWeightsFile: not a leukograph autoencoder file');
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = dv.getUint32(4, true);
  if (version !== VERSION) throw new Error(`decodeWeightsFile: unsupported format version ${version}`);
  const hlen = dv.getUint32(8, true);
  if (12 + hlen > buf.length) throw new Error('decodeWeightsFile: truncated header');
  const header = JSON.parse(new TextDecoder().decode(buf.subarray(12, 12 + hlen))) as Header;
  const blobStart = Math.ceil((12 + hlen) / 4) * 4;
  const floats = (buf.length - blobStart) / 4;
  // Copy out of the file buffer (it may not be 4-byte aligned, and callers may reuse it).
  const blob = new Float32Array(buf.slice(blobStart, blobStart + Math.floor(floats) * 4).buffer);
  const read = (t: TensorEntry) => {
    const len = t.shape.reduce((a, b) => a * b, 1);
    if (t.offset + len > blob.length) throw new Error(`decodeWeightsFile: truncated tensor ${t.name}`);
    return blob.slice(t.offset, t.offset + len);
  };
  const params = header.tensors.filter((t) => !t.name.startsWith('adam.'));
  const w: AutoencoderWeights = {
    kind: header.kind,
    preset: header.preset,
    seed: header.seed,
    step: header.step,
    names: params.map((t) => t.name),
    shapes: params.map((t) => t.shape),
    data: params.map(read),
  };
  if (header.kind !== 'checkpoint') return w;
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  const moment = (prefix: string) =>
    w.names.map((nm) => {
      const t = byName.get(`${prefix}/${nm}`);
      if (!t) throw new Error(`decodeWeightsFile: checkpoint lacks ${prefix}/${nm}`);
      return read(t);
    });
  if (!header.rng || header.rng.length !== 4) throw new Error('decodeWeightsFile: checkpoint lacks the generator state');
  return {
    ...w,
    kind: 'checkpoint',
    rngState: new Uint32Array(header.rng),
    adamM: moment('adam.m'),
    adamV: moment('adam.v'),
  } satisfies AutoencoderCheckpoint;
}
