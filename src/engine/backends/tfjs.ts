/**
 * The TensorFlow.js backend module: the ONLY module of leukograph that imports TensorFlow.js.
 *
 * Nothing happens at import time: `initTfjs()` loads TensorFlow.js lazily (dynamic imports), picks a
 * backend and memoises the result. Order for `prefer: 'auto'` (the default):
 *
 *   1. `tensorflow`  - @tensorflow/tfjs-node-gpu, then @tensorflow/tfjs-node, when the user installed one
 *                      (they are not dependencies of leukograph: they cannot install everywhere);
 *   2. `webgpu`      - @tensorflow/tfjs-backend-webgpu over the npm `webgpu` package (Dawn), only when a
 *                      hardware adapter exists (a CPU/software adapter is skipped unless asked for);
 *   3. `wasm`        - @tensorflow/tfjs-backend-wasm (XNNPACK, SIMD, one thread in Node) plus the kernels
 *                      it lacks for training, registered by us (see ./tfjs/);
 *   4. `cpu`         - the pure-JavaScript reference backend (slow; last resort).
 *
 * The environment variable LEUKOGRAPH_TFJS_BACKEND (tensorflow|webgpu|wasm|cpu|auto) replaces 'auto'.
 * A failed `initTfjs` is evicted from the memo, so a later call tries again.
 *
 * Other engine modules get the `tf` namespace through the returned runtime (typed by the type-only
 * re-exports below, which add no runtime import); only the autoencoder module uses it.
 */
import { probeWebgpu, errorMessage } from './webgpu.js';
import { createRequire } from 'node:module';
import path from 'node:path';
import { missingTrainingKernels, patchTrainingKernels } from './tfjs/kernels.js';
import { registerWebgpuConvKernels } from './tfjs/webgpu-conv.js';
import type { Tf } from './tfjs/types.js';

export type { Tf, Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Scalar, Variable, Rank, TensorInfo, KernelConfig, KernelFunc, NamedTensorMap } from './tfjs/types.js';

export type TfjsBackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export type TfjsPreference = TfjsBackendName | 'auto';

export interface TfjsInitOptions {
  /** Backend to use; 'auto' (default) walks tensorflow > webgpu > wasm > cpu. An explicit choice that
   *  cannot start falls back along the same order (and says so in `notes`) unless `strict` is set. */
  prefer?: TfjsPreference;
  /** Fail instead of falling back when `prefer` names a backend that cannot start. */
  strict?: boolean;
  /** Use a software (CPU) WebGPU adapter too (default: only when prefer === 'webgpu'). */
  allowSoftwareWebgpu?: boolean;
  /** Milliseconds to wait for a WebGPU adapter (default 10 000). */
  webgpuTimeoutMs?: number;
}

export interface TfjsRuntime {
  /** The TensorFlow.js namespace (from @tensorflow/tfjs, or from tfjs-node(-gpu) when that runs). */
  tf: Tf;
  backend: TfjsBackendName;
  /** Human-readable device, e.g. "wasm simd, 1 thread (x64 CPU)" or the WebGPU adapter's description. */
  device: string;
  /** TensorFlow.js version (tfjs-core). */
  version: string;
  /** Kernels that leukograph registered because the backend lacked them. */
  kernelsPatched: string[];
  /** Why other backends were not chosen (for the engine status). */
  notes: string[];
  /** Where the package came from: '@tensorflow/tfjs', '@tensorflow/tfjs-node-gpu', ... */
  package: string;
}

const ORDER: TfjsBackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];
const memo = new Map<string, Promise<TfjsRuntime>>();
const require = createRequire(import.meta.url);

