/**
 * Kernels the autoencoder's training needs, and the ones leukograph supplies or replaces:
 *
 *  - Conv2DBackpropFilter (missing on wasm): ./conv2d-backprop-filter.ts
 *  - Conv2DBackpropInput  (wasm's is a plain loop): ./conv2d-backprop-input.ts, via XNNPACK's Conv2D
 *  - BatchMatMul          (wasm is slow on transposed operands): ./batch-matmul.ts
 *
 * Replacements keep the original's setupFunc, so patching before or after the backend initialises works.
 */
import type { KernelConfig, Tf } from './types.js';
import { batchMatMulUntransposed } from './batch-matmul.js';
import { CONV2D_BACKPROP_FILTER, conv2dBackpropFilterViaConv2D } from './conv2d-backprop-filter.js';
import { CONV2D_BACKPROP_INPUT, conv2dBackpropInputViaConv2D } from './conv2d-backprop-input.js';

/**
 * Every kernel the autoencoder's forward and backward passes dispatch (conv/convT layers, GroupNorm as
 * ops, SSIM as matmuls, the alignment term, Adam). Checked at init so a missing one shows in the status.
 */
export const TRAINING_KERNELS = [
  'Conv2D',
  'FusedConv2D',
  'Conv2DBackpropInput',
  'Conv2DBackpropFilter',
  'BatchMatMul',
  'Transpose',
  'Reshape',
  'Slice',
  'Concat',
  'Pack',
  'Unpack',
  'PadV2',
  'Fill',
  'Cast',
  'Identity',
  'Add',
  'AddN',
  'Sub',
  'Multiply',
  'RealDiv',
  'Square',
  'SquaredDifference',
  'Sqrt',
  'Rsqrt',
  'Pow',
  'Exp',
  'Log',
  'Neg',
  'Relu',
  'Step',
  'Tanh',
  'Sigmoid',
  'Max',
  'Mean',
  'Sum',
  'Tile',
] as const;

/** Options for testing: which patches to apply (all by default). */
export interface PatchOptions {
  replaceBackpropInput?: boolean;
  replaceBatchMatMul?: boolean;
}

const replaced = new Map<string, KernelConfig>();
const ourKernels = new WeakSet<object>();

function replace(tf: Tf, cfg: KernelConfig): void {
  const orig = tf.getKernel(cfg.kernelName, cfg.backendName);
  if (orig) {
    replaced.set(`${cfg.backendName}/${cfg.kernelName}`, orig);
    tf.unregisterKernel(cfg.kernelName, cfg.backendName);
    if (orig.setupFunc) cfg = { ...cfg, setupFunc: orig.setupFunc };
    if (orig.disposeFunc) cfg = { ...cfg, disposeFunc: orig.disposeFunc };
  }
  tf.registerKernel(cfg);
}

/**
 * Register the kernels `backendName` lacks (built from its own kernels) and, on wasm, replace the slow
 * ones. Idempotent. Returns the names of the kernels that now run our code (added or replaced).
 */
export function patchTrainingKernels(tf: Tf, backendName: string, opts: PatchOptions = {}): string[] {
  const patched: string[] = [];
  const ours = (k: string) => ourKernels.has(tf.getKernel(k, backendName)?.kernelFunc as object);
  if (!tf.getKernel(CONV2D_BACKPROP_FILTER, backendName)) {
    const cfg = conv2dBackpropFilterViaConv2D(tf, backendName);
    ourKernels.add(cfg.kernelFunc);
    tf.registerKernel(cfg);
  }
  if (ours(CONV2D_BACKPROP_FILTER)) patched.push(CONV2D_BACKPROP_FILTER);
  if (backendName === 'wasm') {
    if ((opts.replaceBackpropInput ?? true) && !ours(CONV2D_BACKPROP_INPUT)) {
      const orig = tf.getKernel(CONV2D_BACKPROP_INPUT, backendName);
      const cfg = conv2dBackpropInputViaConv2D(tf, backendName, orig?.kernelFunc);
      ourKernels.add(cfg.kernelFunc);
      replace(tf, cfg);
    }
    if ((opts.replaceBatchMatMul ?? true) && !ours('BatchMatMul')) {
      const orig = tf.getKernel('BatchMatMul', backendName);
      if (orig) {
        const cfg = batchMatMulUntransposed(tf, backendName, orig.kernelFunc);
        ourKernels.add(cfg.kernelFunc);
        replace(tf, cfg);
      }
    }
    if (ours(CONV2D_BACKPROP_INPUT)) patched.push(CONV2D_BACKPROP_INPUT);
    if (ours('BatchMatMul')) patched.push('BatchMatMul');
  }
  return patched;
}

/** Put back a kernel replaced by patchTrainingKernels (tests compare against the original). */
export function restoreOriginalKernel(tf: Tf, backendName: string, kernelName: string): boolean {
  const orig = replaced.get(`${backendName}/${kernelName}`);
  if (!orig) return false;
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel(orig);
  replaced.delete(`${backendName}/${kernelName}`);
  return true;
}

/** Training kernels still missing on `backendName` (after patching). */
export function missingTrainingKernels(tf: Tf, backendName: string): string[] {
  return TRAINING_KERNELS.filter((k) => !tf.getKernel(k, backendName));
}
