import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initTfjs } from '../engine/backends/tfjs.js';
import { FEATURE_LENGTH } from '../engine/autoencoder/layout.js';
import { createRng } from '../engine/classifier/rng.js';
import { METHODS, latentSample, runEvaluation, scoreDomain, type EvaluationDomain, type EvaluationOptions, type EvaluationProgress } from './pipeline.js';

// Tests pin the wasm backend (the one this machine has), as the autoencoder's own tests do.
const rt = await initTfjs({ prefer: 'wasm' });

const CLASSES = ['neutrophil', 'lymphocyte', 'monocyte'];

/** A crop: a disc of a class-dependent radius and colour on a domain-dependent background. */
function syntheticCrop(cls: number, size: number, shift: number, rnd: () => number): Uint8Array {
  const out = new Uint8Array(size * size * 3);
  const r = size * (0.15 + 0.1 * cls);
  const c = size / 2 + (rnd() - 0.5) * 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = (x - c) ** 2 + (y - c) ** 2 < r * r;
      const o = 3 * (y * size + x);
      out[o] = inside ? 90 + 30 * cls : 220 - shift;
      out[o + 1] = inside ? 40 : 200;
      out[o + 2] = inside ? 140 - 20 * cls : 190 + shift / 2;
    }
  }
  return out;
}

/** A domain: features whose first channels carry the class, plus noise; `shift` moves every value. */
function syntheticDomain(name: string, perClass: number, seed: number, shift = 0, labelled = true): EvaluationDomain {
  const rnd = createRng(seed).next;
  const cells: EvaluationDomain['cells'] = [];
  for (let k = 0; k < CLASSES.length; k++) {
    for (let i = 0; i < perClass; i++) {
      const f = new Float32Array(FEATURE_LENGTH);
      for (let j = 0; j < FEATURE_LENGTH; j++) f[j] = rnd() * 0.5 + shift * 0.1;
      // channels 8k..8k+7 (CHW: 196 values each) light up for class k
      for (let j = 8 * k * 196; j < (8 * k + 8) * 196; j++) f[j]! += 1.5;
      const crop = syntheticCrop(k, 64, shift * 20, rnd);
      cells.push({ features: f, crop: i % 2 ? crop : () => crop, label: labelled ? CLASSES[k]! : null, id: `${name}/${k}/${i}` });
    }
  }
  return { name, cells };
}

const source = syntheticDomain('src', 15, 1);
const target = syntheticDomain('tgt', 8, 2, 1);
const alignOnly = syntheticDomain('extra', 4, 3, 2, false);

const fast: Omit<EvaluationOptions, 'source'> = {
  classes: CLASSES,
  preset: 'cpu',
  epochs: 1,
  batchSize: 16,
  trees: 8,
  maxDepth: 6,
  seed: 7,
  autoencoder: { runtime: rt },
};

const CONTRACT_KEYS = ['n', 'accuracy', 'balanced_accuracy', 'macro_f1', 'per_class', 'confusion'];

