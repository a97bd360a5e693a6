// The S3-compatible store (s3://bucket/prefix?endpoint=...&region=...): the AWS SDK's S3 client against
// AWS or any server that speaks the protocol. Credentials come from the SDK's usual chain (AWS_ACCESS_KEY_ID
// and AWS_SECRET_ACCESS_KEY, a profile, an instance role), never from the URL. S3 makes a PUT visible only
// when it is complete, and a multipart upload only when it is completed (lib-storage's Upload aborts it on
// an error): a writer that dies leaves no object, at most an unfinished upload that the bucket's lifecycle
// rule removes.
import {
  S3Client, GetObjectCommand, HeadObjectCommand, DeleteObjectCommand, ListObjectsV2Command, type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import {
  bodyChunks, checkKey, checkPrefix, checkRange, collect, ObjectNotFound,
  type ByteRange, type ObjectBody, type ObjectStore,
} from './object-store.js';
import type { S3Location } from './s3-location.js';

/** Multipart part size for streamed puts: lib-storage holds queueSize x partSize bytes at most. */
const PART_BYTES = 8 * 1024 * 1024;

const status = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const isMissing = (err: unknown) => status(err) === 404 || ['NoSuchKey', 'NotFound'].includes((err as Error).name);

/** The bytes [skip, stop) of a stream. */
async function* sliceStream(body: AsyncIterable<Uint8Array>, skip: number, stop: number): AsyncIterable<Buffer> {
  let at = 0;
  for await (const c of body) {
    const b = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    const lo = Math.max(0, skip - at);
    const hi = Math.min(b.length, stop - at);
    if (hi > lo) yield b.subarray(lo, hi);
    at += b.length;
    if (at >= stop) return;
  }
}

export class S3Store implements ObjectStore {
  readonly kind = 's3' as const;
  readonly location: string;
  private client: S3Client;

  constructor(readonly loc: S3Location, extra: Partial<S3ClientConfig> = {}) {
    this.location = `s3://${loc.bucket}/${loc.prefix}${loc.endpoint ? ` at ${loc.endpoint}` : ''}`;
    this.client = new S3Client({
      region: loc.region,
      forcePathStyle: loc.forcePathStyle,
      ...(loc.endpoint ? { endpoint: loc.endpoint } : {}),
      // Checksums only where the protocol demands them: many S3-compatible servers do not know the
      // newer default CRC headers, and TLS and Content-MD5-free PUTs are the protocol's own guarantee.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...extra,
    });
  }

  private k(key: string): string {
    return this.loc.prefix + checkKey(key);
  }

  async put(key: string, body: ObjectBody): Promise<{ bytes: number }> {
    const Key = this.k(key);
    let bytes = 0;
    let data: Buffer | Readable;
    if (typeof body === 'string' || body instanceof Uint8Array) {
      data = Buffer.isBuffer(body) ? body : Buffer.from(body as Uint8Array | string);
      bytes = data.length;
    } else {
      const counted = async function* () {
        for await (const c of bodyChunks(body)) {
          bytes += c.byteLength;
          yield c;
        }
      };
      data = Readable.from(counted());
    }
    const upload = new Upload({ client: this.client, params: { Bucket: this.loc.bucket, Key, Body: data }, partSize: PART_BYTES, queueSize: 2, leavePartsOnError: false });
    await upload.done();
    return { bytes };
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    checkRange(range);
    const Key = this.k(key);
    if (range && (range.end === range.start)) {
      if ((await this.size(key)) === null) throw new ObjectNotFound(key, this.location);
      return Readable.from([]);
    }
    const Range = range ? `bytes=${range.start}-${range.end !== undefined ? range.end - 1 : ''}` : undefined;
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.loc.bucket, Key, Range }));
      const body = res.Body as Readable;
      if (!range) return body;
      // HTTP lets a server answer a range with more than was asked (the whole object, or s3rver's answer
      // to bytes=0-0): cut what came to what was asked.
      const served = /^bytes (\d+)-(\d+)\//.exec(res.ContentRange ?? '');
      const from = served ? Number(served[1]) : 0;
      const to = served ? Number(served[2]) + 1 : Infinity;
      const end = range.end ?? Infinity;
      if (from === range.start && to <= end) return body;
      return Readable.from(sliceStream(body, range.start - from, end - from));
    } catch (err) {
      if (isMissing(err)) throw new ObjectNotFound(key, this.location);
      // A range that starts at or past the end: empty, as the other stores answer.
      if (status(err) === 416 && (await this.size(key)) !== null) return Readable.from([]);
      throw err;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    return collect(await this.read(key, range));
  }

  async size(key: string): Promise<number | null> {
    try {
      const h = await this.client.send(new HeadObjectCommand({ Bucket: this.loc.bucket, Key: this.k(key) }));
      return h.ContentLength ?? 0;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.loc.bucket, Key: this.k(key) }));
  }

  async *list(prefix: string): AsyncIterable<string> {
    checkPrefix(prefix);
    let token: string | undefined;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.loc.bucket, Prefix: this.loc.prefix + prefix, ContinuationToken: token }));
      for (const o of r.Contents ?? []) if (o.Key) yield o.Key.slice(this.loc.prefix.length);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
