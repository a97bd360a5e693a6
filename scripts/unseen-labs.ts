/**
 * docs/unseen-labs.md (and .json) with one command (issue 17): scripts/unseen.sh runs this after building.
 * Loads Acevedo-20 (without the immature granulocytes and the images the detector trained on, as
 * scripts/results.sh prepares it), BCCD's single-cell fields and Zheng DS2 through the detector (top cell of each
 * image; detections cached per detector file), then src/evaluation/unseen-labs.ts.
 *
 * Environment: DATA (../shared/data), WORK_DIR (prepared views; /tmp/lg-results-work shares results.sh's cache
 * keys), CACHE_DIR (/tmp/leukograph-detections), MODEL (models/detector.onnx), MAX_PER_CLASS (Acevedo-20 images per
 * class, 600), SEED (0), TREES (100), SYNTH_SIZE (120), OUT_DIR (docs), PREPARED (a file: the measured rows are kept
 * there and read back on the next run with it, which then only fits and scores: for trying steps and limits),
 * AUGMENT (augmented copies per training cell, MORPHOLOGY_AUGMENT_COPIES), AUGMENT_MEASURE (copies measured into
 * PREPARED, default AUGMENT: measure more once, then score AUGMENT=0..that from the same file). The forest, FOREST_DEFAULTS
 * unless given: TREES, MAX_DEPTH, MIN_LEAF (minSamplesLeaf), MAX_FEATURES ('sqrt', 'log2', 'all', a count or a fraction),
 * AUGMENT_WEIGHT (each augmented copy's weight against its cell), PLAIN_TREES (the share of the trees fitted without the
 * augmented copies), FOREST_SEED (the classifiers' seed, default SEED: with
 * PREPARED, a second forest seed on the same cells and split), RULE_SEEDS (4: the stain step's rule is read over forest
 * seeds FOREST_SEED.. FOREST_SEED + RULE_SEEDS - 1, each a fit and a score more; 1: this seed alone). TRAIN_PER_CLASS (with PREPARED: the source classifier
 * trained on a seeded subset of this many of its training cells per class, for a learning curve; held-out cells unchanged).
 * EXTRA_VIEW (a module exporting `measure(crops)`: each crop's values of another view, appended after the 59 morphology
 * values of every row measured; for explorations such as training/classifier-exploration/ssl-view.mjs).
 * After the rule, the page's section on how far each row trained on a small lab could go with no shift at all
 * (src/evaluation/size-ceiling.ts, at FOREST_SEED). STEPS (a comma list of stain steps to score; default every one).
 * SELF_TRAINING=1: every lab self-trained after its first classification (src/pipeline/self-training.ts, the classify
 * job's selfTraining), each classifier carrying its training cells; with OUT_NAME, a page to set beside the default's.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createDetector, resolveDetectorPrecision } from '../src/engine/detector/index.js';
import type { LabCrop } from '../src/evaluation/synthetic-labs.js';
import { detectorCacheKey, loadFolderDomain } from '../src/evaluation/folder-dataset.js';
import { machineInfo } from '../src/evaluation/report.js';
import { morphologyRows, prepareUnseenLabs, renderUnseenLabs, ruleOverSeeds, scoreUnseenLabs, type LabeledLab, type PreparedRun } from '../src/evaluation/unseen-labs.js';
import { renderSizeCeilings, sizeCeilings } from '../src/evaluation/size-ceiling.js';
import { DEFAULT_STAIN_STEP, STAIN_STEPS, type StainStep } from '../src/engine/classifier/stain-steps.js';
import { FOREST_DEFAULTS, MORPHOLOGY_AUGMENT_COPIES } from '../src/pipeline/defaults.js';
import type { MaxFeatures } from '../src/engine/classifier/random-forest.js';
import { classesOf } from '../src/pipeline/class-maps.js';
import { createRng, mixSeed, shuffleInPlace } from '../src/engine/classifier/rng.js';
import { DEFAULT_BOX_IN_CROP, MORPHOLOGY_SIZE } from '../src/imaging/cell-morphology.js';
import { loadPrepared, savePrepared } from './prepared-run.js';
import { SELF_TRAINING_SHARE } from '../src/pipeline/self-training.js';
import { renderSelfTrainingComparison, selfTrainingVerdict } from '../src/evaluation/self-training-comparison.js';

const REPO = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const env = (k: string, d: string) => process.env[k] || d;
const DATA = resolve(env('DATA', join(REPO, '../shared/data')));
const WORK = resolve(env('WORK_DIR', '/tmp/lg-results-work'));
const CACHE = resolve(env('CACHE_DIR', '/tmp/leukograph-detections'));
const MODEL = resolve(env('MODEL', join(REPO, 'models/detector.onnx')));
const MAX = Number(env('MAX_PER_CLASS', '600'));
const SEED = Number(env('SEED', '0'));
const TREES = Number(env('TREES', String(FOREST_DEFAULTS.trees)));
const MAX_DEPTH = Number(env('MAX_DEPTH', String(FOREST_DEFAULTS.maxDepth)));
const MIN_LEAF = Number(env('MIN_LEAF', String(FOREST_DEFAULTS.minSamplesLeaf)));
const MAX_FEATURES_RAW = env('MAX_FEATURES', String(FOREST_DEFAULTS.maxFeatures));
const MAX_FEATURES = (['sqrt', 'log2', 'all'].includes(MAX_FEATURES_RAW) ? MAX_FEATURES_RAW : Number(MAX_FEATURES_RAW)) as MaxFeatures;
const AUGMENT_WEIGHT = Number(env('AUGMENT_WEIGHT', String(FOREST_DEFAULTS.augmentWeight)));
const PLAIN_TREES = Number(env('PLAIN_TREES', String(FOREST_DEFAULTS.plainTreeShare)));
const FOREST_SEED = Number(env('FOREST_SEED', String(SEED)));
const SYNTH = Number(env('SYNTH_SIZE', '120'));
const RULE_SEEDS = Number(env('RULE_SEEDS', '4'));
const SELF_TRAINING = env('SELF_TRAINING', '0') === '1';
const STEPS = process.env.STEPS ? (process.env.STEPS.split(',') as StainStep[]) : null;
if (SELF_TRAINING && STEPS && !STEPS.includes(DEFAULT_STAIN_STEP)) throw new Error(`SELF_TRAINING=1 compares at the default step: STEPS must include ${DEFAULT_STAIN_STEP}`);
for (const s of STEPS ?? []) if (!(STAIN_STEPS as readonly string[]).includes(s)) throw new Error(`STEPS: no stain step "${s}" (${STAIN_STEPS.join(', ')})`);
const OUT = resolve(env('OUT_DIR', join(REPO, 'docs')));
const AUGMENT = Number(env('AUGMENT', String(MORPHOLOGY_AUGMENT_COPIES)));
const BALANCED = env('BALANCED', String(FOREST_DEFAULTS.balanced)) === 'true';
/** Seeded random synthetic labs (syn-random-N) besides the fixed recipes; more of them test the self-check more widely. */
const RANDOM_LABS = Number(env('RANDOM_LABS', '3'));
/** The page's file name (OUT_DIR/OUT_NAME.md and .json). */
const OUT_NAME = env('OUT_NAME', 'unseen-labs');
/** Also the framed labs (held-out source images cut to tight frames and detected again: framed-labs.ts). */
const FRAMED = env('FRAMED', 'true') === 'true';
const say = (s: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);

