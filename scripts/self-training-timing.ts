// How long self-training one lab takes (src/pipeline/self-training.ts: the forests fitted again on the training cells
// and the lab's surest ones) at the size of the shipped classifier's training set: 5,986 cells and 2 augmented copies
// each, 59 values. The rows are made up (synthetic-lab.ts, from the shipped classifier's own profile; their classes the
// shipped forest's reading of them), since the shipped file carries no training cells; the forests' settings are the
// shipped ones. For timings only: no accuracy is read from it. Prints one JSON line.
// Usage: node dist/scripts/self-training-timing.js [--cells 5986] [--copies 2] [--lab 300]
import { readFileSync } from 'node:fs';
import { parseClassifierFile } from '../src/engine/classifier/classifier-file.js';
import { argmaxRows, predictProba } from '../src/engine/classifier/random-forest.js';
import { packRows32 } from '../src/engine/classifier/training-cells.js';
import { FOREST_DEFAULTS } from '../src/pipeline/defaults.js';
import { classifyLab } from '../src/pipeline/lab-classification.js';
import { selfTrainLab } from '../src/pipeline/self-training.js';
import { syntheticLab } from './synthetic-lab.js';
import { unpackRows } from '../src/engine/classifier-fitting.js';
import { benchArgs } from '../bench/lib/args.js';

const args = benchArgs('node dist/scripts/self-training-timing.js', { cells: { type: 'string' }, copies: { type: 'string' }, lab: { type: 'string' } });
const cells = Number(args.str('cells') ?? '5986');
const copies = Number(args.str('copies') ?? '2');
const labCells = Number(args.str('lab') ?? '300');
const clf = parseClassifierFile(readFileSync(new URL('../../models/classifier-common5.json.gz', import.meta.url).pathname));
const train = syntheticLab(clf, cells, 1);
const labels = Array.from(argmaxRows(predictProba(clf.forest, train), clf.classNames.length), (k) => clf.classNames[k]!);
const aug = syntheticLab(clf, cells * copies, 2);
const F = FOREST_DEFAULTS;
const withCells = {
  ...clf,
  trainingCells: {
    rows: packRows32(unpackRows(train), train.cols), labels,
    augmented: copies ? { rows: packRows32(unpackRows(aug), aug.cols), of: Int32Array.from({ length: aug.rows }, (_, j) => j % cells) } : null,
    stainRows: packRows32(unpackRows(train), train.cols), reviewed: null,
    settings: { trees: F.trees, maxDepth: F.maxDepth, minSamplesLeaf: F.minSamplesLeaf, maxFeatures: F.maxFeatures, augmentWeight: F.augmentWeight, plainTreeShare: F.plainTreeShare, balanced: F.balanced, seed: F.seed, stainColumns: null },
  },
};
const lab = unpackRows(syntheticLab(clf, labCells, 3));
// Read by the augmented forest, as a lab unlike the training cells is (the plain forest's labs are not self-trained).
const opts = { routeLimit: null };
const t0 = performance.now();
const first = classifyLab(withCells, lab, opts);
const t1 = performance.now();
const { outcome } = selfTrainLab(withCells, lab, first, opts);
const t2 = performance.now();
console.log(JSON.stringify({ trainingCells: cells, copies: cells * copies, labCells, firstMs: Math.round(t1 - t0), selfTrainingMs: Math.round(t2 - t1), added: outcome.added, changed: outcome.changed }));
