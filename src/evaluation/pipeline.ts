// The cross-domain evaluation (issue 5; aecfe-method.md, Pipeline steps 3-6), in memory: train the
// autoencoder on the source cells with the alignment term to the unlabelled cells of the other domains,
// encode, fit a random forest on a stratified seeded 80 % of the source's labelled cells, and score it on
// the other 20 % and on every labelled cell of each target. The same run scores three baselines: the
// autoencoder without alignment, the instance features pooled without it, and colour/shape features.
// No database, no files: the CLI (cli/evaluate.command.ts) and the evaluate job feed it loaded domains.
import {
  createAutoencoder,
  describeAutoencoder,
  disposeAutoencoder,
  alignmentBetween,
  encode,
  resizeCrop,
  shuffledIndices,
  trainStep,
  type AutoencoderModel,
  type CreateOptions,
  type PresetName,
  PRESETS,
  ALIGN_SCALES,
  type AlignScale,
} from '../engine/autoencoder/index.js';
import { chwToHwc, FEATURE_LENGTH } from '../engine/feature-store.js';
import { argmaxRows, fitRandomForest, predictProba, type RandomForest, type RandomForestOptions } from '../engine/classifier/random-forest.js';
import { neighbourConsensus } from '../engine/classifier/neighbour-consensus.js';
import { fitNovelty, scoreNovelty } from '../engine/classifier/novelty.js';
import { DEFAULT_MIN_CONFIDENCE } from '../jobs/job-kinds.js';
import { flagScores, type FlagScores } from './flag-scores.js';
import { fitShapeForest, mixClassifiers } from '../engine/classifier/stain-mix-forest.js';
import { matrixFromRows, type FeatureMatrix } from '../engine/classifier/feature-matrix.js';
import { createRng, mixSeed, shuffleInPlace } from '../engine/classifier/rng.js';
import { classesOf, type ClassMapName } from '../services/class-maps.js';
import { classificationReport } from './metrics.js';
import { stratifiedSplit } from './split.js';
import { colourShapeFeatures, COLOUR_SHAPE_LENGTH, pooledFeatures, POOLED_LENGTH } from './baselines.js';
import { percentile } from '../imaging/plane-filters.js';
import { adaptStain, applyOffsets, classMixShifts, columnMedians, stainReference, STAIN_SHIFT_LIMIT, type StainShift } from './stain-shift.js';
import { morphologyFeatures, MORPHOLOGY_COLOUR_COLUMNS, MORPHOLOGY_LENGTH, MORPHOLOGY_SIZE, type BoxInCrop } from '../imaging/cell-morphology.js';

/** One cell: the detector's instance features and the crop of the cell (the autoencoder's image target). */
export interface EvaluationCell {
  /** 256x14x14 instance features, CHW (the detector's layout). */
  features: Float32Array;
  /**
   * The cell cropped with AE-CFE's margins, square RGB uint8 (row-major, 3 values a pixel). Any square size
   * works; it is resized (bilinear) to the preset's image size when it differs. A function is called once.
   */
  crop: Uint8Array | (() => Uint8Array | Promise<Uint8Array>);
  /** The class under the report's class list, or null (unlabelled: alignment only, never scored). */
  label: string | null;
  /**
   * Where the detector's box lies in the crop, as fractions of its side (cell-morphology.ts boxInCrop): the
   * morphology method's cell outline. Default: where a typical Acevedo-20 cell lies (DEFAULT_BOX_IN_CROP).
   */
  box?: BoxInCrop;
  /** The detector's box in the image's pixels [x0, y0, x1, y1], with the image's size, where known. */
  imageBox?: { box: readonly [number, number, number, number]; width: number; height: number };
  /** For the caller's bookkeeping (an image path, a cell id); not used here. */
  id?: string;
}

export interface EvaluationDomain {
  name: string;
  cells: EvaluationCell[];
  /** How the domain was loaded (images read, no detection, ...): copied into report.datasets[name].loading. */
  loading?: Record<string, unknown>;
}

export const METHODS = ['ae_cfe', 'ae_no_align', 'pooled_features', 'colour_shape', 'morphology', 'morphology_lab_centred', 'morphology_adaptive', 'morphology_consensus'] as const;
export type MethodName = (typeof METHODS)[number];

/** The methods that move another lab's stain onto the source's (the stain step's offsets) before its forest. */
const STAIN_MOVING: ReadonlySet<MethodName> = new Set(['morphology_adaptive', 'morphology_consensus']);