/** The views results.sh prepares (same paths, so the detection cache's keys match). */
function prepareViews(): { ace: string; bccd: string; aceImages: number; bccdImages: number; excluded: number } {
  const csv = (t: string) => t.trim().split(/\r?\n/).map((l) => l.split(','));
  const write = (dir: string, header: string[], rows: string[][]) => writeFileSync(join(dir, 'labels.csv'), [header, ...rows].map((r) => r.join(',')).join('\n') + '\n');
  const splitsPath = join(REPO, 'training/detector/splits.json');
  const splits = existsSync(splitsPath) ? (JSON.parse(readFileSync(splitsPath, 'utf8')) as Record<string, string[]>) : {};
  const seen = new Set([...(splits.acevedo_train ?? []), ...(splits.acevedo_in_txl_excluded ?? [])]);
  const ace = csv(readFileSync(join(DATA, 'acevedo20/labels.csv'), 'utf8'));
  const aceRows = ace.slice(1).filter((r) => r[1] !== 'ig' && !seen.has(r[0]!));
  const aceDir = join(WORK, 'acevedo20');
  const bccd = csv(readFileSync(join(DATA, 'bccd/labels.csv'), 'utf8'));
  const h = bccd[0]!;
  const [kind, nbox] = [h.indexOf('label_kind'), h.indexOf('n_wbc_boxes')];
  const bccdRows = bccd.slice(1).filter((r) => r[kind] === 'single' && r[nbox] === '1');
  const bccdDir = join(WORK, 'bccd');
  // Rebuilt only when absent: other runs may be reading them (their content is the same whoever writes it).
  if (!existsSync(join(aceDir, 'labels.csv'))) {
    rmSync(aceDir, { recursive: true, force: true });
    mkdirSync(aceDir, { recursive: true });
    for (const cls of new Set(aceRows.map((r) => r[0]!.split('/')[0]!))) symlinkSync(join(DATA, 'acevedo20', cls), join(aceDir, cls));
    write(aceDir, ace[0]!, aceRows);
  }
  if (!existsSync(join(bccdDir, 'labels.csv'))) {
    rmSync(bccdDir, { recursive: true, force: true });
    mkdirSync(bccdDir, { recursive: true });
    symlinkSync(join(DATA, 'bccd/images'), join(bccdDir, 'images'));
    write(bccdDir, h, bccdRows);
  }
  return { ace: aceDir, bccd: bccdDir, aceImages: aceRows.length, bccdImages: bccdRows.length, excluded: seen.size };
}

