// What every object store must do, as tests that each backend's test file runs against its own store
// (file-store.test.ts, postgres-store.db.test.ts, s3-store.test.ts): the same assertions for all three.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { isObjectNotFound, type ObjectStore } from './object-store.js';

export interface StoreUnderTest {
  store: ObjectStore;
  /** How another process opens the same store: openStore(url, { dataDir, databaseUrl }). */
  url: string | null;
  dataDir: string;
  databaseUrl: string;
  close(): Promise<void>;
}

const CRASH_WRITER = fileURLToPath(new URL('../../test/helpers/store-crash-writer.js', import.meta.url));

/** Pseudo-random bytes handed over in pieces of uneven size, as a network or a file would. */
function pieces(data: Buffer, seed = 7): Readable {
  let s = seed;
  const out: Buffer[] = [];
  for (let o = 0; o < data.length; ) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const n = 1 + (s % 100_000);
    out.push(data.subarray(o, o + n));
    o += n;
  }
  return Readable.from(out);
}

async function keys(store: ObjectStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const k of store.list(prefix)) out.push(k);
  return out.sort();
}

/** Runs the crash writer until it has handed over `killAfter` bytes, then kills it with SIGKILL. */
async function killWriterMidway(t: StoreUnderTest, key: string, total: number, killAfter: number): Promise<string> {
  const child = spawn(process.execPath, [CRASH_WRITER, t.url ?? '', t.databaseUrl, t.dataDir, key, String(total)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const last = out.trimEnd().split('\n').at(-1)!;
      if (last === 'complete') return;
      if (Number(last) >= killAfter && child.exitCode === null) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(out);
      else reject(new Error(`the writer was not killed mid-way (exit ${code}): ${out.slice(-200)} ${err.slice(-2000)}`));
    });
  });
}

export interface ContractOptions {
  /**
   * Whether the server behind the store makes concurrent puts of one key atomic (one wins whole). True
   * for the file and PostgreSQL stores (their own code) and for S3 itself ("latest write wins", and a PUT
   * is never visible in part); false for s3rver, the test stand-in: it writes every PUT straight into the
   * object's one file (lib/stores/filesystem.js putObject: createWriteStream on the object's path, then the
   * metadata apart), so two PUTs of one key interleave their bytes and sizes.
   */
  atomicConcurrentPuts?: boolean;
}

