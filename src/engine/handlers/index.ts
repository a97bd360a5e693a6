// One handler per job kind. Kinds without a handler in this engine are refused at start-up rather than
// left to fail at run time.
import type { JobKind, JobOutcome } from '../../jobs/job-kinds.js';
import type { JobContext } from '../job-context.js';
import { runImport } from './import.handler.js';
import { runDetect } from './detect.handler.js';
import { runTrainAutoencoder } from './train-autoencoder.handler.js';
import { runEncode } from './encode.handler.js';
import { runTrainClassifier } from './train-classifier.handler.js';
import { runClassify } from './classify.handler.js';
import { runAnalyzeInSteps } from './analyze-steps.js';
import { runEvaluate } from './evaluate.handler.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JobHandler = (ctx: JobContext<any>) => Promise<JobOutcome>;

export const handlers: Partial<Record<JobKind, JobHandler>> = {
  import: runImport,
  detect: runDetect,
  'train-autoencoder': runTrainAutoencoder,
  encode: runEncode,
  'train-classifier': runTrainClassifier,
  classify: runClassify,
  // In steps when this engine does not classify (analyze-steps.ts).
  analyze: runAnalyzeInSteps,
  evaluate: runEvaluate,
};
