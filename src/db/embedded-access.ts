// As root, the embedded PostgreSQL runs as the `postgres` user (PostgreSQL refuses root). That user must be
// able to enter every folder above the server's binaries and its data directory; in a checkout under /root,
// or any folder of mode 700, it cannot, and the server's start would die in an unhandled `spawn ... EACCES`.
// This finds such a folder first, so that `serve` stops with one line that says why and what to do.
import { statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';

/** The folders from `path` up to `/`, nearest first. */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    out.push(p);
    if (dirname(p) === p) return out;
  }
}

function idOf(flag: '-u' | '-g', user: string): number | null {
  const r = spawnSync('id', [flag, user], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return r.status === 0 && Number.isInteger(n) ? n : null;
}

/** Whether uid/gid (null: a user yet to be created, neither owner nor in any group) may enter a folder, by its mode bits. */
export function mayEnter(dir: string, uid: number | null, gid: number | null, statOf: (p: string) => { mode: number; uid: number; gid: number } = statSync): boolean {
  const s = statOf(dir);
  if (uid !== null && s.uid === uid) return (s.mode & 0o100) !== 0;
  if (gid !== null && s.gid === gid) return (s.mode & 0o010) !== 0;
  return (s.mode & 0o001) !== 0;
}

/**
 * As root: the first folder above `paths` (existing ones) that the `postgres` user cannot enter, or null when
 * it can reach them all (or this process is not root).
 */
export function folderPostgresCannotEnter(paths: readonly string[], isRoot = process.getuid?.() === 0): string | null {
  if (!isRoot) return null;
  const uid = idOf('-u', 'postgres');
  const gid = idOf('-g', 'postgres');
  for (const p of paths) {
    // The data directory itself is made enterable by startEmbeddedPostgres; the folders above it are the user's.
    for (const dir of ancestors(p).slice(1).reverse()) {
      try {
        if (!mayEnter(dir, uid, gid)) return dir;
      } catch {
        // a folder that does not exist yet is created by the server, as root, enterable
      }
    }
  }
  return null;
}

export function cannotEnterMessage(dir: string, dataDir: string): string {
  const mode = (() => {
    try {
      return ` (mode ${(statSync(dir).mode & 0o777).toString(8)})`;
    } catch {
      return '';
    }
  })();
  return (
    `running as root, the embedded PostgreSQL runs as the user "postgres", which cannot enter ${dir}${mode}, where its programs or ` +
    `its data (${dataDir}) are: put the checkout and --data-dir in a folder other users can enter (e.g. /opt/leukograph), ` +
    `run as another user, or point DATABASE_URL at a PostgreSQL server`
  );
}
