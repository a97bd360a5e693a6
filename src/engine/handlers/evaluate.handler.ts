// The evaluate job: AE-CFE's cross-domain evaluation over datasets in the database. It detects the
// images that have no cell yet (top cell per image), builds the domains from the stored cells, runs
// the evaluation pipeline (autoencoder with alignment, forest on the source's 80 %, scores on its 20 %
// and on every target, with the baselines) and stores the report as an evaluation.
import type { JobContext } from '../job-context.js';
import type { EvaluateParams, JobOutcome } from '../../jobs/job-kinds.js';
import { storeDetections } from './detect.handler.js';
import { listTrainingCells, TrainingData } from '../training-data.js';
import { runEvaluation, type EvaluationDomain } from '../../evaluation/pipeline.js';
import { sampleEntries } from '../../evaluation/folder-dataset.js';
import { boxInCrop, MORPHOLOGY_SIZE } from '../../imaging/cell-morphology.js';
import { classOf } from '../../services/class-maps.js';
import { resolvePreset } from '../autoencoder/index.js';
import { DatasetEntity } from '../../db/entities/index.js';
import { sqlRows } from '../../db/sql.js';

export async function runEvaluate(ctx: JobContext<EvaluateParams>): Promise<JobOutcome> {
  const p = ctx.params;
  const ids = [p.sourceDatasetId, ...p.targetDatasetIds, ...p.alignDatasetIds.filter((a) => !p.targetDatasetIds.includes(a))];
  const datasets = await ctx.ds.getRepository(DatasetEntity).findBy(ids.map((id) => ({ id })));
  const nameOf = new Map(datasets.map((d) => [d.id, d.name]));
  if (nameOf.size !== new Set(ids).size) return { status: 'failed', error: 'a dataset of this evaluation no longer exists' };

  // 1. Detection where it is missing (the top-scoring cell of each image).
  const { row: det, detector } = await ctx.models.detector(p.detectorId);
  const todo: { id: string; storage_path: string }[] = await ctx.ds.query(
    `SELECT i.id, i.storage_path FROM images i WHERE i.dataset_id = ANY($1)
        AND NOT EXISTS (SELECT 1 FROM cells c WHERE c.image_id = i.id AND c.detector_id = $2) ORDER BY i.source_path`,
    [ids, det.id],
  );
  let failedImages = 0;
  for (let i = 0; i < todo.length; i++) {
    if (ctx.cancelled()) return { status: 'cancelled' };
    try {
      const found = await detector.detect(await ctx.blobs.read(todo[i].storage_path, 'image file'));
      await storeDetections(ctx, det.id, todo[i].id, found.cells, true);
    } catch {
      failedImages++;
    }
    await ctx.progress(i + 1, todo.length, `detecting: ${i + 1}/${todo.length} images`);
  }

  // 2. Domains from the stored cells, sampled per class when asked.
  const size = resolvePreset(p.preset).imageSize;
  const data = TrainingData.forJob(ctx);
  const domains: EvaluationDomain[] = [];
  for (const id of ids) {
    const all = await listTrainingCells(ctx.ds, [id], { detectorId: det.id });
    const cells = sampleEntries(
      all.map((c) => ({ ...c, relPath: c.id })),
      (c) => classOf(c.cellType, p.classes) ?? `raw:${c.cellType}`,
      p.maxPerClass,
      p.seed,
    );
    const evalCells = [];
    for (const c of cells) {
      evalCells.push({
        id: c.id,
        features: await ctx.features.read(c.featureRef),
        // 128 px at least: the morphology method needs the detail; the evaluation averages it down for the autoencoder.
        crop: () => data.crop(c, Math.max(size, MORPHOLOGY_SIZE)),
        box: boxInCrop(c.box, c.width, c.height),
        label: classOf(c.cellType, p.classes),
      });
    }
    domains.push({ name: nameOf.get(id)!, cells: evalCells, loading: { cellsAvailable: all.length, cellsUsed: cells.length } });
  }

  // 3. The evaluation itself.
  let step = 0;
  const report = await runEvaluation(domains, {
    source: nameOf.get(p.sourceDatasetId)!,
    targets: p.targetDatasetIds.map((t) => nameOf.get(t)!),
    align: [...new Set([...p.targetDatasetIds, ...p.alignDatasetIds])].map((a) => nameOf.get(a)!),
    classes: p.classes,
    preset: p.preset,
    epochs: p.epochs,
    seed: p.seed,
    signal: ctx.signal,
    onProgress: (e) => {
      step++;
      const metrics = e.kind === 'epoch' ? { epoch: e.epoch, loss: e.loss, ssim: e.ssim, mse: e.mse, align: e.align } : undefined;
      const message = e.kind === 'stage' ? e.message : e.kind === 'epoch' ? `${e.method}: epoch ${e.epoch}/${e.epochs}` : `${e.method}: ${e.done}/${e.total} trees`;
      void ctx.progress(step, null, message, metrics);
    },
  }).catch((err) => {
    if (ctx.cancelled()) return null;
    throw err;
  });
  if (!report) return { status: 'cancelled' };
  const rows = await sqlRows<{ id: string }>(ctx.ds, `INSERT INTO evaluations (job_id, name, report) VALUES ($1, $2, $3) RETURNING id`, [
    ctx.jobId, p.name, { ...report, detectorId: det.id, imagesFailedDetection: failedImages },
  ]);
  const summary = Object.fromEntries(Object.entries(report.domains).map(([d, r]) => [d, { n: r.n, accuracy: r.accuracy }]));
  return { status: 'succeeded', result: { evaluationId: rows[0].id, summary }, message: `evaluation stored: ${JSON.stringify(summary)}` };
}
