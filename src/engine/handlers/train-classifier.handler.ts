// The train-classifier job: a random forest (paper defaults: 100 trees, depth 16) on the latents (or the
// morphology) of the labelled top cells of the chosen datasets, under a class map; optionally scored on a
// stratified held-out part. The classifier is saved with what it reads (features, encoder) and made active.
import { modelObjectKey } from '../../storage/blobs.js';
import { createHash } from 'node:crypto';
import type { JobContext } from '../job-context.js';
import type { JobOutcome, TrainClassifierParams } from '../../jobs/job-kinds.js';
import { classOf, classesOf } from '../../services/class-maps.js';
import { fitRandomForest, predict } from '../classifier/random-forest.js';
import { fitNovelty } from '../classifier/novelty.js';
import { classifierToJson } from '../classifier/classifier-artifact.js';
import { matrixFromRows } from '../classifier/feature-matrix.js';
import { stratifiedSplit } from '../../evaluation/split.js';
import { classificationReport } from '../../evaluation/metrics.js';
import { sqlRows } from '../../db/sql.js';
import { listTrainingCells, TrainingData } from '../training-data.js';
import { morphologyOfCells } from '../cell-morphology-features.js';
import { MORPHOLOGY_COLOUR_COLUMNS } from '../../imaging/cell-morphology.js';
import { stainReference } from '../../evaluation/stain-shift.js';
import { fitShapeForest } from '../classifier/stain-mix-forest.js';
import { reviewedRows } from '../reviewed-training.js';
import { DEFAULT_REVIEW_SHARE, reviewCopies, withReviewedRows } from '../classifier/reviewed-cells.js';

