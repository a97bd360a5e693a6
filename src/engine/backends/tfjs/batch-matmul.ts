/**
 * BatchMatMul wrapper for tfjs-backend-wasm (see batchMatMulUntransposed).
 */
import type { KernelConfig, KernelFunc, Tf, TensorInfo } from './types.js';

interface BackendLike {
  disposeData(dataId: object, force?: boolean): unknown;
}

/**
 * BatchMatMul with transposed operands transposes them explicitly first: tfjs-backend-wasm's kernel is
 * several times slower on transposed operands (its packed fast path needs them untransposed), and the
 * gradients of matMul use exactly those.
 */
export function batchMatMulUntransposed(tf: Tf, backendName: string, original: KernelFunc): KernelConfig {
  const transpose = (): KernelFunc => {
    const k = tf.getKernel('Transpose', backendName);
    if (!k) throw new Error(`BatchMatMul on ${backendName} needs the Transpose kernel`);
    return k.kernelFunc;
  };
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const at = attrs as { transposeA?: boolean; transposeB?: boolean };
    if (!at.transposeA && !at.transposeB) return original(args);
    const be = backend as BackendLike;
    const temps: TensorInfo[] = [];
    const swap = (t: TensorInfo): TensorInfo => {
      const r = t.shape.length;
      const perm = Array.from({ length: r }, (_, i) => i);
      perm[r - 2] = r - 1;
      perm[r - 1] = r - 2;
      const out = transpose()({ inputs: { x: t }, backend, attrs: { perm } }) as TensorInfo;
      temps.push(out);
      return out;
    };
    try {
      const a = at.transposeA ? swap(inputs.a as TensorInfo) : (inputs.a as TensorInfo);
      const b = at.transposeB ? swap(inputs.b as TensorInfo) : (inputs.b as TensorInfo);
      return original({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    } finally {
      for (const t of temps) be.disposeData(t.dataId);
    }
  };
  return { kernelName: 'BatchMatMul', backendName, kernelFunc };
}
