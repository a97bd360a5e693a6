// TensorFlow.js's types as the backend and its kernels name them (types only: the kernels read them from
// here, so that they need not import tfjs.ts, which imports them).
import type * as TfNamespace from '@tensorflow/tfjs';

/** The TensorFlow.js namespace object (type only). */
export type Tf = typeof TfNamespace;
export type {
  Tensor,
  Tensor1D,
  Tensor2D,
  Tensor3D,
  Tensor4D,
  Scalar,
  Variable,
  Rank,
  TensorInfo,
  KernelConfig,
  KernelFunc,
  NamedTensorMap,
} from '@tensorflow/tfjs';