/** The three labs through the detector (top cell per image, cached); the detector stays open for the framed labs. */
async function loadLabs(views: ReturnType<typeof prepareViews>, detector: Awaited<ReturnType<typeof createDetector>>): Promise<LabeledLab[]> {
  const cache = { dir: CACHE, key: await detectorCacheKey(MODEL, detector) };
  const specs = [
    { name: 'acevedo20', dir: views.ace, max: MAX as number | undefined },
    { name: 'bccd', dir: views.bccd, max: undefined },
    { name: 'zheng-ds2', dir: join(DATA, 'zheng-ds2'), max: undefined },
  ];
  const labs: LabeledLab[] = [];
  for (const s of specs) {
    let last = 0;
    const { domain, stats } = await loadFolderDomain({
      name: s.name, dir: s.dir, classes: 'common5', maxPerClass: s.max, seed: SEED, imageSize: MORPHOLOGY_SIZE, detector, cache, keepUnmapped: false,
      onProgress: (done, total) => {
        if (done > 0 && done < total && performance.now() - last > 15_000) {
          last = performance.now();
          say(`${s.name}: detected ${done}/${total} images`);
        }
      },
    });
    say(`${s.name}: ${stats.cells} cells from ${stats.sampled} images (${stats.cached} from the cache; no detection ${stats.noDetection}, failed ${stats.failed})`);
    const cells = domain.cells.filter((c) => c.label !== null);
    const crops: Uint8Array[] = [];
    for (const c of cells) crops.push(typeof c.crop === 'function' ? await c.crop() : c.crop);
    // The source's images, for the framed labs (framed-labs.ts): each cell's image file and the detector's box in it.
    const imageOf = async (i: number) => {
      const c = cells[i]!;
      return c.id && c.imageBox ? { image: await readFile(join(s.dir, c.id)), box: c.imageBox.box, width: c.imageBox.width, height: c.imageBox.height } : null;
    };
    labs.push({ name: s.name, crops, boxes: cells.map((c) => c.box ?? DEFAULT_BOX_IN_CROP), labels: cells.map((c) => c.label!), imageOf });
  }
  return labs;
}

