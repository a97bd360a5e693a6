// The shapes the pipeline's stages pass each other and give their callers (job handlers, the evaluation,
// the CLI, the benchmarks): plain typed objects, no database rows.
export type { FeatureMatrix } from '../engine/classifier/feature-matrix.js';
export type { CellClassifier, CellVerdict, ClassifierFeatures } from '../engine/classifier/classifier-artifact.js';
export type { StainAdaptation, StainOutcome } from './stain-step.js';
export type { ConsensusOutcome } from './consensus-step.js';

/** A detection box in image pixels, [x0, y0, x1, y1]. */
export type Box = [number, number, number, number];

/** What cropping a cell needs: its box and its image (a path the caller's crop source can read). */
export interface CellGeometry {
  id: string;
  box: Box;
  storagePath: string;
  width: number;
  height: number;
}

/** Where crops come from: the engine's crop cache, or crops already made by a loader. */
export interface CropSource {
  /** The cell cropped with AE-CFE's margins, size x size RGB uint8. */
  crop(cell: CellGeometry, size: number): Promise<Uint8Array>;
}

/** The cells an autoencoder trains on, by index: their instance features and their image targets. */
export interface AutoencoderTrainingSet {
  count: number;
  /** NHWC features of the given cells, packed (FEATURE_LENGTH values each). */
  features(indices: readonly number[]): Promise<Float32Array>;
  /** Image targets in [0, 1], size x size x 3 each, packed. */
  images(indices: readonly number[], size: number): Promise<Float32Array>;
}

/** The unlabelled cells of another lab that the alignment term sees: features only. */
export interface AlignmentSet {
  count: number;
  features(indices: readonly number[]): Promise<Float32Array>;
}

/** One epoch of autoencoder training, averaged over its cells. */
export interface EpochSummary {
  epoch: number;
  loss: number;
  ssim: number;
  mse: number;
  align: number;
  samplesPerSec: number;
  seconds: number;
}