/** Initialise TensorFlow.js once per preference; the returned runtime's backend is made active. */
export async function initTfjs(opts: TfjsInitOptions = {}): Promise<TfjsRuntime> {
  let prefer: TfjsPreference = opts.prefer ?? 'auto';
  if (prefer === 'auto') {
    const env = (process.env.LEUKOGRAPH_TFJS_BACKEND ?? '').trim().toLowerCase();
    if (env && env !== 'auto') {
      if (!(ORDER as string[]).includes(env)) {
        throw new Error(`LEUKOGRAPH_TFJS_BACKEND=${env}: expected one of ${ORDER.join(', ')} or auto`);
      }
      prefer = env as TfjsBackendName;
    }
  }
  const key = JSON.stringify([prefer, !!opts.strict, !!opts.allowSoftwareWebgpu]);
  let p = memo.get(key);
  if (!p) {
    p = start(prefer, opts);
    memo.set(key, p);
    p.catch(() => {
      if (memo.get(key) === p) memo.delete(key);
    });
  }
  const rt = await p;
  // Several runtimes share one global TensorFlow.js engine: re-activate this one's backend.
  if (rt.tf.getBackend() !== rt.backend) await activate(rt.tf, rt.backend);
  return rt;
}

/** Forget memoised runtimes (tests). Does not unload TensorFlow.js. */
export function resetTfjsMemo(): void {
  memo.clear();
}

/**
 * Make `backend` the active backend of an initialised runtime's engine (e.g. 'cpu' for a reference
 * computation in a test). Returns false when that backend cannot start.
 */
export async function useBackend(rt: TfjsRuntime, backend: TfjsBackendName): Promise<boolean> {
  if (backend === 'wasm') await prepareWasm(rt.tf, []);
  return activate(rt.tf, backend);
}

async function start(prefer: TfjsPreference, opts: TfjsInitOptions): Promise<TfjsRuntime> {
  const notes: string[] = [];
  const candidates: TfjsBackendName[] =
    prefer === 'auto'
      ? ORDER
      : opts.strict
        ? [prefer]
        : [prefer, ...ORDER.filter((b) => b !== prefer && ORDER.indexOf(b) > ORDER.indexOf(prefer))];
  for (const cand of candidates) {
    try {
      const rt = await tryBackend(cand, prefer, opts, notes);
      if (rt) return rt;
    } catch (err) {
      notes.push(`${cand}: ${errorMessage(err)}`);
    }
  }
  throw new Error(`TensorFlow.js: no backend could start (${notes.join('; ')})`);
}

async function tryBackend(
  backend: TfjsBackendName,
  prefer: TfjsPreference,
  opts: TfjsInitOptions,
  notes: string[],
): Promise<TfjsRuntime | null> {
  switch (backend) {
    case 'tensorflow':
      return tryTfjsNode(notes);
    case 'webgpu':
      return tryWebgpu(prefer, opts, notes);
    case 'wasm': {
      const tf = await loadTfjs();
      const patched = await prepareWasm(tf, notes);
      if (!(await activate(tf, 'wasm'))) {
        notes.push('wasm: setBackend failed');
        return null;
      }
      const missing = missingTrainingKernels(tf, 'wasm');
      if (missing.length) notes.push(`wasm: kernels missing for training: ${missing.join(', ')}`);
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      return runtime(tf, 'wasm', `wasm${simd ? ' simd' : ''}, 1 thread (${process.arch} CPU)`, patched, notes);
    }
    case 'cpu': {
      const tf = await loadTfjs();
      if (!(await activate(tf, 'cpu'))) return null;
      return runtime(tf, 'cpu', `pure JavaScript (${process.arch} CPU)`, [], notes);
    }
  }
}

function runtime(
  tf: Tf,
  backend: TfjsBackendName,
  device: string,
  kernelsPatched: string[],
  notes: string[],
  pkg = '@tensorflow/tfjs',
): TfjsRuntime {
  const version = (tf.version_core as string | undefined) ?? (tf.version as { 'tfjs-core'?: string })['tfjs-core'] ?? '?';
  return { tf, backend, device, version, kernelsPatched, notes: [...notes], package: pkg };
}

let tfjsPromise: Promise<Tf> | null = null;
/** The @tensorflow/tfjs namespace (CommonJS build in Node, loaded on first use). */
function loadTfjs(): Promise<Tf> {
  if (!tfjsPromise) {
    tfjsPromise = (import('@tensorflow/tfjs') as Promise<unknown>).then(namespaceOf);
    tfjsPromise.catch(() => (tfjsPromise = null));
  }
  return tfjsPromise;
}

