// Reads the folder layouts a dataset can come in and lists its image files with their raw labels:
// class folders (Acevedo-20), Matek-19's class-code folders, a labels.csv, or a flat folder of
// unlabelled images. Reading only: nothing here touches the database.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, extname, basename } from 'node:path';
import { MATEK_CODES } from './class-maps.js';
import { staysInside } from './data-roots.js';

export const LAYOUTS = ['auto', 'class-folders', 'matek', 'labels-csv', 'images'] as const;
export type Layout = (typeof LAYOUTS)[number];

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

async function listImages(dir: string, root: string, recursive: boolean): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (!(await staysInside(p, root))) continue;
    const st = await stat(p);
    if (st.isDirectory()) {
      if (recursive) out.push(...(await listImages(p, root, true)));
    } else if (st.isFile() && isImage(e.name)) out.push(p);
  }
  return out;
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
  const rows = parseCsv(await readFile(join(dir, 'labels.csv'), 'utf8'));
  if (rows.length < 1) throw new LayoutError('labels.csv is empty');
  const header = rows[0].map((h) => h.trim().toLowerCase());
  const pi = header.findIndex((h) => PATH_COLUMNS.includes(h));
  const ci = header.findIndex((h) => CLASS_COLUMNS.includes(h));
  if (pi < 0) throw new LayoutError(`labels.csv needs an image path column (one of ${PATH_COLUMNS.join(', ')}); found ${header.join(', ')}`);
  const si = header.indexOf('subtype');
  const spi = header.indexOf('split');
  const out: LayoutEntry[] = [];
  for (const r of rows.slice(1)) {
    const rel = (r[pi] ?? '').trim().replace(/\\/g, '/');
    if (!rel) continue;
    if (rel.split('/').includes('..') || rel.startsWith('/')) throw new LayoutError(`labels.csv path "${rel}" leaves the dataset folder`);
    const abs = join(dir, rel);
    if (!(await staysInside(abs, root))) throw new LayoutError(`labels.csv path "${rel}" is a link that leads outside the data root`);
    out.push({
      relPath: rel,
      absPath: abs,
      rawLabel: ci >= 0 ? (r[ci] ?? '').trim() || null : null,
      subtype: si >= 0 ? (r[si] ?? '').trim() || null : subtypeFromName(rel),
      split: spi >= 0 ? (r[spi] ?? '').trim() || null : null,
    });
  }
  return out;
}

/** Lists the images of `dir` in the given layout (`auto` detects it). */
export async function readLayout(dir: string, root: string, layout: Layout): Promise<{ layout: Exclude<Layout, 'auto'>; entries: LayoutEntry[] }> {
  const chosen = layout === 'auto' ? await detectLayout(dir) : layout;
  const rel = (p: string) => relative(dir, p).split('\\').join('/');
  let entries: LayoutEntry[];
  if (chosen === 'labels-csv') entries = await readLabelsCsv(dir, root);
  else if (chosen === 'images') {
    entries = (await listImages(dir, root, true)).map((p) => ({ relPath: rel(p), absPath: p, rawLabel: null, subtype: null, split: null }));
  } else {
    entries = [];
    const subs = await subfolders(dir);
    if (chosen === 'matek') {
      const unknown = subs.filter((s) => !MATEK_CODES.includes(s));
      if (unknown.length) throw new LayoutError(`not Matek-19 class codes: ${unknown.join(', ')}`);
    }
    for (const cls of subs) {
      for (const p of await listImages(join(dir, cls), root, true)) {
        entries.push({ relPath: rel(p), absPath: p, rawLabel: cls, subtype: chosen === 'matek' ? null : subtypeFromName(p), split: null });
      }
    }
  }
  if (entries.length === 0) throw new LayoutError(`no images (${[...IMAGE_EXTENSIONS].join(' ')}) found in ${chosen} layout`);
  return { layout: chosen, entries };
}
