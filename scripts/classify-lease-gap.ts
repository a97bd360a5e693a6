// The main thread's longest stall while a classify job classifies a large batch (the job's lease is lost after
// max(5 s, 2 x LEUKOGRAPH_HEARTBEAT_MS) without a heartbeat): the classify stage on the event loop ("thread", what
// the job did before) or in its worker thread ("worker", cell-classifying.ts), with the shipped morphology
// classifier and a made-up lab (synthetic-lab.ts). Prints one JSON line.
// Usage: node dist/scripts/classify-lease-gap.js [--cells 20000] [--consensus] [--mode worker|thread]
import { readFileSync } from 'node:fs';
import { parseClassifierFile } from '../src/engine/classifier/classifier-file.js';
import { classifyCells } from '../src/pipeline/classify.js';
import { classifyCellsInWorker } from '../src/engine/cell-classifying.js';
import { syntheticLab } from './synthetic-lab.js';
import { startGapProbe } from './loop-gap.js';
import { benchArgs } from '../bench/lib/args.js';

// The bench scripts' strict flags (bench/lib/args.ts): a misspelt flag stops the run instead of timing the default.
const args = benchArgs('node dist/scripts/classify-lease-gap.js', {
  cells: { type: 'string' }, consensus: { type: 'boolean' }, mode: { type: 'string' }, classifier: { type: 'string' },
});
const arg = (name: string, fallback: string) => args.str(name) ?? fallback;
const cells = Number(arg('cells', '20000'));
const consensus = args.flag('consensus');
const mode = arg('mode', 'worker');
const file = arg('classifier', new URL('../../models/classifier-common5.json.gz', import.meta.url).pathname);

const clf = parseClassifierFile(readFileSync(file));
const x = syntheticLab(clf, cells);
const opts = { stainAdaptation: 'auto' as const, consensus };

await new Promise((r) => setTimeout(r, 100));
const probe = startGapProbe();
const t0 = performance.now();
let startMs: number | null = null;
let verdicts: number;
if (mode === 'thread') {
  verdicts = classifyCells(clf, x, opts).verdicts.length;
} else {
  const started = classifyCellsInWorker(clf, x, opts, { cancelled: () => false });
  // The synchronous part of starting the worker: the structured clone of the classifier and the rows.
  startMs = performance.now() - t0;
  const out = await started;
  if (out.status !== 'classified') throw new Error('not classified');
  verdicts = out.verdicts.length;
}
const wallMs = performance.now() - t0;
await new Promise((r) => setTimeout(r, 50));
const longest = probe.stop();
const round = (v: number) => Math.round(v);
console.log(JSON.stringify({
  mode, cells, consensus, verdicts, wallMs: round(wallMs), longestGapMs: round(longest),
  ...(startMs === null ? {} : { workerStartMs: round(startMs) }),
}));
