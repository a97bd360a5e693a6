// One classify stage in a worker thread (cell-classifying.ts starts it): classifies, sends the result, and ends.
import { parentPort, workerData } from 'node:worker_threads';
import { classifyCells } from '../pipeline/classify.js';
import { resultBuffers, type ClassifyWorkerInput, type ClassifyWorkerMessage } from './cell-classifying.js';
import { errorReport } from './worker-run.js';

const port = parentPort!;
const send = (m: ClassifyWorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

try {
  const { clf, x, opts } = workerData as ClassifyWorkerInput;
  const result = classifyCells(clf, x, opts);
  send({ type: 'classified', result }, resultBuffers(result));
} catch (err) {
  send(errorReport(err));
}
