/**
 * The ONNX Runtime backend module: the ONLY module of leukograph that imports onnxruntime-node.
 *
 * Nothing happens at import time: `loadOnnxSession()` loads onnxruntime-node lazily, chooses the
 * execution provider (`webgpu` when a hardware WebGPU adapter exists, else `cpu`) and memoises the
 * session per model path and options; a failed load is evicted so that a later call tries again.
 * Callers get plain typed arrays back from `runOnnx()` and never see onnxruntime's own types.
 *
 * Note: onnxruntime-node's `run` executes synchronously on the calling thread (inside a setImmediate),
 * so two sessions in one process do not overlap; use intraOpNumThreads (or worker threads) for cores.
 */
import { probeWebgpu, errorMessage } from './webgpu.js';
import os from 'node:os';
import path from 'node:path';
import type * as Ort from 'onnxruntime-node';

export type OnnxDevice = 'webgpu' | 'cpu';
export type OnnxPreference = OnnxDevice | 'auto';

export interface OnnxSessionOptions {
  /** 'auto' (default): webgpu when a hardware adapter exists, else cpu. LEUKOGRAPH_ONNX_DEVICE replaces 'auto'. */
  prefer?: OnnxPreference;
  /** Threads of the cpu provider (default: the number of cores). */
  intraOpNumThreads?: number;
  /** Milliseconds to wait for a WebGPU adapter (default 10 000). */
  webgpuTimeoutMs?: number;
  /** Let the cpu provider's intra-op threads spin between parallel sections (default false; see createSession). */
  spinning?: boolean;
}

/** What the engine status reports for a session. */
export interface OnnxBackendInfo {
  backend: 'onnxruntime';
  device: OnnxDevice;
  /** onnxruntime-node version. */
  version: string;
  /** The WebGPU adapter's description, or the cpu provider's thread count. */
  detail: string;
  /** Why webgpu was not chosen, when it was not. */
  notes: string[];
}

export type OnnxTensorType = 'float32' | 'int32' | 'int64' | 'uint8' | 'bool';
type DataOf<T extends OnnxTensorType> = T extends 'float32'
  ? Float32Array
  : T extends 'int32'
    ? Int32Array
    : T extends 'int64'
      ? BigInt64Array
      : Uint8Array;

export interface OnnxInput<T extends OnnxTensorType = OnnxTensorType> {
  type: T;
  data: DataOf<T>;
  dims: readonly number[];
}

export interface OnnxOutput {
  type: string;
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array | Float64Array;
  dims: number[];
}

export interface OnnxSession {
  readonly modelPath: string;
  readonly info: OnnxBackendInfo;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
}

interface SessionState {
  ort: typeof Ort;
  session: Ort.InferenceSession;
  key: string;
  modelPath: string;
  info: OnnxBackendInfo;
  /** Handles not yet disposed; the native session is released when the last one is. */
  refs: number;
  released: boolean;
  /** A cpu session of the same model, created the first time the webgpu session fails a run. */
  cpuFallback?: Promise<Ort.InferenceSession>;
  fallbackRuns: number;
  firstFallbackError?: string;
  createCpu: () => Promise<Ort.InferenceSession>;
}

/** What loadOnnxSession hands out: one handle per call over a shared, memoised native session. */
interface SessionHandle extends OnnxSession {
  state: SessionState;
  disposed: boolean;
}

const memo = new Map<string, Promise<SessionState>>();

/**
 * Loads an ONNX model once per path and options (concurrent and later calls share the native session;
 * a failed load is forgotten). Every call returns its own handle: dispose each; the session is released
 * when the last handle is disposed.
 */
export async function loadOnnxSession(modelPath: string, opts: OnnxSessionOptions = {}): Promise<OnnxSession> {
  const prefer = resolvePreference(opts.prefer);
  const threads = opts.intraOpNumThreads ?? defaultThreads();
  const abs = path.resolve(modelPath);
  const spinning = opts.spinning ?? false;
  const key = JSON.stringify([abs, prefer, threads, spinning]);
  let state: SessionState;
  do {
    let p = memo.get(key);
    if (!p) {
      const created = createSession(abs, key, prefer, threads, opts.webgpuTimeoutMs ?? 10_000, spinning);
      memo.set(key, created);
      created.catch(() => {
        if (memo.get(key) === created) memo.delete(key);
      });
      p = created;
    }
    state = await p;
  } while (state.released); // its last handle was disposed while we waited
  state.refs++;
  const handle: SessionHandle = {
    state,
    disposed: false,
    modelPath: state.modelPath,
    info: state.info,
    inputNames: [...state.session.inputNames],
    outputNames: [...state.session.outputNames],
  };
  return handle;
}

