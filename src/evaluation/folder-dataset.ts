// Loads one evaluation domain from a folder (class folders, Matek-19 codes or a labels.csv, via
// services/dataset-layouts): a seeded stratified sample, each image through the pipeline's detect stage
// (src/pipeline/detect.ts: the top-scoring cell's instance features and its crop with AE-CFE's margins). Images without a detection or that fail to decode are counted and listed, never dropped silently.
import { createHash } from 'node:crypto';
import { mkdir, readFile, realpath, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createRng, mixSeed, shuffleInPlace } from '../engine/classifier/rng.js';
import { detectTopCell, type DetectorLike, type TopCell } from '../pipeline/detect.js';
import { readLayout, type Layout, type LayoutEntry } from '../services/dataset-layouts.js';
import { classOf, harmonise, type ClassMapName } from '../pipeline/class-maps.js';
import type { EvaluationCell, EvaluationDomain } from './pipeline.js';
import { boxInCrop } from '../imaging/cell-morphology.js';

/** What loading needs of a detector: its detect() (the pipeline's DetectorLike). */
export type CellDetectorLike = DetectorLike;
export { detectTopCell, type TopCell };

/**
 * What identifies a detector for the per-image detection cache (`FolderDomainOptions.cache.key`): its
 * file (path, size, time) and its model card's sha256 and version. `leukograph evaluate` and the
 * autoencoder benchmark use it alike, so they share cached detections.
 */
export async function detectorCacheKey(modelPath: string, detector: object): Promise<string> {
  const card = (detector as { model?: { sha256?: string; version?: string } }).model;
  let file = 'no-file';
  try {
    const st = await stat(modelPath);
    file = `${resolve(modelPath)}:${st.size}:${st.mtimeMs}`;
  } catch {
    // a detector without a file (tests, dry runs, the stand-in detector)
  }
  return `${file}:${card?.sha256 ?? ''}:${card?.version ?? ''}:${detector.constructor?.name ?? ''}`;
}

