// One classifier training in a worker thread (classifier-fitting.ts starts it): fits, reports each tree of the
// main forest, sends the classifier as its file's text, and ends.
import { parentPort, workerData } from 'node:worker_threads';
import { trainCellClassifier } from '../pipeline/classifier-training.js';
import { classifierToJson } from './classifier/classifier-artifact.js';
import { unpackTrainingInput, type FitWorkerMessage, type PackedTrainingInput } from './classifier-fitting.js';
import { errorReport } from './worker-run.js';

const port = parentPort!;
const send = (m: FitWorkerMessage) => port.postMessage(m);

try {
  const input = unpackTrainingInput(workerData as PackedTrainingInput, (done, total) => send({ type: 'tree', done, total }));
  const t = trainCellClassifier(input);
  send({
    type: 'fitted',
    result: {
      json: classifierToJson(t.classifier), classNames: t.classifier.classNames, calibration: t.classifier.calibration ?? null,
      split: t.split, heldOut: t.heldOut, reviewCopies: t.reviewCopies,
    },
  });
} catch (err) {
  send(errorReport(err));
}
