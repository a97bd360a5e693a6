// The cross-domain evaluation (docs/aecfe-method.md §6), in memory, composed of the pipeline's
// stages (src/pipeline): the autoencoder trained by the jobs' epoch loop on the source cells with the
// alignment term to the unlabelled cells of the other domains, encoded, a classifier trained as the
// train-classifier job trains it on a stratified seeded 80 % of the source's labelled cells, and the
// classify stage (stain step and consensus included) scored on the other 20 % and on every labelled cell of
// each target. The same run scores the baselines (no alignment, pooled features, colour/shape, morphology).
// No database, no files: the CLI (cli/evaluate.command.ts) and the evaluate job feed it loaded domains.
import {
  createAutoencoder,
  describeAutoencoder,
  disposeAutoencoder,
  alignmentBetween,
  type AutoencoderModel,
  type CreateOptions,
  type PresetName,
  PRESETS,
  ALIGN_SCALES,
  type AlignScale,
} from '../engine/autoencoder/index.js';
import { FEATURE_LENGTH } from '../engine/autoencoder/layout.js';
import { argmaxRows } from '../engine/classifier/random-forest.js';
import type { FeatureMatrix } from '../engine/classifier/feature-matrix.js';
import { createRng, mixSeed } from '../engine/classifier/rng.js';
import { classMixShifts, columnMedians, STAIN_SHIFT_LIMIT } from '../engine/classifier/stain-shift.js';
import type { CellClassifier, CellVerdict } from '../engine/classifier/classifier-artifact.js';
import type { SelfCheck } from '../engine/classifier/self-check.js';
import type { ForestRouting } from '../pipeline/lab-classification.js';
import { classesOf, type ClassMapName } from '../pipeline/class-maps.js';
import { stratifiedSplit } from '../pipeline/split.js';
import { classificationReport } from '../pipeline/metrics.js';
import { AUTOENCODER_DEFAULTS, EVALUATION_DEFAULTS, FOREST_DEFAULTS, MORPHOLOGY_AUGMENT_COPIES } from '../pipeline/defaults.js';
import { augmentCrop } from '../pipeline/augment.js';
import { imageTargets, squareCrop } from '../pipeline/crop.js';
import { encodeCells, packFeatures } from '../pipeline/encode.js';
import { cellSeed, morphologyOfCrop } from '../pipeline/morphology.js';
import { trainAutoencoderEpochs } from '../pipeline/autoencoder-training.js';
import { trainCellClassifier, type ClassifierTrainingInput } from '../pipeline/classifier-training.js';
import { classifyCells, stainStep, type Classified, type ClassifyOptions } from '../pipeline/classify.js';
import type { EpochSummary as PipelineEpochSummary, StainOutcome } from '../pipeline/types.js';
import { flagScores, type FlagScores } from './flag-scores.js';
import { colourShapeFeatures, COLOUR_SHAPE_LENGTH, pooledFeatures, POOLED_LENGTH } from './baselines.js';
import { percentile } from '../imaging/plane-filters.js';
import { DEFAULT_BOX_IN_CROP, MORPHOLOGY_COLOUR_COLUMNS, MORPHOLOGY_LENGTH, MORPHOLOGY_SIZE, type BoxInCrop } from '../imaging/cell-morphology.js';

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

export const METHODS = ['ae_cfe', 'ae_no_align', 'pooled_features', 'colour_shape', 'morphology', 'morphology_lab_centred', 'morphology_adaptive', 'morphology_consensus', 'morphology_default'] as const;
export type MethodName = (typeof METHODS)[number];

/** The methods that move another lab's stain onto the source's (the stain step's offsets) before its forest. */
const STAIN_MOVING: ReadonlySet<MethodName> = new Set(['morphology_adaptive', 'morphology_consensus', 'morphology_default']);

/** The method that is the classify job's default path, whole: classifyCells over each lab's cells, no offsets given. */
const JOB_DEFAULT: MethodName = 'morphology_default';

