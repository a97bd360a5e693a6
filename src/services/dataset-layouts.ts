// Reads the folder layouts a dataset can come in and lists its image files with their raw labels:
// class folders (Acevedo-20), Matek-19's class-code folders, a labels.csv, or a flat folder of
// unlabelled images. Reading only: nothing here touches the database.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, extname, basename } from 'node:path';
import { MATEK_CODES } from '../pipeline/class-maps.js';
import { staysInside } from './data-roots.js';
import { LAYOUTS, type Layout } from '../jobs/job-kinds.js';

export { LAYOUTS, type Layout };

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.tif', '.tiff', '.bmp']);

export interface LayoutEntry {
  /** Path relative to the dataset folder, with '/' separators. */
  relPath: string;
  absPath: string;
  rawLabel: string | null;
  subtype: string | null;
  split: string | null;
}

export class LayoutError extends Error {}

function isImage(name: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}

/** A file an import leaves out, and why; every one is reported in the import's result. */
export interface SkippedFile {
  path: string;
  reason: string;
}

const NOT_AN_IMAGE = `not an image type that is read (${[...IMAGE_EXTENSIONS].join(' ')})`;

async function listImages(dir: string, root: string, recursive: boolean, skipped: SkippedFile[], rel: (p: string) => string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.name.startsWith('.')) {
      skipped.push({ path: rel(p), reason: 'hidden file' });
      continue;
    }
    if (!(await staysInside(p, root))) {
      skipped.push({ path: rel(p), reason: e.isSymbolicLink() && (await exists(p)) ? 'a link that leads outside the data root' : 'a link whose target does not exist' });
      continue;
    }
    const st = await stat(p);
    if (st.isDirectory()) {
      if (recursive) out.push(...(await listImages(p, root, true, skipped, rel)));
      else skipped.push({ path: rel(p), reason: 'a folder inside a class folder' });
    } else if (!st.isFile()) skipped.push({ path: rel(p), reason: 'not a regular file' });
    else if (!isImage(e.name)) skipped.push({ path: rel(p), reason: NOT_AN_IMAGE });
    else out.push(p);
  }
  return out;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

async function subfolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    if (e.isDirectory() || (e.isSymbolicLink() && (await stat(join(dir, e.name))).isDirectory())) out.push(e.name);
  }
  return out.sort();
}

/** Picks the layout of a folder by what is in it. */
export async function detectLayout(dir: string): Promise<Exclude<Layout, 'auto'>> {
  const names = await readdir(dir);
  if (names.includes('labels.csv')) return 'labels-csv';
  const subs = await subfolders(dir);
  if (subs.length > 0 && subs.every((s) => MATEK_CODES.includes(s))) return 'matek';
  if (subs.length > 0) return 'class-folders';
  return 'images';
}

// Acevedo-20 names files <PREFIX>_<id>.jpg; the prefix is the subtype (SNE, BNE, MY, ...).
function subtypeFromName(file: string): string | null {
  const m = /^([A-Za-z]{2,8})_/.exec(basename(file));
  return m ? m[1].toUpperCase() : null;
}

/** Minimal RFC 4180 CSV parsing (quotes, escaped quotes, CRLF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const PATH_COLUMNS = ['path', 'image', 'file', 'filename', 'image_path'];
const CLASS_COLUMNS = ['class', 'label', 'category', 'cell_type'];

async function readLabelsCsv(dir: string, root: string): Promise<LayoutEntry[]> {
  let text: string;
  try {
    text = await readFile(join(dir, 'labels.csv'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new LayoutError('layout labels-csv needs a labels.csv in the folder, and there is none');
    throw err;
  }
  const rows = parseCsv(text);
  if (rows.length < 1) throw new LayoutError('labels.csv is empty');
  const header = rows[0].map((h) => h.trim().toLowerCase());
  const pi = header.findIndex((h) => PATH_COLUMNS.includes(h));
  const ci = header.findIndex((h) => CLASS_COLUMNS.includes(h));
  if (pi < 0) throw new LayoutError(`labels.csv needs an image path column (one of ${PATH_COLUMNS.join(', ')}); found ${header.join(', ')}`);
  const si = header.indexOf('subtype');
  const spi = header.indexOf('split');
  const out: LayoutEntry[] = [];
  const missing: string[] = [];
  for (const [i, r] of rows.slice(1).entries()) {
    const rel = (r[pi] ?? '').trim().replace(/\\/g, '/');
    if (!rel) continue;
    if (rel.split('/').includes('..') || rel.startsWith('/')) throw new LayoutError(`labels.csv path "${rel}" leaves the dataset folder`);
    const abs = join(dir, rel);
    if (!(await exists(abs))) {
      missing.push(`"${rel}" (line ${i + 2})`);
      continue;
    }
    if (!(await staysInside(abs, root))) throw new LayoutError(`labels.csv path "${rel}" is a link that leads outside the data root`);
    out.push({
      relPath: rel,
      absPath: abs,
      rawLabel: ci >= 0 ? (r[ci] ?? '').trim() || null : null,
      subtype: si >= 0 ? (r[si] ?? '').trim() || null : subtypeFromName(rel),
      split: spi >= 0 ? (r[spi] ?? '').trim() || null : null,
    });
  }
  if (missing.length) {
    throw new LayoutError(`labels.csv names ${missing.length} file${missing.length > 1 ? 's' : ''} that do${missing.length > 1 ? '' : 'es'} not exist: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
  }
  return out;
}

/**
 * Lists the images of `dir` in the given layout (`auto` detects it), and every file it leaves out with the
 * reason (other file types, hidden files, links that lead outside the data root, files beside the class folders).
 */
export async function readLayout(
  dir: string,
  root: string,
  layout: Layout,
): Promise<{ layout: Exclude<Layout, 'auto'>; entries: LayoutEntry[]; skipped: SkippedFile[] }> {
  const chosen = layout === 'auto' ? await detectLayout(dir) : layout;
  const rel = (p: string) => relative(dir, p).split('\\').join('/');
  const skipped: SkippedFile[] = [];
  let entries: LayoutEntry[];
  if (chosen === 'labels-csv') entries = await readLabelsCsv(dir, root);
  else if (chosen === 'images') {
    entries = (await listImages(dir, root, true, skipped, rel)).map((p) => ({ relPath: rel(p), absPath: p, rawLabel: null, subtype: null, split: null }));
  } else {
    entries = [];
    const subs = await subfolders(dir);
    if (chosen === 'matek') {
      const unknown = subs.filter((s) => !MATEK_CODES.includes(s));
      if (unknown.length) throw new LayoutError(`not Matek-19 class codes: ${unknown.join(', ')}`);
    }
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.')) skipped.push({ path: e.name, reason: 'hidden file' });
      else if (!subs.includes(e.name)) skipped.push({ path: e.name, reason: 'beside the class folders (a labelled image belongs in its class folder)' });
    }
    for (const cls of subs) {
      for (const p of await listImages(join(dir, cls), root, true, skipped, rel)) {
        entries.push({ relPath: rel(p), absPath: p, rawLabel: cls, subtype: chosen === 'matek' ? null : subtypeFromName(p), split: null });
      }
    }
  }
  if (entries.length === 0) {
    const why = skipped.length ? `; left out: ${skipped.slice(0, 3).map((f) => `${f.path} (${f.reason})`).join(', ')}${skipped.length > 3 ? ', ...' : ''}` : '';
    throw new LayoutError(`no images (${[...IMAGE_EXTENSIONS].join(' ')}) found in ${chosen} layout${why}`);
  }
  return { layout: chosen, entries, skipped };
}
