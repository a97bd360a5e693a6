import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workerRunners } from './evaluate.handler.js';
import { IN_THREAD, runEvaluation, type EvaluationOptions, type EvaluationRunners } from '../../evaluation/pipeline.js';
import { discDomain } from '../../evaluation/disc-domains.js';

const CLASSES = ['neutrophil', 'lymphocyte', 'monocyte'];
const domains = [discDomain('src', CLASSES, 30, 1, 0), discDomain('tgt', CLASSES, 20, 2, 25)];
const options: EvaluationOptions = {
  source: 'src', classes: CLASSES, trees: 10, maxDepth: 6, seed: 5, augmentCopies: 1,
  methods: ['morphology', 'morphology_lab_centred', 'morphology_adaptive', 'morphology_consensus', 'colour_shape'],
};

async function run(runners: EvaluationRunners) {
  const verdicts: unknown[] = [];
  const trees: number[] = [];
  const report = await runEvaluation(domains, {
    ...options, runners, onVerdicts: (...v) => verdicts.push(v), onProgress: (p) => { if (p.kind === 'forest') trees.push(p.done); },
  });
  const { created: _created, timings: _timings, ...rest } = report;
  return { rest, verdicts, trees };
}

test("the evaluate job's worker runners give the in-thread evaluation's report, verdicts and progress", async () => {
  const inThread = await run(IN_THREAD);
  const inWorkers = await run(workerRunners(() => false));
  assert.deepStrictEqual(inWorkers.rest, inThread.rest);
  assert.deepStrictEqual(inWorkers.verdicts, inThread.verdicts);
  assert.deepStrictEqual(inWorkers.trees, inThread.trees);
  assert.ok(inThread.verdicts.length >= 8, `${inThread.verdicts.length} sets of verdicts`);
  assert.ok(inThread.rest.domains && Object.keys(inThread.rest.baselines).length === 5);
});

test('a cancelled evaluate job stops its workers and the evaluation', async () => {
  // Cancelled before anything started: no worker is made.
  await assert.rejects(runEvaluation(domains, { ...options, methods: ['colour_shape'], runners: workerRunners(() => true) }), /evaluation: cancelled/);
  // Cancelled while a forest fits in its worker (after its 20th tree of 400): the worker is terminated, the rest never fitted.
  let cancel = false;
  const trees: number[] = [];
  await assert.rejects(
    runEvaluation(domains, {
      ...options, trees: 400, methods: ['morphology'], runners: workerRunners(() => cancel),
      onProgress: (p) => {
        if (p.kind !== 'forest') return;
        trees.push(p.done);
        if (p.done >= 20) cancel = true;
      },
    }),
    /evaluation: cancelled/,
  );
  assert.ok(Math.max(...trees) >= 20 && Math.max(...trees) < 400, `trees reported: ${trees.join(', ')}`);
});