const PREPARED = process.env.PREPARED ? resolve(process.env.PREPARED) : null;
const TRAIN_PER_CLASS = process.env.TRAIN_PER_CLASS ? Number(process.env.TRAIN_PER_CLASS) : null;

/** The source classifier's training cells cut to `count(class)` per class (seeded), their augmented copies with them. */
function fewerSourceCells(run: PreparedRun, count: (cls: string) => number, seed: number): void {
  const j = run.jobs[0]!;
  const byClass = new Map<string, number[]>();
  j.labels.forEach((l, i) => (byClass.get(l) ?? byClass.set(l, []).get(l)!).push(i));
  const keep = [...byClass].flatMap(([cls, idx]) => shuffleInPlace(idx, createRng(mixSeed(seed, 0x7c))).slice(0, count(cls))).sort((a, b) => a - b);
  const at = new Map(keep.map((i, k) => [i, k]));
  const aug = (j.augOf ?? []).flatMap((o, k) => (at.has(o) ? [k] : []));
  Object.assign(j, {
    rows: keep.map((i) => j.rows[i]!), labels: keep.map((i) => j.labels[i]!),
    augRows: aug.map((k) => j.augRows![k]!), augOf: aug.map((k) => at.get(j.augOf![k]!)!), augCopy: aug.map((k) => j.augCopy![k]!),
  });
}

/**
 * TRAIN_MIX=<lab>: the source's training cells cut to that lab's labelled class mix: the lab's largest class gets as
 * many cells as the source's smallest class has, the others in proportion, a class the lab lacks 1 cell (a source
 * whose labels are not balanced, as a user's own lab's are not: what class weights are chosen on).
 */
function sourceInMixOf(run: PreparedRun, lab: string): (cls: string) => number {
  const labels = run.jobs.flatMap((j) => j.labs).find((l) => l.name === lab && l.kind === 'real')?.labels;
  if (!labels) throw new Error(`TRAIN_MIX: no real lab ${lab} in the prepared rows`);
  const n = (cls: string, of: readonly string[]) => of.filter((x) => x === cls).length;
  const src = run.jobs[0]!.labels;
  const top = Math.max(...run.classes.map((c) => n(c, labels)));
  const perClass = Math.min(...run.classes.map((c) => n(c, src)));
  return (cls) => Math.max(1, Math.round((perClass * n(cls, labels)) / top));
}

const TRAIN_MIX = process.env.TRAIN_MIX || null;

