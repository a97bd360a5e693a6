// The implicit-GEMM WGSL convolution kernels (webgpu-conv.ts) against TensorFlow.js's cpu kernels, on
// random shapes, without a GPU: the kernels' WGSL user code, verbatim, runs in wgsl_reflect's CPU WGSL
// interpreter (invocations of a workgroup in lockstep, so workgroupBarrier holds, which also checks the
// shared-memory tiles for data races), inside a prelude that declares what tfjs-backend-webgpu's
// makeShader declares for it (the uniform fields, the bindings, the builtins and _start calling main()).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectRaces, WgslParser } from 'wgsl_reflect/wgsl_reflect.module.js';
import { initTfjs, useBackend, type Tensor4D } from '../tfjs.js';
import { convGemmProgram, geometryOf, uniformValues, UNIFORM_FIELDS, DEFAULT_TILING, type ConvGemmKind, type ConvGemmProgram, type FusedActivation, type GemmTiling } from './webgpu-conv.js';
import { Rng } from '../../autoencoder/rng.js';

const rt = await initTfjs({ prefer: 'cpu', strict: true });
await useBackend(rt, 'cpu');
const tf = rt.tf;

/** What makeShader (tfjs-backend-webgpu 4.22, webgpu_program.js) puts around a program's user code. */
function assemble(p: ConvGemmProgram): string {
  const bindings = p.variableNames.map((n, i) => `@group(0) @binding(${i + 1}) var<storage, read> ${n} : array<f32>;`).join('\n');
  return `
struct Uniforms { ${p.uniforms} };
@group(0) @binding(0) var<storage, read_write> result : array<f32>;
${bindings}
@group(0) @binding(${p.variableNames.length + 1}) var<uniform> uniforms : Uniforms;
var<private> localId : vec3<u32>;
var<private> localIndex : u32;
var<private> globalId : vec3<u32>;
var<private> numWorkgroups : vec3<u32>;
var<private> workgroupId : vec3<u32>;
${p.getUserCode()}
@compute @workgroup_size(${p.workgroupSize.join(', ')})
fn _start(@builtin(local_invocation_id) LocalId : vec3<u32>, @builtin(local_invocation_index) LocalIndex : u32,
          @builtin(workgroup_id) WorkgroupId : vec3<u32>) {
  convGemm(LocalId, WorkgroupId, LocalIndex);
}
`;
}

/** Runs a kernel in the interpreter; returns the output and the races found. */
function runWgsl(kind: ConvGemmKind, c: ReturnType<typeof tf.backend_util.computeConv2DInfo>, inputs: Float32Array[], opts: { bias?: boolean; activation?: FusedActivation; alpha?: number; tiling: GemmTiling }) {
  const g = geometryOf(c);
  const p = convGemmProgram(kind, g, opts);
  const out = new Float32Array(p.outputShape.reduce((a, v) => a * v, 1));
  const u = new ArrayBuffer((UNIFORM_FIELDS.length + 1) * 4);
  const dv = new DataView(u);
  uniformValues(kind, g).forEach((v, i) => dv.setInt32(i * 4, v, true));
  dv.setFloat32(UNIFORM_FIELDS.length * 4, opts.alpha ?? 0.2, true);
  const group: Record<number, unknown> = { 0: out };
  inputs.forEach((a, i) => (group[i + 1] = a));
  group[inputs.length + 1] = new Uint8Array(u);
  const r = detectRaces(assemble(p), '_start', p.dispatch, { 0: group });
  assert.deepEqual(r.errors, [], `${kind}: interpreter errors`);
  assert.deepEqual(r.races, [], `${kind}: data races`);
  return out;
}

function maxRelErr(got: Float32Array, want: Float32Array): number {
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  let e = 0;
  for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i]! - want[i]!));
  return e / Math.max(scale, 1e-6);
}

interface Case { n: number; h: number; w: number; ci: number; co: number; k: number; s: number; d: number; pad: 'same' | 'valid' | number }

function randomCases(count: number, seed: number): Case[] {
  const rng = new Rng(seed);
  const pick = <T,>(xs: T[]) => xs[Math.floor(rng.next() * xs.length) % xs.length]!;
  return Array.from({ length: count }, () => {
    const k = pick([1, 2, 3]);
    const d = k > 1 && rng.next() < 0.25 ? 2 : 1;
    return { n: pick([1, 2]), h: pick([3, 5, 6, 7]), w: pick([4, 5, 8]), ci: pick([1, 3, 4, 5]), co: pick([1, 2, 5, 6]), k, s: d > 1 ? 1 : pick([1, 2]), d, pad: pick(['same', 'valid', 1] as const) };
  });
}

const SMALL: GemmTiling = { tx: 4, ty: 4, rm: 2, rn: 2, tk: 4 };
const rnd = (rng: Rng, n: number) => rng.uniform(new Float32Array(n), 1);