/** The stain-moving methods given the adaptive step's offsets, measured once per lab below (JOB_DEFAULT measures its own). */
const ADAPTIVE_OFFSETS: ReadonlySet<MethodName> = new Set(['morphology_adaptive', 'morphology_consensus']);

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
    'the morphology forest after the classify job\'s stain step (src/pipeline/stain-step.ts): a lab\'s stain-dependent values moved onto the source\'s ' +
    'medians only when its median shift exceeds one within-class standard deviation of the source (and it has at least 30 measured cells): a lab whose shift its class mix could explain is left as it is; ' +
    'a lab that is moved goes onto the medians of the source re-weighted to the lab\'s class mix, estimated without its labels (first by a forest ' +
    'on the stain-free shape values, then by the morphology forest on the once-moved values)',
  morphology_consensus:
    'morphology_adaptive, then each cell\'s class probabilities averaged half and half with the mean of its 5 nearest neighbours among the ' +
    'measured cells of its own lab, as a classify job over that lab does (values standardised within the lab; no labels used; ' +
    'src/pipeline/consensus-step.ts)',
  morphology_default:
    'the morphology forest through the classify job\'s default path, whole (src/pipeline/classify.ts without offsets): each lab\'s measured cells ' +
    'classified together with the default stain step (src/engine/classifier/stain-steps.ts), forest routing and the self-check; where a lab\'s ' +
    'check fails, its cells are withheld (flagged) as the job withholds them, and scored by their most probable class',
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
  /** Default AUTOENCODER_DEFAULTS.epochs (src/pipeline/defaults.ts). */
  epochs?: number;
  /** Default the preset's (cpu 64, paper 500). */
  batchSize?: number;
  /** Default the preset's (1e-3, docs/aecfe-method.md §5). */
  learningRate?: number;
  /** Weight of the alignment term for AE-CFE. Default 5 (docs/aecfe-method.md §4). */
  alignWeight?: number;
  /** How the alignment term treats the latents' scale: 'raw' (the paper's, default) or 'standardised' (losses.ts). */
  alignScale?: AlignScale;
  /** Seeds the autoencoders, the split, the alignment batches and the forests. Default 0. */
  seed?: number;
  /** Forest size and depth. Defaults 100 and 16 (docs/aecfe-method.md §6). */
  trees?: number;
  maxDepth?: number;
  /** Source fraction held out. Default 0.2 (docs/aecfe-method.md §6). */
  /**
   * Morphology classifiers: augmented copies of each source training cell's crop (src/pipeline/augment.ts), as the
   * train-classifier job makes them (seeded by the run's seed and the cell's id). Default MORPHOLOGY_AUGMENT_COPIES.
   */
  augmentCopies?: number;
  testFraction?: number;
  /** Macro F1 leaves out classes with fewer cells in a domain. Default 5 (issue 5). */
  minSupport?: number;
  /** Methods to run. Default all of METHODS. */
  methods?: readonly MethodName[];
  /** Passed to createAutoencoder (e.g. a TensorFlow.js runtime, a backend preference). */
  autoencoder?: CreateOptions;
  onProgress?: (p: EvaluationProgress) => void;
  /** Each method's verdicts on each scored domain's cells (row order: the scored cells), as the classify stage gave them. */
  onVerdicts?: (method: MethodName, domain: string, cells: Array<{ id: string | number; label: string | null; verdict: CellVerdict }>) => void;
  /** Each trained autoencoder before it is disposed (tests compare it with the trainAutoencoder job's). */
  onAutoencoder?: (method: 'ae_cfe' | 'ae_no_align', model: AutoencoderModel) => Promise<void>;
  signal?: AbortSignal;
  /** Where the classifiers are fitted and the classify stage runs. Default IN_THREAD. */
  runners?: EvaluationRunners;
}

/**
 * The evaluation's two long computations: fitting a classifier (trainCellClassifier) and the classify stage
 * (classifyCells). The CLI runs them here (IN_THREAD); the evaluate job passes runners that run the same two calls
 * on the same input in worker threads, so that its heartbeats keep running while the forests fit and score.
 */
export interface EvaluationRunners {
  fitClassifier(input: ClassifierTrainingInput): Promise<CellClassifier>;
  classify(clf: CellClassifier, x: FeatureMatrix, opts: ClassifyOptions): Promise<Classified>;
}