test('the report has every key of the contract per domain, for AE-CFE and each baseline', async () => {
  const progress: EvaluationProgress[] = [];
  const r = await runEvaluation([source, target, alignOnly], {
    ...fast,
    source: 'src',
    targets: ['tgt'],
    align: ['tgt', 'extra'],
    onProgress: (p) => progress.push(p),
  });
  assert.equal(r.format, 'leukograph-evaluation/1');
  assert.deepEqual(Object.keys(r.domains).sort(), ['src', 'tgt']);
  assert.equal(r.domains.src!.role, 'source-test');
  assert.equal(r.domains.tgt!.role, 'target');
  const all = [r.domains, ...Object.values(r.baselines).map((b) => b!.domains)];
  assert.equal(all.length, METHODS.length);
  for (const doms of all) {
    for (const d of Object.values(doms)) {
      for (const k of CONTRACT_KEYS) assert.ok(k in d, `missing ${k}`);
      assert.ok(d.accuracy >= 0 && d.accuracy <= 1);
      assert.ok(Array.isArray(d.excluded_classes));
      for (const m of Object.values(d.per_class)) assert.deepEqual(Object.keys(m).sort(), ['f1', 'precision', 'recall', 'support']);
      assert.equal(d.confusion.labels.length, d.confusion.matrix.length);
      assert.equal(d.confusion.matrix.flat().reduce((s, v) => s + v, 0), d.n);
    }
  }
  // Every labelled target cell is scored; the source's 20 % (3 of 15 per class).
  assert.equal(r.domains.tgt!.n, 24);
  assert.equal(r.domains.src!.n, 9);
  assert.equal(r.datasets.src!.train, 36);
  assert.equal(r.datasets.extra!.role, 'align');
  assert.equal(r.datasets.extra!.unlabelled, 12);
  assert.equal(r.datasets.extra!.aligned, true);
  assert.deepEqual(r.autoencoders.ae_cfe!.alignDomains, ['tgt', 'extra']);
  assert.equal(r.autoencoders.ae_no_align!.alignWeight, 0);
  assert.deepEqual(r.autoencoders.ae_no_align!.alignDomains, []);
  assert.ok(r.autoencoders.ae_cfe!.epochs[0]!.align > 0);
  assert.equal(r.autoencoders.ae_no_align!.epochs[0]!.align, 0);
  const lat = r.autoencoders.ae_cfe!.latents!;
  assert.deepEqual(Object.keys(lat).sort(), ['src', 'tgt']);
  assert.ok(lat.src!.meanStd > 0 && lat.src!.alignmentToSource === null);
  assert.ok(typeof lat.tgt!.alignmentToSource === 'number' && lat.tgt!.alignmentToSource >= 0);
  // The latent sample for the before/after pictures: the same rows (source training split, then the
  // scored target) from both autoencoders.
  const e1 = r.autoencoders.ae_cfe!.embedding!;
  const e0 = r.autoencoders.ae_no_align!.embedding!;
  assert.equal(e1.z.length, 36 + 24);
  assert.deepEqual(e1.domain, e0.domain);
  assert.deepEqual(e1.label, e0.label);
  assert.deepEqual([...new Set(e1.domain)], ['src', 'tgt']);
  assert.ok(e1.z.every((z) => z.length === 50 && z.every(Number.isFinite)));
  assert.notDeepEqual(e1.z, e0.z);
  for (const k of ['prepare', 'ae_cfe.train', 'ae_cfe.encode', 'ae_cfe.forest', 'pooled_features.features', 'colour_shape.forest', 'morphology.forest', 'morphology_adaptive.stain', 'total']) {
    assert.ok(typeof r.timings[k] === 'number', `timing ${k}`);
  }
  assert.ok(progress.some((p) => p.kind === 'epoch' && p.method === 'ae_cfe'));
  assert.ok(progress.some((p) => p.kind === 'forest'));
  // The features are separable by construction: the pooled-feature forest must get the held-out source right.
  assert.ok(r.baselines.pooled_features!.domains.src!.accuracy >= 0.85, `pooled ${r.baselines.pooled_features!.domains.src!.accuracy}`);
  assert.ok(r.baselines.colour_shape!.domains.src!.accuracy >= 0.85, `colour ${r.baselines.colour_shape!.domains.src!.accuracy}`);
  // The discs' sizes differ by class: the morphology forest reads them off the nucleus fraction.
  assert.ok(r.baselines.morphology!.domains.src!.accuracy >= 0.85, `morphology ${r.baselines.morphology!.domains.src!.accuracy}`);
  assert.ok(r.baselines.morphology!.domains.tgt!.n === 24);
  // Centring the colour values on each lab's median keeps the shape values: the sizes still separate.
  assert.ok(r.baselines.morphology_lab_centred!.domains.src!.accuracy >= 0.85, `centred ${r.baselines.morphology_lab_centred!.domains.src!.accuracy}`);
  assert.notDeepEqual(r.baselines.morphology_lab_centred!.domains.tgt, undefined);
  // The adaptive variant runs the classify job's stain step on the target and says what it did: with 24
  // cells, fewer than the step's minimum (MIN_STAIN_CELLS), it leaves them as they are, as the job would.
  assert.ok(r.baselines.morphology_adaptive!.domains.src!.accuracy >= 0.85, `adaptive ${r.baselines.morphology_adaptive!.domains.src!.accuracy}`);
  assert.ok(r.notes.some((n) => /^morphology_adaptive: tgt: stain not adapted: 24 cells are too few to measure it \(at least 30\)/.test(n)), r.notes.join('\n'));
  // It moves only the other labs: on the source's held-out cells it is the morphology forest itself.
  assert.deepEqual(r.baselines.morphology_adaptive!.domains.src, r.baselines.morphology!.domains.src);
  // Neighbour consensus revises the adaptive forest's probabilities within each lab: the classes still separate.
  assert.ok(r.baselines.morphology_consensus!.domains.src!.accuracy >= 0.85, `consensus ${r.baselines.morphology_consensus!.domains.src!.accuracy}`);
  assert.equal(r.baselines.morphology_consensus!.domains.tgt!.n, 24);
  JSON.stringify(r); // serialisable
});

