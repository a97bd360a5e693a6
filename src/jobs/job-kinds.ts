// The job kinds and their typed parameters: one handler per kind, checked when an engine starts.
import type { ClassifierFeatures } from '../pipeline/types.js';

/** The folder layouts an imported dataset can come in (read by src/services/dataset-layouts.ts). */
export const LAYOUTS = ['auto', 'class-folders', 'matek', 'labels-csv', 'images'] as const;
export type Layout = (typeof LAYOUTS)[number];

export const JOB_KINDS = ['import', 'detect', 'train-autoencoder', 'encode', 'train-classifier', 'classify', 'analyze', 'evaluate'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export interface ImportParams {
  datasetId: string;
  /** Real path of the folder, already checked to lie inside a data root. */
  path: string;
  root: string;
  layout: Layout;
  maxPerClass?: number;
  /** Test hook (LEUKOGRAPH_TEST_HOOKS=1 only): sleep this long per image so a test can act mid-job. */
  throttleMs?: number;
}

export interface DetectParams {
  datasetId?: string;
  imageIds?: string[];
  /** Default: the active detector. */
  detectorId?: string;
  /** Keep only the highest-scoring cell of each image (single-cell images, AE-CFE's one cell per image). */
  topOnly?: boolean;
  maxImages?: number;
}

export interface TrainAutoencoderParams {
  sourceDatasetId: string;
  /** Datasets whose unlabelled cells the latents are aligned to. */
  alignDatasetIds: string[];
  preset: 'paper' | 'cpu';
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Weight of the alignment term (docs/aecfe-method.md §4: 5); 0 turns it off. */
  alignWeight: number;
  seed: number;
  detectorId?: string;
  /** Use at most this many cells per dataset. */
  maxCells?: number;
}

export interface EncodeParams {
  datasetId: string;
  /** Default: the active autoencoder. */
  autoencoderId?: string;
  detectorId?: string;
}

export type { ClassifierFeatures };

export interface TrainClassifierParams {
  datasetIds: string[];
  classMap: 'common5' | 'common5_ig' | 'paper13';
  /** Default 'latent' for jobs queued before the option existed (they have none); new jobs default to 'morphology'. */
  features?: ClassifierFeatures;
  /** The autoencoder whose latents are used; null for morphology. */
  encoderId: string | null;
  trees: number;
  maxDepth: number;
  seed: number;
  balanced: boolean;
  /** Fraction held out (stratified, seeded) to score the forest; 0 trains on everything. */
  testFraction: number;
  /** Cells whose top probability is lower are flagged (DEFAULT_MIN_CONFIDENCE unless given). */
  minConfidence: number;
  /** Labs whose reviewed cells join the training cells (issue 20; src/engine/reviewed-training.ts). */
  reviewedDatasetIds?: string[];
  /** Share of the training weight the reviewed cells carry together (DEFAULT_REVIEW_SHARE unless given). */
  reviewShare?: number;
  /** Morphology: augmented copies of each training cell's crop (src/pipeline/augment.ts); MORPHOLOGY_AUGMENT_COPIES unless given, 0 none. */
  augmentCopies?: number;
}

/** The defaults of TrainClassifierParams.minConfidence and reviewShare, and of ClassifyParams.selfTraining (src/pipeline/defaults.ts). */
export { DEFAULT_MIN_CONFIDENCE, DEFAULT_REVIEW_SHARE, SELF_TRAINING_BY_DEFAULT } from '../pipeline/defaults.js';

export interface ClassifyParams {
  datasetId?: string;
  imageIds?: string[];
  classifierId?: string;
  /**
   * Morphology classifiers: the stain step (engine/classifier/stain-steps.ts): 'auto' (default: the step that won
   * docs/unseen-labs.md), 'off' (none), 'always' (adaptive at any shift), or 'centred' | 'adaptive' | 'prior_mix' | 'ensemble'.
   */
  stainAdaptation?: 'auto' | 'off' | 'always' | 'centred' | 'adaptive' | 'prior_mix' | 'ensemble';
  /**
   * Morphology classifiers: average each cell's class probabilities with its nearest neighbours' among the
   * job's cells (neighbour-consensus.ts). Default false: it helps the common types and costs the rare ones.
   */
  neighbourConsensus?: boolean;
  /**
   * Morphology classifiers that carry their training cells: fit the classifier again with the lab's surest cells and
   * classify it again (src/pipeline/self-training.ts). Default SELF_TRAINING_BY_DEFAULT (off).
   */
  selfTraining?: boolean;
}

export interface AnalyzeParams {
  datasetId?: string;
  imageIds?: string[];
  topOnly?: boolean;
}

export interface EvaluateParams {
  name: string;
  sourceDatasetId: string;
  targetDatasetIds: string[];
  /** More unlabelled datasets to align to (the targets are aligned to as well, as in the paper). */
  alignDatasetIds: string[];
  preset: 'paper' | 'cpu';
  epochs: number;
  classes: 'common5' | 'common5_ig' | 'paper13';
  seed: number;
  maxPerClass?: number;
  detectorId?: string;
}

export interface JobParamsByKind {
  import: ImportParams;
  detect: DetectParams;
  'train-autoencoder': TrainAutoencoderParams;
  encode: EncodeParams;
  'train-classifier': TrainClassifierParams;
  classify: ClassifyParams;
  analyze: AnalyzeParams;
  evaluate: EvaluateParams;
}

export type JobOutcome =
  | { status: 'succeeded'; result?: Record<string, unknown>; message?: string }
  | { status: 'failed'; error: string; result?: Record<string, unknown> }
  | { status: 'cancelled'; result?: Record<string, unknown> }
  /**
   * This step is done and the job goes on as a step of kind `to`, claimed through that kind's queue by
   * any engine that takes it (an engine without classify in LEUKOGRAPH_ENGINE_KINDS detects, one with it
   * classifies); `result` is handed to that step (JobContext.handedOn).
   */
  | { status: 'handed-on'; to: JobKind; result: Record<string, unknown>; message: string };
