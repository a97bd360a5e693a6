/**
 * Convolution as implicit GEMM in WGSL for tfjs-backend-webgpu (issue 23): the forward convolution with
 * its bias and activation fused into the GEMM's epilogue, and both gradients (input, filter), each one
 * tiled matrix product whose operands are read straight from the NHWC / HWIO tensors (no im2col buffer).
 *
 *   forward          C[M = N*OH*OW, N = Cout] = A[M, K = KH*KW*Cin] (x patches)   x B[K, N] (W, HWIO)
 *   backprop input   C[M = N*H*W,   N = Cin]  = A[M, K = KH*KW*Cout] (dy taps)    x B[K, N] (W, transposed)
 *   backprop filter  C[M = KH*KW*Cin, N = Cout] = A[M, K = N*OH*OW] (x patches^T) x B[K, N] (dy)
 *
 * One workgroup computes a (TY*RM) x (TX*RN) tile of C, each invocation RM x RN of it; A and B tiles of
 * depth TK go through workgroup memory. Conv2DBackpropInput is also tfjs's conv2dTranspose, i.e. the
 * autoencoder's decoders: on webgpu tfjs ran transposed convolutions at 0.8 TFLOP/s against 11.6 for its
 * matmul (shared/docs/gpu.md), which is what these kernels are for.
 *
 * The WGSL is checked without a GPU: webgpu-conv.test.ts runs the same user code (the `convGemm`
 * function below, verbatim) through a CPU WGSL interpreter (wgsl_reflect, invocations in lockstep so that
 * workgroupBarrier holds) and compares with tfjs's cpu kernels on random shapes. Speed on a GPU: not
 * measured (no GPU was available while this was written).
 *
 * registerWebgpuConvKernels() replaces Conv2D, FusedConv2D, Conv2DBackpropInput and Conv2DBackpropFilter
 * on the webgpu backend (tfjs.ts calls it when webgpu starts; LEUKOGRAPH_WEBGPU_CONV=tfjs keeps tfjs's own);
 * cases these kernels do not cover (NCHW, prelu, grouped/depthwise) go to the original kernel.
 */
import type { KernelConfig, KernelFunc, NamedTensorMap, Tf, TensorInfo } from './types.js';

export type ConvGemmKind = 'forward' | 'backpropInput' | 'backpropFilter';
export type FusedActivation = 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'elu' | 'leakyrelu';

/** Geometry of one convolution (tfjs's Conv2DInfo, NHWC, HWIO filter). */
export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  dilH: number;
  dilW: number;
  padTop: number;
  padLeft: number;
}

/** Workgroup tiling: TX x TY invocations, each RM x RN outputs; K in steps of TK. */
export interface GemmTiling {
  tx: number;
  ty: number;
  rm: number;
  rn: number;
  tk: number;
}

/** The GPU default: 16 x 16 invocations, 4 x 4 outputs each (a 64 x 64 tile), K steps of 16. */
export const DEFAULT_TILING: GemmTiling = { tx: 16, ty: 16, rm: 4, rn: 4, tk: 16 };

/** Uniform fields, in declaration order (all i32 but alpha). */
export const UNIFORM_FIELDS = ['g_batch', 'g_inH', 'g_inW', 'g_inC', 'g_outH', 'g_outW', 'g_outC', 'g_kH', 'g_kW', 'g_strideH', 'g_strideW', 'g_dilH', 'g_dilW', 'g_padTop', 'g_padLeft', 'g_M', 'g_N', 'g_K'] as const;

export function gemmDims(kind: ConvGemmKind, g: ConvGeometry): { M: number; N: number; K: number } {
  if (kind === 'forward') return { M: g.batch * g.outH * g.outW, N: g.outC, K: g.kH * g.kW * g.inC };
  if (kind === 'backpropInput') return { M: g.batch * g.inH * g.inW, N: g.inC, K: g.kH * g.kW * g.outC };
  return { M: g.kH * g.kW * g.inC, N: g.outC, K: g.batch * g.outH * g.outW };
}