export const IN_THREAD: EvaluationRunners = {
  fitClassifier: async (input) => trainCellClassifier(input).classifier,
  classify: async (clf, x, opts) => classifyCells(clf, x, opts),
};

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
  /**
   * morphology_default only (the classify job's path): the lab's self-check as the job would report it, and which
   * forest read the lab. Kept as data so that scripts/results-seeds.sh tabulates them without parsing the notes.
   */
  selfCheck?: SelfCheck | null;
  routing?: ForestRouting | null;
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

/** One epoch of a method's autoencoder as the report keeps it (the pipeline's summary, without its throughput). */
export type EpochSummary = Omit<PipelineEpochSummary, 'samplesPerSec'>;

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
   * training latents and that domain's (docs/aecfe-method.md §4; 0 = aligned).
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
  /** Source only: morphology rows of the labelled cells' augmented copies, and the index into `labelled` of each one's cell. */
  augmented?: { rows: Float64Array[]; of: number[] };
}

const now = (): number => performance.now();
const secs = (t0: number): number => Math.round((now() - t0) / 10) / 100;

/**
 * One turn of the event loop, taken every few hundred cells by the feature loops: the evaluate job's heartbeats run
 * meanwhile (9,000 cells' colour and shape features took 1.2 s at once).
 */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A matrix of `count` rows of `cols` values, row i written by `fill` at offset i * cols, a turn of the loop every 256 rows. */
async function rowsWithTurns(count: number, cols: number, fill: (i: number, data: Float64Array, at: number) => void): Promise<FeatureMatrix> {
  const data = new Float64Array(count * cols);
  for (let i = 0; i < count; i++) {
    fill(i, data, i * cols);
    if (i % 256 === 255) await nextTurn();
  }
  return { data, rows: count, cols };
}

function checkAbort(signal?: AbortSignal): void {
  signal?.throwIfAborted();
}

