// The evaluate job: AE-CFE's cross-domain evaluation over datasets in the database. It detects the
// images that have no cell yet (top cell per image), builds the domains from the stored cells (their
// features, and their crops from the same crop cache the other jobs use), runs the evaluation (composed of
// the pipeline's stages: src/evaluation/pipeline.ts; its forests fitted and its cells classified in worker threads)
// and stores the report as an evaluation.
import { progressSoon, type JobContext } from '../job-context.js';
import type { EvaluateParams, JobOutcome } from '../../jobs/job-kinds.js';
import { storeDetections } from './detect.handler.js';
import { TrainingData, type TrainingCell } from '../training-data.js';
import { runEvaluation, type EvaluationCell, type EvaluationDomain, type EvaluationRunners } from '../../evaluation/pipeline.js';
import { fitCellClassifierInWorker } from '../classifier-fitting.js';
import { classifyCellsInWorker } from '../cell-classifying.js';
import { classifierFromJson } from '../classifier/classifier-artifact.js';
import { sampleEntries } from '../../evaluation/folder-dataset.js';
import { boxInCrop } from '../../imaging/cell-morphology.js';
import { classOf, type ClassMapName } from '../../pipeline/class-maps.js';
import { CROP_SIZE } from '../../pipeline/crop.js';
import type { FeatureStore } from '../feature-store.js';

export async function runEvaluate(ctx: JobContext<EvaluateParams>): Promise<JobOutcome> {
  const p = ctx.params;
  const ids = [p.sourceDatasetId, ...p.targetDatasetIds, ...p.alignDatasetIds.filter((a) => !p.targetDatasetIds.includes(a))];
  const nameOf = await ctx.repos.datasetNames(ids);
  if (nameOf.size !== new Set(ids).size) return { status: 'failed', error: 'a dataset of this evaluation no longer exists' };

  // 1. Detection where it is missing (the top-scoring cell of each image).
  const { row: det, detector } = await ctx.models.detector(p.detectorId);
  const todo = await ctx.repos.cells.imagesWithoutCells(ids, det.id);
  let failedImages = 0;
  const failures: Array<{ path: string; reason: string }> = [];
  for (let i = 0; i < todo.length; i++) {
    if (ctx.cancelled()) return { status: 'cancelled' };
    try {
      const found = await detector.detect(await ctx.blobs.read(todo[i]!.storage_path, 'image file'));
      await storeDetections(ctx, det.id, todo[i]!.id, found.cells, true);
    } catch (err) {
      // One bad image fails alone; the result and message say how many and why. (Not as failed items: the job's
      // items would then be these images alone, and all of them failing would fail an evaluation that scored the
      // cells detected before.)
      failedImages++;
      if (failures.length < 200) failures.push({ path: todo[i]!.source_path, reason: (err as Error).message.slice(0, 500) });
    }
    await ctx.progress(i + 1, todo.length, `detecting: ${i + 1}/${todo.length} images${failedImages ? `, ${failedImages} failed` : ''}`);
  }

  // 2. Domains from the stored cells, sampled per class when asked.
  const data = TrainingData.forJob(ctx);
  const domains: EvaluationDomain[] = [];
  for (const id of ids) {
    const all = await ctx.repos.cells.trainingCells([id], { detectorId: det.id });
    domains.push(await storedDomain(nameOf.get(id)!, all, ctx.features, data, { classes: p.classes, maxPerClass: p.maxPerClass, seed: p.seed }));
  }

  // 3. The evaluation itself.
  const report = await runEvaluation(domains, {
    source: nameOf.get(p.sourceDatasetId)!,
    targets: p.targetDatasetIds.map((t) => nameOf.get(t)!),
    align: [...new Set([...p.targetDatasetIds, ...p.alignDatasetIds])].map((a) => nameOf.get(a)!),
    classes: p.classes,
    preset: p.preset,
    epochs: p.epochs,
    seed: p.seed,
    signal: ctx.signal,
    runners: workerRunners(() => ctx.cancelled()),
    // Each stage on its own scale (epochs of an autoencoder, trees of a forest), as the classify job reports its
    // phases; a stage's message alone keeps the share last written (job-context.ts).
    onProgress: (e) => {
      const metrics = e.kind === 'epoch' ? { epoch: e.epoch, loss: e.loss, ssim: e.ssim, mse: e.mse, align: e.align } : undefined;
      if (e.kind === 'stage') progressSoon(ctx, 0, null, e.message);
      else if (e.kind === 'epoch') progressSoon(ctx, e.epoch, e.epochs, `${e.method}: epoch ${e.epoch}/${e.epochs}`, metrics);
      else progressSoon(ctx, e.done, e.total, `${e.method}: ${e.done}/${e.total} trees`);
    },
  }).catch((err) => {
    if (ctx.cancelled()) return null;
    throw err;
  });
  if (!report) return { status: 'cancelled' };
  const evaluationId = await ctx.repos.evaluations.insert(ctx.jobId, p.name, { ...report, detectorId: det.id, imagesFailedDetection: failedImages });
  const summary = Object.fromEntries(Object.entries(report.domains).map(([d, r]) => [d, { n: r.n, accuracy: r.accuracy }]));
  const why = failedImages ? `; ${failedImages} of ${todo.length} images could not be detected (first: ${failures[0]!.path}: ${failures[0]!.reason})` : '';
  return { status: 'succeeded', result: { evaluationId, summary, failedImages, failures }, message: `evaluation stored: ${JSON.stringify(summary)}${why}` };
}

