// One classify stage in a worker thread (cell-classifying.ts starts it): classifies (reporting each tree of a
// self-training refit), sends the result, and ends.
import { parentPort, workerData } from 'node:worker_threads';
import { classifyCells } from '../pipeline/classify.js';
import { resultBuffers, type ClassifyWorkerInput, type ClassifyWorkerMessage } from './cell-classifying.js';
import { errorReport } from './worker-run.js';

const port = parentPort!;
const send = (m: ClassifyWorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

try {
  const { clf, x, opts } = workerData as ClassifyWorkerInput;
  // Self-training's refit reports its trees, as the classifier-training worker does (classifier-fit-worker.ts).
  const result = classifyCells(clf, x, { ...opts, onSelfTrainingTree: (done, total) => send({ type: 'tree', done, total }) });
  send({ type: 'classified', result }, resultBuffers(result));
} catch (err) {
  send(errorReport(err));
}
