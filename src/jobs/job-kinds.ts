// The job kinds and their typed parameters: one handler per kind, checked when an engine starts.
import type { Layout } from '../services/dataset-layouts.js';

export const JOB_KINDS = ['import', 'detect', 'train-autoencoder', 'encode', 'train-classifier', 'classify', 'evaluate'] as const;
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

export interface JobParamsByKind {
  import: ImportParams;
  detect: Record<string, unknown>;
  'train-autoencoder': Record<string, unknown>;
  encode: Record<string, unknown>;
  'train-classifier': Record<string, unknown>;
  classify: Record<string, unknown>;
  evaluate: Record<string, unknown>;
}

export type JobOutcome =
  | { status: 'succeeded'; result?: Record<string, unknown>; message?: string }
  | { status: 'failed'; error: string; result?: Record<string, unknown> }
  | { status: 'cancelled'; result?: Record<string, unknown> };