export async function runTrainClassifier(ctx: JobContext<TrainClassifierParams>): Promise<JobOutcome> {
  const p = ctx.params;
  const features = p.features ?? 'latent';
  const classNames = [...classesOf(p.classMap)];
  const x: ArrayLike<number>[] = [];
  const y: number[] = [];
  let unreadable: Array<{ id: string; reason: string }> = [];
  if (features === 'morphology') {
    const labelled = (await listTrainingCells(ctx.ds, p.datasetIds)).filter((c) => classOf(c.cellType, p.classMap) !== null);
    await ctx.progress(0, p.trees, `measuring the morphology of ${labelled.length} labelled cells`);
    const m = await morphologyOfCells(TrainingData.forJob(ctx), labelled);
    unreadable = m.failed;
    m.rows.forEach((r, i) => {
      x.push(m.x.data.subarray(i * m.x.cols, (i + 1) * m.x.cols));
      y.push(classNames.indexOf(classOf(labelled[r]!.cellType, p.classMap)!));
    });
  } else {
    const rows: { latent: number[]; cell_type: string | null }[] = await ctx.ds.query(
      `SELECT c.latent, i.cell_type FROM cells c JOIN images i ON i.id = c.image_id
        WHERE i.dataset_id = ANY($1) AND c.index = 0 AND c.latent IS NOT NULL AND c.encoder_id = $2
        ORDER BY i.dataset_id, i.source_path`,
      [p.datasetIds, p.encoderId],
    );
    for (const r of rows) {
      const cls = classOf(r.cell_type, p.classMap);
      if (cls === null) continue;
      x.push(r.latent);
      y.push(classNames.indexOf(cls));
    }
  }
  // A lab's reviewed cells (issue 20), read as this classifier reads cells; they join the training split only.
  const reviewed = await reviewedRows(ctx.ds, TrainingData.forJob(ctx), { datasetIds: p.reviewedDatasetIds ?? [], classMap: p.classMap, features, encoderId: p.encoderId });
  const reviewedY = reviewed.labels.map((l) => classNames.indexOf(l));
  const present = [...new Set([...y, ...reviewedY])].sort((a, b) => a - b);
  const what = features === 'morphology' ? 'detected' : 'encoded';
  if (present.length < 2) return { status: 'failed', error: `need labelled, ${what} cells of at least 2 classes; found ${x.length} cells of ${present.length}` };
  // Only classes seen in training are predicted; the others keep no column.
  const used = present.map((k) => classNames[k]);
  const yUsed = y.map((k) => present.indexOf(k));
  await ctx.progress(0, p.trees, `fitting ${p.trees} trees on ${x.length} cells, ${used.length} classes`);
  const split = p.testFraction > 0 ? stratifiedSplit(yUsed, { testFraction: p.testFraction, seed: p.seed }) : { train: yUsed.map((_, i) => i), test: [] };
  const dim = x[0].length;
  const toMatrix = (idx: number[]) => {
    const data = new Float32Array(idx.length * dim);
    idx.forEach((r, i) => data.set(x[r], i * dim));
    return { data, rows: idx.length, cols: dim };
  };
  const sourceTrain = split.train.map((i) => x[i]!);
  const copies = reviewCopies(sourceTrain.length, reviewed.x.length, p.reviewShare ?? DEFAULT_REVIEW_SHARE);
  const fitted = withReviewedRows(sourceTrain, split.train.map((i) => yUsed[i]!), reviewed.x, reviewedY.map((k) => present.indexOf(k)), copies);
  const train = matrixFromRows(fitted.x);
  const trainY = fitted.y;
  let last = 0;
  const forest = fitRandomForest(train, trainY, {
    nEstimators: p.trees, maxDepth: p.maxDepth, seed: p.seed, classWeight: p.balanced ? 'balanced' : null, numClasses: used.length, classNames: used,
    onTree: (done) => {
      if (done - last >= 10) {
        last = done;
        void ctx.progress(done, p.trees, `${done}/${p.trees} trees`);
      }
    },
  });
  const novelty = fitNovelty(train, trainY, { numClasses: used.length, seed: p.seed });
  // A morphology classifier keeps its training cells' stain reference (medians over every measured cell,
  // within-class spread over the training split), so that a classify job can tell and undo another lab's stain.
  // With it, per class, the distribution of each stain column and a forest on the stain-free columns: what
  // moving another lab onto the medians of the training cells re-weighted to that lab's class mix needs.
  // The stain reference is the source's alone: reviewed cells were moved onto it already.
  const stain = features === 'morphology' ? stainReference(x, sourceTrain, split.train.map((i) => used[yUsed[i]!]!), MORPHOLOGY_COLOUR_COLUMNS, used) : null;
  // A forest fitted with balanced class weights learnt equal class priors: the mix estimate starts from those.
  if (stain?.mix && p.balanced) stain.mix.prior = used.map(() => 1 / used.length);
  const shapeForest = stain
    ? fitShapeForest(fitted.x, trainY, stain, dim, { nEstimators: p.trees, maxDepth: p.maxDepth, seed: p.seed, classWeight: p.balanced ? 'balanced' : null, numClasses: used.length, classNames: used })
    : null;
  let heldOut: Record<string, unknown> | null = null;
  if (split.test.length) {
    const pred = predict(forest, toMatrix(split.test));
    heldOut = classificationReport(split.test.map((i) => used[yUsed[i]]), Array.from(pred, (k) => used[k]), { labels: used }) as unknown as Record<string, unknown>;
  }
  const json = classifierToJson({ forest, novelty, classNames: used, classMap: p.classMap, features, encoderId: features === 'latent' ? p.encoderId : null, minConfidence: p.minConfidence, stain, shapeForest });
  const artifact = await ctx.blobs.put(modelObjectKey(`classifier-${ctx.jobId}.json`), json);
  const review = reviewed.x.length || p.reviewedDatasetIds?.length
    ? { reviewed: { cells: reviewed.x.length, copies, share: p.reviewShare ?? DEFAULT_REVIEW_SHARE, datasets: reviewed.datasets, ...(reviewed.skipped.length ? { skipped: reviewed.skipped.slice(0, 50) } : {}) } }
    : {};
  const metrics = { features, trainCells: split.train.length, heldOutCells: split.test.length, classes: used, heldOut, ...review, ...(unreadable.length ? { unreadable: unreadable.slice(0, 50) } : {}) };
  const modelId = await ctx.ds.transaction(async (m) => {
    await m.query(`UPDATE models SET active = false WHERE kind = 'classifier' AND active`);
    const r = await sqlRows<{ id: string }>(m,
      `INSERT INTO models (kind, name, version, preset, metrics, params, artifact_path, checksum, active, dataset_ids, job_id, parent_id)
       VALUES ('classifier', $1, $2, NULL, $3, $4, $5, $6, true, $7, $8, $9) RETURNING id`,
      [`random-forest-${p.classMap}${features === 'morphology' ? '-morphology' : ''}`, `job-${ctx.jobId.slice(0, 8)}`, metrics, p, artifact, createHash('sha256').update(json).digest('hex'), p.datasetIds, ctx.jobId, features === 'latent' ? p.encoderId : null],
    );
    return r[0].id;
  });
  await ctx.progress(p.trees, p.trees, 'forest fitted');
  const acc = heldOut ? ` (held-out accuracy ${(heldOut.accuracy as number).toFixed(3)})` : '';
  const rev = reviewed.x.length ? ` + ${reviewed.x.length} reviewed (x${copies})` : '';
  return { status: 'succeeded', result: { modelId, ...metrics }, message: `classifier on ${split.train.length} cells${rev}, ${used.length} classes${acc}` };
}