test('forward with fused bias and activation, and both gradients, against the cpu kernels on random shapes', () => {
  const rng = new Rng(2323);
  const acts: FusedActivation[] = ['linear', 'relu', 'sigmoid', 'leakyrelu', 'elu', 'relu6'];
  const cases = randomCases(16, 7);
  let worst = { forward: 0, backpropInput: 0, backpropFilter: 0 };
  cases.forEach((cs, idx) => {
    const xShape: [number, number, number, number] = [cs.n, cs.h, cs.w, cs.ci];
    const fShape: [number, number, number, number] = [cs.k, cs.k, cs.ci, cs.co];
    const c = tf.backend_util.computeConv2DInfo(xShape, fShape, cs.s, cs.d, cs.pad, undefined, false, 'channelsLast');
    if (c.outHeight < 1 || c.outWidth < 1) return;
    const xv = rnd(rng, xShape.reduce((a, b) => a * b));
    const wv = rnd(rng, fShape.reduce((a, b) => a * b));
    const bv = rnd(rng, cs.co);
    const dyv = rnd(rng, cs.n * c.outHeight * c.outWidth * cs.co);
    const act = acts[idx % acts.length]!;
    const x = tf.tensor4d(xv, xShape);
    const w = tf.tensor4d(wv, fShape);
    const dy = tf.tensor4d(dyv, [cs.n, c.outHeight, c.outWidth, cs.co]);
    // The cpu backend's kernels: forward (fused), and the two gradients of sum(conv(x, w) * dy).
    const yRef = tf.fused.conv2d({ x, filter: w, strides: cs.s, pad: cs.pad, dilations: cs.d, bias: tf.tensor1d(bv), activation: act, leakyreluAlpha: 0.2 }).dataSync() as Float32Array;
    const y = runWgsl('forward', c, [xv, wv, bv], { bias: true, activation: act, alpha: 0.2, tiling: SMALL });
    const e1 = maxRelErr(y, yRef);
    let e2 = 0;
    let e3 = 0;
    // tfjs has no gradients for dilated convolutions to compare with: forward only for those.
    if (cs.d === 1) {
      const [gx, gw] = tf.grads((a, b) => tf.sum(tf.mul(tf.conv2d(a as Tensor4D, b as Tensor4D, cs.s, cs.pad, 'NHWC', cs.d), dy)))([x, w]);
      const dx = runWgsl('backpropInput', c, [dyv, wv], { tiling: SMALL });
      const dw = runWgsl('backpropFilter', c, [xv, dyv], { tiling: SMALL });
      e2 = maxRelErr(dx, gx!.dataSync() as Float32Array);
      e3 = maxRelErr(dw, gw!.dataSync() as Float32Array);
      tf.dispose([gx!, gw!]);
    }
    worst = { forward: Math.max(worst.forward, e1), backpropInput: Math.max(worst.backpropInput, e2), backpropFilter: Math.max(worst.backpropFilter, e3) };
    const what = `case ${idx} ${JSON.stringify(cs)} ${act}`;
    assert.ok(e1 < 1e-5, `${what}: forward ${e1}`);
    assert.ok(e2 < 1e-4, `${what}: input gradient ${e2}`);
    assert.ok(e3 < 1e-4, `${what}: filter gradient ${e3}`);
    tf.dispose([x, w, dy]);
  });
  console.log(`largest error relative to the largest value, ${cases.length} random shapes: ${JSON.stringify(worst)}`);
});

test('another tiling over partial tiles (8x8 invocations, 2x4 outputs each, K steps of 8); the GPU default parses', () => {
  const rng = new Rng(99);
  const xShape: [number, number, number, number] = [1, 9, 10, 3];
  const fShape: [number, number, number, number] = [3, 3, 3, 5];
  const c = tf.backend_util.computeConv2DInfo(xShape, fShape, 2, 1, 'same', undefined, false, 'channelsLast');
  const xv = rnd(rng, 270);
  const wv = rnd(rng, 135);
  const x = tf.tensor4d(xv, xShape);
  const w = tf.tensor4d(wv, fShape);
  const yRef = tf.conv2d(x, w, 2, 'same').dataSync() as Float32Array;
  const y = runWgsl('forward', c, [xv, wv], { tiling: { tx: 8, ty: 8, rm: 2, rn: 4, tk: 8 } });
  assert.ok(maxRelErr(y, yRef) < 1e-5, `forward ${maxRelErr(y, yRef)}`);
  tf.dispose([x, w]);
  // The GPU default (16x16 invocations, 4x4 outputs each, K steps of 16) parses for every kind; running it
  // here took 140 s in the interpreter (256 invocations in lockstep; correct, max error 1.6e-7, 2026-12-06).
  for (const kind of ['forward', 'backpropInput', 'backpropFilter'] as const) {
    const p = convGemmProgram(kind, geometryOf(c), { tiling: DEFAULT_TILING, bias: kind === 'forward', activation: 'relu' });
    assert.doesNotThrow(() => new WgslParser().parse(assemble(p)), kind);
  }
});

