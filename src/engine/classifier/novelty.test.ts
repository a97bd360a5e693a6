import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitNovelty, noveltyFromJson, noveltyToJson, scoreNovelty } from './novelty.js';
import { gaussianClusters } from './synthetic-data.js';
import type { FeatureMatrix } from './feature-matrix.js';

const centers = [Array.from({ length: 10 }, () => 0), Array.from({ length: 10 }, (_, i) => (i === 0 ? 8 : 0))];

function shifted(x: FeatureMatrix, by: number): FeatureMatrix {
  const data = Float64Array.from(x.data);
  for (let r = 0; r < x.rows; r++) data[r * x.cols + 5] += by;
  return { ...x, data };
}

test('in-distribution rows are rarely novel, far-away rows always are', () => {
  const train = gaussianClusters({ rows: 2000, cols: 10, classes: 2, centers, seed: 1 });
  const fresh = gaussianClusters({ rows: 2000, cols: 10, classes: 2, centers, seed: 2 });
  const model = fitNovelty(train.x, train.y);
  const inside = scoreNovelty(model, fresh.x);
  const novelRate = inside.novel.reduce((a, b) => a + b, 0) / fresh.x.rows;
  assert.ok(novelRate < 0.03, `novel rate on fresh in-distribution rows ${novelRate}`);
  let nearestRight = 0;
  for (let r = 0; r < fresh.x.rows; r++) if (inside.nearestClass[r] === fresh.y[r]) nearestRight++;
  assert.ok(nearestRight / fresh.x.rows > 0.99);

  const far = scoreNovelty(model, shifted(fresh.x, 15));
  assert.equal(far.novel.reduce((a, b) => a + b, 0), fresh.x.rows);
  for (let r = 0; r < 10; r++) assert.ok(far.score[r] > inside.score[r]);
});

test('works without labels, and a JSON round trip keeps scores identical', () => {
  const { x } = gaussianClusters({ rows: 300, cols: 6, classes: 1, seed: 3 });
  const model = fitNovelty(x);
  assert.equal(model.numClasses, 1);
  const loaded = noveltyFromJson(noveltyToJson(model));
  assert.deepEqual(scoreNovelty(loaded, x), scoreNovelty(model, x));
  assert.throws(() => noveltyFromJson(noveltyToJson(model).replace('"version":1', '"version":2')), /version 2 is not supported/);
});

test('a class absent from training is never the nearest', () => {
  const { x, y } = gaussianClusters({ rows: 200, cols: 4, classes: 2, seed: 5 });
  const model = fitNovelty(x, y, { numClasses: 3 });
  assert.ok(Number.isNaN(model.thresholds[2]));
  assert.ok(scoreNovelty(model, x).nearestClass.every((c) => c !== 2));
});

test('bad input throws a clear Error', () => {
  const { x, y } = gaussianClusters({ rows: 50, cols: 3, classes: 2, seed: 1 });
  assert.throws(() => fitNovelty(x, y.subarray(1)), /49 labels for 50 rows/);
  assert.throws(() => fitNovelty({ data: new Float64Array(0), rows: 0, cols: 3 }), /empty feature matrix/);
  const model = fitNovelty(x, y);
  assert.throws(() => scoreNovelty(model, { data: new Float64Array(2), rows: 1, cols: 2 }), /2 features, the model was fitted on 3/);
  assert.throws(() => scoreNovelty(model, { data: Float64Array.of(0, Infinity, 0), rows: 1, cols: 3 }), /non-finite/);
});