export const METHOD_DESCRIPTIONS: Record<MethodName, string> = {
  ae_cfe: 'AE-CFE: random forest on the 50-d latents of the autoencoder trained with the alignment term',
  ae_no_align: 'random forest on the latents of the same autoencoder trained without alignment (weight 0, same seed and epochs)',
  pooled_features: 'random forest on the instance features pooled over 14x14 without the autoencoder (256 means + 256 standard deviations)',
  colour_shape: 'random forest on colour histograms (RGB, hue, saturation) of the crop + dark-region (nucleus) area and shape',
  morphology:
    'random forest on stain-normalised morphology (src/imaging/cell-morphology.ts): optical density against the crop\'s own white, ' +
    'nucleus shape and lobes, nucleus and cytoplasm chromaticity (also relative to the red cells around) and granularity, at 128 px; no autoencoder',
  morphology_lab_centred:
    'the morphology forest with its stain-dependent values (chromaticity, density, texture) centred on each lab\'s median over all its cells ' +
    '(no labels used; the lab\'s stain taken out as a whole); shape values as they are',
  morphology_adaptive:
    'the morphology forest, with a lab\'s stain-dependent values moved onto the source\'s medians only when its median shift exceeds one ' +
    'within-class standard deviation of the source (src/evaluation/stain-shift.ts): a lab whose shift its class mix could explain is left as it is; ' +
    'a lab that is moved goes onto the medians of the source re-weighted to the lab\'s class mix, estimated without its labels (first by a forest ' +
    'on the stain-free shape values, then by the morphology forest on the once-moved values)',
  morphology_consensus:
    'morphology_adaptive, then each cell\'s class probabilities averaged half and half with the mean of its 5 nearest neighbours among the ' +
    'scored cells of its own lab (values standardised within the lab; no labels used; src/engine/classifier/neighbour-consensus.ts)',
};

export interface EvaluationOptions {
  /** The domain trained on; its labelled cells are split 80/20. */
  source: string;
  /** Domains scored on all their labelled cells. Default: every domain but the source. */
  targets?: string[];
  /**
   * Domains whose cells enter the alignment term, labels unused. Default: the targets (the paper's setting:
   * it aligns the source to the unlabelled images of the other domains). Give [] to align to nothing.
   */
  align?: string[];
  /** The class list (or a named class map); labels outside it are treated as unlabelled. */
  classes: ClassMapName | readonly string[];
  /** Autoencoder preset. Default 'cpu'. */
  preset?: PresetName;
  /** Default 20. */
  epochs?: number;
  /** Default the preset's (cpu 64, paper 500). */
  batchSize?: number;
  /** Default the preset's (1e-3, aecfe-method.md section 5). */
  learningRate?: number;
  /** Weight of the alignment term for AE-CFE. Default 5 (aecfe-method.md section 4). */
  alignWeight?: number;
  /** How the alignment term treats the latents' scale: 'raw' (the paper's, default) or 'standardised' (losses.ts). */
  alignScale?: AlignScale;
  /** Seeds the autoencoders, the split, the alignment batches and the forests. Default 0. */
  seed?: number;
  /** Forest size and depth. Defaults 100 and 16 (aecfe-method.md section 6). */
  trees?: number;
  maxDepth?: number;
  /** Source fraction held out. Default 0.2 (aecfe-method.md section 6). */
  testFraction?: number;
  /** Macro F1 leaves out classes with fewer cells in a domain. Default 5 (issue 5). */
  minSupport?: number;
  /** Methods to run. Default all of METHODS. */
  methods?: readonly MethodName[];
  /** Passed to createAutoencoder (e.g. a TensorFlow.js runtime, a backend preference). */
  autoencoder?: CreateOptions;
  onProgress?: (p: EvaluationProgress) => void;
  signal?: AbortSignal;
}

export type EvaluationStage = 'prepare' | 'train' | 'encode' | 'features' | 'forest' | 'score';

export type EvaluationProgress =
  | { kind: 'stage'; stage: EvaluationStage; method?: MethodName; message: string }
  | { kind: 'epoch'; method: 'ae_cfe' | 'ae_no_align'; epoch: number; epochs: number; loss: number; ssim: number; mse: number; align: number; seconds: number }
  | { kind: 'forest'; method: MethodName; done: number; total: number };

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** The per-domain contract of issue 5. */
export interface DomainScores {
  n: number;
  accuracy: number;
  /** Accuracy's 95 % Wilson interval: the uncertainty that the number of scored cells alone leaves. */
  accuracy_ci95: [number, number];
  balanced_accuracy: number;
  /** Over the classes with >= minSupport cells in this domain; null when there is none. */
  macro_f1: number | null;
  macro_f1_classes: string[];
  /** Classes left out of macro_f1 for having fewer than minSupport cells here. */
  excluded_classes: string[];
  per_class: Record<string, ClassScores>;
  confusion: { labels: string[]; matrix: number[][] };
}

export interface DomainReport extends DomainScores {
  role: 'source-test' | 'target';
  /** The product's flags on this domain's cells and the accuracy on the unflagged ones (src/evaluation/flag-scores.ts). */
  flags?: FlagScores;
}

export interface DatasetSummary {
  role: 'source' | 'target' | 'align';
  cells: number;
  /** Cells with a label in the class list. */
  labelled: number;
  /** Cells without a usable label (alignment / autoencoder training only). */
  unlabelled: number;
  /** Labelled cells per class. */
  classes: Record<string, number>;
  /** Cells scored (target: all labelled; source: the held-out split). */
  scored: number;
  /** Source only: cells the forests were fitted on. */
  train?: number;
  /** Whether the domain's cells entered the alignment term. */
  aligned: boolean;
  loading?: Record<string, unknown>;
}

export interface EpochSummary {
  epoch: number;
  loss: number;
  ssim: number;
  mse: number;
  align: number;
  seconds: number;
}