/** Values for UNIFORM_FIELDS (then alpha). */
export function uniformValues(kind: ConvGemmKind, g: ConvGeometry): number[] {
  const d = gemmDims(kind, g);
  return [g.batch, g.inH, g.inW, g.inC, g.outH, g.outW, g.outC, g.kH, g.kW, g.strideH, g.strideW, g.dilH, g.dilW, g.padTop, g.padLeft, d.M, d.N, d.K];
}

/** Input bindings of each kind, in order (the backend binds them as `array<f32>` under these names). */
export function inputNames(kind: ConvGemmKind, hasBias: boolean): string[] {
  if (kind === 'forward') return hasBias ? ['x', 'W', 'bias'] : ['x', 'W'];
  if (kind === 'backpropInput') return ['dy', 'W'];
  return ['x', 'dy'];
}

function activationSnippet(a: FusedActivation): string {
  switch (a) {
    case 'linear':
      return 'v';
    case 'relu':
      return 'max(v, 0.0)';
    case 'relu6':
      return 'clamp(v, 0.0, 6.0)';
    case 'sigmoid':
      return '1.0 / (1.0 + exp(-v))';
    case 'elu':
      return 'select(exp(v) - 1.0, v, v >= 0.0)';
    case 'leakyrelu':
      return 'select(uniforms.alpha * v, v, v >= 0.0)';
  }
}

/**
 * The A operand of C = A x B for each kind, read from the tensors (0 outside them): WGSL statements that
 * set \`val\` for row m, column k. Inline (no helper function): the same code runs in the CPU interpreter
 * of the tests, whose lockstep mode shares a called function's locals between invocations.
 */
function readA(kind: ConvGemmKind): string {
  const u = 'uniforms';
  if (kind === 'forward') {
    return `if (m < ${u}.g_M && k < ${u}.g_K) {
        let ox = m % ${u}.g_outW;
        let oy = (m / ${u}.g_outW) % ${u}.g_outH;
        let b = (m / ${u}.g_outW) / ${u}.g_outH;
        let ci = k % ${u}.g_inC;
        let kx = (k / ${u}.g_inC) % ${u}.g_kW;
        let ky = (k / ${u}.g_inC) / ${u}.g_kW;
        let iy = oy * ${u}.g_strideH - ${u}.g_padTop + ky * ${u}.g_dilH;
        let ix = ox * ${u}.g_strideW - ${u}.g_padLeft + kx * ${u}.g_dilW;
        if (iy >= 0 && iy < ${u}.g_inH && ix >= 0 && ix < ${u}.g_inW) {
          val = x[((b * ${u}.g_inH + iy) * ${u}.g_inW + ix) * ${u}.g_inC + ci];
        }
      }`;
  }
  if (kind === 'backpropInput') {
    return `if (m < ${u}.g_M && k < ${u}.g_K) {
        let ix = m % ${u}.g_inW;
        let iy = (m / ${u}.g_inW) % ${u}.g_inH;
        let b = (m / ${u}.g_inW) / ${u}.g_inH;
        let co = k % ${u}.g_outC;
        let kx = (k / ${u}.g_outC) % ${u}.g_kW;
        let ky = (k / ${u}.g_outC) / ${u}.g_kW;
        let ty = iy + ${u}.g_padTop - ky * ${u}.g_dilH;
        let tx = ix + ${u}.g_padLeft - kx * ${u}.g_dilW;
        if (ty >= 0 && tx >= 0) {
          if (ty % ${u}.g_strideH == 0 && tx % ${u}.g_strideW == 0) {
            let oy = ty / ${u}.g_strideH;
            let ox = tx / ${u}.g_strideW;
            if (oy < ${u}.g_outH && ox < ${u}.g_outW) {
              val = dy[((b * ${u}.g_outH + oy) * ${u}.g_outW + ox) * ${u}.g_outC + co];
            }
          }
        }
      }`;
  }
  return `if (m < ${u}.g_M && k < ${u}.g_K) {
        let ci = m % ${u}.g_inC;
        let kx = (m / ${u}.g_inC) % ${u}.g_kW;
        let ky = (m / ${u}.g_inC) / ${u}.g_kW;
        let ox = k % ${u}.g_outW;
        let oy = (k / ${u}.g_outW) % ${u}.g_outH;
        let b = (k / ${u}.g_outW) / ${u}.g_outH;
        let iy = oy * ${u}.g_strideH - ${u}.g_padTop + ky * ${u}.g_dilH;
        let ix = ox * ${u}.g_strideW - ${u}.g_padLeft + kx * ${u}.g_dilW;
        if (iy >= 0 && iy < ${u}.g_inH && ix >= 0 && ix < ${u}.g_inW) {
          val = x[((b * ${u}.g_inH + iy) * ${u}.g_inW + ix) * ${u}.g_inC + ci];
        }
      }`;
}

