// The classify stage off the engine's main thread: classifyCells (src/pipeline/classify.ts) in a worker thread
// (classify-cells-worker.ts), so that heartbeats, progress and cancellation keep running while a large batch is
// classified (20,000 morphology cells held the event loop for seconds, a minute with neighbour consensus as it was
// before nearest-neighbours.ts: past the job's lease).
// The result is the in-thread call's: the same classifier, rows and options give the same verdicts (test).
import { reportedError, runInWorker, type ErrorReport } from './worker-run.js';
import type { CellClassifier } from './classifier/classifier-artifact.js';
import type { FeatureMatrix } from './classifier/feature-matrix.js';
import type { Classified, ClassifyOptions } from '../pipeline/classify.js';

/**
 * What the worker is started with. The classifier crosses as it is (structured clone: its forests and novelty
 * model are typed arrays, copied as such), not as its file's text: no JSON to write on the main thread nor to
 * parse in the worker, and a classifier read from a file and adjusted since (withRowEncoder) crosses as adjusted.
 * Measured with the shipped classifier (classifier-common5: three forests of 100 trees, 16.9 MB as JSON) and 20,000
 * cells x 59 values: starting the worker (serialising classifier and rows) holds the main thread 22 ms, where the
 * file's text would take 219 ms to write here (and 228 ms to parse there); a structured clone of the result, both
 * halves, 38 ms. The longest event-loop gap of a whole 20,000-cell classify: 33 ms, 69 ms with consensus
 * (scripts/classify-lease-gap.ts; on the event loop it is the whole call: 2.8-4.3 s, and 15 s with consensus, 63 s
 * with the consensus before nearest-neighbours.ts).
 */
export interface ClassifyWorkerInput {
  clf: CellClassifier;
  x: FeatureMatrix;
  opts: ClassifyOptions;
}

export type ClassifyWorkerMessage = { type: 'tree'; done: number; total: number } | { type: 'classified'; result: Classified } | ErrorReport;

export type ClassifyOutcome = ({ status: 'classified' } & Classified) | { status: 'cancelled'; /** the worker's exit code once terminated; null when the job was cancelled before one started */ exitCode: number | null };

export interface ClassifyRunOptions {
  /** Polled every `pollMs` while the worker runs: once true, the worker is terminated. */
  cancelled: () => boolean;
  pollMs?: number;
  /** Called from the worker's messages after each tree of a self-training refit (classify.ts, self-training.ts). */
  onSelfTrainingTree?: (done: number, total: number) => void;
}

/** The buffers of a result, once each (the worker's own copies: transferred back rather than copied). */
export function resultBuffers(r: Classified): ArrayBuffer[] {
  return [...new Set([r.proba.buffer, r.novel.buffer, r.x.data.buffer])] as ArrayBuffer[];
}

/**
 * Runs classifyCells in a worker thread. Resolves with its result, or `cancelled` once `run.cancelled()` turned
 * true (the worker terminated); rejects with the classify stage's own error (bad input) or when the worker dies.
 */
export async function classifyCellsInWorker(clf: CellClassifier, x: FeatureMatrix, opts: ClassifyOptions, run: ClassifyRunOptions): Promise<ClassifyOutcome> {
  // A function does not cross into the worker: its messages call run.onSelfTrainingTree instead.
  const { onSelfTrainingTree: _own, ...cloneable } = opts;
  const input: ClassifyWorkerInput = { clf, x, opts: cloneable };
  return runInWorker<ClassifyWorkerMessage, ClassifyOutcome>(new URL('./classify-cells-worker.js', import.meta.url), input, [], {
    what: 'classify',
    returns: 'the verdicts',
    cancelled: run.cancelled,
    pollMs: run.pollMs,
    onCancel: (exitCode) => ({ status: 'cancelled', exitCode }),
    onMessage: (m) => {
      if (m.type === 'tree') {
        run.onSelfTrainingTree?.(m.done, m.total);
        return undefined;
      }
      if (m.type === 'classified') return { value: { status: 'classified', ...m.result } };
      throw reportedError(m);
    },
  });
}