export interface AutoencoderRun {
  alignWeight: number;
  alignScale: AlignScale;
  alignDomains: string[];
  epochs: EpochSummary[];
  steps: number;
  backend: string;
  device: string;
  parameterCount: number;
  /**
   * After training, per scored domain (the source: its training split): the mean over latent dimensions of
   * the standard deviation of z (near 0 = collapsed latents), and the alignment term between the source's
   * training latents and that domain's (aecfe-method.md section 4; 0 = aligned).
   */
  latents?: Record<string, { meanStd: number; alignmentToSource: number | null }>;
  /**
   * A sample of the latents for pictures (the dashboard's before/after-alignment PCA): the same rows for
   * both autoencoders, at most EMBEDDING_PER_DOMAIN per domain (the source's training split, each target).
   */
  embedding?: LatentSample;
}

export interface LatentSample {
  domain: string[];
  label: string[];
  /** One latent per row, rounded to 4 decimals. */
  z: number[][];
}

export const EMBEDDING_PER_DOMAIN = 150;

/** Evenly spaced rows of each matrix (deterministic, so both autoencoders show the same cells). */
export function latentSample(parts: Array<{ domain: string; labels: readonly string[]; x: FeatureMatrix }>, perDomain = EMBEDDING_PER_DOMAIN): LatentSample {
  const out: LatentSample = { domain: [], label: [], z: [] };
  for (const { domain, labels, x } of parts) {
    const take = Math.min(perDomain, x.rows);
    for (let i = 0; i < take; i++) {
      const r = Math.floor((i * x.rows) / take);
      out.domain.push(domain);
      out.label.push(labels[r] ?? 'unlabelled');
      out.z.push(Array.from(x.data.subarray(r * x.cols, (r + 1) * x.cols), (v) => Math.round(v * 1e4) / 1e4));
    }
  }
  return out;
}

export interface EvaluationReport {
  format: 'leukograph-evaluation/1';
  created: string;
  source: string;
  targets: string[];
  align: string[];
  classes: string[];
  settings: {
    preset: PresetName;
    imageSize: number;
    epochs: number;
    batchSize: number;
    learningRate: number;
    alignWeight: number;
    alignScale: AlignScale;
    seed: number;
    trees: number;
    maxDepth: number;
    testFraction: number;
    minSupport: number;
    methods: MethodName[];
  };
  datasets: Record<string, DatasetSummary>;
  /** The source's held-out cells (their ids, or their index in the source's cells when they have none). */
  split: { seed: number; testFraction: number; train: number; test: Array<string | number> };
  /** AE-CFE's scores per scored domain: the source's held-out split and each target. */
  domains: Record<string, DomainReport>;
  /** The baselines, scored on the same cells. */
  baselines: Partial<Record<Exclude<MethodName, 'ae_cfe'>, { description: string; domains: Record<string, DomainReport> }>>;
  methods: Partial<Record<MethodName, string>>;
  autoencoders: Partial<Record<'ae_cfe' | 'ae_no_align', AutoencoderRun>>;
  /** Wall time per stage, seconds. */
  timings: Record<string, number>;
  notes: string[];
}

interface PreparedDomain {
  name: string;
  cells: EvaluationCell[];
  crops: Uint8Array[];
  /** Morphology features (MORPHOLOGY_LENGTH values each) by cell index: the labelled cells, or every cell for lab centring. */
  morphology: Float64Array[];
  /** Median of each morphology colour column over all the domain's cells (morphology_lab_centred only). */
  labCentre?: Map<number, number>;
  /** Index into `cells` of labelled cells, and their labels. */
  labelled: number[];
  labels: string[];
}

const now = (): number => performance.now();
const secs = (t0: number): number => Math.round((now() - t0) / 10) / 100;

function checkAbort(signal?: AbortSignal): void {
  signal?.throwIfAborted();
}