/** The B operand: statements that set \`val\` for row k, column n. */
function readB(kind: ConvGemmKind): string {
  const u = 'uniforms';
  if (kind === 'forward') return `if (k < ${u}.g_K && n < ${u}.g_N) { val = W[k * ${u}.g_N + n]; }`;
  // k = (ky, kx, co), n = ci: W[ky, kx, ci, co].
  if (kind === 'backpropInput') return `if (k < ${u}.g_K && n < ${u}.g_N) { val = W[((k / ${u}.g_outC) * ${u}.g_inC + n) * ${u}.g_outC + k % ${u}.g_outC]; }`;
  return `if (k < ${u}.g_K && n < ${u}.g_N) { val = dy[k * ${u}.g_N + n]; }`;
}

/**
 * The WGSL user code of one kernel: the tiled GEMM `convGemm(localId, workgroupId, localIndex)` with
 * the operand reads inline, and the backend's entry `main()` (tfjs-backend-webgpu's _start sets the builtins into its
 * private variables and calls main()).
 */
export function convGemmUserCode(kind: ConvGemmKind, t: GemmTiling, opts: { bias?: boolean; activation?: FusedActivation } = {}): string {
  const MT = t.ty * t.rm;
  const NT = t.tx * t.rn;
  const threads = t.tx * t.ty;
  const act = opts.activation ?? 'linear';
  const bias = kind === 'forward' && opts.bias ? 'v = v + bias[n];' : '';
  return `
var<workgroup> tileA : array<f32, ${MT * t.tk}>;
var<workgroup> tileB : array<f32, ${t.tk * NT}>;

fn convGemm(lid : vec3<u32>, wid : vec3<u32>, lindex : u32) {
  let tc = i32(lid.x);
  let tr = i32(lid.y);
  let li = i32(lindex);
  let m0 = i32(wid.y) * ${MT};
  let n0 = i32(wid.x) * ${NT};
  var acc : array<f32, ${t.rm * t.rn}>;
  for (var i = 0; i < ${t.rm * t.rn}; i = i + 1) { acc[i] = 0.0; }
  for (var k0 = 0; k0 < uniforms.g_K; k0 = k0 + ${t.tk}) {
    for (var e = li; e < ${MT * t.tk}; e = e + ${threads}) {
      let m = m0 + e / ${t.tk};
      let k = k0 + e % ${t.tk};
      var val = 0.0;
      ${readA(kind)}
      tileA[e] = val;
    }
    for (var e = li; e < ${t.tk * NT}; e = e + ${threads}) {
      let k = k0 + e / ${NT};
      let n = n0 + e % ${NT};
      var val = 0.0;
      ${readB(kind)}
      tileB[e] = val;
    }
    workgroupBarrier();
    for (var kk = 0; kk < ${t.tk}; kk = kk + 1) {
      for (var i = 0; i < ${t.rm}; i = i + 1) {
        let a = tileA[(tr + i * ${t.ty}) * ${t.tk} + kk];
        for (var j = 0; j < ${t.rn}; j = j + 1) {
          acc[i * ${t.rn} + j] = acc[i * ${t.rn} + j] + a * tileB[kk * ${NT} + tc + j * ${t.tx}];
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0; i < ${t.rm}; i = i + 1) {
    let m = m0 + tr + i * ${t.ty};
    for (var j = 0; j < ${t.rn}; j = j + 1) {
      let n = n0 + tc + j * ${t.tx};
      if (m < uniforms.g_M && n < uniforms.g_N) {
        var v = acc[i * ${t.rn} + j];
        ${bias}
        result[m * uniforms.g_N + n] = ${activationSnippet(act)};
      }
    }
  }
}

fn main() {
  convGemm(localId, workgroupId, localIndex);
}
`;
}

