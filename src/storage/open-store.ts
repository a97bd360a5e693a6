// Chooses the object store from LEUKOGRAPH_STORAGE_URL: file:///dir (default: the data directory, as
// before), postgres: (the application's own database: DATABASE_URL alone lets a machine join), or
// s3://bucket/prefix?endpoint=... (any S3-compatible object store).
import { fileURLToPath } from 'node:url';
import { isAbsolute } from 'node:path';
import type { ObjectStore } from './object-store.js';
import { FileStore } from './file-store.js';
import { parseS3Url } from './s3-location.js';

export type StorageKind = ObjectStore['kind'];

/** Checks a storage URL without opening anything, so that a bad setting stops a process at start. */
export function storageKind(url: string | null): StorageKind {
  if (!url) return 'file';
  if (url.startsWith('file:')) {
    const path = fileURLToPath(url);
    if (!isAbsolute(path)) throw new Error(`LEUKOGRAPH_STORAGE_URL ${url}: a file: URL names an absolute folder (file:///srv/leukograph)`);
    return 'file';
  }
  if (url === 'postgres:' || url === 'postgresql:') return 'postgres';
  if (url.startsWith('postgres:') || url.startsWith('postgresql:')) {
    throw new Error(`LEUKOGRAPH_STORAGE_URL ${url.replace(/:[^:@/]*@/, ':***@')}: write just "postgres:" — objects go into the database that DATABASE_URL names`);
  }
  if (url.startsWith('s3:')) {
    parseS3Url(url);
    return 's3';
  }
  throw new Error(`LEUKOGRAPH_STORAGE_URL ${url}: expected file:///dir, postgres: or s3://bucket/prefix?endpoint=...`);
}

/** Opens the store a URL names; the PostgreSQL and S3 clients are loaded only when chosen. */
export async function openStore(url: string | null, ctx: { dataDir: string; databaseUrl: string }): Promise<ObjectStore> {
  switch (storageKind(url)) {
    case 'file':
      return new FileStore(url ? fileURLToPath(url) : ctx.dataDir);
    case 'postgres':
      return new (await import('./postgres-store.js')).PostgresStore(ctx.databaseUrl);
    case 's3':
      return new (await import('./s3-store.js')).S3Store(parseS3Url(url!));
  }
}
