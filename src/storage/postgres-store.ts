// The in-database store (postgres:): objects as chunks of bytea in the application's own PostgreSQL,
// so that DATABASE_URL alone lets a machine join. Tables: migrations/1796549896527-object-store.ts.
// A put streams its chunks into a new version inside one transaction and points the object's row at
// that version before it commits: a crash rolls the whole object back, and readers never see a part.
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  bodyChunks, checkKey, checkPrefix, checkRange, collect, ObjectNotFound,
  type ByteRange, type ObjectBody, type ObjectStore,
} from './object-store.js';

/** 256 KiB: one feature file of a few cells is a chunk or two; a range read of one cell touches one or two. */
export const DEFAULT_CHUNK_BYTES = 256 * 1024;
/** Chunks fetched per round trip while streaming (2 MiB at the default size). */
const CHUNKS_PER_FETCH = 8;
/** Seeds the advisory lock that serialises the final step of puts and deletes of one key. */
const LOCK_SEED = 771022;

export class PostgresStore implements ObjectStore {
  readonly kind = 'postgres' as const;
  readonly location: string;
  private pool: pg.Pool;

  constructor(url: string, private readonly opts: { chunkBytes?: number; maxConnections?: number } = {}) {
    const u = new URL(url);
    this.location = `postgres://${u.host}${u.pathname}`;
    this.pool = new pg.Pool({ connectionString: url, max: opts.maxConnections ?? 4, application_name: 'leukograph-storage' });
    this.pool.on('error', () => undefined); // an idle client's lost connection: the next query reconnects
  }

  private get chunkBytes(): number {
    return this.opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  }

  async put(key: string, body: ObjectBody): Promise<{ bytes: number }> {
    checkKey(key);
    const chunkBytes = this.chunkBytes;
    const version = randomUUID();
    let bytes = 0;
    await this.inTransaction(key, async (client, lockKey) => {
      let seq = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = async (all: boolean) => {
        while (pendingBytes >= chunkBytes || (all && pendingBytes > 0)) {
          const joined = pending.length === 1 ? pending[0] : Buffer.concat(pending);
          const part = joined.subarray(0, chunkBytes);
          pending = part.length < joined.length ? [joined.subarray(part.length)] : [];
          pendingBytes -= part.length;
          await client.query(`INSERT INTO storage_chunks (version, seq, data) VALUES ($1, $2, $3)`, [version, seq++, part]);
        }
      };
      for await (const c of bodyChunks(body)) {
        const b = Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
        pending.push(b);
        pendingBytes += b.length;
        bytes += b.length;
        if (pendingBytes >= chunkBytes) await flush(false);
      }
      await flush(true);
      // Two puts of one key: the second waits here until the first commits, then replaces it.
      await lockKey();
      const old = await client.query<{ version: string }>(`SELECT version FROM storage_objects WHERE key = $1`, [key]);
      await client.query(
        `INSERT INTO storage_objects (key, version, bytes, chunk_bytes) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key) DO UPDATE SET version = EXCLUDED.version, bytes = EXCLUDED.bytes, chunk_bytes = EXCLUDED.chunk_bytes, created_at = now()`,
        [key, version, bytes, chunkBytes],
      );
      if (old.rows[0]) await client.query(`DELETE FROM storage_chunks WHERE version = $1`, [old.rows[0].version]);
    });
    return { bytes };
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    checkKey(key);
    checkRange(range);
    const { rows } = await this.pool.query<{ version: string; bytes: string; chunk_bytes: number }>(
      `SELECT version, bytes, chunk_bytes FROM storage_objects WHERE key = $1`, [key],
    );
    if (!rows[0]) throw new ObjectNotFound(key, this.location);
    const { version, chunk_bytes: cb } = rows[0];
    const total = Number(rows[0].bytes);
    const start = Math.min(range?.start ?? 0, total);
    const end = Math.min(range?.end ?? total, total);
    if (start >= end) return Readable.from([]);
    const first = Math.floor(start / cb);
    const last = Math.floor((end - 1) / cb);
    const pool = this.pool;
    const location = this.location;
    async function* chunks(): AsyncIterable<Buffer> {
      for (let from = first; from <= last; from += CHUNKS_PER_FETCH) {
        const to = Math.min(last, from + CHUNKS_PER_FETCH - 1);
        // Only the bytes inside [start, end) leave the server (the chunks are stored uncompressed).
        const r = await pool.query<{ seq: number; data: Buffer }>(
          `SELECT seq, substring(data FROM (greatest(0, $3::bigint - seq::bigint * $5) + 1)::int
                                 FOR (least($5::bigint, $4::bigint - seq::bigint * $5) - greatest(0, $3::bigint - seq::bigint * $5))::int) AS data
             FROM storage_chunks WHERE version = $1 AND seq BETWEEN $2 AND $6 ORDER BY seq`,
          [version, from, start, end, cb, to],
        );
        if (r.rows.length !== to - from + 1) throw new Error(`object "${key}" in ${location} was replaced or removed while it was read`);
        for (const row of r.rows) yield row.data;
      }
    }
    return Readable.from(chunks());
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    return collect(await this.read(key, range));
  }

  async size(key: string): Promise<number | null> {
    checkKey(key);
    const { rows } = await this.pool.query<{ bytes: string }>(`SELECT bytes FROM storage_objects WHERE key = $1`, [key]);
    return rows[0] ? Number(rows[0].bytes) : null;
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    await this.inTransaction(key, async (client, lockKey) => {
      await lockKey();
      const gone = await client.query<{ version: string }>(`DELETE FROM storage_objects WHERE key = $1 RETURNING version`, [key]);
      if (gone.rows[0]) await client.query(`DELETE FROM storage_chunks WHERE version = $1`, [gone.rows[0].version]);
    });
  }

  /**
   * Runs `fn` in one transaction on a connection of its own: committed when it returns, rolled back when it
   * throws. `lockKey` takes the key's advisory lock (held to the commit), serialising the final step of puts
   * and deletes of one key.
   */
  private async inTransaction(key: string, fn: (client: pg.PoolClient, lockKey: () => Promise<void>) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await fn(client, async () => {
        await client.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, ${LOCK_SEED}))`, [key]);
      });
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    checkPrefix(prefix);
    let after = '';
    for (;;) {
      const { rows } = await this.pool.query<{ key: string }>(
        `SELECT key FROM storage_objects WHERE starts_with(key, $1) AND key > $2 ORDER BY key LIMIT 1000`,
        [prefix, after],
      );
      for (const r of rows) yield r.key;
      if (rows.length < 1000) return;
      after = rows[rows.length - 1].key;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