/** The `uniforms` declaration appended to the backend's Uniforms struct. */
export function uniformDeclaration(): string {
  return UNIFORM_FIELDS.map((f) => `${f} : i32, `).join('') + 'alpha : f32, ';
}

/** A tfjs-backend-webgpu program (the WebGPUProgram interface, structurally). */
export interface ConvGemmProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms: string;
  workgroupSize: [number, number, number];
  getUserCode(): string;
}

export function convGemmProgram(kind: ConvGemmKind, g: ConvGeometry, opts: { bias?: boolean; activation?: FusedActivation; tiling?: GemmTiling } = {}): ConvGemmProgram {
  const t = opts.tiling ?? DEFAULT_TILING;
  const d = gemmDims(kind, g);
  const outputShape = kind === 'forward' ? [g.batch, g.outH, g.outW, g.outC] : kind === 'backpropInput' ? [g.batch, g.inH, g.inW, g.inC] : [g.kH, g.kW, g.inC, g.outC];
  const act = opts.activation ?? 'linear';
  const hasBias = kind === 'forward' && !!opts.bias;
  return {
    outputShape,
    shaderKey: `lgConvGemm_${kind}_${act}_${hasBias ? 'b' : 'nb'}_${t.tx}_${t.ty}_${t.rm}_${t.rn}_${t.tk}`,
    // Not flat (y is set): the backend's _start calls main() without an index.
    dispatchLayout: { x: [3], y: [0, 1, 2] },
    dispatch: [Math.ceil(d.N / (t.tx * t.rn)), Math.ceil(d.M / (t.ty * t.rm)), 1],
    variableNames: inputNames(kind, hasBias),
    uniforms: uniformDeclaration(),
    workgroupSize: [t.tx, t.ty, 1],
    getUserCode: () => convGemmUserCode(kind, t, { bias: hasBias, activation: act }),
  };
}

// ---------------------------------------------------------------------------------------------------
// Kernels for the webgpu backend

interface ConvInfoLike {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padInfo: { top: number; left: number };
  dataFormat: string;
}

export function geometryOf(c: ConvInfoLike): ConvGeometry {
  return {
    batch: c.batchSize, inH: c.inHeight, inW: c.inWidth, inC: c.inChannels, outH: c.outHeight, outW: c.outWidth, outC: c.outChannels,
    kH: c.filterHeight, kW: c.filterWidth, strideH: c.strideHeight, strideW: c.strideWidth, dilH: c.dilationHeight, dilW: c.dilationWidth,
    padTop: c.padInfo.top, padLeft: c.padInfo.left,
  };
}

interface WebgpuBackendLike {
  runWebGPUProgram(program: ConvGemmProgram, inputs: TensorInfo[], dtype: 'float32', uniforms?: Array<{ type: string; data: number[] }>): TensorInfo;
}

const ACTIVATIONS = new Set<string>(['linear', 'relu', 'relu6', 'sigmoid', 'elu', 'leakyrelu']);

function run(backend: WebgpuBackendLike, kind: ConvGemmKind, g: ConvGeometry, inputs: TensorInfo[], opts: { bias?: boolean; activation?: FusedActivation; alpha?: number; tiling?: GemmTiling } = {}): TensorInfo {
  const program = convGemmProgram(kind, g, opts);
  // One entry per declared scalar field: the backend lays uniforms out by entry (a vector per entry, at most
  // 6 long), after its own NAN, INFINITY, shapes and strides (backend_webgpu.js makeUniforms).
  const uniforms = [...uniformValues(kind, g).map((v) => ({ type: 'int32', data: [v] })), { type: 'float32', data: [opts.alpha ?? 0.2] }];
  return backend.runWebGPUProgram(program, inputs, 'float32', uniforms);
}