/** Runs the whole evaluation; throws on bad input, and the signal's reason when aborted. */
export async function runEvaluation(domains: readonly EvaluationDomain[], options: EvaluationOptions): Promise<EvaluationReport> {
  const tAll = now();
  const signal = options.signal;
  const progress = options.onProgress ?? (() => undefined);
  checkAbort(signal);
  const classes = [...(typeof options.classes === 'string' ? classesOf(options.classes) : options.classes)];
  if (classes.length < 2) throw new Error('evaluation: the class list needs at least 2 classes');
  const byName = new Map<string, EvaluationDomain>();
  for (const d of domains) {
    if (!d.name) throw new Error('evaluation: a domain has no name');
    if (byName.has(d.name)) throw new Error(`evaluation: domain name "${d.name}" is used twice`);
    byName.set(d.name, d);
  }
  const source = options.source;
  if (!byName.has(source)) throw new Error(`evaluation: source domain "${source}" is not among the domains (${[...byName.keys()].join(', ')})`);
  const targets = options.targets ?? [...byName.keys()].filter((n) => n !== source);
  const align = (options.align ?? targets).filter((n) => n !== source);
  for (const n of [...targets, ...align]) if (!byName.has(n)) throw new Error(`evaluation: domain "${n}" is not among the domains`);
  if (targets.includes(source)) throw new Error('evaluation: the source is scored on its held-out split; do not list it as a target');

  const preset = options.preset ?? 'cpu';
  const methods = [...(options.methods ?? METHODS)];
  for (const m of methods) if (!METHODS.includes(m)) throw new Error(`evaluation: unknown method "${m}" (expected ${METHODS.join(', ')})`);
  const seed = options.seed ?? 0;
  const epochs = options.epochs ?? 20;
  const alignWeight = options.alignWeight ?? 5;
  const alignScale = options.alignScale ?? 'raw';
  if (!ALIGN_SCALES.includes(alignScale)) throw new Error(`evaluation: alignScale must be one of ${ALIGN_SCALES.join(', ')}, got ${alignScale}`);
  const trees = options.trees ?? 100;
  const maxDepth = options.maxDepth ?? 16;
  const testFraction = options.testFraction ?? 0.2;
  const minSupport = options.minSupport ?? 5;
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new Error(`evaluation: epochs must be an integer >= 1, got ${epochs}`);
  if (!(alignWeight >= 0)) throw new Error(`evaluation: alignWeight must be >= 0, got ${alignWeight}`);
  const notes: string[] = [];
  const timings: Record<string, number> = {};

  // ---- prepare: crops at the preset's size, labels, the source split
  const t0 = now();
  progress({ kind: 'stage', stage: 'prepare', message: `preparing ${domains.length} domain(s)` });
  const needAe = methods.includes('ae_cfe') || methods.includes('ae_no_align');
  if (!Object.hasOwn(PRESETS, preset)) throw new Error(`evaluation: unknown preset "${preset}" (expected ${Object.keys(PRESETS).join(', ')})`);
  const imageSize = PRESETS[preset].imageSize;
  const batchSize = options.batchSize ?? PRESETS[preset].batchSize;
  const learningRate = options.learningRate ?? PRESETS[preset].learningRate;
  if (!(Number.isInteger(batchSize) && batchSize >= 2)) throw new Error(`evaluation: batchSize must be an integer >= 2, got ${batchSize}`);
  const classSet = new Set(classes);
  const prepared = new Map<string, PreparedDomain>();
  const movesStain = methods.some((m) => STAIN_MOVING.has(m));
  const involved = [source, ...targets, ...align.filter((a) => !targets.includes(a))];
  for (const name of involved) {
    const d = byName.get(name)!;
    const crops: Uint8Array[] = [];
    const morphology: Float64Array[] = [];
    const labelled: number[] = [];
    const labels: string[] = [];
    // Crops are the autoencoder's image targets (source cells) and the colour baseline's input (labelled cells).
    const aeCrops = name === source && needAe;
    const colourCrops = methods.includes('colour_shape');
    const morph = methods.some((m) => m.startsWith('morphology'));
    // Lab centring and the stain-shift test need every cell of the domain (labels unused), not only the labelled ones.
    const morphAll = methods.includes('morphology_lab_centred') || movesStain;
    for (let i = 0; i < d.cells.length; i++) {
      const c = d.cells[i]!;
      if (c.features.length !== FEATURE_LENGTH) throw new Error(`evaluation: ${name} cell ${i}: ${c.features.length} feature values, expected ${FEATURE_LENGTH} (256x14x14)`);
      const isLabelled = c.label !== null && classSet.has(c.label);
      if (isLabelled) {
        labelled.push(i);
        labels.push(c.label!);
      }
      if (aeCrops || (isLabelled && (colourCrops || morph)) || morphAll) {
        const raw = typeof c.crop === 'function' ? await c.crop() : c.crop;
        if (aeCrops || (colourCrops && isLabelled)) crops[i] = squareCrop(raw, imageSize, `${name} cell ${i}`);
        // Morphology needs detail: computed once here at 128 px (crops are given at least that large by the loaders).
        if (morph && (isLabelled || morphAll)) morphology[i] = morphologyFeatures(squareCrop(raw, MORPHOLOGY_SIZE, `${name} cell ${i}`), MORPHOLOGY_SIZE, c.box) as Float64Array;
      }
      if (i % 256 === 255) checkAbort(signal);
    }
    const labCentre = morphAll ? columnMedians(morphology.filter(Boolean), MORPHOLOGY_COLOUR_COLUMNS) : undefined;
    prepared.set(name, { name, cells: d.cells, crops, morphology, labCentre, labelled, labels });
  }
  const src = prepared.get(source)!;
  const srcClasses = [...new Set(src.labels)];
  if (srcClasses.length < 2) throw new Error(`evaluation: the source "${source}" has ${srcClasses.length} labelled class(es) of ${classes.join(', ')}; at least 2 are needed`);
  const split = stratifiedSplit(src.labels, { testFraction, seed });
  if (split.test.length === 0) notes.push('the source has too few labelled cells for a held-out split');
  const trainRows = split.train.map((k) => src.labelled[k]!);
  const testRows = split.test.map((k) => src.labelled[k]!);
  const trainLabels = split.train.map((k) => src.labels[k]!);
  const testLabels = split.test.map((k) => src.labels[k]!);
  const forestClasses = classes.filter((c) => srcClasses.includes(c));
  const missing = classes.filter((c) => !srcClasses.includes(c));
  if (missing.length) notes.push(`classes without source cells (never predicted): ${missing.join(', ')}`);
  // The forests' settings; the morphology forest is fitted once when morphology_adaptive needs it before the
  // methods run (to estimate the labs' class mixes), and the same forest then scores morphology, morphology_adaptive
  // and morphology_consensus.
  const forestSeed = mixSeed(seed, 0xf0e5);
  const forestOptions = (method: MethodName): RandomForestOptions => ({
    nEstimators: trees,
    maxDepth,
    seed: forestSeed,
    numClasses: forestClasses.length,
    classNames: forestClasses,
    onTree: (done, total) => {
      if (done % 10 === 0 || done === total) progress({ kind: 'forest', method, done, total });
    },
  });
  const trainY = trainLabels.map((l) => forestClasses.indexOf(l));
  let morphologyForest: RandomForest | null = null;
  // morphology_adaptive: each other domain's stain shift against the source, in the source's within-class
  // spread measured on its training split only (the held-out labels stay unseen).
  const stainShifts = new Map<string, StainShift>();
  if (movesStain) {
    const trainMorphology = trainRows.map((r) => src.morphology[r]!);
    const ref = stainReference(src.morphology.filter(Boolean), trainMorphology, trainLabels, MORPHOLOGY_COLOUR_COLUMNS, forestClasses);
    const mixes = classMixShifts(trainMorphology, trainLabels, ref, { rng: createRng(mixSeed(seed, 0x57a1)) }).sort((x, y) => x - y);
    if (mixes.length) {
      notes.push(
        `morphology_adaptive: the source's own cells under ${mixes.length} random class mixes (Dirichlet(1), 300 cells each) shift by ` +
          `${mixes[0]!.toFixed(2)}-${mixes.at(-1)!.toFixed(2)} (median ${percentile(mixes, 50).toFixed(2)}) within-class standard deviations: what a class mix alone does`,
      );
    }
    const tm = now();
    morphologyForest = fitRandomForest(matrixFromRows(trainMorphology), trainY, forestOptions('morphology_adaptive'));
    const shapeForest = fitShapeForest(trainMorphology, trainY, ref, MORPHOLOGY_LENGTH, { ...forestOptions('morphology_adaptive'), onTree: undefined });
    const classifiers = mixClassifiers(shapeForest, morphologyForest, ref);
    const share = (mix: readonly number[]) => forestClasses.map((c, k) => `${c} ${Math.round(100 * mix[k]!)}`).join(', ');
    for (const name of involved) {
      if (name === source) continue;
      const p = prepared.get(name)!;
      const sh = adaptStain(p.morphology.filter(Boolean), ref, classifiers);
      stainShifts.set(name, sh);
      // The labelled mix is printed beside the estimate for the reader; the method never sees it.
      const labelled = forestClasses.map((c) => p.labels.filter((l) => l === c).length / Math.max(1, p.labels.length));
      notes.push(
        `morphology_adaptive: ${name}'s stain shift is ${sh.statistic.toFixed(2)} within-class standard deviations of the source ` +
          `(limit ${STAIN_SHIFT_LIMIT}): ${sh.centre ? "its stain-dependent values moved onto the source's medians" : 'left as it is'}` +
          (sh.mix ? ` under its estimated class mix (%: ${share(sh.mix)}${p.labels.length ? `; labelled: ${share(labelled)}` : ''})` : ''),
      );
    }
    // The morphology forest (and the shape forest) fitted here: their time is this, not the methods' own.
    timings['morphology_adaptive.stain'] = secs(tm);
  }
  // What each scored domain is scored on: [domain, rows, labels]
  const scored: Array<{ name: string; role: 'source-test' | 'target'; rows: number[]; labels: string[] }> = [];
  if (testRows.length) scored.push({ name: source, role: 'source-test', rows: testRows, labels: testLabels });
  for (const t of targets) {
    const p = prepared.get(t)!;
    if (p.labelled.length === 0) notes.push(`target "${t}" has no cells labelled with ${classes.join(', ')}: not scored`);
    else scored.push({ name: t, role: 'target', rows: p.labelled, labels: p.labels });
  }
  const alignUsed = align.filter((a) => {
    const n = prepared.get(a)!.cells.length;
    if (n < 2) notes.push(`alignment domain "${a}" has ${n} cell(s): left out of the alignment term`);
    return n >= 2;
  });
  if (needAe && src.cells.length < 2) throw new Error(`evaluation: the source "${source}" has ${src.cells.length} cell(s); the autoencoder needs at least 2`);
  timings.prepare = secs(t0);

  const report: EvaluationReport = {
    format: 'leukograph-evaluation/1',
    created: new Date().toISOString(),
    source,
    targets,
    align: alignUsed,
    classes,
    settings: { preset, imageSize, epochs, batchSize, learningRate, alignWeight, alignScale, seed, trees, maxDepth, testFraction, minSupport, methods },
    datasets: {},
    split: { seed, testFraction, train: trainRows.length, test: testRows.map((i) => src.cells[i]!.id ?? i) },
    domains: {},
    baselines: {},
    methods: {},
    autoencoders: {},
    timings,
    notes,
  };
  for (const name of involved) {
    const p = prepared.get(name)!;
    const perClass: Record<string, number> = {};
    for (const c of classes) {
      const k = p.labels.filter((l) => l === c).length;
      if (k) perClass[c] = k;
    }
    const role = name === source ? 'source' : targets.includes(name) ? 'target' : 'align';
    report.datasets[name] = {
      role,
      cells: p.cells.length,
      labelled: p.labelled.length,
      unlabelled: p.cells.length - p.labelled.length,
      classes: perClass,
      scored: name === source ? testRows.length : role === 'target' ? p.labelled.length : 0,
      ...(name === source ? { train: trainRows.length } : {}),
      aligned: alignUsed.includes(name) && alignWeight > 0 && methods.includes('ae_cfe'),
      ...(byName.get(name)!.loading ? { loading: byName.get(name)!.loading } : {}),
    };
  }
  if (src.cells.length > src.labelled.length) {
    notes.push(`${src.cells.length - src.labelled.length} source cell(s) without a class in the list were used to train the autoencoders only`);
  }
  if (needAe && preset === 'cpu') {
    notes.push('the cpu autoencoder preset is a lighter network than the paper\'s (src/engine/autoencoder/README.md): same input, latent and loss, not the published layers');
  }
  if (needAe) {
    notes.push(
      'the autoencoders are trained without labels on every source cell (the held-out 20 % included) and aligned to the ' +
        'unlabelled cells of the alignment domains; labels are used only by the forests, fitted on the source training split',
    );
  }

  // ---- each method: features of the train/scored rows, forest, scores
  for (const method of methods) {
    checkAbort(signal);
    report.methods[method] = METHOD_DESCRIPTIONS[method];
    let featuresOf: (domain: string, rows: number[]) => Promise<FeatureMatrix>;
    let model: AutoencoderModel | null = null;
    try {
      if (method === 'ae_cfe' || method === 'ae_no_align') {
        const weight = method === 'ae_cfe' ? alignWeight : 0;
        const alignNow = weight > 0 ? alignUsed : [];
        if (method === 'ae_cfe' && alignNow.length === 0) notes.push('ae_cfe ran without alignment (no alignment domain, or alignWeight 0): it equals ae_no_align');
        const tt = now();
        progress({ kind: 'stage', stage: 'train', method, message: `training the ${preset} autoencoder (${method}, align weight ${weight}, ${alignNow.length} alignment domain(s)) for ${epochs} epoch(s)` });
        const trained = await trainAutoencoder(src, alignNow.map((a) => prepared.get(a)!), {
          preset, seed, epochs, batchSize, learningRate, alignWeight: weight, alignScale, method, imageSize,
          createOptions: options.autoencoder, signal, progress,
        });
        model = trained.model;
        report.autoencoders[method] = trained.run;
        timings[`${method}.train`] = secs(tt);
        const m = model;
        featuresOf = async (domain, rows) => {
          const z = await encodeRows(m, prepared.get(domain)!, rows, signal);
          return { data: z, rows: rows.length, cols: m.preset.latentDim };
        };
      } else if (method === 'pooled_features') {
        featuresOf = async (domain, rows) => {
          const p = prepared.get(domain)!;
          const data = new Float64Array(rows.length * POOLED_LENGTH);
          rows.forEach((r, i) => pooledFeatures(p.cells[r]!.features, data, i * POOLED_LENGTH));
          return { data, rows: rows.length, cols: POOLED_LENGTH };
        };
      } else if (method.startsWith('morphology')) {
        featuresOf = async (domain, rows) => {
          const p = prepared.get(domain)!;
          const data = new Float64Array(rows.length * MORPHOLOGY_LENGTH);
          const offsets = STAIN_MOVING.has(method) ? stainShifts.get(domain)?.offsets : undefined;
          rows.forEach((r, i) => {
            data.set(p.morphology[r]!, i * MORPHOLOGY_LENGTH);
            if (method === 'morphology_lab_centred') for (const [c, m] of p.labCentre!) data[i * MORPHOLOGY_LENGTH + c]! -= m;
            if (offsets) applyOffsets(data, offsets, i * MORPHOLOGY_LENGTH);
          });
          return { data, rows: rows.length, cols: MORPHOLOGY_LENGTH };
        };
      } else {
        featuresOf = async (domain, rows) => {
          const p = prepared.get(domain)!;
          const data = new Float64Array(rows.length * COLOUR_SHAPE_LENGTH);
          rows.forEach((r, i) => colourShapeFeatures(p.crops[r]!, imageSize, data, i * COLOUR_SHAPE_LENGTH));
          return { data, rows: rows.length, cols: COLOUR_SHAPE_LENGTH };
        };
      }
      const tf = now();
      progress({ kind: 'stage', stage: model ? 'encode' : 'features', method, message: `${model ? 'encoding' : 'computing features of'} ${trainRows.length + scored.reduce((s, d) => s + d.rows.length, 0)} cells (${method})` });
      const xTrain = await featuresOf(source, trainRows);
      const xScored: FeatureMatrix[] = [];
      for (const d of scored) {
        checkAbort(signal);
        xScored.push(await featuresOf(d.name, d.rows));
      }
      timings[`${method}.${model ? 'encode' : 'features'}`] = secs(tf);
      const run = method === 'ae_cfe' || method === 'ae_no_align' ? report.autoencoders[method] : undefined;
      if (model && run) {
        run.latents = { [source]: { meanStd: meanColumnStd(xTrain), alignmentToSource: null } };
        for (let i = 0; i < scored.length; i++) {
          const d = scored[i]!;
          if (d.role === 'source-test') continue;
          const x = xScored[i]!;
          const a = x.rows >= 2 && xTrain.rows >= 2 ? (await alignmentBetween(model, xTrain.data as Float32Array, x.data as Float32Array, x.cols)).total : null;
          run.latents[d.name] = { meanStd: meanColumnStd(x), alignmentToSource: a };
        }
        run.embedding = latentSample([
          { domain: source, labels: trainLabels, x: xTrain },
          ...scored.flatMap((d, i) => (d.role === 'target' ? [{ domain: d.name, labels: d.labels, x: xScored[i]! }] : [])),
        ]);
      }
      if (model) {
        disposeAutoencoder(model);
        model = null;
      }

      checkAbort(signal);
      const tfit = now();
      // morphology_adaptive (and _consensus) moves only the other labs' values: its source rows are morphology's, and so is its forest.
      const fitted = method === 'morphology' || STAIN_MOVING.has(method) ? morphologyForest : null;
      const what = fitted ? 'the morphology forest fitted for the stain move' : `fitting ${trees} trees`;
      progress({ kind: 'stage', stage: 'forest', method, message: `${what} on ${trainRows.length} source cells x ${xTrain.cols} features (${method})` });
      const forest = fitted ?? fitRandomForest(xTrain, trainY, forestOptions(method));
      timings[`${method}.forest`] = secs(tfit);

      const tsc = now();
      // The product's flags (classifyLatents): a novelty scorer fitted on the same training rows as the forest.
      const novelty = fitNovelty(xTrain, trainY, { numClasses: forestClasses.length, seed });
      const out: Record<string, DomainReport> = {};
      scored.forEach((d, i) => {
        const x = xScored[i]!;
        const K = forestClasses.length;
        const proba = predictProba(forest, x);
        const votes = method === 'morphology_consensus' ? neighbourConsensus(x, proba, K) : proba;
        const best = argmaxRows(votes, K);
        const pred = Array.from(best, (k) => forestClasses[k]!);
        const top = Array.from(best, (k, r) => votes[r * K + k]!);
        const flags = flagScores(d.labels, pred, top, scoreNovelty(novelty, x).novel, DEFAULT_MIN_CONFIDENCE);
        out[d.name] = { role: d.role, ...scoreDomain(d.labels, pred, classes, minSupport), flags };
      });
      timings[`${method}.score`] = secs(tsc);
      const summary = scored.map((d) => `${d.name} ${(out[d.name]!.accuracy * 100).toFixed(1)} %`).join(', ');
      progress({ kind: 'stage', stage: 'score', method, message: `${method}: accuracy ${summary}` });
      if (method === 'ae_cfe') report.domains = out;
      else report.baselines[method] = { description: METHOD_DESCRIPTIONS[method], domains: out };
    } finally {
      if (model) disposeAutoencoder(model);
    }
  }
  timings.total = secs(tAll);
  return report;
}

