/**
 * A minimal ONNX ModelProto writer: the handful of protobuf messages a graph of nodes, float/int64
 * initializers and typed inputs/outputs needs (field numbers from onnx/onnx.proto, proto2).
 *
 * Why hand-written: we only ever write (onnxruntime parses), the subset is ~100 lines with no schema
 * file or generated classes to keep in step, and no protobuf library is a dependency of leukograph.
 */

export type OnnxAttr =
  | { name: string; i: number }
  | { name: string; f: number }
  | { name: string; ints: readonly number[] }
  | { name: string; s: string };

export interface OnnxNode {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attrs?: readonly OnnxAttr[];
}

export interface OnnxInitializer {
  name: string;
  dims: readonly number[];
  data: Float32Array | BigInt64Array;
}

export interface OnnxValueInfo {
  name: string;
  /** 1 = float32, 7 = int64. */
  elemType: 1 | 7;
  dims: readonly number[];
}

export interface OnnxModelSpec {
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxInitializer[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
  opset: number;
  name: string;
}

class Writer {
  private readonly chunks: Uint8Array[] = [];
  private buf: number[] = [];
  private len = 0;

  private flush(): void {
    if (this.buf.length) {
      this.chunks.push(Uint8Array.from(this.buf));
      this.buf = [];
    }
  }

  varint(v: number | bigint): void {
    // int64 fields: negatives as 10-byte two's complement.
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) b |= 0x80;
      this.buf.push(b);
      this.len++;
    } while (x !== 0n);
  }

  tag(field: number, wire: 0 | 2 | 5): void {
    this.varint((field << 3) | wire);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(data.length);
    this.flush();
    this.chunks.push(data);
    this.len += data.length;
  }

  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }

  int(field: number, v: number | bigint): void {
    this.tag(field, 0);
    this.varint(v);
  }

  float(field: number, v: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    for (const x of b) this.buf.push(x);
    this.len += 4;
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.len);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

function msg(fill: (w: Writer) => void): Uint8Array {
  const w = new Writer();
  fill(w);
  return w.finish();
}

// AttributeProto.AttributeType
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_INTS = 7;

function attribute(a: OnnxAttr): Uint8Array {
  return msg((w) => {
    w.string(1, a.name);
    if ('f' in a) {
      w.float(2, a.f);
      w.int(20, ATTR_FLOAT);
    } else if ('i' in a) {
      w.int(3, a.i);
      w.int(20, ATTR_INT);
    } else if ('s' in a) {
      w.bytes(4, new TextEncoder().encode(a.s));
      w.int(20, ATTR_STRING);
    } else {
      for (const v of a.ints) w.int(8, v);
      w.int(20, ATTR_INTS);
    }
  });
}

function node(n: OnnxNode, i: number): Uint8Array {
  return msg((w) => {
    for (const s of n.inputs) w.string(1, s);
    for (const s of n.outputs) w.string(2, s);
    w.string(3, `${n.op}_${i}`);
    w.string(4, n.op);
    for (const a of n.attrs ?? []) w.bytes(5, attribute(a));
  });
}

function tensor(t: OnnxInitializer): Uint8Array {
  return msg((w) => {
    for (const d of t.dims) w.int(1, d);
    w.int(2, t.data instanceof Float32Array ? 1 : 7);
    w.string(8, t.name);
    // raw_data is little-endian, as typed arrays are on every platform Node supports.
    w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  });
}

function valueInfo(v: OnnxValueInfo): Uint8Array {
  const shape = msg((w) => {
    for (const d of v.dims) w.bytes(1, msg((x) => x.int(1, d)));
  });
  const tensorType = msg((w) => {
    w.int(1, v.elemType);
    w.bytes(2, shape);
  });
  return msg((w) => {
    w.string(1, v.name);
    w.bytes(2, msg((x) => x.bytes(1, tensorType)));
  });
}

/** Serialises a model (IR version 8, the default ONNX domain at `opset`). */
export function encodeOnnxModel(m: OnnxModelSpec): Uint8Array {
  const graph = msg((w) => {
    m.nodes.forEach((n, i) => w.bytes(1, node(n, i)));
    w.string(2, m.name);
    for (const t of m.initializers) w.bytes(5, tensor(t));
    for (const v of m.inputs) w.bytes(11, valueInfo(v));
    for (const v of m.outputs) w.bytes(12, valueInfo(v));
  });
  return msg((w) => {
    w.int(1, 8);
    w.string(2, 'leukograph');
    w.bytes(7, graph);
    w.bytes(8, msg((x) => {
      x.string(1, '');
      x.int(2, m.opset);
    }));
  });
}
