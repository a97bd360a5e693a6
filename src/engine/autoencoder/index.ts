/**
 * AE-CFE autoencoder: the engine's only entry point to the model (TensorFlow.js stays behind it).
 * See README.md in this folder.
 */
export {
  createAutoencoder,
  disposeAutoencoder,
  describeAutoencoder,
  trainStep,
  encode,
  reconstruct,
  alignmentBetween,
  shuffledIndices,
  liveTensorCount,
  type AutoencoderModel,
  type CreateOptions,
  type ModelInfo,
  type TrainBatch,
  type TrainStepOptions,
  type TrainStepResult,
  type InferenceOptions,
  type Reconstruction,
  type AlignmentValue,
} from './model.js';
export {
  saveWeights,
  loadWeights,
  saveCheckpoint,
  saveCheckpointState,
  restoreCheckpoint,
  loadCheckpoint,
  loadAutoencoder,
  encodeWeightsFile,
  decodeWeightsFile,
  type AutoencoderWeights,
  type AutoencoderCheckpoint,
} from './checkpoint.js';
export { PRESETS, resolvePreset, planNetwork, type AutoencoderPreset, type PresetName, type LayerSpec, type NetworkPlan } from './presets.js';
export { scaleFeaturesMinMax, resizeCrop, cropBoxWithMargin, AECFE_CROP_MARGINS, type CropImage } from './data.js';
export { ALIGN_SCALES, type AlignScale } from './losses.js';
export { chooseTrainingWorkers, createTrainingPool, type TrainingPool, type TrainingPoolOptions, type StepGradients } from './parallel.js';
export { chooseTrainingBackend, createOnnxTrainer, type OnnxTrainer, type OnnxTrainerOptions, type TrainingBackend } from './onnx-train.js';
