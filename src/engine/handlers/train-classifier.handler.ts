// The train-classifier job: a random forest on the latents (or the morphology) of the labelled top cells
// of the chosen datasets, under a class map, through the pipeline's classifier training
// (src/pipeline/classifier-training.ts); optionally scored on a stratified held-out part. The classifier is
// saved with what it reads (features, encoder) and made active.
import { createHash } from 'node:crypto';
import { modelObjectKey } from '../../storage/blobs.js';
import { treeProgress, type JobContext } from '../job-context.js';
import type { JobOutcome, TrainClassifierParams } from '../../jobs/job-kinds.js';
import { classOf, classesOf } from '../../pipeline/class-maps.js';
import { TrainingData } from '../training-data.js';
import { morphologyOfCells } from '../../pipeline/morphology.js';
import { fitCellClassifierInWorker } from '../classifier-fitting.js';
import { DEFAULT_REVIEW_SHARE, MORPHOLOGY_AUGMENT_COPIES } from '../../pipeline/defaults.js';
import { reviewedRows } from '../reviewed-training.js';
import { REVIEWED_STAIN_MOVE } from '../../pipeline/reviewed-cells.js';

export async function runTrainClassifier(ctx: JobContext<TrainClassifierParams>): Promise<JobOutcome> {
  const p = ctx.params;
  const features = p.features ?? 'latent';
  const classNames = [...classesOf(p.classMap)];
  const x: ArrayLike<number>[] = [];
  const labels: string[] = [];
  let unreadable: Array<{ id: string; reason: string }> = [];
  let augmented: { rows: ArrayLike<number>[]; of: number[] } | undefined;
  const augmentCopies = features === 'morphology' ? (p.augmentCopies ?? MORPHOLOGY_AUGMENT_COPIES) : 0;
  if (features === 'morphology') {
    const labelled = (await ctx.repos.cells.trainingCells(p.datasetIds)).filter((c) => classOf(c.cellType, p.classMap) !== null);
    const aug = augmentCopies > 0 ? ` (and ${augmentCopies} augmented copies of each)` : '';
    const measuring = `measuring the morphology of ${labelled.length} labelled cells${aug}`;
    await ctx.progress(0, labelled.length, measuring);
    // Progress in cells while measuring (the forest's trees come after); the progress call reads a cancel request.
    const onProgress = async (done: number, total: number) => {
      await ctx.progress(done, total, `${measuring}: ${done}/${total}`);
      return ctx.cancelled();
    };
    const m = await morphologyOfCells(TrainingData.forJob(ctx), labelled, { ...(augmentCopies > 0 ? { augment: { copies: augmentCopies, seed: p.seed } } : {}), onProgress });
    if (ctx.cancelled()) return { status: 'cancelled', result: { measured: m.rows.length, of: labelled.length } };
    unreadable = m.failed;
    if (m.augmented) {
      const a = m.augmented;
      augmented = { rows: a.of.map((_, j) => a.x.data.subarray(j * a.x.cols, (j + 1) * a.x.cols)), of: a.of };
    }
    m.rows.forEach((r, i) => {
      x.push(m.x.data.subarray(i * m.x.cols, (i + 1) * m.x.cols));
      labels.push(classOf(labelled[r]!.cellType, p.classMap)!);
    });
  } else {
    for (const r of await ctx.repos.cells.labelledLatents(p.datasetIds, p.encoderId)) {
      const cls = classOf(r.cell_type, p.classMap);
      if (cls === null) continue;
      x.push(r.latent);
      labels.push(cls);
    }
  }
  // A lab's reviewed cells (issue 20), read as this classifier reads cells; they join the training split only.
  const reviewed = await reviewedRows(ctx.repos, TrainingData.forJob(ctx), {
    datasetIds: p.reviewedDatasetIds ?? [], classMap: p.classMap, features, encoderId: p.encoderId, ...(features === 'morphology' && REVIEWED_STAIN_MOVE === 'labelled' ? { source: { rows: x, labels } } : {}),
  });
  const present = new Set([...labels, ...reviewed.labels]).size;
  const what = features === 'morphology' ? 'detected' : 'encoded';
  // Cells whose image could not be read are said in the message too, not only in the model's metrics: when they are
  // most of the lab, "too few classes" alone would send the user to the labels instead of the image files.
  const unread = unreadable.length ? `; ${unreadable.length} labelled cells could not be read (first: ${unreadable[0]!.reason.slice(0, 200)})` : '';
  if (present < 2) return { status: 'failed', error: `need labelled, ${what} cells of at least 2 classes; found ${x.length} cells of ${present}${unread}`, ...(unreadable.length ? { result: { unreadable: unreadable.length } } : {}) };
  await ctx.progress(0, p.trees, `fitting ${p.trees} trees on ${x.length} cells, ${present} classes`);
  const share = p.reviewShare ?? DEFAULT_REVIEW_SHARE;
  // In a worker thread: fitting ~6,000 cells and their copies blocks for longer than other engines wait for a heartbeat.
  const fit = await fitCellClassifierInWorker({
    rows: x, labels, classNames, features, classMap: p.classMap, encoderId: p.encoderId, reviewed: { rows: reviewed.x, labels: reviewed.labels, share }, augmented,
    trees: p.trees, maxDepth: p.maxDepth, seed: p.seed, balanced: p.balanced, testFraction: p.testFraction, minConfidence: p.minConfidence,
    // A morphology classifier carries its training cells, so that a classify job can self-train it on a lab.
    keepTrainingCells: features === 'morphology',
    onTree: treeProgress(ctx, (done, total) => `${done}/${total} trees`),
  }, { cancelled: () => ctx.cancelled() });
  if (fit.status === 'cancelled') return { status: 'cancelled', result: { trees: fit.treesDone, of: p.trees } };
  const { json, split, heldOut, reviewCopies: copies, calibration } = fit;
  const used = fit.classNames;
  await ctx.progress(p.trees, p.trees, 'forest fitted');
  const artifact = await ctx.blobs.put(modelObjectKey(`classifier-${ctx.jobId}.json`), json);
  const review = reviewed.x.length || p.reviewedDatasetIds?.length
    ? { reviewed: { cells: reviewed.x.length, copies, share, datasets: reviewed.datasets, ...(reviewed.skipped.length ? { skipped: reviewed.skipped.slice(0, 50) } : {}) } }
    : {};
  const metrics = { features, trainCells: split.train.length, ...(features === 'morphology' ? { trainingCellsKept: true } : {}), ...(augmentCopies > 0 ? { augmentCopies } : {}), heldOutCells: split.test.length, classes: used, heldOut, ...(calibration ? { calibration } : {}), ...review, ...(unreadable.length ? { unreadable: unreadable.slice(0, 50) } : {}) };
  const modelId = await ctx.repos.models.registerActive({
    kind: 'classifier', name: `random-forest-${p.classMap}${features === 'morphology' ? '-morphology' : ''}`, version: `job-${ctx.jobId.slice(0, 8)}`, preset: null,
    metrics, params: p, artifactPath: artifact, checksum: createHash('sha256').update(json).digest('hex'), datasetIds: p.datasetIds, jobId: ctx.jobId,
    parentId: features === 'latent' ? p.encoderId : null,
  });
  const acc = heldOut ? ` (held-out accuracy ${heldOut.accuracy.toFixed(3)})` : '';
  const rev = reviewed.x.length ? ` + ${reviewed.x.length} reviewed (x${copies})` : '';
  return { status: 'succeeded', result: { modelId, ...metrics }, message: `classifier on ${split.train.length} cells${rev}, ${used.length} classes${acc}${unread}` };
}