function namespaceOf(mod: unknown): Tf {
  const m = mod as { default?: unknown; tensor?: unknown };
  if (typeof m.tensor === 'function') return m as unknown as Tf;
  const d = m.default as { tensor?: unknown } | undefined;
  if (d && typeof d.tensor === 'function') return d as unknown as Tf;
  throw new Error('module is not a TensorFlow.js namespace');
}

async function activate(tf: Tf, backend: TfjsBackendName): Promise<boolean> {
  if (backend === 'cpu') {
    // The cpu backend prints a "install tfjs-node" banner on its first write: consume it quietly.
    const env = tf.env();
    const wasTest = env.getBool('IS_TEST');
    env.set('IS_TEST', true);
    try {
      if (!(await tf.setBackend('cpu'))) return false;
      tf.tidy(() => tf.scalar(0));
    } finally {
      env.set('IS_TEST', wasTest);
    }
    return true;
  }
  return tf.setBackend(backend);
}

let wasmPrepared: Promise<string[]> | null = null;
/** Load the wasm backend, point it at its .wasm files, register the kernels it lacks. */
function prepareWasm(tf: Tf, notes: string[]): Promise<string[]> {
  if (!wasmPrepared) {
    wasmPrepared = (async () => {
      const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as unknown as {
        setWasmPaths?: (p: string) => void;
        default?: { setWasmPaths?: (p: string) => void };
      };
      const setWasmPaths = wasm.setWasmPaths ?? wasm.default?.setWasmPaths;
      // In Node the Emscripten loader reads the binary with fs from `prefix + name`: a directory path.
      const dir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
      try {
        setWasmPaths?.(dir);
      } catch (err) {
        notes.push(`wasm: setWasmPaths: ${errorMessage(err)}`); // already initialised: keep its paths
      }
      // The threaded build needs Web Workers created from Blob URLs, which Node lacks.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      return patchTrainingKernels(tf, 'wasm');
    })();
    wasmPrepared.catch(() => (wasmPrepared = null));
  }
  return wasmPrepared;
}

async function importOptional(spec: string): Promise<unknown | null> {
  try {
    // A variable specifier keeps TypeScript from resolving packages that are not dependencies.
    return await import(spec);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return null;
    throw err;
  }
}

async function tryTfjsNode(notes: string[]): Promise<TfjsRuntime | null> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    let mod: unknown;
    try {
      mod = await importOptional(pkg);
    } catch (err) {
      notes.push(`${pkg}: ${errorMessage(err)}`);
      continue;
    }
    if (!mod) continue;
    const tf = namespaceOf(mod);
    if (!(await tf.setBackend('tensorflow'))) {
      notes.push(`${pkg}: setBackend('tensorflow') failed`);
      continue;
    }
    const device = pkg.endsWith('-gpu') ? 'libtensorflow (CUDA GPU)' : `libtensorflow (${process.arch} CPU)`;
    return runtime(tf, 'tensorflow', device, [], notes, pkg);
  }
  notes.push('tensorflow: @tensorflow/tfjs-node(-gpu) not installed');
  return null;
}

async function tryWebgpu(prefer: TfjsPreference, opts: TfjsInitOptions, notes: string[]): Promise<TfjsRuntime | null> {
  // The probe (webgpu.ts) also exposes the adapter as navigator.gpu, where tfjs-backend-webgpu looks.
  const probe = await probeWebgpu(Boolean(opts.allowSoftwareWebgpu || prefer === 'webgpu'), opts.webgpuTimeoutMs ?? 10_000);
  if (!probe.ok) {
    notes.push(`webgpu: ${probe.reason}`);
    return null;
  }
  const tf = await loadTfjs();
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) {
    notes.push('webgpu: setBackend failed');
    return null;
  }
  const patched = await patchTrainingKernels(tf, 'webgpu');
  // The implicit-GEMM WGSL convolutions (tfjs/webgpu-conv.ts; LEUKOGRAPH_WEBGPU_CONV=tfjs keeps tfjs's own).
  patched.push(...registerWebgpuConvKernels(tf).map((k) => `${k} (implicit GEMM)`));
  return runtime(tf, 'webgpu', probe.description, patched, notes);
}