/**
 * The evaluation's forest fitting and classify stage in worker threads (classifier-fitting.ts, cell-classifying.ts):
 * on the event loop, fitting held it 4.0 s at 1,200 source cells (9.4 s for a 5,986-cell classifier), near or past
 * the job's lease (docs/architecture.md, "Long computations off the event loop"). A cancelled job's worker is
 * terminated; the evaluation then ends with the error below, which runEvaluate reads as the cancel.
 */
export function workerRunners(cancelled: () => boolean): EvaluationRunners {
  const stopped = () => new Error('evaluation: cancelled');
  return {
    fitClassifier: async (input) => {
      const fit = await fitCellClassifierInWorker(input, { cancelled });
      if (fit.status === 'cancelled') throw stopped();
      return classifierFromJson(fit.json);
    },
    classify: async (clf, x, opts) => {
      const out = await classifyCellsInWorker(clf, x, opts, { cancelled });
      if (out.status === 'cancelled') throw stopped();
      const { status: _status, ...classified } = out;
      return classified;
    },
  };
}

/**
 * One evaluation domain from a dataset's stored top cells, in the order the training jobs read them
 * (a per-class sample keeps that order): features from the feature store, crops at CROP_SIZE from the
 * crop cache, labels under the class map.
 */
export async function storedDomain(
  name: string,
  all: readonly TrainingCell[],
  features: FeatureStore,
  crops: TrainingData,
  o: { classes: ClassMapName; maxPerClass?: number; seed: number },
): Promise<EvaluationDomain> {
  const position = new Map(all.map((c, i) => [c.id, i]));
  const cells = sampleEntries(
    all.map((c) => ({ ...c, relPath: c.id })),
    (c) => classOf(c.cellType, o.classes) ?? `raw:${c.cellType}`,
    o.maxPerClass,
    o.seed,
  ).sort((a, b) => position.get(a.id)! - position.get(b.id)!);
  const evalCells: EvaluationCell[] = [];
  for (const c of cells) {
    evalCells.push({
      id: c.id,
      features: await features.read(c.featureRef),
      crop: () => crops.crop(c, CROP_SIZE),
      box: boxInCrop(c.box, c.width, c.height),
      label: classOf(c.cellType, o.classes),
    });
  }
  return { name, cells: evalCells, loading: { cellsAvailable: all.length, cellsUsed: cells.length } };
}
