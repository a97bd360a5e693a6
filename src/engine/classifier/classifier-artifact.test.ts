import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifierFromJson, classifierToJson, classifyLatents } from './classifier-artifact.js';
import { fitRandomForest, predictProba } from './random-forest.js';
import { MIX_QUANTILES } from './stain-shift.js';
import { fitNovelty } from './novelty.js';

const x = { data: Float32Array.from([0, 0, 0.1, 0.1, 0.2, 0, 5, 5, 5.1, 5.2, 4.9, 5]), rows: 6, cols: 2 };
const y = [0, 0, 0, 1, 1, 1];
const forest = fitRandomForest(x, y, { nEstimators: 5, maxDepth: 3, seed: 1, numClasses: 2, classNames: ['a', 'b'] });
const novelty = fitNovelty(x, y, { numClasses: 2, seed: 1 });

test('a classifier file keeps what it reads: morphology without an encoder, latents with one', () => {
  const m = classifierFromJson(classifierToJson({ forest, novelty, classNames: ['a', 'b'], classMap: 'common5', features: 'morphology', encoderId: null, minConfidence: 0.4 }));
  assert.equal(m.features, 'morphology');
  assert.equal(m.encoderId, null);
  assert.deepEqual(classifyLatents(m, { data: Float32Array.from([0.05, 0.05, 5, 5]), rows: 2, cols: 2 }).map((v) => v.label), ['a', 'b']);
  const l = classifierFromJson(classifierToJson({ forest, novelty, classNames: ['a', 'b'], classMap: 'common5', features: 'latent', encoderId: 'enc-1', minConfidence: 0.4 }));
  assert.equal(l.features, 'latent');
  assert.equal(l.encoderId, 'enc-1');
});

test('a classifier file written before feature sets existed reads as a latent classifier', () => {
  const v = JSON.parse(classifierToJson({ forest, novelty, classNames: ['a', 'b'], classMap: 'common5', features: 'latent', encoderId: 'enc-1', minConfidence: 0.4 }));
  delete v.features;
  const c = classifierFromJson(JSON.stringify(v));
  assert.equal(c.features, 'latent');
  assert.equal(c.encoderId, 'enc-1');
});

test('a morphology classifier file keeps its stain reference; files without one read as none; a bad one is refused', () => {
  const stain = { columns: [3, 7], medians: [0.5, -1.25], spread: [0.1, 2] };
  const base = { forest, novelty, classNames: ['a', 'b'], classMap: 'common5', features: 'morphology' as const, encoderId: null, minConfidence: 0.4 };
  assert.deepEqual(classifierFromJson(classifierToJson({ ...base, stain })).stain, stain);
  assert.equal(classifierFromJson(classifierToJson(base)).stain, null);
  const v = JSON.parse(classifierToJson({ ...base, stain }));
  v.stain.spread = [0.1];
  assert.throws(() => classifierFromJson(JSON.stringify(v)), /malformed stain reference/);
});

test('a morphology classifier file keeps its class distributions and shape forest; a bad distribution is refused', () => {
  const q = (lo: number) => Array.from({ length: MIX_QUANTILES }, (_, i) => lo + i / 32);
  const stain = { columns: [1], medians: [0.5], spread: [0.1], mix: { classes: ['a', 'b'], prior: [0.5, 0.5], quantiles: [[q(0)], []] } };
  // The stain-free column 0 alone: its own forest.
  const shapeForest = fitRandomForest({ data: Float32Array.from([0, 0.1, 0.2, 5, 5.1, 4.9]), rows: 6, cols: 1 }, y, { nEstimators: 3, maxDepth: 2, seed: 2, numClasses: 2 });
  const base = { forest, novelty, classNames: ['a', 'b'], classMap: 'common5', features: 'morphology' as const, encoderId: null, minConfidence: 0.4 };
  const back = classifierFromJson(classifierToJson({ ...base, stain, shapeForest }));
  assert.deepEqual(back.stain, stain);
  assert.deepEqual(back.shapeForest!.trees.length, 3);
  assert.deepEqual(Array.from(predictProba(back.shapeForest!, { data: Float32Array.from([0, 5]), rows: 2, cols: 1 })), Array.from(predictProba(shapeForest, { data: Float32Array.from([0, 5]), rows: 2, cols: 1 })));
  assert.equal(classifierFromJson(classifierToJson(base)).shapeForest, null);
  const v = JSON.parse(classifierToJson({ ...base, stain, shapeForest }));
  v.stain.mix.quantiles[0][0] = [1, 2];
  assert.throws(() => classifierFromJson(JSON.stringify(v)), /malformed stain reference \(class mix\)/);
  const w = JSON.parse(classifierToJson({ ...base, stain, shapeForest }));
  w.stain.mix.classes = ['b', 'a'];
  assert.throws(() => classifierFromJson(JSON.stringify(w)), /classes are not the classifier's/);
});

test('a classifier file keeps its confidence calibration; an older file without one reads as none', () => {
  const calibration = { source: 'cross-fitted' as const, cells: 5986, accuracy: 0.975, meanConfidence: 0.91, thresholdMax: 0.615, thresholdEntropy: -0.92 };
  const base = { forest, novelty, classNames: ['a', 'b'], classMap: 'common5', features: 'morphology' as const, encoderId: null, minConfidence: 0.4 };
  assert.deepEqual(classifierFromJson(classifierToJson({ ...base, calibration })).calibration, calibration);
  const old = JSON.parse(classifierToJson(base));
  assert.equal('calibration' in old, false);
  assert.equal(classifierFromJson(JSON.stringify(old)).calibration, null);
  const bad = JSON.parse(classifierToJson({ ...base, calibration }));
  bad.calibration.cells = -1;
  assert.throws(() => classifierFromJson(JSON.stringify(bad)), /malformed confidence calibration/);
});

test('a classifier file keeps its plain forest, its calibration and the routing profile; an older file reads without them', () => {
  const base = { forest, novelty, classNames: ['a', 'b'], classMap: 'common5', features: 'morphology' as const, encoderId: null, minConfidence: 0.4 };
  const plainForest = fitRandomForest(x, [0, 0, 1, 1, 1, 1], { nEstimators: 3, maxDepth: 2, seed: 7, numClasses: 2, classNames: ['a', 'b'] });
  const plainCalibration = { source: 'cross-fitted' as const, cells: 300, accuracy: 0.98, meanConfidence: 0.95, thresholdMax: 0.5, thresholdEntropy: -0.3 };
  const profile = { columns: [0, 1], medians: [2.5, 2.6], spread: [0.1, 0.2] };
  const back = classifierFromJson(classifierToJson({ ...base, plainForest, plainCalibration, profile }));
  // The plain forest reads back as itself: the same probabilities, which differ from the forest's.
  assert.deepEqual(Array.from(predictProba(back.plainForest!, x)), Array.from(predictProba(plainForest, x)));
  assert.notDeepEqual(Array.from(predictProba(back.plainForest!, x)), Array.from(predictProba(back.forest, x)));
  assert.deepEqual(back.plainCalibration, plainCalibration);
  assert.deepEqual(back.profile, profile);
  const old = JSON.parse(classifierToJson(base));
  assert.equal('plainForest' in old || 'plainCalibration' in old || 'profile' in old, false);
  const read = classifierFromJson(JSON.stringify(old));
  assert.equal(read.plainForest, null);
  assert.equal(read.plainCalibration, null);
  assert.equal(read.profile, null);
});