/** EXTRA_VIEW's values appended to the morphology values, row by row. */
async function extraView(path: string): Promise<(crops: readonly LabCrop[]) => Promise<Float64Array[]>> {
  const mod = (await import(pathToFileURL(resolve(path)).href)) as { measure: (crops: readonly LabCrop[]) => Promise<ArrayLike<number>[]> };
  return async (crops) => {
    const extra = await mod.measure(crops);
    if (extra.length !== crops.length) throw new Error(`EXTRA_VIEW ${path}: ${extra.length} rows for ${crops.length} crops`);
    return morphologyRows(crops).map((m, i) => Float64Array.from([...m, ...Array.from(extra[i]!)]));
  };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const views = prepareViews();
  const classes = [...classesOf('common5')];
  let prepared: PreparedRun;
  if (PREPARED && existsSync(PREPARED)) {
    say(`reading the measured rows from ${PREPARED}`);
    prepared = loadPrepared(PREPARED);
  } else {
    // The detector the engine's jobs run (detector-loader.ts): on the CPU its accepted int8 variant, unless
    // LEUKOGRAPH_DETECTOR_PRECISION says otherwise; so that the page measures the cells a user's classify job sees.
    const detector = await createDetector({ modelPath: MODEL, precision: resolveDetectorPrecision(process.env.LEUKOGRAPH_DETECTOR_PRECISION) });
    say(`the detector: ${detector.variant.modelPath} (${detector.variant.precision}: ${detector.variant.reason})`);
    prepared = await prepareUnseenLabs(await loadLabs(views, detector), {
      classes, seed: SEED, syntheticSize: SYNTH, randomLabs: RANDOM_LABS, detector: FRAMED ? detector : undefined,
      augmentCopies: Number(env('AUGMENT_MEASURE', String(AUGMENT))), onProgress: say,
      measure: process.env.EXTRA_VIEW ? await extraView(process.env.EXTRA_VIEW) : undefined,
    });
    prepared.detector = `${basename(detector.variant.modelPath)} (${detector.model.version}), ${detector.variant.reason}`;
    await detector.dispose?.();
    if (PREPARED) savePrepared(prepared, PREPARED);
  }
  // What the rows hold (read back, they may have been measured with other settings than this run's).
  const sourceLabs = prepared.jobs[0]!.labs;
  const framed = sourceLabs.some((l) => l.name.startsWith('det-'));
  const randomLabs = sourceLabs.filter((l) => l.name.startsWith('syn-random-')).length;
  if (TRAIN_PER_CLASS !== null) fewerSourceCells(prepared, () => TRAIN_PER_CLASS, SEED);
  if (TRAIN_MIX) fewerSourceCells(prepared, sourceInMixOf(prepared, TRAIN_MIX), SEED);
  const score = (seed: number, selfTraining = SELF_TRAINING) => scoreUnseenLabs(prepared, {
    seed, trees: TREES, maxDepth: MAX_DEPTH, minSamplesLeaf: MIN_LEAF, maxFeatures: MAX_FEATURES, augmentWeight: AUGMENT_WEIGHT, plainTreeShare: PLAIN_TREES,
    syntheticSize: SYNTH, augmentCopies: AUGMENT, balanced: BALANCED, onProgress: say, selfTraining, ...(STEPS ? { steps: STEPS } : {}),
  });
  /** The page's report at FOREST_SEED, its rule read over RULE_SEEDS forest seeds (the page's tables are the first seed's). */
  const ruled = (selfTraining: boolean) => {
    const first = score(FOREST_SEED, selfTraining);
    const others = Array.from({ length: Math.max(0, RULE_SEEDS - 1) }, (_, k) => {
      say(`the rule at forest seed ${FOREST_SEED + k + 1}${selfTraining ? ' (self-trained)' : ''}`);
      const t = performance.now();
      const r = score(FOREST_SEED + k + 1, selfTraining);
      first.timings[`ruleSeed${FOREST_SEED + k + 1}`] = (performance.now() - t) / 1000;
      return r;
    });
    if (others.length) first.rule = ruleOverSeeds([first, ...others]);
    return first;
  };
  const report = ruled(SELF_TRAINING);
  // A self-trained page sets itself beside the default on the same rows and seeds, and reads the rule over the two.
  let comparison: string | undefined;
  let verdict: ReturnType<typeof selfTrainingVerdict> | undefined;
  if (SELF_TRAINING) {
    say('the default, not self-trained, on the same rows and seeds');
    const t = performance.now();
    const base = ruled(false);
    comparison = renderSelfTrainingComparison(base, report, DEFAULT_STAIN_STEP);
    report.timings.default = (performance.now() - t) / 1000;
    verdict = selfTrainingVerdict(base, report, DEFAULT_STAIN_STEP);
    say(`rule over default and self-trained: ${verdict.chosen}`);
  }
  const tc = performance.now();
  let ceilings: ReturnType<typeof sizeCeilings> = [];
  // The ceilings are set beside the default's figures: a self-trained page leaves them to docs/unseen-labs.md.
  if (!SELF_TRAINING) {
    try {
      say('the no-shift ceilings of the rows trained on a small lab');
      ceilings = sizeCeilings(prepared, {
        seed: FOREST_SEED, copies: AUGMENT, trees: TREES, maxDepth: MAX_DEPTH, minSamplesLeaf: MIN_LEAF, maxFeatures: MAX_FEATURES, augmentWeight: AUGMENT_WEIGHT, plainTreeShare: PLAIN_TREES, balanced: BALANCED,
      });
    } catch (e) {
      // Fewer source cells (MAX_PER_CLASS, TRAIN_PER_CLASS, TRAIN_MIX) than a small lab's mix asks for: the page goes out
      // without them. Any other error is a fault, not a setting: it stops the run.
      if (!(e instanceof Error && e.message.startsWith('size ceiling:'))) throw e;
      say(`no ceilings on this page: ${e.message}`);
    }
  }
  report.timings.ceilings = (performance.now() - tc) / 1000;
  for (const [k, v] of Object.entries(report.timings)) if (k.startsWith('ruleSeed') || k === 'ceilings' || k === 'default') report.timings.total! += v;
  const m = machineInfo();
  const machine = `${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}`;
  const preamble = [
    `Data: **Acevedo-20** (\`shared/data/acevedo20\`, without the immature granulocytes and the ${views.excluded} images the detector was trained on ` +
      `or that are also in TXL-PBC), ${MAX} images per class sampled (seed ${SEED}), split half for training, half held out; **BCCD**: the ` +
      `${views.bccdImages} fields with one labelled white cell; **Zheng DS2**: all 100 images. One cell per image (the detector's top-scoring one; ` +
      `${prepared.detector ? `the detector: ${prepared.detector}` : 'the rows do not record which detector model found them'}). ` +
      `Leave-one-lab-out: a classifier trained on each lab scores the others (on Acevedo-20: its held-out half). Synthetic labs: ${SYNTH} held-out ` +
      `Acevedo-20 cells each, drawn under a blood-count-like class mix, their 128 px crops transformed (\`src/evaluation/synthetic-labs.ts\`): the ` +
      `detector is not re-run on them, its box is moved with the crop, so they test the features and the stain step, not detection.` +
      (framed ? ` Framed labs (det-*, \`src/evaluation/framed-labs.ts\`): ${SYNTH} held-out Acevedo-20 images each, cut to a tight square frame around ` +
        `the cell (1.05-1.2 times its box), optionally given the third lab's colours, saved as JPEG and **detected again**: they test ` +
        `detection on frames the cell fills as well.` : ''),
    `Training-time augmentation (\`src/pipeline/augment.ts\`, what \`train-classifier --features morphology\` does by default): each training ` +
      `cell also enters the forest as ${AUGMENT} seeded, randomly transformed copies of its crop (stain hue and strength, white balance, background ` +
      `colour, scale, blur, JPEG, noise). Its draws are its own (other ranges and seeds than the synthetic labs'), but the family of transforms ` +
      `is the synthetic labs' own: **the synthetic labs are therefore an optimistic check of an augmented classifier; the real labs (BCCD, ` +
      `Zheng DS2, and Acevedo-20 for the classifiers trained elsewhere) are the honest one.**`,
    ...(SELF_TRAINING ? [
      `**Self-trained** (\`SELF_TRAINING=1\`): every lab is classified, then self-trained as a classify job with \`selfTraining\` does ` +
      `(\`src/pipeline/self-training.ts\`): per predicted class, the ${Math.round(100 * SELF_TRAINING_SHARE)} % of its cells the forest is surest of join the training cells ` +
      `under that class, the forests and the stain reference are fitted again, and the lab is classified again through the same step. A lab the ` +
      `plain forest reads is left as it is. The self-check and the novelty flags are the first classification's. Every table but the next ` +
      `section's is the self-trained path's; that section scores the default on the same rows and forest seeds, and its rule decides. ` +
      `(\`docs/unseen-labs.md\` reads the same only where it was made from the same rows, \`PREPARED\`: the next section is the comparison.)`,
    ] : []),
    `Citations: Acevedo et al. 2020, Data in Brief 30:105474 (CC BY 4.0); BCCD: Shenggan/BCCD_Dataset (MIT); Zheng et al. 2018, Micron 107:55-71.`,
  ].join('\n\n');
  const F = FOREST_DEFAULTS;
  const given: Array<[string, unknown, unknown]> = [
    ['MAX_PER_CLASS', MAX, 600], ['SEED', SEED, 0], ['AUGMENT', AUGMENT, MORPHOLOGY_AUGMENT_COPIES], ['TREES', TREES, F.trees], ['MAX_DEPTH', MAX_DEPTH, F.maxDepth],
    ['MIN_LEAF', MIN_LEAF, F.minSamplesLeaf], ['MAX_FEATURES', MAX_FEATURES, F.maxFeatures], ['AUGMENT_WEIGHT', AUGMENT_WEIGHT, F.augmentWeight], ['PLAIN_TREES', PLAIN_TREES, F.plainTreeShare], ['FOREST_SEED', FOREST_SEED, SEED], ['RULE_SEEDS', RULE_SEEDS, 4], ['TRAIN_PER_CLASS', TRAIN_PER_CLASS, null],
    ['BALANCED', BALANCED, FOREST_DEFAULTS.balanced], ['TRAIN_MIX', TRAIN_MIX, null], ['RANDOM_LABS', randomLabs, 3], ['OUT_NAME', OUT_NAME, 'unseen-labs'], ['FRAMED', framed, true],
    ['STEPS', STEPS?.join(','), undefined], ['SELF_TRAINING', SELF_TRAINING ? 1 : 0, 0],
  ];
  const command = `${given.filter(([, v, d]) => v !== d).map(([k, v]) => `${k}=${v} `).join('')}scripts/unseen.sh`;
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, `${OUT_NAME}.json`), JSON.stringify({ ...report, sizeCeilings: ceilings, ...(verdict ? { selfTrainingVerdict: verdict } : {}) }, null, 1) + '\n');
  const afterSummary = [comparison, ceilings.length ? renderSizeCeilings(ceilings, report.scores.filter((x) => x.step === DEFAULT_STAIN_STEP), command) : undefined].filter(Boolean).join('\n') || undefined;
  writeFileSync(join(OUT, `${OUT_NAME}.md`), renderUnseenLabs(report, { command, machine, preamble, defaultStep: DEFAULT_STAIN_STEP, afterSummary, ...(SELF_TRAINING ? { title: 'Labs nobody tuned for: the classify job self-trained on each lab (selfTraining), beside the default' } : {}) }));
  say(`chosen by the selection labs: ${report.rule ? `${report.rule.chosen} over forest seeds ${report.rule.seeds.join(', ')} (${report.chosen} at seed ${FOREST_SEED} alone)` : report.chosen}; the default is ${DEFAULT_STAIN_STEP}`);
  for (const s of report.summary) say(`${s.step}: worst selection ${(100 * s.selectionWorst).toFixed(1)}, worst scoring ${(100 * s.scoringWorst.accuracy).toFixed(1)} (${s.scoringWorst.lab}), mean ${(100 * s.mean).toFixed(1)}, in-domain ${s.inDomain === null ? '-' : (100 * s.inDomain).toFixed(1)}`);
  const inDomain = report.scores.find((x) => x.kind === 'in-domain' && x.step === DEFAULT_STAIN_STEP);
  if (inDomain) say(`in-domain (${DEFAULT_STAIN_STEP}) ${(100 * inDomain.accuracy).toFixed(1)} % (${inDomain.ci95.map((v) => (100 * v).toFixed(1)).join('-')}), n ${inDomain.n}`);
  say(`the ${report.source} classifier: fitted in ${report.timings.fitSource?.toFixed(1)} s, ${report.settings.sourceModelBytes} bytes gzipped`);
  say(`wrote ${join(OUT, `${OUT_NAME}.md`)} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

main().catch((e: unknown) => {
  process.stderr.write(`unseen-labs: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
