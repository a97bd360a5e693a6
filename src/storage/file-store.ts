// The local-filesystem store (file:///dir, the default: the data directory, laid out as before). An
// object is a file at <root>/<key>. A put writes a hidden temporary file beside it, syncs it and renames
// it over the key, so a reader sees the old file or the new one; a writer killed mid-way leaves only a
// hidden ".part" file that no key can name.
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import {
  bodyChunks, checkKey, checkPrefix, checkRange, collect, ObjectNotFound,
  type ByteRange, type ObjectBody, type ObjectStore,
} from './object-store.js';

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

export class FileStore implements ObjectStore {
  readonly kind = 'file' as const;
  readonly location: string;

  constructor(readonly root: string) {
    this.location = `file://${root}`;
  }

  /** The file that holds an object (for callers that need a path: a library that only opens files). */
  pathOf(key: string): string {
    return join(this.root, checkKey(key));
  }

  async put(key: string, body: ObjectBody): Promise<{ bytes: number }> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = join(dirname(path), `.${basename(path)}.part-${process.pid}-${randomBytes(4).toString('hex')}`);
    const fh = await open(tmp, 'wx');
    let bytes = 0;
    try {
      for await (const chunk of bodyChunks(body)) {
        await fh.write(chunk);
        bytes += chunk.byteLength;
      }
      // The data reaches the disk before the rename makes it visible under the key.
      await fh.sync();
      await fh.close();
      await rename(tmp, path);
    } catch (err) {
      await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    return { bytes };
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    checkRange(range);
    const path = this.pathOf(key);
    let fh;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if (isMissing(err)) throw new ObjectNotFound(key, this.location);
      throw err;
    }
    if (range && range.end === range.start) {
      await fh.close();
      return Readable.from([]);
    }
    // The open handle keeps reading the file it opened even if a put replaces the key meanwhile.
    return fh.createReadStream({ start: range?.start ?? 0, end: range?.end !== undefined ? range.end - 1 : undefined, autoClose: true });
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    return collect(await this.read(key, range));
  }

  async size(key: string): Promise<number | null> {
    try {
      return (await stat(this.pathOf(key))).size;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await unlink(this.pathOf(key)).catch((err) => {
      if (!isMissing(err)) throw err;
    });
  }

  async *list(prefix: string): AsyncIterable<string> {
    checkPrefix(prefix);
    // Walk from the deepest folder the prefix names; filter the rest by string.
    const slash = prefix.lastIndexOf('/');
    const base = slash >= 0 ? prefix.slice(0, slash) : '';
    const walk = async function* (rel: string, root: string): AsyncIterable<string> {
      let entries;
      try {
        entries = await readdir(join(root, rel), { withFileTypes: true });
      } catch (err) {
        if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw err;
      }
      for (const e of entries) {
        if (e.name.startsWith('.')) continue; // temporary files of puts in progress
        const key = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) {
          if (prefix.startsWith(`${key}/`) || `${key}/`.startsWith(prefix)) yield* walk(key, root);
        }
        else if (e.isFile() && key.startsWith(prefix)) yield key;
      }
    };
    yield* walk(base, this.root);
  }

  async close(): Promise<void> {}
}
