// The storage interface for everything that is not a row: images, feature files, checkpoints,
// reconstructions, model files, exports. One module per technology implements it (file-store.ts,
// postgres-store.ts, s3-store.ts); open-store.ts picks one from LEUKOGRAPH_STORAGE_URL. Every machine
// that sees the same store (and the same database) can run any job.
import { Readable } from 'node:stream';

/** What a put accepts: bytes in memory, or a stream that is consumed once. */
export type ObjectBody = Buffer | Uint8Array | string | Readable | AsyncIterable<Uint8Array>;

/** A byte range of an object: `start` inclusive, `end` exclusive (default: the object's end). */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface ObjectStore {
  readonly kind: 'file' | 'postgres' | 's3';
  /** Where the objects live, without credentials (for logs and the engine status). */
  readonly location: string;
  /**
   * Stores the whole object under `key`, replacing any object there. Atomic: a reader sees the old
   * object or the new one, never part of one, and a writer that dies mid-way leaves no object behind.
   */
  put(key: string, body: ObjectBody): Promise<{ bytes: number }>;
  /** Streams the object (or a range of it). Rejects with ObjectNotFound before the first byte. */
  read(key: string, range?: ByteRange): Promise<Readable>;
  /** The object (or a range of it) in memory. */
  get(key: string, range?: ByteRange): Promise<Buffer>;
  /** The object's size in bytes, or null when there is none. */
  size(key: string): Promise<number | null>;
  /** Removes the object; removing one that is not there is not an error. */
  delete(key: string): Promise<void>;
  /** Keys under a prefix (`features/` lists every feature file), in no promised order. */
  list(prefix: string): AsyncIterable<string>;
  close(): Promise<void>;
}

export class ObjectNotFound extends Error {
  readonly code = 'ENOENT';
  constructor(readonly key: string, where: string) {
    super(`no object "${key}" in ${where}`);
    this.name = 'ObjectNotFound';
  }
}

export function isObjectNotFound(err: unknown): err is ObjectNotFound {
  return err instanceof ObjectNotFound;
}

// Keys are made by the product (content hashes, ids), never taken from a client: a narrow alphabet
// that is a valid relative path, S3 key and SQL text everywhere. No segment starts with a dot, so the
// file store's temporary names (".name.part-...") can never be keys.
const SEGMENT = /^[A-Za-z0-9_\-][A-Za-z0-9_\-.=]*$/;

export function checkKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 512) throw new Error(`invalid object key "${String(key).slice(0, 80)}"`);
  for (const seg of key.split('/')) {
    if (!SEGMENT.test(seg)) throw new Error(`invalid object key "${key.slice(0, 80)}": segment "${seg.slice(0, 40)}"`);
  }
  return key;
}

/** A prefix for list(): empty, or key segments with an optional trailing slash. */
export function checkPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  checkKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}

export function checkRange(range: ByteRange | undefined): void {
  if (!range) return;
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    throw new Error(`invalid byte range ${JSON.stringify(range)}`);
  }
}

/** Any body as an async sequence of byte chunks. */
export function bodyChunks(body: ObjectBody): AsyncIterable<Uint8Array> {
  if (typeof body === 'string') return Readable.from([Buffer.from(body)]);
  if (body instanceof Uint8Array) return Readable.from([body]);
  return body as AsyncIterable<Uint8Array>;
}

/** Reads a stream to its end into one buffer. */
export async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(parts);
}