/** The contract's scores for one domain; the label order is the class list, limited to classes seen in truth or predictions. */
export function scoreDomain(truth: readonly string[], pred: readonly string[], classes: readonly string[], minSupport = 5): DomainScores {
  const present = new Set([...truth, ...pred]);
  const labels = classes.filter((c) => present.has(c));
  const r = classificationReport(truth, pred, { labels, minSupport });
  const perClass: Record<string, ClassScores> = {};
  for (const m of r.perClass) perClass[m.label] = { precision: m.precision, recall: m.recall, f1: m.f1, support: m.support };
  return {
    n: r.n,
    accuracy: r.accuracy,
    accuracy_ci95: [...r.accuracyCi95],
    balanced_accuracy: r.balancedAccuracy,
    macro_f1: r.macroF1,
    macro_f1_classes: [...r.macroF1Classes],
    excluded_classes: [...r.excludedClasses],
    per_class: perClass,
    confusion: { labels: [...r.confusion.labels], matrix: r.confusion.matrix.map((row) => [...row]) },
  };
}

/** Mean over columns of each column's standard deviation. */
function meanColumnStd(x: FeatureMatrix): number {
  let total = 0;
  for (let c = 0; c < x.cols; c++) {
    let s = 0;
    let s2 = 0;
    for (let r = 0; r < x.rows; r++) {
      const v = x.data[r * x.cols + c]!;
      s += v;
      s2 += v * v;
    }
    const m = s / x.rows;
    total += Math.sqrt(Math.max(0, s2 / x.rows - m * m));
  }
  return total / x.cols;
}