/** Runs a captured program in the interpreter with the uniform entries the kernel handed the backend. */
function execProgram(p: ConvGemmProgram, inputs: Float32Array[], entries: Array<{ type: string; data: number[] }>): Float32Array {
  const out = new Float32Array(p.outputShape.reduce((a, v) => a * v, 1));
  const dv = new DataView(new ArrayBuffer(entries.length * 4));
  entries.forEach((e, i) => (e.type === 'float32' ? dv.setFloat32(i * 4, e.data[0]!, true) : dv.setInt32(i * 4, e.data[0]!, true)));
  const group: Record<number, unknown> = { 0: out };
  inputs.forEach((a, i) => (group[i + 1] = a));
  group[inputs.length + 1] = new Uint8Array(dv.buffer);
  const r = detectRaces(assemble(p), '_start', p.dispatch, { 0: group });
  assert.deepEqual([r.errors, r.races], [[], []]);
  return out;
}

test('the kernels registered for the webgpu backend hand it these programs and uniforms (a stand-in backend)', async () => {
  await import('@tensorflow/tfjs-backend-webgpu'); // registers tfjs's webgpu kernels (no device needed)
  const { registerWebgpuConvKernels } = await import('./webgpu-conv.js');
  assert.deepEqual(registerWebgpuConvKernels(tf, { tiling: SMALL }).sort(), ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'FusedConv2D']);
  const calls: Array<{ program: ConvGemmProgram; inputs: Array<{ shape: number[] }>; uniforms: Array<{ type: string; data: number[] }> }> = [];
  const backend = {
    runWebGPUProgram(program: ConvGemmProgram, inputs: Array<{ shape: number[] }>, _dtype: string, uniforms: Array<{ type: string; data: number[] }>) {
      calls.push({ program, inputs, uniforms });
      return { dataId: {}, shape: program.outputShape, dtype: 'float32' };
    },
  };
  const rng = new Rng(5);
  const xShape = [2, 6, 5, 3];
  const fShape = [3, 3, 3, 4];
  const xv = rnd(rng, 180);
  const wv = rnd(rng, 108);
  const bv = rnd(rng, 4);
  const x = tf.tensor4d(xv, xShape as [number, number, number, number]);
  const w = tf.tensor4d(wv, fShape as [number, number, number, number]);
  const info = (shape: number[]) => ({ dataId: {}, shape, dtype: 'float32' });
  const attrs = { strides: [2, 1], pad: 'same', dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined };
  const call = (name: string, inputs: Record<string, unknown>, a: Record<string, unknown>) => {
    tf.getKernel(name, 'webgpu')!.kernelFunc({ inputs, backend, attrs: a } as never);
    const c = calls.at(-1)!;
    // The backend lays out one uniform per entry, vectors of at most 6.
    assert.ok(c.uniforms.every((u) => u.data.length >= 1 && u.data.length <= 6));
    assert.equal(c.program.variableNames.length, Object.keys(inputs).filter((k) => inputs[k]).length);
    return c;
  };
  const yRef = tf.fused.conv2d({ x, filter: w, strides: [2, 1], pad: 'same', bias: tf.tensor1d(bv), activation: 'relu' });
  const f = call('FusedConv2D', { x: info(xShape), filter: info(fShape), bias: info([4]) }, { ...attrs, activation: 'relu' });
  assert.deepEqual(f.program.outputShape, yRef.shape);
  assert.ok(maxRelErr(execProgram(f.program, [xv, wv, bv], f.uniforms), yRef.dataSync() as Float32Array) < 1e-5);
  const dyShape = yRef.shape;
  const dyv = rnd(rng, dyShape.reduce((a, b) => a * b));
  const dy = tf.tensor4d(dyv, dyShape as [number, number, number, number]);
  const [gx, gw] = tf.grads((a, b) => tf.sum(tf.mul(tf.conv2d(a as Tensor4D, b as Tensor4D, [2, 1], 'same'), dy)))([x, w]);
  const bi = call('Conv2DBackpropInput', { dy: info(dyShape), filter: info(fShape) }, { ...attrs, inputShape: xShape });
  assert.ok(maxRelErr(execProgram(bi.program, [dyv, wv], bi.uniforms), gx!.dataSync() as Float32Array) < 1e-4);
  const bf = call('Conv2DBackpropFilter', { x: info(xShape), dy: info(dyShape) }, { ...attrs, filterShape: fShape });
  assert.ok(maxRelErr(execProgram(bf.program, [xv, dyv], bf.uniforms), gw!.dataSync() as Float32Array) < 1e-4);
  // NCHW goes to tfjs's own kernel (which would need a device): not ours.
  const before = calls.length;
  assert.throws(() => tf.getKernel('Conv2D', 'webgpu')!.kernelFunc({ inputs: { x: info([2, 3, 6, 5]), filter: info(fShape) }, backend, attrs: { ...attrs, dataFormat: 'NCHW' } } as never));
  assert.equal(calls.length, before);
  tf.dispose([x, w, yRef, dy, gx!, gw!]);
});
