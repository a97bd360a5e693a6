// The detect job: runs the resident detector over a dataset's images (or a list of images), stores
// each cell (box, mask, score; features in the feature store) and streams each cell as it is stored.
// An image already detected with this detector is skipped, so a retried job writes nothing twice.
import type { JobContext } from '../job-context.js';
import type { DetectParams, JobOutcome } from '../../jobs/job-kinds.js';
import { FeatureStore } from '../feature-store.js';
import { keptCells } from '../../pipeline/detect.js';
import type { DetectedCell } from '../resident-models.js';

export interface StoredCell {
  id: string;
  box: [number, number, number, number];
  features: Float32Array;
}

/**
 * Stores one image's detections (all, or the top-scoring one: the pipeline's keptCells): features to the
 * feature store, cell rows in one transaction. Returns the new cells (none when they were stored before) with
 * their box and features, for the stages that follow.
 */
export async function storeDetections(
  ctx: JobContext<unknown>,
  detectorId: string,
  imageId: string,
  found: DetectedCell[],
  topOnly: boolean,
): Promise<StoredCell[]> {
  const kept = keptCells(found, topOnly);
  const file = ctx.features.fileFor(detectorId, imageId);
  if (kept.length) await ctx.features.write(file, kept.map((c) => c.features));
  const ids = await ctx.repos.cells.insertDetections(imageId, detectorId, ctx.jobId, kept.map((c, k) => ({ box: c.box, score: c.score, mask: c.mask, featureRef: FeatureStore.ref(file, k) })));
  return kept.flatMap((c, k) => (ids[k] ? [{ id: ids[k]!, box: c.box, features: c.features }] : []));
}

export async function runDetect(ctx: JobContext<DetectParams>): Promise<JobOutcome> {
  const p = ctx.params;
  const { row: model, detector } = await ctx.models.detector(p.detectorId);
  const images = await ctx.repos.cells.imagesToDetect({ datasetId: p.datasetId, imageIds: p.imageIds, detectorId: model.id, limit: p.maxImages });
  if (images.length === 0) return { status: 'failed', error: 'no images to detect on' };
  let cells = 0;
  let skipped = 0;
  let failed = 0;
  let noCell = 0;
  const failures: { path: string; reason: string }[] = [];
  const t0 = Date.now();
  await ctx.progress(0, images.length, `detecting on ${images.length} images with ${model.name} ${model.version}`);
  for (let i = 0; i < images.length; i++) {
    if (ctx.cancelled()) return { status: 'cancelled', result: { cells, skipped, failed, failures, detectorId: model.id } };
    const img = images[i];
    if (img.detected) {
      skipped++;
    } else {
      let found;
      try {
        found = await detector.detect(await ctx.blobs.read(img.storage_path, 'image file'));
      } catch (err) {
        // One bad image fails alone; the job goes on.
        failed++;
        const reason = (err as Error).message;
        if (failures.length < 200) failures.push({ path: img.source_path, reason });
        await ctx.item({ itemKind: 'image', itemId: img.id, index: i, ok: false, error: reason.slice(0, 500) });
        await ctx.progress(i + 1, images.length, `${cells} cells, ${failed} images failed`);
        continue;
      }
      const ids = (await storeDetections(ctx, model.id, img.id, found.cells, p.topOnly ?? false)).map((c) => c.id);
      if (ids.length === 0) noCell++;
      for (let k = 0; k < ids.length; k++) await ctx.item({ itemKind: 'cell', itemId: ids[k], index: cells + k, ok: true });
      cells += ids.length;
    }
    const rate = (i + 1) / ((Date.now() - t0) / 1000);
    await ctx.progress(i + 1, images.length, `${cells} cells from ${i + 1 - skipped - failed} images`, { imagesPerSec: Math.round(rate * 100) / 100 });
  }
  return {
    status: 'succeeded',
    result: { cells, skipped, failed, failures, imagesWithoutCells: noCell, detectorId: model.id },
    message: `${cells} cells stored; ${skipped} images already done, ${failed} failed, ${noCell} without a cell`,
  };
}