/** `more` registers a backend's own tests inside the same suite, on the same store (one database start). */
export function storeContract(name: string, open: () => Promise<StoreUnderTest>, more?: (current: () => StoreUnderTest) => void, opts: ContractOptions = {}): void {
  describe(`object store contract: ${name}`, () => {
    let t: StoreUnderTest;
    before(async () => {
      t = await open();
    });
    after(async () => {
      await t?.close();
    });

    test('bytes in memory round-trip; a put replaces the object whole; sizes', async () => {
      const { store } = t;
      assert.deepEqual(await store.put('a/one.bin', Buffer.from('first version')), { bytes: 13 });
      assert.equal((await store.get('a/one.bin')).toString(), 'first version');
      await store.put('a/one.bin', 'v2');
      assert.equal((await store.get('a/one.bin')).toString(), 'v2');
      assert.equal(await store.size('a/one.bin'), 2);
      await store.put('a/empty', Buffer.alloc(0));
      assert.equal(await store.size('a/empty'), 0);
      assert.equal((await store.get('a/empty')).length, 0);
      await store.put('a/u8', new Uint8Array([1, 2, 3]));
      assert.deepEqual([...(await store.get('a/u8'))], [1, 2, 3]);
    });

    test('a streamed put of uneven pieces; streamed reads and byte ranges across chunk edges', async () => {
      const { store } = t;
      const data = randomBytes(1_300_000);
      assert.deepEqual(await store.put('b/big.bin', pieces(data)), { bytes: data.length });
      assert.equal(await store.size('b/big.bin'), data.length);
      const streamed: Buffer[] = [];
      for await (const c of await store.read('b/big.bin')) streamed.push(c as Buffer);
      assert.ok(Buffer.concat(streamed).equals(data), 'streamed read');
      const chunk = 256 * 1024;
      for (const [start, end] of [[0, 1], [chunk - 1, chunk + 1], [chunk, 2 * chunk], [100, 900_000], [data.length - 5, data.length], [5, 5]]) {
        assert.ok((await store.get('b/big.bin', { start, end })).equals(data.subarray(start, end)), `range ${start}-${end}`);
      }
      assert.ok((await store.get('b/big.bin', { start: 1_000_000 })).equals(data.subarray(1_000_000)), 'open-ended range');
      assert.equal((await store.get('b/big.bin', { start: data.length + 10, end: data.length + 20 })).length, 0, 'a range past the end is empty');
      await assert.rejects(store.get('b/big.bin', { start: 5, end: 2 }), /invalid byte range/);
    });

    test('a missing object: read rejects with ObjectNotFound, size is null, delete is quiet', async () => {
      const { store } = t;
      await assert.rejects(store.read('c/none'), (e) => isObjectNotFound(e) && /c\/none/.test((e as Error).message));
      await assert.rejects(store.get('c/none', { start: 0, end: 0 }), isObjectNotFound);
      assert.equal(await store.size('c/none'), null);
      await store.delete('c/none');
      await store.put('c/gone', 'x');
      await store.delete('c/gone');
      assert.equal(await store.size('c/gone'), null);
    });

    test('list names the keys under a prefix, and nothing else', async () => {
      const { store } = t;
      for (const k of ['d/x/1.f16', 'd/x/2.f16', 'd/xy/3.f16', 'd/y/4.f16', 'dz']) await store.put(k, k);
      assert.deepEqual(await keys(store, 'd/x/'), ['d/x/1.f16', 'd/x/2.f16']);
      assert.deepEqual(await keys(store, 'd/x'), ['d/x/1.f16', 'd/x/2.f16', 'd/xy/3.f16']);
      assert.deepEqual(await keys(store, 'd/'), ['d/x/1.f16', 'd/x/2.f16', 'd/xy/3.f16', 'd/y/4.f16']);
      assert.deepEqual(await keys(store, 'nothing/'), []);
    });

    test('a put whose body fails part-way keeps the old object, and leaves no new one', async () => {
      const { store } = t;
      await store.put('e/kept', 'old');
      const failing = async function* () {
        yield randomBytes(400_000);
        throw new Error('disk unplugged');
      };
      await assert.rejects(store.put('e/kept', failing()), /disk unplugged/);
      assert.equal((await store.get('e/kept')).toString(), 'old');
      await assert.rejects(store.put('e/never', failing()), /disk unplugged/);
      assert.equal(await store.size('e/never'), null);
      assert.deepEqual(await keys(store, 'e/'), ['e/kept']);
    });

    test('keys outside the product alphabet are refused', async () => {
      const { store } = t;
      for (const k of ['', '../up', '/abs', 'a//b', '.hidden', 'a/.part', 'a/../b', 'sp ace', 'a/', 'é']) {
        await assert.rejects(store.put(k, 'x'), /invalid object key/, k);
      }
      await assert.rejects(keys(store, '../'), /invalid object key/);
    });

    const atomic = opts.atomicConcurrentPuts ?? true;
    test(atomic ? 'concurrent puts of one key: one of them wins whole' : 'concurrent puts of one key: both succeed, and the next put is read whole (the server does not make concurrent puts atomic)', async () => {
      const { store } = t;
      const a = Buffer.alloc(700_000, 0x61);
      const b = Buffer.alloc(500_000, 0x62);
      await Promise.all([store.put('f/race', pieces(a, 1)), store.put('f/race', pieces(b, 2))]);
      const got = await store.get('f/race');
      if (atomic) {
        assert.ok(got.equals(a) || got.equals(b), `got ${got.length} bytes, not one whole object`);
        return;
      }
      // What the store itself guarantees on such a server: puts that do not overlap replace the object whole.
      // (The product's concurrent puts of one key write the same bytes: content-addressed images, the features
      // of one image by one detector, as two engines that both ran a job whose lease was lost would.)
      const c = randomBytes(600_000);
      await store.put('f/race', pieces(c, 3));
      assert.ok((await store.get('f/race')).equals(c));
      assert.equal(await store.size('f/race'), c.length);
    });

    test('a writer killed mid-put (SIGKILL) leaves the old object, and no part of the new one', async () => {
      const { store } = t;
      await store.put('g/obj', 'old');
      // 12 MiB handed over of 20: past the S3 store's first 8 MiB multipart part.
      const out = await killWriterMidway(t, 'g/obj', 20 * 1024 * 1024, 12 * 1024 * 1024);
      assert.ok(!out.includes('complete'));
      assert.equal((await store.get('g/obj')).toString(), 'old');
      await killWriterMidway(t, 'g/fresh', 20 * 1024 * 1024, 12 * 1024 * 1024);
      assert.equal(await store.size('g/fresh'), null);
      assert.deepEqual(await keys(store, 'g/'), ['g/obj']);
    });

    more?.(() => t);
  });
}
