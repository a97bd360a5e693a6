// Confines server-side imports to the configured data roots: a path outside them, one that climbs out
// with '..', or a symlink whose target escapes, is refused before anything is read.
import { realpath, lstat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

export class PathRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PathRefused';
  }
}

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Resolves `requested` (absolute, or relative to the first root) to a real folder inside a data root.
 * Symlinks are followed and the target must still lie inside the same root.
 */
export async function resolveInsideRoots(requested: string, roots: string[]): Promise<{ root: string; path: string }> {
  if (!requested || requested.includes('\0')) throw new PathRefused('empty or invalid path');
  if (requested.split(/[\\/]/).includes('..')) throw new PathRefused(`path "${requested}" contains "..": give a path inside a data root`);
  if (roots.length === 0) throw new PathRefused('no data roots are configured (LEUKOGRAPH_DATA_ROOTS)');
  const candidate = isAbsolute(requested) ? resolve(requested) : resolve(roots[0], requested);
  const root = roots.find((r) => inside(r, candidate));
  if (!root) throw new PathRefused(`path "${requested}" is outside the data roots (${roots.join(', ')})`);
  let real: string;
  let realRoot: string;
  try {
    real = await realpath(candidate);
    realRoot = await realpath(root);
  } catch {
    throw new PathRefused(`path "${requested}" does not exist`);
  }
  if (!inside(realRoot, real)) throw new PathRefused(`path "${requested}" is a link that leads outside its data root`);
  return { root: realRoot, path: real };
}

/** For files found while walking an allowed folder: true when the file's real location stays inside root. */
export async function staysInside(file: string, realRoot: string): Promise<boolean> {
  try {
    const st = await lstat(file);
    if (!st.isSymbolicLink()) return true;
    return inside(realRoot, await realpath(file));
  } catch {
    return false;
  }
}

export { sep };
