// What rows point at, through the object store: an image's bytes, a model's file, a training job's
// checkpoint and reconstructions. A row holds a reference: "store:<key>" names an object in the store that
// LEUKOGRAPH_STORAGE_URL chooses (every machine on the same store reads it), an absolute path names a file
// on the machine that reads it (the bundled models in the repository's models/ folder, and images imported
// by path while the store is the local file: store, where a copy would only double the disk). Handlers and
// the HTTP routes read and write through this adapter and never open files of the data directory themselves.
import { readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import type { Readable } from 'node:stream';
import { createReadStream, existsSync } from 'node:fs';
import { isObjectNotFound, ObjectNotFound, type ObjectStore } from './object-store.js';

export const STORE_REF = 'store:';

export const storeRef = (key: string): string => `${STORE_REF}${key}`;
/** The store key a reference names, or null for a path. */
export const keyOfRef = (ref: string): string | null => (ref.startsWith(STORE_REF) ? ref.slice(STORE_REF.length) : null);

/** A file a row names that this machine cannot see (another machine's folder). */
export class NotOnThisMachine extends Error {
  readonly code = 'ENOENT';
  readonly syscall = 'open';
  constructor(readonly path: string, what: string) {
    super(
      `${what} ${path} is not on this machine (${hostname()}): it was imported by path into a file: store, which only the ` +
        `machine that imported it sees; with LEUKOGRAPH_STORAGE_URL=postgres: or s3://... imports are copied into the shared store`,
    );
    this.name = 'NotOnThisMachine';
  }
}

const missing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR';

export class Blobs {
  /**
   * `bundledDir`: this machine's models/ folder. A bundled model's row names the checkout of the process
   * that registered it last (the same file, by checksum, in every checkout); a machine whose checkout lies
   * elsewhere reads its own copy.
   */
  constructor(readonly store: ObjectStore, private readonly opts: { bundledDir?: string } = {}) {}

  /** A path as this machine has it: itself, or a bundled model's copy in this machine's models/ folder. */
  private local(path: string): string {
    const dir = this.opts.bundledDir;
    if (!dir || !isAbsolute(path) || basename(dirname(path)) !== 'models') return path;
    const mine = join(dir, basename(path));
    return mine !== path && !existsSync(path) && existsSync(mine) ? mine : path;
  }

  /**
   * A missing object of a file: store: most often another machine's (an upload through an API whose data
   * directory this engine does not see), so the error says how machines share objects.
   */
  private missingHint(err: unknown): unknown {
    if (!isObjectNotFound(err) || this.store.kind !== 'file') return err;
    const e = new ObjectNotFound(err.key, `${this.store.location} on ${hostname()}`);
    e.message += ': a file: store is one machine\'s folder; machines share objects through LEUKOGRAPH_STORAGE_URL=postgres: or s3://...';
    return e;
  }

  /** The whole object or file a reference names. */
  async read(ref: string, what = 'file'): Promise<Buffer> {
    const key = keyOfRef(ref);
    if (key !== null) return this.fromStore(this.store.get(key));
    return this.fromLocal(ref, what, readFile(this.local(ref)));
  }

  /** A stream of what a reference names (rejects before the first byte when there is none). */
  async stream(ref: string, what = 'file'): Promise<Readable> {
    const key = keyOfRef(ref);
    if (key !== null) return this.fromStore(this.store.read(key));
    const path = this.local(ref);
    await this.fromLocal(ref, what, stat(path));
    return createReadStream(path);
  }

  /** What the store answered, its "not found" with a hint where a file: store cannot be shared. */
  private async fromStore<T>(answer: Promise<T>): Promise<T> {
    try {
      return await answer;
    } catch (err) {
      throw this.missingHint(err);
    }
  }

  /** What the local file system answered; a missing absolute path is a file on another machine. */
  private async fromLocal<T>(ref: string, what: string, answer: Promise<T>): Promise<T> {
    try {
      return await answer;
    } catch (err) {
      if (missing(err) && isAbsolute(ref)) throw new NotOnThisMachine(ref, what);
      throw err;
    }
  }

  /** Whether the object or file exists. */
  async exists(ref: string): Promise<boolean> {
    const key = keyOfRef(ref);
    if (key !== null) return (await this.store.size(key)) !== null;
    return stat(this.local(ref)).then(() => true, () => false);
  }

  /** Stores bytes under a key (atomically, as every store does) and returns the reference for a row. */
  async put(key: string, data: Buffer | Uint8Array | string): Promise<string> {
    await this.store.put(key, data);
    return storeRef(key);
  }

  /**
   * An image's bytes, stored by content hash (blobs/ab/abcd....png, the data directory's old layout for
   * uploads): the same image uploaded twice is stored once. Returns the reference for the image row.
   */
  async putImage(data: Buffer, info: { sha256: string; format: string }): Promise<string> {
    const key = `blobs/${info.sha256.slice(0, 2)}/${info.sha256}.${info.format}`;
    if ((await this.store.size(key)) !== data.length) await this.store.put(key, data);
    return storeRef(key);
  }

  /**
   * An image an import read from a folder: copied into the store when the store is shared (postgres:,
   * s3:), so that any engine can read it; kept by path in a file: store (the same machine's disk).
   */
  async importedImage(absPath: string, data: Buffer, info: { sha256: string; format: string }): Promise<string> {
    return this.store.kind === 'file' ? absPath : this.putImage(data, info);
  }

  /** Why an import cannot read a folder on this machine, or null when it can. */
  async folderProblem(path: string): Promise<string | null> {
    try {
      if (!(await stat(path)).isDirectory()) return `${path} is not a folder on this machine (${hostname()})`;
      return null;
    } catch (err) {
      if (!missing(err)) throw err;
      return `the folder ${path} is not on this machine (${hostname()}): an import reads a folder by path on the engine that runs it, so it needs an engine on a machine that sees the folder (or upload the images through the API)`;
    }
  }
}

/** A training job's objects: checkpoints and reconstructions under jobs/<id>/. */
export const jobObjectKey = (jobId: string, name: string): string => `jobs/${jobId}/${name}`;
/** A trained model's file under models/. */
export const modelObjectKey = (name: string): string => `models/${name}`;
