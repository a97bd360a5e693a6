// The main thread's longest stall during an evaluation as the evaluate job runs it (its forests fitted and its cells
// classified in worker threads: "worker") or as it ran before (on the event loop: "thread"), on made-up domains of
// drawn cells (src/evaluation/disc-domains.ts) whose crops are read one event-loop turn each, as the job reads them
// from its crop cache. The morphology methods and the colour baseline (no autoencoder), default forests. Prints one JSON line.
// Usage: node dist/scripts/evaluation-lease-gap.js [--per-class 240] [--runners worker|thread]
import { IN_THREAD, runEvaluation, type MethodName } from '../src/evaluation/pipeline.js';
import { discDomain } from '../src/evaluation/disc-domains.js';
import { workerRunners } from '../src/engine/handlers/evaluate.handler.js';
import { startGapProbe } from './loop-gap.js';
import { benchArgs } from '../bench/lib/args.js';

const args = benchArgs('node dist/scripts/evaluation-lease-gap.js', { 'per-class': { type: 'string' }, runners: { type: 'string' } });
const arg = (name: string, fallback: string) => args.str(name) ?? fallback;
const perClass = Number(arg('per-class', '240'));
const mode = arg('runners', 'worker');
const classes = ['neutrophil', 'lymphocyte', 'monocyte', 'eosinophil', 'basophil'];
const methods: MethodName[] = ['morphology', 'morphology_adaptive', 'morphology_consensus', 'colour_shape'];

const domains = [
  discDomain('source', classes, perClass, 1, 0, { readLikeTheJob: true }),
  discDomain('target', classes, Math.round(perClass / 2), 2, 25, { readLikeTheJob: true }),
];
let stage = 'start';
const probe = startGapProbe(() => stage);
const t0 = performance.now();
const report = await runEvaluation(domains, {
  source: 'source', classes, methods, seed: 0, runners: mode === 'thread' ? IN_THREAD : workerRunners(() => false),
  onProgress: (p) => {
    if (p.kind === 'stage') stage = p.message;
  },
});
const wallMs = performance.now() - t0;
const longest = probe.stop();
console.log(JSON.stringify({
  runners: mode, sourceCells: domains[0]!.cells.length, targetCells: domains[1]!.cells.length, methods, wallMs: Math.round(wallMs), longestGapMs: Math.round(longest), after: probe.at,
  accuracy: Object.fromEntries(Object.entries(report.baselines).map(([m, b]) => [m, b.domains.target?.accuracy])),
}));