export interface FolderDomainOptions {
  name: string;
  dir: string;
  /** Real path that links found while listing must stay inside. Default: the folder itself. */
  root?: string;
  layout?: Layout;
  classes: ClassMapName;
  /** Keep at most this many images per class (raw class for labels outside the map); seeded. */
  maxPerClass?: number;
  seed?: number;
  /** Side of the square crops (the autoencoder preset's image size: cpu 64, paper 128). */
  imageSize: number;
  detector: CellDetectorLike;
  /** Keep cells whose label is outside the class map, as unlabelled (alignment / autoencoder only). Default true. */
  keepUnmapped?: boolean;
  /**
   * Cache of each image's top cell (box, score, features, crop), so that reruns with other training settings
   * skip detection. `key` must identify the detector (e.g. its sha256): a different key never hits.
   */
  cache?: { dir: string; key: string };
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface FolderDomainStats {
  dir: string;
  layout: string;
  /** Images listed in the folder. */
  images: number;
  /** Images taken after per-class sampling. */
  sampled: number;
  maxPerClass: number | null;
  /** Cells kept (one per image with a detection). */
  cells: number;
  labelled: number;
  /** Images whose detector found no white cell, in all and per class. */
  noDetection: number;
  noDetectionByClass: Record<string, number>;
  /** Images that could not be read or decoded, and the first reasons. */
  failed: number;
  failures: Array<{ path: string; error: string }>;
  /** Sampled images whose label is not in the class map, per raw label; kept unlabelled unless `dropped`. */
  unmapped: Record<string, number>;
  unmappedDropped: boolean;
  /** Sampled images without any label (kept unlabelled). */
  unlabelled: number;
  /** Images that show more than one detection (the top-scoring one is used). */
  multipleDetections: number;
  /** Images whose detection came from the cache. */
  cached: number;
  seconds: number;
}

const CACHE_MAGIC = 0x4c474543; // "LGEC"

async function cachePath(cache: { dir: string; key: string }, absPath: string, imageSize: number): Promise<string> {
  const st = await stat(absPath);
  const h = createHash('sha256').update(`${cache.key}\0${absPath}\0${st.size}\0${st.mtimeMs}\0${imageSize}`).digest('hex');
  return join(cache.dir, h.slice(0, 2), `${h}.lgec`);
}

function encodeTopCell(t: TopCell): Buffer {
  const f = t.top?.features ?? new Float32Array(0);
  const c = t.top?.crop ?? new Uint8Array(0);
  const head = Buffer.alloc(48);
  head.writeUInt32LE(CACHE_MAGIC, 0);
  head.writeUInt32LE(t.width, 4);
  head.writeUInt32LE(t.height, 8);
  head.writeUInt32LE(t.cellCount, 12);
  head.writeUInt32LE(f.length, 16);
  head.writeUInt32LE(c.length, 20);
  head.writeFloatLE(t.top?.score ?? 0, 24);
  const box = Buffer.alloc(32);
  (t.top?.box ?? [0, 0, 0, 0]).forEach((v, i) => box.writeDoubleLE(v, 8 * i));
  return Buffer.concat([head, box, Buffer.from(f.buffer, f.byteOffset, f.byteLength), Buffer.from(c.buffer, c.byteOffset, c.byteLength)]);
}

function decodeTopCell(b: Buffer): TopCell | null {
  if (b.length < 80 || b.readUInt32LE(0) !== CACHE_MAGIC) return null;
  const width = b.readUInt32LE(4);
  const height = b.readUInt32LE(8);
  const cellCount = b.readUInt32LE(12);
  const nf = b.readUInt32LE(16);
  const nc = b.readUInt32LE(20);
  if (b.length !== 80 + 4 * nf + nc) return null;
  if (cellCount === 0) return { width, height, cellCount, top: null };
  const box = [0, 1, 2, 3].map((i) => b.readDoubleLE(48 + 8 * i)) as [number, number, number, number];
  const features = new Float32Array(nf);
  Buffer.from(features.buffer).set(b.subarray(80, 80 + 4 * nf));
  const crop = new Uint8Array(b.subarray(80 + 4 * nf, 80 + 4 * nf + nc));
  return { width, height, cellCount, top: { box, score: b.readFloatLE(24), features, crop } };
}

const UNLABELLED = '(unlabelled)';

/** The class of an entry under the map, or null; `raw` is its group for sampling. */
function classify(e: LayoutEntry, map: ClassMapName): { cls: string | null; group: string } {
  const type = harmonise(e.rawLabel, e.subtype);
  const cls = classOf(type, map);
  return { cls, group: cls ?? (e.rawLabel ? `raw:${e.rawLabel}` : UNLABELLED) };
}

/**
 * Seeded, stratified sample: per group (class, or raw label outside the map), the entries sorted by path,
 * shuffled with a generator seeded by (seed, group name), and the first `maxPerClass` kept. Returned in
 * path order. The same folder and seed give the same sample whatever order the files are listed in.
 */
export function sampleEntries<E extends { relPath: string }>(entries: readonly E[], groupOf: (e: E) => string, maxPerClass: number | undefined, seed: number): E[] {
  if (maxPerClass === undefined) return [...entries].sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
  if (!(Number.isInteger(maxPerClass) && maxPerClass >= 1)) throw new Error(`maxPerClass must be an integer >= 1, got ${maxPerClass}`);
  const groups = new Map<string, E[]>();
  for (const e of entries) {
    const g = groupOf(e);
    let list = groups.get(g);
    if (!list) groups.set(g, (list = []));
    list.push(e);
  }
  const out: E[] = [];
  for (const [g, list] of groups) {
    list.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
    let h = 0;
    for (let i = 0; i < g.length; i++) h = (Math.imul(h, 31) + g.charCodeAt(i)) >>> 0;
    const order = shuffleInPlace(Array.from(list, (_, i) => i), createRng(mixSeed(seed, h)));
    for (const i of order.slice(0, maxPerClass)) out.push(list[i]!);
  }
  return out.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
}

/** Reads, samples and detects one domain. */
export async function loadFolderDomain(opts: FolderDomainOptions): Promise<{ domain: EvaluationDomain; stats: FolderDomainStats }> {
  const t0 = performance.now();
  const dir = resolve(opts.dir);
  const root = opts.root ?? (await realpath(dir));
  const { layout, entries } = await readLayout(dir, root, opts.layout ?? 'auto');
  const keepUnmapped = opts.keepUnmapped ?? true;
  const info = new Map(entries.map((e) => [e, classify(e, opts.classes)]));
  const sample = sampleEntries(entries, (e) => info.get(e)!.group, opts.maxPerClass, opts.seed ?? 0);
  const stats: FolderDomainStats = {
    dir,
    layout,
    images: entries.length,
    sampled: sample.length,
    maxPerClass: opts.maxPerClass ?? null,
    cells: 0,
    labelled: 0,
    noDetection: 0,
    noDetectionByClass: {},
    failed: 0,
    failures: [],
    unmapped: {},
    unmappedDropped: !keepUnmapped,
    unlabelled: 0,
    multipleDetections: 0,
    cached: 0,
    seconds: 0,
  };
  const cells: EvaluationCell[] = [];
  let done = 0;
  for (const e of sample) {
    opts.signal?.throwIfAborted();
    const { cls } = info.get(e)!;
    opts.onProgress?.(done++, sample.length);
    if (cls === null) {
      if (e.rawLabel) {
        stats.unmapped[e.rawLabel] = (stats.unmapped[e.rawLabel] ?? 0) + 1;
        if (!keepUnmapped) continue;
      } else stats.unlabelled++;
    }
    let found: TopCell;
    try {
      const cacheFile = opts.cache ? await cachePath(opts.cache, e.absPath, opts.imageSize) : null;
      const hit = cacheFile ? await readFile(cacheFile).then(decodeTopCell, () => null) : null;
      if (hit) {
        stats.cached++;
        found = hit;
      } else {
        found = await detectTopCell(opts.detector, await readFile(e.absPath), opts.imageSize);
        if (cacheFile) {
          await mkdir(join(cacheFile, '..'), { recursive: true });
          const tmp = `${cacheFile}.${process.pid}.tmp`;
          await writeFile(tmp, encodeTopCell(found));
          await rename(tmp, cacheFile);
        }
      }
    } catch (err) {
      stats.failed++;
      if (stats.failures.length < 20) stats.failures.push({ path: e.relPath, error: (err as Error).message });
      continue;
    }
    if (!found.top) {
      stats.noDetection++;
      const k = cls ?? e.rawLabel ?? UNLABELLED;
      stats.noDetectionByClass[k] = (stats.noDetectionByClass[k] ?? 0) + 1;
      continue;
    }
    if (found.cellCount > 1) stats.multipleDetections++;
    const { features, crop, box } = found.top;
    cells.push({
      features,
      crop,
      label: cls,
      id: e.relPath,
      box: boxInCrop(box, found.width, found.height),
      imageBox: { box, width: found.width, height: found.height },
    });
    if (cls !== null) stats.labelled++;
  }
  opts.onProgress?.(sample.length, sample.length);
  stats.cells = cells.length;
  stats.seconds = Math.round((performance.now() - t0) / 10) / 100;
  return { domain: { name: opts.name, cells, loading: { ...stats } }, stats };
}
