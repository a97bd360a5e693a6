// Classifier training off the engine's main thread: trainCellClassifier (src/pipeline/classifier-training.ts) in a
// worker thread (classifier-fit-worker.ts), so that heartbeats, progress and cancellation keep running while the
// forests fit (a morphology classifier on ~6,000 cells blocked the event loop long enough for other engines to fail
// its job over). The result is the in-thread call's: the same input gives the same classifier file, byte for byte.
import { reportedError, runInWorker, type ErrorReport } from './worker-run.js';
import type { ClassifierTrainingInput } from '../pipeline/classifier-training.js';
import type { FeatureMatrix } from './classifier/feature-matrix.js';
import type { ConfidenceCalibration } from './classifier/accuracy-estimate.js';
import type { TrainTestSplit } from '../pipeline/split.js';
import type { ClassificationReport } from '../pipeline/metrics.js';

/** Rows packed into one Float64Array (row-major), so they cross to the worker as one transferred buffer. */
type PackedRows = FeatureMatrix & { readonly data: Float64Array };

/** What the worker is started with: trainCellClassifier's input with every set of rows packed, and no callback. */
export interface PackedTrainingInput extends Omit<ClassifierTrainingInput, 'rows' | 'stainRows' | 'reviewed' | 'augmented' | 'onTree'> {
  rows: PackedRows;
  stainRows?: PackedRows;
  reviewed?: { rows: PackedRows; labels: readonly string[]; share?: number };
  augmented?: { rows: PackedRows; of: readonly number[] };
}

/** What the worker sends: one message per fitted tree of the main forest, then the result or the error. */
export type FitWorkerMessage =
  | { type: 'tree'; done: number; total: number }
  | { type: 'fitted'; result: FittedClassifier }
  | ErrorReport;

/** trainCellClassifier's result as plain data: the classifier as its file's text (classifierToJson). */
export interface FittedClassifier {
  json: string;
  classNames: string[];
  calibration: ConfidenceCalibration | null;
  split: TrainTestSplit;
  heldOut: ClassificationReport | null;
  reviewCopies: number;
}

export type ClassifierFitOutcome =
  | ({ status: 'fitted' } & FittedClassifier)
  | { status: 'cancelled'; treesDone: number; /** the worker's exit code once terminated; null when the job was cancelled before one started */ exitCode: number | null };

export interface ClassifierFitOptions {
  /** Polled on every progress message and every `pollMs`: once true, the worker is terminated. */
  cancelled: () => boolean;
  pollMs?: number;
}

/** Packs rows of `cols` values each into one Float64Array. */
export function packRows(rows: readonly ArrayLike<number>[], what: string, cols: number): PackedRows {
  const data = new Float64Array(rows.length * cols);
  rows.forEach((row, r) => {
    if (row.length !== cols) throw new Error(`classifier training: ${what} row ${r} has ${row.length} values, expected ${cols}`);
    data.set(row, r * cols);
  });
  return { data, rows: rows.length, cols };
}

/** The rows of a packed matrix as views into its buffer (what trainCellClassifier reads). */
export function unpackRows(m: FeatureMatrix): Float64Array[] {
  const data = m.data instanceof Float64Array ? m.data : Float64Array.from(m.data);
  return Array.from({ length: m.rows }, (_, r) => data.subarray(r * m.cols, (r + 1) * m.cols));
}

/** trainCellClassifier's input with its rows packed; the buffers to transfer come with it. */
export function packTrainingInput(input: ClassifierTrainingInput): { packed: PackedTrainingInput; transfer: ArrayBuffer[] } {
  const { rows, stainRows, reviewed, augmented, onTree: _onTree, ...rest } = input;
  const cols = rows[0]?.length ?? 0;
  // Every set of rows is read in the training rows' columns: a set of another width is refused here, by name.
  const packed: PackedTrainingInput = {
    ...rest,
    rows: packRows(rows, 'training', cols),
    ...(stainRows ? { stainRows: packRows(stainRows, 'stain', cols) } : {}),
    ...(reviewed ? { reviewed: { ...reviewed, rows: packRows(reviewed.rows, 'reviewed', cols) } } : {}),
    ...(augmented ? { augmented: { of: augmented.of, rows: packRows(augmented.rows, 'augmented', cols) } } : {}),
  };
  const transfer = [packed.rows, packed.stainRows, packed.reviewed?.rows, packed.augmented?.rows].flatMap((m) => (m ? [m.data.buffer as ArrayBuffer] : []));
  return { packed, transfer };
}

/** The worker's side: trainCellClassifier's input back from the packed one. */
export function unpackTrainingInput(p: PackedTrainingInput, onTree?: (done: number, total: number) => void): ClassifierTrainingInput {
  const { rows, stainRows, reviewed, augmented, ...rest } = p;
  return {
    ...rest,
    rows: unpackRows(rows),
    ...(stainRows ? { stainRows: unpackRows(stainRows) } : {}),
    ...(reviewed ? { reviewed: { ...reviewed, rows: unpackRows(reviewed.rows) } } : {}),
    ...(augmented ? { augmented: { of: augmented.of, rows: unpackRows(augmented.rows) } } : {}),
    ...(onTree ? { onTree } : {}),
  };
}

/**
 * Runs trainCellClassifier in a worker thread. `input.onTree` is called from the worker's progress messages.
 * Resolves with the fitted classifier, or `cancelled` once `opts.cancelled()` turned true (the worker terminated);
 * rejects with the training's own error (bad input) or when the worker dies.
 */
export async function fitCellClassifierInWorker(input: ClassifierTrainingInput, opts: ClassifierFitOptions): Promise<ClassifierFitOutcome> {
  const { packed, transfer } = packTrainingInput(input);
  let treesDone = 0;
  return runInWorker<FitWorkerMessage, ClassifierFitOutcome>(new URL('./classifier-fit-worker.js', import.meta.url), packed, transfer, {
    what: 'classifier training',
    returns: 'a classifier',
    cancelled: opts.cancelled,
    pollMs: opts.pollMs,
    onCancel: (exitCode) => ({ status: 'cancelled', treesDone, exitCode }),
    onMessage: (m) => {
      if (m.type === 'tree') {
        treesDone = m.done;
        input.onTree?.(m.done, m.total);
        return undefined;
      }
      if (m.type === 'fitted') return { value: { status: 'fitted', ...m.result } };
      throw reportedError(m);
    },
  });
}
