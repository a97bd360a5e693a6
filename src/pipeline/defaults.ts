// Every default of the analysis, once: the GraphQL inputs, the CLI, the evaluation and the benchmarks read
// these, so a job run with its defaults is the program the evaluation measured. Paper values:
// docs/aecfe-method.md.

/** Training the autoencoder (paper: Adam 1e-3, alignment weight 5; batch and epochs lighter on a CPU). */
export const AUTOENCODER_DEFAULTS = {
  preset: 'cpu',
  epochs: 20,
  /** The cpu preset's batch; the paper preset's own is 500. */
  batchSize: 64,
  learningRate: 1e-3,
  alignWeight: 5,
  alignScale: 'raw',
  seed: 0,
} as const;

/**
 * The random forest (paper: 100 trees, depth 16) and its stratified held-out part. minSamplesLeaf and maxFeatures
 * are the forest's own defaults; augmentWeight is what each of a morphology cell's augmented copies
 * (MORPHOLOGY_AUGMENT_COPIES) weighs against the cell's own row, plainTreeShare the share of the trees fitted
 * without the copies. Measured against other trees, depths, leaves, features per split, copy weights and plain-tree
 * shares (docs/forest-recipe.md, 8 forest seeds): none reached 98 % in-domain without losing on the selection labs,
 * so these stay.
 */
export const FOREST_DEFAULTS = {
  trees: 100, maxDepth: 16, minSamplesLeaf: 1, maxFeatures: 'sqrt', augmentWeight: 1, plainTreeShare: 0, testFraction: 0.2, balanced: false, seed: 0,
} as const;

/** Cells whose top probability is lower are flagged instead of given a class. */
export const DEFAULT_MIN_CONFIDENCE = 0.4;

/** The evaluation: macro F1 leaves out classes with fewer cells than this in a domain. */
export const EVALUATION_DEFAULTS = { classes: 'common5', minSupport: 5 } as const;

/** The share of the training weight a lab's reviewed cells carry together when they join a classifier's training. */
export const DEFAULT_REVIEW_SHARE = 0.5;

/**
 * A morphology classifier's training-time augmentation (domain randomisation, augment.ts): per labelled cell,
 * this many seeded, randomly transformed copies of its crop join the forest's training rows (training split only).
 * 0 turns it off. Chosen on docs/unseen-labs.md's selection labs.
 */
export const MORPHOLOGY_AUGMENT_COPIES = 2;

/**
 * Routing between a morphology classifier's two forests (lab-classification.ts; docs/forest-recipe.md, "Routing,
 * built"): a lab of at least MIN_STAIN_CELLS cells whose morphology shift (the median over every morphology column of
 * |lab median - training median| / the training cells' within-class SD) is at or under `limit` is classified by the
 * plain forest (no augmented copies: better on the training lab's own cells), every other lab by the augmented one.
 * The limit lies halfway between the held-out training-lab cells (0.01) and the nearest other selection lab (syn-random-1,
 * 0.54), rounded down; chosen on the selection labs alone (docs/unseen-labs.md's roles).
 */
export const PLAIN_FOREST_ROUTING = { enabled: true, limit: 0.27 } as const;

/**
 * Whether a classify job self-trains (pipeline/self-training.ts) unless told: what docs/unseen-labs-self-trained.md's rule
 * picks, comparing it with the default on the same rows (a test holds the committed page to it). Off: the rule keeps the
 * default (2026-12-07).
 */
export const SELF_TRAINING_BY_DEFAULT = false;