/** Runs the whole evaluation; throws on bad input, and the signal's reason when aborted. */
export async function runEvaluation(domains: readonly EvaluationDomain[], options: EvaluationOptions): Promise<EvaluationReport> {
  const tAll = now();
  const signal = options.signal;
  const progress = options.onProgress ?? (() => undefined);
  const runners = options.runners ?? IN_THREAD;
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

  const preset = options.preset ?? AUTOENCODER_DEFAULTS.preset;
  const methods = [...(options.methods ?? METHODS)];
  for (const m of methods) if (!METHODS.includes(m)) throw new Error(`evaluation: unknown method "${m}" (expected ${METHODS.join(', ')})`);
  const seed = options.seed ?? AUTOENCODER_DEFAULTS.seed;
  const epochs = options.epochs ?? AUTOENCODER_DEFAULTS.epochs;
  const alignWeight = options.alignWeight ?? AUTOENCODER_DEFAULTS.alignWeight;
  const alignScale = options.alignScale ?? AUTOENCODER_DEFAULTS.alignScale;
  if (!ALIGN_SCALES.includes(alignScale)) throw new Error(`evaluation: alignScale must be one of ${ALIGN_SCALES.join(', ')}, got ${alignScale}`);
  const trees = options.trees ?? FOREST_DEFAULTS.trees;
  const maxDepth = options.maxDepth ?? FOREST_DEFAULTS.maxDepth;
  const testFraction = options.testFraction ?? FOREST_DEFAULTS.testFraction;
  const augmentCopies = options.augmentCopies ?? MORPHOLOGY_AUGMENT_COPIES;
  const minSupport = options.minSupport ?? EVALUATION_DEFAULTS.minSupport;
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
        if (aeCrops || (colourCrops && isLabelled)) crops[i] = squareCrop(raw, imageSize, `evaluation: ${name} cell ${i}`);
        // Morphology needs detail: computed once here at 128 px (crops are given at least that large by the loaders).
        if (morph && (isLabelled || morphAll)) morphology[i] = morphologyOfCrop(raw, c.box);
      }
      if (i % 256 === 255) checkAbort(signal);
    }
    const labCentre = morphAll ? columnMedians(morphology.filter(Boolean), MORPHOLOGY_COLOUR_COLUMNS) : undefined;
    // The source's training-time augmentation, as the train-classifier job makes it (cell ids seed the copies).
    let augmented: PreparedDomain['augmented'];
    if (name === source && morph && augmentCopies > 0) {
      augmented = { rows: [], of: [] };
      for (const [k, i] of labelled.entries()) {
        const c = d.cells[i]!;
        const raw = typeof c.crop === 'function' ? await c.crop() : c.crop;
        const crop = squareCrop(raw, MORPHOLOGY_SIZE, `evaluation: ${name} cell ${i}`);
        for (const a of await augmentCrop({ crop, size: MORPHOLOGY_SIZE, box: c.box ?? DEFAULT_BOX_IN_CROP }, augmentCopies, seed, cellSeed(c.id ?? `${name}/${i}`))) {
          augmented.rows.push(morphologyOfCrop(a.crop, a.box));
          augmented.of.push(k);
        }
        if (k % 64 === 63) checkAbort(signal);
      }
    }
    prepared.set(name, { name, cells: d.cells, crops, morphology, labCentre, labelled, labels, augmented });
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
  // The classifiers' settings: trained as the train-classifier job trains them (src/pipeline/classifier-training.ts).
  const classifierOf = (method: MethodName, rows: readonly ArrayLike<number>[], features: 'latent' | 'morphology', stainRows?: readonly ArrayLike<number>[]): Promise<CellClassifier> =>
    runners.fitClassifier({
      rows, labels: src.labels, classNames: forestClasses, features, classMap: 'evaluation', stainRows, stain: stainRows !== undefined,
      trees, maxDepth, seed, testFraction, augmented: features === 'morphology' ? src.augmented : undefined,
      onTree: (done, total) => {
        if (done % 10 === 0 || done === total) progress({ kind: 'forest', method, done, total });
      },
    });
  // The morphology classifier is trained once (with the stain reference when a method moves stain) and
  // scores morphology, morphology_adaptive, morphology_consensus and morphology_default.
  let morphologyClassifier: CellClassifier | null = null;
  // morphology_adaptive: each other domain's stain step (the classify job's, src/pipeline/stain-step.ts) over
  // all its measured cells, against the source's reference (medians over every source cell, within-class
  // spread on the training split only: the held-out labels stay unseen).
  const stainSteps = new Map<string, { stain: StainOutcome; offsets: Map<number, number> }>();
  if (movesStain || methods.includes('morphology')) {
    const tm = now();
    progress({ kind: 'stage', stage: 'forest', method: 'morphology', message: `fitting the morphology classifier on ${trainRows.length} source cells` });
    morphologyClassifier = await classifierOf('morphology', src.labelled.map((r) => src.morphology[r]!), 'morphology', movesStain ? src.morphology.filter(Boolean) : undefined);
    if (methods.some((m) => ADAPTIVE_OFFSETS.has(m))) {
      const ref = morphologyClassifier.stain!;
      const trainMorphology = trainRows.map((r) => src.morphology[r]!);
      const mixes = classMixShifts(trainMorphology, trainLabels, ref, { rng: createRng(mixSeed(seed, 0x57a1)) }).sort((x, y) => x - y);
      if (mixes.length) {
        notes.push(
          `morphology_adaptive: the source's own cells under ${mixes.length} random class mixes (Dirichlet(1), 300 cells each) shift by ` +
            `${mixes[0]!.toFixed(2)}-${mixes.at(-1)!.toFixed(2)} (median ${percentile(mixes, 50).toFixed(2)}) within-class standard deviations: what a class mix alone does`,
        );
      }
      const share = (mix: Record<string, number>) => forestClasses.map((c) => `${c} ${Math.round(100 * (mix[c] ?? 0))}`).join(', ');
      for (const name of involved) {
        if (name === source) continue;
        // A turn of the loop before each domain's step (a few forest passes over its cells): heartbeats run between.
        await nextTurn();
        const p = prepared.get(name)!;
        const measured = p.morphology.flatMap((m, i) => (m ? [i] : []));
        const step = stainStep(morphologyClassifier, rowsMatrix(p.morphology, measured, MORPHOLOGY_LENGTH), 'auto');
        stainSteps.set(name, step);
        // The labelled mix is printed beside the estimate for the reader; the method never sees it.
        const labelled = Object.fromEntries(forestClasses.map((c) => [c, p.labels.filter((l) => l === c).length / Math.max(1, p.labels.length)]));
        const sh = step.stain;
        notes.push(
          sh.statistic === null
            ? `morphology_adaptive: ${name}: ${sh.note}`
            : `morphology_adaptive: ${name}'s stain shift is ${sh.statistic.toFixed(2)} within-class standard deviations of the source ` +
                `(limit ${STAIN_SHIFT_LIMIT}): ${sh.centred ? "its stain-dependent values moved onto the source's medians" : 'left as it is'}` +
                (sh.classMix ? ` under its estimated class mix (%: ${share(sh.classMix)}${p.labels.length ? `; labelled: ${share(labelled)}` : ''})` : ''),
        );
      }
    }
    // The morphology classifier (and the shape forest) fitted here: their time is this, not the methods' own.
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

  // ---- each method: features of the source's labelled cells and of the scored cells, classifier, classify stage, scores
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
        await options.onAutoencoder?.(method, model);
        const m = model;
        featuresOf = async (domain, rows) => {
          const d = prepared.get(domain)!;
          const z = await encodeCells(m, rows.map((r) => d.cells[r]!.features), { signal });
          return { data: z, rows: rows.length, cols: m.preset.latentDim };
        };
      } else if (method === 'pooled_features') {
        featuresOf = async (domain, rows) => {
          const p = prepared.get(domain)!;
          return rowsWithTurns(rows.length, POOLED_LENGTH, (i, data, at) => pooledFeatures(p.cells[rows[i]!]!.features, data, at));
        };
      } else if (method.startsWith('morphology')) {
        // The stain step's offsets are applied by the classify stage, not here.
        featuresOf = async (domain, rows) => {
          const p = prepared.get(domain)!;
          const x = rowsMatrix(p.morphology, rows, MORPHOLOGY_LENGTH);
          if (method === 'morphology_lab_centred') rows.forEach((_, i) => { for (const [c, m] of p.labCentre!) x.data[i * MORPHOLOGY_LENGTH + c]! -= m; });
          return x;
        };
      } else {
        featuresOf = async (domain, rows) => {
          const p = prepared.get(domain)!;
          return rowsWithTurns(rows.length, COLOUR_SHAPE_LENGTH, (i, data, at) => colourShapeFeatures(p.crops[rows[i]!]!, imageSize, data, at));
        };
      }
      // The stain-moving methods classify all of a target's measured cells together, as a classify job over
      // that lab does (the consensus takes its neighbours among them), and score the labelled ones.
      const together = STAIN_MOVING.has(method);
      const classifyRows = (d: (typeof scored)[number]): number[] => (together && d.role === 'target' ? prepared.get(d.name)!.morphology.flatMap((m, i) => (m ? [i] : [])) : d.rows);
      const tf = now();
      progress({ kind: 'stage', stage: model ? 'encode' : 'features', method, message: `${model ? 'encoding' : 'computing features of'} ${src.labelled.length + scored.reduce((s, d) => s + classifyRows(d).length, 0)} cells (${method})` });
      const xLabelled = await featuresOf(source, src.labelled);
      const xScored: FeatureMatrix[] = [];
      for (const d of scored) {
        checkAbort(signal);
        xScored.push(d.role === 'source-test' ? subsetRows(xLabelled, split.test) : await featuresOf(d.name, classifyRows(d)));
      }
      const xTrain = subsetRows(xLabelled, split.train);
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
      const shared = method === 'morphology' || STAIN_MOVING.has(method) ? morphologyClassifier : null;
      progress({ kind: 'stage', stage: 'forest', method, message: `${shared ? 'the morphology classifier fitted for the stain step' : `fitting ${trees} trees`} on ${trainRows.length} source cells x ${xTrain.cols} features (${method})` });
      const clf = shared ?? (await classifierOf(method, rowsOf(xLabelled), method === 'morphology_lab_centred' ? 'morphology' : 'latent'));
      timings[`${method}.forest`] = secs(tfit);

      const tsc = now();
      const out: Record<string, DomainReport> = {};
      for (let i = 0; i < scored.length; i++) {
        const d = scored[i]!;
        // The classify stage, as the classify job runs it: the stain step's offsets (stain-moving methods,
        // other labs only), the forest, the consensus (morphology_consensus), the verdicts and their flags.
        const offsets = (ADAPTIVE_OFFSETS.has(method) && stainSteps.get(d.name)?.offsets) || new Map<number, number>();
        const c = await runners.classify(clf, xScored[i]!, method === JOB_DEFAULT ? {} : { offsets, consensus: method === 'morphology_consensus' });
        if (method === JOB_DEFAULT) notes.push(`${method}: ${d.name}: ${c.stain?.note ?? 'no stain step'}; self-check ${c.selfCheck?.status ?? 'none'}${c.selfCheck?.warning ? ` (${c.selfCheck.warning})` : ''}`);
        const K = clf.classNames.length;
        // Scored: the domain's labelled rows among those classified (row k of c is classifyRows(d)[k]).
        const all = classifyRows(d);
        const at = new Map(all.map((r, k) => [r, k]));
        const picked = d.role === 'target' && together ? d.rows.map((r) => at.get(r)!) : d.rows.map((_, k) => k);
        const best = argmaxRows(c.proba, K);
        const pred = picked.map((k) => clf.classNames[best[k]!]!);
        const flags = flagScores(d.labels, pred, picked.map((k) => c.verdicts[k]!), clf.minConfidence);
        const asTheJob = method === JOB_DEFAULT ? { selfCheck: c.selfCheck, routing: c.stain?.routing ?? null } : {};
        out[d.name] = { role: d.role, ...scoreDomain(d.labels, pred, classes, minSupport), flags, ...asTheJob };
        options.onVerdicts?.(method, d.name, picked.map((k, j) => ({ id: prepared.get(d.name)!.cells[d.rows[j]!]!.id ?? d.rows[j]!, label: d.labels[j]!, verdict: c.verdicts[k]! })));
      }
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