/**
 * A square RGB crop at `size`: as it is, averaged over k x k blocks when its side is k times `size` (a 128 px
 * crop for the 64 px autoencoder: no aliasing), else resized bilinearly.
 */
function squareCrop(crop: Uint8Array, size: number, what: string): Uint8Array {
  if (crop.length === size * size * 3) return crop;
  const side = Math.round(Math.sqrt(crop.length / 3));
  if (side * side * 3 !== crop.length || side < 1) throw new Error(`evaluation: ${what}: the crop (${crop.length} values) is not a square RGB image`);
  if (side > size && side % size === 0) return blockAverage(crop, side, side / size);
  const f = resizeCrop({ data: crop, width: side, height: side, channels: 3 }, size);
  const out = new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) out[i] = Math.round(f[i]! * 255);
  return out;
}

function blockAverage(crop: Uint8Array, side: number, k: number): Uint8Array {
  const size = side / k;
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) s += crop[((y * k + dy) * side + x * k + dx) * 3 + c]!;
        out[(y * size + x) * 3 + c] = Math.round(s / (k * k));
      }
    }
  }
  return out;
}

interface TrainSettings {
  preset: PresetName;
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  alignWeight: number;
  alignScale: AlignScale;
  method: 'ae_cfe' | 'ae_no_align';
  imageSize: number;
  createOptions?: CreateOptions;
  signal?: AbortSignal;
  progress: (p: EvaluationProgress) => void;
}