/**
 * Replaces the webgpu backend's convolution kernels with the implicit-GEMM ones; the originals stay the
 * fallback for what these do not cover (tiling: DEFAULT_TILING; tests pass a smaller one for the
 * interpreter). Returns the kernels replaced. Call once the webgpu backend is
 * registered (its kernels are registered at import).
 */
export function registerWebgpuConvKernels(tf: Tf, opts: { tiling?: GemmTiling } = {}): string[] {
  const tiling = opts.tiling ?? DEFAULT_TILING;
  if ((process.env.LEUKOGRAPH_WEBGPU_CONV ?? '').trim().toLowerCase() === 'tfjs') return [];
  const bu = tf.backend_util;
  const replaced: string[] = [];
  const replace = (name: string, make: (orig: KernelFunc) => KernelFunc) => {
    const orig = tf.getKernel(name, 'webgpu');
    if (!orig) return;
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel({ ...orig, kernelFunc: make(orig.kernelFunc) } as KernelConfig);
    replaced.push(name);
  };
  type Args = { inputs: NamedTensorMap; backend: WebgpuBackendLike; attrs: Record<string, any> };
  const info = (xShape: number[], fShape: number[], a: Record<string, any>) =>
    bu.computeConv2DInfo(xShape as [number, number, number, number], fShape as [number, number, number, number], a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, false, bu.convertConv2DDataFormat(a.dataFormat ?? 'NHWC'));
  replace('Conv2D', (orig) => ((args: Args) => {
    const { x, filter } = args.inputs as Record<string, TensorInfo>;
    const c = info(x!.shape, filter!.shape, args.attrs);
    if (c.dataFormat !== 'channelsLast') return orig(args as never);
    return run(args.backend, 'forward', geometryOf(c), [x!, filter!], { tiling });
  }) as unknown as KernelFunc);
  replace('FusedConv2D', (orig) => ((args: Args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
    const act = (args.attrs.activation ?? 'linear') as string;
    const c = info(x!.shape, filter!.shape, args.attrs);
    // A bias other than one value per output channel (broadcast shapes) goes to tfjs's kernel.
    const biasPerChannel = !bias || bias.shape.reduce((p, v) => p * v, 1) === c.outChannels;
    if (c.dataFormat !== 'channelsLast' || preluActivationWeights || !ACTIVATIONS.has(act) || !biasPerChannel) return orig(args as never);
    return run(args.backend, 'forward', geometryOf(c), bias ? [x!, filter!, bias] : [x!, filter!], { bias: !!bias, activation: act as FusedActivation, alpha: args.attrs.leakyreluAlpha, tiling });
  }) as unknown as KernelFunc);
  replace('Conv2DBackpropInput', (orig) => ((args: Args) => {
    const { dy, filter } = args.inputs as Record<string, TensorInfo>;
    const a = args.attrs;
    const c = bu.computeConv2DInfo(a.inputShape, filter!.shape as [number, number, number, number], a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, false, bu.convertConv2DDataFormat(a.dataFormat ?? 'NHWC'));
    if (c.dataFormat !== 'channelsLast') return orig(args as never);
    return run(args.backend, 'backpropInput', geometryOf(c), [dy!, filter!], { tiling });
  }) as unknown as KernelFunc);
  replace('Conv2DBackpropFilter', (orig) => ((args: Args) => {
    const { x, dy } = args.inputs as Record<string, TensorInfo>;
    const a = args.attrs;
    const c = bu.computeConv2DInfo(x!.shape as [number, number, number, number], a.filterShape, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, false, bu.convertConv2DDataFormat(a.dataFormat ?? 'NHWC'));
    if (c.dataFormat !== 'channelsLast') return orig(args as never);
    return run(args.backend, 'backpropFilter', geometryOf(c), [x!, dy!], { tiling });
  }) as unknown as KernelFunc);
  return replaced;
}
