// How long one neighbour consensus takes on a made-up lab (synthetic-lab.ts, from the shipped morphology
// classifier's own profile) of a given size, and a digest of its result (the same digest: the same probabilities,
// bit for bit). Prints one JSON line.
// Usage: node dist/scripts/consensus-timing.js [--cells 6000] [--classifier models/classifier-common5.json.gz]
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseClassifierFile } from '../src/engine/classifier/classifier-file.js';
import { neighbourConsensus } from '../src/engine/classifier/neighbour-consensus.js';
import { createRng } from '../src/engine/classifier/rng.js';
import { syntheticLab } from './synthetic-lab.js';
import { benchArgs } from '../bench/lib/args.js';

const args = benchArgs('node dist/scripts/consensus-timing.js', { cells: { type: 'string' }, classifier: { type: 'string' } });
const arg = (name: string, fallback: string) => args.str(name) ?? fallback;
const cells = Number(arg('cells', '6000'));
const clf = parseClassifierFile(readFileSync(arg('classifier', new URL('../../models/classifier-common5.json.gz', import.meta.url).pathname)));
const x = syntheticLab(clf, cells);
const K = clf.classNames.length;
const rng = createRng(2);
const proba = new Float64Array(cells * K);
for (let i = 0; i < cells; i++) {
  let sum = 0;
  for (let c = 0; c < K; c++) sum += proba[i * K + c] = rng.next() ** 3;
  for (let c = 0; c < K; c++) proba[i * K + c]! /= sum;
}
const t0 = performance.now();
const out = neighbourConsensus(x, proba, K);
const ms = performance.now() - t0;
console.log(JSON.stringify({ cells, cols: x.cols, ms: Math.round(ms), digest: createHash('sha256').update(new Uint8Array(out.buffer)).digest('hex').slice(0, 16) }));