/**
 * Trains one autoencoder on every source cell. Each step takes a batch of source cells (seeded epoch
 * shuffle) and, per alignment domain, as many of its cells (features only: they enter the alignment term,
 * aecfe-method.md section 4), drawn without replacement from a seeded permutation that restarts when used up.
 */
async function trainAutoencoder(src: PreparedDomain, alignDomains: PreparedDomain[], s: TrainSettings): Promise<{ model: AutoencoderModel; run: AutoencoderRun }> {
  const model = await createAutoencoder(s.preset, s.seed, s.createOptions ?? {});
  try {
    const n = src.cells.length;
    const batch = Math.min(s.batchSize, n);
    const per = s.imageSize * s.imageSize * 3;
    const feats = new Float32Array(batch * FEATURE_LENGTH);
    const images = new Float32Array(batch * per);
    const pickRng = createRng(mixSeed(s.seed, 0xa11));
    const pools = alignDomains.map((d) => ({ d, order: [] as number[], next: 0 }));
    const alignBufs = alignDomains.map((d) => new Float32Array(Math.min(batch, d.cells.length) * FEATURE_LENGTH));
    const epochs: EpochSummary[] = [];
    for (let e = 0; e < s.epochs; e++) {
      const te = now();
      const order = shuffledIndices(model, n);
      const sums = { loss: 0, ssim: 0, mse: 0, align: 0, n: 0 };
      for (let start = 0; start < n; start += batch) {
        checkAbort(s.signal);
        const count = Math.min(batch, n - start);
        // A last batch of one cannot give batch statistics: it waits for the next epoch's shuffle.
        if (count < 2) continue;
        for (let k = 0; k < count; k++) {
          const i = order[start + k]!;
          chwToHwc(src.cells[i]!.features, feats, k * FEATURE_LENGTH);
          const crop = src.crops[i]!;
          const o = k * per;
          for (let j = 0; j < per; j++) images[o + j] = crop[j]! / 255;
        }
        const alignBatches: Float32Array[] = [];
        pools.forEach((pool, d) => {
          const m = Math.min(count, pool.d.cells.length);
          const buf = alignBufs[d]!.subarray(0, m * FEATURE_LENGTH);
          for (let k = 0; k < m; k++) {
            if (pool.next >= pool.order.length) {
              pool.order = shuffleInPlace(Array.from({ length: pool.d.cells.length }, (_, i) => i), pickRng);
              pool.next = 0;
            }
            chwToHwc(pool.d.cells[pool.order[pool.next++]!]!.features, buf, k * FEATURE_LENGTH);
          }
          alignBatches.push(buf);
        });
        const r = await trainStep(
          model,
          { features: feats.subarray(0, count * FEATURE_LENGTH), images: images.subarray(0, count * per), n: count },
          alignBatches,
          { learningRate: s.learningRate, alignWeight: s.alignWeight, alignScale: s.alignScale },
        );
        sums.loss += r.loss * count;
        sums.ssim += r.ssim * count;
        sums.mse += r.mse * count;
        sums.align += r.align * count;
        sums.n += count;
      }
      const ep: EpochSummary = {
        epoch: e + 1,
        loss: sums.n ? sums.loss / sums.n : NaN,
        ssim: sums.n ? sums.ssim / sums.n : NaN,
        mse: sums.n ? sums.mse / sums.n : NaN,
        align: sums.n ? sums.align / sums.n : NaN,
        seconds: secs(te),
      };
      epochs.push(ep);
      s.progress({ kind: 'epoch', method: s.method, epochs: s.epochs, ...ep });
    }
    const info = describeAutoencoder(model);
    return {
      model,
      run: {
        alignWeight: s.alignWeight,
        alignScale: s.alignScale,
        alignDomains: alignDomains.map((d) => d.name),
        epochs,
        steps: info.step,
        backend: info.backend,
        device: info.device,
        parameterCount: info.parameterCount,
      },
    };
  } catch (err) {
    disposeAutoencoder(model);
    throw err;
  }
}

/** Latents of the given cells (rows of `d.cells`), n x latentDim, encoded in chunks of 256. */
async function encodeRows(model: AutoencoderModel, d: PreparedDomain, rows: number[], signal?: AbortSignal): Promise<Float32Array> {
  const dim = model.preset.latentDim;
  const out = new Float32Array(rows.length * dim);
  const chunk = 256;
  const buf = new Float32Array(Math.min(chunk, rows.length) * FEATURE_LENGTH);
  for (let s = 0; s < rows.length; s += chunk) {
    checkAbort(signal);
    const c = Math.min(chunk, rows.length - s);
    for (let k = 0; k < c; k++) chwToHwc(d.cells[rows[s + k]!]!.features, buf, k * FEATURE_LENGTH);
    out.set(await encode(model, buf.subarray(0, c * FEATURE_LENGTH), c), s * dim);
  }
  return out;
}
