// The review-loop benchmark's data: each lab's cells as the product sees them (the detector's top cell of
// each image, its crop, the morphology values that a morphology classifier reads), with the lab's labels,
// written once to a JSON file so that the loop itself (loop.ts) runs in seconds. Detections are cached per
// image (the evaluation's cache: the same key as `leukograph evaluate`), so a rerun skips the detector.
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { detectorCacheKey, loadFolderDomain } from '../../src/evaluation/folder-dataset.js';
import { DEFAULT_BOX_IN_CROP, MORPHOLOGY_SIZE } from '../../src/imaging/cell-morphology.js';
import { cellSeed, morphologyOfCrop } from '../../src/pipeline/morphology.js';
import { augmentCrop } from '../../src/pipeline/augment.js';

export interface LabCells {
  name: string;
  /** Image path of each cell (relative to the lab's folder). */
  ids: string[];
  labels: string[];
  /** MORPHOLOGY_LENGTH values per cell. */
  x: number[][];
  loading: Record<string, unknown>;
  /**
   * The source only: the training-time augmentation as the train-classifier job makes it (augmentCrop, the job's
   * seed, cellSeed of the cell's id), one set per job seed (the bench's forest seed is the job's seed, which
   * also seeds the copies): `copies` copies of each cell, `of` the index of the cell each row was made from.
   */
  augmented?: Array<{ seed: number; copies: number; of: number[]; x: number[][] }>;
}

export interface FeatureFile {
  created: string;
  detector: string;
  labs: LabCells[];
}

const csv = (t: string) => t.trim().split(/\r?\n/).map((l) => l.split(','));
const writeLabels = (dir: string, rows: string[][]) => writeFileSync(join(dir, 'labels.csv'), rows.map((r) => r.join(',')).join('\n') + '\n');

/**
 * The labs as scripts/results.sh prepares them: Acevedo-20 without the immature granulocytes and without the
 * images the detector was trained on; BCCD's fields with one labelled white cell; Zheng DS2 as it is.
 */
export function prepareViews(data: string, work: string, splitsPath: string): Record<string, string> {
  mkdirSync(work, { recursive: true });
  const splits = existsSync(splitsPath) ? JSON.parse(readFileSync(splitsPath, 'utf8')) : {};
  const seen = new Set<string>([...(splits.acevedo_train ?? []), ...(splits.acevedo_in_txl_excluded ?? [])]);
  const ace = csv(readFileSync(join(data, 'acevedo20/labels.csv'), 'utf8'));
  const aceDir = join(work, 'acevedo20');
  rmSync(aceDir, { recursive: true, force: true });
  mkdirSync(aceDir);
  const aceRows = ace.slice(1).filter((r) => r[1] !== 'ig' && !seen.has(r[0]!));
  for (const cls of new Set(aceRows.map((r) => r[0]!.split('/')[0]!))) symlinkSync(join(data, 'acevedo20', cls), join(aceDir, cls));
  writeLabels(aceDir, [ace[0]!, ...aceRows]);
  const bccd = csv(readFileSync(join(data, 'bccd/labels.csv'), 'utf8'));
  const h = bccd[0]!;
  const [kind, nbox] = [h.indexOf('label_kind'), h.indexOf('n_wbc_boxes')];
  const bccdDir = join(work, 'bccd');
  rmSync(bccdDir, { recursive: true, force: true });
  mkdirSync(bccdDir);
  symlinkSync(join(data, 'bccd/images'), join(bccdDir, 'images'));
  writeLabels(bccdDir, [h, ...bccd.slice(1).filter((r) => r[kind] === 'single' && r[nbox] === '1')]);
  return { acevedo20: aceDir, bccd: bccdDir, 'zheng-ds2': join(data, 'zheng-ds2') };
}

export async function extractFeatures(opts: {
  data: string;
  work: string;
  cacheDir: string;
  modelPath: string;
  splits: string;
  sourceMaxPerClass: number;
  seed: number;
  /** Augmented copies of each source cell (MORPHOLOGY_AUGMENT_COPIES in the product; 0: none). */
  augmentCopies: number;
  /** The job seeds to make them for (the run's seeds). */
  augmentSeeds: readonly number[];
  log: (s: string) => void;
}): Promise<FeatureFile> {
  const dirs = prepareViews(resolve(opts.data), resolve(opts.work), opts.splits);
  const { createDetector } = await import('../../src/engine/detector/index.js');
  const detector = await createDetector({ modelPath: opts.modelPath });
  const cache = { dir: resolve(opts.cacheDir), key: await detectorCacheKey(opts.modelPath, detector) };
  const labs: LabCells[] = [];
  try {
    for (const [name, dir] of Object.entries(dirs)) {
      const t0 = performance.now();
      const { domain, stats } = await loadFolderDomain({
        name, dir, classes: 'common5', imageSize: MORPHOLOGY_SIZE, detector, cache, seed: opts.seed, keepUnmapped: false,
        maxPerClass: name === 'acevedo20' ? opts.sourceMaxPerClass : undefined,
        onProgress: (done, total) => {
          if (done % 50 === 0) opts.log(`${name}: ${done}/${total} images`);
        },
      });
      const lab: LabCells = { name, ids: [], labels: [], x: [], loading: { ...stats, failures: stats.failures.slice(0, 3) } };
      const augment = name === 'acevedo20' && opts.augmentCopies > 0;
      if (augment) lab.augmented = opts.augmentSeeds.map((seed) => ({ seed, copies: opts.augmentCopies, of: [], x: [] }));
      const round = (v: ArrayLike<number>) => Array.from(v, (x) => Math.round(x * 1e6) / 1e6);
      for (const c of domain.cells) {
        if (c.label === null) continue;
        const raw = typeof c.crop === 'function' ? await c.crop() : c.crop;
        // Loaded at MORPHOLOGY_SIZE, as the evaluation's morphology methods read them.
        if (raw.length !== MORPHOLOGY_SIZE * MORPHOLOGY_SIZE * 3) throw new Error(`${name} ${c.id}: crop of ${raw.length} values`);
        lab.ids.push(c.id!);
        lab.labels.push(c.label);
        lab.x.push(round(morphologyOfCrop(raw, c.box)));
        // As the evaluation makes them for the source (src/evaluation/pipeline.ts), the job's way (morphologyOfCells):
        // augmentCrop of the MORPHOLOGY_SIZE crop, seeded by the job's seed and cellSeed of the cell's id.
        for (const set of augment ? lab.augmented! : []) {
          for (const a of await augmentCrop({ crop: raw, size: MORPHOLOGY_SIZE, box: c.box ?? DEFAULT_BOX_IN_CROP }, set.copies, set.seed, cellSeed(c.id!))) {
            set.x.push(round(morphologyOfCrop(a.crop, a.box)));
            set.of.push(lab.x.length - 1);
          }
        }
        if (augment && lab.x.length % 100 === 0) opts.log(`${name}: ${lab.x.length} cells measured with ${opts.augmentCopies} augmented copies for ${opts.augmentSeeds.length} seeds`);
      }
      opts.log(`${name}: ${lab.x.length} labelled cells (${stats.cached} detections from the cache) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      labs.push(lab);
    }
  } finally {
    await (detector as { dispose?: () => Promise<void> }).dispose?.();
  }
  return { created: new Date().toISOString(), detector: cache.key, labs };
}