/** The given rows of per-cell values (index into `values`), as one matrix. */
function rowsMatrix(values: readonly ArrayLike<number>[], rows: readonly number[], cols: number): FeatureMatrix {
  const data = new Float64Array(rows.length * cols);
  rows.forEach((r, i) => data.set(values[r]!, i * cols));
  return { data, rows: rows.length, cols };
}

/** Rows `idx` of x. */
function subsetRows(x: FeatureMatrix, idx: readonly number[]): FeatureMatrix {
  const data = x.data instanceof Float32Array ? new Float32Array(idx.length * x.cols) : new Float64Array(idx.length * x.cols);
  idx.forEach((r, i) => data.set(x.data.subarray(r * x.cols, (r + 1) * x.cols), i * x.cols));
  return { data, rows: idx.length, cols: x.cols };
}

/** x's rows as views. */
function rowsOf(x: FeatureMatrix): ArrayLike<number>[] {
  return Array.from({ length: x.rows }, (_, r) => x.data.subarray(r * x.cols, (r + 1) * x.cols));
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
 * Trains one autoencoder on every source cell with the jobs' epoch loop (src/pipeline/autoencoder-training.ts):
 * the source cells' features and crops, and per alignment domain its cells' features (they enter the
 * alignment term, docs/aecfe-method.md §4).
 */
async function trainAutoencoder(src: PreparedDomain, alignDomains: PreparedDomain[], s: TrainSettings): Promise<{ model: AutoencoderModel; run: AutoencoderRun }> {
  const model = await createAutoencoder(s.preset, s.seed, s.createOptions ?? {});
  try {
    const epochs: EpochSummary[] = [];
    const { stopped } = await trainAutoencoderEpochs(
      model,
      {
        count: src.cells.length,
        features: async (idx) => packFeatures(idx.map((i) => src.cells[i]!.features)),
        images: async (idx, size) => imageTargets(idx.map((i) => src.crops[i]!), size),
      },
      alignDomains.map((d) => ({ count: d.cells.length, features: async (idx) => packFeatures(idx.map((i) => d.cells[i]!.features)) })),
      {
        seed: s.seed, epochs: s.epochs, batchSize: s.batchSize, learningRate: s.learningRate, alignWeight: s.alignWeight, alignScale: s.alignScale,
        shouldStop: () => s.signal?.aborted ?? false,
        onEpoch: (e) => {
          const ep: EpochSummary = { epoch: e.epoch, loss: e.loss, ssim: e.ssim, mse: e.mse, align: e.align, seconds: Math.round(e.seconds * 100) / 100 };
          epochs.push(ep);
          s.progress({ kind: 'epoch', method: s.method, epochs: s.epochs, ...ep });
        },
      },
    );
    if (stopped) checkAbort(s.signal);
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
