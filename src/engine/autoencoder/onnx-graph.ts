/**
 * A small reverse-mode differentiating ONNX graph builder with static shapes: forward ops record their
 * vector-Jacobian product on a tape, `gradients()` walks it backwards and emits the backward ops into the
 * same graph. Only the ops the autoencoder's loss needs (onnx-train.ts). Layout is NCHW, ONNX's.
 *
 * Weight gradients of convolutions are k*k GEMMs, one per kernel tap over a strided Slice (M = output
 * channels, K = n*H*W, N = input channels), not a Conv with the activation as kernel (N = k*k: a poor
 * GEMM shape for MLAS).
 */
import { encodeOnnxModel, type OnnxAttr, type OnnxInitializer, type OnnxNode, type OnnxValueInfo } from './onnx-proto.js';

export interface Sym {
  readonly name: string;
  readonly shape: readonly number[];
  /** Depends on a differentiated input. */
  readonly grad: boolean;
}

type Vjp = (g: Sym) => Array<Sym | null>;

interface TapeEntry {
  out: Sym;
  ins: Sym[];
  vjp: Vjp;
}

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`broadcast: [${a}] vs [${b}]`);
    out.push(Math.max(x, y));
  }
  return out;
}

export const OPSET = 17;

export class GraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly inits: OnnxInitializer[] = [];
  private readonly inputs: OnnxValueInfo[] = [];
  private readonly outputs: OnnxValueInfo[] = [];
  private readonly tape: TapeEntry[] = [];
  private readonly constCache = new Map<string, Sym>();
  private next = 0;
  private recording = true;

  private fresh(hint: string): string {
    return `${hint}_${this.next++}`;
  }

  /** A graph input (float32). */
  input(name: string, shape: readonly number[], grad = false): Sym {
    this.inputs.push({ name, elemType: 1, dims: shape });
    return { name, shape, grad };
  }

  output(s: Sym, name: string): void {
    this.raw('Identity', [s], [], s.shape, name);
    this.outputs.push({ name, elemType: 1, dims: s.shape });
  }

  /** A float32 constant (scalars are cached by value). */
  constant(data: number | Float32Array, shape: readonly number[] = []): Sym {
    const key = typeof data === 'number' ? `f:${data}:${shape}` : null;
    if (key && this.constCache.has(key)) return this.constCache.get(key)!;
    const name = this.fresh('c');
    const arr = typeof data === 'number' ? new Float32Array(size(shape)).fill(data) : data;
    if (arr.length !== size(shape)) throw new Error(`constant: ${arr.length} values for [${shape}]`);
    this.inits.push({ name, dims: shape, data: arr });
    const s = { name, shape, grad: false };
    if (key) this.constCache.set(key, s);
    return s;
  }

  /** An int64 constant (shapes, axes, pads), cached. */
  private ints(values: readonly number[]): string {
    const key = `i:${values.join(',')}`;
    const hit = this.constCache.get(key);
    if (hit) return hit.name;
    const name = this.fresh('i');
    this.inits.push({ name, dims: [values.length], data: BigInt64Array.from(values.map((v) => BigInt(v))) });
    this.constCache.set(key, { name, shape: [values.length], grad: false });
    return name;
  }

  /** Emits one node with no gradient rule (used by the backward ops themselves, and for constants' ops). */
  private raw(op: string, ins: Array<Sym | string>, attrs: OnnxAttr[], shape: readonly number[], outName?: string): Sym {
    const name = outName ?? this.fresh(op);
    this.nodes.push({ op, inputs: ins.map((x) => (typeof x === 'string' ? x : x.name)), outputs: [name], attrs });
    return { name, shape, grad: false };
  }

  /**
   * Emits a node; when recording and an input needs a gradient, its vjp goes on the tape. The vjp returns
   * one gradient per Sym input (strings are constants), or per `diffIns` when given (a node computed from
   * other tensors than the ones it is differentiated by, e.g. a transformed kernel).
   */
  private op(op: string, ins: Array<Sym | string>, attrs: OnnxAttr[], shape: readonly number[], vjp: (out: Sym) => Vjp, diffIns?: Sym[]): Sym {
    const out0 = this.raw(op, ins, attrs, shape);
    const syms = diffIns ?? ins.filter((x): x is Sym => typeof x !== 'string');
    const grad = this.recording && syms.some((x) => x.grad);
    const out = { ...out0, grad };
    if (grad) this.tape.push({ out, ins: syms, vjp: vjp(out) });
    return out;
  }

  // --- elementwise -----------------------------------------------------------------------------------

  /** Sums g down to `shape` (undoing numpy broadcasting). */
  private unbroadcast(g: Sym, shape: readonly number[]): Sym {
    if (same(g.shape, shape)) return g;
    const r = g.shape.length - shape.length;
    const axes: number[] = [];
    for (let i = 0; i < g.shape.length; i++) if (i < r || (shape[i - r] === 1 && g.shape[i] !== 1)) axes.push(i);
    const kept = g.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const s = axes.length ? this.raw('ReduceSum', [g, this.ints(axes)], [{ name: 'keepdims', i: 1 }], kept) : g;
    return same(s.shape, shape) ? s : this.reshapeRaw(s, shape);
  }

  private reshapeRaw(x: Sym, shape: readonly number[]): Sym {
    return this.raw('Reshape', [x, this.ints(shape)], [], shape);
  }

  private bin(op: 'Add' | 'Sub' | 'Mul' | 'Div', a: Sym, b: Sym, rawOnly = false): Sym {
    const shape = broadcastShape(a.shape, b.shape);
    if (rawOnly) return this.raw(op, [a, b], [], shape);
    return this.op(op, [a, b], [], shape, (out) => (g) => {
      const ga = a.grad ? (op === 'Mul' ? this.bin('Mul', g, b, true) : op === 'Div' ? this.bin('Div', g, b, true) : g) : null;
      let gb: Sym | null = null;
      if (b.grad) {
        if (op === 'Add') gb = g;
        else if (op === 'Sub') gb = this.raw('Neg', [g], [], g.shape);
        else if (op === 'Mul') gb = this.bin('Mul', g, a, true);
        // d(a/b)/db = -a/b^2 = -out/b
        else gb = this.raw('Neg', [this.bin('Div', this.bin('Mul', g, out, true), b, true)], [], g.shape);
      }
      return [ga && this.unbroadcast(ga, a.shape), gb && this.unbroadcast(gb, b.shape)];
    });
  }

  private num(x: Sym | number): Sym {
    return typeof x === 'number' ? this.constant(x) : x;
  }

  add(a: Sym | number, b: Sym | number): Sym {
    return this.bin('Add', this.num(a), this.num(b));
  }
  sub(a: Sym | number, b: Sym | number): Sym {
    return this.bin('Sub', this.num(a), this.num(b));
  }
  mul(a: Sym | number, b: Sym | number): Sym {
    return this.bin('Mul', this.num(a), this.num(b));
  }
  div(a: Sym | number, b: Sym | number): Sym {
    return this.bin('Div', this.num(a), this.num(b));
  }

  square(x: Sym): Sym {
    return this.op('Mul', [x, x], [], x.shape, () => (g) => [this.bin('Mul', g, this.bin('Mul', x, this.constant(2), true), true)]);
  }

  /** Unary ops whose derivative is a function of the output. */
  private unary(op: 'Relu' | 'Tanh' | 'Sigmoid' | 'Exp' | 'Sqrt', x: Sym): Sym {
    return this.op(op, [x], [], x.shape, (out) => (g) => {
      let d: Sym;
      if (op === 'Relu') {
        // g * float(out > 0). Measured with onnxruntime 1.30 on 19M values (2 threads, loaded machine), beyond
        // one pass: Greater+Cast+Mul 59 ms, Min+Ceil+Mul 86, Where(out > 0, g, 0) 120, g * Sign(out) 129.
        const mask = this.raw('Cast', [this.raw('Greater', [out, this.constant(0)], [], out.shape)], [{ name: 'to', i: 1 }], out.shape);
        return [this.bin('Mul', g, mask, true)];
      } else if (op === 'Tanh') d = this.bin('Sub', this.constant(1), this.bin('Mul', out, out, true), true);
      else if (op === 'Sigmoid') d = this.bin('Mul', out, this.bin('Sub', this.constant(1), out, true), true);
      else if (op === 'Exp') d = out;
      else return [this.bin('Div', g, this.bin('Mul', out, this.constant(2), true), true)];
      return [this.bin('Mul', g, d, true)];
    });
  }
  relu(x: Sym): Sym {
    return this.unary('Relu', x);
  }
  tanh(x: Sym): Sym {
    return this.unary('Tanh', x);
  }
  sigmoid(x: Sym): Sym {
    return this.unary('Sigmoid', x);
  }
  exp(x: Sym): Sym {
    return this.unary('Exp', x);
  }
  sqrt(x: Sym): Sym {
    return this.unary('Sqrt', x);
  }

  // --- shape -----------------------------------------------------------------------------------------

  reshape(x: Sym, shape: readonly number[]): Sym {
    if (size(shape) !== size(x.shape)) throw new Error(`reshape: [${x.shape}] to [${shape}]`);
    return this.op('Reshape', [x, this.ints(shape)], [], shape, () => (g) => [this.reshapeRaw(g, x.shape)]);
  }

  transpose(x: Sym, perm: readonly number[]): Sym {
    const inv = perm.map((_, i) => perm.indexOf(i));
    return this.op('Transpose', [x], [{ name: 'perm', ints: perm }], perm.map((p) => x.shape[p]!), () => (g) => [
      this.raw('Transpose', [g], [{ name: 'perm', ints: inv }], x.shape),
    ]);
  }

  /** x[start:end] along one axis. */
  slice(x: Sym, axis: number, start: number, end: number): Sym {
    if (start === 0 && end === x.shape[axis]) return x;
    const shape = x.shape.map((d, i) => (i === axis ? end - start : d));
    return this.op('Slice', [x, this.ints([start]), this.ints([end]), this.ints([axis])], [], shape, () => (g) => {
      const pads = new Array<number>(2 * x.shape.length).fill(0);
      pads[axis] = start;
      pads[x.shape.length + axis] = x.shape[axis]! - end;
      return [this.raw('Pad', [g, this.ints(pads)], [], x.shape)];
    });
  }

  concat(xs: Sym[], axis: number): Sym {
    const shape = xs[0]!.shape.map((d, i) => (i === axis ? xs.reduce((s, x) => s + x.shape[axis]!, 0) : d));
    return this.op('Concat', xs, [{ name: 'axis', i: axis }], shape, () => (g) => {
      let off = 0;
      return xs.map((x) => {
        const a = off;
        off += x.shape[axis]!;
        if (!x.grad) return null;
        const s = x.shape.map((d) => d);
        return this.raw('Slice', [g, this.ints([a]), this.ints([off]), this.ints([axis])], [], s);
      });
    });
  }

  // --- reductions ------------------------------------------------------------------------------------

  private reduce(op: 'ReduceMean' | 'ReduceSum', x: Sym, axes: readonly number[] | null, keep: boolean): Sym {
    const ax = axes ?? x.shape.map((_, i) => i);
    const kept = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
    const shape = keep ? kept : x.shape.filter((_, i) => !ax.includes(i));
    const count = ax.reduce((s, i) => s * x.shape[i]!, 1);
    const ins: Array<Sym | string> = op === 'ReduceSum' ? [x, this.ints(ax)] : [x];
    const attrs: OnnxAttr[] = op === 'ReduceMean' ? [{ name: 'axes', ints: ax }, { name: 'keepdims', i: keep ? 1 : 0 }] : [{ name: 'keepdims', i: keep ? 1 : 0 }];
    return this.op(op, ins, attrs, shape, () => (g) => {
      let e = same(g.shape, kept) ? g : this.reshapeRaw(g, kept);
      if (op === 'ReduceMean') e = this.bin('Mul', e, this.constant(1 / count), true);
      return [this.raw('Expand', [e, this.ints(x.shape)], [], x.shape)];
    });
  }
  mean(x: Sym, axes: readonly number[] | null = null, keep = false): Sym {
    return this.reduce('ReduceMean', x, axes, keep);
  }
  sum(x: Sym, axes: readonly number[] | null = null, keep = false): Sym {
    return this.reduce('ReduceSum', x, axes, keep);
  }

  // --- matrices --------------------------------------------------------------------------------------

  /** MatMul of [M,K] @ [K,N], or a batch of matrices with a 2-D other side ([B,M,K] @ [K,N], [M,K] @ [B,K,N]). */
  matmul(a: Sym, b: Sym): Sym {
    const ra = a.shape.length;
    const rb = b.shape.length;
    const shape = ra === 3 ? [a.shape[0]!, a.shape[1]!, b.shape[1]!] : rb === 3 ? [b.shape[0]!, a.shape[0]!, b.shape[2]!] : [a.shape[0]!, b.shape[1]!];
    if ((ra === 3 && rb !== 2) || (rb === 3 && ra !== 2) || a.shape[ra - 1] !== b.shape[rb - 2]) throw new Error(`matmul: [${a.shape}] @ [${b.shape}]`);
    return this.op('MatMul', [a, b], [], shape, () => (g) => {
      const tr = (x: Sym) => {
        const r = x.shape.length;
        const perm = r === 2 ? [1, 0] : [0, 2, 1];
        return this.raw('Transpose', [x], [{ name: 'perm', ints: perm }], perm.map((p) => x.shape[p]!));
      };
      const mm = (x: Sym, y: Sym, s: readonly number[]) => this.raw('MatMul', [x, y], [], s);
      let ga: Sym | null = null;
      let gb: Sym | null = null;
      if (a.grad) {
        if (rb === 3) throw new Error('matmul: gradient of a 2-D left side against a batch is not implemented');
        ga = mm(g, tr(b), a.shape); // [..,M,N] @ [N,K]
      }
      if (b.grad) {
        if (ra === 3) throw new Error('matmul: gradient of a 2-D right side against a batch is not implemented');
        gb = mm(tr(a), g, b.shape); // [K,M] @ [..,M,N]
      }
      return [ga, gb];
    });
  }

  /** log softmax over the last axis. */
  logSoftmax(x: Sym): Sym {
    const last = x.shape.length - 1;
    return this.op('LogSoftmax', [x], [{ name: 'axis', i: -1 }], x.shape, (out) => (g) => {
      const kept = x.shape.map((d, i) => (i === last ? 1 : d));
      const gs = this.raw('ReduceSum', [g, this.ints([last])], [{ name: 'keepdims', i: 1 }], kept);
      const p = this.raw('Exp', [out], [], out.shape);
      return [this.bin('Sub', g, this.bin('Mul', p, gs, true), true)];
    });
  }

  // --- convolutions ----------------------------------------------------------------------------------

  /**
   * The weight gradient of a convolution as k*k GEMMs, one per kernel tap (kh, kw): out[M, A, kh, kw] =
   * left [M, K] . window(kh, kw)^T, where window (kh, kw) of x [A, B, H, W] is x[:, :, kh::s, kw::s] cut to
   * Ho x Wo, as [A, K = B*Ho*Wo]. One GEMM per tap instead of one over a concatenated im2col: the concat
   * copied the k*k windows once more (measured: a seventh of the paper preset's step).
   */
  private tapGemms(left: Sym, x: Sym, k: number, s: number, ho: number, wo: number): Sym {
    const [a, b] = x.shape as [number, number, number, number];
    const m = left.shape[0]!;
    const kk = b * ho * wo;
    const taps: Sym[] = [];
    for (let kh = 0; kh < k; kh++) {
      for (let kw = 0; kw < k; kw++) {
        const win = k === 1 && s === 1 ? x : this.raw('Slice', [x, this.ints([kh, kw]), this.ints([kh + (ho - 1) * s + 1, kw + (wo - 1) * s + 1]), this.ints([2, 3]), this.ints([s, s])], [], [a, b, ho, wo]);
        const g = this.raw('Gemm', [left, this.reshapeRaw(win, [a, kk])], [{ name: 'transB', i: 1 }], [m, a]);
        taps.push(this.reshapeRaw(g, [m, a, 1]));
      }
    }
    const cat = taps.length === 1 ? taps[0]! : this.raw('Concat', taps, [{ name: 'axis', i: 2 }], [m, a, k * k]);
    return this.reshapeRaw(cat, [m, a, k, k]);
  }

  private nchwToCnhw(x: Sym): Sym {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    return this.raw('Transpose', [x], [{ name: 'perm', ints: [1, 0, 2, 3] }], [c, n, h, w]);
  }

  /** Conv2d (no padding) with bias: x [n,cin,H,W], w [cout,cin,k,k], b [cout]. */
  conv(x: Sym, w: Sym, b: Sym, stride: number): Sym {
    const [n, cin, h, wd] = x.shape as [number, number, number, number];
    const [cout, , k] = w.shape as [number, number, number, number];
    const ho = Math.floor((h - k) / stride) + 1;
    const wo = Math.floor((wd - k) / stride) + 1;
    return this.op('Conv', [x, w, b], [{ name: 'strides', ints: [stride, stride] }, { name: 'kernel_shape', ints: [k, k] }], [n, cout, ho, wo], () => (g) => {
      let gx: Sym | null = null;
      if (x.grad) {
        const op = [h - ((ho - 1) * stride + k), wd - ((wo - 1) * stride + k)];
        gx = this.raw('ConvTranspose', [g, w], [{ name: 'strides', ints: [stride, stride] }, { name: 'kernel_shape', ints: [k, k] }, { name: 'output_padding', ints: op }], x.shape);
      }
      const gw = this.tapGemms(this.reshapeRaw(this.nchwToCnhw(g), [cout, n * ho * wo]), this.nchwToCnhw(x), k, stride, ho, wo); // [cout, cin, k, k]
      const gb = this.raw('ReduceSum', [g, this.ints([0, 2, 3])], [{ name: 'keepdims', i: 0 }], [cout]);
      return [gx, gw, gb];
    });
  }

  /**
   * A 1x1 stride-1 Conv with bias on an NHWC input x [n,H,W,cin], w [cout,cin,1,1]: one GEMM over the
   * n*H*W pixels, output NCHW [n,cout,H,W]. Saves the NCHW (forward) and CNHW (weight gradient) transposes
   * of a wide input, e.g. the cpu preset's first layer over the 256-channel features (2 x ~28 ms of 700
   * per step under load); only the narrow output is transposed.
   */
  conv1x1Nhwc(x: Sym, w: Sym, b: Sym): Sym {
    const [n, h, wd, cin] = x.shape as [number, number, number, number];
    const cout = w.shape[0]!;
    const p = n * h * wd;
    const x2 = this.reshapeRaw(x, [p, cin]);
    const w2 = this.reshapeRaw(w, [cout, cin]);
    const y2 = this.raw('Gemm', [x2, w2, b], [{ name: 'transB', i: 1 }], [p, cout]);
    const y4 = this.reshapeRaw(y2, [n, h, wd, cout]);
    return this.op('Transpose', [y4.name], [{ name: 'perm', ints: [0, 3, 1, 2] }], [n, cout, h, wd], () => (g) => {
      const g2 = this.reshapeRaw(this.raw('Transpose', [g], [{ name: 'perm', ints: [0, 2, 3, 1] }], [n, h, wd, cout]), [p, cout]);
      const gx = x.grad ? this.reshapeRaw(this.raw('MatMul', [g2, w2], [], [p, cin]), x.shape) : null;
      const gw = this.reshapeRaw(this.raw('Gemm', [g2, x2], [{ name: 'transA', i: 1 }], [cout, cin]), w.shape);
      const gb = this.raw('ReduceSum', [g2, this.ints([0])], [{ name: 'keepdims', i: 0 }], [cout]);
      return [gx, gw, gb];
    }, [x, w, b]);
  }

  /** ConvTranspose2d (no padding) with bias: x [n,cin,H,W], w [cin,cout,k,k], b [cout]; out (H-1)*s+k. */
  convT(x: Sym, w: Sym, b: Sym, stride: number): Sym {
    const [n, cin, h, wd] = x.shape as [number, number, number, number];
    const [, cout, k] = w.shape as [number, number, number, number];
    const ho = (h - 1) * stride + k;
    const wo = (wd - 1) * stride + k;
    const vjp = () => (g: Sym): Array<Sym | null> => {
      const gx = x.grad ? this.raw('Conv', [g, w], [{ name: 'strides', ints: [stride, stride] }, { name: 'kernel_shape', ints: [k, k] }], x.shape) : null;
      const gw = this.tapGemms(this.reshapeRaw(this.nchwToCnhw(x), [cin, n * h * wd]), this.nchwToCnhw(g), k, stride, h, wd); // [cin, cout, k, k]
      const gb = this.raw('ReduceSum', [g, this.ints([0, 2, 3])], [{ name: 'keepdims', i: 0 }], [cout]);
      return [gx, gw, gb];
    };
    if (stride === 1 && k > 1) {
      // Stride 1: the same values as a Conv with k-1 zeros of padding and the kernel flipped and transposed,
      // which onnxruntime runs faster than its ConvTranspose (im2col GEMM vs GEMM + col2im: 543 -> ~360 ms
      // on the paper preset's 127 -> 128 layer, measured under load). The gradient rule stays ConvTranspose's.
      const flipped = this.raw('Slice', [w, this.ints([-1, -1]), this.ints([-k - 1, -k - 1]), this.ints([2, 3]), this.ints([-1, -1])], [], w.shape);
      const wc = this.raw('Transpose', [flipped], [{ name: 'perm', ints: [1, 0, 2, 3] }], [cout, cin, k, k]);
      return this.op('Conv', [x, wc.name, b], [{ name: 'kernel_shape', ints: [k, k] }, { name: 'pads', ints: [k - 1, k - 1, k - 1, k - 1] }], [n, cout, ho, wo], vjp, [x, w, b]);
    }
    return this.op('ConvTranspose', [x, w, b], [{ name: 'strides', ints: [stride, stride] }, { name: 'kernel_shape', ints: [k, k] }], [n, cout, ho, wo], vjp);
  }

  // --- backward and serialisation --------------------------------------------------------------------

  /** Emits d(loss)/d(x) for each of `wrt` (null where the loss does not depend on it). Call once. */
  gradients(loss: Sym, wrt: readonly Sym[]): Array<Sym | null> {
    if (size(loss.shape) !== 1) throw new Error('gradients: the loss must be a scalar');
    this.recording = false;
    const acc = new Map<string, Sym>();
    acc.set(loss.name, this.constant(1, loss.shape));
    for (let i = this.tape.length - 1; i >= 0; i--) {
      const e = this.tape[i]!;
      const g = acc.get(e.out.name);
      if (!g) continue;
      const gs = e.vjp(g);
      e.ins.forEach((x, j) => {
        const gx = gs[j];
        if (!x.grad || !gx) return;
        const prev = acc.get(x.name);
        acc.set(x.name, prev ? this.raw('Add', [prev, gx], [], x.shape) : gx);
      });
    }
    return wrt.map((x) => acc.get(x.name) ?? null);
  }

  toBytes(name: string): Uint8Array {
    return encodeOnnxModel({ nodes: this.nodes, initializers: this.inits, inputs: this.inputs, outputs: this.outputs, opset: OPSET, name });
  }

  get nodeCount(): number {
    return this.nodes.length;
  }
}