test('the split and the scores are seeded: same seed, same report; another seed, another split', async () => {
  const run = (seed: number) =>
    runEvaluation([source, target], { ...fast, seed, source: 'src', methods: ['pooled_features', 'colour_shape'] });
  const a = await run(3);
  const b = await run(3);
  const c = await run(4);
  assert.deepEqual(a.domains, b.domains);
  assert.deepEqual(a.baselines, b.baselines);
  assert.equal(Object.keys(a.domains).length, 0); // ae_cfe not asked for
  assert.deepEqual(a.split, b.split);
  assert.notDeepEqual(a.split.test, c.split.test);
  assert.equal(a.split.test.length, 9);
  // Stratified: 3 of each class's 15 held out, whatever the seed.
  for (const r of [a, c]) assert.deepEqual(r.baselines.pooled_features!.domains.src!.per_class.lymphocyte!.support, 3);
  assert.equal(a.datasets.src!.scored, 9);
  // Default targets: every domain but the source, aligned to by default.
  assert.deepEqual(a.targets, ['tgt']);
  assert.deepEqual(a.align, ['tgt']);
});

test('the colour/shape baseline runs alone and scores every domain', async () => {
  const r = await runEvaluation([source, target], { ...fast, source: 'src', methods: ['colour_shape'] });
  assert.deepEqual(Object.keys(r.baselines), ['colour_shape']);
  assert.deepEqual(Object.keys(r.baselines.colour_shape!.domains).sort(), ['src', 'tgt']);
  assert.equal(r.autoencoders.ae_cfe, undefined);
});

test('an abort stops the run with the signal reason (before it starts and during training)', async () => {
  const pre = new AbortController();
  pre.abort(new Error('stop now'));
  await assert.rejects(runEvaluation([source, target], { ...fast, source: 'src', signal: pre.signal }), /stop now/);
  const mid = new AbortController();
  const t0 = performance.now();
  await assert.rejects(
    runEvaluation([source, target], {
      ...fast,
      source: 'src',
      epochs: 50,
      signal: mid.signal,
      onProgress: (p) => {
        if (p.kind === 'epoch') mid.abort(new Error('cancelled by test'));
      },
    }),
    /cancelled by test/,
  );
  assert.ok(performance.now() - t0 < 20_000, 'abort did not wait for 50 epochs');
  assert.equal(rt.tf.memory().numTensors > 1000, false, 'tensors leaked');
});

test('bad input is refused with a clear message', async () => {
  await assert.rejects(runEvaluation([source], { ...fast, source: 'nope' }), /source domain "nope"/);
  await assert.rejects(runEvaluation([source, source], { ...fast, source: 'src' }), /used twice/);
  await assert.rejects(runEvaluation([source], { ...fast, source: 'src', targets: ['x'] }), /"x" is not among/);
  const oneClass: EvaluationDomain = { name: 'one', cells: source.cells.filter((c) => c.label === 'neutrophil') };
  await assert.rejects(runEvaluation([oneClass], { ...fast, source: 'one' }), /at least 2/);
  const bad: EvaluationDomain = { name: 'bad', cells: [{ features: new Float32Array(10), crop: new Uint8Array(12), label: null }] };
  await assert.rejects(runEvaluation([source, bad], { ...fast, source: 'src' }), /feature values/);
});

test('scoreDomain: labels limited to classes present, macro F1 leaves out classes under 5', () => {
  const truth = ['a', 'a', 'a', 'a', 'a', 'b', 'b'];
  const pred = ['a', 'a', 'a', 'a', 'b', 'b', 'b'];
  const s = scoreDomain(truth, pred, ['a', 'b', 'c'], 5);
  assert.deepEqual(s.confusion.labels, ['a', 'b']);
  assert.deepEqual(s.confusion.matrix, [[4, 1], [0, 2]]);
  assert.deepEqual(s.macro_f1_classes, ['a']);
  assert.deepEqual(s.excluded_classes, ['b']);
  assert.equal(s.macro_f1, s.per_class.a!.f1);
  assert.equal(s.n, 7);
});

test('latentSample takes evenly spaced rows of each part, at most perDomain, with their labels', () => {
  const x = { data: Float64Array.from({ length: 10 * 2 }, (_, i) => i / 3), rows: 10, cols: 2 };
  const s = latentSample([{ domain: 'a', labels: ['l0', 'l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7', 'l8', 'l9'], x }, { domain: 'b', labels: [], x: { ...x, rows: 1 } }], 4);
  assert.deepEqual(s.domain, ['a', 'a', 'a', 'a', 'b']);
  assert.deepEqual(s.label, ['l0', 'l2', 'l5', 'l7', 'unlabelled']);
  assert.deepEqual(s.z[1], [1.3333, 1.6667]);
});