/**
 * A cpu session of an in-memory model (a graph built at run time, e.g. the autoencoder's training step):
 * not memoised, one handle, released by disposeOnnxSession. Same thread and spinning options as loadOnnxSession.
 */
export async function createOnnxSessionFromBytes(
  model: Uint8Array,
  label: string,
  opts: Pick<OnnxSessionOptions, 'intraOpNumThreads' | 'spinning'> = {},
): Promise<OnnxSession> {
  const ort = await loadOrt();
  const version = ort.env.versions?.node ?? ort.env.versions?.common ?? '?';
  const threads = opts.intraOpNumThreads ?? defaultThreads();
  const cpuOptions: Ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: ['cpu'],
    extra: { session: { intra_op: { allow_spinning: opts.spinning ? '1' : '0' } } },
  };
  const session = await ort.InferenceSession.create(model, cpuOptions);
  const info: OnnxBackendInfo = { backend: 'onnxruntime', device: 'cpu', version, detail: `${threads} thread${threads === 1 ? '' : 's'} (${process.arch})`, notes: [] };
  const state = wrap(ort, session, label, `bytes:${label}:${Math.random()}`, info, cpuOptions);
  state.createCpu = () => ort.InferenceSession.create(model, cpuOptions);
  state.refs = 1;
  const handle: SessionHandle = { state, disposed: false, modelPath: label, info, inputNames: [...session.inputNames], outputNames: [...session.outputNames] };
  return handle;
}

/** Runs a session; outputs are plain typed arrays with their dims (onnxruntime's tensors are disposed, the arrays kept). */
export async function runOnnx(
  session: OnnxSession,
  feeds: Record<string, OnnxInput>,
  fetches?: readonly string[],
): Promise<Record<string, OnnxOutput>> {
  const h = handle(session);
  if (h.disposed) throw new Error(`ONNX session for ${h.modelPath} was disposed`);
  const s = h.state;
  const inputs: Record<string, Ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) inputs[name] = new s.ort.Tensor(t.type, t.data, t.dims);
  const run = (sess: Ort.InferenceSession) => (fetches ? sess.run(inputs, [...fetches]) : sess.run(inputs));
  const out = await runWithCpuFallback(s, run);
  const result: Record<string, OnnxOutput> = {};
  for (const [name, t] of Object.entries(out)) {
    result[name] = { type: t.type, data: t.data as OnnxOutput['data'], dims: [...t.dims] };
    t.dispose?.();
  }
  return result;
}

/**
 * Runs on the session's provider; when that is webgpu and the run fails, runs the same inputs on a cpu
 * session of the model. Why: onnxruntime's webgpu provider rejects shapes the cpu provider takes, e.g. the
 * detector's mask-head convolution over zero detections ("Invalid dispatch group size (4, 7, 0)", measured
 * with onnxruntime-node 1.30 on an H200), so a blank image would fail where cpu returns no cells. The
 * first fallback is noted in the session's info (engine status); later ones are counted there.
 */
export async function runWithCpuFallback<T>(
  s: Pick<SessionState, 'session' | 'info' | 'cpuFallback' | 'fallbackRuns' | 'firstFallbackError' | 'createCpu'>,
  run: (session: Ort.InferenceSession) => Promise<T>,
): Promise<T> {
  try {
    return await run(s.session);
  } catch (err) {
    if (s.info.device !== 'webgpu') throw err;
    if (!s.cpuFallback) {
      s.cpuFallback = s.createCpu();
      s.cpuFallback.catch(() => (s.cpuFallback = undefined));
    }
    const cpu = await s.cpuFallback;
    const result = await run(cpu);
    s.fallbackRuns++;
    s.firstFallbackError ??= errorMessage(err).slice(0, 160);
    const text = `webgpu run failed ${s.fallbackRuns} time(s); those inputs ran on the cpu provider (first error: ${s.firstFallbackError})`;
    const i = s.info.notes.findIndex((n) => n.startsWith('webgpu run failed'));
    if (i < 0) s.info.notes.push(text);
    else s.info.notes[i] = text;
    return result;
  }
}

