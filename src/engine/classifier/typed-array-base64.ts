// Typed arrays as base64 text, the compact form of model arrays inside JSON. Bytes are little-endian
// (the format's byte order); big-endian hosts are refused rather than silently misread.

import { endianness } from 'node:os';

export type TypedArrayKind = 'f64' | 'f32' | 'i32' | 'u8';
type TypedArrayOf = { f64: Float64Array; f32: Float32Array; i32: Int32Array; u8: Uint8Array };
const CONSTRUCTORS = { f64: Float64Array, f32: Float32Array, i32: Int32Array, u8: Uint8Array } as const;

function assertLittleEndian(): void {
  if (endianness() !== 'LE') throw new Error('model arrays are little-endian; this host is big-endian');
}

export function encodeTypedArray(a: Float64Array | Float32Array | Int32Array | Uint8Array): string {
  assertLittleEndian();
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

/** Decodes base64 into a fresh, aligned typed array; throws if the text is not a whole number of elements. */
export function decodeTypedArray<K extends TypedArrayKind>(text: unknown, kind: K, what: string): TypedArrayOf[K] {
  assertLittleEndian();
  if (typeof text !== 'string') throw new Error(`${what}: expected a base64 string`);
  const bytes = Buffer.from(text, 'base64');
  const Ctor = CONSTRUCTORS[kind];
  if (bytes.length % Ctor.BYTES_PER_ELEMENT !== 0) {
    throw new Error(`${what}: ${bytes.length} bytes is not a whole number of ${kind} values`);
  }
  const out = new Ctor(bytes.length / Ctor.BYTES_PER_ELEMENT);
  new Uint8Array(out.buffer).set(bytes);
  return out as TypedArrayOf[K];
}