/** Disposes a handle; the last handle of a session releases its native memory (a later load creates a new one). */
export async function disposeOnnxSession(session: OnnxSession): Promise<void> {
  const h = handle(session);
  if (h.disposed) return;
  h.disposed = true;
  const s = h.state;
  if (--s.refs > 0) return;
  s.released = true;
  memo.delete(s.key);
  await s.session.release();
  if (s.cpuFallback) await (await s.cpuFallback.catch(() => null))?.release();
}

/** The onnxruntime-node version, loading the package if needed. */
export async function onnxRuntimeVersion(): Promise<string> {
  const ort = await loadOrt();
  return ort.env.versions?.node ?? ort.env.versions?.common ?? '?';
}

function handle(session: OnnxSession): SessionHandle {
  const h = session as SessionHandle;
  if (!h.state?.session) throw new Error('not a session returned by loadOnnxSession');
  return h;
}

function defaultThreads(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

function resolvePreference(prefer: OnnxPreference | undefined): OnnxPreference {
  if (prefer && prefer !== 'auto') return prefer;
  const env = (process.env.LEUKOGRAPH_ONNX_DEVICE ?? '').trim().toLowerCase();
  if (!env || env === 'auto') return 'auto';
  if (env !== 'webgpu' && env !== 'cpu') throw new Error(`LEUKOGRAPH_ONNX_DEVICE=${env}: expected webgpu, cpu or auto`);
  return env;
}

let ortPromise: Promise<typeof Ort> | null = null;
function loadOrt(): Promise<typeof Ort> {
  if (!ortPromise) {
    ortPromise = import('onnxruntime-node').then((m) => ((m as unknown as { default?: typeof Ort }).default ?? m) as typeof Ort);
    ortPromise.catch(() => (ortPromise = null));
  }
  return ortPromise;
}

async function createSession(
  modelPath: string,
  key: string,
  prefer: OnnxPreference,
  threads: number,
  webgpuTimeoutMs: number,
  spinning: boolean,
): Promise<SessionState> {
  const ort = await loadOrt();
  const version = ort.env.versions?.node ?? ort.env.versions?.common ?? '?';
  const notes: string[] = [];
  // No spinning in the intra-op pool by default: the engine shares its cores with PostgreSQL, the API and
  // the encoder, and spinning threads burn them between parallel sections. Measured with
  // bench/detector/ort-spinning.ts on the 2-core machine (the detector, 2 threads): idle, wall 110 ms
  // either way and CPU 217 -> 199 ms per run; with `yes` holding one core, wall 219 -> 183 ms and CPU
  // 277 -> 226 ms.
  const base: Ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: spinning ? '1' : '0' } } },
  };
  // Also the fallback session of a webgpu session (runWithCpuFallback).
  const cpuOptions = { ...base, executionProviders: ['cpu'] };
  if (prefer !== 'cpu') {
    const adapter = await probeWebgpu(prefer === 'webgpu', webgpuTimeoutMs);
    if (adapter.ok) {
      try {
        const session = await ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['webgpu'] });
        return wrap(ort, session, modelPath, key, { backend: 'onnxruntime', device: 'webgpu', version, detail: adapter.description, notes }, cpuOptions);
      } catch (err) {
        notes.push(`webgpu: session failed: ${errorMessage(err)}`);
      }
    } else notes.push(`webgpu: ${adapter.reason}`);
  }
  const session = await ort.InferenceSession.create(modelPath, cpuOptions);
  return wrap(ort, session, modelPath, key, { backend: 'onnxruntime', device: 'cpu', version, detail: `${threads} thread${threads === 1 ? '' : 's'} (${process.arch})`, notes }, cpuOptions);
}

function wrap(ort: typeof Ort, session: Ort.InferenceSession, modelPath: string, key: string, info: OnnxBackendInfo, cpuOptions: Ort.InferenceSession.SessionOptions): SessionState {
  return { ort, session, key, modelPath, info, refs: 0, released: false, fallbackRuns: 0, createCpu: () => ort.InferenceSession.create(modelPath, cpuOptions) };
}
